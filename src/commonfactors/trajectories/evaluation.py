"""Evaluation on a synthetic registry with known truth: how well the signals find the
clients who will deteriorate, how often they alarm on clients who will improve, how
well the alliance rule finds the registry's ruptures, and how good the dropout model is.

Used by ``scripts/fit_default_etr.py --evaluate`` to produce the figures in
``docs/trajectories.md``; usable in a notebook on any :class:`SyntheticRegistry`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from commonfactors.synth import SyntheticRegistry
from commonfactors.trajectories.alliance import alliance_frame, alliance_rule, pooled_within_sd
from commonfactors.trajectories.dropout import (
    DROPOUT_FEATURES,
    DropoutModel,
    DropoutReport,
    dropout_features,
    dropout_report,
)
from commonfactors.trajectories.etr import ETRModel
from commonfactors.trajectories.signals import SignalRule, signal_frame

__all__ = [
    "CANDIDATE_BANDS",
    "RuleResult",
    "RuptureResult",
    "evaluate_dropout",
    "evaluate_rule",
    "evaluate_ruptures",
    "evaluate_signal_rules",
    "registry_long",
    "rules_markdown",
    "ruptures_markdown",
]

#: The ETR percentile bands tried as thresholds.
CANDIDATE_BANDS = (0.60, 0.67, 0.75, 0.80, 0.90, 0.95)

IMPROVED = ("recovered", "improved")


def registry_long(registry: SyntheticRegistry, column: str = "phq9_total") -> pl.DataFrame:
    """The attended sessions of a synthetic registry as a long frame ``episode_id,
    session, score`` (session = the attended-session number, 1 = intake)."""
    return registry.sessions.filter(pl.col("attended")).select(
        "episode_id", pl.col("treatment_session").alias("session"), pl.col(column).alias("score")
    )


@dataclass(frozen=True)
class RuleResult:
    """One candidate: what is ``flagged``, the instruments whose signals are combined
    ("either" fires), and the shares of true deteriorators flagged (sensitivity) and of
    reliably improved clients flagged (false alarms) by session ``by_session`` and at
    any session, and of unchanged clients flagged by ``by_session``."""

    flagged: str
    instruments: tuple[str, ...]
    deteriorators: int
    improvers: int
    sensitivity: float
    false_alarms: float
    unchanged_flagged: float
    sensitivity_any: float
    false_alarms_any: float


def _flags(
    registry: SyntheticRegistry,
    models: Mapping[str, ETRModel],
    rule: SignalRule,
    statuses: tuple[str, ...],
    by_session: int,
) -> pl.DataFrame:
    """Per episode: flagged by ``by_session``, flagged at any session (either instrument)."""
    parts = []
    for column, model in models.items():
        s = signal_frame(registry_long(registry, column), model, rule=rule)
        flagged = pl.col("status").is_in(statuses)
        parts.append(
            s.group_by("episode_id").agg(
                (flagged & (pl.col("t") <= by_session)).any().alias("early"),
                flagged.any().alias("ever"),
            )
        )
    out = parts[0]
    for p in parts[1:]:
        out = out.join(p, on="episode_id", how="full", coalesce=True).select(
            "episode_id",
            (pl.col("early").fill_null(False) | pl.col("early_right").fill_null(False)).alias(
                "early"
            ),
            (pl.col("ever").fill_null(False) | pl.col("ever_right").fill_null(False)).alias("ever"),
        )
    return out


def _share(frame: pl.DataFrame, column: str) -> float:
    return float(frame.select(pl.col(column).cast(pl.Float64).mean()).item() or 0.0)


def evaluate_rule(
    registry: SyntheticRegistry,
    models: Mapping[str, ETRModel],
    rule: SignalRule,
    *,
    statuses: tuple[str, ...] = ("yellow", "red"),
    flagged: str | None = None,
    by_session: int = 3,
) -> RuleResult:
    """How often a session with one of ``statuses`` under ``rule`` occurs, by session
    ``by_session`` and at any session, in each true-outcome group. ``models`` maps a score
    column of ``registry.sessions`` to its model (``{"phq9_total": model}``); with several,
    an episode is flagged when any of them flags it.

    Population: episodes with at least ``by_session`` attended sessions (sessions 2 to
    ``by_session`` could be judged). Truth: ``true_outcome`` from the registry's true
    scores (deteriorated; recovered or improved; unchanged)."""
    episodes = registry.episodes.filter(pl.col("n_attended") >= by_session).select(
        "episode_id", "true_outcome"
    )
    f = _flags(registry, models, rule, statuses, by_session)
    j = episodes.join(f, on="episode_id", how="left").with_columns(
        pl.col("early", "ever").fill_null(False)
    )
    det = j.filter(pl.col("true_outcome") == "deteriorated")
    imp = j.filter(pl.col("true_outcome").is_in(IMPROVED))
    unch = j.filter(pl.col("true_outcome") == "unchanged")
    return RuleResult(
        flagged=flagged or " or ".join(statuses),
        instruments=tuple(c.removesuffix("_total") for c in models),
        deteriorators=det.height,
        improvers=imp.height,
        sensitivity=_share(det, "early"),
        false_alarms=_share(imp, "early"),
        unchanged_flagged=_share(unch, "early"),
        sensitivity_any=_share(det, "ever"),
        false_alarms_any=_share(imp, "ever"),
    )


def evaluate_signal_rules(
    registry: SyntheticRegistry,
    models: Mapping[str, ETRModel],
    *,
    bands: Sequence[float] = CANDIDATE_BANDS,
    by_session: int = 3,
    combine: bool = True,
) -> list[RuleResult]:
    """For each candidate band: flag a session when the score is worse than that band of
    the ETR or reliably worse than at intake (the red status of ``SignalRule(red=band)``),
    on each instrument alone and, with ``combine``, on either. The models need the bands
    (and 0.5)."""
    sets = [(c,) for c in models] + ([tuple(models)] if combine and len(models) > 1 else [])
    return [
        evaluate_rule(
            registry,
            {c: models[c] for c in cols},
            SignalRule(yellow=0.5, red=band),
            statuses=("red",),
            flagged=f"worse than the {round(band * 100)}th percentile, or reliably worse",
            by_session=by_session,
        )
        for band in bands
        for cols in sets
    ]


def rules_markdown(results: Sequence[RuleResult], by_session: int = 3) -> str:
    """The results as a Markdown table (✓: both goals met)."""
    lines = [
        f"| flagged when | instruments | deteriorators flagged by session {by_session} "
        f"(goal ≥ 85%) | improvers flagged by session {by_session} (goal ≤ 30%) | unchanged "
        f"flagged by session {by_session} | deteriorators flagged at any session | improvers "
        "flagged at any session |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        ok = r.sensitivity >= 0.85 and r.false_alarms <= 0.30
        lines.append(
            f"| {r.flagged} | {' or '.join(r.instruments)} | {r.sensitivity:.1%} of "
            f"{r.deteriorators:,} | {r.false_alarms:.1%} of {r.improvers:,}{' ✓' if ok else ''} | "
            f"{r.unchanged_flagged:.1%} | {r.sensitivity_any:.1%} | {r.false_alarms_any:.1%} |"
        )
    return "\n".join(lines)


@dataclass(frozen=True)
class RuptureResult:
    """How a within-client alliance rule with this ``k`` finds the registry's ruptures."""

    k: float
    within_sd: float
    rupture_sessions: int
    other_sessions: int
    sensitivity: float
    false_alarms: float
    episodes_with_rupture_flag: float


