"""The schema of an instrument definition file, declared once and checked at load.

A definition holds the facts needed to score an instrument exactly as published: items and
their response values, reverse keys, subscales, the score kind, the missing-item rule, bands,
cut-offs, norms, reliability, the reliable-change threshold, risk items and LOINC codes, each
with its source. Item *text* is not part of a definition: it comes from a text pack
(:mod:`commonfactors.instruments.textpack`) where the licence allows it.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "Band",
    "CompositeTerm",
    "Cutoff",
    "Definition",
    "Item",
    "Licence",
    "Loinc",
    "MissingRule",
    "Norm",
    "Reliability",
    "ReliableChange",
    "ResponseOption",
    "ResponseSet",
    "RiskItem",
    "Scoring",
    "Subscale",
]

#: The critical value of a two-tailed test at alpha = .05: the exact normal quantile.
Z_975 = 1.959963984540054

Measures = Literal[
    "outcome",
    "alliance",
    "empathy",
    "expectancy",
    "motivation",
    "culture",
    "goals",
    "homework",
    "preferences",
    "wellbeing",
    "functioning",
]

Slug = Field(pattern=r"^[a-z][a-z0-9_]*$")

_OPS: dict[str, Callable[[Any, float], Any]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Licence(_Strict):
    """Who holds the rights, and whether item text may ship inside this project."""

    name: str
    holder: str
    text_shippable: bool
    source: str
    copyright: str | None = None
    note: str | None = None


class ResponseOption(_Strict):
    value: float
    loinc: str | None = None


class ResponseSet(_Strict):
    """The answer options of one or more items, with the numeric value of each."""

    id: str = Slug
    options: tuple[ResponseOption, ...] = Field(min_length=2)

    @property
    def values(self) -> tuple[float, ...]:
        return tuple(o.value for o in self.options)

    @model_validator(mode="after")
    def _distinct(self) -> Self:
        if len(set(self.values)) != len(self.values):
            raise ValueError(f"response set {self.id!r} repeats a value")
        return self


class Item(_Strict):
    id: str = Slug
    number: int = Field(ge=1, description="Position on the published form, from 1.")
    response_set: str
    reverse: bool = False
    loinc: str | None = None
    label: str | None = Field(
        default=None, description="A short neutral description of what the item asks (ours)."
    )


class Subscale(_Strict):
    id: str = Slug
    name: str
    items: tuple[str, ...] = Field(min_length=1)
    kind: Literal["sum", "mean"] = "sum"
    source: str | None = None


class CompositeTerm(_Strict):
    subscale: str
    weight: float


class Scoring(_Strict):
    """How the total is made: a sum, a mean, a transformed sum (sum × multiplier), or a
    composite (a weighted sum of subscale scores, e.g. URICA readiness = C + A + M − PC)."""

    kind: Literal["sum", "mean", "transformed", "composite"]
    multiplier: float = 1.0
    composite: tuple[CompositeTerm, ...] = ()
    source: str

    @model_validator(mode="after")
    def _kind_parameters(self) -> Self:
        if self.kind == "transformed" and self.multiplier == 1.0:
            raise ValueError("a transformed score needs a multiplier other than 1")
        if self.kind != "transformed" and self.multiplier != 1.0:
            raise ValueError("only a transformed score has a multiplier")
        if (self.kind == "composite") != bool(self.composite):
            raise ValueError("a composite score, and only a composite score, lists its terms")
        return self


class MissingRule(_Strict):
    """How many items may be missing, and what is done then.

    ``max_missing`` counts required items (all but ``optional_items``). With ``prorate``
    a sum is scaled up to the full number of required items (sum × n / answered); a mean
    is the mean of the answered items. ``optional_items`` may be left out without
    prorating (e.g. the PHQ-15 menstrual item for men): they add to the total when answered.
    Beyond ``max_missing`` the administration is refused.
    """

    max_missing: int = Field(ge=0)
    prorate: bool
    rounding: Literal["none", "nearest"] = "none"
    optional_items: tuple[str, ...] = ()
    source: str

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.max_missing > 0 and not self.prorate:
            raise ValueError("missing items are allowed only with a prorating (or mean) rule")
        return self


class Band(_Strict):
    """A severity band: applies from ``min`` up to the next band's ``min``."""

    label: str
    min: float


