"""``python -m commonfactors_web fit_dropout --out FILE``: fit the dropout model on the
practice's own ended episodes, to replace the shipped SYNTHETIC one.

Every ended episode (finished or dropped out) with two attended sessions and a PHQ-9 at the
first gives one row of the same features the client page uses
(:func:`commonfactors_web.clients.dropout.training_frame`); the library fits the calibrated
model (:class:`commonfactors.trajectories.DropoutModel`) and writes it as JSON. The command
prints what it used and left out, each feature's odds ratio per SD and the dropout rate,
and how to use the file (the setting ``DROPOUT_MODEL``). Features no episode has (e.g.
homework where none was set) are left out of the model and named. The read is audited.
Every problem is named at once (exit status 1); nothing is written unless the fit succeeds.
It runs even while the system check refuses the current ``DROPOUT_MODEL`` (that is how a
broken file is mended).

Only *ended* episodes have an outcome, and dropouts end sooner than finished treatments, so
among recently started episodes the ended ones hold too many dropouts; ``--started-before``
keeps to episodes that started long enough ago to have (nearly) all ended, and the command
says how many episodes of that window are still active.
"""

from __future__ import annotations

from argparse import ArgumentParser
from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from commonfactors.trajectories import TrajectoryError
from commonfactors.trajectories.dropout import DROPOUT_FEATURES, FEATURE_LABELS, DropoutModel
from commonfactors_web.accounts.services import practice_named
from commonfactors_web.audit.services import SYSTEM, record
from commonfactors_web.clients.dropout import training_frame
from commonfactors_web.clients.models import Episode
from commonfactors_web.own_models import out_problems, write_model

#: Events per feature below which a logistic model's coefficients are unstable (Peduzzi,
#: Concato, Kemper, Holford & Feinstein 1996, J Clin Epidemiol 49:1373-1379).
EVENTS_PER_FEATURE = 10


class Command(BaseCommand):
    help = "Fit the dropout model on the practice's own ended episodes."
    requires_system_checks: list[str] = []  # noqa: RUF012 (Django's attribute)

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--out", required=True, help="the model file to write (JSON)")
        parser.add_argument("--practice", help="the practice's id or name (if several)")
        parser.add_argument(
            "--started-before",
            help="only episodes that started before this day (YYYY-MM-DD), so that nearly "
            "all of them have ended",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        problems: list[str] = []
        practice = practice_named(options["practice"], problems)
        out = Path(options["out"])
        problems += out_problems(out)
        before = None
        if options["started_before"]:
            try:
                before = date.fromisoformat(options["started_before"])
            except ValueError:
                problems.append(f"--started-before {options['started_before']!r} is not a date")
        if problems or practice is None:
            raise CommandError("; ".join(problems))
        episodes = (
            Episode.objects.filter(client__practice=practice)
            .select_related("client")
            .order_by("pk")
        )
        if before is not None:
            episodes = episodes.filter(started_on__lt=before)
        frame, left_out = training_frame(episodes)
        record(SYSTEM, "dropout.fit", practice=practice.pk, episodes=frame.height)
        features = [
            f for f in DROPOUT_FEATURES if f in frame.columns and frame[f].is_not_null().any()
        ]
        unused = [f for f in DROPOUT_FEATURES if f not in features]
        if frame.height == 0:
            raise CommandError(f"no ended episode can be used ({self._why(left_out)})")
        try:
            model = DropoutModel(features).fit(
                frame,
                frame["dropout"],
                reference=f"{practice.name}: {frame.height} ended episodes",
            )
        except TrajectoryError as exc:
            raise CommandError(f"{exc} ({self._why(left_out)})") from exc
        write_model(out, model.to_json())
        w = self.stdout.write
        dropouts = int(frame["dropout"].sum())
        w(f"Fitted on {frame.height} ended episodes of {practice.name}: {dropouts} dropped out "
          f"({dropouts / frame.height:.1%}).")  # fmt: skip
        if any(left_out.values()):
            w(f"Left out: {self._why(left_out)}.")
        if left_out["still active"]:
            w(
                "Dropouts end sooner than finished treatments, so while episodes are still "
                "active the ended ones hold too many dropouts; --started-before DATE keeps to "
                "episodes old enough to have ended."
            )
        if unused:
            w(
                "Not in the model (no episode has it): "
                + ", ".join(FEATURE_LABELS[f] for f in unused)
            )
        fewer = min(dropouts, frame.height - dropouts)
        if fewer < EVENTS_PER_FEATURE * len(features):
            w(
                f"Caution: {fewer} episodes in the smaller outcome group for {len(features)} "
                f"features — fewer than {EVENTS_PER_FEATURE} per feature (Peduzzi et al. 1996), "
                "so these odds ratios are unstable; keep the shipped model until more episodes "
                "have ended."
            )
        w("Odds ratio of dropout per SD:")
        for name, ratio in model.odds_ratios().items():
            w(f"  {FEATURE_LABELS[name]}: {ratio:.2f}")
        w(f"Wrote {out}. To use it on the client page, set DROPOUT_MODEL={out.resolve()}")

    @staticmethod
    def _why(left_out: dict[str, int]) -> str:
        return "; ".join(f"{n} {why}" for why, n in left_out.items() if n) or "none left out"
