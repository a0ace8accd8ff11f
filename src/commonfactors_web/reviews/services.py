"""The only functions that create support reviews, adaptations and review questionnaires,
and the reads the review pages need.

The rules live in the library (:mod:`commonfactors.support`): the review definition, the
checking of answers, the adaptation rules and the closed loop. Here the latest measured
factors and signals are read from the database and handed to it, and what was shown and
chosen is stored: :func:`save_review` writes the review, its adaptations and resolves the
alerts it answers in one transaction, or raises :class:`ReviewError` naming every problem
and writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max

from commonfactors import support
from commonfactors_web.alerts import services as alert_services
from commonfactors_web.alerts.models import REVIEWABLE, Alert, AlertKind, Signal, SignalKind
from commonfactors_web.audit.services import record
from commonfactors_web.checkins.instruments import administrable, short_name
from commonfactors_web.checkins.models import Score
from commonfactors_web.checkins.services import NewLink, create_checkin
from commonfactors_web.clients.models import Episode, Session
from commonfactors_web.homework.services import completion
from commonfactors_web.reviews.models import Adaptation, ReviewQuestionnaire, SupportReview

#: The most adaptations of the therapist's own words one review records.
OWN_LIMIT = 3
TEXT_LIMIT = 4000


class ReviewError(ValueError):
    """A review that cannot be saved as asked; ``problems`` names every problem."""

    def __init__(self, message: str, problems: Sequence[str] = ()) -> None:
        self.problems: tuple[str, ...] = tuple(problems) or (message,)
        super().__init__(message if not problems else f"{message}: {'; '.join(problems)}")


# ------------------------------------------------------------------ reading the factors


@dataclass(frozen=True)
class FactorRow:
    """The latest measurement of one factor instrument of a review domain (``value`` None:
    not measured in this episode)."""

    domain: str
    instrument: str
    name: str
    value: float | None
    session: int | None = None
    on: date | None = None
    items: Mapping[str, float | None] = field(default_factory=dict)
    subscales: Mapping[str, float | None] = field(default_factory=dict)

    @property
    def reading(self) -> support.FactorReading:
        return support.FactorReading(
            self.instrument, self.value, self.session, self.on, self.items, self.subscales
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "instrument": self.instrument,
            "name": self.name,
            "value": self.value,
            "session": self.session,
            "date": self.on.isoformat() if self.on else None,
            "items": dict(self.items),
            "subscales": dict(self.subscales),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> FactorRow:
        return cls(
            domain=str(d.get("domain", "")),
            instrument=str(d["instrument"]),
            name=str(d.get("name", d["instrument"])),
            value=d.get("value"),
            session=d.get("session"),
            on=date.fromisoformat(d["date"]) if d.get("date") else None,
            items=d.get("items") or {},
            subscales=d.get("subscales") or {},
        )


def _number(v: Any) -> float | None:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def _reading_of(score: Score) -> tuple[int, date, dict[str, float | None], dict[str, Any]]:
    session = score.administration.session
    items = {k: _number(v) for k, v in (score.administration.answers or {}).items()}
    return session.number, session.date, items, dict(score.subscales or {})


def latest_factors(episode: Episode, *, up_to_session: int | None = None) -> list[FactorRow]:
    """Every factor instrument of the review's domains, in the review's order, with its
    latest score in ``episode`` (up to ``up_to_session``), or as not measured."""
    review = support.default_review()
    scores = Score.objects.filter(
        administration__session__episode=episode, instrument__in=review.factor_instruments
    ).select_related("administration__session")
    if up_to_session is not None:
        scores = scores.filter(administration__session__number__lte=up_to_session)
    latest: dict[str, Score] = {}
    for s in scores.order_by("instrument", "-administration__session__number"):
        latest.setdefault(s.instrument, s)
    rows = []
    for domain in review.domains:
        for instrument in domain.factors:
            score = latest.get(instrument)
            if score is None:
                rows.append(FactorRow(domain.id, instrument, short_name(instrument), None))
                continue
            number, on, items, subscales = _reading_of(score)
            rows.append(
                FactorRow(
                    domain.id, instrument, short_name(instrument), score.total, number, on,
                    items, subscales,
                )
            )  # fmt: skip
    return rows


def outcome_instrument(alert: Alert) -> str:
    """The outcome the closed loop follows: the alert's own for an outcome alert, else the
    practice's primary outcome."""
    if alert.kind in (AlertKind.NOT_ON_TRACK, AlertKind.LESS_CHANGE) and alert.instrument:
        return alert.instrument
    return str(settings.CF_PRIMARY_OUTCOME)


