"""``python -m commonfactors_web fit_etr --instrument phq9 --out FILE``: fit the expected
treatment response of an outcome instrument on the practice's own episodes, to replace the
shipped SYNTHETIC model behind the not-on-track signals and the trajectory chart.

Every stored score of the instrument in every episode of the practice (active, finished or
dropped out, as the published method fits its reference sample) goes in, numbered by the
session numbers the signals use; the library fits the log-linear quantile model
(:class:`commonfactors.trajectories.ExpectedTreatmentResponse`, Finch, Lambert & Schaalje
2001) and writes it as JSON. The command prints how many episodes and scores it used, the
sessions the model covers, the expected score of a typical intake, and how to use the file
(the setting ``ETR_MODELS``). Signals already stored keep the model they were judged by. The
read is audited. Every problem is named at once (exit status 1); nothing is written unless
the fit succeeds. It runs even while the system check refuses the current ``ETR_MODELS`` (that
is how a broken file is mended).
"""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

import polars as pl
from django.core.management.base import BaseCommand, CommandError

import commonfactors
from commonfactors.trajectories import DEFAULT_RULE, ExpectedTreatmentResponse, TrajectoryError
from commonfactors.trajectories.etr import quantile_name
from commonfactors_web.accounts.services import practice_named
from commonfactors_web.audit.services import SYSTEM, record
from commonfactors_web.checkins.models import Score
from commonfactors_web.own_models import out_problems, write_model


class Command(BaseCommand):
    help = "Fit an outcome's expected treatment response on the practice's own episodes."
    requires_system_checks: list[str] = []  # noqa: RUF012 (Django's attribute)

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--instrument", default="phq9", help="the outcome (default phq9)")
        parser.add_argument("--out", required=True, help="the model file to write (JSON)")
        parser.add_argument("--practice", help="the practice's id or name (if several)")

    def handle(self, *args: Any, **options: Any) -> None:
        problems: list[str] = []
        practice = practice_named(options["practice"], problems)
        instrument, out = options["instrument"], Path(options["out"])
        registry = commonfactors.default_registry()
        if instrument not in registry:
            problems.append(f"--instrument {instrument!r} is not a known instrument")
        problems += out_problems(out)
        if problems or practice is None:
            raise CommandError("; ".join(problems))
        rows = Score.objects.filter(
            instrument=instrument, administration__session__episode__client__practice=practice
        ).values_list(
            "administration__session__episode_id", "administration__session__number", "total"
        )
        frame = pl.DataFrame(
            list(rows),
            schema={"episode_id": pl.Int64, "session": pl.Int64, "score": pl.Float64},
            orient="row",
        )
        record(SYSTEM, "etr.fit", practice=practice.pk, instrument=instrument, scores=frame.height)
        episodes = frame["episode_id"].n_unique()
        try:
            model = ExpectedTreatmentResponse(instrument).fit(
                frame, reference=f"{practice.name}: {episodes} episodes"
            )
        except TrajectoryError as exc:
            raise CommandError(f"{exc} ({frame.height} scores in {episodes} episodes)") from exc
        write_model(out, model.to_json())
        name = registry.definition(instrument).short_name
        w = self.stdout.write
        w(f"Fitted {name} on {frame.height} scores in {episodes} episodes of {practice.name}.")
        w(f"The model covers sessions 2 to {model.max_session_} (later sessions take the last).")
        bands = model.expected(15, 5)
        yellow, red = (quantile_name(q) for q in (DEFAULT_RULE.yellow, DEFAULT_RULE.red))
        w(
            f"A client starting at 15 is expected at {bands[quantile_name(0.5)]:.1f} by "
            f"session 5 (yellow above {bands[yellow]:.1f}, red above {bands[red]:.1f})."
        )
        w(f"Wrote {out}. To judge {name} by it, set ETR_MODELS={instrument}={out.resolve()}")
