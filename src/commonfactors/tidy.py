"""Tidy tables of a practice's records, for CSV and Parquet exports.

A practice's data leave the web app as plain records — :class:`EpisodeRecord`,
:class:`SessionRecord` and :class:`AdministrationRecord`, already pseudonymised by the
caller — and :func:`tables` turns them into four tidy tables (one observation per row, one
variable per column):

* ``scores`` — one row per administration: the stored total, band, caseness and risk
  answer, and the change since the episode's first administration of the same instrument
  (its *intake*), judged by the instrument's reliable-change threshold
  (:func:`commonfactors.change.reliable_change_frame`);
* ``answers`` — one row per item answer of every administration, as given;
* ``sessions`` — one row per session: date, attendance, instruments answered;
* ``episodes`` — one row per episode: start and end, status, sessions attended, first and
  last score on the primary outcome with reliable change and recovery, dropout, and the
  NHS Talking Therapies paired outcome (:func:`commonfactors.change.nhstt_outcomes`).

Every rule comes from the module that owns it; this module only joins records up. The
column dictionary is data (:data:`COLUMNS`) and ``docs/exports.md`` shows it (a test checks
that the two agree). :func:`write_tables` writes the tables as CSV or Parquet bytes.

The period: records dated after ``until`` are left out before anything is computed (an
episode that ended after ``until`` is taken as still active then), so an export for a past
period shows what was known at its end; ``since`` only limits which rows are listed (an
intake before ``since`` still counts as the intake).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date

import polars as pl

from commonfactors.change import nhstt_outcomes, reliable_change_frame
from commonfactors.errors import CommonFactorsError, UnknownInstrumentError
from commonfactors.instruments.registry import get_instrument
from commonfactors.instruments.schema import Definition

__all__ = [
    "ATTENDANCE",
    "COLUMNS",
    "EPISODE_STATUSES",
    "FORMATS",
    "AdministrationRecord",
    "EpisodeRecord",
    "ExportError",
    "SessionRecord",
    "Tables",
    "check_period",
    "tables",
    "write_tables",
]

#: How a session went (the web app's ``Attendance`` choices).
ATTENDANCE = ("attended", "cancelled", "did_not_attend")
#: The states of an episode of care.
EPISODE_STATUSES = ("active", "finished", "dropped_out")
#: The file formats of :func:`write_tables`.
FORMATS = ("csv", "parquet")

_MAX_LISTED = 20


class ExportError(CommonFactorsError, ValueError):
    """Records or options that cannot be exported; ``problems`` names every problem."""


@dataclass(frozen=True)
class EpisodeRecord:
    """One episode of care. ``client`` and ``episode`` are pseudonymous ids."""

    client: str
    episode: str
    started_on: date
    ended_on: date | None
    status: str


@dataclass(frozen=True)
class SessionRecord:
    """One session of an episode, numbered from 1."""

    episode: str
    session: int
    date: date
    attendance: str


@dataclass(frozen=True)
class AdministrationRecord:
    """One instrument answered once: the raw answers as given and their stored score."""

    client: str
    episode: str
    session: int
    date: date
    instrument: str
    definition_version: str
    answers: Mapping[str, float | None]
    total: float
    band: str | None = None
    caseness: bool | None = None
    risk_items: tuple[str, ...] = ()


@dataclass(frozen=True)
class Tables:
    """The four tidy tables of an export."""

    scores: pl.DataFrame
    answers: pl.DataFrame
    sessions: pl.DataFrame
    episodes: pl.DataFrame

    def items(self) -> list[tuple[str, pl.DataFrame]]:
        """(name, table) in a fixed order: the names are the export's file names."""
        return [
            ("scores", self.scores),
            ("answers", self.answers),
            ("sessions", self.sessions),
            ("episodes", self.episodes),
        ]


_CLIENT = {
    "client_id": "the client's pseudonymous id: a keyed hash, the same in every export of "
    "the practice, not reversible without the practice's secret"
}
_EPISODE = "the episode's pseudonymous id (a keyed hash, like client_id)"