def current_signals(episode: Episode, outcome: str) -> dict[str, str | None]:
    """The episode's latest judged outcome status of ``outcome`` and its latest alliance
    status, as the library judged them."""
    judged = Signal.objects.filter(episode=episode).exclude(status="").order_by("-session_number")
    latest_outcome = judged.filter(kind=SignalKind.OUTCOME, instrument=outcome).first()
    latest_alliance = judged.filter(kind=SignalKind.ALLIANCE).first()
    return {
        "outcome": latest_outcome.status if latest_outcome else None,
        "alliance": latest_alliance.status if latest_alliance else None,
    }


def suggestions_for(
    alert: Alert, answers: Mapping[str, object]
) -> tuple[dict[str, support.Answer], list[support.Suggestion]]:
    """The kept answers and the library's suggestions for them, from the episode's latest
    factors, signals and homework completion. Raises
    :class:`commonfactors.support.SupportError` for bad answers."""
    kept = support.validate_answers(answers)
    factors = latest_factors(alert.episode)
    signals = current_signals(alert.episode, outcome_instrument(alert))
    homework = completion(alert.episode)
    return kept, support.suggest(
        kept, [f.reading for f in factors], signals=signals, homework=homework
    )


def other_open_alerts(alert: Alert) -> list[Alert]:
    """The other open red, yellow and rupture alerts of the episode (one review can answer
    them all)."""
    return list(
        Alert.objects.open()
        .filter(episode_id=alert.episode_id, kind__in=REVIEWABLE)
        .exclude(pk=alert.pk)
        .by_urgency()
    )


def review_of(alert: Alert) -> SupportReview | None:
    """The support review that answered ``alert``, if any."""
    return (
        SupportReview.objects.filter(answered_alerts=alert)
        .select_related("created_by", "alert")
        .first()
    )


# ------------------------------------------------------------------ the client questionnaire


def questionnaire_instruments() -> list[str]:
    """The review definition's client questionnaire, as far as it can be asked here."""
    known = set(administrable())
    return [i for i in support.default_review().client_questionnaire if i in known]


def send_questionnaire(alert: Alert, user: Any) -> NewLink:
    """A check-in of the review's practice questions for the client of ``alert``'s episode:
    a private link, shown once. Raises ReviewError for an alert that is not open for review."""
    if not alert.is_reviewable or not alert.is_open:
        raise ReviewError("questionnaires are sent from the review of an open alert")
    with transaction.atomic():
        link = create_checkin(alert.episode, user, questionnaire_instruments())
        ReviewQuestionnaire.objects.create(alert=alert, checkin=link.checkin)
        record(
            user,
            "review.questionnaire",
            client=alert.episode.client,
            obj=alert,
            checkin=link.checkin.pk,
        )
    return link


def questionnaires_of(alert: Alert) -> list[ReviewQuestionnaire]:
    return list(alert.review_questionnaires.select_related("checkin"))


# ------------------------------------------------------------------ saving a review


@dataclass(frozen=True)
class Chosen:
    """An adaptation the therapist keeps: a rule's suggestion as edited (``rule`` its id),
    or their own (``rule`` = ``own``)."""

    rule: str
    text: str
    reason: str


