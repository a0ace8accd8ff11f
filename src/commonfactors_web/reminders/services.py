"""The only functions that create or change reminders and alert e-mail records.

:func:`scan` finds the episodes whose next check-in is due within the lead time
(``REMINDER_LEAD_HOURS``), whose client has an e-mail address and no open check-in, and
for each makes sure a :class:`~commonfactors_web.reminders.models.Reminder` exists for that
session; :func:`send_reminder` claims a reminder with a conditional UPDATE and only then
creates the check-in and e-mails its link. :func:`deliver_alert_email` does the same for the
e-mail that tells a therapist about an alert. The worker runs both as tasks
(``reminders.tasks``); they are safe to run again and from several workers at once.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Model
from django.urls import reverse
from django.utils import timezone

from commonfactors_web.alerts.models import Alert
from commonfactors_web.alerts.notify import email_therapist
from commonfactors_web.audit.services import record
from commonfactors_web.checkins import services as checkins
from commonfactors_web.clients.models import Episode, EpisodeStatus
from commonfactors_web.reminders.models import AlertEmail, Delivery, Reminder
from commonfactors_web.reminders.schedule import Due, next_due

logger = logging.getLogger(__name__)


# ------------------------------------------------------------------ claiming, once


def _claim(model: type[Model], pk: int, worker: str) -> bool:
    """Move the record from pending to sending; True only for the one caller whose UPDATE
    changed the row. Runs in its own transaction so the claim holds before anything is
    sent."""
    with transaction.atomic():
        claimed = model._default_manager.filter(pk=pk, status=Delivery.PENDING).update(
            status=Delivery.SENDING, claimed_at=timezone.now(), claimed_by=worker[:80]
        )
    return claimed == 1


def _finish(model: type[Model], pk: int, status: str, problem: str = "", **fields: Any) -> None:
    model._default_manager.filter(pk=pk, status=Delivery.SENDING).update(
        status=status, finished_at=timezone.now(), problem=problem[:300], **fields
    )


def _problem(exc: Exception) -> str:
    """What went wrong, without client data: our own messages, else only the error's kind
    (a mail server's message may quote addresses)."""
    if isinstance(exc, checkins.CheckInError):
        return str(exc)
    return f"{type(exc).__name__} (see the worker's log)"


# ------------------------------------------------------------------ reminders


@dataclass
class ScanReport:
    """What one scan did (counts only: it goes to the task's result and the log)."""

    due: int = 0
    sent: int = 0
    failed: int = 0
    already: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, why: str) -> None:
        self.skipped[why] = self.skipped.get(why, 0) + 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "due": self.due,
            "sent": self.sent,
            "failed": self.failed,
            "already": self.already,
            "skipped": dict(self.skipped),
        }


def remind_from(due: Due) -> dt.datetime:
    """The moment a reminder for ``due`` may go out: the lead time before its day begins."""
    start = timezone.make_aware(dt.datetime.combine(due.date, dt.time.min))
    return start - dt.timedelta(hours=settings.CF_REMINDER_LEAD_HOURS)


def _why_not(due: Due, now: dt.datetime) -> str:
    """Why no reminder goes out for ``due`` now ("" when one should)."""
    if due.open_checkin is not None:
        return "open check-in"
    if now < remind_from(due):
        return "not yet"
    if (timezone.localdate(now) - due.date).days > settings.CF_REMINDER_MAX_LATE_DAYS:
        return "too late"
    return ""


def scan(*, now: dt.datetime | None = None, worker: str = "") -> ScanReport:
    """Remind every client whose check-in is due within the lead time, once per session."""
    now = now or timezone.now()
    report = ScanReport()
    episodes = (
        Episode.objects.filter(status=EpisodeStatus.ACTIVE)
        .exclude(client__email="")
        .values_list("pk", flat=True)
    )
    for episode_id, due in next_due(list(episodes), now=now).items():
        why = _why_not(due, now)
        if why:
            report.skip(why)
            continue
        report.due += 1
        reminder, _ = Reminder.objects.get_or_create(
            episode_id=episode_id,
            session_number=due.session_number,
            defaults={"due_on": due.date, "instruments": list(due.instruments)},
        )
        if reminder.status != Delivery.PENDING:
            report.already += 1
            continue
        status = send_reminder(reminder, worker=worker)
        if status == Delivery.SENT:
            report.sent += 1
        elif status in (Delivery.FAILED, Delivery.NO_ADDRESS):
            report.failed += 1
        else:
            report.already += 1  # another worker claimed it first
    if report.due or report.failed:
        logger.info("reminder scan: %s", report.as_dict())
    return report


def send_reminder(reminder: Reminder, *, worker: str = "") -> str:
    """Claim ``reminder`` and, if this caller won the claim, create the check-in (by the
    episode's therapist) and e-mail its link to the client. Returns the reminder's state
    afterwards; a reminder claimed by someone else is left alone ("sending" or later)."""
    if not _claim(Reminder, reminder.pk, worker):
        return str(Reminder.objects.values_list("status", flat=True).get(pk=reminder.pk))
    episode = Episode.objects.select_related("client", "therapist").get(pk=reminder.episode_id)
    try:
        with transaction.atomic():
            link = checkins.create_checkin(episode, episode.therapist, reminder.instruments)
            Reminder.objects.filter(pk=reminder.pk).update(checkin=link.checkin)
        url = settings.CF_SITE_URL + reverse("checkin_form", args=[link.token])
        sent = checkins.email_link(link.checkin, url, None)
    except Exception as exc:  # recorded for the therapist; the scan goes on
        logger.warning("reminder %s could not be sent: %s", reminder.pk, type(exc).__name__)
        _finish(Reminder, reminder.pk, Delivery.FAILED, _problem(exc))
        record(None, "reminder.fail", client=episode.client, obj=reminder)
        return Delivery.FAILED
    status = Delivery.SENT if sent else Delivery.NO_ADDRESS
    _finish(Reminder, reminder.pk, status, "" if sent else "the client has no e-mail address")
    record(
        None,
        "reminder.send",
        client=episode.client,
        obj=reminder,
        session=reminder.session_number,
        checkin=link.checkin.pk,
        emailed=sent,
    )
    return status


# ------------------------------------------------------------------ alert e-mails


def deliver_alert_email(alert_id: int, *, worker: str = "") -> str:
    """E-mail the therapist about alert ``alert_id`` unless that was done (or begun)
    before; returns the record's state afterwards."""
    alert = Alert.objects.select_related("episode__therapist", "episode__client").get(pk=alert_id)
    delivery, _ = AlertEmail.objects.get_or_create(
        alert=alert, defaults={"recipient": alert.episode.therapist}
    )
    if not _claim(AlertEmail, delivery.pk, worker):
        return str(AlertEmail.objects.values_list("status", flat=True).get(pk=delivery.pk))
    try:
        sent = email_therapist(alert)
    except Exception as exc:  # the alert itself stays open in the app
        logger.warning("e-mail about alert %s failed: %s", alert_id, type(exc).__name__)
        _finish(AlertEmail, delivery.pk, Delivery.FAILED, _problem(exc))
        return Delivery.FAILED
    status = Delivery.SENT if sent else Delivery.NO_ADDRESS
    _finish(AlertEmail, delivery.pk, status, "" if sent else "the therapist has no address")
    record(None, "alert.email", client=alert.episode.client, obj=alert, emailed=sent)
    return status
