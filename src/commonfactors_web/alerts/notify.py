"""E-mail to therapists. Messages carry no clinical detail: only that something needs their
attention and where to look (e-mail is not a safe place for health data)."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse

from commonfactors_web.alerts.models import Alert


def send_alert_email(alert: Alert) -> bool:
    """Tell the episode's therapist about ``alert``; False when they have no e-mail address."""
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
