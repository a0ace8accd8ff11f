"""The therapist's view of the check-in schedule: what is due, and each reminder's fate."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from commonfactors_web.accounts import access
from commonfactors_web.audit.services import record
from commonfactors_web.checkins.instruments import short_name
from commonfactors_web.clients.models import Episode, EpisodeStatus
from commonfactors_web.reminders.models import Reminder
from commonfactors_web.reminders.schedule import next_due

#: The schedule lists check-ins due within this many days (and every overdue one).
HORIZON_DAYS = 7
#: Reminders of this many past days are listed.
HISTORY_DAYS = 30


@require_GET
@login_required
def reminders(request: HttpRequest) -> HttpResponse:
    clients = access.visible_clients(request.user)
    episodes = {
        e.pk: e
        for e in Episode.objects.filter(client__in=clients, status=EpisodeStatus.ACTIVE)
        .select_related("client", "therapist")
        .order_by()
    }
    today = timezone.localdate()
    horizon = today + timedelta(days=HORIZON_DAYS)
    dues = next_due(list(episodes))
    sent = {
        (r.episode_id, r.session_number): r
        for r in Reminder.objects.filter(episode_id__in=list(dues)).order_by()
    }
    schedule = sorted(
        (
            {
                "episode": episodes[episode_id],
                "due": due,
                "names": [short_name(i) for i in due.instruments],
                "reminder": sent.get((episode_id, due.session_number)),
            }
            for episode_id, due in dues.items()
            if due.date <= horizon
        ),
        key=lambda row: (row["due"].date, row["episode"].client.code),
    )
    history = list(
        Reminder.objects.filter(
            episode__client__in=clients, due_on__gte=today - timedelta(days=HISTORY_DAYS)
        ).select_related("episode__client", "checkin")
    )
    record(
        request.user,
        "reminders.view",
        clients=sorted({row["episode"].client_id for row in schedule}),
    )
    return render(
        request,
        "reminders/reminders.html",
        {
            "schedule": schedule,
            "history": history,
            "horizon_days": HORIZON_DAYS,
            "history_days": HISTORY_DAYS,
            "lead_hours": settings.CF_REMINDER_LEAD_HOURS,
            "show_therapist": access.is_team_supervisor(request.user),
        },
    )
