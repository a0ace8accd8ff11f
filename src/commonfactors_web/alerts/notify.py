"""E-mail to therapists. Messages carry no clinical detail: only that something needs their
attention and where to look (e-mail is not a safe place for health data).

The e-mail is sent by the background worker, not in the client's request: when the
transaction that raised an alert commits, :func:`send_alert_email` puts a task on the queue
(``reminders.tasks.email_alert``); the worker claims the alert's sent-once record and calls
:func:`email_therapist`. So a slow or failing mail server never slows or fails a client's
check-in, and each alert is e-mailed at most once (``docs/reminders.md``).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import DatabaseError
from django.urls import reverse

from commonfactors_web.alerts.models import Alert

logger = logging.getLogger(__name__)


def send_alert_email(alert: Alert) -> None:
    """Have the episode's therapist e-mailed about ``alert`` by the background worker, once.
    Call it after the transaction that raised the alert commits (``transaction.on_commit``).
    If the task cannot be queued the client's answers are stored all the same and the alert
    stays open in the app; the failure is logged (the alert's id only)."""
    from commonfactors_web.reminders.tasks import email_alert  # the task imports this module

    try:
        email_alert.enqueue(alert.pk)
    except DatabaseError:
        logger.exception("could not queue the e-mail about alert %s", alert.pk)


def email_therapist(alert: Alert) -> bool:
    """Tell the episode's therapist about ``alert`` now; False when they have no e-mail
    address. Called by the worker's task, which makes sure it is called once per alert."""
    therapist = alert.episode.therapist
    if not therapist.email:
        return False
    client = alert.episode.client
    url = settings.CF_SITE_URL + reverse("client_detail", args=[client.pk])
    what = "a risk answer" if alert.kind == "risk" else "a new alert"
    send_mail(
        subject=f"commonfactors: {what} for client {client.code} needs your attention",
        message=(
            f"Client {client.code} has {what} in a check-in.\n\n"
            f"Please open the client page and review it:\n{url}\n\n"
            "The alert stays open until someone resolves it."
        ),
        from_email=None,
        recipient_list=[therapist.email],
    )
    return True
