"""Instruments for the common factors: validated scoring definitions and practice questions.

Every expected value below is computed by hand from the published rule (or, for practice
questions, from our stated rule); the arithmetic is in the comment beside it.
"""

from __future__ import annotations

import pytest

import commonfactors as cf
from commonfactors import ScoringError

PRACTICE_NOTICE = (
    "commonfactors practice questions, our own words, Apache-2.0. Unvalidated: no published "
    "norms or cut-offs; a validated instrument takes their place when a practice loads "
    "licensed text."
)

PRACTICE = {
    # id: (measures, number of items, lowest option, highest option)
    "cf_alliance": ("alliance", 4, 0, 4),
    "cf_empathy": ("empathy", 3, 0, 4),
    "cf_expectancy": ("expectancy", 3, 0, 10),
    "cf_motivation": ("motivation", 3, 0, 10),
    "cf_preferences": ("preferences", 4, 0, 4),
    "cf_culture": ("culture", 3, 0, 4),
    "cf_homework": ("homework", 4, 0, 4),
}

SCORING_ONLY = ("wai_sr", "care", "urica", "chs")


def _registry() -> cf.Registry:
    return cf.default_registry()


# --------------------------------------------------------------------------------------
# WAI-SR: 12 items 1-5, sum; Task 1, 2, 10, 12; Bond 3, 5, 7, 9; Goal 4, 6, 8, 11.


def test_wai_sr_total_and_subscales() -> None:
    answers = [1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 1, 2]
    s = cf.score("wai_sr", answers)
    # total: (1+2+3+4+5) + (1+2+3+4+5) + 1 + 2 = 15 + 15 + 3 = 33
    assert s.total == 33
    # task: items 1, 2, 10, 12 = 1 + 2 + 5 + 2 = 10
    assert s.subscales["task"] == 10
    # bond: items 3, 5, 7, 9 = 3 + 5 + 2 + 4 = 14
    assert s.subscales["bond"] == 14
    # goal: items 4, 6, 8, 11 = 4 + 1 + 3 + 1 = 9
    assert s.subscales["goal"] == 9
    # no published bands or cut-offs: none are claimed
    assert s.band is None
    assert s.caseness is None


def test_wai_sr_range_is_12_to_60() -> None:
    assert cf.score("wai_sr", [1] * 12).total == 12  # 12 x 1
    assert cf.score("wai_sr", [5] * 12).total == 60  # 12 x 5


def test_wai_sr_refuses_missing_items_and_values_off_the_scale() -> None:
    with pytest.raises(ScoringError):
        cf.score("wai_sr", [3] * 11 + [None])  # no missing-item rule is published
    with pytest.raises(ScoringError):
        cf.score("wai_sr", [0] + [3] * 11)  # the scale runs 1-5


# --------------------------------------------------------------------------------------
# CARE: 10 items 1-5, sum 10-50; up to 2 "does not apply"/missing replaced by the mean of
# the answered items; more than 2 missing: no score.


def test_care_complete_form_is_a_plain_sum() -> None:
    s = cf.score("care", [5, 4, 3, 5, 4, 3, 5, 4, 3, 5])
    # 5+4+3+5+4+3+5+4+3+5 = 41
    assert s.total == 41
    assert not s.prorated


def test_care_two_not_applicable_items_take_the_mean_of_the_rest() -> None:
    s = cf.score("care", [5, 4, None, 5, 4, None, 5, 4, 3, 5])
    # answered: 5+4+5+4+5+4+3+5 = 35 over 8 items, mean 4.375;
    # each of the 2 missing items takes 4.375: 35 + 2 x 4.375 = 43.75
    assert s.total == pytest.approx(43.75)
    assert s.prorated
    assert s.missing_items == ("care_3", "care_6")


def test_care_more_than_two_missing_is_excluded() -> None:
    with pytest.raises(ScoringError):
        cf.score("care", [5, None, None, None, 4, 3, 5, 4, 3, 5])


# --------------------------------------------------------------------------------------
# URICA: 32 items 1-5; stage subscales are means of 7 items each; items 4, 9, 20, 31 are
# not scored. Readiness = C + A + M - PC (from the subscale means).

