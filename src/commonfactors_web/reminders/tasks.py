"""The background tasks (Django's task framework; run by ``task_worker``).

Each is safe to run twice or in two workers at once: what it sends is claimed first on a
sent-once record (``reminders.services``). Arguments and results are plain ids and counts,
never client data, since the queue keeps them in the database.
"""

from __future__ import annotations

from typing import Any

from django_tasks import TaskContext, task

from commonfactors_web.reminders import services


def _worker(context: TaskContext) -> str:
    ids = context.task_result.worker_ids
    return f"{ids[-1] if ids else 'unknown'} (task {context.task_result.id})"


@task(takes_context=True)
def scan_reminders(context: TaskContext) -> dict[str, Any]:
    """Remind every client whose check-in is due within the lead time (once per session)."""
    return services.scan(worker=_worker(context)).as_dict()


@task(takes_context=True)
def email_alert(context: TaskContext, alert_id: int) -> str:
    """E-mail the therapist about one alert, once."""
    return services.deliver_alert_email(alert_id, worker=_worker(context))
