"""FHIR R4: Questionnaire export, QuestionnaireResponse scoring, resource validation."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

import commonfactors
from commonfactors import fhir
from commonfactors.errors import ScoringError, UnknownInstrumentError
from commonfactors.instruments.registry import Instrument
from commonfactors.instruments.schema import Definition

DATA = Path(__file__).parent / "data" / "fhir"
ORDINAL = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
PHQ9_ITEM_LOINC = [
    "44250-9",
    "44255-8",
    "44259-0",
    "44254-1",
    "44251-7",
    "44258-2",
    "44252-5",
    "44253-3",
    "44260-8",
]
PHQ9_ANSWER_LOINC = ["LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9"]
SEVERE = [3, 3, 3, 3, 3, 3, 3, 3, 1]  # 8 × 3 + 1 = 25: severe (≥ 20), item 9 ≥ 1 is a risk


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / name).read_text(encoding="utf-8"))
    return data


def response(items: list[dict[str, Any]], questionnaire: str | None = "phq9") -> dict[str, Any]:
    out: dict[str, Any] = {"resourceType": "QuestionnaireResponse", "status": "completed"}
    if questionnaire is not None:
        out["questionnaire"] = questionnaire
    out["item"] = items
    return out


def integer_items(values: list[int], link_ids: list[str] | None = None) -> list[dict[str, Any]]:
    ids = link_ids or [f"phq9_{n}" for n in range(1, 10)]
    return [
        {"linkId": i, "answer": [{"valueInteger": v}]} for i, v in zip(ids, values, strict=True)
    ]


def problems_of(exc: pytest.ExceptionInfo[ScoringError]) -> tuple[str, ...]:
    return exc.value.problems


def without_loinc(d: Definition) -> Definition:
    """The same instrument with every LOINC code removed (as a local, uncoded instrument)."""
    raw = d.model_dump()
    raw["loinc"] = {}
    raw["items"] = [{**i, "loinc": None} for i in raw["items"]]
    raw["response_sets"] = [
        {**rs, "options": [{**o, "loinc": None} for o in rs["options"]]}
        for rs in raw["response_sets"]
    ]
    return Definition.model_validate(raw)


# --------------------------------------------------------------------------------------
# Export


@pytest.mark.parametrize("instrument_id", commonfactors.default_registry().ids())
def test_every_instrument_exports_a_valid_questionnaire(instrument_id: str) -> None:
    inst = commonfactors.get_instrument(instrument_id)
    d = inst.definition
    q = fhir.questionnaire(instrument_id)

    Questionnaire.model_validate(q)
    json.dumps(q)  # JSON-ready: plain values only
    assert q["resourceType"] == "Questionnaire"
    assert q["url"] == fhir.questionnaire_url(instrument_id)
    assert q["version"] == d.version
    assert q["status"] == "active"
    assert [i["linkId"] for i in q["item"]] == list(d.item_ids)
    pack = inst.text("en")
    for item, qi in zip(d.items, q["item"], strict=True):
        assert qi["text"] == (
            pack.items[item.id]
            if pack is not None
            else f"Item {item.number} (text not shipped — load a licensed text pack)"
        )
        assert qi["type"] == "choice"
        assert qi["required"] is (
            d.missing.max_missing == 0 and item.id not in d.missing.optional_items
        )
        ordinals = [o["valueCoding"]["extension"][0] for o in qi["answerOption"]]
        assert all(e["url"] == ORDINAL for e in ordinals)
        values = d.allowed_values(item.id)
        keyed = [min(values) + max(values) - v if item.reverse else v for v in values]
        assert [e["valueDecimal"] for e in ordinals] == keyed


def test_phq9_questionnaire_carries_the_loinc_codes_and_text() -> None:
    q = fhir.questionnaire("phq9")

    assert q["id"] == "phq9"
    assert q["url"] == "https://commonfactors.dev/fhir/Questionnaire/phq9"
    assert q["code"] == [
        {
            "system": "http://loinc.org",
            "code": "44249-1",
            "display": "Patient Health Questionnaire-9",
        }
    ]
    assert [i["code"] for i in q["item"]] == [
        [{"system": "http://loinc.org", "code": c}] for c in PHQ9_ITEM_LOINC
    ]
    first = q["item"][0]
    assert first["text"] == "Little interest or pleasure in doing things"
    codings = [o["valueCoding"] for o in first["answerOption"]]
    assert [c["system"] for c in codings] == ["http://loinc.org"] * 4
    assert [c["code"] for c in codings] == PHQ9_ANSWER_LOINC
    assert [c["display"] for c in codings] == [
        "Not at all",
        "Several days",
        "More than half the days",
        "Nearly every day",
    ]
    assert codings[3]["extension"] == [{"url": ORDINAL, "valueDecimal": 3}]
    assert q["copyright"].startswith("Developed by Drs. Robert L. Spitzer")
    assert q["language"] == "en"


def test_a_scoring_only_instrument_exports_without_text() -> None:
    scoring_only = Instrument(commonfactors.get_instrument("phq9").definition)  # no text pack
    q = fhir.questionnaire(scoring_only)

    Questionnaire.model_validate(q)
    assert [i["text"] for i in q["item"]][:2] == [
        "Item 1 (text not shipped — load a licensed text pack)",
        "Item 2 (text not shipped — load a licensed text pack)",
    ]
    assert "not shipped" in q["description"]
    assert "language" not in q
    assert q["title"] == "Patient Health Questionnaire-9"
    assert all("display" not in o["valueCoding"] for i in q["item"] for o in i["answerOption"])
    assert "Pfizer" in q["copyright"]


def test_options_without_loinc_codes_use_our_code_system() -> None:
    local = Instrument(without_loinc(commonfactors.get_instrument("phq9").definition))
    q = fhir.questionnaire(local)

    Questionnaire.model_validate(q)
    assert "code" not in q
    assert "code" not in q["item"][0]
    codings = [o["valueCoding"] for o in q["item"][0]["answerOption"]]
    assert {c["system"] for c in codings} == {
        "https://commonfactors.dev/fhir/CodeSystem/phq9-frequency"
    }
    assert [c["code"] for c in codings] == ["0", "1", "2", "3"]


@pytest.mark.parametrize(
    ("short_name", "name"),
    [("PHQ-9", "PHQ9"), ("WAI-SR", "WAISR"), ("Alliance (practice)", "AlliancePractice")],
)
def test_the_computable_name_follows_fhir(short_name: str, name: str) -> None:
    d = commonfactors.get_instrument("phq9").definition
    q = fhir.questionnaire(Instrument(d.model_copy(update={"short_name": short_name})))

    assert q["name"] == name


def test_the_export_is_validated_before_it_is_returned() -> None:
    d = commonfactors.get_instrument("phq9").definition
    blank = Instrument(d.model_copy(update={"version": ""}))  # not a valid FHIR string

    with pytest.raises(ScoringError) as exc:
        fhir.questionnaire(blank)
    assert any(p.startswith("version:") for p in problems_of(exc))


@pytest.mark.parametrize(
    ("instrument_id", "required"),
    [
        ("gad7", [True] * 7),  # no item may be missing
        ("phq15", [True] * 3 + [False] + [True] * 11),  # item 4 is optional (women only)
        ("goals", [False] * 3),  # a client agrees one to three goals
        ("phq9", [False] * 9),  # up to two items may be missing (prorated)
        ("core10", [False] * 10),  # one item may be missing (prorated)
    ],
)
def test_only_items_that_may_never_be_missing_are_required(
    instrument_id: str, required: list[bool]
) -> None:
    q = fhir.questionnaire(instrument_id)

    assert [i["required"] for i in q["item"]] == required


def core10_options(q: dict[str, Any], link_id: str) -> tuple[list[str], list[float]]:
    qi = next(i for i in q["item"] if i["linkId"] == link_id)
    codings = [o["valueCoding"] for o in qi["answerOption"]]
    return [c["code"] for c in codings], [c["extension"][0]["valueDecimal"] for c in codings]


# items 2 and 3 are reverse-keyed (4 − answer): raw answers, and the weight each one scores
CORE10 = {f"core10_{n}": v for n, v in enumerate([3, 4, 1, 2, 0, 1, 3, 2, 2, 1], start=1)}
CORE10_WEIGHTS = {**CORE10, "core10_2": 0, "core10_3": 3}


def test_reverse_keyed_items_carry_their_keyed_weight_as_ordinal_value() -> None:
    q = fhir.questionnaire("core10")

    assert core10_options(q, "core10_1") == (["0", "1", "2", "3", "4"], [0, 1, 2, 3, 4])
    for reverse in ("core10_2", "core10_3"):  # the code is the raw answer, as on the form
        assert core10_options(q, reverse) == (["0", "1", "2", "3", "4"], [4, 3, 2, 1, 0])
    ordinals = [core10_options(q, item_id)[1][int(value)] for item_id, value in CORE10.items()]
    assert sum(ordinals) == sum(CORE10_WEIGHTS.values())
    assert sum(ordinals) == commonfactors.score("core10", CORE10).total  # adds up to the score


# --------------------------------------------------------------------------------------
# Scoring a response: round trips


def test_a_response_with_loinc_answer_codings_is_scored() -> None:
    r = load("phq9-response-coding.json")
    QuestionnaireResponse.model_validate(r)

    result = fhir.score_response(r)

    assert result.instrument == "phq9"
    assert result.score.total == 25
    assert result.score.band == "severe"
    assert result.score.risk_items == ("phq9_9",)
    assert result.stated_total is None
    assert result.warnings == ()


def test_a_response_with_integers_and_loinc_link_ids_in_a_group_is_scored() -> None:
    r = load("phq9-response-integer-loinc-linkids.json")
    QuestionnaireResponse.model_validate(r)

    result = fhir.score_response(r)

    assert result.instrument == "phq9"  # from http://loinc.org/q/44249-1
    assert (result.score.total, result.score.band) == (25, "severe")
    assert result.score.risk_items == ("phq9_9",)
    assert result.stated_total == 25
    assert result.warnings == ()


@pytest.mark.parametrize("link", ["44250-9", "/44250-9", "/44249-1/44250-9"])
def test_link_ids_may_be_loinc_codes(link: str) -> None:
    links = [link.replace("44250-9", c) for c in PHQ9_ITEM_LOINC]
    result = fhir.score_response(response(integer_items([1, 0, 0, 2, 0, 0, 0, 0, 0], links)))

    assert (result.score.total, result.score.band, result.score.risk_items) == (3, "minimal", ())


def test_answers_given_as_decimals_are_scored() -> None:
    items = [{"linkId": f"phq9_{n}", "answer": [{"valueDecimal": 2.0}]} for n in range(1, 10)]
    result = fhir.score_response(response(items))

    assert (result.score.total, result.score.band) == (18, "moderately severe")


def test_the_exported_questionnaires_own_codings_score_back() -> None:
    q = fhir.questionnaire("phq9")
    items = [
        {"linkId": qi["linkId"], "answer": [{"valueCoding": qi["answerOption"][v]["valueCoding"]}]}
        for qi, v in zip(q["item"], [0, 1, 2, 3, 0, 1, 2, 3, 0], strict=True)
    ]
    result = fhir.score_response(response(items, questionnaire=q["url"] + "|" + q["version"]))

    assert (result.score.total, result.score.band, result.score.risk_items) == (12, "moderate", ())


@pytest.mark.parametrize("instrument_id", commonfactors.default_registry().ids())
def test_questionnaire_response_round_trips_for_every_instrument(instrument_id: str) -> None:
    d = commonfactors.get_instrument(instrument_id).definition
    answers = {i: max(d.allowed_values(i)) for i in d.item_ids}

    r = fhir.questionnaire_response(instrument_id, answers)
    QuestionnaireResponse.model_validate(r)
    result = fhir.score_response(r)

    assert result.instrument == instrument_id
    assert result.score == commonfactors.score(instrument_id, answers)


def test_our_code_system_and_ordinal_values_are_matched() -> None:
    local = Instrument(without_loinc(commonfactors.get_instrument("phq9").definition))
    system = "https://commonfactors.dev/fhir/CodeSystem/phq9-frequency"
    codings: list[dict[str, Any]] = [{"system": system, "code": "3"}] * 8
    ordinal_only = {
        "system": "http://example.org/answers",
        "code": "sometimes",
        "extension": [{"url": ORDINAL, "valueDecimal": 1}],
    }
    items = [
        {"linkId": f"phq9_{n}", "answer": [{"valueCoding": c}]}
        for n, c in enumerate([*codings, ordinal_only], start=1)
    ]

    result = fhir.score_response(response(items, questionnaire=None), instrument=local)

    assert (result.score.total, result.score.risk_items) == (25, ("phq9_9",))


def test_an_ordinal_value_on_a_reverse_keyed_item_is_read_back_as_the_raw_answer() -> None:
    items = [
        {
            "linkId": item_id,
            "answer": [
                {
                    "valueCoding": {
                        "system": "http://example.org/core-answers",
                        "code": f"answer-{weight}",
                        "extension": [{"url": ORDINAL, "valueDecimal": weight}],
                    }
                }
            ],
        }
        for item_id, weight in CORE10_WEIGHTS.items()
    ]

    result = fhir.score_response(response(items, questionnaire="core10"))

    assert result.score == commonfactors.score("core10", CORE10)
    assert result.score.total == sum(CORE10_WEIGHTS.values())


def test_a_code_and_its_keyed_ordinal_value_must_agree_on_a_reverse_keyed_item() -> None:
    system = "https://commonfactors.dev/fhir/CodeSystem/core10-frequency"

    def coding(code: str, ordinal: int) -> dict[str, Any]:
        ext = [{"url": ORDINAL, "valueDecimal": ordinal}]
        return {"valueCoding": {"system": system, "code": code, "extension": ext}}

    items = [{"linkId": i, "answer": [{"valueInteger": v}]} for i, v in CORE10.items()]
    items[1]["answer"] = [coding("4", 0)]  # raw 4 on a reverse-keyed item weighs 0
    assert fhir.score_response(response(items, "core10")).score.total == 17

    items[1]["answer"] = [coding("4", 4)]  # the raw value is not the weight
    items[2]["answer"] = [coding("1", 1)]  # neither is it here (weight 3)
    with pytest.raises(ScoringError) as exc:
        fhir.score_response(response(items, "core10"))
    assert problems_of(exc) == (
        f"item 2 (core10_2): coding {system}|4 means 4 (keyed weight 0), but its "
        "ordinalValue says 4",
        f"item 3 (core10_3): coding {system}|1 means 1 (keyed weight 3), but its "
        "ordinalValue says 1",
    )


@pytest.mark.parametrize("link_id", ["core10_1", "core10_2"])
def test_an_ordinal_value_that_is_no_options_weight_is_refused(link_id: str) -> None:
    items = [{"linkId": i, "answer": [{"valueInteger": v}]} for i, v in CORE10.items()]
    number = int(link_id.rsplit("_", 1)[1])
    foreign = {
        "system": "http://example.org/x",
        "code": "y",
        "extension": [{"url": ORDINAL, "valueDecimal": 5}],
    }
    items[number - 1]["answer"] = [{"valueCoding": foreign}]

    with pytest.raises(ScoringError) as exc:
        fhir.score_response(response(items, "core10"))

    weights = "0, 1, 2, 3, 4" if number == 1 else "4, 3, 2, 1, 0"
    assert problems_of(exc) == (
        f"item {number} ({link_id}): coding http://example.org/x|y has ordinalValue 5, "
        f"which is not the ordinal value of any of its answers (expected one of {weights})",
    )


def test_missing_items_are_prorated_by_the_definition() -> None:
    items = integer_items([2, 2, 2, 2, 2, 2, 2, 2, 0])[:7]  # items 8 and 9 not answered
    result = fhir.score_response(response(items))

    assert result.score.prorated
    assert result.score.total == 18  # 14 × 9 / 7 = 18
    assert result.score.missing_items == ("phq9_8", "phq9_9")


# --------------------------------------------------------------------------------------
# Which instrument


@pytest.mark.parametrize(
    "reference",
    [
        "phq9",
        "https://commonfactors.dev/fhir/Questionnaire/phq9",
        "https://commonfactors.dev/fhir/Questionnaire/phq9|1.0.0",
        "44249-1",
        "http://loinc.org/q/44249-1",
    ],
)
def test_the_questionnaire_reference_names_the_instrument(reference: str) -> None:
    result = fhir.score_response(response(integer_items(SEVERE), questionnaire=reference))

    assert result.instrument == "phq9"
    assert result.score.total == 25


def test_an_unknown_questionnaire_is_refused() -> None:
    with pytest.raises(UnknownInstrumentError, match="unknown questionnaire"):
        fhir.score_response(response(integer_items(SEVERE), questionnaire="http://x.org/Q/abc"))


def test_a_response_without_a_questionnaire_needs_the_instrument() -> None:
    r = response(integer_items(SEVERE), questionnaire=None)
    with pytest.raises(ScoringError, match="does not say which questionnaire"):
        fhir.score_response(r)

    assert fhir.score_response(r, instrument="phq9").score.total == 25


def test_an_instrument_that_contradicts_the_reference_is_refused() -> None:
    local = Instrument(
        commonfactors.get_instrument("phq9").definition.model_copy(update={"id": "other"})
    )
    with pytest.raises(ScoringError, match=r"answers 'phq9' \(phq9\), not other") as exc:
        fhir.score_response(response(integer_items(SEVERE)), instrument=local)
    assert exc.value.risk_items == ("phq9_9",)


@pytest.mark.parametrize("valid", [True, False])
def test_a_refused_contradiction_reports_the_risk_answers_to_either_instrument(
    valid: bool,
) -> None:
    r = response(integer_items(SEVERE))  # a PHQ-9 response, item 9 answered 1
    if not valid:
        del r["status"]

    with pytest.raises(ScoringError) as exc:
        fhir.score_response(r, instrument="core10")

    assert exc.value.risk_items == ("phq9_9",)


def test_another_version_of_the_questionnaire_is_a_warning() -> None:
    r = response(integer_items(SEVERE), questionnaire=fhir.questionnaire_url("phq9") + "|0.9.0")
    result = fhir.score_response(r)

    assert result.score.total == 25
    assert result.warnings == (
        "the response answers version 0.9.0 of the questionnaire; scored by definition "
        "version 1.0.0",
    )


# --------------------------------------------------------------------------------------
# Stated totals and problems


@pytest.mark.parametrize("total_link", ["44261-6", "/44261-6", "total"])
def test_a_stated_total_that_disagrees_is_a_warning(total_link: str) -> None:
    items = [*integer_items(SEVERE), {"linkId": total_link, "answer": [{"valueInteger": 20}]}]

    result = fhir.score_response(response(items))

    assert result.score.total == 25
    assert result.stated_total == 20
    assert result.warnings == (
        "stated total 20 disagrees with the item answers (total 25); scored from the items",
    )
    assert result.as_dict()["warnings"] == list(result.warnings)


def test_unknown_link_ids_and_bad_codings_are_reported_together() -> None:
    r = load("phq9-response-coding.json")
    r["item"][0]["answer"][0]["valueCoding"]["code"] = "LA9999-9"
    r["item"].append({"linkId": "phq9_10", "answer": [{"valueInteger": 1}]})

    with pytest.raises(ScoringError) as exc:
        fhir.score_response(r)

    assert problems_of(exc) == (
        "item 1 (phq9_1): coding http://loinc.org|LA9999-9 is not one of its answers "
        "(expected LOINC LA6568-5 (0), LA6569-3 (1), LA6570-1 (2), LA6571-9 (3), "
        "or a coding with an ordinalValue extension)",
        "linkId 'phq9_10' is not an item of PHQ-9 (items are named by id, e.g. 'phq9_1', "
        "or LOINC code)",
    )
    assert exc.value.risk_items == ("phq9_9",)  # the valid risk answer is not silent


def test_bad_codings_are_not_counted_as_missing() -> None:
    bad = {"valueCoding": {"system": "http://loinc.org", "code": "LA0000-0"}}
    items = integer_items(SEVERE)
    for n in range(3):
        items[n]["answer"] = [bad]

    with pytest.raises(ScoringError) as exc:
        fhir.score_response(response(items))

    assert len(problems_of(exc)) == 3
    assert not any("missing" in p for p in problems_of(exc))


def test_every_kind_of_problem_is_listed_at_once() -> None:
    items = integer_items(SEVERE)
    items[0]["answer"] = [{"valueInteger": 1}, {"valueInteger": 2}]  # two answers
    items[1]["answer"] = [{"valueInteger": 7}]  # not an option (the scorer says so)
    items[2]["answer"] = [{"valueString": "often"}]  # not an accepted answer type
    items.append({"linkId": "44254-1", "answer": [{"valueInteger": 0}]})  # item 4 again
    ordinal_clash = {
        "system": "http://loinc.org",
        "code": "LA6568-5",
        "extension": [{"url": ORDINAL, "valueDecimal": 3}],
    }
    items[4]["answer"] = [{"valueCoding": ordinal_clash}]

    with pytest.raises(ScoringError) as exc:
        fhir.score_response(response(items))

    assert problems_of(exc) == (
        "item 1 (phq9_1) has 2 answers; one is expected",
        "item 3 (phq9_3): valueString is not accepted; answer with valueCoding, valueInteger "
        "or valueDecimal",
        "item 5 (phq9_5): coding http://loinc.org|LA6568-5 means 0, but its ordinalValue says 3",
        "item 4 (phq9_4) is answered more than once",
        "item 2 (phq9_2): 7 is not an allowed value (expected one of 0, 1, 2, 3)",
    )


def test_too_many_missing_items_are_refused() -> None:
    with pytest.raises(ScoringError) as exc:
        fhir.score_response(response(integer_items(SEVERE)[:6]))

    assert problems_of(exc) == (
        "3 of 9 items missing (items 7, 8, 9), but at most 2 may be missing",
    )


def test_a_response_entered_in_error_is_not_scored() -> None:
    r = response(integer_items(SEVERE))
    r["status"] = "entered-in-error"

    with pytest.raises(ScoringError, match="entered-in-error") as exc:
        fhir.score_response(r)
    assert exc.value.risk_items == ("phq9_9",)


def test_an_unfinished_response_is_scored_with_a_warning() -> None:
    r = response(integer_items(SEVERE))
    r["status"] = "in-progress"

    result = fhir.score_response(r)

    assert result.warnings == ("the response is in-progress: answers may be incomplete",)


def test_an_integer_given_as_a_string_is_refused() -> None:
    items = integer_items(SEVERE)
    items[0]["answer"] = [{"valueInteger": "3"}]  # the model would coerce it; JSON does not

    with pytest.raises(ScoringError) as exc:
        fhir.score_response(response(items))

    assert problems_of(exc) == (
        "item 1 (phq9_1): valueInteger must be an integer (a JSON number without a decimal "
        "point), not '3'",
    )


def test_an_integer_given_with_a_decimal_point_is_refused_as_not_an_integer() -> None:
    items = integer_items(SEVERE)
    items[0]["answer"] = [{"valueInteger": 1.0}]  # the model accepts it; FHIR JSON does not
    QuestionnaireResponse.model_validate(response(items))

    with pytest.raises(ScoringError) as exc:
        fhir.score_response(response(items))

    assert problems_of(exc) == (
        "item 1 (phq9_1): valueInteger must be an integer (a JSON number without a decimal "
        "point), not 1.0",
    )
    assert exc.value.risk_items == ("phq9_9",)


def test_a_decimal_given_as_a_string_is_refused() -> None:
    items = integer_items(SEVERE)
    items[0]["answer"] = [{"valueDecimal": "3"}]

    with pytest.raises(ScoringError) as exc:
        fhir.score_response(response(items))

    assert problems_of(exc) == ("item 1 (phq9_1): valueDecimal must be a JSON number, not '3'",)


def test_problems_are_merged_by_item_not_by_the_scorers_wording(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_score = fhir.score

    def reworded(instrument: Any, answers: Any) -> Any:  # the scorer with other wording
        try:
            return real_score(instrument, answers)
        except ScoringError as exc:
            problems = [f"<{p}>" for p in exc.problems]
            raise ScoringError("reworded", problems, risk_items=exc.risk_items) from None

    monkeypatch.setattr(fhir, "score", reworded)
    items = integer_items(SEVERE)
    items[0]["answer"] = [{"valueCoding": {"system": "http://loinc.org", "code": "LA0000-0"}}]
    items[1]["answer"] = [{"valueInteger": 7}]

    with pytest.raises(ScoringError) as exc:
        fhir.score_response(response(items))

    assert problems_of(exc) == (
        "item 1 (phq9_1): coding http://loinc.org|LA0000-0 is not one of its answers "
        "(expected LOINC LA6568-5 (0), LA6569-3 (1), LA6570-1 (2), LA6571-9 (3), "
        "or a coding with an ordinalValue extension)",
        "<item 2 (phq9_2): 7 is not an allowed value (expected one of 0, 1, 2, 3)>",
    )
    assert exc.value.risk_items == ("phq9_9",)


# --------------------------------------------------------------------------------------
# A risk answer is never lost


def answered(link_id: str, *values: int) -> dict[str, Any]:
    return {"linkId": link_id, "answer": [{"valueInteger": v} for v in values]}


TWICE = "item 9 (phq9_9) is answered more than once"
TWO_ANSWERS = "item 9 (phq9_9) has 2 answers; one is expected"


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        pytest.param([answered("phq9_9", 0, 2)], TWO_ANSWERS, id="two answers"),
        pytest.param([answered("phq9_9", 2, 0)], TWO_ANSWERS, id="two answers, risk first"),
        pytest.param([answered("phq9_9", 0), answered("phq9_9", 2)], TWICE, id="item twice"),
        pytest.param([answered("phq9_9", 2), answered("44260-8", 0)], TWICE, id="id, LOINC"),
        pytest.param(
            [
                {
                    "linkId": "/44260-8",
                    "answer": [{"valueCoding": {"system": "http://loinc.org", "code": "LA6570-1"}}],
                },
                answered("phq9_9", 0),
            ],
            TWICE,
            id="LOINC coding, id",
        ),
    ],
)
def test_a_risk_item_answered_twice_keeps_its_risk_answer(
    given: list[dict[str, Any]], problem: str
) -> None:
    items = integer_items(SEVERE)[:8] + given

    with pytest.raises(ScoringError) as exc:
        fhir.score_response(response(items))

    assert problems_of(exc) == (problem,)
    assert exc.value.risk_items == ("phq9_9",)


def test_every_answer_of_a_risk_item_is_read_and_checked() -> None:
    items = integer_items(SEVERE)[:8]
    items.append({"linkId": "phq9_9", "answer": [{"valueString": "often"}, {"valueInteger": 3}]})

    with pytest.raises(ScoringError) as exc:
        fhir.score_response(response(items))

    assert problems_of(exc) == (
        TWO_ANSWERS,
        "item 9 (phq9_9): valueString is not accepted; answer with valueCoding, valueInteger "
        "or valueDecimal",
    )
    assert exc.value.risk_items == ("phq9_9",)


def test_an_answer_that_is_not_an_option_raises_no_risk() -> None:
    items = [*integer_items(SEVERE)[:8], answered("phq9_9", 0, 7)]

    with pytest.raises(ScoringError) as exc:
        fhir.score_response(response(items))

    assert exc.value.risk_items == ()  # 7 is not an answer of item 9, so not a risk answer


def test_a_response_that_is_not_valid_fhir_still_reports_its_risk_answers() -> None:
    r = response(integer_items(SEVERE))
    del r["status"]

    with pytest.raises(ScoringError) as exc:
        fhir.score_response(r)

    assert problems_of(exc) == ("status: Value for the field 'status' is required.",)
    assert exc.value.risk_items == ("phq9_9",)


def test_a_malformed_response_is_refused_with_its_risk_answers_not_a_crash() -> None:
    r = response(integer_items(SEVERE))
    r["item"][0]["answer"] = [{"valueCoding": {"code": "x", "extension": 5}}]
    r["item"][1]["answer"] = [
        {"valueCoding": {"code": "x", "extension": [{"url": ["a"], "valueDecimal": 1}]}}
    ]
    r["item"][2]["answer"] = "3"
    r["item"][3]["linkId"] = {"a": 1}
    r["item"].append(["not an item"])

    with pytest.raises(ScoringError) as exc:
        fhir.score_response(r)

    assert exc.value.risk_items == ("phq9_9",)


def test_an_invalid_response_for_an_unknown_questionnaire_lists_its_problems() -> None:
    r = response(integer_items(SEVERE), questionnaire="http://x.org/Q/abc")
    del r["status"]

    with pytest.raises(ScoringError) as exc:
        fhir.score_response(r)

    assert not isinstance(exc.value, UnknownInstrumentError)
    assert problems_of(exc) == ("status: Value for the field 'status' is required.",)
    assert exc.value.risk_items == ()  # no instrument, so no risk rule to apply


# --------------------------------------------------------------------------------------
# Validation


def test_valid_resources_pass() -> None:
    fhir.validate_resource(fhir.questionnaire("phq9"))
    fhir.validate_resource(load("phq9-response-coding.json"))
    fhir.validate_resource(load("phq9-response-integer-loinc-linkids.json"))


def test_an_invalid_response_is_refused_with_every_problem() -> None:
    r = copy.deepcopy(load("phq9-response-coding.json"))
    del r["status"]
    del r["item"][0]["linkId"]
    r["item"][1]["answer"][0]["valueInteger"] = 2  # a second value[x]

    with pytest.raises(ScoringError) as exc:
        fhir.validate_resource(r)
    problems = problems_of(exc)
    assert any(p.startswith("status:") for p in problems)
    assert any(p.startswith("item[0].linkId:") for p in problems)
    assert any(p.startswith("item[1].answer[0]:") for p in problems)

    with pytest.raises(ScoringError) as scored:
        fhir.score_response(r)
    assert problems_of(scored) == problems
    assert scored.value.risk_items == ("phq9_9",)  # item 9's answer is still valid


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"status": "done"}, "status: 'done' is not one of in-progress | completed"),
        ({"subject": None}, "subject: null is not allowed"),
        ({"item": []}, "item: an empty array is not allowed"),
        ({"resourceType": "Patient"}, "resourceType is 'Patient'; expected"),
        ({"resourceType": "Nonsense"}, "resourceType is 'Nonsense'; expected"),
        ({"unknownField": 1}, "unknownField: Extra inputs are not permitted"),
    ],
)
def test_invalid_responses_are_refused(change: dict[str, Any], problem: str) -> None:
    r = {**load("phq9-response-coding.json"), **change}

    with pytest.raises(ScoringError) as exc:
        fhir.score_response(r)

    assert any(p.startswith(problem) for p in problems_of(exc)), problems_of(exc)


def test_validate_resource_checks_the_type_it_names() -> None:
    with pytest.raises(ScoringError) as exc:
        fhir.validate_resource({"resourceType": "Questionnaire", "status": "final"})
    assert problems_of(exc) == ("status: 'final' is not one of draft | active | retired | unknown",)

    for bad, problem in [
        ({"status": "active"}, "resourceType is missing"),
        ({"resourceType": "Nonsense"}, "resourceType 'Nonsense' is not a FHIR R4B resource type"),
        ({"resourceType": "Coding"}, "resourceType 'Coding' is not a FHIR R4B resource type"),
    ]:
        with pytest.raises(ScoringError) as exc:
            fhir.validate_resource(bad)
        assert problems_of(exc) == (problem,)


def test_the_example_files_are_the_documented_ones() -> None:
    docs = (Path(__file__).parents[1] / "docs" / "fhir.md").read_text(encoding="utf-8")
    for example in sorted(DATA.glob("*.json")):
        assert f"tests/data/fhir/{example.name}" in docs