#: Every column of every table with its meaning, in table order. ``client_code`` follows
#: ``client_id`` in an identified export only.
COLUMNS: Mapping[str, Mapping[str, str]] = {
    "scores": {
        **_CLIENT,
        "episode_id": _EPISODE,
        "session": "the session number in the episode, from 1",
        "date": "the session's date (ISO 8601; dates are kept, times of day are not)",
        "instrument": "the instrument id (e.g. phq9)",
        "definition_version": "the version of the instrument definition that scored it",
        "total": "the total score, by the instrument's published rules",
        "band": "the severity band of the total (empty where the instrument has none)",
        "caseness": "true when the total meets the instrument's caseness cut-off",
        "intake_session": "the session of the episode's first administration of the instrument",
        "intake_total": "the total at that first administration",
        "change": "total minus intake_total (empty at the intake itself)",
        "reliable_change": "improved, unchanged or deteriorated since the intake, by the "
        "instrument's reliable-change threshold (empty at the intake, or where the "
        "instrument has no threshold)",
        "risk_flag": "true when a risk item was answered at or above its risk threshold",
        "risk_items": "the risk items so answered, separated by spaces",
    },
    "answers": {
        **_CLIENT,
        "episode_id": _EPISODE,
        "session": "the session number",
        "date": "the session's date",
        "instrument": "the instrument id",
        "item": "the item id (e.g. phq9_9)",
        "value": "the answer as given, before reverse keying (empty: left blank)",
    },
    "sessions": {
        **_CLIENT,
        "episode_id": _EPISODE,
        "session": "the session number",
        "date": "the session's date",
        "attendance": "attended, cancelled or did_not_attend",
        "instruments": "the instruments answered at the session, separated by spaces",
    },
    "episodes": {
        **_CLIENT,
        "episode_id": _EPISODE,
        "started_on": "the day the episode started",
        "ended_on": "the day it ended (empty while active)",
        "status": "active, finished or dropped_out",
        "sessions_attended": "sessions attended",
        "sessions_missed": "sessions cancelled or not attended",
        "primary_instrument": "the primary outcome instrument of the practice",
        "intake_session": "the session of the first primary score",
        "intake_score": "the first primary score",
        "last_session": "the session of the last primary score (empty with one score only)",
        "last_score": "the last primary score (empty with one score only)",
        "n_scores": "how many primary scores the episode has",
        "change": "last_score minus intake_score",
        "reliable_change": "improved, unchanged or deteriorated, by the primary instrument's "
        "reliable-change threshold",
        "case_at_intake": "true when the intake score meets the caseness cut-off",
        "recovered": "a case at intake, not a case at the last score, and reliably improved",
        "dropout": "true when the episode ended as dropped out, false when finished, empty "
        "while active",
        "nhstt_counted": "NHS Talking Therapies: a finished course of treatment (ended, at "
        "least two attended sessions, first and last PHQ-9 and GAD-7 scores)",
        "nhstt_reason": "why the episode is not counted (empty when counted)",
        "nhstt_recovery": "NHS Talking Therapies recovery (cases at the first measurement only)",
        "nhstt_reliable_improvement": "NHS Talking Therapies reliable improvement",
        "nhstt_reliable_deterioration": "NHS Talking Therapies reliable deterioration",
        "nhstt_reliable_recovery": "NHS Talking Therapies reliable recovery",
    },
}

_KEYS = ("client_id", "episode_id", "session")


# --------------------------------------------------------------------------------------
# Checking


def check_period(since: date | None, until: date | None) -> list[str]:
    """The problems of a period (empty when it is fine)."""
    if since is not None and until is not None and since > until:
        return [f"the period starts ({since}) after it ends ({until})"]
    return []


def _listed(values: Sequence[object]) -> str:
    shown = ", ".join(str(v) for v in values[:_MAX_LISTED])
    more = len(values) - _MAX_LISTED
    return shown + (f" and {more} more" if more > 0 else "")


