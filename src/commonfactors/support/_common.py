"""What the parts of :mod:`commonfactors.support` share: the error, a measured factor, and
how numbers and dates are written in the plain-words reasons."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from commonfactors.errors import CommonFactorsError

__all__ = ["DATA", "FactorReading", "SupportError", "fmt", "read_yaml", "when"]

#: Where the shipped review definition and rules file live.
DATA = Path(__file__).resolve().parent / "data"


class SupportError(CommonFactorsError, ValueError):
    """A review definition, a rules file or a set of review answers that cannot be used;
    ``problems`` names every problem at once."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class FactorReading:
    """The latest measurement of one common factor: an instrument's score at a session.

    ``value`` is the instrument's total (None: not measured); ``items`` the raw answers by
    item id and ``subscales`` the subscale scores, where known; ``session`` and ``on`` say
    when it was measured."""

    instrument: str
    value: float | None
    session: int | None = None
    on: date | None = None
    items: Mapping[str, float | None] = field(default_factory=dict)
    subscales: Mapping[str, float | None] = field(default_factory=dict)

    @property
    def measured(self) -> bool:
        return self.value is not None


def fmt(x: float) -> str:
    """A number as people write it: no trailing zeros, at most two decimals."""
    if math.isfinite(x) and float(x).is_integer():
        return str(int(x))
    return f"{x:.2f}".rstrip("0").rstrip(".")


def when(reading: FactorReading) -> str:
    """'at session 4 (12 Mar 2026)', 'at session 4', 'on 12 Mar 2026' or ''."""
    day = f"{reading.on.day} {reading.on:%b %Y}" if reading.on is not None else ""
    if reading.session is not None:
        return f"at session {reading.session}" + (f" ({day})" if day else "")
    return f"on {day}" if day else ""


def read_yaml(path: str | Path, model: type[Any], what: str) -> Any:
    """Read a YAML data file into ``model``, naming every schema problem at once."""
    path = Path(path)
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise SupportError(f"cannot read {what} {path}: {exc}") from exc
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise SupportError(
            f"{what} {path} is invalid",
            [f"{'.'.join(map(str, e['loc'])) or '(file)'}: {e['msg']}" for e in exc.errors()],
        ) from exc


def listed(values: Sequence[str]) -> str:
    """'a', 'a or b', 'a, b or c'."""
    if len(values) <= 1:
        return "".join(values)
    return ", ".join(values[:-1]) + " or " + values[-1]
