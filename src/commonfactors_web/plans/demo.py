"""Treatment plans for the demo practice (``seed_demo``): every episode gets a plan agreed
at its first session, one to three goals in a client's own words, goal ratings at its past
sessions that follow the client's PHQ-9 course, the techniques used in each session, and a
few later changes, so the version history has something to show. All synthetic."""

from __future__ import annotations

import random
from datetime import date, datetime, time
from typing import Any

from django.utils import timezone

from commonfactors_web.accounts.models import Practice
from commonfactors_web.checkins.services import (
    create_plan,
    default_plan,
    score_history,
    store_administrations,
)
from commonfactors_web.clients.models import Episode, EpisodeStatus
from commonfactors_web.plans import services
from commonfactors_web.plans.models import (
    Directiveness,
    EmotionalIntensity,
    FamilyInvolvement,
    SessionFormat,
    SupportChallenge,
    TimeFocus,
)
from commonfactors_web.plans.progress import GOALS

#: Goals as first put, and as reworded together a few sessions later (more concrete).
GOAL_TEXTS = (
    ("Sleep better", "Sleep through the night most nights"),
    ("Get back to football", "Go back to playing five-a-side on Thursdays"),
    ("Use the bus again", "Take the bus to work without panicking"),
    ("See more of my sister", "Ring my sister once a week"),
    ("Stop checking the door so much", "Leave the house after checking the lock only once"),
    ("Feel less on edge at work", "Speak up at least once in each team meeting"),
    ("Eat better", "Cook a proper meal three times a week"),
    ("Say no more often", "Say no to extra shifts without feeling guilty"),
    ("Get out of the house", "Walk the dog every morning"),
    ("Be calmer with the kids", "Get through a day without shouting at the kids"),
    ("Sort out work", "Start looking for a job I actually want"),
    ("Get up at the weekend", "Be up and dressed by ten at the weekend"),
)
IDENTITIES = (
    "Grew up in a Polish-speaking family; Catholic, not practising.",
    "British Pakistani, second generation; faith is important to the family.",
    "Moved here from Nigeria for university; sees herself as Yoruba and Londoner.",
    "Working-class, from a mining town; first in the family to go to university.",
    "Deaf since childhood; British Sign Language is his first language.",
)
EXPLANATIONS = (
    "Calls it 'my nerves'; thinks it comes from overwork.",
    "Sees the low mood as a weakness to keep private.",
    "Believes it started after the loss of her father and was never talked about.",
    "Thinks it runs in the family, 'like my mum'.",
)
RELATIONSHIP = (
    "Wants plain words and no jargon.",
    "Prefers a therapist who says what they think.",
    "Needs to feel the therapist understands her faith.",
    "Would like to set the pace herself.",
)
TECHNIQUES = {
    "CBT": ["psychoeducation", "cognitive_restructuring", "behavioural_activation", "exposure"],
    "guided self-help": ["psychoeducation", "behavioural_activation", "problem_solving"],
}
GAS = {
    -2: "Does not try at all",
    -1: "Tries once in the month",
    0: "Manages it most weeks",
    1: "Manages it every week",
    2: "Does it without thinking about it",
}
#: The demo measurement plan with goal ratings: the default plan's schedule plus goals.
GOALS_ENTRY = {"instrument": GOALS, "first_session": 2, "every": 1}


def _at(day: date, hour: int) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


def _choice(rng: random.Random, choices: Any, blank: float = 0.3) -> str:
    return "" if rng.random() < blank else str(rng.choice(list(choices.values)))


def seed(practice: Practice, rng: random.Random) -> None:
    """Plans, goals and goal ratings for every episode of the demo ``practice``."""
    services.catalogue(practice)
    base = default_plan(practice)
    schedule = [*(base.schedule if base else []), GOALS_ENTRY]
    goals_plan = create_plan(practice, f"{base.name if base else 'Plan'} and goals", schedule)
    episodes = Episode.objects.filter(client__practice=practice).select_related(
        "client", "therapist"
    )
    for episode in episodes.order_by("pk"):
        _seed_episode(episode, goals_plan, rng)


