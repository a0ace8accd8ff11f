"""NHS Talking Therapies (formerly IAPT) paired outcomes of an episode of care.

The thresholds are read from the instrument definitions, never written here: caseness is
each definition's caseness cut-off (PHQ-9 total >= 10, GAD-7 total >= 8) and reliable
change its published threshold (6 and 4 points, inclusive). The definitions, as published
by NHS England / NHS Digital (OHID Fingertips glossary; NHS Digital monthly reports):

* **counted**: only an episode that *finished a course of treatment*: ended, with at least
  two attended treatment sessions, and with first and last scores on both measures.
* **case at first / last**: a case on the depression measure, the anxiety measure or both.
* **recovery**: a case at the first measurement and not a case on either measure at the
  last. Only cases at the first measurement are eligible: for the others ``recovery`` is
  null, so the mean of the column is the published recovery rate.
* **reliable improvement**: reliable improvement on at least one measure and reliable
  deterioration on neither. **Reliable deterioration**: reliable deterioration on at
  least one measure and reliable improvement on neither. UNVERIFIED: the NHS Talking
  Therapies Manual could not be retrieved; secondary sources confirm the thresholds and
  the improvement on either measure, and this reading of a mixed episode (one measure
  reliably better, the other reliably worse: neither improved nor deteriorated) is the
  one most often quoted from the manual. Check it against the current manual.
* **reliable recovery**: recovered and reliably improved (Gyani et al. 2013).

Paired scores are the first and last available (the caller chooses them). Anxiety disorder
specific measures (ADSMs), which replace the GAD-7 for some problems, are not handled yet.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import polars as pl

from commonfactors.change._common import CHANGE_DTYPE, ChangeError, as_polars, fmt, holds, listed
from commonfactors.change._instrument import (
    change_columns,
    reliable_flags,
    rule_of,
    score_problems,
    threshold_of,
)
from commonfactors.instruments.registry import get_instrument
from commonfactors.instruments.schema import Definition

__all__ = ["MIN_ATTENDED", "NHSTT_COLUMNS", "NhsttOutcome", "nhstt_outcome", "nhstt_outcomes"]

#: Attended treatment sessions needed for a finished course of treatment.
MIN_ATTENDED = 2

#: The columns :func:`nhstt_outcomes` adds.
NHSTT_COLUMNS = (
    "counted",
    "reason",
    "case_first",
    "case_last",
    "phq9_change",
    "gad7_change",
    "phq9_reliable",
    "gad7_reliable",
    "reliable_improvement",
    "reliable_deterioration",
    "recovery",
    "reliable_recovery",
)


@dataclass(frozen=True)
class NhsttOutcome:
    """The NHS Talking Therapies outcome of one episode. Outcome fields are None when the
    episode is not counted (``reason`` says why); ``recovery`` and ``reliable_recovery``
    are None also when the episode was not a case at the first measurement."""

    counted: bool
    reason: str | None
    case_first: bool | None
    case_last: bool | None
    phq9_change: float | None
    gad7_change: float | None
    phq9_reliable: str | None
    gad7_reliable: str | None
    reliable_improvement: bool | None
    reliable_deterioration: bool | None
    recovery: bool | None
    reliable_recovery: bool | None
    rules: Mapping[str, str] = field(default_factory=dict)


def _measures() -> tuple[Definition, Definition]:
    dep = get_instrument("phq9").definition
    anx = get_instrument("gad7").definition
    for d in (dep, anx):
        threshold_of(d)
        if d.caseness_cutoff is None:
            raise ChangeError(f"{d.id} defines no caseness cut-off")
    return dep, anx


def _rules(dep: Definition, anx: Definition) -> dict[str, str]:
    dc, ac = dep.caseness_cutoff, anx.caseness_cutoff
    case = " or ".join(
        f"{d.short_name} total {c.op} {fmt(c.value)}"
        for d, c in ((dep, dc), (anx, ac))
        if c is not None
    )
    return {
        "counted": f"finished a course of treatment with at least {MIN_ATTENDED} attended "
        "treatment sessions, and first and last scores on both measures "
        "(OHID Fingertips glossary: finished course of treatment)",
        "caseness": f"a case when {case} (OHID Fingertips glossary: caseness)",
        "phq9_reliable": rule_of(dep)[0],
        "gad7_reliable": rule_of(anx)[0],
        "reliable_improvement": "reliable improvement on at least one measure and reliable "
        "deterioration on neither (UNVERIFIED reading of the NHS Talking Therapies Manual)",
        "reliable_deterioration": "reliable deterioration on at least one measure and "
        "reliable improvement on neither (UNVERIFIED reading of the manual)",
        "recovery": "a case at the first measurement and not a case at the last; only cases "
        "at the first measurement are eligible (NHS Digital, recovery)",
        "reliable_recovery": "recovered and reliably improved (Gyani et al. 2013)",
    }


def _outcome_columns(dep: Definition, anx: Definition, c: Mapping[str, str]) -> list[pl.Expr]:
    d1, d2 = pl.col(c["phq9_first"]).cast(pl.Float64), pl.col(c["phq9_last"]).cast(pl.Float64)
    a1, a2 = pl.col(c["gad7_first"]).cast(pl.Float64), pl.col(c["gad7_last"]).cast(pl.Float64)
    dc, ac = dep.caseness_cutoff, anx.caseness_cutoff
    if dc is None or ac is None:  # checked by _measures
        raise ChangeError("PHQ-9 and GAD-7 need caseness cut-offs")
    scored = d1.is_not_null() & d2.is_not_null() & a1.is_not_null() & a2.is_not_null()
    finished, attended = pl.col(c["finished"]), pl.col(c["attended"])
    counted = finished & (attended >= MIN_ATTENDED) & scored
    reason = (
        pl.when(~finished)
        .then(pl.lit("not finished"))
        .when(attended < MIN_ATTENDED)
        .then(pl.lit(f"fewer than {MIN_ATTENDED} attended treatment sessions"))
        .when(~scored)
        .then(pl.lit("no first and last scores on both PHQ-9 and GAD-7"))
    )
    dep_better, dep_worse = reliable_flags(dep, d1, d2)
    anx_better, anx_worse = reliable_flags(anx, a1, a2)
    case_first = holds(dc, d1) | holds(ac, a1)
    case_last = holds(dc, d2) | holds(ac, a2)
    improved = (dep_better | anx_better) & ~(dep_worse | anx_worse)
    deteriorated = (dep_worse | anx_worse) & ~(dep_better | anx_better)
    eligible = counted & case_first

    def when_counted(expr: pl.Expr) -> pl.Expr:
        return pl.when(counted).then(expr)

    return [
        counted.alias("counted"),
        reason.alias("reason"),
        when_counted(case_first).alias("case_first"),
        when_counted(case_last).alias("case_last"),
        when_counted(d2 - d1).alias("phq9_change"),
        when_counted(a2 - a1).alias("gad7_change"),
        when_counted(change_columns(dep, d1, d2)["category"])
        .cast(CHANGE_DTYPE)
        .alias("phq9_reliable"),
        when_counted(change_columns(anx, a1, a2)["category"])
        .cast(CHANGE_DTYPE)
        .alias("gad7_reliable"),
        when_counted(improved).alias("reliable_improvement"),
        when_counted(deteriorated).alias("reliable_deterioration"),
        pl.when(eligible).then(~case_last).alias("recovery"),
        pl.when(eligible).then(~case_last & improved).alias("reliable_recovery"),
    ]


def _frame_problems(frame: pl.DataFrame, c: Mapping[str, str]) -> list[str]:
    dep, anx = _measures()
    problems = score_problems(dep, frame, {k: c[k] for k in ("phq9_first", "phq9_last")})
    problems += score_problems(anx, frame, {k: c[k] for k in ("gad7_first", "gad7_last")})
    for role in ("finished", "attended"):
        name = c[role]
        if name not in frame.columns:
            problems.append(f"column {name!r} ({role}) is not in the frame")
            continue
        col = frame.get_column(name)
        if role == "finished" and col.dtype != pl.Boolean:
            problems.append(f"column {name!r} (finished) must be boolean, not {col.dtype}")
        elif role == "attended" and not col.dtype.is_integer():
            problems.append(f"column {name!r} (attended) must hold whole numbers, not {col.dtype}")
        elif col.null_count():
            rows = (
                frame.with_row_index("__cf_row", offset=1)
                .filter(pl.col(name).is_null())
                .get_column("__cf_row")
                .to_list()
            )
            problems.append(f"column {name!r} ({role}) is missing in row(s) {listed(rows)}")
        elif role == "attended" and (n := int((col < 0).sum())):
            problems.append(f"column {name!r} (attended) has {n} negative count(s)")
    return problems


def nhstt_outcomes(
    frame: object,
    *,
    phq9_first: str = "phq9_first",
    phq9_last: str = "phq9_last",
    gad7_first: str = "gad7_first",
    gad7_last: str = "gad7_last",
    finished: str = "finished",
    attended: str = "attended",
) -> pl.DataFrame:
    """NHS Talking Therapies outcomes of every episode in ``frame`` (Polars or pandas; one
    row per episode with first and last PHQ-9 and GAD-7 totals, a boolean ``finished``
    and the count of ``attended`` treatment sessions; missing scores are allowed and make
    an episode not counted).

    Returns the frame with the columns of :data:`NHSTT_COLUMNS` added. The mean of
    ``recovery``, ``reliable_recovery``, ``reliable_improvement`` or
    ``reliable_deterioration`` (nulls skipped) is the published rate of that outcome.
    Raises :class:`ChangeError` naming every problem (missing columns, scores out of
    range, bad flags or counts).
    """
    data = as_polars(frame)
    cols = {
        "phq9_first": phq9_first,
        "phq9_last": phq9_last,
        "gad7_first": gad7_first,
        "gad7_last": gad7_last,
        "finished": finished,
        "attended": attended,
    }
    problems = _frame_problems(data, cols)
    if problems:
        raise ChangeError("NHS Talking Therapies outcomes cannot be computed", problems)
    dep, anx = _measures()
    return data.with_columns(_outcome_columns(dep, anx, cols))


def nhstt_outcome(
    phq9_first: float | None,
    phq9_last: float | None,
    gad7_first: float | None,
    gad7_last: float | None,
    *,
    finished: bool = True,
    attended: int = MIN_ATTENDED,
) -> NhsttOutcome:
    """The NHS Talking Therapies outcome of one episode: first and last PHQ-9 and GAD-7
    totals, whether the course of treatment finished, and how many treatment sessions were
    attended. The same rules as :func:`nhstt_outcomes` (see the module docstring)."""
    problems = []
    if not isinstance(finished, bool):
        problems.append(f"finished must be True or False, not {finished!r}")
    if isinstance(attended, bool) or not isinstance(attended, int) or attended < 0:
        problems.append(f"attended must be a whole number of sessions >= 0, not {attended!r}")
    scores: dict[str, float | None] = {}
    for name, value in (
        ("phq9_first", phq9_first),
        ("phq9_last", phq9_last),
        ("gad7_first", gad7_first),
        ("gad7_last", gad7_last),
    ):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            problems.append(f"{name} must be a number or None, not {value!r}")
            value = None
        scores[name] = value
    one = pl.DataFrame(
        {
            **{k: pl.Series(k, [v], dtype=pl.Float64) for k, v in scores.items()},
            "finished": [finished is True],
            "attended": pl.Series("attended", [attended if not problems else 0], dtype=pl.Int64),
        }
    )
    cols = {k: k for k in (*scores, "finished", "attended")}
    problems += [p.replace(" in row(s) 1", "") for p in _frame_problems(one, cols)]
    if problems:
        raise ChangeError("the NHS Talking Therapies outcome cannot be computed", problems)
    row = one.with_columns(_outcome_columns(*_measures(), cols)).row(0, named=True)
    dep, anx = _measures()
    return NhsttOutcome(
        **{name: row[name] for name in NHSTT_COLUMNS},
        rules=_rules(dep, anx),
    )