class Cutoff(_Strict):
    id: str = Slug
    description: str
    value: float
    op: Literal[">=", ">", "<=", "<"]
    caseness: bool = False
    source: str

    def holds(self, total: Any) -> Any:
        """Whether ``total`` meets the cut-off: works on a number, an array or a Polars
        expression alike (one comparison rule for every caller)."""
        return _OPS[self.op](total, self.value)


class Norm(_Strict):
    population: Literal["clinical", "nonclinical"]
    description: str
    mean: float
    sd: float = Field(gt=0)
    n: int | None = None
    source: str


class Reliability(_Strict):
    alpha: float | None = Field(default=None, gt=0, lt=1)
    test_retest: float | None = Field(default=None, gt=0, lt=1)
    source: str


class ReliableChange(_Strict):
    """A published threshold, or one derived from a stated SD and reliability (Jacobson &
    Truax 1991: 1.96 × √2 × SD × √(1 − r)); ``basis`` says which."""

    basis: Literal["published", "derived"]
    threshold: float | None = Field(default=None, gt=0)
    sd: float | None = Field(default=None, gt=0)
    reliability: float | None = Field(default=None, gt=0, lt=1)
    source: str

    @model_validator(mode="after")
    def _either(self) -> Self:
        if self.basis == "published" and (self.threshold is None or self.sd is not None):
            raise ValueError("a published reliable-change threshold states threshold only")
        if self.basis == "derived" and (
            self.threshold is not None or self.sd is None or self.reliability is None
        ):
            raise ValueError("a derived reliable-change threshold states sd and reliability")
        return self

    @property
    def value(self) -> float:
        """The threshold in raw score points."""
        if self.threshold is not None:
            return self.threshold
        sd, r = self.sd or 0.0, self.reliability or 0.0  # both present: checked by _either
        return Z_975 * math.sqrt(2) * sd * math.sqrt(1 - r)


class RiskItem(_Strict):
    """An item whose answer at or above ``at_least`` raises a risk alert."""

    item: str
    at_least: float
    reason: str
    source: str


class Loinc(_Strict):
    panel: str | None = None
    total: str | None = None
    source: str | None = None


