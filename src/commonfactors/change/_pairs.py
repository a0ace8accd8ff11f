"""From long data (one row per client and measurement) to the measurements a method needs,
naming every problem in the data at once.

The work is done by Polars on whole columns (filters, a join, a group-by), never by a loop
over clients, so a registry of a million episodes costs a few seconds.
"""

from __future__ import annotations

from typing import Literal

import polars as pl

from commonfactors.change._common import listed

__all__ = ["Incomplete", "column_problems", "measurements", "pairs"]

Incomplete = Literal["raise", "drop"]

ID, T, Y = "id", "__cf_time", "__cf_y"


def _none(frame: pl.DataFrame, id: str) -> pl.DataFrame:
    """No clients: the empty ``id, pre, post`` frame."""
    return pl.DataFrame(schema={ID: frame.schema[id], "pre": pl.Float64, "post": pl.Float64})


def column_problems(frame: pl.DataFrame, id: str, time: str, outcome: str) -> list[str]:
    """Missing columns, a non-numeric outcome, missing ids."""
    problems = [
        f"column {name!r} (the {role}) is not in the data; columns are: "
        + ", ".join(map(repr, frame.columns))
        for role, name in (("id", id), ("time", time), ("outcome", outcome))
        if name not in frame.columns
    ]
    if problems:
        return problems
    if not frame.schema[outcome].is_numeric():
        problems.append(
            f"the outcome column {outcome!r} must be numeric, not {frame.schema[outcome]}"
        )
    if (n := frame.get_column(id).null_count()) > 0:
        problems.append(f"the id column {id!r} has {n} missing value(s)")
    if (n := frame.get_column(time).null_count()) > 0:
        problems.append(f"the time column {time!r} has {n} missing value(s)")
    return problems


def _select(frame: pl.DataFrame, id: str, time: str, outcome: str) -> pl.DataFrame:
    """id, time and outcome under fixed names; rows without an outcome value are dropped
    (a measurement that was not made)."""
    return frame.select(
        pl.col(id).alias(ID), pl.col(time).alias(T), pl.col(outcome).cast(pl.Float64).alias(Y)
    ).filter(pl.col(Y).is_not_null() & pl.col(Y).is_not_nan())


def _duplicates(rows: pl.DataFrame, time: str) -> list[str]:
    dup = rows.group_by(ID, T).len().filter(pl.col("len") > 1)
    if dup.height == 0:
        return []
    ids = dup.get_column(ID).unique(maintain_order=True).to_list()
    return [f"{len(ids)} client(s) have more than one row at the same {time!r}: {listed(ids)}"]


def _dropped_or_problem(
    ids: list[object], what: str, incomplete: Incomplete, problems: list[str]
) -> None:
    if ids and incomplete == "raise":
        problems.append(
            f"{len(ids)} client(s) {what}: {listed(ids)} (pass incomplete='drop' to leave them out)"
        )


def pairs(
    frame: pl.DataFrame,
    *,
    id: str,
    time: str,
    outcome: str,
    pre: object,
    post: object,
    incomplete: Incomplete,
) -> tuple[pl.DataFrame, list[str]]:
    """One row per client: ``id, pre, post`` (the outcome at the two times), in the order
    the clients first appear at ``pre``; and the problems found."""
    problems: list[str] = []
    rows = _select(frame, id, time, outcome)
    try:
        rows = rows.filter(pl.col(T).is_in([pre, post]))
    except pl.exceptions.PolarsError:
        return _none(frame, id), [
            f"pre ({pre!r}) and post ({post!r}) must be values of the time column {time!r} "
            f"({frame.schema[time]})"
        ]
    for name, value in (("pre", pre), ("post", post)):
        if rows.filter(pl.col(T) == value).height == 0:
            problems.append(f"no measurement has {time} == {value!r} (the {name} value)")
    problems += _duplicates(rows, time)
    wide = (
        rows.filter(pl.col(T) == pre)
        .select(ID, pl.col(Y).alias("pre"))
        .join(
            rows.filter(pl.col(T) == post).select(ID, pl.col(Y).alias("post")),
            on=ID,
            how="full",
            coalesce=True,
            maintain_order="left_right",
        )
    )
    complete = pl.col("pre").is_not_null() & pl.col("post").is_not_null()
    lacking = wide.filter(~complete).get_column(ID).to_list()
    _dropped_or_problem(
        lacking, f"lack a {time} == {pre!r} or {time} == {post!r} measurement", incomplete, problems
    )
    return wide.filter(complete), problems


def measurements(
    frame: pl.DataFrame,
    *,
    id: str,
    time: str,
    outcome: str,
    pre: object,
    post: object,
    incomplete: Incomplete,
    at_least: int = 3,
) -> tuple[pl.DataFrame, pl.DataFrame, list[str]]:
    """For the multilevel method: every measurement with ``pre <= time <= post`` (rows
    ``id, time, y`` with a numeric time), and one row per client ``id, pre, post``.
    Each client needs a measurement at ``pre``, one at ``post`` and ``at_least`` in all."""
    problems: list[str] = []
    if not frame.schema[time].is_numeric():
        kind = frame.schema[time]
        return (
            frame.clear(),
            _none(frame, id),
            [f"the multilevel method needs a numeric time column; {time!r} is {kind}"],
        )
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (pre, post)):
        return frame.clear(), _none(frame, id), ["pre and post must be numbers for method 'hlm'"]
    first, last = float(pre), float(post)  # type: ignore[arg-type]  # numbers, checked above
    if not first < last:
        problems.append(f"pre ({pre}) must come before post ({post})")
    rows = _select(frame, id, time, outcome).with_columns(pl.col(T).cast(pl.Float64))
    rows = rows.filter(pl.col(T).is_between(first, last))
    problems += _duplicates(rows, time)
    per = rows.group_by(ID, maintain_order=True).agg(
        pl.col(Y).filter(pl.col(T) == first).first().alias("pre"),
        pl.col(Y).filter(pl.col(T) == last).first().alias("post"),
        pl.len().alias("n_measurements"),
    )
    ok = (
        pl.col("pre").is_not_null()
        & pl.col("post").is_not_null()
        & (pl.col("n_measurements") >= at_least)
    )
    bad = per.filter(~ok).get_column(ID).to_list()
    _dropped_or_problem(
        bad,
        f"lack a measurement at {time} == {pre} or at {time} == {post}, or have fewer "
        f"than {at_least} measurements between them",
        incomplete,
        problems,
    )
    per = per.filter(ok)
    return rows.join(per.select(ID), on=ID, how="semi"), per, problems
