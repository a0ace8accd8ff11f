"""What every part of :mod:`commonfactors.trajectories` shares: its errors, the long frame
of session-by-session scores, the record of the reference data a model was fitted on, and
the envelope of the JSON files models are saved in."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import polars as pl
from sklearn.exceptions import NotFittedError as _SklearnNotFittedError

from commonfactors.errors import CommonFactorsError
from commonfactors.instruments.registry import Instrument, get_instrument
from commonfactors.instruments.schema import Definition

__all__ = [
    "EPISODE",
    "FORMAT_VERSION",
    "SCORE",
    "SESSION",
    "Better",
    "ModelNotFittedError",
    "Reference",
    "TrajectoryError",
    "as_polars",
    "definition_of",
    "fmt",
    "listed",
    "long_frame",
    "read_envelope",
    "restore",
    "write_envelope",
]

#: The canonical column names of a long frame inside this package (renamed back to the
#: caller's names on the way out).
EPISODE, SESSION, SCORE = "__cf_episode", "__cf_session", "__cf_score"

#: The version of the JSON layout of every saved model; bumped on incompatible change.
FORMAT_VERSION = 1

#: Which end of the scale is better.
Better = Literal["lower", "higher"]


class TrajectoryError(CommonFactorsError, ValueError):
    """Input that an expected-treatment-response model, a signal, an alliance rule or the
    dropout model cannot work with (``problems`` names every problem at once), or a model
    file that cannot be read."""


class ModelNotFittedError(TrajectoryError, _SklearnNotFittedError):  # type: ignore[misc]
    """A model was used before :meth:`fit` (also a scikit-learn ``NotFittedError``)."""


def fmt(x: float) -> str:
    """A number as people write it: 6, 6.5, 0.75."""
    if math.isfinite(x) and x == round(x):
        return str(round(x))
    return f"{x:.4g}"


def listed(values: Iterable[object], limit: int = 10) -> str:
    """The first ``limit`` values, comma-separated, and how many more there are."""
    items: Sequence[object] = list(values)
    shown = ", ".join(str(v) for v in items[:limit])
    more = len(items) - limit
    return f"{shown} and {more} more" if more > 0 else shown


def as_polars(data: object, what: str = "data") -> pl.DataFrame:
    """A Polars frame from a Polars or pandas frame (pandas is converted, never required)."""
    if isinstance(data, pl.DataFrame):
        return data
    if type(data).__module__.split(".")[0] == "pandas" and type(data).__name__ == "DataFrame":
        return pl.from_pandas(data)
    raise TrajectoryError(f"{what} must be a Polars or pandas DataFrame, not {type(data).__name__}")


def definition_of(instrument: str | Definition | Instrument | None) -> Definition | None:
    """The instrument definition, or None when no instrument is named."""
    return None if instrument is None else get_instrument(instrument).definition


def long_frame(
    data: object,
    *,
    episode: str,
    session: str,
    score: str,
    definition: Definition | None = None,
    keep: Sequence[str] = (),
    what: str = "data",
) -> pl.DataFrame:
    """Validate a long frame (one row per episode and session) and return it sorted by
    episode and session, with those three columns renamed to :data:`EPISODE`,
    :data:`SESSION` and :data:`SCORE` (score as Float64, null where missing) and every
    other column kept; ``keep`` names columns that must be present.

    Raises :class:`TrajectoryError` naming every problem: missing or non-numeric columns,
    session numbers that are not whole numbers of at least 1, an episode with the same
    session twice, and scores outside the instrument's range (rows are 1-based)."""
    frame = as_polars(data, what)
    problems: list[str] = []
    roles = {"episode": episode, "session": session, "score": score}
    for role, name in [*roles.items(), *((f"{k} (kept)", k) for k in keep)]:
        if name not in frame.columns:
            problems.append(f"column {name!r} ({role}) is not in the {what}")
    if problems:
        raise TrajectoryError(f"the {what} cannot be used", problems)
    for role, name in (("session", session), ("score", score)):
        if not (frame.schema[name].is_numeric() or frame.schema[name] == pl.Null):
            problems.append(f"column {name!r} ({role}) must be numeric, not {frame.schema[name]}")
    if problems:
        raise TrajectoryError(f"the {what} cannot be used", problems)
    rows = frame.with_row_index("__row", offset=1)
    s = pl.col(session).cast(pl.Float64)
    bad = rows.filter(s.is_null() | s.is_nan() | (s < 1) | (s != s.floor()))["__row"]
    if bad.len():
        problems.append(
            f"column {session!r}: {bad.len()} session number(s) that are not whole numbers "
            f"of at least 1 in row(s) {listed(bad.to_list())}"
        )
    dup = rows.filter(pl.len().over(episode, session) > 1)["__row"]
    if dup.len():
        problems.append(
            f"{dup.len()} row(s) repeat an episode's session number: row(s) {listed(dup.to_list())}"
        )
    v = pl.col(score).cast(pl.Float64)
    if definition is not None:
        lo, hi = definition.score_range
        out = rows.filter(v.is_nan() | (v < lo) | (v > hi))["__row"]
        if out.len():
            problems.append(
                f"column {score!r}: {out.len()} score(s) outside the {definition.short_name} "
                f"range {fmt(lo)}-{fmt(hi)} in row(s) {listed(out.to_list())}"
            )
    else:
        out = rows.filter(v.is_nan() | v.is_infinite())["__row"]
        if out.len():
            problems.append(
                f"column {score!r}: scores that are not numbers in row(s) {listed(out.to_list())}"
            )
    if problems:
        raise TrajectoryError(f"the {what} cannot be used", problems)
    others = [c for c in frame.columns if c not in roles.values()]
    return frame.select(
        pl.col(episode).alias(EPISODE),
        pl.col(session).cast(pl.Int32).alias(SESSION),
        v.alias(SCORE),
        *others,
    ).sort(EPISODE, SESSION)


