"""The support review, its adaptation rules and the closed loop, against cases worked by hand."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from commonfactors.homework import AssignmentRecord, completion
from commonfactors.support import (
    FactorReading,
    SupportError,
    closed_loop,
    default_review,
    default_rules,
    read_review,
    read_rules,
    suggest,
    validate_answers,
    watched_factor,
)

ROOT = Path(__file__).resolve().parents[1]


def alliance(*items: int, session: int = 4) -> FactorReading:
    """A cf_alliance reading: four 0-4 answers, scored as their mean."""
    answers = {f"cf_alliance_{i + 1}": float(v) for i, v in enumerate(items)}
    return FactorReading(
        "cf_alliance", sum(items) / len(items), session=session, on=date(2026, 3, 12), items=answers
    )


def rules_fired(*args: object, **kwargs: object) -> list[str]:
    return [s.rule for s in suggest(*args, **kwargs)]  # type: ignore[arg-type]


# ----------------------------------------------------------------------- the review as data


def test_the_review_walks_the_domains_of_the_support_tools_in_order() -> None:
    review = default_review()
    assert [d.id for d in review.domains] == [
        "safety",
        "alliance",
        "motivation",
        "goals",
        "expectations",
        "support",
        "culture",
        "preferences",
        "referral",
    ]
    assert {m.name for m in review.modelled_on} == {
        "OQ Assessment for Signal Clients (ASC) and the Clinical Support Tools",
        "Trier Treatment Navigator, clinical support tools",
    }
    assert review.client_questionnaire == (
        "cf_alliance",
        "cf_expectancy",
        "cf_motivation",
        "cf_preferences",
    )
    assert {q.type for q in review.questions} == {"scale", "choice", "yes_no", "text"}
    assert review.factor_instruments[:2] == ("cf_alliance", "wai_sr")


def test_a_scale_question_offers_its_steps_and_a_yes_no_question_three_answers() -> None:
    review = default_review()
    bond = review.question("alliance_bond")
    assert bond.form_choices[0] == ("0", "Not at all") and bond.form_choices[-1][0] == "4"
    assert [v for v, _ in review.question("life_event").form_choices] == ["yes", "no", "unsure"]
    assert bond.label_of(1) == "A little"


def test_answers_are_kept_in_the_review_order_and_blanks_left_out() -> None:
    kept = validate_answers(
        {"life_event": "yes", "alliance_bond": "2", "alliance_note": "  ", "goals_agreed": None}
    )
    assert kept == {"alliance_bond": 2, "life_event": "yes"}
    assert list(kept) == ["alliance_bond", "life_event"]


def test_bad_answers_are_refused_naming_every_problem_at_once() -> None:
    with pytest.raises(SupportError) as info:
        validate_answers(
            {
                "alliance_bond": 7,
                "alliance_strain": "sulking",
                "life_event": True,
                "alliance_note": "x" * 2001,
                "favourite_colour": "blue",
            }
        )
    problems = info.value.problems
    assert len(problems) == 5
    assert "favourite_colour: not a question of the review" in problems
    assert "alliance_bond: a whole number from 0 to 4, not 7" in problems
    assert any(p.startswith("alliance_strain: one of none, withdrawal") for p in problems)
    assert any(p.startswith("life_event: one of yes, no, unsure") for p in problems)
    assert "alliance_note: at most 2000 characters, not 2001" in problems


# ----------------------------------------------------------------------- the rules as data


def test_the_shipped_rules_cover_the_adaptations_asked_for() -> None:
    ids = [r.id for r in default_rules().rules]
    for required in (
        "alliance_low",
        "expectancy_low",
        "homework_low",
        "preference_lead",
        "goals_disagreement",
        "readiness_low",
        "social_support",
        "life_event",
        "cultural_fit",
        "formulation_review",
        "medication_review",
        "safety_first",
    ):
        assert required in ids
    assert all(r.evidence and r.suggestion and r.rationale for r in default_rules().rules)


@pytest.mark.parametrize(
    ("rule", "figures"),
    [
        ("alliance_low", ["r = .278", "r = .29, d = .62"]),
        ("expectancy_low", ["r = .18, d = .36"]),
        ("rationale_unclear", ["r = .12, d = .24", "d = .21"]),
        ("homework_low", ["d = .48", "r = .26"]),
        ("preference_lead", ["d = .79", "d = .28", "1.79"]),
        ("goals_disagreement", ["r = .24, d = .49", "r = .29, d = .61"]),
        ("readiness_low", ["d = .41", "g = 0.59"]),
        ("cultural_fit", ["d = .50", "r = .38"]),
        ("not_on_track_feedback", ["r = .33", "d = 0.15", "d = 0.17"]),
    ],
)
def test_effect_sizes_match_the_evidence_reference(rule: str, figures: list[str]) -> None:
    findings = " ".join(e.finding for e in default_rules().rule(rule).evidence)
    for figure in figures:
        assert figure in findings, (rule, figure)


def test_a_bad_rules_file_is_refused_naming_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(
        """
