"""Assemble the synthetic registry's tables and write them as Parquet."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

import numpy as np
import numpy.typing as npt
import polars as pl

from commonfactors.change import nhstt_outcomes
from commonfactors.errors import CommonFactorsError
from commonfactors.instruments.registry import default_registry
from commonfactors.instruments.schema import Definition
from commonfactors.scoring import score_frame
from commonfactors.synth.course import (
    ATTENDANCE,
    ATTENDED,
    CANCELLED,
    DNA,
    SESSION_VALUES,
    Course,
    run_course,
)
from commonfactors.synth.items import GAD7_GRM, PHQ9_GRM, ItemModel
from commonfactors.synth.params import SynthParams
from commonfactors.synth.people import Cast, draw_cast

__all__ = [
    "OUTCOMES",
    "TABLES",
    "SyntheticRegistry",
    "generate",
    "nhs_outcomes",
    "write_registry",
]

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

#: The ground-truth outcome categories, best first.
OUTCOMES = ("recovered", "improved", "unchanged", "deteriorated")

#: The tables, in the order :func:`write_registry` writes them.
TABLES = ("practices", "therapists", "clients", "episodes", "sessions")


@dataclass(frozen=True)
class SyntheticRegistry:
    """A generated registry: Polars frames, one row per practice, therapist, client,
    episode and session (appointment), and the seed and parameters that made them.
    Columns are documented in ``docs/synth.md``; every ``true_*`` column is ground truth
    that a real registry would not have."""

    practices: pl.DataFrame
    therapists: pl.DataFrame
    clients: pl.DataFrame
    episodes: pl.DataFrame
    sessions: pl.DataFrame
    seed: int
    params: SynthParams

    def tables(self) -> dict[str, pl.DataFrame]:
        """The frames by table name, in writing order."""
        return {name: getattr(self, name) for name in TABLES}


def generate(episodes: int, *, seed: int, params: SynthParams | None = None) -> SyntheticRegistry:
    """Generate a registry of ``episodes`` episodes of care. The same ``seed`` (and
    parameters) always gives identical frames."""
    problems = []
    if isinstance(episodes, bool) or not isinstance(episodes, int) or episodes < 1:
        problems.append(f"episodes must be a whole number of at least 1, not {episodes!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        problems.append(f"seed must be a whole number of at least 0, not {seed!r}")
    if problems:
        raise CommonFactorsError("cannot generate a synthetic registry", problems)
    p = SynthParams() if params is None else params
    rng = np.random.default_rng(seed)
    reg = default_registry()
    phq9, gad7 = reg.definition("phq9"), reg.definition("gad7")
    cast = draw_cast(p, episodes, rng)
    course = run_course(p, cast, rng, (_caseness(phq9), _caseness(gad7)))
    sessions, rows = _sessions(p, cast, course, rng, phq9, gad7)
    episodes_frame = _episodes(p, cast, course, sessions, rows, phq9, gad7)
    return SyntheticRegistry(
        practices=_practices(cast),
        therapists=_therapists(cast),
        clients=_clients(p, cast),
        episodes=episodes_frame,
        sessions=sessions,
        seed=seed,
        params=p,
    )


def write_registry(registry: SyntheticRegistry, out_dir: Path) -> list[Path]:
    """Write every table as ``<table>.parquet`` and the seed and parameters as
    ``synth.json`` into ``out_dir`` (made if missing); return the paths written."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, frame in registry.tables().items():
        path = out_dir / f"{name}.parquet"
        frame.write_parquet(path)
        paths.append(path)
    from commonfactors import __version__  # here: the package imports its modules first

    meta = {
        "generator": f"commonfactors {__version__} commonfactors.synth",
        "synthetic": True,
        "note": "Synthetic data with known ground truth (true_* columns); not real clients.",
        "seed": registry.seed,
        "episodes": registry.episodes.height,
        "sessions": registry.sessions.height,
        "params": asdict(registry.params),
    }
    path = out_dir / "synth.json"
    path.write_text(json.dumps(meta, indent=2, default=_json) + "\n", encoding="utf-8")
    return [*paths, path]