def _duplicates(keys: Iterable[tuple[object, ...]]) -> list[tuple[object, ...]]:
    seen: set[tuple[object, ...]] = set()
    twice: list[tuple[object, ...]] = []
    for key in keys:
        if key in seen and key not in twice:
            twice.append(key)
        seen.add(key)
    return twice


def _record_problems(
    episodes: Sequence[EpisodeRecord],
    sessions: Sequence[SessionRecord],
    administrations: Sequence[AdministrationRecord],
) -> list[str]:
    problems: list[str] = []
    known: dict[str, EpisodeRecord] = {}
    for e in episodes:
        known.setdefault(e.episode, e)
    checks: list[tuple[Sequence[object], str]] = [
        ([k[0] for k in _duplicates((e.episode,) for e in episodes)], "episode listed twice"),
        (
            [e.episode for e in episodes if e.status not in EPISODE_STATUSES],
            f"episode status is not one of {', '.join(EPISODE_STATUSES)}",
        ),
        (
            [e.episode for e in episodes if e.ended_on is not None and e.ended_on < e.started_on],
            "episode ends before it starts",
        ),
        (
            sorted(
                {s.episode for s in sessions if s.episode not in known}
                | {a.episode for a in administrations if a.episode not in known}
            ),
            "record of an episode that is not listed",
        ),
        ([f"{s.episode}/{s.session}" for s in sessions if s.session < 1], "session number < 1"),
        (
            [f"{s.episode}/{s.session}" for s in sessions if s.attendance not in ATTENDANCE],
            f"attendance is not one of {', '.join(ATTENDANCE)}",
        ),
        (
            ["/".join(map(str, k)) for k in _duplicates((s.episode, s.session) for s in sessions)],
            "session listed twice",
        ),
        (
            [
                "/".join(map(str, k))
                for k in _duplicates((a.episode, a.session, a.instrument) for a in administrations)
            ],
            "instrument answered twice in one session",
        ),
        (
            [
                f"{a.episode}/{a.session}/{a.instrument}"
                for a in administrations
                if a.episode in known and a.client != known[a.episode].client
            ],
            "administration of another client than its episode's",
        ),
    ]
    for found, what in checks:
        if found:
            problems.append(f"{what}: {_listed(found)}")
    return problems


# --------------------------------------------------------------------------------------
# The period


def _as_at(
    until: date | None,
    episodes: Sequence[EpisodeRecord],
    sessions: Sequence[SessionRecord],
    administrations: Sequence[AdministrationRecord],
) -> tuple[list[EpisodeRecord], list[SessionRecord], list[AdministrationRecord]]:
    """The records as they stood at the end of ``until``."""
    if until is None:
        return list(episodes), list(sessions), list(administrations)
    kept = []
    for e in episodes:
        if e.started_on > until:
            continue
        if e.ended_on is not None and e.ended_on > until:
            e = replace(e, ended_on=None, status="active")
        kept.append(e)
    ids = {e.episode for e in kept}
    return (
        kept,
        [s for s in sessions if s.date <= until and s.episode in ids],
        [a for a in administrations if a.date <= until and a.episode in ids],
    )


def _from(frame: pl.DataFrame, since: date | None, column: str = "date") -> pl.DataFrame:
    return frame if since is None else frame.filter(pl.col(column) >= since)


# --------------------------------------------------------------------------------------
# The tables


def _definition(instrument: str) -> Definition | None:
    try:
        return get_instrument(instrument).definition
    except UnknownInstrumentError:
        return None


