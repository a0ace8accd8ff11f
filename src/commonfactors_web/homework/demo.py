"""Demo homework for ``seed_demo``: assignments with completed entries, an overdue one, one
still to do, and journal entries (one shared, one private) for several synthetic clients.

All text is invented for the demo. Everything goes through the app's services (so the audit
log reads as in real use), with dates in the past.
"""

from __future__ import annotations

import random
import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

from django.utils import timezone

from commonfactors_web.clients.models import Episode, EpisodeStatus
from commonfactors_web.homework import services

#: How many active episodes get demo homework and a journal.
DEMO_CLIENTS = 6

#: The instructions of every episode's first task.
FIRST_TASK = "Our first task: try it once or twice before we meet again."

ENTRIES: dict[str, list[dict[str, Any]]] = {
    "thought_record": [
        {
            "situation": "My manager asked to see me at the end of the day without saying why.",
            "feelings": [
                {"feeling": "anxious", "intensity": 80},
                {"feeling": "ashamed", "intensity": 40},
            ],
            "automatic_thought": "I have done something wrong and I am going to lose my job.",
            "belief": 75,
            "evidence_for": "The report I sent on Monday had two mistakes in it.",
            "evidence_against": (
                "My last review was good. She often asks people in for a chat about plans. "
                "Two mistakes have never got anyone fired here."
            ),
            "balanced_thought": (
                "I don't know what the meeting is about. If it is the mistakes, I can fix them."
            ),
            "balanced_belief": 60,
            "feelings_after": [
                {"feeling": "anxious", "intensity": 45},
                {"feeling": "ashamed", "intensity": 15},
            ],
        },
        {
            "situation": "A friend cancelled our dinner an hour before.",
            "feelings": [{"feeling": "sad", "intensity": 70}, {"feeling": "hurt", "intensity": 60}],
            "automatic_thought": "Nobody really wants to spend time with me.",
            "belief": 65,
            "evidence_for": "This is the second time this month.",
            "evidence_against": "She said her child is ill and suggested Thursday instead.",
            "balanced_thought": "She has a lot on; she still made a new plan with me.",
            "balanced_belief": 70,
            "feelings_after": [{"feeling": "sad", "intensity": 35}],
        },
    ],
    "activity_schedule": [
        {
            "activities": [
                {
                    "day": -6,
                    "time": "08:00",
                    "activity": "Stayed in bed",
                    "mood": 2,
                    "pleasure": 1,
                    "achievement": 0,
                },
                {
                    "day": -6,
                    "time": "11:30",
                    "activity": "Walk to the park",
                    "mood": 5,
                    "pleasure": 5,
                    "achievement": 6,
                },
                {
                    "day": -5,
                    "time": "19:00",
                    "activity": "Cooked dinner with my sister",
                    "mood": 6,
                    "pleasure": 7,
                    "achievement": 5,
                },
                {
                    "day": -4,
                    "time": "21:00",
                    "activity": "Scrolled my phone",
                    "mood": 3,
                    "pleasure": 2,
                    "achievement": 0,
                },
                {
                    "day": -3,
                    "time": "10:00",
                    "activity": "Swimming",
                    "mood": 7,
                    "pleasure": 6,
                    "achievement": 8,
                },
            ],
            "notes": "Being outside or with someone helped. Evenings on my own are the worst.",
        }
    ],
    "mindfulness_log": [
        {
            "sessions": [
                {
                    "date": -6,
                    "minutes": 10,
                    "practice": "breath",
                    "notes": "Mind wandered a lot, to work mostly.",
                },
                {"date": -5, "minutes": 20, "practice": "body_scan", "notes": "Fell asleep."},
                {
                    "date": -3,
                    "minutes": 10,
                    "practice": "everyday",
                    "notes": "Washing up slowly. Calmer after.",
                },
                {"date": -1, "minutes": 15, "practice": "breath", "notes": ""},
            ]
        }
    ],
    "exposure_ladder": [
        {
            "fear": "Taking the bus on my own",
            "steps": [
                {
                    "step": "Stand at the bus stop for 10 minutes",
                    "practised_on": -6,
                    "suds_before": 40,
                    "suds_after": 20,
                },
                {
                    "step": "Ride one stop with my partner",
                    "practised_on": -4,
                    "suds_before": 55,
                    "suds_after": 30,
                },
                {
                    "step": "Ride one stop alone",
                    "practised_on": -2,
                    "suds_before": 70,
                    "suds_after": 45,
                },
                {"step": "Ride into town alone", "suds_before": 90},
            ],
            "learned": "I expected to panic and have to get off. I felt shaky but it passed.",
        }
    ],
    "dream_log": [
        {
            "dreamt_on": -2,
            "dream": (
                "I am in my grandmother's house but the rooms are bigger. I am looking for a "
                "key and every drawer has more drawers inside it. Someone is knocking."
            ),
            "feelings": "Rushed, a bit afraid. Relieved when I woke.",
            "associations": "Grandmother's house was where I went when my parents argued.",
            "waking_life": "Moving flat next month; I keep losing things.",
        }
    ],
}