def restore(frame: pl.DataFrame, *, episode: str, session: str, score: str) -> pl.DataFrame:
    """Give the canonical columns back the caller's names, first in the frame."""
    named = frame.rename({EPISODE: episode, SESSION: session, SCORE: score})
    return named.select(episode, session, score, pl.exclude(episode, session, score))


@dataclass(frozen=True)
class Reference:
    """What a model was fitted on. ``label`` is the line every screen, report and signal
    that uses the model prints; for a synthetic model it says so in capitals."""

    label: str
    description: str
    synthetic: bool
    episodes: int
    sessions: int | None
    fitted_with: str

    @classmethod
    def make(
        cls, description: str, *, synthetic: bool, episodes: int, sessions: int | None = None
    ) -> Reference:
        """A reference record; the label counts the episodes (and scored sessions)."""
        from commonfactors import __version__

        counts = f"{episodes:,} episodes" + (
            f", {sessions:,} scored sessions" if sessions is not None else ""
        )
        label = (
            f"SYNTHETIC reference data, not real clients: {description} ({counts})"
            if synthetic
            else f"{description} ({counts})"
        )
        return cls(
            label, description, synthetic, episodes, sessions, f"commonfactors {__version__}"
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Reference:
        try:
            return cls(
                label=str(data["label"]),
                description=str(data["description"]),
                synthetic=bool(data["synthetic"]),
                episodes=int(data["episodes"]),
                sessions=None if data["sessions"] is None else int(data["sessions"]),
                fitted_with=str(data["fitted_with"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise TrajectoryError(
                f"the model file's reference record is incomplete: {exc}"
            ) from exc

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def write_envelope(kind: str, body: Mapping[str, Any]) -> str:
    """A model as JSON text: ``format``, ``format_version``, ``kind``, then its body."""
    doc = {"format": "commonfactors.model", "format_version": FORMAT_VERSION, "kind": kind, **body}
    return json.dumps(doc, indent=1, allow_nan=False) + "\n"


def read_envelope(text: str | bytes, kind: str | Sequence[str]) -> dict[str, Any]:
    """The body of a model file, after checking its format, version and kind."""
    kinds = (kind,) if isinstance(kind, str) else tuple(kind)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TrajectoryError(f"not a model file (invalid JSON): {exc}") from exc
    if not isinstance(doc, dict) or doc.get("format") != "commonfactors.model":
        raise TrajectoryError("not a commonfactors model file (no 'format': 'commonfactors.model')")
    version = doc.get("format_version")
    if version != FORMAT_VERSION:
        raise TrajectoryError(
            f"model file format version {version!r} is not supported (this library reads "
            f"version {FORMAT_VERSION}); refit the model or upgrade commonfactors"
        )
    if doc.get("kind") not in kinds:
        raise TrajectoryError(
            f"the model file holds a {doc.get('kind')!r} model, not {' or '.join(kinds)}"
        )
    return doc
