"""Local text packs: a practice's own licensed wording, checked against the definition.

The example pack in tests/data holds placeholder wording only (never the real CORE-10 text).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

import commonfactors as cf
from commonfactors.errors import DefinitionError
from commonfactors.instruments.registry import (
    DEFINITIONS_DIR,
    TEXT_DIR,
    TEXT_PACKS_ENV,
    Registry,
    default_registry,
    read_definition,
)
from commonfactors.instruments.textpack import read_text_pack

EXAMPLE = Path(__file__).parent / "data" / "textpack_core10_example.en.yaml"
CORE10_ITEMS = [f"core10_{n}" for n in range(1, 11)]


def _example() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    return copy.deepcopy(data)


def _write(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def fresh_default_registry() -> Iterator[None]:
    """``default_registry()`` is cached: clear it before and after, so no test sees another's."""
    default_registry.cache_clear()
    yield
    default_registry.cache_clear()


# -- the example pack ------------------------------------------------------------------------


def test_example_pack_is_placeholder_wording_only() -> None:
    pack = read_text_pack(EXAMPLE)
    assert pack.instrument == "core10"
    assert pack.language == "en"
    texts = [pack.title, pack.instructions, pack.notice, *pack.items.values()]
    texts += [label for labels in pack.response_sets.values() for label in labels]
    for text in texts:
        assert text.startswith("Example"), text
        assert "replace with" in text, text


def test_shipped_core10_has_no_text() -> None:
    registry = Registry.from_directories()
    assert registry.get("core10").text("en") is None


def test_with_text_packs_adds_the_example_text_to_core10() -> None:
    registry = Registry.from_directories().with_text_packs([EXAMPLE])
    pack = registry.get("core10").text("en")
    assert pack is not None
    assert list(pack.items) == CORE10_ITEMS
    assert pack.items["core10_6"] == (
        "Example wording for CORE-10 item 6 — replace with your licensed text"
    )
    assert len(pack.response_sets["frequency"]) == 5
    # the text changes nothing in the scoring: items 2 and 3 are still reverse-keyed
    # all answers 0 -> items 2 and 3 keyed 4 - 0 = 4 each -> total 8
    assert cf.score(registry.get("core10"), [0] * 10).total == 8


def test_with_text_packs_accepts_a_folder(tmp_path: Path) -> None:
    _write(tmp_path / "core10.en.yaml", _example())
    registry = Registry.from_directories().with_text_packs([tmp_path])
    assert registry.get("core10").text("en") is not None


def test_with_text_packs_returns_a_new_registry() -> None:
    base = Registry.from_directories()
    base.with_text_packs([EXAMPLE])
    assert base.get("core10").text("en") is None


def test_environment_variable_adds_the_pack_to_the_default_registry(
    monkeypatch: pytest.MonkeyPatch, fresh_default_registry: None
) -> None:
    monkeypatch.setenv(TEXT_PACKS_ENV, str(EXAMPLE))
    default_registry.cache_clear()
    pack = default_registry().get("core10").text("en")
    assert pack is not None
    assert pack.items["core10_1"].startswith("Example wording for CORE-10 item 1")
    # get_instrument (used by cf.score) resolves through the same registry
    assert cf.get_instrument("core10").text("en") == pack


def test_environment_variable_unset_gives_no_core10_text(
    monkeypatch: pytest.MonkeyPatch, fresh_default_registry: None
) -> None:
    monkeypatch.delenv(TEXT_PACKS_ENV, raising=False)
    default_registry.cache_clear()
    assert default_registry().get("core10").text("en") is None


def test_environment_variable_naming_a_missing_location_is_refused(
    monkeypatch: pytest.MonkeyPatch, fresh_default_registry: None, tmp_path: Path
) -> None:
    monkeypatch.setenv(TEXT_PACKS_ENV, str(tmp_path / "does-not-exist"))
    default_registry.cache_clear()
    with pytest.raises(DefinitionError, match="does not exist"):
        default_registry()


# -- bad packs are refused, every problem named at once ---------------------------------------


def test_pack_with_missing_and_unknown_items_and_wrong_labels_names_every_problem(
    tmp_path: Path,
) -> None:
    data = _example()
    del data["items"]["core10_4"]
    data["items"]["core10_11"] = "Example wording for an item the CORE-10 does not have"
    data["response_sets"]["frequency"] = data["response_sets"]["frequency"][:4]
    bad = _write(tmp_path / "core10.en.yaml", data)
    with pytest.raises(DefinitionError) as info:
        Registry.from_directories().with_text_packs([bad])
    problems = info.value.problems
    assert any(p.endswith(".en.yaml: items: no text for item core10_4") for p in problems)
    assert any(p.endswith(".en.yaml: items: unknown item core10_11") for p in problems)
    assert any(
        p.endswith(".en.yaml: response_sets.frequency: 4 labels for 5 options") for p in problems
    )
    assert len(problems) == 3