id: broken
version: 1.0.0
review: support_review
licence: test
rules:
  - id: r1
    domain: nowhere
    title: t
    when:
      - {answer: no_such_question, one_of: ["yes"]}
      - {answer: alliance_bond, at_most: 9}
      - {answer: life_event, one_of: [maybe]}
      - {factor: cf_alliance, below: 7, basis: too high}
      - {factor: cf_alliance, item: cf_alliance_9, at_most: 1, basis: b}
      - {factor: no_such_instrument, below: 1, basis: b}
      - {signal: outcome, one_of: [green]}
    suggestion: s
    rationale: r
    evidence: [{citation: c, finding: f, kind: process, checked: source}]
    watch: [nothing]
""",
        encoding="utf-8",
    )
    with pytest.raises(SupportError) as info:
        read_rules(path)
    assert info.value.problems == (
        "rule r1: unknown domain 'nowhere'",
        "rule r1: unknown instrument 'nothing' to watch",
        "rule r1: unknown question 'no_such_question'",
        "rule r1: alliance_bond: at_most 9 is outside the scale 0-4",
        "rule r1: life_event: unknown option 'maybe'",
        "rule r1: cf_alliance: below 7 is outside the range 0-4",
        "rule r1: cf_alliance: unknown item 'cf_alliance_9'",
        "rule r1: unknown instrument 'no_such_instrument'",
        "rule r1: signal outcome: unknown status 'green'",
    )


def test_a_factor_condition_must_say_where_its_threshold_comes_from(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(
        "id: x\nversion: 1.0.0\nreview: support_review\nlicence: t\nrules:\n"
        "  - {id: r, domain: alliance, title: t, suggestion: s, rationale: r,\n"
        "     when: [{factor: cf_alliance, below: 2}],\n"
        "     evidence: [{citation: c, finding: f, kind: process, checked: source}]}\n",
        encoding="utf-8",
    )
    with pytest.raises(SupportError, match="say where the threshold comes from"):
        read_rules(path)


def test_a_review_naming_an_unknown_instrument_is_refused(tmp_path: Path) -> None:
    text = (ROOT / "src/commonfactors/support/data/review.yaml").read_text(encoding="utf-8")
    path = tmp_path / "review.yaml"
    path.write_text(text.replace("factors: [cf_culture]", "factors: [cf_nothing]"), "utf-8")
    with pytest.raises(SupportError) as info:
        read_review(path)
    assert info.value.problems == ("unknown instrument 'cf_nothing'",)


# ----------------------------------------------------------------------- suggest


def test_a_low_answer_suggests_discussing_the_relationship() -> None:
    [s] = suggest({"alliance_bond": 1})
    assert s.rule == "alliance_low"
    assert "relationship" in s.text and "goals" in s.text
    assert s.because == (
        "You answered “A little” to “How much does the client seem to feel understood and at "
        "ease with you?”",
    )
    assert "Flückiger" in s.citation and "r = .278" in s.citation


def test_a_low_alliance_score_fires_with_its_value_date_and_threshold() -> None:
    # mean of (3, 3, 2, 3) = 2.75 < 3; no item at 0 or 1
    [s] = suggest({}, [alliance(3, 3, 2, 3)])
    assert s.rule == "alliance_low"
    assert s.because[0].startswith(
        "Alliance (practice) score was 2.75 at session 4 (12 Mar 2026), below 3 (design choice"
    )
    assert s.watch == ("cf_alliance", "wai_sr")


def test_the_threshold_is_strict_and_any_low_item_fires_alone() -> None:
    assert rules_fired({}, [alliance(3, 3, 3, 3)]) == []  # 3 is not below 3
    [s] = suggest({}, [alliance(4, 4, 4, 1)])  # mean 3.25, but one item at 1
    assert s.because == (
        "Alliance (practice) at session 4 (12 Mar 2026): item 4 (the session as a whole) was 1, "
        "at or below 1 (the definition's note: any answer of 0 or 1 is a reason to ask)",
    )


def test_every_reason_a_rule_fired_is_listed_once() -> None:
    # answer low, mean 1.5 below 3, items 1 and 2 at or below 1, and a rupture signal
    s, goals = suggest(
        {"alliance_bond": 0}, [alliance(1, 0, 2, 3)], signals={"alliance": "rupture"}
    )
    # the shared-aims item at 0 also points to the goals
    assert goals.rule == "goals_disagreement" and "item 2 (shared aims" in goals.because[0]
    assert len(s.because) == 4
    assert s.because[1] == "The alliance signal is a new rupture"
    assert "item 1 (feeling heard and understood) was 1, item 2 (shared aims" in s.because[3]


def test_suggestions_come_in_the_order_of_the_rules_file() -> None:
    answers = {
        "medication_review": "yes",
        "homework_done": "little",
        "pref_lead": "less",
        "expect_benefit": 0,
        "alliance_bond": 1,
        "life_event": "yes",
    }
    fired = rules_fired(answers)
    assert fired == [
        "alliance_low",
        "homework_low",
        "expectancy_low",
        "life_event",
        "preference_lead",
        "medication_review",
    ]
    assert rules_fired(dict(reversed(answers.items()))) == fired


def test_nothing_fires_on_good_answers_and_unmeasured_factors() -> None:
    good = {"alliance_bond": 4, "alliance_tasks": 3, "goals_agreed": 4, "homework_done": "most"}
    none = [FactorReading("cf_alliance", None), FactorReading("cf_expectancy", None)]
    assert rules_fired(good, none, signals={"outcome": "on_track", "alliance": "stable"}) == []


def test_a_perfect_alliance_while_off_track_needs_both() -> None:
    assert rules_fired({}, [alliance(4, 4, 4, 4)], signals={"outcome": "on_track"}) == []
    fired = suggest({}, [alliance(4, 4, 4, 4)], signals={"outcome": "yellow"})
    assert [s.rule for s in fired] == ["not_on_track_feedback", "alliance_ceiling"]
    assert fired[1].because == (
        "Alliance (practice) score was 4 at session 4 (12 Mar 2026), at or above 4 (every "
        'answer "completely", the top of the scale) and the outcome signal is yellow (less '
        "change than expected)",
    )


def test_readiness_from_the_urica_precontemplation_subscale() -> None:
    def urica(pc: float) -> FactorReading:
        return FactorReading("urica", 8.0, subscales={"precontemplation": pc})

    assert rules_fired({}, [urica(3.0)]) == ["readiness_low"]  # at least 3
    assert rules_fired({}, [urica(20 / 7)]) == []  # 2.86
    motivation = FactorReading(
        "cf_motivation",
        6.0,
        items={"cf_motivation_1": 4, "cf_motivation_2": 9, "cf_motivation_3": 5},
    )
    [s] = suggest({}, {"cf_motivation": motivation})
    assert "item 1 (importance of change) was 4" in s.because[0]


def test_low_expectancy_and_homework_from_measured_factors() -> None:
    expectancy = FactorReading(
        "cf_expectancy",
        4.0,
        items={"cf_expectancy_1": 4, "cf_expectancy_2": 6, "cf_expectancy_3": 2},
    )
    homework = FactorReading("cf_homework", 2.5, items={"cf_homework_1": 1})
    assert rules_fired({}, [expectancy, homework]) == ["homework_low", "expectancy_low"]
    [_, low] = suggest({}, [expectancy, homework])
    assert len(low.because) == 2  # the mean of 4 and hope at 2


def test_the_recorded_homework_completion_fires_the_homework_rule() -> None:
    day = date(2026, 3, 20)
    records = [
        AssignmentRecord(date(2026, 3, 1), date(2026, 3, 8), date(2026, 3, 7)),
        AssignmentRecord(date(2026, 3, 8), date(2026, 3, 15)),
        AssignmentRecord(date(2026, 3, 10), date(2026, 3, 17)),
    ]
    low = completion(records, today=day)  # 1 of 3 due done
    assert rules_fired({}, homework=low) == ["homework_low"]
    [fired] = suggest({}, homework=low)
    assert fired.because == (
        "The homework record shows 1 of 3 assignments due were done (33 %), below 50 % (less "
        "than half of the homework set through commonfactors and due was done, with at least "
        "two tasks due so that one missed task alone does not fire it (the evidence points to "
        "doing half or more; the threshold is a design choice))",
    )
    half = completion(records[:2], today=day)  # 1 of 2: half is not below half
    assert rules_fired({}, homework=half) == []
    one_missed = completion(records[1:2], today=day)  # 0 of 1: too few to say
    assert one_missed.rate == 0.0 and rules_fired({}, homework=one_missed) == []
    two_missed = completion(records[1:], today=day)  # 0 of 2
    assert rules_fired({}, homework=two_missed) == ["homework_low"]
    assert rules_fired({}, homework=completion([], today=day)) == []  # nothing due: no rate


def test_a_homework_condition_is_a_share_with_its_basis(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(
        "id: x\nversion: 1.0.0\nreview: support_review\nlicence: t\nrules:\n"
        "  - {id: r, domain: goals, title: t, suggestion: s, rationale: r,\n"
        "     when: [{homework: completion, below: 50}, {homework: completion, one_of: [x],\n"
        "            basis: b}, {answer: homework_done, one_of: [none], min_due: 2}],\n"
        "     evidence: [{citation: c, finding: f, kind: process, checked: source}]}\n",
        encoding="utf-8",
    )
    with pytest.raises(SupportError) as caught:
        read_rules(path)
    text = str(caught.value) + " ".join(getattr(caught.value, "problems", ()))
    for problem in (
        "say where the threshold comes from",
        "outside 0-1",
        "not one_of",
        "min_due belongs to a homework condition",
    ):
        assert problem in text, problem


def test_answers_are_checked_before_rules_are_applied() -> None:
    with pytest.raises(SupportError):
        suggest({"alliance_bond": 5})


def test_the_suggestion_as_plain_values_for_storage() -> None:
    [s] = suggest({"life_event": "yes"})
    stored = s.as_dict()
    assert stored["rule"] == "life_event"
    assert stored["evidence"][0]["kind"] == "tool"  # type: ignore[index]
    assert "No effect size has been established" in stored["evidence"][0]["finding"]  # type: ignore[index]


def test_the_watched_factor_prefers_one_measured_before_the_review() -> None:
    measured = [alliance(2, 2, 2, 2)]
    assert watched_factor(["homework_low", "alliance_low"], measured) == "cf_alliance"
    assert watched_factor(["homework_low", "alliance_low"], []) == "cf_homework"
    assert watched_factor(["life_event"], measured) is None


# ----------------------------------------------------------------------- the closed loop


def test_a_practice_factor_improves_by_a_quarter_of_its_range() -> None:
    # cf_alliance 0-4: a quarter is 1 point; 1.5 → 2.5 is +1, inclusive
    loop = closed_loop("cf_alliance", 1.5, [2.0, 2.5], "red", ["red", "on_track"])
    assert (loop.factor_verdict, loop.factor_change, loop.factor_improved) == (
        "improved",
        1.0,
        True,
    )
    assert "at least 1 point (a quarter of its 0-4 range)" in loop.factor_rule
    assert (loop.outcome_verdict, loop.back_on_track) == ("back on track", True)
    assert loop.summary == (
        "Alliance (practice) improved: 1.5 before the review, 2.5; change +1.",
        "The outcome is back on track (it was red at the review).",
    )


def test_a_smaller_change_is_no_clear_change_and_a_fall_is_worse() -> None:
    assert closed_loop("cf_alliance", 2.0, [2.75], None, []).factor_verdict == "no clear change"
    # cf_expectancy 0-10: a quarter is 2.5; 6 → 3.5 is −2.5
    loop = closed_loop("cf_expectancy", 6.0, [3.5], "yellow", ["yellow"])
    assert (loop.factor_verdict, loop.factor_improved) == ("worse", False)
    assert loop.outcome_verdict == "not yet on track"
    assert (
        loop.summary[1]
        == "The outcome is not back on track yet, still yellow (it was yellow at the review)."
    )


def test_an_instrument_with_a_reliable_change_threshold_is_judged_by_it() -> None:
    # PHQ-9: 6 or more points (published, inclusive), lower is better
    assert closed_loop("phq9", 18, [15, 12], None, []).factor_verdict == "improved"
    loop = closed_loop("phq9", 18, [13], None, [])
    assert loop.factor_verdict == "no clear change"
    assert "6 or more points" in loop.factor_rule and "NHS Talking Therapies" in loop.factor_rule
    assert closed_loop("phq9", 10, [16], None, []).factor_verdict == "worse"


@pytest.mark.parametrize(
    ("before", "after", "verdict"),
    [
        ("red", ["yellow"], "closer to track"),
        ("yellow", ["on_track", "red"], "further off track"),
        ("red", [], "not judged since"),
        ("red", ["", None], "not judged since"),
        (None, ["on_track"], "still on track"),
        ("red", ["red"], "not yet on track"),
    ],
)
def test_the_outcome_verdict(before: str | None, after: list[str | None], verdict: str) -> None:
    assert closed_loop(None, None, [], before, after).outcome_verdict == verdict


def test_a_factor_not_measured_again_is_said_so() -> None:
    reading = FactorReading("cf_alliance", 2.25, session=6, on=date(2026, 4, 2))
    loop = closed_loop("cf_alliance", alliance(2, 2, 2, 2), [], "red", [])
    assert loop.factor_verdict == "not measured since" and loop.factor_improved is None
    assert (
        loop.summary[0]
        == "Alliance (practice) has not been measured since the review (it was 2 before)."
    )
    loop = closed_loop("cf_alliance", alliance(1, 1, 2, 2), [reading], "red", [])
    assert loop.summary[0] == (
        "Alliance (practice) shows no clear change: 1.5 before the review, 2.25 at session 6 "
        "(2 Apr 2026); change +0.75."
    )
    assert closed_loop("cf_alliance", None, [reading], None, []).factor_verdict == (
        "not measured before"
    )


def test_bad_loop_input_names_every_problem() -> None:
    with pytest.raises(SupportError) as info:
        closed_loop("cf_alliance", 5.0, [-1.0], "green", ["red"])
    assert info.value.problems == (
        "cf_alliance score 5 is outside its range 0-4",
        "cf_alliance score -1 is outside its range 0-4",
        "unknown outcome status 'green' (on_track, yellow or red)",
    )
    with pytest.raises(SupportError, match="unknown instrument 'cf_none'"):
        closed_loop("cf_none", 1.0, [], None, [])


def test_the_support_library_loads_no_web_framework() -> None:
    code = (
        "import sys, commonfactors.support as s\n"
        "s.suggest({'life_event': 'yes'})\n"
        "web = ('django', 'commonfactors_web')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in web))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
