"""Text packs: the item text of an instrument, kept apart from its scoring definition.

A text pack is a YAML file that adds the wording of one instrument in one language::

    instrument: phq9            # the definition it belongs to
    language: en
    title: Patient Health Questionnaire (PHQ-9)
    instructions: Over the last 2 weeks, how often ...
    notice: <the copyright or permission line the rights holder asks for>
    items:                      # every item of the definition, by id
      phq9_1: Little interest or pleasure in doing things
      ...
    response_sets:              # a label for every option of every response set, in order
      frequency: [Not at all, Several days, More than half the days, Nearly every day]

The project ships text packs only where the licence allows (``text/`` beside the
definitions, under their own notice). A practice that holds a licence for another
instrument supplies its own pack (see ``docs/text-packs.md``); it is checked against the
definition exactly as the shipped ones are.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from commonfactors.errors import DefinitionError
from commonfactors.instruments.schema import Definition

__all__ = ["TextPack", "check_text_pack", "read_text_pack"]


class TextPack(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    instrument: str
    language: str = Field(pattern=r"^[a-z]{2}(-[A-Z]{2})?$")
    title: str
    instructions: str
    notice: str
    items: Mapping[str, str]
    response_sets: Mapping[str, tuple[str, ...]]
    source: str | None = None


def read_text_pack(path: str | Path) -> TextPack:
    """Read and validate the structure of one text pack file."""
    path = Path(path)
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DefinitionError(f"cannot read text pack {path}: {exc}") from exc
    try:
        return TextPack.model_validate(raw)
    except ValidationError as exc:
        raise DefinitionError(
            f"text pack {path} is invalid",
            [f"{'.'.join(map(str, e['loc'])) or '(file)'}: {e['msg']}" for e in exc.errors()],
        ) from exc


def check_text_pack(pack: TextPack, definition: Definition, origin: str = "") -> None:
    """Raise :class:`DefinitionError` naming every way ``pack`` does not fit ``definition``."""
    where = origin or f"text pack {pack.instrument}.{pack.language}"
    problems: list[str] = []
    if pack.instrument != definition.id:
        problems.append(f"it is for {pack.instrument!r}, not {definition.id!r}")
    ids = set(definition.item_ids)
    problems += [f"items: no text for item {i}" for i in definition.item_ids if i not in pack.items]
    problems += [f"items: unknown item {i}" for i in pack.items if i not in ids]
    for rs in definition.response_sets:
        labels = pack.response_sets.get(rs.id)
        if labels is None:
            problems.append(f"response_sets: no labels for {rs.id}")
        elif len(labels) != len(rs.options):
            problems.append(
                f"response_sets.{rs.id}: {len(labels)} labels for {len(rs.options)} options"
            )
    known_sets = {rs.id for rs in definition.response_sets}
    problems += [
        f"response_sets: unknown set {s}" for s in pack.response_sets if s not in known_sets
    ]
    if problems:
        raise DefinitionError(f"{where} does not fit definition {definition.id}", problems)