def _score_rows(administrations: Sequence[AdministrationRecord]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "client_id": [a.client for a in administrations],
            "episode_id": [a.episode for a in administrations],
            "session": [a.session for a in administrations],
            "date": [a.date for a in administrations],
            "instrument": [a.instrument for a in administrations],
            "definition_version": [a.definition_version for a in administrations],
            "total": [float(a.total) for a in administrations],
            "band": [a.band or None for a in administrations],
            "caseness": [a.caseness for a in administrations],
            "risk_flag": [bool(a.risk_items) for a in administrations],
            "risk_items": [" ".join(a.risk_items) or None for a in administrations],
        },
        schema={
            "client_id": pl.String,
            "episode_id": pl.String,
            "session": pl.Int64,
            "date": pl.Date,
            "instrument": pl.String,
            "definition_version": pl.String,
            "total": pl.Float64,
            "band": pl.String,
            "caseness": pl.Boolean,
            "risk_flag": pl.Boolean,
            "risk_items": pl.String,
        },
    )


def _with_intake(frame: pl.DataFrame) -> pl.DataFrame:
    """Intake session and total of each (episode, instrument); change after the intake."""
    by = ("episode_id", "instrument")
    later = pl.col("session") > pl.col("intake_session")
    return frame.with_columns(
        intake_session=pl.col("session").min().over(by),
        intake_total=pl.col("total").sort_by("session").first().over(by),
    ).with_columns(change=pl.when(later).then(pl.col("total") - pl.col("intake_total")))


def _reliable_change(frame: pl.DataFrame) -> pl.DataFrame:
    """``reliable_change`` of every row after its intake, instrument by instrument, by the
    instrument's own threshold (null where it has none)."""
    judged = []
    for instrument in frame.get_column("instrument").unique().sort().to_list():
        d = _definition(instrument)
        if d is None or d.reliable_change is None:
            continue
        rows = frame.filter(
            (pl.col("instrument") == instrument) & (pl.col("session") > pl.col("intake_session"))
        )
        if rows.height:
            out = reliable_change_frame(d, rows, pre="intake_total", post="total")
            judged.append(
                out.select(
                    "episode_id",
                    "instrument",
                    "session",
                    pl.col("category").cast(pl.String).alias("reliable_change"),
                )
            )
    if not judged:
        return frame.with_columns(reliable_change=pl.lit(None, pl.String))
    return frame.join(pl.concat(judged), on=["episode_id", "instrument", "session"], how="left")


def _scores(administrations: Sequence[AdministrationRecord]) -> pl.DataFrame:
    frame = _reliable_change(_with_intake(_score_rows(administrations)))
    return frame.select(list(COLUMNS["scores"])).sort(*_KEYS, "instrument")


def _answers(administrations: Sequence[AdministrationRecord]) -> pl.DataFrame:
    rows = [
        (a.client, a.episode, a.session, a.date, a.instrument, item, value)
        for a in administrations
        for item, value in a.answers.items()
    ]
    schema = {
        "client_id": pl.String,
        "episode_id": pl.String,
        "session": pl.Int64,
        "date": pl.Date,
        "instrument": pl.String,
        "item": pl.String,
        "value": pl.Float64,
    }
    frame = pl.DataFrame(
        [(*r[:6], None if r[6] is None else float(r[6])) for r in rows],
        schema=schema,
        orient="row",
    )
    return frame.with_row_index("__order").sort(*_KEYS, "instrument", "__order").drop("__order")


def _sessions(
    episodes: Sequence[EpisodeRecord],
    sessions: Sequence[SessionRecord],
    administrations: Sequence[AdministrationRecord],
) -> pl.DataFrame:
    client_of = {e.episode: e.client for e in episodes}
    answered: dict[tuple[str, int], list[str]] = {}
    for a in administrations:
        answered.setdefault((a.episode, a.session), []).append(a.instrument)
    frame = pl.DataFrame(
        {
            "client_id": [client_of[s.episode] for s in sessions],
            "episode_id": [s.episode for s in sessions],
            "session": [s.session for s in sessions],
            "date": [s.date for s in sessions],
            "attendance": [s.attendance for s in sessions],
            "instruments": [
                " ".join(sorted(answered.get((s.episode, s.session), []))) or None for s in sessions
            ],
        },
        schema={
            "client_id": pl.String,
            "episode_id": pl.String,
            "session": pl.Int64,
            "date": pl.Date,
            "attendance": pl.String,
            "instruments": pl.String,
        },
    )
    return frame.sort(*_KEYS)


