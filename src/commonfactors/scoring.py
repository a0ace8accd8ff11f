"""Scoring: answers in, a score by the instrument's published rules out.

There is one implementation of every rule. :func:`score_frame` turns a definition into
Polars expressions and evaluates them over a whole frame of administrations;
:func:`score` puts one administration into a one-row frame and reads the result back. So a
score in a web request and a score in a ten-million-row registry come from the same code.

Steps, in order, for each administration (row):

1. every item value is checked against its response options (non-numbers and values that
   are not options are problems, named with the item and the allowed values);
2. missing items are counted against the definition's missing-item rule;
3. reverse-keyed items are keyed (low + high − value);
4. the total is a sum (prorated to the full item count when items are missing), a mean, or
   a transformed sum (× multiplier); subscales likewise;
5. the band, the caseness cut-off and the risk items are read off the definition.

A row with any problem gets no score at all. Risk items are still evaluated on its valid
answers: a risk answer is never silent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from numbers import Real
from typing import Literal

import polars as pl

from commonfactors.errors import ScoringError
from commonfactors.instruments.registry import Instrument, get_instrument
from commonfactors.instruments.schema import Definition

__all__ = ["SCORE_COLUMNS", "Answers", "Score", "score", "score_frame"]

#: Answers for :func:`score`: a sequence in item order, or a mapping item id → value.
Answers = Sequence[object] | Mapping[str, object]

#: The columns :func:`score_frame` adds (subscales add ``subscale_<id>`` columns).
SCORE_COLUMNS = (
    "total",
    "band",
    "caseness",
    "risk_items",
    "prorated",
    "n_missing",
    "definition_version",
)

_ROW = "__cf_row"


@dataclass(frozen=True)
class Score:
    """The score of one administration, with the rule behind each value."""

    instrument: str
    total: float
    subscales: Mapping[str, float | None]
    band: str | None
    caseness: bool | None
    risk_items: tuple[str, ...]
    prorated: bool
    missing_items: tuple[str, ...]
    definition_version: str
    rules: Mapping[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        """The plain fields (the CLI's ``--json`` keys), without the rules."""
        return {
            "instrument": self.instrument,
            "total": self.total,
            "subscales": dict(self.subscales),
            "band": self.band,
            "caseness": self.caseness,
            "risk_items": list(self.risk_items),
            "prorated": self.prorated,
            "definition_version": self.definition_version,
        }


# --------------------------------------------------------------------------------------
# Rules as text, so every value can say where it came from.


def _fmt(x: float) -> str:
    return f"{x:g}"


def _describe_rules(d: Definition) -> dict[str, str]:
    n = len(d.items)
    lo, hi = d.score_range
    kind = {
        "sum": f"sum of the {n} item values",
        "mean": f"mean of the {n} item values",
        "transformed": f"sum of the {n} item values × {_fmt(d.scoring.multiplier)}",
    }[d.scoring.kind]
    rev = [i.id for i in d.items if i.reverse]
    keyed = f"; reverse-keyed: {', '.join(rev)}" if rev else ""
    rules = {"total": f"{kind} (range {_fmt(lo)}–{_fmt(hi)}){keyed}. Source: {d.scoring.source}"}
    m = d.missing
    if m.max_missing:
        how = "prorated to all items" if d.scoring.kind != "mean" else "mean of answered items"
        rnd = ", rounded to the nearest whole number" if m.rounding == "nearest" else ""
        rules["prorated"] = (
            f"up to {m.max_missing} missing item(s) allowed, {how}{rnd}. Source: {m.source}"
        )
    else:
        rules["prorated"] = f"no missing items allowed. Source: {m.source}"
    if d.bands:
        edges = []
        for b, nxt in zip(d.bands, [*d.bands[1:], None], strict=True):
            upper = f"<{_fmt(nxt.min)}" if nxt else f"–{_fmt(hi)}"
            edges.append(f"{_fmt(b.min)}{upper} {b.label}")
        rules["band"] = "; ".join(edges) + f". Source: {d.bands_source}"
    if (c := d.caseness_cutoff) is not None:
        rules["caseness"] = f"total {c.op} {_fmt(c.value)}: {c.description}. Source: {c.source}"
    if d.risk:
        rules["risk_items"] = "; ".join(
            f"{r.item} ≥ {_fmt(r.at_least)}: {r.reason} (source: {r.source})" for r in d.risk
        )
    for s in d.subscales:
        rules[f"subscale_{s.id}"] = f"{s.kind} of {', '.join(s.items)} ({s.name})"
    return rules


# --------------------------------------------------------------------------------------
# The one implementation: a definition compiled into Polars expressions.


@dataclass(frozen=True)
class _Plan:
    """Stage one of the evaluation: each item's checked value and validity as columns.

    Scores are then computed from these columns, so the expression tree stays small
    (fast to plan for one row, fast to run for millions)."""

    definition: Definition
    stage: dict[str, pl.Expr]  # temporary columns: value and invalid flag of each item
    problems: dict[str, pl.Expr]  # a message where an item is invalid (bad rows only)

    @staticmethod
    def value(item_id: str) -> pl.Expr:
        return pl.col(f"__cf_v_{item_id}")

    @staticmethod
    def invalid(item_id: str) -> pl.Expr:
        return pl.col(f"__cf_x_{item_id}")


def _allowed_expr(v: pl.Expr, allowed: tuple[float, ...]) -> pl.Expr:
    lo, hi = min(allowed), max(allowed)
    contiguous = all(float(x).is_integer() for x in allowed) and len(allowed) == hi - lo + 1
    if contiguous:  # a range check is much cheaper than a set lookup
        return (v >= lo) & (v <= hi) & (v.floor() == v)
    return v.is_in(list(allowed))


def _number_text(num: pl.Expr) -> pl.Expr:
    """A number as a person wrote it: 9, not 9.0."""
    return (
        pl.when(num.floor() == num)
        .then(num.cast(pl.Int64, strict=False).cast(pl.String))
        .otherwise(num.cast(pl.String))
    )


def _item_plan(d: Definition, schema: Mapping[str, pl.DataType]) -> _Plan:
    stage: dict[str, pl.Expr] = {}
    problems: dict[str, pl.Expr] = {}
    for item in d.items:
        allowed = d.allowed_values(item.id)
        dtype = schema[item.id]
        raw = pl.col(item.id)
        if dtype == pl.String:
            num = raw.str.strip_chars().cast(pl.Float64, strict=False)
            not_number = raw.is_not_null() & (raw.str.strip_chars() != "") & num.is_null()
        elif dtype.is_numeric():
            num = raw.cast(pl.Float64)
            not_number = num.is_nan()
        elif dtype == pl.Null:
            num = raw.cast(pl.Float64)
            not_number = pl.lit(False)
        else:  # booleans, dates, lists...: never an answer
            num = pl.lit(None, dtype=pl.Float64)
            not_number = raw.is_not_null()
        bad_value = num.is_not_null() & ~_allowed_expr(num, allowed) & ~not_number
        invalid = (not_number | bad_value).fill_null(False)
        stage[f"__cf_x_{item.id}"] = invalid
        stage[f"__cf_v_{item.id}"] = pl.when(invalid).then(None).otherwise(num)
        expected = ", ".join(_fmt(a) for a in allowed)
        where = f"item {item.number} ({item.id})"
        problems[item.id] = (
            pl.when(not_number)
            .then(pl.format(f"{where}: {{}} is not a number (expected one of {expected})", raw))
            .when(bad_value)
            .then(
                pl.format(
                    f"{where}: {{}} is not an allowed value (expected one of {expected})",
                    _number_text(num),
                )
            )
        )
    return _Plan(d, stage, problems)


def _keyed(d: Definition, plan: _Plan, item_id: str) -> pl.Expr:
    item = d.item(item_id)
    v = plan.value(item_id)
    if item.reverse:
        allowed = d.allowed_values(item_id)
        return (min(allowed) + max(allowed)) - v
    return v


def _aggregate(d: Definition, plan: _Plan, ids: Sequence[str], kind: str) -> pl.Expr:
    """Sum (prorated over missing required items) or mean of the keyed items ``ids``."""
    optional = set(d.missing.optional_items)
    required = [i for i in ids if i not in optional]
    extra = [i for i in ids if i in optional]
    keyed_req = [_keyed(d, plan, i) for i in required]
    if kind == "mean":
        keyed_all = keyed_req + [_keyed(d, plan, i) for i in extra]
        return pl.mean_horizontal(keyed_all)
    answered = pl.sum_horizontal([plan.value(i).is_not_null() for i in required])
    total = pl.sum_horizontal(keyed_req)
    if d.missing.max_missing:
        total = (
            pl.when(answered < len(required))
            .then(total * len(required) / answered)
            .otherwise(total)
        )
        if d.missing.rounding == "nearest":  # half up, as on a paper form
            total = (total + 0.5).floor()
    if extra:
        total = total + pl.sum_horizontal([_keyed(d, plan, i) for i in extra])
    return total


def _required(d: Definition) -> list[str]:
    optional = set(d.missing.optional_items)
    return [i for i in d.item_ids if i not in optional]


def _score_exprs(d: Definition, plan: _Plan) -> dict[str, pl.Expr]:
    n_missing = pl.sum_horizontal([plan.value(i).is_null() for i in _required(d)]).cast(pl.Int32)
    kind = "mean" if d.scoring.kind == "mean" else "sum"
    total = _aggregate(d, plan, d.item_ids, kind)
    if d.scoring.kind == "transformed":
        total = total * d.scoring.multiplier
    out: dict[str, pl.Expr] = {"total": total}
    if d.bands:
        labels = [b.label for b in d.bands]
        band: pl.Expr = pl.lit(None, dtype=pl.String)
        for b in d.bands:  # the highest band whose lower edge the total reaches
            band = pl.when(total >= b.min).then(pl.lit(b.label)).otherwise(band)
        out["band"] = band.cast(pl.Enum(labels))
    else:
        out["band"] = pl.lit(None, dtype=pl.String)
    c = d.caseness_cutoff
    if c is None:
        out["caseness"] = pl.lit(None, dtype=pl.Boolean)
    else:
        out["caseness"] = {
            ">=": total >= c.value,
            ">": total > c.value,
            "<=": total <= c.value,
            "<": total < c.value,
        }[c.op]
    out["prorated"] = n_missing > 0
    out["n_missing"] = n_missing
    for s in d.subscales:
        out[f"subscale_{s.id}"] = _aggregate(d, plan, s.items, s.kind)
    return out


def _risk_expr(d: Definition, plan: _Plan) -> pl.Expr:
    if not d.risk:
        return pl.lit([], dtype=pl.List(pl.String))
    flags = [
        pl.when(plan.value(r.item) >= r.at_least).then(pl.lit(r.item)).otherwise(None)
        for r in d.risk
    ]
    return pl.concat_list(flags).list.drop_nulls()


@cache
def _rules(d: Definition) -> dict[str, str]:
    return _describe_rules(d)


# --------------------------------------------------------------------------------------
# Public entry points.


def _check_columns(d: Definition, frame: pl.DataFrame) -> None:
    problems = [
        f"column {i!r} (item {d.item(i).number}) is missing" for i in d.item_ids if i not in frame
    ]
    clash = [c for c in (*SCORE_COLUMNS, "error") if c in frame.columns]
    problems += [f"column {c!r} would be overwritten by the score" for c in clash]
    if problems:
        raise ScoringError(f"{d.id}: the frame cannot be scored", problems)


def score_frame(
    instrument: str | Definition | Instrument,
    frame: pl.DataFrame,
    *,
    errors: Literal["raise", "report"] = "raise",
) -> pl.DataFrame:
    """Score every row of ``frame`` (one column per item id, named as in the definition).

    Returns ``frame`` with the columns of :data:`SCORE_COLUMNS` (and ``subscale_<id>``)
    added. With ``errors="raise"`` (the default) any bad row fails the whole call with a
    :class:`ScoringError` that names every bad row (1-based) and every problem in it. With
    ``errors="report"`` bad rows get an ``error`` message and no score (risk items are
    still evaluated on their valid answers).
    """
    d = get_instrument(instrument).definition
    if errors not in ("raise", "report"):
        raise ValueError("errors must be 'raise' or 'report'")
    _check_columns(d, frame)
    plan = _item_plan(d, frame.schema)
    exprs = _score_exprs(d, plan)
    n_missing = pl.sum_horizontal(
        [plan.value(i).is_null() & ~plan.invalid(i) for i in _required(d)]
    )
    any_invalid = pl.any_horizontal([plan.invalid(i) for i in d.item_ids])
    ok = ~any_invalid & (n_missing <= d.missing.max_missing)
    scored = frame.with_columns(**plan.stage).with_columns(
        _risk_expr(d, plan).alias("risk_items"),
        ok.alias("__cf_ok"),
        *[e.alias(name) for name, e in exprs.items()],
        pl.lit(d.version).alias("definition_version"),
    )
    bad = _problems(d, plan, scored)
    scored = scored.drop(list(plan.stage))
    if bad.height and errors == "raise":
        risk = scored.filter(~pl.col("__cf_ok")).get_column("risk_items").explode().drop_nulls()
        raise ScoringError(
            f"{d.id}: {bad.height} of {frame.height} row(s) cannot be scored",
            [f"row {r + 1}: {m}" for r, ms in bad.iter_rows() for m in ms],
            risk_items=sorted(set(risk.to_list())),
        )
    if errors == "report":
        scored = (
            scored.with_row_index(_ROW)
            .join(
                bad.with_columns(pl.col("error").list.join("; ")),
                on=_ROW,
                how="left",
            )
            .drop(_ROW)
            .with_columns(
                [pl.when(pl.col("__cf_ok")).then(pl.col(c)).otherwise(None).alias(c) for c in exprs]
            )
        )
    return scored.drop("__cf_ok")


def _problems(d: Definition, plan: _Plan, scored: pl.DataFrame) -> pl.DataFrame:
    """The problems of each bad row, as a list of messages (computed on bad rows alone:
    they are rare, and messages are costly)."""
    if scored.get_column("__cf_ok").all():
        return pl.DataFrame(schema={_ROW: pl.UInt32, "error": pl.List(pl.String)})
    required = _required(d)
    sub = scored.with_row_index(_ROW).filter(~pl.col("__cf_ok"))
    missing = [
        pl.when(plan.value(i).is_null() & ~plan.invalid(i)).then(pl.lit(str(d.item(i).number)))
        for i in required
    ]
    n_missing = pl.sum_horizontal([m.is_not_null() for m in missing])
    allowed = d.missing.max_missing
    too_many = pl.when(n_missing > allowed).then(
        pl.format(
            f"{{}} of {len(required)} items missing (items {{}}), "
            f"but at most {allowed} may be missing",
            n_missing,
            pl.concat_str(missing, separator=", ", ignore_nulls=True),
        )
    )
    messages = pl.concat_list([*plan.problems.values(), too_many]).list.drop_nulls()
    return sub.select(pl.col(_ROW), messages.alias("error"))


def _one_row(d: Definition, answers: Answers) -> pl.DataFrame:
    problems: list[str] = []
    if isinstance(answers, Mapping):
        unknown = [k for k in answers if k not in d.item_ids]
        problems += [f"unknown item {k!r}; items are {', '.join(d.item_ids)}" for k in unknown]
        values = {i: answers.get(i) for i in d.item_ids}
    elif isinstance(answers, str | bytes) or not isinstance(answers, Sequence):
        raise ScoringError(f"{d.id}: answers must be a sequence or a mapping of item id to value")
    else:
        if len(answers) != len(d.items):
            problems.append(f"expected {len(d.items)} answers in item order, got {len(answers)}")
        values = dict(zip(d.item_ids, answers, strict=False))
        values.update(dict.fromkeys(d.item_ids[len(answers):]))
    columns: dict[str, pl.Series] = {}
    for item_id, v in values.items():
        n = d.item(item_id).number
        if v is None or isinstance(v, str):
            columns[item_id] = pl.Series(item_id, [v], dtype=pl.String)
        elif isinstance(v, Real) and not isinstance(v, bool):
            columns[item_id] = pl.Series(item_id, [float(v)], dtype=pl.Float64)
        else:
            expected = ", ".join(_fmt(a) for a in d.allowed_values(item_id))
            problems.append(
                f"item {n} ({item_id}): {v!r} is not a number (expected one of {expected})"
            )
            columns[item_id] = pl.Series(item_id, [None], dtype=pl.String)
    if problems:
        raise ScoringError(f"{d.id}: the answers cannot be scored", problems)
    return pl.DataFrame(list(columns.values()))


def score(instrument: str | Definition | Instrument, answers: Answers) -> Score:
    """Score one administration of ``instrument``.

    ``answers`` is a sequence in item order or a mapping item id → value; ``None`` (or an
    empty string) means missing. Raises :class:`ScoringError` naming every problem; nothing
    is partly scored.
    """
    d = get_instrument(instrument).definition
    frame = _one_row(d, answers)
    try:
        row = score_frame(d, frame).row(0, named=True)
    except ScoringError as exc:
        raise ScoringError(
            f"{d.id}: the answers cannot be scored",
            [p.removeprefix("row 1: ") for p in exc.problems],
            risk_items=exc.risk_items,
        ) from None
    missing = tuple(i for i in d.item_ids if _is_missing(frame, i))
    return Score(
        instrument=d.id,
        total=float(row["total"]),
        subscales={
            s.id: (None if row[f"subscale_{s.id}"] is None else float(row[f"subscale_{s.id}"]))
            for s in d.subscales
        },
        band=row["band"],
        caseness=row["caseness"],
        risk_items=tuple(row["risk_items"]),
        prorated=bool(row["prorated"]),
        missing_items=missing,
        definition_version=d.version,
        rules=_rules(d),
    )


def _is_missing(frame: pl.DataFrame, item_id: str) -> bool:
    v = frame.get_column(item_id)[0]
    return v is None or (isinstance(v, str) and not v.strip())