def _seed_episode(episode: Episode, goals_plan: Any, rng: random.Random) -> None:
    therapist = episode.therapist
    sessions = list(episode.sessions.order_by("number"))
    if not sessions:
        return
    first = max(sessions[0].date, episode.started_on)
    planned = TECHNIQUES.get(episode.modality, TECHNIQUES["CBT"])
    services.update_plan(
        episode,
        therapist,
        {
            "measurement_plan": goals_plan,
            "techniques": planned,
            "rationale": "We agreed to work on what keeps the low mood and worry going, "
            "one small step a week, and to look at the check-ins together.",
            "pref_directiveness": _choice(rng, Directiveness),
            "pref_time_focus": _choice(rng, TimeFocus),
            "pref_emotional_intensity": _choice(rng, EmotionalIntensity),
            "pref_support_challenge": _choice(rng, SupportChallenge),
            "pref_format": _choice(rng, SessionFormat, blank=0.5),
            "cultural_identity": rng.choice(IDENTITIES) if rng.random() < 0.6 else "",
            "explanation": rng.choice(EXPLANATIONS) if rng.random() < 0.6 else "",
            "family_involvement": _choice(rng, FamilyInvolvement, blank=0.5),
            "relationship": rng.choice(RELATIONSHIP) if rng.random() < 0.5 else "",
        },
        now=_at(first, 11),
    )
    chosen = rng.sample(GOAL_TEXTS, rng.randint(1, 3))
    reword = len(sessions) >= 4  # the first goal is put vaguely, and reworded at session 4
    goals = [
        services.add_goal(
            episode,
            therapist,
            vague if i == 0 and reword else concrete,
            first,
            gas=GAS if i == 0 and rng.random() < 0.3 else None,
            now=_at(first, 11),
        )
        for i, (vague, concrete) in enumerate(chosen)
    ]
    _rate(episode, sessions, goals, rng)
    services.record_session_techniques(
        episode,
        therapist,
        {s.number: rng.sample(planned, rng.randint(1, min(3, len(planned)))) for s in sessions},
        now=_at(sessions[-1].date, 12),
    )
    _later_changes(episode, sessions, goals, chosen[0][1], rng)


def _rate(episode: Episode, sessions: list[Any], goals: list[Any], rng: random.Random) -> None:
    """Goal ratings from session 2 on: a start of 1-3 that rises as the PHQ-9 falls."""
    phq9 = score_history(episode, "phq9")
    intake = phq9.get(sessions[0].number)
    starts = {g.position: rng.randint(1, 3) for g in goals}
    for s in sessions[1:]:
        if s.administrations.filter(instrument=GOALS).exists():
            continue
        score = phq9.get(s.number)
        better = 0.0 if intake is None or score is None else (intake - score) / max(intake, 1)
        answers: dict[str, int | None] = {f"{GOALS}_{n}": None for n in (1, 2, 3)}
        for g in goals:
            value = starts[g.position] + 8 * max(-0.3, min(better, 1.0)) + rng.gauss(0, 1)
            answers[f"{GOALS}_{g.position}"] = max(0, min(10, round(value)))
        entry = {"answers": answers, "answered_at": _at(s.date, 9).isoformat()}
        store_administrations(s, {GOALS: entry})


def _later_changes(
    episode: Episode, sessions: list[Any], goals: list[Any], reworded: str, rng: random.Random
) -> None:
    therapist = episode.therapist
    if len(sessions) >= 4:
        goal = goals[0]
        goal.refresh_from_db()
        services.update_goal(
            goal,
            therapist,
            text=reworded,
            agreed_on=goal.agreed_on,
            status="active",
            gas=goal.gas_levels if goal.scaled else None,
            gas_weight=goal.gas_weight,
            now=_at(sessions[3].date, 12),
        )
        if goal.scaled:
            for s, level in (
                (sessions[3], rng.choice([-1, 0])),
                (sessions[-1], rng.choice([0, 1])),
            ):
                if s.date >= goal.agreed_on and not goal.attainments.filter(rated_on=s.date):
                    services.rate_attainment(goal, therapist, level, s.date, now=_at(s.date, 12))
    if episode.status == EpisodeStatus.FINISHED and len(goals) > 1:
        goal = goals[-1]
        goal.refresh_from_db()
        services.update_goal(
            goal,
            therapist,
            text=goal.text,
            agreed_on=goal.agreed_on,
            status="achieved",
            gas=goal.gas_levels if goal.scaled else None,
            gas_weight=goal.gas_weight,
            now=_at(sessions[-1].date, 13),
        )
