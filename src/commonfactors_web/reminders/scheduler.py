"""The worker's small scheduler: one reminder scan every ``REMINDER_SCAN_MINUTES``.

Every worker ticks (``task_worker`` runs :func:`tick` at start and then every
``TICK_SECONDS`` in a thread beside the task loop). A tick moves the shared
:class:`~commonfactors_web.reminders.models.Clock` forward with a conditional UPDATE and,
only when that UPDATE changed the row, puts a scan on the queue, in the same transaction.
So however many workers run, and however often they restart, one scan is queued per
interval; a scan that dies half-way is simply followed by the next one.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from commonfactors_web.reminders.models import Clock

#: The clock of the reminder scan.
SCAN = "reminder-scan"
#: How often a worker looks at the clock.
TICK_SECONDS = 30.0


def tick(*, now: dt.datetime | None = None) -> bool:
    """Queue a reminder scan if one is due; True when this call queued it."""
    from commonfactors_web.reminders.tasks import scan_reminders

    now = now or timezone.now()
    interval = dt.timedelta(minutes=settings.CF_REMINDER_SCAN_MINUTES)
    with transaction.atomic():
        clock, _ = Clock.objects.get_or_create(name=SCAN, defaults={"next_at": now})
        won = Clock.objects.filter(pk=clock.pk, next_at__lte=now).update(
            next_at=now + interval, last_at=now
        )
        if won:
            scan_reminders.enqueue()
    return bool(won)


def scan_now() -> None:
    """Let the next tick queue a scan at once (e.g. after changing the schedule)."""
    Clock.objects.filter(name=SCAN).update(next_at=timezone.now())
