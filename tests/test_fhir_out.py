"""FHIR R4 out: QuestionnaireResponses, score Observations, Patients and Bundles from plain
records, every one validated with the fhir.resources R4B models and read back."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest

import commonfactors
from commonfactors import fhir, fhir_out
from commonfactors.errors import ScoringError
from commonfactors.tidy import AdministrationRecord

REGISTRY = commonfactors.default_registry()
DAY = date(2024, 3, 5)


def administration(
    instrument: str,
    answers: dict[str, float | None],
    *,
    client: str = "c-1",
    episode: str = "e-1",
    session: int = 1,
    version: str | None = None,
) -> AdministrationRecord:
    """A record scored by the library, as the web app stores it."""
    s = commonfactors.score(instrument, answers)
    return AdministrationRecord(
        client=client,
        episode=episode,
        session=session,
        date=DAY,
        instrument=instrument,
        definition_version=version or s.definition_version,
        answers=answers,
        total=s.total,
        band=s.band,
        caseness=s.caseness,
        risk_items=s.risk_items,
    )


def highest(instrument: str) -> dict[str, float | None]:
    d = REGISTRY.definition(instrument)
    return {i.id: d.response_set(i.response_set).options[-1].value for i in d.items}


def phq9(values: list[int | None]) -> dict[str, float | None]:
    return {f"phq9_{n}": v for n, v in enumerate(values, start=1)}


class TestEveryInstrument:
    @pytest.mark.parametrize("instrument", REGISTRY.ids())
    def test_response_and_observation_are_valid_and_read_back(self, instrument: str) -> None:
        a = administration(instrument, highest(instrument))
        response = fhir_out.administration_response(a)
        observation = fhir_out.score_observation(a)
        fhir.validate_resource(response)
        fhir.validate_resource(observation)
        result = fhir.score_response(response)
        assert result.instrument == instrument and result.warnings == ()
        assert result.score.total == a.total == observation["valueQuantity"]["value"]
        assert result.score.risk_items == a.risk_items

    @pytest.mark.parametrize("instrument", REGISTRY.ids())
    def test_the_total_carries_the_loinc_code_where_the_definition_has_one(
        self, instrument: str
    ) -> None:
        d = REGISTRY.definition(instrument)
        codes = fhir_out.score_observation(administration(instrument, highest(instrument)))["code"][
            "coding"
        ]
        ours = {"system": fhir_out.SCORE_SYSTEM, "code": f"{instrument}-total"}
        assert {k: codes[-1][k] for k in ("system", "code")} == ours
        if d.loinc.total:
            assert codes[0] == {"system": fhir.LOINC_SYSTEM, "code": d.loinc.total}
        else:
            assert len(codes) == 1


class TestQuestionnaireResponse:
    def test_answers_as_given_to_the_canonical_questionnaire_and_version(self) -> None:
        a = administration("phq9", phq9([3, 3, 3, 3, 3, 3, 3, 3, 1]), version="1.0.0")
        r = fhir_out.administration_response(a)
        assert r["questionnaire"] == "https://commonfactors.dev/fhir/Questionnaire/phq9|1.0.0"
        assert r["status"] == "completed" and r["authored"] == "2024-03-05"
        assert [i["linkId"] for i in r["item"]] == [f"phq9_{n}" for n in range(1, 10)]
        codes = [i["answer"][0]["valueCoding"]["code"] for i in r["item"]]
        assert codes == ["LA6571-9"] * 8 + ["LA6569-3"]  # 3 … 3, 1
        assert r["identifier"] == {"system": fhir_out.ADMINISTRATION_SYSTEM, "value": "e-1/1/phq9"}

    def test_a_blank_answer_is_left_out_and_the_prorated_total_comes_back(self) -> None:
        a = administration("phq9", phq9([2, 2, None, 2, 2, 2, 2, 2, 0]))
        r = fhir_out.administration_response(a)
        assert "phq9_3" not in {i["linkId"] for i in r["item"]}
        result = fhir.score_response(r)
        assert result.score.prorated and result.score.total == a.total

    def test_reverse_keyed_answers_come_back_to_the_same_total(self) -> None:
        answers = highest("core10") | {"core10_2": 0, "core10_3": 1}  # items 2 and 3 reversed
        a = administration("core10", answers)
        assert fhir.score_response(fhir_out.administration_response(a)).score.total == a.total

    def test_an_older_definition_version_is_named_and_scored_with_a_warning(self) -> None:
        a = administration("gad7", highest("gad7"), version="0.9.0")
        r = fhir_out.administration_response(a)
        assert r["questionnaire"].endswith("/gad7|0.9.0")
        result = fhir.score_response(r)
        assert result.score.total == 21
        assert "version 0.9.0" in result.warnings[0]

    def test_every_bad_answer_is_named(self) -> None:
        good = administration("phq9", phq9([1] * 9))
        bad = replace(good, answers=phq9([1, 7, 1, 1, 1, 1, 1, 1, 1]) | {"phq9_10": 1})
        with pytest.raises(ScoringError) as caught:
            fhir_out.administration_response(bad)
        assert caught.value.problems == (
            "unknown item 'phq9_10'",
            "item 2 (phq9_2): 7 is not an option (expected one of 0, 1, 2, 3)",
        )


class TestObservation:
    def test_value_band_date_subject_and_source(self) -> None:
        a = administration("phq9", phq9([3, 3, 3, 3, 3, 3, 3, 3, 1]), client="c-abc")
        o = fhir_out.score_observation(a)
        assert o["status"] == "final" and o["effectiveDateTime"] == "2024-03-05"
        assert o["category"][0]["coding"][0]["code"] == "survey"
        assert o["valueQuantity"] == {
            "value": 25,
            "unit": "{score}",
            "system": "http://unitsofmeasure.org",
            "code": "{score}",
        }
        assert o["interpretation"] == [{"text": "severe"}]
        assert o["subject"]["identifier"] == {
            "system": fhir_out.PSEUDONYM_SYSTEM,
            "value": "c-abc",
        }
        assert o["subject"]["reference"] == "urn:uuid:" + fhir_out.resource_id("Patient", "c-abc")
        response = fhir_out.administration_response(a)
        assert o["derivedFrom"] == [
            {"reference": f"urn:uuid:{response['id']}", "type": "QuestionnaireResponse"}
        ]
        flags = {c["code"]["coding"][0]["code"]: c["valueBoolean"] for c in o["component"]}
        assert flags == {"caseness": True, "risk-answer": True}

    def test_an_instrument_without_bands_caseness_or_risk_rule(self) -> None:
        o = fhir_out.score_observation(administration("wai_sr", highest("wai_sr")))
        assert "interpretation" not in o and "component" not in o
        fhir.validate_resource(o)

    def test_a_mean_score_keeps_its_fraction(self) -> None:
        answers = highest("cf_alliance")
        first = next(iter(answers))
        answers[first] = 3
        a = administration("cf_alliance", answers)
        assert a.total % 1 != 0
        assert fhir_out.score_observation(a)["valueQuantity"]["value"] == a.total


class TestPatientAndBundle:
    def records(self) -> list[AdministrationRecord]:
        return [
            administration("phq9", phq9([2] * 9), client="c-1", session=1),
            administration("gad7", highest("gad7"), client="c-1", session=1),
            administration("phq9", phq9([0] * 9), client="c-2", episode="e-2", session=1),
        ]

    def test_a_patient_holds_the_pseudonym_and_only_on_request_the_code(self) -> None:
        assert fhir_out.patient("c-1") == {
            "resourceType": "Patient",
            "id": fhir_out.resource_id("Patient", "c-1"),
            "identifier": [{"system": fhir_out.PSEUDONYM_SYSTEM, "value": "c-1"}],
        }
        coded = fhir_out.patient("c-1", code="C-0001")
        assert coded["identifier"][1] == {"system": fhir_out.CLIENT_CODE_SYSTEM, "value": "C-0001"}
        fhir.validate_resource(coded)

    def test_a_collection_bundle_whose_references_resolve_inside_it(self) -> None:
        b = fhir_out.bundle(self.records(), timestamp=datetime(2024, 4, 1, 9, tzinfo=UTC))
        fhir.validate_resource(b)
        assert b["type"] == "collection" and b["timestamp"] == "2024-04-01T09:00:00+00:00"
        kinds = [e["resource"]["resourceType"] for e in b["entry"]]
        assert kinds == ["Patient", "Patient"] + ["QuestionnaireResponse", "Observation"] * 3
        urls = {e["fullUrl"] for e in b["entry"]}
        for entry in b["entry"]:
            fhir.validate_resource(entry["resource"])
            assert entry["fullUrl"] == "urn:uuid:" + entry["resource"]["id"]
            for ref in _references(entry["resource"]):
                assert ref in urls, ref

    def test_ids_are_the_same_every_time_and_differ_between_clients(self) -> None:
        first, again = fhir_out.bundle(self.records()), fhir_out.bundle(self.records())
        assert first == again
        ids = [e["resource"]["id"] for e in first["entry"]]
        assert len(set(ids)) == len(ids)

    def test_one_bundle_per_client_holds_that_client_only(self) -> None:
        bundles = fhir_out.client_bundles(self.records(), client_codes={"c-2": "C-0002"})
        assert list(bundles) == ["c-1", "c-2"]
        assert len(bundles["c-1"]["entry"]) == 5 and len(bundles["c-2"]["entry"]) == 3
        patient = bundles["c-2"]["entry"][0]["resource"]
        assert [i["value"] for i in patient["identifier"]] == ["c-2", "C-0002"]
        for b in bundles.values():
            fhir.validate_resource(b)
            subjects = {
                e["resource"]["subject"]["identifier"]["value"]
                for e in b["entry"]
                if "subject" in e["resource"]
            }
            assert len(subjects) == 1

    def test_an_empty_bundle_is_still_valid(self) -> None:
        b = fhir_out.bundle([])
        assert "entry" not in b
        fhir.validate_resource(b)

    def test_a_timestamp_needs_a_time_zone_and_bad_answers_are_all_named(self) -> None:
        with pytest.raises(ScoringError, match="time zone"):
            fhir_out.bundle(self.records(), timestamp=datetime(2024, 4, 1, 9))
        broken = [replace(r, answers={"phq9_1": 9}) for r in self.records()[::2]]
        with pytest.raises(ScoringError) as caught:
            fhir_out.bundle(broken)
        assert [p.split(":")[0] for p in caught.value.problems] == ["e-1/1/phq9", "e-2/1/phq9"]


def _references(resource: Any) -> list[str]:
    found: list[str] = []
    if isinstance(resource, dict):
        for key, value in resource.items():
            if key == "reference" and isinstance(value, str):
                found.append(value)
            else:
                found += _references(value)
    elif isinstance(resource, list):
        for value in resource:
            found += _references(value)
    return found
