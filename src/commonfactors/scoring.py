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

import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache, lru_cache, reduce
from numbers import Real
from typing import Any, Literal

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
    "risk_unanswered",
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
    risk_unanswered: tuple[str, ...]
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
            "risk_unanswered": list(self.risk_unanswered),
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
    terms = " ".join(
        f"{'−' if t.weight < 0 else '+'} {_fmt(abs(t.weight))}×{t.subscale}"
        for t in d.scoring.composite
    ).lstrip("+ ")
    kind = {
        "sum": f"sum of the {n} item values",
        "mean": f"mean of the {n} item values",
        "transformed": f"sum of the {n} item values × {_fmt(d.scoring.multiplier)}",
        "composite": f"composite of subscale scores: {terms}",
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
        rules["risk_unanswered"] = (
            "a risk item left blank is reported so that it can be asked in person; "
            "it never counts as a risk answer of 0 without saying so"
        )
    for s in d.subscales:
        rules[f"subscale_{s.id}"] = f"{s.kind} of {', '.join(s.items)} ({s.name})"
    return rules


# --------------------------------------------------------------------------------------
# The one implementation: a definition compiled into Polars expressions.


@dataclass(frozen=True, eq=False)  # compared and hashed by identity (cached plans)
class _Plan:
    """Stage one of the evaluation: each item's checked value, validity and missingness.

    A column whose statistics prove every present value allowed (numbers within a range of
    integer options) is used as it is (widened to 64 bits, so arithmetic cannot overflow),
    and when it also has no nulls, nothing about it is checked row by row. Other columns
    get a checked value and an invalid flag as temporary columns. Scores are computed from
    these, so the expression tree stays small (fast to plan for one row, fast to run for
    millions)."""

    definition: Definition
    checked: dict[str, pl.Expr]  # items whose present values are proven allowed → value
    complete: frozenset[str]  # checked items with no missing value at all
    stage: dict[str, pl.Expr]  # temporary columns: value and invalid flag of other items
    problems: dict[str, pl.Expr]  # a message where an item is invalid (bad rows only)

    def value(self, item_id: str) -> pl.Expr:
        if item_id in self.checked:
            return self.checked[item_id]
        return pl.col(f"__cf_v_{item_id}")

    def invalid(self, item_id: str) -> pl.Expr:
        return pl.lit(False) if item_id in self.checked else pl.col(f"__cf_x_{item_id}")

    def missing(self, item_id: str) -> pl.Expr:
        """True where the item is missing (not where it is invalid)."""
        if item_id in self.complete:
            return pl.lit(False)
        if item_id in self.checked:
            return pl.col(item_id).is_null()
        return pl.col(f"__cf_v_{item_id}").is_null() & ~pl.col(f"__cf_x_{item_id}")


def _contiguous(allowed: tuple[float, ...]) -> bool:
    lo, hi = min(allowed), max(allowed)
    return all(float(x).is_integer() for x in allowed) and len(allowed) == hi - lo + 1


def _allowed_expr(v: pl.Expr, allowed: tuple[float, ...]) -> pl.Expr:
    if _contiguous(allowed):  # a range check is much cheaper than a set lookup
        return (v >= min(allowed)) & (v <= max(allowed)) & (v.floor() == v)
    return v.is_in(list(allowed))


def _proven_allowed(column: pl.Series, allowed: tuple[float, ...]) -> bool:
    """True when the column's statistics alone prove every present value allowed."""
    if not (column.dtype.is_integer() or column.dtype.is_float()) or not _contiguous(allowed):
        return False
    if column.null_count() == column.len():
        return column.dtype.is_integer()
    if column.dtype.is_float() and (
        not column.is_finite().all() or not (column.floor() == column).all()
    ):
        return False
    lo, hi = column.min(), column.max()
    if not isinstance(lo, int | float) or not isinstance(hi, int | float):
        return False
    return min(allowed) <= lo and hi <= max(allowed)


def _number_text(num: pl.Expr) -> pl.Expr:
    """A number as a person wrote it: 9, not 9.0 (and 1e+300 as such)."""
    as_int = pl.when(num.floor() == num).then(num.cast(pl.Int64, strict=False).cast(pl.String))
    return pl.coalesce(as_int, num.cast(pl.String))


def _checked_value(dtype: pl.DataType, raw: pl.Expr) -> pl.Expr:
    if dtype.is_integer():
        return raw if dtype == pl.Int64 else raw.cast(pl.Int64)
    return raw if dtype == pl.Float64 else raw.cast(pl.Float64)


def _item_plan(d: Definition, frame: pl.DataFrame) -> _Plan:
    stage: dict[str, pl.Expr] = {}
    problems: dict[str, pl.Expr] = {}
    checked: dict[str, pl.Expr] = {}
    complete = set()
    for item in d.items:
        allowed = d.allowed_values(item.id)
        dtype = frame.schema[item.id]
        raw = pl.col(item.id)
        expected = ", ".join(_fmt(a) for a in allowed)
        where = f"item {item.number} ({item.id})"
        column = frame.get_column(item.id)
        if _proven_allowed(column, allowed):
            checked[item.id] = _checked_value(dtype, raw)
            if not column.null_count():
                complete.add(item.id)
            continue
        if isinstance(dtype, pl.Categorical | pl.Enum):
            raw = raw.cast(pl.String)
            dtype = pl.String()
        shown: pl.Expr = raw
        if dtype == pl.String:
            text = raw.str.strip_chars()
            num = text.cast(pl.Float64, strict=False)
            not_number = (text != "") & (num.is_null() | ~num.is_finite())
        elif dtype.is_numeric():
            num = raw.cast(pl.Float64)
            not_number = ~num.is_finite()
            shown = num.cast(pl.String)
        elif dtype == pl.Null:
            num = raw.cast(pl.Float64)
            not_number = pl.lit(False)
        else:  # booleans, dates, lists...: never an answer
            num = pl.lit(None, dtype=pl.Float64)
            not_number = raw.is_not_null()
            shown = pl.lit(f"a {dtype} value")
        not_number = not_number.fill_null(False)
        bad_value = num.is_not_null() & ~not_number & ~_allowed_expr(num, allowed)
        invalid = (not_number | bad_value).fill_null(False)
        stage[f"__cf_x_{item.id}"] = invalid
        stage[f"__cf_v_{item.id}"] = pl.when(invalid).then(None).otherwise(num)
        problems[item.id] = (
            pl.when(not_number)
            .then(pl.format(f"{where}: {{}} is not a number (expected one of {expected})", shown))
            .when(bad_value)
            .then(
                pl.format(
                    f"{where}: {{}} is not an allowed value (expected one of {expected})",
                    _number_text(num),
                )
            )
        )
    return _Plan(d, checked, frozenset(complete), stage, problems)


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
    total = pl.sum_horizontal(keyed_req)
    if d.missing.max_missing and not all(i in plan.complete for i in required):
        # prorate to all required items: sum × n / answered (× 1 when none is missing);
        # nothing answered gives no score (not 0/0)
        n_missing = pl.sum_horizontal([plan.missing(i) for i in required if i not in plan.complete])
        answered = pl.when(n_missing < len(required)).then(len(required) - n_missing)
        total = total * len(required) / answered
        if d.missing.rounding == "nearest":  # half up, as on a paper form
            total = (total + 0.5).floor()
    if extra:
        total = total + pl.sum_horizontal([_keyed(d, plan, i) for i in extra])
    return total


def _required(d: Definition) -> list[str]:
    optional = set(d.missing.optional_items)
    return [i for i in d.item_ids if i not in optional]


def _n_missing(d: Definition, plan: _Plan) -> pl.Expr:
    incomplete = [i for i in _required(d) if i not in plan.complete]
    if not incomplete:
        return pl.lit(0, dtype=pl.Int32)
    return pl.sum_horizontal([plan.missing(i) for i in incomplete]).cast(pl.Int32)


def _score_exprs(d: Definition, plan: _Plan) -> tuple[dict[str, pl.Expr], dict[str, pl.Expr]]:
    """The score columns in two steps: the totals first, then what is read off them."""
    if d.scoring.kind == "composite":  # `+` keeps a missing term missing: no silent 0
        terms = [
            t.weight
            * _aggregate(d, plan, d.subscale(t.subscale).items, d.subscale(t.subscale).kind)
            for t in d.scoring.composite
        ]
        total = reduce(operator.add, terms)
    else:
        kind = "mean" if d.scoring.kind == "mean" else "sum"
        total = _aggregate(d, plan, d.item_ids, kind).cast(pl.Float64)
    if d.scoring.kind == "transformed":
        total = total * d.scoring.multiplier
    first: dict[str, pl.Expr] = {"total": total, "n_missing": _n_missing(d, plan)}
    for s in d.subscales:
        first[f"subscale_{s.id}"] = _aggregate(d, plan, s.items, s.kind).cast(pl.Float64)
    total = pl.col("total")
    then: dict[str, pl.Expr] = {}
    if d.bands:
        # the highest band whose lower edge the total reaches: count the edges reached
        labels = pl.Series([b.label for b in d.bands], dtype=pl.Enum([b.label for b in d.bands]))
        if len(d.bands) == 1:
            then["band"] = pl.when(total.is_not_null()).then(pl.lit(labels[0]))
        else:
            edges = [(total >= b.min).cast(pl.UInt32) for b in d.bands[1:]]
            then["band"] = pl.lit(labels).gather(pl.sum_horizontal(edges))
    else:
        then["band"] = pl.lit(None, dtype=pl.String)
    c = d.caseness_cutoff
    if c is None:
        then["caseness"] = pl.lit(None, dtype=pl.Boolean)
    else:
        then["caseness"] = c.holds(total)
    then["prorated"] = pl.col("n_missing") > 0
    return first, then


_NO_ITEMS = pl.lit([], dtype=pl.List(pl.String))


def _item_list(flags: list[tuple[str, pl.Expr]]) -> pl.Expr:
    """A list column of the item ids whose flag is true, in item order.

    The flags are read as the bits of an index into every possible list (2ⁿ of them for n
    flags), so the column is one gather rather than n list concatenations."""
    if not flags:
        return _NO_ITEMS
    if len(flags) > 6:  # 64 subsets at most; beyond that, concatenate
        lists = [
            pl.when(flag.fill_null(False)).then(pl.lit([item_id])).otherwise(_NO_ITEMS)
            for item_id, flag in flags
        ]
        return pl.concat_list(lists)
    subsets = [
        [item_id for bit, (item_id, _) in enumerate(flags) if code >> bit & 1]
        for code in range(2 ** len(flags))
    ]
    code = pl.sum_horizontal(
        [flag.fill_null(False).cast(pl.UInt32) * (1 << bit) for bit, (_, flag) in enumerate(flags)]
    )
    return pl.lit(pl.Series(subsets, dtype=pl.List(pl.String))).gather(code)


def _risk_expr(d: Definition, plan: _Plan) -> pl.Expr:
    return _item_list([(r.item, plan.value(r.item) >= r.at_least) for r in d.risk])


def _unanswered_risk_expr(d: Definition, plan: _Plan) -> pl.Expr:
    """Risk items left blank or answered unreadably: not a risk answer, but never silent
    either (the score may still be prorated; a clinician should ask the question in person)."""
    return _item_list(
        [
            (r.item, plan.missing(r.item) | plan.invalid(r.item))
            for r in d.risk
            if r.item not in plan.complete
        ]
    )


@cache
def _rules(d: Definition) -> dict[str, str]:
    return _describe_rules(d)


# --------------------------------------------------------------------------------------
# Public entry points.


def _check_columns(d: Definition, frame: pl.DataFrame) -> None:
    problems = [
        f"column {i!r} (item {d.item(i).number}) is missing" for i in d.item_ids if i not in frame
    ]
    ours = {*SCORE_COLUMNS, "error", *(f"subscale_{s.id}" for s in d.subscales)}
    clash = [c for c in frame.columns if c in ours or c.startswith("__cf_")]
    problems += [f"column {c!r} would be overwritten by the score" for c in clash]
    if problems:
        raise ScoringError(f"{d.id}: the frame cannot be scored", problems)


#: What :func:`score_frame` takes: a Polars frame, a Polars lazy frame, or a pandas frame.
FrameLike = Any


def _as_polars(frame: FrameLike) -> pl.DataFrame:
    if isinstance(frame, pl.DataFrame):
        return frame
    if isinstance(frame, pl.LazyFrame):
        return frame.collect()
    if type(frame).__module__.split(".")[0] == "pandas":
        return pl.from_pandas(frame)
    raise ScoringError(f"cannot score a {type(frame).__name__}; give a Polars or pandas frame")


def score_frame(
    instrument: str | Definition | Instrument,
    frame: FrameLike,
    *,
    errors: Literal["raise", "report"] = "raise",
) -> pl.DataFrame:
    """Score every row of ``frame`` (one column per item id, named as in the definition).

    ``frame`` is a Polars frame (or a lazy or pandas frame, converted first). Returns it
    with the columns of :data:`SCORE_COLUMNS` (and ``subscale_<id>``) added. With
    ``errors="raise"`` (the default) any bad row fails the whole call with a
    :class:`ScoringError` that names every bad row (1-based) and every problem in it, and
    lists the refused rows that still raised a risk answer (``risk_rows``). With
    ``errors="report"`` bad rows get an ``error`` message and no score (risk items are still
    evaluated on their valid answers).
    """
    d = get_instrument(instrument).definition
    if errors not in ("raise", "report"):
        raise ValueError("errors must be 'raise' or 'report'")
    frame = _as_polars(frame)
    scored, bad, score_columns = _evaluate(d, frame)
    if bad.height and errors == "raise":
        refused = scored.with_row_index(_ROW, offset=1).filter(~pl.col("__cf_ok"))
        risky = refused.filter(
            (pl.col("risk_items").list.len() > 0) | (pl.col("risk_unanswered").list.len() > 0)
        )
        raise ScoringError(
            f"{d.id}: {bad.height} of {frame.height} row(s) cannot be scored",
            [f"row {r + 1}: {m}" for r, ms in bad.iter_rows() for m in ms],
            risk_rows={
                r: tuple(items) for r, items in risky.select(_ROW, "risk_items").iter_rows()
            },
            risk_unanswered_rows={
                r: tuple(items) for r, items in risky.select(_ROW, "risk_unanswered").iter_rows()
            },
        )
    if errors == "report":
        if bad.height == 0:
            scored = scored.with_columns(pl.lit(None, dtype=pl.String).alias("error"))
        else:
            scored = (
                scored.with_row_index(_ROW)
                .join(bad.with_columns(pl.col("error").list.join("; ")), on=_ROW, how="left")
                .drop(_ROW)
                .with_columns(
                    pl.when(pl.col("__cf_ok")).then(pl.col(c)).otherwise(None).alias(c)
                    for c in score_columns
                )
            )
    return scored.drop("__cf_ok")


def _optimistic_plan(d: Definition, frame: pl.DataFrame) -> _Plan | None:
    """A plan that assumes every present value allowed, when the cheap facts allow it
    (integer columns, integer options; null counts are known without a pass): the range
    check then runs inside the scoring pass itself (see :func:`_evaluate`) instead of in a
    pass of its own."""
    for item_id in d.item_ids:
        column = frame.get_column(item_id)
        if not column.dtype.is_integer() or not _contiguous(d.allowed_values(item_id)):
            return None
    complete = frozenset(i for i in d.item_ids if not frame.get_column(i).null_count())
    dtypes = tuple(frame.schema[i] for i in d.item_ids)
    return _cached_optimistic_plan(d, dtypes, complete)


@lru_cache(maxsize=512)
def _cached_optimistic_plan(
    d: Definition, dtypes: tuple[pl.DataType, ...], complete: frozenset[str]
) -> _Plan:
    # The plan depends only on the item dtypes and which items are complete, so a form's
    # one-row frames (always the same few shapes) reuse it, and its compiled expressions.
    checked = {i: _checked_value(t, pl.col(i)) for i, t in zip(d.item_ids, dtypes, strict=True)}
    return _Plan(d, checked, complete, {}, {})


def _in_range(d: Definition) -> pl.Expr:
    """One boolean for the whole frame: every item's smallest and largest value allowed."""
    return pl.all_horizontal(
        [
            # an item with no value at all has no min: nothing out of range
            (
                (pl.col(i).min() >= min(d.allowed_values(i)))
                & (pl.col(i).max() <= max(d.allowed_values(i)))
            ).fill_null(True)
            for i in d.item_ids
        ]
    )


def _evaluate(
    d: Definition, frame: pl.DataFrame, *, missing_items: bool = False
) -> tuple[pl.DataFrame, pl.DataFrame, list[str]]:
    """Score every row; return the scored frame (with an ``__cf_ok`` flag, and with
    ``missing_items`` a list column of the missing items), the problems of the bad rows
    (row index → list of messages) and the names of the score columns."""
    _check_columns(d, frame)
    optimistic = _optimistic_plan(d, frame) if frame.height else None
    if optimistic is not None:
        scored, bad, columns = _run(d, frame, optimistic, missing_items, proven=True)
        if scored.get_column("__cf_proven")[0]:
            return scored.drop("__cf_proven"), bad, columns
    return _run(d, frame, _item_plan(d, frame), missing_items, proven=False)


@dataclass(frozen=True)
class _Compiled:
    """A plan compiled into the three steps of one evaluation."""

    stage: dict[str, pl.Expr]
    first: dict[str, pl.Expr]
    then: dict[str, pl.Expr]
    extra: tuple[str, ...]
    columns: list[str]


def _compile(d: Definition, plan: _Plan, missing_items: bool, proven: bool) -> _Compiled:
    first, then = _score_exprs(d, plan)
    ok = pl.lit(True)
    if len(plan.complete) < len(d.items):
        unchecked = [plan.invalid(i) for i in d.item_ids if i not in plan.checked]
        ok = (pl.col("n_missing") <= d.missing.max_missing) & pl.col("total").is_not_null()
        if unchecked:
            ok = ok & ~pl.any_horizontal(unchecked)
    extra = {}
    if missing_items:
        extra["missing_items"] = _item_list([(i, plan.missing(i)) for i in d.item_ids])
    if proven:
        extra["__cf_proven"] = _in_range(d)
    columns = [*first, *then]
    first = {
        "risk_items": _risk_expr(d, plan),
        "risk_unanswered": _unanswered_risk_expr(d, plan),
        **first,
        **extra,
    }
    then = {"__cf_ok": ok, **then, "definition_version": pl.lit(d.version)}
    return _Compiled(plan.stage, first, then, tuple(extra), columns)


@lru_cache(maxsize=512)
def _compiled_optimistic(d: Definition, plan: _Plan, missing_items: bool) -> _Compiled:
    return _compile(d, plan, missing_items, proven=True)


def _run(
    d: Definition, frame: pl.DataFrame, plan: _Plan, missing_items: bool, *, proven: bool
) -> tuple[pl.DataFrame, pl.DataFrame, list[str]]:
    """Run ``plan``; ``proven``: the plan assumes every present value allowed (an optimistic
    plan) and the frame gets a ``__cf_proven`` flag saying whether that held."""
    c = (
        _compiled_optimistic(d, plan, missing_items)
        if proven
        else _compile(d, plan, missing_items, proven=False)
    )
    scored = frame.with_columns(**c.stage).with_columns(**c.first).with_columns(**c.then)
    if proven and not scored.get_column("__cf_proven")[0]:
        return scored, scored.clear(), []  # the assumption failed: the caller starts again
    bad = _problems(d, plan, scored)
    subscales = [f"subscale_{x.id}" for x in d.subscales]
    order = [*frame.columns, "total", *subscales, *SCORE_COLUMNS[1:], *c.extra, "__cf_ok"]
    return scored.select(order), bad, list(c.columns)


def _problems(d: Definition, plan: _Plan, scored: pl.DataFrame) -> pl.DataFrame:
    """The problems of each bad row, as a list of messages (computed on bad rows alone:
    they are rare, and messages are costly)."""
    if scored.get_column("__cf_ok").all():
        return pl.DataFrame(schema={_ROW: pl.UInt32, "error": pl.List(pl.String)})
    required = _required(d)
    sub = scored.with_row_index(_ROW).filter(~pl.col("__cf_ok"))
    missing = [pl.when(plan.missing(i)).then(pl.lit(str(d.item(i).number))) for i in required]
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
    undefined = pl.lit(["the answers leave the score undefined (a subscale has no answer)"])
    messages = pl.when(messages.list.len() > 0).then(messages).otherwise(undefined)
    return sub.select(pl.col(_ROW), messages.alias("error"))


def _answer_series(item_id: str, v: object) -> pl.Series:
    # Whole numbers and blanks as Int64: a one-row frame of integers takes the optimistic
    # path of :func:`_evaluate` (one pass, range proven in it) — the common case of a form.
    if v is None or (isinstance(v, int) and not isinstance(v, bool) and -(2**63) <= v < 2**63):
        return pl.Series(item_id, [v], dtype=pl.Int64)
    if isinstance(v, Real | Decimal) and not isinstance(v, bool):
        return pl.Series(item_id, [float(v)], dtype=pl.Float64)
    if isinstance(v, str):
        return pl.Series(item_id, [v], dtype=pl.String)
    return pl.Series(item_id, [repr(v)], dtype=pl.String)  # never an answer: named as such


def _one_row(d: Definition, answers: Answers) -> tuple[pl.DataFrame, list[str]]:
    """One administration as a one-row frame, and the problems no frame can hold."""
    problems: list[str] = []
    if hasattr(answers, "tolist") and not isinstance(answers, Mapping):  # numpy, pandas
        answers = answers.tolist()
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
        values.update(dict.fromkeys(d.item_ids[len(answers) :]))
    frame = pl.DataFrame([_answer_series(i, v) for i, v in values.items()])
    return frame, problems


def score(instrument: str | Definition | Instrument, answers: Answers) -> Score:
    """Score one administration of ``instrument``.

    ``answers`` is a sequence in item order or a mapping item id → value; ``None`` (or an
    empty string) means missing. Raises :class:`ScoringError` naming every problem; nothing
    is partly scored, but risk answers among the valid answers are still reported on the
    error (``risk_items``, ``risk_unanswered``).
    """
    d = get_instrument(instrument).definition
    frame, problems = _one_row(d, answers)
    scored, bad, _ = _evaluate(d, frame, missing_items=True)
    row = scored.row(0, named=True)
    if problems or bad.height:
        raise ScoringError(
            f"{d.id}: the answers cannot be scored",
            problems + (bad.get_column("error")[0].to_list() if bad.height else []),
            risk_rows={1: tuple(row["risk_items"])} if row["risk_items"] else {},
            risk_unanswered_rows={1: tuple(row["risk_unanswered"])}
            if row["risk_unanswered"]
            else {},
        )
    return Score(
        instrument=d.id,
        total=float(row["total"]),
        subscales={
            s.id: (None if row[f"subscale_{s.id}"] is None else float(row[f"subscale_{s.id}"]))
            for s in d.subscales
        },
        band=None if row["band"] is None else str(row["band"]),
        caseness=row["caseness"],
        risk_items=tuple(row["risk_items"]),
        risk_unanswered=tuple(row["risk_unanswered"]),
        prorated=bool(row["prorated"]),
        missing_items=tuple(row["missing_items"]),
        definition_version=d.version,
        rules=_rules(d),
    )
