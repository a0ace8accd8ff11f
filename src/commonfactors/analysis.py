"""Whole-registry analysis: every episode's change, outcome and signals, and a summary.

:func:`analyze` takes long-format data (one row per episode and session, with a total score
or the item answers) and returns one row per episode — first and last score, change, reliable
change index, change category, recovery, the NHS Talking Therapies outcome where PHQ-9 and
GAD-7 are both present, the first not-on-track signal and alliance ruptures — and a summary
of counts and rates with 95 % Wilson intervals. Every rule comes from the module that owns
it: scoring (:mod:`commonfactors.scoring`), change (:mod:`commonfactors.change`) and signals
(:mod:`commonfactors.trajectories`); this module only joins them up over a registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from commonfactors.change import nhstt_outcomes, reliable_change_frame
from commonfactors.errors import CommonFactorsError
from commonfactors.instruments.registry import Instrument, get_instrument
from commonfactors.instruments.schema import Z_975, Definition
from commonfactors.scoring import score_frame
from commonfactors.trajectories import (
    DEFAULT_MODELS,
    alliance_frame,
    alliance_rule,
    default_model,
    pooled_within_sd,
    signal_frame,
    signal_summary,
)

__all__ = ["Analysis", "analyze", "read_table", "wilson_interval"]

#: Called with the name of each stage as the analysis reaches it (for a progress display).
StageCallback = Callable[[str], None]

_MAX_LISTED = 20
_ROW = "__analysis_row"


class AnalysisError(CommonFactorsError, ValueError):
    """Data that cannot be analysed; ``problems`` names every problem with its rows."""


def wilson_interval(
    count: npt.ArrayLike, n: npt.ArrayLike, z: float = Z_975
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The Wilson score interval of a proportion count/n (Wilson 1927; Newcombe 1998,
    method 3): well behaved near 0 and 1 and for small n. NaN where n is 0."""
    k = np.asarray(count, dtype=np.float64)
    m = np.asarray(n, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / m
        denom = 1 + z**2 / m
        centre = (p + z**2 / (2 * m)) / denom
        half = z * np.sqrt(p * (1 - p) / m + z**2 / (4 * m**2)) / denom
    return centre - half, centre + half


@dataclass(frozen=True)
class Analysis:
    """The result of :func:`analyze`: one row per episode, and the summary rates."""

    instrument: str
    episodes: pl.DataFrame
    summary: pl.DataFrame
    reference: str | None = None  # the label of the model behind the signals


def read_table(path: str | Path) -> pl.DataFrame:
    """Read CSV or Parquet (by extension); :class:`CommonFactorsError` if unreadable."""
    path = Path(path)
    if not path.exists():
        raise AnalysisError(f"{path}: no such file")
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            return pl.read_parquet(path)
        return pl.read_csv(path, infer_schema_length=10_000)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise AnalysisError(f"{path}: cannot be read: {exc}") from exc


def _listed(rows: list[int]) -> str:
    shown = ", ".join(str(r) for r in rows[:_MAX_LISTED])
    return shown + (f" and {len(rows) - _MAX_LISTED} more" if len(rows) > _MAX_LISTED else "")


def _rows_where(frame: pl.DataFrame, condition: pl.Expr) -> list[int]:
    return frame.filter(condition).get_column(_ROW).to_list()


def _check(frame: pl.DataFrame, episode: str, session: str, flags: list[str]) -> None:
    """Every structural problem at once, with 1-based row numbers."""
    problems = [f"column {c!r} is missing" for c in (episode, session) if c not in frame.columns]
    if problems:
        raise AnalysisError("the data cannot be analysed", problems)
    s = pl.col(session).cast(pl.Int64, strict=False)
    checks = [
        (pl.col(episode).is_null(), f"no {episode}"),
        (s.is_null() | (s < 1), f"{session} is not a session number from 1"),
        (pl.struct(episode, session).is_duplicated(), f"the same {episode} and {session} twice"),
    ]
    for flag in flags:
        if flag in frame.columns and frame.schema[flag] != pl.Boolean:
            problems.append(f"column {flag!r} must be true/false, not {frame.schema[flag]}")
    for condition, what in checks:
        rows = _rows_where(frame, condition)
        if rows:
            problems.append(f"{what} in row(s) {_listed(rows)}")
    if problems:
        raise AnalysisError("the data cannot be analysed", problems)


def _totals(d: Definition, frame: pl.DataFrame, score: str | None, attended: str) -> pl.DataFrame:
    """``(row, total)`` of every administration of ``d``: a score column (``score``,
    ``<id>_total``, ``total``) or the items scored by :func:`score_frame`. Rows not attended
    or with nothing answered are no administration."""
    present = pl.col(attended) if attended in frame.columns else pl.lit(True)
    candidates = [score] if score else [f"{d.id}_total", "total", "score"]
    name = next((c for c in candidates if c in frame.columns), None)
    if name is not None:
        totals = frame.select(
            _ROW,
            present.alias("__cf_present"),
            pl.col(name).cast(pl.Float64, strict=False).alias("total"),
        )
        lo, hi = d.score_range
        bad = _rows_where(
            frame.with_columns(__cf_t=totals.get_column("total")),
            pl.col(name).is_not_null() & ~pl.col("__cf_t").is_between(lo, hi),
        )
        if bad:
            raise AnalysisError(
                f"{d.id}: scores that are not {d.short_name} totals ({lo:g}–{hi:g})",
                [f"column {name!r}, row(s) {_listed(bad)}"],
            )
        return totals.filter(pl.col("__cf_present") & pl.col("total").is_not_null()).drop(
            "__cf_present"
        )
    if not all(i in frame.columns for i in d.item_ids):
        raise AnalysisError(
            f"no {d.short_name} score: give a column {candidates[0]!r} "
            f"or the item columns {d.item_ids[0]} … {d.item_ids[-1]}"
        )
    answered = frame.filter(present & pl.any_horizontal(pl.col(d.item_ids).is_not_null()))
    scored = score_frame(d, answered.select(_ROW, *d.item_ids), errors="report")
    refused = scored.filter(pl.col("error").is_not_null())
    if refused.height:
        raise AnalysisError(
            f"{d.id}: {refused.height} administration(s) cannot be scored",
            [f"row {r}: {e}" for r, e in refused.select(_ROW, "error").head(200).iter_rows()],
        )
    return scored.select(_ROW, "total")


def _per_episode(
    frame: pl.DataFrame, totals: pl.DataFrame, episode: str, session: str, prefix: str
) -> pl.DataFrame:
    """First and last score of each episode, with their session numbers."""
    s = pl.col(session).cast(pl.Int64)
    return (
        frame.select(_ROW, episode, s.alias(session))
        .join(totals, on=_ROW)
        .sort(episode, session)
        .group_by(episode, maintain_order=True)
        .agg(
            pl.col(session).first().alias(f"{prefix}first_session"),
            pl.col(session).last().alias(f"{prefix}last_session"),
            pl.len().alias(f"{prefix}n_scores"),
            pl.col("total").first().alias(f"{prefix}first"),
            pl.col("total").last().alias(f"{prefix}last"),
        )
    )


def _summary(episodes: pl.DataFrame, d: Definition, has_nhstt: bool) -> pl.DataFrame:
    """Counts and rates with 95 % Wilson intervals. A rate's denominator is the episodes for
    which its flag is defined (not null), named in ``among``."""
    cat = pl.col("category")
    two = "episodes with two scores"
    specs = [
        ("reliable improvement", cat.is_in(["improved", "recovered"]), two),
        ("reliable deterioration", cat == "deteriorated", two),
        (
            "recovery",
            pl.when(pl.col("case_pre")).then(pl.col("recovered")),
            f"episodes that were cases at the first {d.short_name}",
        ),
    ]
    if "signal_worst" in episodes.columns:
        judged = "episodes with a signal judged (two scores)"
        worst = pl.col("signal_worst")
        specs += [
            ("not on track (yellow or red) at any session", worst.is_in(["yellow", "red"]), judged),
            ("at risk (red) at any session", worst == "red", judged),
        ]
    if "alliance_ruptures" in episodes.columns:
        specs.append(
            ("alliance rupture", pl.col("alliance_ruptures") > 0, "episodes with alliance scores")
        )
    if has_nhstt:
        counted = "NHS TT: finished episodes with >= 2 attended sessions"
        specs += [
            (f"NHS TT {m.replace('_', ' ')}", pl.col(f"nhstt_{m}"), counted)
            for m in (
                "recovery",
                "reliable_recovery",
                "reliable_improvement",
                "reliable_deterioration",
            )
        ]
    rows = []
    for name, flag, among in specs:
        count, n = episodes.select(
            flag.fill_null(False).sum().alias("count"), flag.is_not_null().sum().alias("n")
        ).row(0)
        rows.append((name, among, int(count), int(n)))
    table = pl.DataFrame(
        rows,
        schema={"measure": pl.String, "among": pl.String, "count": pl.Int64, "n": pl.Int64},
        orient="row",
    )
    low, high = wilson_interval(table.get_column("count"), table.get_column("n"))
    return table.with_columns(
        rate=pl.col("count") / pl.col("n"), ci_low=pl.Series(low), ci_high=pl.Series(high)
    )


def _stage(on_stage: StageCallback | None, name: str) -> None:
    if on_stage is not None:
        on_stage(name)


def analyze(
    data: Any,
    *,
    instrument: str | Definition | Instrument = "phq9",
    episode: str = "episode_id",
    session: str = "session",
    score: str | None = None,
    attended: str = "attended",
    finished: str = "finished",
    alliance: str = "alliance",
    model: Any = None,
    on_stage: StageCallback | None = None,
) -> Analysis:
    """Analyse a registry in long format (Polars or pandas; one row per episode and session).

    The score of ``instrument`` is read from ``score`` (default ``<id>_total``, ``total`` or
    ``score``) or scored from its item columns. Optional columns: ``attended`` (rows not
    attended are no administration), ``finished`` (per episode; needed for NHS Talking
    Therapies outcomes, which are added when the data hold PHQ-9 and GAD-7) and
    ``alliance`` (session alliance scores: ruptures by the within-client rule). Signals use
    ``model`` (an expected-treatment-response model; default: the shipped model of the
    instrument, fitted on synthetic data and labelled so in ``Analysis.reference``). Raises
    :class:`AnalysisError` naming every problem with its rows; nothing is partly analysed.
    """
    d = get_instrument(instrument).definition
    frame = data if isinstance(data, pl.DataFrame) else pl.from_pandas(data)
    frame = frame.with_row_index(_ROW, offset=1)
    _stage(on_stage, "checking")
    _check(frame, episode, session, [attended, finished])
    _stage(on_stage, "scoring")
    totals = _totals(d, frame, score, attended)
    episodes = _per_episode(frame, totals, episode, session, "")
    _stage(on_stage, "change")
    episodes = episodes.rename({"first": "pre", "last": "post"}).with_columns(
        post=pl.when(pl.col("n_scores") >= 2).then(pl.col("post"))  # one score: no change yet
    )
    episodes = reliable_change_frame(d, episodes)
    threshold = d.reliable_change.value if d.reliable_change else None
    episodes = episodes.with_columns(
        rci=(pl.col("change") / (threshold / Z_975)) if threshold else pl.lit(None, pl.Float64)
    )
    visits = frame.group_by(episode).agg(
        pl.len().alias("n_sessions"),
        (pl.col(attended).sum() if attended in frame.columns else pl.len()).alias("n_attended"),
        *([pl.col(finished).last().alias("finished")] if finished in frame.columns else []),
    )
    episodes = episodes.join(visits, on=episode, how="left")
    has_nhstt = d.id in ("phq9", "gad7") and "finished" in episodes.columns
    if has_nhstt:
        episodes = _with_nhstt(d, frame, episodes, episode, session, attended)
        has_nhstt = "nhstt_counted" in episodes.columns
    _stage(on_stage, "signals")
    if model is None and d.id in DEFAULT_MODELS:
        model = default_model(d.id)
    if model is not None:
        episodes = _with_signals(frame, totals, episodes, episode, session, model)
    if alliance in frame.columns:
        episodes = _with_ruptures(frame, episodes, episode, session, alliance, attended)
    _stage(on_stage, "summary")
    summary = _summary(episodes, d, has_nhstt)
    return Analysis(d.id, episodes, summary, None if model is None else model.label)


def _with_signals(
    frame: pl.DataFrame,
    totals: pl.DataFrame,
    episodes: pl.DataFrame,
    episode: str,
    session: str,
    model: Any,
) -> pl.DataFrame:
    """First not-on-track signal of each episode, from the expected treatment response."""
    scores = frame.select(_ROW, episode, pl.col(session).cast(pl.Int64)).join(totals, on=_ROW)
    judged = signal_frame(scores.drop(_ROW), model, episode=episode, session=session, score="total")
    summary = signal_summary(judged, episode=episode, session=session).select(
        episode,
        pl.col("status").alias("signal_last"),
        pl.col("worst_status").alias("signal_worst"),
        pl.col("first_alert_session").alias("first_signal_session"),
        pl.col("first_red_session"),
    )
    return episodes.join(summary, on=episode, how="left")


def _with_ruptures(
    frame: pl.DataFrame,
    episodes: pl.DataFrame,
    episode: str,
    session: str,
    alliance: str,
    attended: str,
) -> pl.DataFrame:
    """Alliance ruptures of each episode by the within-client rule, with the pooled
    within-client SD estimated from this registry."""
    present = pl.col(attended) if attended in frame.columns else pl.lit(True)
    rated = frame.filter(present & pl.col(alliance).is_not_null()).select(
        episode, pl.col(session).cast(pl.Int64), alliance
    )
    if rated.height == 0:
        return episodes
    sd = pooled_within_sd(rated, episode=episode, session=session, score=alliance)
    rule = alliance_rule(within_sd=sd, within_sd_source="pooled within-client SD of this registry")
    judged = alliance_frame(rated, rule, episode=episode, session=session, score=alliance)
    per = judged.group_by(episode).agg(
        (pl.col("alliance_status") == "rupture").sum().alias("alliance_ruptures"),
        pl.col(session)
        .filter(pl.col("alliance_status") == "rupture")
        .min()
        .alias("first_rupture_session"),
        (pl.col("alliance_status").last() == "unrepaired").alias("rupture_unrepaired"),
    )
    return episodes.join(per, on=episode, how="left")


def _with_nhstt(
    d: Definition,
    frame: pl.DataFrame,
    episodes: pl.DataFrame,
    episode: str,
    session: str,
    attended: str,
) -> pl.DataFrame:
    """Add NHS Talking Therapies outcomes when the other measure is in the data too."""
    other = get_instrument("gad7" if d.id == "phq9" else "phq9").definition
    try:
        other_totals = _totals(other, frame, None, attended)
    except AnalysisError as exc:
        if exc.args[0].startswith("no "):  # the other measure is simply not in the data
            return episodes
        raise
    firsts = _per_episode(frame, other_totals, episode, session, "other_")
    both = episodes.join(
        firsts.select(episode, "other_first", "other_last"), on=episode, how="left"
    )
    names = {d.id: ("pre", "post"), other.id: ("other_first", "other_last")}
    out = nhstt_outcomes(
        both,
        phq9_first=names["phq9"][0], phq9_last=names["phq9"][1],
        gad7_first=names["gad7"][0], gad7_last=names["gad7"][1],
        finished="finished", attended="n_attended",
    )  # fmt: skip
    added = [c for c in out.columns if c not in both.columns]
    return out.drop("other_first", "other_last").rename({c: f"nhstt_{c}" for c in added})
