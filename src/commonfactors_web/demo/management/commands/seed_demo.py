"""``python -m commonfactors_web seed_demo``: a synthetic demo practice.

Loads a practice from ``commonfactors.synth`` (3 therapists with about 60 clients with
realistic histories, some not on track, one open risk alert), creates the demo logins and
one working client link, and prints them. It migrates nothing itself (run ``migrate``
first). Run twice, it keeps the practice and prints the logins and a fresh link again.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

import polars as pl
from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from commonfactors.synth import generate
from commonfactors_web.accounts.models import Practice, Role, User
from commonfactors_web.accounts.services import create_practice, create_team, create_user
from commonfactors_web.alerts import services as alert_services
from commonfactors_web.alerts.models import Alert, AlertKind, Signal
from commonfactors_web.checkins import services as checkin_services
from commonfactors_web.clients.models import Attendance, Client, EpisodeStatus
from commonfactors_web.clients.services import create_client
from commonfactors_web.homework import demo as homework_demo
from commonfactors_web.plans import demo as plans_demo
from commonfactors_web.reviews import demo as reviews_demo

PRACTICE = "Demo practice (synthetic clients)"
#: clients whose episode has ended, besides the current caseload (the practice view needs
#: at least 10 ended episodes per therapist for a profile)
PAST_CLIENTS = 36
PASSWORD = "demo-password"
PEOPLE = (
    ("admin", Role.ADMIN, "Alex", "Admin"),
    ("supervisor", Role.SUPERVISOR, "Sam", "Supervisor"),
    ("therapist1", Role.THERAPIST, "Theo", "Therapist"),
    ("therapist2", Role.THERAPIST, "Tara", "Therapist"),
    ("therapist3", Role.THERAPIST, "Toni", "Therapist"),
)
PLAN = (
    {"instrument": "phq9", "first_session": 1, "every": 1},
    {"instrument": "gad7", "first_session": 1, "every": 1},
    {"instrument": "cf_alliance", "first_session": 2, "every": 1},
)
ITEMS = {
    "phq9": [f"phq9_{i}" for i in range(1, 10)],
    "gad7": [f"gad7_{i}" for i in range(1, 8)],
}
RESOLVED_NOTE = "Discussed in session; plan reviewed (synthetic demo history)."


def alliance_items(mean_1_to_5: float) -> dict[str, int]:
    """Four 0-4 practice-question answers whose mean is the synthetic session alliance
    (a 1-5 item mean) moved to 0-4, as near as whole answers allow."""
    target = max(0, min(16, round(4 * (mean_1_to_5 - 1))))
    base, extra = divmod(target, 4)
    return {f"cf_alliance_{i + 1}": base + (1 if i < extra else 0) for i in range(4)}


class Command(BaseCommand):
    help = "Load a synthetic demo practice and print the demo logins and one client link."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--clients", type=int, default=60)
        parser.add_argument(
            "--past-clients",
            type=int,
            default=PAST_CLIENTS,
            help="clients whose episode has ended, on top of --clients (for the practice view)",
        )
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--site-url", default=settings.CF_SITE_URL)

    def handle(self, *args: Any, **options: Any) -> None:
        practice = Practice.objects.filter(name=PRACTICE).first()
        if practice is None:
            self.stdout.write(
                f"Loading {options['clients']} synthetic clients and "
                f"{options['past_clients']} past ones …"
            )
            with transaction.atomic():
                practice = self._load(options["clients"], options["seed"], options["past_clients"])
        else:
            self.stdout.write("The demo practice exists already; keeping it.")
        self._print(practice, options["site_url"].rstrip("/"))

    # ------------------------------------------------------------------ loading

    def _load(self, n_clients: int, seed: int, n_past: int = 0) -> Practice:
        practice = create_practice(PRACTICE)
        team = create_team(practice, "Team A")
        therapists = []
        for username, role, first, last in PEOPLE:
            user = create_user(
                username,
                PASSWORD,
                role=role,
                practice=practice,
                team=None if role == Role.ADMIN else team,
                first_name=first,
                last_name=last,
                email=f"{username}@demo.invalid",
            )
            if role == Role.THERAPIST:
                therapists.append(user)
        plan = checkin_services.create_plan(
            practice, "PHQ-9, GAD-7 and alliance", PLAN, is_default=True
        )
        registry = generate(n_clients * 3, seed=seed)
        episodes = registry.episodes.filter(pl.col("episode_number") == 1).head(n_clients)
        sessions = registry.sessions.filter(pl.col("attended"))
        rng = random.Random(seed)
        today = timezone.localdate()
        for index, ep in enumerate(episodes.iter_rows(named=True)):
            rows = sessions.filter(pl.col("episode_id") == ep["episode_id"]).sort("session")
            self._load_episode(index, ep, rows, therapists[index % 3], plan, rng, today)
        # past clients: whole episodes that have ended, so that the practice view has enough
        # ended episodes per therapist for a profile (its minimum caseload is 10)
        past = generate(max(n_past, 1) * 3, seed=seed + 1)
        past_sessions = past.sessions.filter(pl.col("attended"))
        past_episodes = past.episodes.filter(pl.col("episode_number") == 1).head(n_past)
        for offset, ep in enumerate(past_episodes.iter_rows(named=True)):
            index = n_clients + offset
            rows = past_sessions.filter(pl.col("episode_id") == ep["episode_id"]).sort("session")
            self._load_episode(index, ep, rows, therapists[index % 3], plan, rng, today, ended=True)
        self._settle_alerts(practice)
        homework_demo.seed(practice, rng)
        reviews_demo.seed(practice, rng)
        plans_demo.seed(practice, rng)
        # slot:demo — each app adds its demo records here (plans, reviews, homework, reminders)
        return practice

    def _load_episode(
        self,
        index: int,
        ep: dict[str, Any],
        rows: pl.DataFrame,
        therapist: User,
        plan: Any,
        rng: random.Random,
        today: date,
        *,
        ended: bool = False,
    ) -> None:
        n = rows.height
        ongoing = not ended and n > 2 and rng.random() < 0.75
        keep = rng.randint(2, n) if ongoing else n
        rows = rows.head(keep)
        last_date: date = rows["date"][-1]
        shift = (
            today - timedelta(days=rng.randint(1, 12) if ongoing else rng.randint(20, 200))
        ) - last_date
        client = create_client(
            therapist,
            f"C-{index + 1:04d}",
            gender=str(ep["gender"]),
            birth_year=_birth_year(str(ep["age_band"]), rng),
            presenting_concerns="(synthetic)",
            modality="CBT" if ep["intensity"] == "high" else "guided self-help",
            started_on=ep["start_date"] + shift,
            measurement_plan=plan,
            # every third client can be e-mailed, so the demo's worker sends real reminders
            # (printed on the console: the demo's e-mail backend)
            email=f"c-{index + 1:04d}@demo.invalid" if index % 3 == 0 else "",
        )
        episode = client.episodes.get()  # create_client opens exactly one
        for row in rows.iter_rows(named=True):
            number = int(row["treatment_session"])
            entries: dict[str, dict[str, Any]] = {
                inst: {"answers": {i: row[i] for i in items}} for inst, items in ITEMS.items()
            }
            if number >= 2 and row["alliance"] is not None:
                entries["cf_alliance"] = {"answers": alliance_items(float(row["alliance"]))}
            checkin_services.record_past_session(
                episode,
                number,
                row["date"] + shift,
                Attendance.ATTENDED,
                entries,
                user=therapist,
            )
        if rows.height >= 2:
            first, second = (rows["date"][i] + shift for i in (0, 1))
            # its own random stream, so the rest of the demo stays as it was
            homework_rng = random.Random(index)
            homework_demo.first_task(
                episode, therapist, (first, second), rows["homework"][1], homework_rng
            )
        if not ongoing:
            episode.status = EpisodeStatus.DROPPED_OUT if ep["dropout"] else EpisodeStatus.FINISHED
            episode.ended_on = rows["date"][-1] + shift
            episode.save(update_fields=["status", "ended_on"])

    def _settle_alerts(self, practice: Practice) -> None:
        """A real practice has dealt with its past alerts: keep open only the alerts of
        active episodes whose latest signal still says so, and exactly one risk alert."""
        kept_risk = False
        alerts = Alert.objects.filter(episode__client__practice=practice).select_related("episode")
        for alert in alerts.order_by("-session_number", "pk"):
            episode = alert.episode
            latest = (
                Signal.objects.filter(episode=episode, instrument=alert.instrument)
                .order_by("-session_number")
                .first()
            )
            active = episode.status == EpisodeStatus.ACTIVE and latest is not None
            if alert.kind == AlertKind.RISK:
                if active and alert.session_number == latest.session_number and not kept_risk:
                    kept_risk = True
                    continue
            elif active and latest.status in ("red", "rupture", "unrepaired"):
                continue
            alert_services.resolve(alert, episode.therapist, RESOLVED_NOTE)

    # ------------------------------------------------------------------ printing

    def _print(self, practice: Practice, site_url: str) -> None:
        therapist = User.objects.get(username="therapist1")
        client = (
            Client.objects.filter(therapist=therapist, episodes__status=EpisodeStatus.ACTIVE)
            .exclude(
                episodes__alerts__kind=AlertKind.RISK, episodes__alerts__resolved_at__isnull=True
            )
            .order_by("code")
            .first()
        )
        self.stdout.write("")
        self.stdout.write(f"Demo practice: {practice.name}")
        self.stdout.write(f"Logins (password for all: {PASSWORD}):")
        for username, role, first, last in PEOPLE:
            self.stdout.write(f"  {username:<11} {role.label:<10} {first} {last}")
        if client is not None:
            episode = client.episodes.get(status=EpisodeStatus.ACTIVE)
            link = checkin_services.create_checkin(episode, therapist)
            url = site_url + reverse("checkin_form", args=[link.token])
            self.stdout.write("")
            self.stdout.write(
                f"A client link for {client.code} (therapist1; works once, for "
                f"{settings.CF_CHECKIN_TTL_HOURS} h):"
            )
            self.stdout.write(f"  {url}")


def _birth_year(age_band: str, rng: random.Random) -> int:
    low = int(age_band.rstrip("+").split("-")[0])
    high = low + 10 if age_band.endswith("+") else int(age_band.split("-")[1])
    return timezone.localdate().year - rng.randint(low, high)