class Definition(_Strict):
    """One instrument, as data. ``status: practice`` marks unvalidated practice questions:
    they carry no norms, bands, cut-offs or reliable-change threshold."""

    id: str = Slug
    name: str
    short_name: str
    version: str = Field(pattern=r"^\d+\.\d+\.\d+$")
    status: Literal["validated", "practice"]
    citation: str
    licence: Licence
    languages: tuple[str, ...] = Field(min_length=1)
    measures: Measures
    assesses: str
    recall_period: str
    direction: Literal["higher_is_worse", "higher_is_better"]
    response_sets: tuple[ResponseSet, ...] = Field(min_length=1)
    items: tuple[Item, ...] = Field(min_length=1)
    subscales: tuple[Subscale, ...] = ()
    scoring: Scoring
    missing: MissingRule
    bands: tuple[Band, ...] = ()
    bands_source: str | None = None
    cutoffs: tuple[Cutoff, ...] = ()
    reliability: Reliability | None = None
    norms: tuple[Norm, ...] = ()
    reliable_change: ReliableChange | None = None
    risk: tuple[RiskItem, ...] = ()
    loinc: Loinc = Loinc()
    notes: tuple[str, ...] = ()

    # -- derived facts -----------------------------------------------------------------
    @property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(i.id for i in self.items)

    def item(self, item_id: str) -> Item:
        for it in self.items:
            if it.id == item_id:
                return it
        raise KeyError(item_id)

    def response_set(self, set_id: str) -> ResponseSet:
        for rs in self.response_sets:
            if rs.id == set_id:
                return rs
        raise KeyError(set_id)

    def allowed_values(self, item_id: str) -> tuple[float, ...]:
        return self.response_set(self.item(item_id).response_set).values

    @property
    def caseness_cutoff(self) -> Cutoff | None:
        return next((c for c in self.cutoffs if c.caseness), None)

    def subscale(self, subscale_id: str) -> Subscale:
        for sub in self.subscales:
            if sub.id == subscale_id:
                return sub
        raise KeyError(subscale_id)

    def _range(self, item_ids: tuple[str, ...], kind: str) -> tuple[float, float]:
        lows = [min(self.allowed_values(i)) for i in item_ids]
        highs = [max(self.allowed_values(i)) for i in item_ids]
        if kind == "mean":
            return (sum(lows) / len(lows), sum(highs) / len(highs))
        return (sum(lows), sum(highs))

    @property
    def score_range(self) -> tuple[float, float]:
        """The lowest and highest possible total."""
        if self.scoring.kind == "composite":
            lo = hi = 0.0
            for term in self.scoring.composite:
                sub = self.subscale(term.subscale)
                a, b = (term.weight * x for x in self._range(sub.items, sub.kind))
                lo, hi = lo + min(a, b), hi + max(a, b)
            return (lo, hi)
        if self.scoring.kind == "mean":
            return self._range(self.item_ids, "mean")
        lo, hi = self._range(self.item_ids, "sum")
        return (lo * self.scoring.multiplier, hi * self.scoring.multiplier)

    # -- consistency ---------------------------------------------------------------------
    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problems: list[str] = []
        set_ids = [rs.id for rs in self.response_sets]
        ids = self.item_ids
        if len(set(ids)) != len(ids):
            problems.append("item ids repeat")
        if sorted(i.number for i in self.items) != list(range(1, len(self.items) + 1)):
            problems.append("item numbers must run 1..n without gaps")
        for it in self.items:
            if it.response_set not in set_ids:
                problems.append(f"item {it.id}: unknown response set {it.response_set!r}")
            elif it.reverse:
                values = set(self.allowed_values(it.id))
                if {min(values) + max(values) - v for v in values} != values:
                    problems.append(
                        f"item {it.id}: reverse keying needs evenly mirrored options, "
                        f"not {sorted(values)}"
                    )
        known = set(ids)
        for sub in self.subscales:
            problems += [
                f"subscale {sub.id}: unknown item {i}" for i in sub.items if i not in known
            ]
        problems += [
            f"missing rule: unknown optional item {i}"
            for i in self.missing.optional_items
            if i not in known
        ]
        problems += [f"risk: unknown item {r.item}" for r in self.risk if r.item not in known]
        subscale_ids = {sub.id for sub in self.subscales}
        problems += [
            f"scoring: unknown subscale {t.subscale}"
            for t in self.scoring.composite
            if t.subscale not in subscale_ids
        ]
        if len([c for c in self.cutoffs if c.caseness]) > 1:
            problems.append("at most one cut-off defines caseness")
        if self.bands:
            mins = [b.min for b in self.bands]
            if mins != sorted(mins) or len(set(mins)) != len(mins):
                problems.append("bands must be in ascending order of min")
            if not problems and mins[0] != self.score_range[0]:
                problems.append(
                    f"the first band must start at the lowest score {self.score_range[0]}"
                )
            if not self.bands_source:
                problems.append("bands need bands_source")
        if self.status == "practice":
            claimed = [
                name
                for name, present in (
                    ("bands", bool(self.bands)),
                    ("cutoffs", bool(self.cutoffs)),
                    ("norms", bool(self.norms)),
                    ("reliable_change", self.reliable_change is not None),
                    ("reliability", self.reliability is not None),
                )
                if present
            ]
            if claimed:
                problems.append(
                    "unvalidated practice questions must not claim "
                    + ", ".join(claimed)
                    + " (no published figures exist for them)"
                )
            if "practice" not in self.name.lower():
                problems.append("the name of practice questions must say 'practice questions'")
        if problems:
            raise ValueError("; ".join(problems))
        return self