def _check_adaptations(
    chosen: Sequence[Chosen], own: Sequence[Chosen], suggested: Iterable[str]
) -> list[str]:
    problems = []
    offered = set(suggested)
    titles = {r.id: r.title for r in support.default_rules().rules}
    for c in chosen:
        label = f"“{titles.get(c.rule, c.rule)}”"
        if c.rule not in offered:
            problems.append(
                f"{label} is not suggested for these answers: show the suggestions again"
            )
        if not c.text.strip():
            problems.append(f"{label}: the adaptation text is empty")
        if not c.reason.strip():
            problems.append(f"{label}: say why (the reason is empty)")
    for n, c in enumerate(own, 1):
        if c.text.strip() and not c.reason.strip():
            problems.append(f"your own adaptation {n}: say why (the reason is empty)")
        if c.reason.strip() and not c.text.strip():
            problems.append(f"your own adaptation {n}: the adaptation text is empty")
    if len([c for c in own if c.text.strip()]) > OWN_LIMIT:
        problems.append(f"at most {OWN_LIMIT} adaptations of your own per review")
    problems += [
        f"{'an adaptation' if c.rule != Adaptation.OWN else 'your own adaptation'}: at most "
        f"{TEXT_LIMIT} characters"
        for c in [*chosen, *own]
        if len(c.text.strip()) > TEXT_LIMIT or len(c.reason.strip()) > TEXT_LIMIT
    ]
    return problems


def _resolution(review: SupportReview, adaptations: Sequence[Adaptation], notes: str) -> str:
    if not adaptations:
        return f"Support review {review.pk}: no change to the plan. {notes}".strip()
    titles = {r.id: r.title for r in support.default_rules().rules}
    named = [titles.get(a.rule, "own adaptation") for a in adaptations]
    return (
        f"Support review {review.pk}: {len(adaptations)} adaptation"
        f"{'' if len(adaptations) == 1 else 's'} ({'; '.join(named)})."
    )


def save_review(
    alert: Alert,
    user: Any,
    answers: Mapping[str, object],
    *,
    chosen: Sequence[Chosen] = (),
    own: Sequence[Chosen] = (),
    notes: str = "",
    also: Sequence[int] = (),
) -> SupportReview:
    """Store the review of ``alert``: the answers, the factors and signals seen, the
    suggestions shown for these answers, the adaptations kept (``chosen`` from the
    suggestions, edited as the therapist likes, and ``own``), and resolve ``alert`` and the
    other open alerts of the episode listed in ``also`` with a resolution that names the
    review. One transaction; :class:`ReviewError` names every problem and nothing is saved."""
    problems: list[str] = []
    if not alert.is_reviewable:
        problems.append("only red, yellow and alliance-rupture alerts are resolved by a review")
    kept: dict[str, support.Answer] = {}
    suggestions: list[support.Suggestion] = []
    try:
        kept, suggestions = suggestions_for(alert, answers)
    except support.SupportError as exc:
        problems += exc.problems
    else:
        if not kept:
            problems.append("answer at least one question of the review")
    own = [c for c in own if c.text.strip() or c.reason.strip()]
    problems += _check_adaptations(chosen, own, [s.rule for s in suggestions])
    if not chosen and not own and not notes.strip():
        problems.append(
            "choose or write at least one adaptation, or say in the notes why the plan stays "
            "as it is"
        )
    others = {a.pk: a for a in other_open_alerts(alert)}
    problems += [
        f"alert {pk} is not another open alert of this episode" for pk in also if pk not in others
    ]
    if problems:
        raise ReviewError("the support review cannot be saved", problems)
    with transaction.atomic():
        locked = Alert.objects.select_for_update().filter(pk=alert.pk, resolved_at__isnull=True)
        if not locked.exists():
            raise ReviewError(
                "the support review cannot be saved", ["this alert was resolved meanwhile"]
            )
        review = _create(alert, user, kept, suggestions, chosen, notes)
        adaptations = [
            Adaptation.objects.create(
                episode=alert.episode,
                review=review,
                alert=alert,
                text=c.text.strip(),
                reason=c.reason.strip(),
                rule=c.rule if c.rule in {s.rule for s in suggestions} else Adaptation.OWN,
                created_by=user,
            )
            for c in [*chosen, *[Chosen(Adaptation.OWN, o.text, o.reason) for o in own]]
        ]
        answered = [alert, *(others[pk] for pk in dict.fromkeys(also))]
        review.answered_alerts.add(*answered)
        resolution = _resolution(review, adaptations, notes.strip())
        for a in answered:
            alert_services.resolve(a, user, resolution)
        client = alert.episode.client
        record(
            user,
            "review.create",
            client=client,
            obj=review,
            alerts=[a.pk for a in answered],
            rules=[a.rule for a in adaptations],
        )
        for a in adaptations:
            record(user, "adaptation.create", client=client, obj=a, rule=a.rule, review=review.pk)
    return review