def test_pack_with_too_many_option_labels_is_refused(tmp_path: Path) -> None:
    data = _example()
    data["response_sets"]["frequency"] = [*data["response_sets"]["frequency"], "Example extra"]
    bad = _write(tmp_path / "core10.en.yaml", data)
    with pytest.raises(DefinitionError, match=r"6 labels for 5 options"):
        Registry.from_directories().with_text_packs([bad])


def test_pack_for_an_unknown_instrument_is_refused(tmp_path: Path) -> None:
    data = _example()
    data["instrument"] = "no_such_instrument"
    bad = _write(tmp_path / "no_such_instrument.en.yaml", data)
    with pytest.raises(DefinitionError) as info:
        Registry.from_directories().with_text_packs([bad])
    (problem,) = info.value.problems
    assert "unknown instrument 'no_such_instrument'" in problem
    assert str(bad) in problem


def test_problems_of_several_packs_are_reported_together(tmp_path: Path) -> None:
    unknown = _example()
    unknown["instrument"] = "no_such_instrument"
    _write(tmp_path / "a.en.yaml", unknown)
    missing = _example()
    del missing["items"]["core10_9"]
    del missing["items"]["core10_10"]
    _write(tmp_path / "b.en.yaml", missing)
    with pytest.raises(DefinitionError) as info:
        Registry.from_directories().with_text_packs([tmp_path])
    problems = info.value.problems
    assert any("unknown instrument 'no_such_instrument'" in p for p in problems)
    assert any(p.endswith(".en.yaml: items: no text for item core10_9") for p in problems)
    assert any(p.endswith(".en.yaml: items: no text for item core10_10") for p in problems)


def test_pack_missing_a_required_field_is_refused(tmp_path: Path) -> None:
    data = _example()
    del data["notice"]
    bad = _write(tmp_path / "core10.en.yaml", data)
    with pytest.raises(DefinitionError) as info:
        Registry.from_directories().with_text_packs([bad])
    (problem,) = info.value.problems
    assert str(bad) in problem
    assert "notice: Field required" in problem


def test_pack_with_a_bad_language_code_is_refused(tmp_path: Path) -> None:
    data = _example()
    data["language"] = "English"
    bad = _write(tmp_path / "core10.en.yaml", data)
    with pytest.raises(DefinitionError) as info:
        Registry.from_directories().with_text_packs([bad])
    (problem,) = info.value.problems
    assert str(bad) in problem
    assert "language:" in problem


def test_missing_location_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError, match="does not exist"):
        Registry.from_directories().with_text_packs([tmp_path / "nothing-here"])


# -- the shipped text folder follows each definition's licence ---------------------------------


def _shipped_pack_instruments() -> dict[str, list[str]]:
    """Instrument id -> shipped text pack files, by the file name and by its content."""
    packs: dict[str, list[str]] = {}
    for path in sorted([*TEXT_DIR.glob("*.yaml"), *TEXT_DIR.glob("*.yml")]):
        named = path.name.split(".")[0]
        packs.setdefault(named, []).append(path.name)
        declared = read_text_pack(path).instrument
        if declared != named:
            packs.setdefault(declared, []).append(path.name)
    return packs


def _shipped_definitions() -> list[tuple[str, bool]]:
    return [
        (d.id, d.licence.text_shippable)
        for d in (read_definition(p) for p in sorted(DEFINITIONS_DIR.glob("*.yaml")))
    ]


def test_scoring_only_instruments_are_among_the_shipped_definitions() -> None:
    shipped = dict(_shipped_definitions())
    assert shipped["core10"] is False
    assert shipped["wsas"] is False
    assert shipped["k10"] is False


def test_no_text_is_shipped_for_an_instrument_whose_licence_forbids_it() -> None:
    packs = _shipped_pack_instruments()
    offending = {
        instrument: packs[instrument]
        for instrument, shippable in _shipped_definitions()
        if not shippable and instrument in packs
    }
    assert offending == {}


def test_text_is_shipped_for_every_instrument_whose_licence_allows_it() -> None:
    packs = _shipped_pack_instruments()
    without = [i for i, shippable in _shipped_definitions() if shippable and i not in packs]
    assert without == []