def _first_last(scores: pl.DataFrame, instrument: str, prefix: str) -> pl.DataFrame:
    """First and last score of ``instrument`` per episode (the last only with two or more)."""
    two = pl.len() >= 2
    return (
        scores.filter(pl.col("instrument") == instrument)
        .sort("episode_id", "session")
        .group_by("episode_id", maintain_order=True)
        .agg(
            pl.col("session").first().alias(f"{prefix}intake_session"),
            pl.col("total").first().alias(f"{prefix}intake_score"),
            pl.when(two).then(pl.col("session").last()).alias(f"{prefix}last_session"),
            pl.when(two).then(pl.col("total").last()).alias(f"{prefix}last_score"),
            pl.len().cast(pl.Int64).alias(f"{prefix}n_scores"),
        )
    )


def _episode_rows(
    episodes: Sequence[EpisodeRecord], sessions: Sequence[SessionRecord]
) -> pl.DataFrame:
    attended: dict[str, int] = {}
    missed: dict[str, int] = {}
    for s in sessions:
        counts = attended if s.attendance == "attended" else missed
        counts[s.episode] = counts.get(s.episode, 0) + 1
    return pl.DataFrame(
        {
            "client_id": [e.client for e in episodes],
            "episode_id": [e.episode for e in episodes],
            "started_on": [e.started_on for e in episodes],
            "ended_on": [e.ended_on for e in episodes],
            "status": [e.status for e in episodes],
            "sessions_attended": [attended.get(e.episode, 0) for e in episodes],
            "sessions_missed": [missed.get(e.episode, 0) for e in episodes],
        },
        schema={
            "client_id": pl.String,
            "episode_id": pl.String,
            "started_on": pl.Date,
            "ended_on": pl.Date,
            "status": pl.String,
            "sessions_attended": pl.Int64,
            "sessions_missed": pl.Int64,
        },
    )


def _primary_change(frame: pl.DataFrame, d: Definition | None) -> pl.DataFrame:
    """Reliable change, caseness at intake and recovery on the primary instrument."""
    if d is None or d.reliable_change is None:
        return frame.with_columns(
            change=pl.col("last_score") - pl.col("intake_score"),
            reliable_change=pl.lit(None, pl.String),
            case_at_intake=pl.lit(None, pl.Boolean),
            recovered=pl.lit(None, pl.Boolean),
        )
    out = reliable_change_frame(d, frame, pre="intake_score", post="last_score")
    paired = pl.col("last_score").is_not_null()
    return out.with_columns(
        reliable_change=pl.col("category").cast(pl.String),
        case_at_intake=pl.col("case_pre"),
        recovered=pl.when(paired).then(pl.col("recovered")),
    ).drop("category", "case_pre", "case_post")


def _nhstt(frame: pl.DataFrame, scores: pl.DataFrame) -> pl.DataFrame:
    """The NHS Talking Therapies paired outcome: first and last PHQ-9 and GAD-7, an ended
    episode (finished or dropped out: both end a course of treatment) and the sessions
    attended, judged by :func:`commonfactors.change.nhstt_outcomes`."""
    pairs = frame.select("episode_id", "status", "sessions_attended")
    for instrument in ("phq9", "gad7"):
        fl = _first_last(scores, instrument, f"{instrument}_").select(
            "episode_id",
            pl.col(f"{instrument}_intake_score").alias(f"{instrument}_first"),
            pl.col(f"{instrument}_last_score").alias(f"{instrument}_last"),
        )
        pairs = pairs.join(fl, on="episode_id", how="left")
    judged = nhstt_outcomes(
        pairs.with_columns(finished=pl.col("status") != "active"),
        attended="sessions_attended",
    )
    outcome = judged.select(
        "episode_id",
        pl.col("counted").alias("nhstt_counted"),
        pl.col("reason").alias("nhstt_reason"),
        *(
            pl.col(c).alias(f"nhstt_{c}")
            for c in (
                "recovery",
                "reliable_improvement",
                "reliable_deterioration",
                "reliable_recovery",
            )
        ),
    )
    return frame.join(outcome, on="episode_id", how="left")