_PC = (1, 5, 11, 13, 23, 26, 29)
_C = (2, 8, 12, 15, 19, 21, 24)
_A = (3, 7, 10, 14, 17, 25, 30)
_M = (6, 16, 18, 22, 27, 28, 32)
_UNSCORED = (4, 9, 20, 31)


def _urica_answers(unscored: int) -> dict[str, int]:
    answers = {f"urica_{n}": 2 for n in _PC}
    answers |= {f"urica_{n}": 4 for n in _C}
    answers |= {f"urica_{n}": v for n, v in zip(_A, (3, 3, 3, 3, 4, 4, 4), strict=True)}
    answers |= {f"urica_{n}": 5 for n in _M}
    answers |= {f"urica_{n}": unscored for n in _UNSCORED}
    return answers


def test_urica_key_covers_28_items_and_leaves_four_out() -> None:
    d = _registry().definition("urica")
    keyed = [int(i.split("_")[1]) for s in d.subscales for i in s.items]
    assert sorted(keyed) == sorted(_PC + _C + _A + _M)
    assert len(keyed) == 28
    assert set(range(1, 33)) - set(keyed) == set(_UNSCORED)


def test_urica_stage_means_and_readiness() -> None:
    s = cf.score("urica", _urica_answers(unscored=1))
    assert s.subscales["precontemplation"] == pytest.approx(2.0)  # 7 x 2 / 7
    assert s.subscales["contemplation"] == pytest.approx(4.0)  # 7 x 4 / 7
    assert s.subscales["action"] == pytest.approx(24 / 7)  # (4 x 3 + 3 x 4) / 7 = 24/7
    assert s.subscales["maintenance"] == pytest.approx(5.0)  # 7 x 5 / 7
    readiness = (
        s.subscales["contemplation"]
        + s.subscales["action"]
        + s.subscales["maintenance"]
        - s.subscales["precontemplation"]
    )
    # 4 + 24/7 + 5 - 2 = 7 + 24/7 = 73/7 = 10.43 (published range -2 to +14)
    assert readiness == pytest.approx(73 / 7)
    assert s.total == pytest.approx(73 / 7)  # the total is the readiness composite
    assert _registry().definition("urica").score_range == (-2, 14)


def test_urica_unscored_items_do_not_move_the_stage_means() -> None:
    low = cf.score("urica", _urica_answers(unscored=1)).subscales
    high = cf.score("urica", _urica_answers(unscored=5)).subscales
    assert low == high
    assert cf.score("urica", _urica_answers(unscored=1)).total == pytest.approx(
        cf.score("urica", _urica_answers(unscored=5)).total
    )


# --------------------------------------------------------------------------------------
# Cultural Humility Scale: 12 items 1-5; items 3, 6, 8, 10, 11 reverse-keyed (6 - x); sum.


def test_chs_reverse_keys_the_negative_items() -> None:
    # every item answered 5: positives 7 x 5 = 35; negatives 5 x (6 - 5) = 5; total 40
    assert cf.score("chs", [5] * 12).total == 40
    # 5 on positive items and 1 on negative items: 7 x 5 + 5 x (6 - 1) = 35 + 25 = 60
    most_humble = [5, 5, 1, 5, 5, 1, 5, 1, 5, 1, 1, 5]
    assert cf.score("chs", most_humble).total == 60
    # the mirror image: 7 x 1 + 5 x (6 - 5) = 7 + 5 = 12
    least_humble = [6 - v for v in most_humble]
    assert cf.score("chs", least_humble).total == 12


def test_chs_reverse_keyed_items_are_exactly_3_6_8_10_11() -> None:
    d = _registry().definition("chs")
    assert [i.number for i in d.items if i.reverse] == [3, 6, 8, 10, 11]


# --------------------------------------------------------------------------------------
# Scoring-only definitions ship no text; no invented norms or bands.


@pytest.mark.parametrize("instrument_id", SCORING_ONLY)
def test_scoring_only_instruments_ship_no_text_and_claim_no_norms(instrument_id: str) -> None:
    inst = _registry().get(instrument_id)
    d = inst.definition
    assert d.status == "validated"
    assert d.licence.text_shippable is False
    assert inst.text("en") is None
    assert not d.bands
    assert not d.cutoffs
    assert not d.norms


# --------------------------------------------------------------------------------------
# Practice questions: labelled, unclaimed, with a shipped text pack, scored by our rule.