def evaluate_ruptures(
    reference: SyntheticRegistry,
    registry: SyntheticRegistry,
    *,
    ks: Sequence[float] = (1.0, 1.5, 2.0),
) -> list[RuptureResult]:
    """The within-client rule (SD pooled on ``reference``) on ``registry``'s session
    alliance: the share of sessions with a true (generated) rupture that start a flagged
    rupture, and the share of other sessions that do. Sessions 2 onwards."""
    cols = ["episode_id", "session", "alliance"]
    ref = reference.sessions.filter(pl.col("attended")).select(cols)
    sd = pooled_within_sd(ref)
    data = registry.sessions.filter(pl.col("attended")).select(*cols, "true_rupture")
    out = []
    for k in ks:
        rule = alliance_rule(None, within_sd=sd, k=k, within_sd_source="synthetic registry")
        judged = alliance_frame(data, rule).filter(pl.col("baseline").is_not_null())
        flagged = pl.col("alliance_status") == "rupture"
        true = judged.filter(pl.col("true_rupture"))
        other = judged.filter(~pl.col("true_rupture"))
        per_episode = alliance_frame(data, rule).group_by("episode_id").agg(flagged.any())
        out.append(
            RuptureResult(
                k=k,
                within_sd=sd,
                rupture_sessions=true.height,
                other_sessions=other.height,
                sensitivity=float(true.select(flagged.mean()).item()),
                false_alarms=float(other.select(flagged.mean()).item()),
                episodes_with_rupture_flag=_share(per_episode, "alliance_status"),
            )
        )
    return out


def ruptures_markdown(results: Sequence[RuptureResult]) -> str:
    """The rupture results as a Markdown table."""
    lines = [
        "| k (SDs) | pooled within-client SD | generated-rupture sessions flagged | other "
        "sessions flagged | episodes with a flagged rupture |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {r.k:g} | {r.within_sd:.3f} | {r.sensitivity:.1%} of {r.rupture_sessions:,} | "
        f"{r.false_alarms:.1%} of {r.other_sessions:,} | {r.episodes_with_rupture_flag:.1%} |"
        for r in results
    ]
    return "\n".join(lines)


def evaluate_dropout(
    train: SyntheticRegistry,
    test: SyntheticRegistry,
    *,
    features: Sequence[str] = DROPOUT_FEATURES,
    after: int = 2,
    reference: str = "synthetic registry",
) -> tuple[DropoutModel, DropoutReport]:
    """Fit the dropout model on ``train`` and report on held-out ``test``."""
    f_train = dropout_features(train.sessions, train.episodes, after=after)
    f_test = dropout_features(test.sessions, test.episodes, after=after)
    model = DropoutModel(features).fit(
        f_train, f_train["dropout"], reference=reference, synthetic=True
    )
    return model, dropout_report(model, f_test, f_test["dropout"])