JOURNAL_SHARED = (
    "I want to remember to talk about this next time. On Sunday I called my brother for the "
    "first time in months. I nearly hung up before he answered. We talked for almost an hour, "
    "mostly about nothing, and afterwards I felt lighter than I have in weeks. I also noticed "
    "the old thought — that I am a burden — and it was quieter than usual."
)
JOURNAL_PRIVATE = (
    "Bad night. Could not sleep and kept going over what I said at work. Writing it down "
    "helps a little. Not ready to share this one."
)


def _resolve(value: Any, day: datetime) -> Any:
    """Relative day numbers in the canned entries → ISO dates near ``day``."""
    if isinstance(value, dict):
        return {
            k: (day.date() + timedelta(days=v)).isoformat()
            if k in ("day", "date", "practised_on", "dreamt_on") and isinstance(v, int)
            else _resolve(v, day)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_resolve(v, day) for v in value]
    return value


def _at(days_ago: int, hour: int) -> datetime:
    day = timezone.localdate() - timedelta(days=days_ago)
    return timezone.make_aware(datetime.combine(day, time(hour, 0)))


def seed(practice: Any, rng: random.Random) -> None:
    """Homework and journal entries for a few active episodes of ``practice``."""
    episodes = (
        Episode.objects.filter(client__practice=practice, status=EpisodeStatus.ACTIVE)
        .select_related("client", "therapist")
        .order_by("client__code")[:DEMO_CLIENTS]
    )
    forms = list(ENTRIES)
    for index, episode in enumerate(episodes):
        therapist = episode.therapist
        link = services.create_link(episode, therapist, now=_at(25, 9)).link
        chosen = rng.sample(forms, 3)
        for step, form_id in enumerate(chosen):
            set_at = _at(24 - 7 * step, 10)  # due 17, 10 and 3 days ago
            assignment = services.assign(
                episode,
                therapist,
                form_id,
                instructions=rng.choice(
                    (
                        "As we agreed: once this week, when you notice your mood drop.",
                        "Try it on two or three days; short is fine.",
                        "Bring it along next session and we will go through it together.",
                    )
                ),
                due_on=(set_at + timedelta(days=7)).date(),
                now=set_at,
            )
            overdue = index % 3 == 2 and step == len(chosen) - 1
            if overdue:
                continue  # one client has not done their latest homework
            done_at = set_at + timedelta(days=rng.randint(2, 9), hours=rng.randint(0, 9))
            entry = _resolve(rng.choice(ENTRIES[form_id]), done_at)
            result = services.submit(link, assignment.pk, entry, now=done_at)
            if result.status != "completed":
                raise RuntimeError(f"demo homework was refused: {result.problems}")
        services.assign(
            episode,
            therapist,
            rng.choice(forms),
            instructions="Before our next session, please.",
            due_on=timezone.localdate() + timedelta(days=5),
            now=_at(2, 11),
        )
        services.save_journal(
            link, _uuid(rng), JOURNAL_SHARED, True, now=_at(rng.randint(3, 9), 21)
        )
        services.save_journal(
            link, _uuid(rng), JOURNAL_PRIVATE, False, now=_at(rng.randint(1, 4), 23)
        )


def first_task(
    episode: Episode,
    therapist: Any,
    sessions: tuple[date, date],
    share_done: float | None,
    rng: random.Random,
) -> None:
    """The homework set at a synthetic episode's first session and due at its second, done
    with the chance the synthetic registry gives (its share of the task done at session 2),
    so that every demo episode has the homework completion the profile and the dropout
    model read."""
    if share_done is None:
        return
    first, second = sessions
    set_at = timezone.make_aware(datetime.combine(first, time(17, 0)))
    link = services.create_link(episode, therapist, now=set_at).link
    form_id = rng.choice(list(ENTRIES))
    assignment = services.assign(
        episode, therapist, form_id, instructions=FIRST_TASK, due_on=second, now=set_at
    )
    if rng.random() >= share_done:
        return
    gap = max((second - first).days - 1, 1)
    done_at = set_at + timedelta(days=rng.randint(1, gap), hours=rng.randint(0, 5))
    entry = _resolve(rng.choice(ENTRIES[form_id]), done_at)
    if services.submit(link, assignment.pk, entry, now=done_at).status != "completed":
        raise RuntimeError(f"demo homework {form_id} was refused")


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)