def _json(value: object) -> str:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {value!r}")


# ------------------------------------------------------------------------------ rules


def _caseness(d: Definition) -> float:
    cut = d.caseness_cutoff
    if cut is None or cut.op != ">=":
        raise CommonFactorsError(f"{d.id}: the generator needs a caseness cut-off of the form ≥")
    return cut.value


def nhs_outcomes(
    pre: tuple[Floats, Floats], post: tuple[Floats, Floats], phq9: Definition, gad7: Definition
) -> dict[str, Bools]:
    """NHS Talking Therapies paired outcomes of PHQ-9 and GAD-7 (first and last scores),
    computed by :func:`commonfactors.change.nhstt_outcomes` (the one implementation of the
    rule; ``phq9`` and ``gad7`` must be the definitions it reads its cut-offs from): ``case``,
    ``improved`` (reliable improvement), ``deteriorated`` (reliable deterioration),
    ``recovered`` and ``reliably_recovered``, as boolean arrays (a non-case is never
    recovered)."""
    if (phq9.id, gad7.id) != ("phq9", "gad7"):
        raise CommonFactorsError("NHS Talking Therapies outcomes are defined on PHQ-9 and GAD-7")
    (d0, a0), (d1, a1) = pre, post
    frame = pl.DataFrame(
        {"phq9_first": d0, "phq9_last": d1, "gad7_first": a0, "gad7_last": a1}
    ).with_columns(finished=pl.lit(True), attended=pl.lit(2))
    o = nhstt_outcomes(frame)
    as_bool = {
        "case": "case_first",
        "improved": "reliable_improvement",
        "deteriorated": "reliable_deterioration",
        "recovered": "recovery",
        "reliably_recovered": "reliable_recovery",
    }
    return {k: o.get_column(c).fill_null(False).to_numpy() for k, c in as_bool.items()}


def _true_outcome(course: Course, phq9: Definition, gad7: Definition) -> Ints:
    """Index into :data:`OUTCOMES`, from the true scores at intake and at the last
    attended session: recovered = reliably recovered, improved = reliably improved but not
    recovered, deteriorated = reliably deteriorated, unchanged = the rest."""
    o = nhs_outcomes(
        (course.true_intake_dep, course.true_intake_anx),
        (course.true_end_dep, course.true_end_anx),
        phq9,
        gad7,
    )
    out = np.full(course.n_rows.shape[0], 2, dtype=np.int64)
    out[o["improved"]] = 1
    out[o["reliably_recovered"]] = 0
    out[o["deteriorated"]] = 3
    return out


# ------------------------------------------------------------------------------ sessions


@dataclass(frozen=True)
class _Rows:
    """Where each episode's rows sit in the session table."""

    episode: Ints  # episode index of each row
    first: Ints  # row of each episode's first appointment (its intake)
    last_attended: Ints  # row of each episode's last attended session
    attended: Bools


def _layout(course: Course) -> tuple[_Rows, Ints, dict[str, Floats]]:
    """Scatter the step-by-step records into episode-major row order."""
    n_rows = course.n_rows
    first = np.cumsum(n_rows) - n_rows
    total = int(n_rows.sum())
    code = np.empty(total, dtype=np.int8)
    for t, (idx, c) in enumerate(course.steps, start=1):
        code[first[idx] + t - 1] = c
    values = {name: np.full(total, np.nan) for name in SESSION_VALUES}
    for t, e, vals in course.attended:
        pos = first[e] + t - 1
        for name, v in vals.items():
            values[name][pos] = v
    episode = np.repeat(np.arange(n_rows.shape[0]), n_rows)
    attended = code == ATTENDED
    att_rows = np.flatnonzero(attended)
    ep = episode[att_rows]
    last = att_rows[np.r_[ep[1:] != ep[:-1], True]]
    return _Rows(episode, first, last, attended), code.astype(np.int64), values


