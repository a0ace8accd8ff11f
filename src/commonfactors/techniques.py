"""The catalogue of therapy techniques, grouped by modality.

The default catalogue ships as data (``data/techniques.yaml``): every modality the article
this project grows from names — CBT (cognitive restructuring, behavioural activation,
exposure), psychodynamic (free association, dream analysis, exploring early experiences),
humanistic, integrative, mindfulness, art-based and narrative work — plus systemic work and
methods common to most therapies (psychoeducation, problem solving, goal setting,
relaxation). Descriptions are our own words; each technique names its source where one
exists. A practice starts from this catalogue and keeps an edited copy of its own; a
treatment plan and a session record store technique ids, never names.

::

    >>> from commonfactors.techniques import default_catalogue
    >>> catalogue = default_catalogue()
    >>> catalogue.technique("exposure").modality
    'cbt'
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from commonfactors.errors import CommonFactorsError

__all__ = [
    "DEFAULT_CATALOGUE_PATH",
    "Catalogue",
    "CatalogueError",
    "Modality",
    "Technique",
    "default_catalogue",
    "load_catalogue",
    "read_catalogue",
]

DEFAULT_CATALOGUE_PATH = Path(__file__).parent / "data" / "techniques.yaml"

#: A technique or modality id: a lower-case slug, stored in plans and session records.
SLUG = re.compile(r"^[a-z][a-z0-9_]{1,59}$")


class CatalogueError(CommonFactorsError, ValueError):
    """A technique catalogue that does not follow the schema (every problem listed)."""


@dataclass(frozen=True)
class Modality:
    """A family of therapy (CBT, psychodynamic …) that techniques belong to."""

    id: str
    name: str
    description: str


@dataclass(frozen=True)
class Technique:
    """One technique: what it is, in our words, and where it is described."""

    id: str
    modality: str
    name: str
    description: str
    source: str = ""


@dataclass(frozen=True)
class Catalogue:
    """Modalities and their techniques, in the order of the catalogue file."""

    modalities: tuple[Modality, ...]
    techniques: tuple[Technique, ...]
    version: int = 1

    def __iter__(self) -> Iterator[Technique]:
        return iter(self.techniques)

    def __len__(self) -> int:
        return len(self.techniques)

    def __contains__(self, technique_id: object) -> bool:
        return any(t.id == technique_id for t in self.techniques)

    def technique(self, technique_id: str) -> Technique:
        """The technique with this id; ``KeyError`` naming it if there is none."""
        for t in self.techniques:
            if t.id == technique_id:
                return t
        raise KeyError(f"no technique {technique_id!r} in the catalogue")

    def modality(self, modality_id: str) -> Modality:
        for m in self.modalities:
            if m.id == modality_id:
                return m
        raise KeyError(f"no modality {modality_id!r} in the catalogue")

    def by_modality(self) -> dict[Modality, tuple[Technique, ...]]:
        """Each modality with its techniques, both in catalogue order."""
        return {m: tuple(t for t in self.techniques if t.modality == m.id) for m in self.modalities}


_MODALITY_KEYS = {"id", "name", "description"}
_TECHNIQUE_KEYS = {"id", "modality", "name", "description", "source"}


def _text(entry: Mapping[str, Any], key: str, where: str, problems: list[str]) -> str:
    value = entry.get(key)
    if value is None:
        problems.append(f"{where}: '{key}' is missing")
        return ""
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{where}: '{key}' must be non-empty text")
        return ""
    return " ".join(value.split())


def _entries(data: Mapping[str, Any], key: str, problems: list[str]) -> list[Any]:
    value = data.get(key)
    if not isinstance(value, list) or not value:
        problems.append(f"'{key}' must be a non-empty list")
        return []
    return value


def _modalities(data: Mapping[str, Any], problems: list[str]) -> list[Modality]:
    out: list[Modality] = []
    for n, entry in enumerate(_entries(data, "modalities", problems), start=1):
        where = f"modality {n}"
        if not isinstance(entry, Mapping):
            problems.append(f"{where}: must be a mapping")
            continue
        where = f"modality {n} ({entry.get('id')!r})"
        problems += [f"{where}: unknown key '{k}'" for k in sorted(set(entry) - _MODALITY_KEYS)]
        mid = _text(entry, "id", where, problems)
        if mid and not SLUG.match(mid):
            problems.append(f"{where}: id must be a lower-case slug (letters, digits, _)")
        out.append(
            Modality(
                mid,
                _text(entry, "name", where, problems),
                _text(entry, "description", where, problems),
            )
        )
    return out


def _techniques(data: Mapping[str, Any], known: set[str], problems: list[str]) -> list[Technique]:
    out: list[Technique] = []
    for n, entry in enumerate(_entries(data, "techniques", problems), start=1):
        where = f"technique {n}"
        if not isinstance(entry, Mapping):
            problems.append(f"{where}: must be a mapping")
            continue
        where = f"technique {n} ({entry.get('id')!r})"
        problems += [f"{where}: unknown key '{k}'" for k in sorted(set(entry) - _TECHNIQUE_KEYS)]
        tid = _text(entry, "id", where, problems)
        if tid and not SLUG.match(tid):
            problems.append(f"{where}: id must be a lower-case slug (letters, digits, _)")
        modality = _text(entry, "modality", where, problems)
        if modality and modality not in known:
            problems.append(f"{where}: modality '{modality}' is not one of the modalities")
        source = entry.get("source", "")
        if not isinstance(source, str):
            problems.append(f"{where}: 'source' must be text (empty when there is none)")
            source = ""
        out.append(
            Technique(
                tid,
                modality,
                _text(entry, "name", where, problems),
                _text(entry, "description", where, problems),
                " ".join(source.split()),
            )
        )
    return out


def _duplicates(ids: list[str], kind: str) -> list[str]:
    counts = Counter(i for i in ids if i)
    return [f"{kind} id '{i}' is used more than once" for i, n in sorted(counts.items()) if n > 1]


def read_catalogue(data: Any) -> Catalogue:
    """A catalogue from already-parsed data (a mapping as in ``techniques.yaml``).

    Raises :class:`CatalogueError` listing every problem at once: missing or empty fields,
    ids that are not slugs or not unique, techniques of an unknown modality, modalities
    without a technique.
    """
    if not isinstance(data, Mapping):
        raise CatalogueError("a technique catalogue must be a mapping")
    problems: list[str] = []
    version = data.get("version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        problems.append("'version' must be a positive whole number")
        version = 1
    modalities = _modalities(data, problems)
    techniques = _techniques(data, {m.id for m in modalities if m.id}, problems)
    problems += _duplicates([m.id for m in modalities], "modality")
    problems += _duplicates([t.id for t in techniques], "technique")
    used = {t.modality for t in techniques}
    problems += [
        f"modality '{m.id}' has no techniques" for m in modalities if m.id and m.id not in used
    ]
    if problems:
        raise CatalogueError("the technique catalogue is invalid", problems)
    return Catalogue(tuple(modalities), tuple(techniques), version)


def load_catalogue(path: str | Path = DEFAULT_CATALOGUE_PATH) -> Catalogue:
    """Read a catalogue file (YAML), naming every problem at once."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogueError(f"{path}: cannot be read: {exc}") from exc
    try:
        return read_catalogue(data)
    except CatalogueError as exc:
        raise CatalogueError(f"{path}: the technique catalogue is invalid", exc.problems) from exc


@cache
def default_catalogue() -> Catalogue:
    """The catalogue shipped with the library (read once)."""
    return load_catalogue(DEFAULT_CATALOGUE_PATH)