@pytest.mark.parametrize("instrument_id", sorted(PRACTICE))
def test_practice_questions_are_labelled_and_claim_nothing(instrument_id: str) -> None:
    measures, n_items, lo, hi = PRACTICE[instrument_id]
    d = _registry().definition(instrument_id)
    assert d.status == "practice"
    assert "practice questions" in d.name.lower()
    assert d.measures == measures
    assert len(d.items) == n_items
    assert d.score_range == (lo, hi)
    assert d.direction == "higher_is_better"
    assert not d.bands
    assert not d.cutoffs
    assert not d.norms
    assert d.reliability is None
    assert d.reliable_change is None
    assert d.licence.name == "Apache-2.0"
    assert d.licence.holder == "The commonfactors contributors"
    assert d.licence.text_shippable is True


@pytest.mark.parametrize("instrument_id", sorted(PRACTICE))
def test_practice_questions_have_a_text_pack_with_the_notice(instrument_id: str) -> None:
    pack = _registry().get(instrument_id).text("en")
    assert pack is not None
    assert pack.language == "en"
    assert " ".join(pack.notice.split()) == PRACTICE_NOTICE
    d = _registry().definition(instrument_id)
    assert set(pack.items) == set(d.item_ids)
    assert all(pack.items[i].strip() for i in d.item_ids)


def test_cf_alliance_is_the_mean_of_the_answered_items() -> None:
    # (4 + 3 + 2 + 3) / 4 = 12 / 4 = 3.0
    assert cf.score("cf_alliance", [4, 3, 2, 3]).total == 3.0
    # one item missing: (4 + 2 + 3) / 3 = 9 / 3 = 3.0
    s = cf.score("cf_alliance", [4, None, 2, 3])
    assert s.total == 3.0
    assert s.prorated
    # two missing: no score
    with pytest.raises(ScoringError):
        cf.score("cf_alliance", [4, None, None, 3])


def test_cf_empathy_mean() -> None:
    # (4 + 2 + 3) / 3 = 3.0
    assert cf.score("cf_empathy", [4, 2, 3]).total == 3.0
    # (1 + 2) / 2 = 1.5 with the middle item missing
    assert cf.score("cf_empathy", [1, None, 2]).total == 1.5


def test_cf_expectancy_on_0_to_10() -> None:
    # (7 + 4 + 10) / 3 = 21 / 3 = 7.0
    assert cf.score("cf_expectancy", [7, 4, 10]).total == 7.0
    with pytest.raises(ScoringError):
        cf.score("cf_expectancy", [7, 11, 10])  # 11 is off the 0-10 scale


def test_cf_motivation_rulers() -> None:
    # importance 8, confidence 3, readiness 5: (8 + 3 + 5) / 3 = 16 / 3
    assert cf.score("cf_motivation", [8, 3, 5]).total == pytest.approx(16 / 3)
    # confidence unanswered: (8 + 5) / 2 = 6.5
    assert cf.score("cf_motivation", [8, None, 5]).total == 6.5


def test_cf_preferences_mean() -> None:
    # (0 + 4 + 2 + 2) / 4 = 8 / 4 = 2.0
    assert cf.score("cf_preferences", [0, 4, 2, 2]).total == 2.0


def test_cf_culture_mean() -> None:
    # (4 + 3 + 1) / 3 = 8 / 3
    assert cf.score("cf_culture", [4, 3, 1]).total == pytest.approx(8 / 3)


def test_cf_homework_mean_by_item_id() -> None:
    answers = {"cf_homework_1": 1, "cf_homework_2": 4, "cf_homework_3": 3, "cf_homework_4": 0}
    # (1 + 4 + 3 + 0) / 4 = 8 / 4 = 2.0
    assert cf.score("cf_homework", answers).total == 2.0


# --------------------------------------------------------------------------------------
# Every common factor has something a practice can use out of the box.


@pytest.mark.parametrize(
    "factor",
    ["alliance", "empathy", "expectancy", "motivation", "preferences", "culture", "homework"],
)
def test_every_factor_has_an_instrument_with_shipped_text(factor: str) -> None:
    shipped = [
        inst.id
        for inst in _registry()
        if inst.definition.measures == factor and inst.text("en") is not None
    ]
    assert shipped, f"no instrument with shipped text measures {factor}"