def _answers(
    model: ItemModel,
    d: Definition,
    theta: Floats,
    episode: Ints,
    rows: Ints,
    p: SynthParams,
    rng: np.random.Generator,
) -> dict[str, pl.Series]:
    """Item answers at the attended rows, scored by the library; full-length columns."""
    total, n_episodes = int(episode.shape[0]), int(episode[-1]) + 1
    stable = rng.standard_normal((n_episodes, len(model.items))), episode[rows]
    answers = model.sample(
        theta[rows], rng, pair_sd=p.item_pair_sd, stability=p.item_stability, stable=stable
    )
    scored = score_frame(d, pl.DataFrame(dict(zip(model.items, answers, strict=True))))
    out = {}
    for name, x in zip(model.items, answers, strict=True):
        full = np.zeros(total, dtype=np.int8)
        full[rows] = x
        out[name] = pl.Series(name, full)
    totals = np.zeros(total, dtype=np.int16)
    totals[rows] = scored.get_column("total").to_numpy().astype(np.int16)
    out[f"{d.id}_total"] = pl.Series(f"{d.id}_total", totals)
    return out


def _sessions(
    p: SynthParams,
    c: Cast,
    course: Course,
    rng: np.random.Generator,
    phq9: Definition,
    gad7: Definition,
) -> tuple[pl.DataFrame, _Rows]:
    rows, code, v = _layout(course)
    total = int(rows.episode.shape[0])
    session = np.arange(total) - rows.first[rows.episode] + 1
    jitter = np.where(session > 1, rng.integers(-1, 2, total), 0)
    day = c.start_day[rows.episode] + 7 * (session - 1) + jitter
    att = np.flatnonzero(rows.attended)
    items = _answers(PHQ9_GRM, phq9, v["theta_dep"], rows.episode, att, p, rng)
    items |= _answers(GAD7_GRM, gad7, v["theta_anx"], rows.episode, att, p, rng)
    masked = list(items)
    frame = pl.DataFrame(
        [
            pl.Series("episode_id", rows.episode + 1),
            pl.Series("session", session.astype(np.int16)),
            pl.Series("date", day.astype(np.int32)).cast(pl.Date),
            _enum("attendance", ATTENDANCE, code),
            pl.Series("attended", rows.attended),
            _nullable("treatment_session", v["dose"], pl.Int16),
            *items.values(),
            _nullable("alliance", v["alliance"], pl.Float64),
            _nullable("homework", v["homework"], pl.Float64),
            *(_nullable(f"goal_{k}", v[f"goal_{k}"], pl.Int8) for k in (1, 2, 3)),
            _nullable("true_phq9", v["true_dep"], pl.Float64),
            _nullable("true_gad7", v["true_anx"], pl.Float64),
            _nullable("true_rupture", v["rupture"], pl.Boolean),
        ]
    )
    frame = frame.with_columns(
        pl.when(pl.col("attended")).then(pl.col(name)).alias(name) for name in masked
    )
    return frame, rows


def _nullable(name: str, values: Floats, dtype: pl.DataType | type[pl.DataType]) -> pl.Series:
    return pl.Series(name, values, nan_to_null=True).cast(dtype)


def _enum(name: str, labels: tuple[str, ...] | list[str], codes: Ints) -> pl.Series:
    return pl.Series(name, labels, dtype=pl.Enum(list(labels))).gather(codes).alias(name)


# ------------------------------------------------------------------------------ episodes


