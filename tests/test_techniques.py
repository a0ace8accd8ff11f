"""The technique catalogue: the shipped one loads and covers what the product promises, and
a broken catalogue is refused with every problem named."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from commonfactors.techniques import (
    DEFAULT_CATALOGUE_PATH,
    Catalogue,
    CatalogueError,
    Technique,
    default_catalogue,
    load_catalogue,
    read_catalogue,
)

#: The techniques the issue names, by modality (issue 5 §4, after the source article).
NAMED = {
    "cbt": {"cognitive_restructuring", "behavioural_activation", "exposure"},
    "psychodynamic": {"free_association", "dream_analysis", "exploring_early_experiences"},
    "humanistic": {"empathic_reflection", "emotion_focused_work"},
    "narrative": {"externalising", "re_authoring"},
    "common": {"psychoeducation", "problem_solving", "goal_setting", "relaxation"},
}
MODALITIES = {
    "cbt",
    "psychodynamic",
    "humanistic",
    "integrative",
    "mindfulness",
    "art",
    "narrative",
}


def _data() -> dict[str, Any]:
    return yaml.safe_load(DEFAULT_CATALOGUE_PATH.read_text(encoding="utf-8"))


def test_the_shipped_catalogue_loads_as_typed_records() -> None:
    catalogue = default_catalogue()
    assert isinstance(catalogue, Catalogue)
    assert all(isinstance(t, Technique) for t in catalogue)
    assert catalogue.technique("exposure").modality == "cbt"
    assert catalogue.modality("cbt").name.startswith("Cognitive behavioural")
    assert "dream_analysis" in catalogue and "no_such_thing" not in catalogue
    assert default_catalogue() is catalogue  # read once


def test_it_covers_every_modality_and_named_technique() -> None:
    catalogue = default_catalogue()
    assert {m.id for m in catalogue.modalities} >= MODALITIES
    for modality, techniques in NAMED.items():
        assert techniques <= {t.id for t in catalogue if t.modality == modality}, modality
    grouped = {m.id: ts for m, ts in catalogue.by_modality().items()}
    assert all(grouped[m] for m in MODALITIES)
    assert sum(len(ts) for ts in grouped.values()) == len(catalogue)


def test_every_technique_is_described_and_most_cite_a_source() -> None:
    catalogue = default_catalogue()
    for t in catalogue:
        assert len(t.description) > 40 and t.name, t.id
        assert "\n" not in t.description and "  " not in t.description, t.id
    with_source = [t for t in catalogue if t.source]
    assert len(with_source) == len(catalogue)
    assert all(any(ch.isdigit() for ch in t.source) for t in with_source)  # a year at least


def test_unknown_technique_raises_key_error_naming_it() -> None:
    with pytest.raises(KeyError, match="hypnosis"):
        default_catalogue().technique("hypnosis")


def test_a_broken_catalogue_names_every_problem_at_once() -> None:
    data = _data()
    data["modalities"].append({"id": "Bad Id", "name": "x", "description": "y"})
    data["techniques"][0]["modality"] = "nonexistent"
    data["techniques"][1]["id"] = data["techniques"][2]["id"]
    del data["techniques"][3]["description"]
    data["techniques"][4]["colour"] = "blue"
    with pytest.raises(CatalogueError) as caught:
        read_catalogue(data)
    problems = "\n".join(caught.value.problems)
    assert "modality 'nonexistent' is not one of the modalities" in problems
    assert "technique id 'exposure' is used more than once" in problems
    assert "'description' is missing" in problems
    assert "unknown key 'colour'" in problems
    assert "id must be a lower-case slug" in problems
    assert "modality 'Bad Id' has no techniques" in problems
    assert len(caught.value.problems) >= 6


def test_a_file_that_is_not_a_catalogue_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "techniques.yaml"
    path.write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match="must be a mapping"):
        load_catalogue(path)
    path.write_text("modalities: [\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match="cannot be read"):
        load_catalogue(path)
    with pytest.raises(CatalogueError, match="cannot be read"):
        load_catalogue(tmp_path / "missing.yaml")


def test_a_practice_catalogue_file_can_be_loaded(tmp_path: Path) -> None:
    path = tmp_path / "ours.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "modalities": [{"id": "cbt", "name": "CBT", "description": "Our CBT."}],
                "techniques": [
                    {
                        "id": "worry_time",
                        "modality": "cbt",
                        "name": "Worry time",
                        "description": "Putting worries off to a set half hour each day.",
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    catalogue = load_catalogue(path)
    assert [t.id for t in catalogue] == ["worry_time"]
    assert catalogue.technique("worry_time").source == ""