def _episodes(
    episodes: Sequence[EpisodeRecord],
    sessions: Sequence[SessionRecord],
    scores: pl.DataFrame,
    primary: str,
) -> pl.DataFrame:
    frame = _episode_rows(episodes, sessions).with_columns(primary_instrument=pl.lit(primary))
    frame = frame.join(_first_last(scores, primary, ""), on="episode_id", how="left")
    frame = _primary_change(
        frame.with_columns(pl.col("n_scores").fill_null(0)), _definition(primary)
    )
    frame = frame.with_columns(
        dropout=pl.when(pl.col("status") == "dropped_out")
        .then(True)
        .when(pl.col("status") == "finished")
        .then(False)
        .otherwise(None)
    )
    frame = _nhstt(frame, scores)
    return frame.select(list(COLUMNS["episodes"])).sort("client_id", "started_on", "episode_id")


def _identified(frame: pl.DataFrame, codes: Mapping[str, str] | None) -> pl.DataFrame:
    """``client_code`` after ``client_id``, in an identified export."""
    if codes is None:
        return frame
    code = pl.col("client_id").replace_strict(dict(codes), default=None, return_dtype=pl.String)
    columns = list(frame.columns)
    columns.insert(columns.index("client_id") + 1, "client_code")
    return frame.with_columns(client_code=code).select(columns)


def tables(
    episodes: Sequence[EpisodeRecord],
    sessions: Sequence[SessionRecord],
    administrations: Sequence[AdministrationRecord],
    *,
    primary: str = "phq9",
    since: date | None = None,
    until: date | None = None,
    client_codes: Mapping[str, str] | None = None,
) -> Tables:
    """The tidy tables of a practice's records (see the module docstring).

    ``primary`` is the outcome instrument of the episode table; ``since`` and ``until``
    the period (both inclusive, either may be open); ``client_codes`` (pseudonymous id →
    the practice's client code) adds a ``client_code`` column to every table, for an
    identified export. Raises :class:`ExportError` naming every problem of the records.
    """
    problems = check_period(since, until)
    problems += _record_problems(episodes, sessions, administrations)
    if _definition(primary) is None:
        problems.append(f"unknown primary instrument {primary!r}")
    if problems:
        raise ExportError("the records cannot be exported", problems)
    episodes, sessions, administrations = _as_at(until, episodes, sessions, administrations)
    scores = _scores(administrations)
    episode_table = _episodes(episodes, sessions, scores, primary)
    ended = pl.col("ended_on").is_null() | (pl.col("ended_on") >= since) if since else None
    return Tables(
        scores=_identified(_from(scores, since), client_codes),
        answers=_identified(_from(_answers(administrations), since), client_codes),
        sessions=_identified(
            _from(_sessions(episodes, sessions, administrations), since), client_codes
        ),
        episodes=_identified(
            episode_table if ended is None else episode_table.filter(ended), client_codes
        ),
    )


def write_tables(result: Tables, fmt: str) -> dict[str, bytes]:
    """Each table as a file: name (``scores.csv`` …) → bytes. ``fmt`` is ``csv`` (UTF-8,
    a header row, ISO dates, ``true``/``false``, empty for missing) or ``parquet``."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}: expected one of {', '.join(FORMATS)}")
    files: dict[str, bytes] = {}
    for name, frame in result.items():
        buffer = io.BytesIO()
        if fmt == "csv":
            frame.write_csv(buffer)
        else:
            frame.write_parquet(buffer)
        files[f"{name}.{fmt}"] = buffer.getvalue()
    return files
