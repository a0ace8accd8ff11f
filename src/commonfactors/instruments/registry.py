"""The registry: every instrument definition the library knows, with its text packs.

Definitions are read from ``definitions/*.yaml`` and shipped text from ``text/*.yaml``
beside this module. A practice adds its own licensed text with local text packs: files or
folders named in the ``COMMONFACTORS_TEXT_PACKS`` environment variable (separated by the
platform's path separator), or :meth:`Registry.with_text_packs`. Adding an instrument adds a
file, never a branch in the scorer.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml
from pydantic import ValidationError

from commonfactors.errors import DefinitionError, UnknownInstrumentError
from commonfactors.instruments.schema import Definition
from commonfactors.instruments.textpack import TextPack, check_text_pack, read_text_pack

__all__ = [
    "DEFINITIONS_DIR",
    "TEXT_DIR",
    "Instrument",
    "Registry",
    "default_registry",
    "get_instrument",
    "read_definition",
]

DEFINITIONS_DIR = Path(__file__).parent / "definitions"
TEXT_DIR = Path(__file__).parent / "text"
TEXT_PACKS_ENV = "COMMONFACTORS_TEXT_PACKS"


@dataclass(frozen=True)
class Instrument:
    """A definition with the text packs loaded for it (by language)."""

    definition: Definition
    texts: Mapping[str, TextPack] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.definition.id

    def text(self, language: str = "en") -> TextPack | None:
        """The text pack in ``language`` (or the first available), or None if none is loaded."""
        return self.texts.get(language) or next(iter(self.texts.values()), None)


def read_definition(path: str | Path) -> Definition:
    """Read one definition file, naming every schema problem at once."""
    path = Path(path)
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DefinitionError(f"cannot read definition {path}: {exc}") from exc
    try:
        definition = Definition.model_validate(raw)
    except ValidationError as exc:
        raise DefinitionError(
            f"definition {path} is invalid",
            [f"{'.'.join(map(str, e['loc'])) or '(file)'}: {e['msg']}" for e in exc.errors()],
        ) from exc
    if path.stem != definition.id:
        raise DefinitionError(f"definition {path} must be named {definition.id}.yaml")
    return definition


def _pack_files(location: Path) -> list[Path]:
    if location.is_dir():
        return sorted([*location.glob("*.yaml"), *location.glob("*.yml")])
    if location.is_file():
        return [location]
    raise DefinitionError(f"text pack location {location} does not exist")


class Registry:
    """An immutable set of instruments. ``with_text_packs`` returns a new registry."""

    def __init__(self, instruments: Iterable[Instrument]) -> None:
        self._by_id: Mapping[str, Instrument] = MappingProxyType(
            {inst.id: inst for inst in sorted(instruments, key=lambda i: i.id)}
        )

    @classmethod
    def from_directories(
        cls, definitions: Path = DEFINITIONS_DIR, texts: Iterable[Path] = (TEXT_DIR,)
    ) -> Registry:
        defs = [read_definition(p) for p in sorted(definitions.glob("*.yaml"))]
        return cls(Instrument(d) for d in defs).with_text_packs(texts)

    def with_text_packs(self, locations: Iterable[str | Path]) -> Registry:
        """Add text packs (files or folders of ``*.yaml``); each is checked against its
        definition, and every problem in every pack is reported at once."""
        texts: dict[str, dict[str, TextPack]] = {i: dict(x.texts) for i, x in self._by_id.items()}
        problems: list[str] = []
        for location in locations:
            for path in _pack_files(Path(location)):
                try:
                    pack = read_text_pack(path)
                    if pack.instrument not in self._by_id:
                        raise DefinitionError(
                            f"text pack {path} is for unknown instrument {pack.instrument!r}"
                        )
                    check_text_pack(pack, self._by_id[pack.instrument].definition, str(path))
                except DefinitionError as exc:
                    if len(exc.problems) > 1:
                        problems.extend(f"{path}: {p}" for p in exc.problems)
                    else:
                        problems.append(str(exc))
                    continue
                texts[pack.instrument][pack.language] = pack
        if problems:
            raise DefinitionError("text packs could not be loaded", problems)
        return Registry(
            Instrument(inst.definition, MappingProxyType(texts[i]))
            for i, inst in self._by_id.items()
        )

    def get(self, instrument_id: str) -> Instrument:
        try:
            return self._by_id[instrument_id]
        except KeyError:
            raise UnknownInstrumentError(
                f"unknown instrument {instrument_id!r}; known instruments: "
                + ", ".join(self._by_id)
            ) from None

    def definition(self, instrument_id: str) -> Definition:
        return self.get(instrument_id).definition

    def ids(self) -> tuple[str, ...]:
        return tuple(self._by_id)

    def __iter__(self) -> Iterator[Instrument]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, instrument_id: object) -> bool:
        return instrument_id in self._by_id


@cache
def default_registry() -> Registry:
    """The shipped instruments and text, plus local text packs from the environment."""
    local = [p for p in os.environ.get(TEXT_PACKS_ENV, "").split(os.pathsep) if p]
    return Registry.from_directories(texts=[TEXT_DIR, *map(Path, local)])


def get_instrument(instrument: str | Definition | Instrument) -> Instrument:
    """Resolve an id, a definition or an instrument to an :class:`Instrument`."""
    if isinstance(instrument, Instrument):
        return instrument
    if isinstance(instrument, Definition):
        return Instrument(instrument)
    return default_registry().get(instrument)
