"""Demo support reviews for ``seed_demo``: two red alerts of the synthetic practice are
answered by a completed support review with adaptations (one of them followed by a later
session, so the closed loop has something to show), and an open red alert is left for the
demo user (therapist1) to review themselves.

Everything goes through the app's services, as in real use. The answers are invented for
the demo, chosen from the episode's own measures where there are any.
"""

from __future__ import annotations

import random
from typing import Any

from django.utils import timezone

from commonfactors_web.alerts.models import Alert, AlertKind
from commonfactors_web.checkins import services as checkin_services
from commonfactors_web.checkins.models import Administration
from commonfactors_web.clients.models import Attendance, Episode, EpisodeStatus
from commonfactors_web.reviews import services
from commonfactors_web.reviews.services import Chosen

#: The demo user (the therapist whose client link ``seed_demo`` prints).
DEMO_USER = "therapist1"
#: Another therapist, for a second completed review.
OTHER = "therapist2"

OWN = Chosen(
    "own",
    "Agree with the client to meet weekly for the next four sessions, then review.",
    "Progress has stalled; closer contact while the plan changes.",
)


def _open_red(practice: Any, username: str) -> list[Alert]:
    """One open red alert per active episode of ``username``, by client code."""
    seen: set[int] = set()
    out = []
    for alert in (
        Alert.objects.open()
        .filter(
            episode__client__practice=practice,
            episode__therapist__username=username,
            episode__status=EpisodeStatus.ACTIVE,
            kind=AlertKind.NOT_ON_TRACK,
        )
        .select_related("episode__therapist", "episode__client")
        .order_by("episode__client__code", "instrument")
    ):
        if alert.episode_id not in seen:
            seen.add(alert.episode_id)
            out.append(alert)
    return out


def seed(practice: Any, rng: random.Random) -> list[Any]:
    """Two completed support reviews (one of the demo user's, followed by a later session so
    the closed loop shows, and one of another therapist's), leaving the demo user an open
    red alert to review. Where the synthetic history left the demo user fewer than two open
    red alerts, recent sessions answered worse are added until it has two (the alerts are
    raised by the library, as for any session)."""
    for episode in (
        Episode.objects.filter(
            client__practice=practice,
            therapist__username=DEMO_USER,
            status=EpisodeStatus.ACTIVE,
        )
        .exclude(alerts__kind=AlertKind.NOT_ON_TRACK, alerts__resolved_at__isnull=True)
        .order_by("client__code")[:6]
    ):
        if len(_open_red(practice, DEMO_USER)) >= 2:
            break
        _later_session(episode, step=+2)
    reviews = []
    mine = _open_red(practice, DEMO_USER)
    if len(mine) >= 2:
        reviews.append(_review(mine[0], rng, follow_up=True))
    other = _open_red(practice, OTHER)
    if other:
        reviews.append(_review(other[0], rng, follow_up=not reviews))
    return reviews


def _answers(alert: Alert, rng: random.Random) -> dict[str, Any]:
    factors = {f.instrument: f for f in services.latest_factors(alert.episode)}
    alliance = factors["cf_alliance"].value
    return {
        "safety_concern": "no",
        "alliance_bond": 1 if alliance is not None and alliance < 3 else 3,
        "alliance_strain": "withdrawal" if alliance is not None and alliance < 3 else "none",
        "goals_agreed": rng.choice([2, 3]),
        "homework_done": rng.choice(["little", "half"]),
        "support_people": rng.choice([1, 3]),
        "life_event": rng.choice(["yes", "no"]),
        "expect_benefit": 2,
        "alliance_note": "Quiet in the last sessions; agrees with everything (demo note).",
    }


def _review(alert: Alert, rng: random.Random, *, follow_up: bool) -> Any:
    therapist = alert.episode.therapist
    answers = _answers(alert, rng)
    _, suggestions = services.suggestions_for(alert, answers)
    offered = [s for s in suggestions if s.rule != "not_on_track_feedback"][:2]
    chosen = [Chosen(s.rule, s.text, f"{s.title}: {'; '.join(s.because)}.") for s in offered]
    review = services.save_review(
        alert,
        therapist,
        answers,
        chosen=chosen,
        own=[OWN] if follow_up else [],
        notes="Looked at the progress graph together with the client (demo review).",
        also=[a.pk for a in services.other_open_alerts(alert)],
    )
    if follow_up:
        _later_session(alert.episode)
    return review


def _later_session(episode: Episode, *, step: int = -1) -> None:
    """A recent session: every outcome item ``step`` steps better (negative) or worse
    (positive), the PHQ-9 risk item answered 0 (the demo keeps its one risk alert); the
    alliance items one step higher after a review, unchanged otherwise."""
    number = checkin_services.next_session_number(episode)
    latest: dict[str, dict[str, Any]] = {}
    for a in Administration.objects.filter(session__episode=episode).order_by("session__number"):
        latest[a.instrument] = dict(a.answers)
    entries = {}
    for instrument in ("phq9", "gad7"):
        if instrument in latest:
            answers = {
                k: 0 if k == "phq9_9" else min(3, max(0, int(v or 0) + step))
                for k, v in latest[instrument].items()
            }
            entries[instrument] = {"answers": answers}
    if "cf_alliance" in latest:
        better = 1 if step < 0 else 0
        answers = {k: min(4, int(v or 0) + better) for k, v in latest["cf_alliance"].items()}
        entries["cf_alliance"] = {"answers": answers}
    checkin_services.record_past_session(
        episode,
        number,
        timezone.localdate(),
        Attendance.ATTENDED,
        entries,
        user=episode.therapist,
    )
