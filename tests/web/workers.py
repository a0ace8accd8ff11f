"""Running the background worker in tests: in this process, or as real worker processes.

* :func:`run_queued_tasks` runs every task that is ready, here and now, with the database
  backend's own worker loop (batch mode), inside the test's transaction.
* :class:`WorkerProcesses` starts ``python -m commonfactors_web task_worker`` processes on
  the test database (tests marked ``django_db(transaction=True)``, so they see committed
  rows), with e-mail written to files, and kills what it started.
"""

from __future__ import annotations

import email
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

from django.db import connection
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult

REPO = Path(__file__).resolve().parents[2]


def run_queued_tasks(worker_id: str = "test-worker") -> list[DBTaskResult]:
    """Run every ready task in this process; the tasks it ran, as finished."""
    before = set(DBTaskResult.objects.finished().values_list("id", flat=True))
    worker = db_worker.Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=worker_id,
        excluded_queue_names=[],
    )
    # The worker closes stale connections between tasks; inside a test's transaction the
    # connection must stay open (as Django's test client does for requests).
    with mock.patch.object(db_worker, "close_old_connections", return_value=None):
        worker.run()
    return list(DBTaskResult.objects.finished().exclude(id__in=before))


#: A settings module for worker processes: the app's settings on the test database, with
#: e-mail written to files (optionally slowly, or hanging as if the mail server never
#: answered), so that the test can count what was sent.
SETTINGS = '''
import time
from pathlib import Path

from django.core.mail.backends.filebased import EmailBackend as _FileBackend

from commonfactors_web.settings import *  # noqa: F403

DATABASES["default"]["NAME"] = {db_name!r}  # noqa: F405
EMAIL_BACKEND = "{module}.{backend}"
EMAIL_FILE_PATH = {mail_dir!r}
LOGGING = {{"version": 1, "disable_existing_loggers": False}}


class SlowFileBackend(_FileBackend):
    """Writes each message to a file, taking {mail_seconds} s over it."""

    def send_messages(self, messages):
        time.sleep({mail_seconds})
        return super().send_messages(messages)


class HangingBackend(_FileBackend):
    """Says it has begun, then never returns (a mail server that does not answer)."""

    def send_messages(self, messages):
        Path({mail_dir!r}, "..", "sending").write_text("begun")
        time.sleep(600)
        return 0
'''


class WorkerProcesses:
    """Worker processes on the test database; :meth:`stop_all` ends the ones still alive."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.mail_dir = tmp_path / "mail"
        self.mail_dir.mkdir(exist_ok=True)
        self.processes: list[subprocess.Popen[bytes]] = []
        self._settings = 0

    def settings_module(self, backend: str = "SlowFileBackend", mail_seconds: float = 0) -> str:
        self._settings += 1
        module = f"worker_settings_{self._settings}"
        (self.tmp_path / f"{module}.py").write_text(
            SETTINGS.format(
                db_name=str(connection.settings_dict["NAME"]),
                module=module,
                backend=backend,
                mail_dir=str(self.mail_dir),
                mail_seconds=mail_seconds,
            )
        )
        return module

    def start(self, name: str, *options: str, settings: str | None = None) -> Any:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(self.tmp_path), str(REPO / "src")])
        env["DJANGO_SETTINGS_MODULE"] = settings or self.settings_module()
        with (self.tmp_path / f"{name}.log").open("wb") as log:  # the child keeps its own
            process = self._popen(name, options, env, log)
        self.processes.append(process)
        return process

    def _popen(self, name: str, options: tuple[str, ...], env: dict[str, str], log: Any) -> Any:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "commonfactors_web",
                "task_worker",
                "--worker-id",
                name,
                "--no-startup-delay",
                "--interval",
                "0.1",
                "--tick",
                "0.5",
                *options,
            ],
            cwd=self.tmp_path,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def log(self, name: str) -> str:
        return (self.tmp_path / f"{name}.log").read_text(errors="replace")

    def stop(self, process: Any, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        process.send_signal(sig)
        return int(process.wait(timeout=timeout))

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=30)

    def messages(self) -> list[email.message.Message]:
        """Every e-mail the workers wrote (the file backend writes one file per connection,
        messages separated by a line of dashes)."""
        found = []
        for path in sorted(self.mail_dir.glob("*.log")):
            for chunk in path.read_text().split("-" * 79):
                if chunk.strip():
                    found.append(email.message_from_string(chunk.strip()))
        return found


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 90) -> Any:
    """Poll ``condition`` until it is true; fail naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