def _create(
    alert: Alert,
    user: Any,
    kept: Mapping[str, support.Answer],
    suggestions: Sequence[support.Suggestion],
    chosen: Sequence[Chosen],
    notes: str,
) -> SupportReview:
    episode = alert.episode
    factors = latest_factors(episode)
    readings = [f.reading for f in factors]
    outcome = outcome_instrument(alert)
    signals = current_signals(episode, outcome)
    if alert.kind == AlertKind.ALLIANCE_RUPTURE and alert.instrument:
        factor: str | None = alert.instrument
    else:
        offered = {s.rule for s in suggestions}
        factor = support.watched_factor([c.rule for c in chosen if c.rule in offered], readings)
    before = next((f.value for f in factors if f.instrument == factor), None)
    last = Session.objects.filter(episode=episode).aggregate(n=Max("number"))["n"]
    return SupportReview.objects.create(
        episode=episode,
        alert=alert,
        definition_version=support.default_review().version,
        rules_version=support.default_rules().version,
        answers=dict(kept),
        factors=[f.as_dict() for f in factors],
        signals=signals,
        suggestions=[s.as_dict() for s in suggestions],
        session_number=last,
        outcome_instrument=outcome,
        outcome_status=signals.get("outcome") or "",
        factor=factor or "",
        factor_value=before,
        notes=notes.strip(),
        created_by=user,
    )


# ------------------------------------------------------------------ after the review


def closed_loop(review: SupportReview) -> support.ClosedLoop:
    """Did the factor the review targeted improve, and did the outcome get back on track,
    at the sessions after it (judged by the library from the stored scores and signals)?"""
    after_session = review.session_number or 0
    factor = review.factor or None
    before = None
    after: list[support.FactorReading] = []
    if factor is not None:
        snapshot = next((f for f in review.factors if f.get("instrument") == factor), None)
        if snapshot is not None and snapshot.get("value") is not None:
            before = FactorRow.from_dict(snapshot).reading
        elif review.factor_value is not None:
            before = support.FactorReading(factor, review.factor_value)
        for s in (
            Score.objects.filter(
                administration__session__episode_id=review.episode_id,
                administration__session__number__gt=after_session,
                instrument=factor,
            )
            .select_related("administration__session")
            .order_by("administration__session__number")
        ):
            number, on, items, subscales = _reading_of(s)
            after.append(support.FactorReading(factor, s.total, number, on, items, subscales))
    statuses = list(
        Signal.objects.filter(
            episode_id=review.episode_id,
            instrument=review.outcome_instrument,
            kind=SignalKind.OUTCOME,
            session_number__gt=after_session,
        )
        .order_by("session_number")
        .values_list("status", flat=True)
    )
    name = short_name(review.outcome_instrument) if review.outcome_instrument else "outcome"
    return support.closed_loop(
        factor,
        before,
        after,
        review.outcome_status or None,
        statuses,
        outcome_name=f"The {name} signal",
    )


def adaptations_of(episode: Episode) -> list[Adaptation]:
    """The episode's adaptation log, newest first."""
    return list(
        Adaptation.objects.filter(episode=episode)
        .select_related("created_by", "review", "alert")
        .order_by("-review__created_at", "-review_id", "pk")
    )