def _episodes(
    p: SynthParams,
    c: Cast,
    course: Course,
    sessions: pl.DataFrame,
    rows: _Rows,
    phq9: Definition,
    gad7: Definition,
) -> pl.DataFrame:
    n = int(c.client.shape[0])
    code = sessions.get_column("attendance").to_physical().to_numpy()
    counts = {
        k: np.bincount(rows.episode, weights=code == v, minlength=n).astype(np.int16)
        for k, v in (("n_attended", ATTENDED), ("n_cancelled", CANCELLED), ("n_dna", DNA))
    }
    last_row = rows.first + course.n_rows - 1
    dates = sessions.get_column("date")
    phq, gad = sessions.get_column("phq9_total"), sessions.get_column("gad7_total")
    gain = np.where(course.gain_applied, c.gain_session, 0).astype(np.float64)
    return pl.DataFrame(
        [
            pl.Series("episode_id", np.arange(1, n + 1)),
            pl.Series("client_id", c.client + 1),
            pl.Series("therapist_id", c.therapist + 1),
            pl.Series("practice_id", c.therapist_practice[c.therapist] + 1),
            pl.Series("episode_number", c.episode_number.astype(np.int8)),
            dates.gather(rows.first).alias("start_date"),
            dates.gather(last_row).alias("end_date"),
            _enum("age_band", _names(p.age_bands), c.client_age[c.client]),
            _enum("gender", _names(p.genders), c.client_gender[c.client]),
            _enum("employment", _names(p.employment), c.client_employment[c.client]),
            _enum("intensity", ["low", "high"], c.high_intensity.astype(np.int64)),
            pl.Series("planned_sessions", c.planned_sessions.astype(np.int16)),
            pl.Series("expectancy", c.expectancy_observed),
            _enum("readiness", _names(p.readiness_stages), c.readiness),
            pl.Series("n_goals", c.goal_count.astype(np.int8)),
            phq.gather(rows.first).alias("intake_phq9"),
            gad.gather(rows.first).alias("intake_gad7"),
            phq.gather(rows.last_attended).alias("last_phq9"),
            gad.gather(rows.last_attended).alias("last_gad7"),
            pl.Series("n_sessions", course.n_rows.astype(np.int16)),
            *(pl.Series(k, v) for k, v in counts.items()),
            pl.Series("finished", counts["n_attended"] >= 2),
            pl.Series("dropout", course.dropout),
            _nullable(
                "dropout_session",
                np.where(course.dropout, course.n_rows, np.nan),
                pl.Int16,
            ),
            _enum("true_class", [k.name for k in p.classes], c.trajectory_class),
            _enum("true_outcome", OUTCOMES, _true_outcome(course, phq9, gad7)),
            pl.Series("true_phq9_intake", course.true_intake_dep),
            pl.Series("true_gad7_intake", course.true_intake_anx),
            pl.Series("true_phq9_end", course.true_end_dep),
            pl.Series("true_gad7_end", course.true_end_anx),
            _nullable("true_sudden_gain_session", np.where(gain > 0, gain, np.nan), pl.Int16),
            pl.Series("true_change_propensity", c.propensity),
        ]
    )


# ------------------------------------------------------------------------------ people


def _names(labelled: tuple[tuple[str, float], ...]) -> list[str]:
    return [name for name, _ in labelled]


def _practices(c: Cast) -> pl.DataFrame:
    n = int(c.therapist_practice.max()) + 1
    return pl.DataFrame(
        [
            pl.Series("practice_id", np.arange(1, n + 1)),
            pl.Series("n_therapists", np.bincount(c.therapist_practice, minlength=n)),
            pl.Series("n_episodes", np.bincount(c.therapist_practice[c.therapist], minlength=n)),
        ]
    )


def _therapists(c: Cast) -> pl.DataFrame:
    n = int(c.therapist_practice.shape[0])
    return pl.DataFrame(
        [
            pl.Series("therapist_id", np.arange(1, n + 1)),
            pl.Series("practice_id", c.therapist_practice + 1),
            pl.Series("n_episodes", np.bincount(c.therapist, minlength=n)),
            pl.Series("true_change_effect", c.therapist_effect),
            pl.Series("true_dropout_effect", c.therapist_dropout),
            pl.Series("true_alliance_effect", c.therapist_alliance),
        ]
    )


def _clients(p: SynthParams, c: Cast) -> pl.DataFrame:
    n = int(c.client_age.shape[0])
    return pl.DataFrame(
        [
            pl.Series("client_id", np.arange(1, n + 1)),
            _enum("age_band", _names(p.age_bands), c.client_age),
            _enum("gender", _names(p.genders), c.client_gender),
            _enum("employment", _names(p.employment), c.client_employment),
            pl.Series("n_episodes", np.bincount(c.client, minlength=n)),
        ]
    )
