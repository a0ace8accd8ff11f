"""``python -m commonfactors_web task_worker``: the background worker.

The database backend's own worker (``db_worker`` of django-tasks-db: it takes one queued
task at a time, marks it running, runs it, records the result), plus the reminder
scheduler (``reminders.scheduler.tick``: at start, then every 30 s in a thread beside the
task loop). It takes every ``db_worker`` option; autoreload is off unless ``--reload``.
``--scan-now`` scans at start even if the last scan was recent; ``--exit-with-parent``
stops it when the process that started it is gone (the demo).

SIGTERM or Ctrl-C lets the running task finish, then stops (a second one stops at once).
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import CommandError
from django.db import close_old_connections, connection
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV, run_with_reloader
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand
from django_tasks_db.management.commands.db_worker import Worker

from commonfactors_web.reminders import scheduler

logger = logging.getLogger("commonfactors_web.reminders")


class SchedulingWorker(Worker):
    """The database worker with the reminder scheduler in a thread beside it."""

    def __init__(self, *, tick_seconds: float, parent_pid: int | None, **options: Any) -> None:
        super().__init__(**options)
        self.tick_seconds = tick_seconds
        self.parent_pid = parent_pid
        self._stopped = threading.Event()

    def tick(self) -> None:
        try:
            if scheduler.tick():
                logger.info("queued a reminder scan")
        except Exception:
            logger.exception("the reminder scheduler failed; trying again at the next tick")
        finally:
            close_old_connections()

    def _schedule(self) -> None:
        try:
            while not self._stopped.wait(self.tick_seconds) and self.running:
                if self.parent_pid is not None and os.getppid() != self.parent_pid:
                    logger.warning("the process that started the worker is gone; stopping")
                    os.kill(os.getpid(), signal.SIGTERM)
                    return
                self.tick()
        finally:
            connection.close()

    def run(self) -> None:
        self.tick()  # at once, so that a new or restarted worker scans when one is due
        thread = threading.Thread(target=self._schedule, name="reminder-scheduler", daemon=True)
        thread.start()
        try:
            super().run()
        finally:
            self._stopped.set()


class Command(DbWorkerCommand):
    help = (
        "Run the background worker: queued tasks (reminders, alert e-mails) and a reminder "
        "scan every REMINDER_SCAN_MINUTES."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.set_defaults(reload=False)
        parser.add_argument(
            "--tick",
            type=float,
            default=scheduler.TICK_SECONDS,
            help="Seconds between two looks at the reminder clock (default: %(default)r).",
        )
        parser.add_argument(
            "--scan-now",
            action="store_true",
            help="Scan for reminders at start, even if the last scan was less than "
            "REMINDER_SCAN_MINUTES ago.",
        )
        parser.add_argument(
            "--exit-with-parent",
            action="store_true",
            help="Stop when the process that started this one is gone (used by the demo).",
        )

    def handle(self, **options: Any) -> None:
        verbosity = options["verbosity"]
        self.configure_logging(verbosity)
        if not logger.handlers:
            logger.addHandler(logging.StreamHandler(self.stdout))
            logger.propagate = False  # printed here, not a second time by the root logger
        logger.setLevel(logging.INFO if verbosity >= 1 else logging.WARNING)
        queue_names = options["queue_name"].split(",")
        excluded = options["exclude_queues"].split(",") if options["exclude_queues"] else []
        if excluded and "*" not in queue_names:
            raise CommandError("--exclude-queues can only be used with --queue-name=*")
        worker = SchedulingWorker(
            tick_seconds=max(options["tick"], 0.1),
            parent_pid=os.getppid() if options["exit_with_parent"] else None,
            queue_names=queue_names,
            interval=options["interval"],
            batch=options["batch"],
            backend_name=options["backend_name"],
            startup_delay=options["startup_delay"],
            max_tasks=options["max_tasks"],
            worker_id=options["worker_id"],
            excluded_queue_names=excluded,
        )
        if options["scan_now"]:
            scheduler.scan_now()
        if options["reload"] and not options["batch"]:
            if os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
                worker.configure_signals()
            run_with_reloader(worker.run)
        else:
            worker.configure_signals()
            worker.run()
