"""Definition files: every shipped one loads, and the schema refuses what is wrong."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import yaml

import commonfactors as cf
from commonfactors.instruments.registry import DEFINITIONS_DIR, Registry, read_definition
from commonfactors.instruments.schema import Z_975, Definition, ReliableChange

PHQ9 = yaml.safe_load((DEFINITIONS_DIR / "phq9.yaml").read_text(encoding="utf-8"))


def _write(tmp_path: Path, data: dict[str, Any], name: str | None = None) -> Path:
    path = tmp_path / f"{name or data['id']}.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_every_shipped_definition_loads() -> None:
    registry = Registry.from_directories()
    files = sorted(p.stem for p in DEFINITIONS_DIR.glob("*.yaml"))
    assert list(registry.ids()) == files
    assert {"phq9", "gad7", "phq15", "pcl5", "who5", "goals"} <= set(files)


def test_every_definition_cites_its_rules() -> None:
    for inst in cf.default_registry():
        d = inst.definition
        assert d.citation and d.scoring.source and d.missing.source and d.licence.source, d.id
        for r in d.risk:
            assert r.source, d.id


def test_the_critical_value_is_the_exact_normal_quantile() -> None:
    # Φ⁻¹(0.975) = 1.959963984540054 (to double precision)
    assert math.isclose(Z_975, 1.959963984540054, rel_tol=0, abs_tol=1e-15)


def test_derived_reliable_change_follows_jacobson_truax() -> None:
    # 1.96 × √2 × 7.7 × √(1 − 0.90) = 1.959964 × 1.414214 × 7.7 × 0.316228 = 6.749
    rc = ReliableChange(basis="derived", sd=7.7, reliability=0.9, source="test")
    assert rc.value == pytest.approx(6.749, abs=1e-3)
    assert ReliableChange(basis="published", threshold=6, source="test").value == 6


def test_reliable_change_must_say_which_basis() -> None:
    with pytest.raises(ValueError, match="derived"):
        ReliableChange(basis="derived", threshold=6, source="x")
    with pytest.raises(ValueError, match="published"):
        ReliableChange(basis="published", sd=5, reliability=0.8, source="x")


def test_a_definition_file_must_be_named_by_its_id(tmp_path: Path) -> None:
    path = _write(tmp_path, PHQ9, name="depression")
    with pytest.raises(cf.DefinitionError, match=r"must be named phq9\.yaml"):
        read_definition(path)


def test_schema_problems_are_all_named(tmp_path: Path) -> None:
    bad = {**PHQ9, "id": "Bad Id", "measures": "happiness", "direction": "up"}
    del bad["citation"]
    with pytest.raises(cf.DefinitionError) as info:
        read_definition(_write(tmp_path, bad, name="bad"))
    text = " ".join(info.value.problems)
    for field in ("id", "measures", "direction", "citation"):
        assert field in text


def test_consistency_rules() -> None:
    broken = {
        **PHQ9,
        "bands": [{"label": "mild", "min": 5}, {"label": "minimal", "min": 0}],
        "risk": [{"item": "phq9_10", "at_least": 1, "reason": "x", "source": "x"}],
        "items": [*PHQ9["items"][:8], {**PHQ9["items"][8], "response_set": "nope"}],
    }
    with pytest.raises(ValueError) as info:
        Definition.model_validate(broken)
    message = str(info.value)
    assert "bands must be in ascending order" in message
    assert "risk: unknown item phq9_10" in message
    assert "unknown response set 'nope'" in message


def test_bands_must_start_at_the_lowest_score() -> None:
    bands = [{"label": "mild", "min": 5}, {"label": "severe", "min": 20}]
    with pytest.raises(ValueError, match="first band must start at the lowest score 0"):
        Definition.model_validate({**PHQ9, "bands": bands})


def test_practice_questions_cannot_claim_published_figures() -> None:
    practice = {**PHQ9, "status": "practice", "name": "Mood practice questions"}
    with pytest.raises(ValueError) as info:
        Definition.model_validate(practice)
    message = str(info.value)
    for claim in ("bands", "cutoffs", "norms", "reliable_change", "reliability"):
        assert claim in message


def test_practice_questions_say_so_in_their_name() -> None:
    stripped = {
        k: v
        for k, v in PHQ9.items()
        if k not in ("bands", "bands_source", "cutoffs", "norms", "reliable_change", "reliability")
    }
    with pytest.raises(ValueError, match="practice questions"):
        Definition.model_validate({**stripped, "status": "practice"})
    ok = Definition.model_validate(
        {**stripped, "status": "practice", "name": "Mood practice questions"}
    )
    assert ok.status == "practice"


def test_score_range() -> None:
    assert cf.default_registry().definition("phq9").score_range == (0, 27)
    assert cf.default_registry().definition("who5").score_range == (0, 100)


def test_reverse_keys_need_mirrored_options() -> None:
    sets = [{"id": "odd", "options": [{"value": 0}, {"value": 1}, {"value": 3}]}]
    items = [{**PHQ9["items"][0], "response_set": "odd", "reverse": True}]
    with pytest.raises(ValueError, match="evenly mirrored options"):
        Definition.model_validate(
            {**PHQ9, "response_sets": sets, "items": items, "bands": [], "risk": [], "cutoffs": []}
        )
