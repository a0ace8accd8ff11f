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
"""

from __future__ import annotations

import tempfile
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from commonfactors.trajectories import TrajectoryError
from commonfactors.trajectories.dropout import DROPOUT_FEATURES, FEATURE_LABELS, DropoutModel
from commonfactors_web.accounts.services import practice_named
from commonfactors_web.audit.services import SYSTEM, record
from commonfactors_web.clients.dropout import training_frame
from commonfactors_web.clients.models import Episode

#: Events per feature below which a logistic model's coefficients are unstable (Peduzzi,
#: Concato, Kemper, Holford & Feinstein 1996, J Clin Epidemiol 49:1373-1379).
EVENTS_PER_FEATURE = 10


class Command(BaseCommand):
    help = "Fit the dropout model on the practice's own ended episodes."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--out", required=True, help="the model file to write (JSON)")
        parser.add_argument("--practice", help="the practice's id or name (if several)")

    def handle(self, *args: Any, **options: Any) -> None:
        problems: list[str] = []
        practice = practice_named(options["practice"], problems)
        out = Path(options["out"])
        if out.suffix.lower() != ".json":
            problems.append(f"--out {out} must end in .json")
        if not out.parent.is_dir():
            problems.append(f"--out {out}: the directory {out.parent} does not exist")
        if problems or practice is None:
            raise CommandError("; ".join(problems))
        episodes = (
            Episode.objects.filter(client__practice=practice)
            .select_related("client")
            .order_by("pk")
        )
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
        with tempfile.NamedTemporaryFile("w", dir=out.parent, suffix=".json", delete=False) as f:
            f.write(model.to_json())
        Path(f.name).replace(out)
        w = self.stdout.write
        dropouts = int(frame["dropout"].sum())
        w(f"Fitted on {frame.height} ended episodes of {practice.name}: {dropouts} dropped out "
          f"({dropouts / frame.height:.1%}).")  # fmt: skip
        if any(left_out.values()):
            w(f"Left out: {self._why(left_out)}.")
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
