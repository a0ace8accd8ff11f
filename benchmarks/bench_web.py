"""Benchmark: the clinic web app under load, served by gunicorn with PostgreSQL 15.

Everything runs on 127.0.0.1 and is thrown away at the end: a PostgreSQL 15 started with
``initdb``/``pg_ctl`` in a temporary folder on a free loopback port (as ``.ci/run`` does; as
the ``postgres`` user when run as root), migrated, and loaded through the apps' service
functions with one practice, one therapist and 200 clients with synthetic histories
(``commonfactors.synth``); then ``gunicorn commonfactors_web.wsgi`` with the production
settings (DEBUG off, secure cookies, HSTS, CSP, file cache), reached as if through a proxy
that terminates TLS (``X-Forwarded-Proto: https`` on plain HTTP on loopback). PostgreSQL
and gunicorn are stopped in a ``finally``, even on failure.

Measured, each beside a baseline run in the same process against the same server:

* **Check-ins**: phones (threads, one keep-alive ``http.client`` connection each, fresh
  cookies for each check-in) completing check-ins end to end as a browser does: GET the
  link, POST each questionnaire's answers with the CSRF token, follow the redirect, GET the
  thank-you page. The latency of every POST: an answer page (kept as a draft) and the last
  one, the submission (stores the answers, scores them and evaluates the episode in one
  transaction). Runs: one phone alone; 100 phones sending as fast as the server answers
  (saturation); 100 phones pausing about ``--think`` seconds before each page, as people
  answering would (still faster than people). Baseline: the app's stylesheet, served by
  Django through the whole middleware stack (the cheapest request the app answers), one
  at a time and from 100 connections at once.
* **Caseload**: the therapist's page listing 200 clients, logged in, GET one at a time and
  from ``--caseload-concurrency`` sessions at once. Baselines: the stylesheet the same way,
  and the page rendered by Django's test client in this process (no HTTP, no gunicorn).
* **Where the time goes**: queries per request (Django's ``CaptureQueriesContext``), and a
  check-in's requests run here by the test client with the time split into the library's
  computations, PostgreSQL and the rest.

The workers are warmed (a few check-ins and caseloads, not counted) before measuring, and
the benchmark checks itself: every submitted check-in stored each questionnaire once.

The clear check-in tokens exist only in this process (gunicorn keeps no access log).
Goals from issue 4: check-in submissions with 100 concurrent clients p99 < 50 ms with 0
errors; caseload with 200 clients p95 < 150 ms. Run with ``make bench`` or
``.venv/bin/python benchmarks/bench_web.py`` (``--quick`` for a short run); figures are
recorded in docs/performance.md.
"""

from __future__ import annotations

import argparse
import gc
import http.client
import math
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"  # the only address this benchmark ever talks to
CLIENTS = 200
PHONES = 100
THERAPIST = "bench-therapist"
STYLESHEET = "/static/commonfactors_web/app.css"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def quantile(values: Sequence[float], q: float) -> float:
    """Nearest-rank quantile (``q`` in 0..1) of ``values``; NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


# ------------------------------------------------------------------------------ PostgreSQL


class Postgres:
    """A throwaway PostgreSQL cluster in ``root`` on a loopback port (trust auth)."""

    def __init__(self, root: Path, port: int) -> None:
        self.root, self.port = root, port
        self.data, self.log = root / "data", root / "server.log"
        self.bin = self.binaries()
        self.started = False

    @staticmethod
    def binaries() -> Path:
        initdb = shutil.which("initdb") or "/usr/lib/postgresql/15/bin/initdb"
        if not Path(initdb).exists():
            sys.exit("PostgreSQL 15 is needed: apt-get install postgresql (see .ci/run)")
        return Path(initdb).resolve().parent

    def _run(self, *args: str, timeout: float = 60) -> str:
        cmd = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {done.stderr.strip() or done.stdout.strip()}")
        return done.stdout

    def start(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.root, user="postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8")
        self.started = True  # from here on, stop() must run
        options = f"-h {HOST} -p {self.port} -k {self.root} -c max_connections=200"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-o", options, "start")

    def stop(self) -> None:
        if self.started:
            try:
                self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop", timeout=60)
            except (RuntimeError, subprocess.TimeoutExpired) as exc:
                print(f"warning: stopping PostgreSQL: {exc}", file=sys.stderr)
            self.started = False

    def url(self, database: str) -> str:
        return f"postgres://postgres@{HOST}:{self.port}/{database}"


# ------------------------------------------------------------------------------ gunicorn


class Gunicorn:
    """``gunicorn commonfactors_web.wsgi`` on a loopback port, in its own process group."""

    def __init__(self, root: Path, port: int, workers: int, threads: int, kind: str) -> None:
        self.port, self.workers, self.threads, self.kind = port, workers, threads, kind
        self.log = root / "gunicorn.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, env: dict[str, str], timeout: float = 60) -> None:
        cmd = [
            sys.executable, "-m", "gunicorn", "commonfactors_web.wsgi",
            "--bind", f"{HOST}:{self.port}",
            "--workers", str(self.workers),
            "--threads", str(self.threads),
            "--worker-class", self.kind,
            "--keep-alive", "30",  # longer than any pause of a phone below
            "--timeout", "60",
            "--graceful-timeout", "10",
            "--error-logfile", str(self.log),
            "--log-level", "warning",
        ]  # fmt: skip
        # No access log: the URLs carry the clear check-in tokens.
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                cmd, env=env, stdout=log, stderr=log, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited at start:\n{self.tail()}")
            probe = Browser(self.port, timeout=2)
            try:
                if probe.request("GET", STYLESHEET)[0] == 200:
                    return
            except (OSError, http.client.HTTPException):
                pass
            finally:
                probe.close()
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn not ready after {timeout:.0f} s:\n{self.tail()}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()  # graceful: the master stops its workers
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)  # the group this script started
            self.proc.wait(timeout=10)

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


# ------------------------------------------------------------------------------ a browser


class Browser:
    """One browser: a keep-alive HTTP/1.1 connection to 127.0.0.1 and its cookies. It
    speaks to gunicorn as a TLS-terminating proxy would (``X-Forwarded-Proto: https``)."""

    def __init__(self, port: int, timeout: float = 30) -> None:
        self.port = port
        self.origin = f"https://{HOST}:{port}"
        self.conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
        self.cookies: dict[str, str] = {}
        self.reconnects = 0

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None, referer: str = ""
    ) -> tuple[int, http.client.HTTPMessage, bytes, float]:
        """Status, headers, body and seconds from sending the request to the last byte."""
        headers = {
            "Host": f"{HOST}:{self.port}",
            "X-Forwarded-Proto": "https",
            "User-Agent": "commonfactors-bench",
            "Accept": "text/html",
        }
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = self.origin
            headers["Referer"] = self.origin + (referer or path)
        for attempt in (1, 2):
            start = time.perf_counter()
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # A kept-alive connection the server closed before answering: a browser
                # opens a new one and sends again; so do we, once.
                self.conn.close()
                if attempt == 2:
                    raise
                self.reconnects += 1
                continue
            elapsed = time.perf_counter() - start
            break
        for cookie in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            value = rest.split(";", 1)[0]
            if "max-age=0" in cookie.lower() or not value or value == '""':
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return response.status, response.headers, data, elapsed

    def close(self) -> None:
        self.conn.close()


CSRF = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
INSTRUMENT = re.compile(rb'name="instrument" value="([^"]+)"')
RADIO = re.compile(rb'<input type="radio" name="([^"]+)" value="([^"]+)"')


def answers_for(page: bytes, rng: random.Random) -> dict[str, str] | None:
    """The form a person would send: the CSRF token, the instrument and one option per
    question (mostly the lower ones; PHQ-9 item 9 above 0 in about 3 % of pages)."""
    csrf, instrument = CSRF.search(page), INSTRUMENT.search(page)
    if csrf is None or instrument is None:
        return None
    options: dict[str, list[str]] = {}
    for name, value in RADIO.findall(page):
        options.setdefault(name.decode(), []).append(value.decode())
    form = {
        "csrfmiddlewaretoken": csrf.group(1).decode(),
        "instrument": instrument.group(1).decode(),
    }
    for name, values in options.items():
        if name == "phq9_9":
            form[name] = values[1] if rng.random() < 0.03 else values[0]
        else:
            form[name] = rng.choices(values, weights=[0.5**k for k in range(len(values))])[0]
    return form


# ------------------------------------------------------------------------------ load


@dataclass
class Run:
    """Latencies (seconds) and errors of one measured run."""

    label: str
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    extra: str = ""

    @property
    def count(self) -> int:
        return len(self.latencies) + sum(self.errors.values())

    def merge(self, other: Run) -> None:
        self.latencies += other.latencies
        self.errors.update(other.errors)


def in_parallel(n: int, work: Callable[[int], Any], timeout: float) -> tuple[list[Any], float]:
    """Run ``work(i)`` for i < n in n threads started together; results and wall time."""
    results: list[Any] = [None] * n
    barrier = threading.Barrier(n + 1)
    failures: list[BaseException] = []

    def target(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except BaseException as exc:  # reported below, never lost in a thread
            failures.append(exc)

    threads = [threading.Thread(target=target, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    elapsed = time.perf_counter() - start
    if any(t.is_alive() for t in threads):
        raise TimeoutError(f"load did not finish within {timeout:.0f} s")
    if failures:
        raise failures[0]
    return results, elapsed


def phone(port: int, tokens: Sequence[str], think: float, seed: int) -> tuple[Run, Run, Run, int]:
    """One client's phone completing its check-ins, pausing about ``think`` seconds before
    each page is sent; latencies of answer POSTs, of final submissions, of the GETs, and
    how many check-ins were completed."""
    rng = random.Random(seed)
    browser = Browser(port)
    answer, submit, gets = Run("answer"), Run("submit"), Run("get")
    completed = 0

    def get(path: str) -> bytes | None:
        try:
            status, _, body, seconds = browser.request("GET", path)
        except (OSError, http.client.HTTPException) as exc:
            gets.errors[f"GET {type(exc).__name__}"] += 1
            return None
        if status != 200:
            gets.errors[f"GET {status}"] += 1
            return None
        gets.latencies.append(seconds)
        return body

    try:
        if think:  # people open their links at different moments
            time.sleep(rng.uniform(0, think))
        for token in tokens:
            browser.cookies.clear()  # a link is opened days after the last: a new visit
            path = f"/c/{token}/"
            page = get(path)
            for _ in range(10):  # at most 10 questionnaires in a check-in
                if page is None:
                    break
                form = answers_for(page, rng)
                if form is None:
                    answer.errors["no form"] += 1
                    break
                if think:
                    time.sleep(rng.uniform(0.5 * think, 1.5 * think))
                try:
                    status, headers, _, seconds = browser.request("POST", path, form)
                except (OSError, http.client.HTTPException) as exc:
                    answer.errors[f"POST {type(exc).__name__}"] += 1
                    break
                location = headers.get("Location", "")
                if status != 302:
                    answer.errors[f"POST {status}"] += 1
                    break
                if location.endswith("/c/done/"):
                    submit.latencies.append(seconds)
                    if get("/c/done/") is not None:
                        completed += 1
                    break
                answer.latencies.append(seconds)
                page = get(location)
    finally:
        browser.close()
    gets.extra = str(browser.reconnects)
    return answer, submit, gets, completed


def checkin_load(
    port: int,
    phones: Sequence[Sequence[str]],
    think: float,
    label: str,
    timeout: float,
    seed: int,
) -> tuple[Run, Run, Run, int]:
    results, seconds = in_parallel(
        len(phones),
        lambda i: phone(port, phones[i], think, seed=seed + i),
        timeout,
    )
    answer, submit, gets = Run(f"{label}: answer POST"), Run(f"{label}: submit POST"), Run("")
    completed = reconnects = 0
    for a, s, g, c in results:
        answer.merge(a)
        submit.merge(s)
        gets.merge(g)
        completed += c
        reconnects += int(g.extra)
    for run in (answer, submit, gets):
        run.seconds = seconds
    gets.extra = str(reconnects)
    return answer, submit, gets, completed


def get_load(
    port: int,
    label: str,
    path: str,
    n_browsers: int,
    per_browser: int,
    timeout: float,
    login: Callable[[Browser], None] | None = None,
) -> Run:
    """``n_browsers`` browsers at once, each GETting ``path`` ``per_browser`` times."""
    browsers = [Browser(port) for _ in range(n_browsers)]
    if login is not None:
        for b in browsers:
            login(b)

    def work(i: int) -> Run:
        run = Run(label)
        for _ in range(per_browser):
            try:
                status, _, _, seconds = browsers[i].request("GET", path)
            except (OSError, http.client.HTTPException) as exc:
                run.errors[type(exc).__name__] += 1
                continue
            if status == 200:
                run.latencies.append(seconds)
            else:
                run.errors[str(status)] += 1
        return run

    try:
        results, seconds = in_parallel(n_browsers, work, timeout)
    finally:
        for b in browsers:
            b.close()
    total = Run(label, seconds=seconds)
    for r in results:
        total.merge(r)
    return total


# ------------------------------------------------------------------------------ the app


def configure_django(pg: Postgres, var_dir: Path, port: int) -> dict[str, str]:
    """Production settings for this process and gunicorn, through the environment."""
    env = {
        "DJANGO_SETTINGS_MODULE": "commonfactors_web.settings_production",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": HOST,
        "DATABASE_URL": pg.url("commonfactors"),
        "COMMONFACTORS_VAR_DIR": str(var_dir),  # the file cache (throttling) lives here
        "CACHE_BACKEND": "file",
        "SECURE_PROXY_SSL_HEADER_ENABLED": "1",  # as behind a proxy that terminates TLS
        "SITE_URL": f"https://{HOST}:{port}",
        # No mail server here: alert e-mails go nowhere (SMTP would time out).
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    import django

    django.setup()
    return {**os.environ, **env}


@dataclass
class Practice:
    therapist: Any
    password: str
    episodes: list[Any]


def seed(history: int, rng_seed: int) -> Practice:
    """One practice, one therapist with 200 clients, each with up to ``history`` past
    sessions of PHQ-9, GAD-7 and alliance (from the synthetic registry) — through the
    apps' service functions, as ``seed_demo`` does. As in a practice that deals with its
    alerts, only those raised at a client's latest session stay open."""
    import polars as pl
    from django.db import connection, transaction
    from django.utils import timezone

    from commonfactors.synth import generate
    from commonfactors_web.accounts.models import Role
    from commonfactors_web.accounts.services import create_practice, create_team, create_user
    from commonfactors_web.alerts.models import Alert
    from commonfactors_web.alerts.services import resolve
    from commonfactors_web.checkins.services import create_plan, record_past_session
    from commonfactors_web.clients.models import Attendance
    from commonfactors_web.clients.services import create_client
    from commonfactors_web.demo.management.commands.seed_demo import ITEMS, PLAN, alliance_items

    practice = create_practice("Benchmark practice (synthetic clients)")
    password = secrets.token_urlsafe(18)
    therapist = create_user(
        THERAPIST, password, role=Role.THERAPIST, practice=practice,
        team=create_team(practice, "Team A"), first_name="Bea", last_name="Bench",
    )  # fmt: skip
    plan = create_plan(practice, "PHQ-9, GAD-7 and alliance", PLAN, is_default=True)
    registry = generate(CLIENTS * 3, seed=rng_seed)
    chosen = registry.episodes.filter(pl.col("episode_number") == 1).head(CLIENTS)
    sessions = registry.sessions.filter(pl.col("attended"))
    today = timezone.localdate()
    rng = random.Random(rng_seed)
    episodes = []
    for index, ep in enumerate(chosen.iter_rows(named=True)):
        rows = sessions.filter(pl.col("episode_id") == ep["episode_id"]).sort("session")
        rows = rows.head(history)
        # the last session a few days ago
        shift = today - timedelta(days=rng.randint(1, 12)) - rows["date"][-1]
        with transaction.atomic():
            client = create_client(
                therapist, f"B-{index + 1:04d}", presenting_concerns="(synthetic)",
                started_on=ep["start_date"] + shift, measurement_plan=plan,
            )  # fmt: skip
            episode = client.episodes.get()
            for row in rows.iter_rows(named=True):
                number = int(row["treatment_session"])
                entries: dict[str, dict[str, Any]] = {
                    inst: {"answers": {i: row[i] for i in items}} for inst, items in ITEMS.items()
                }
                if number >= 2 and row["alliance"] is not None:
                    entries["cf_alliance"] = {"answers": alliance_items(float(row["alliance"]))}
                record_past_session(
                    episode, number, row["date"] + shift, Attendance.ATTENDED, entries,
                    user=therapist,
                )  # fmt: skip
            last = int(rows["treatment_session"][-1])
            for alert in Alert.objects.open().filter(episode=episode).exclude(session_number=last):
                resolve(alert, therapist, "Discussed in session (synthetic history).")
        episodes.append(episode)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # what autovacuum does for a database in use
    return Practice(therapist, password, episodes)


def new_tokens(episodes: Sequence[Any], practice: Practice, per_phone: int) -> list[list[str]]:
    """``per_phone`` fresh check-in links (the instruments due by the plan) for each of
    ``episodes``, one phone each; the tokens exist in clear only here."""
    from commonfactors_web.checkins.services import create_checkin

    return [
        [create_checkin(ep, practice.therapist).token for _ in range(per_phone)] for ep in episodes
    ]


def login(port: int, password: str) -> Callable[[Browser], None]:
    def log_in(browser: Browser) -> None:
        status, _, page, _ = browser.request("GET", "/accounts/login/")
        csrf = CSRF.search(page)
        if status != 200 or csrf is None:
            raise RuntimeError(f"login page: {status}")
        form = {
            "csrfmiddlewaretoken": csrf.group(1).decode(),
            "username": THERAPIST,
            "password": password,
            "next": "",
        }
        status, headers, _, _ = browser.request("POST", "/accounts/login/", form)
        if status != 302 or "sessionid" not in browser.cookies:
            raise RuntimeError(f"login refused: {status} {headers.get('Location')}")

    return log_in


@contextmanager
def queries() -> Iterator[Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        yield captured


def in_process(practice: Practice, port: int, repeats: int) -> tuple[Run, dict[str, int]]:
    """The caseload rendered by Django's test client here (no HTTP), and the queries of a
    caseload, a check-in's answer and its submission requests."""
    from django.test import Client as TestClient

    from commonfactors_web.checkins.services import create_checkin

    client = TestClient(HTTP_HOST=f"{HOST}:{port}", HTTP_X_FORWARDED_PROTO="https")
    client.force_login(practice.therapist)
    client.get("/clients/")  # compiles the templates, as the server's warm-up did
    run = Run("(baseline) caseload, Django test client here (no HTTP)")
    for _ in range(repeats):
        start = time.perf_counter()
        response = client.get("/clients/")
        run.latencies.append(time.perf_counter() - start)
        if response.status_code != 200:
            run.errors[str(response.status_code)] += 1
    run.seconds = sum(run.latencies)
    counts: dict[str, int] = {}
    with queries() as q:
        client.get("/clients/")
    counts["caseload GET"] = len(q)
    token = create_checkin(practice.episodes[-1], practice.therapist).token
    phone_client = TestClient(HTTP_HOST=f"{HOST}:{port}", HTTP_X_FORWARDED_PROTO="https")
    rng = random.Random(1)
    path = f"/c/{token}/"
    with queries() as q:
        page = phone_client.get(path).content
    counts["check-in page GET"] = len(q)
    for _ in range(10):
        form = answers_for(page, rng)
        if form is None:
            break
        with queries() as q:
            response = phone_client.post(path, form)
        done = response.get("Location", "").endswith("/c/done/")
        counts["submit POST" if done else "answer POST"] = len(q)
        if done:
            break
        page = phone_client.get(path).content
    return run, counts


LIBRARY_CALLS = (
    ("commonfactors", "score", "scoring"),
    ("commonfactors_web.alerts.services", "signal", "expected-response signal"),
    ("commonfactors_web.alerts.services", "alliance_signal", "alliance signal"),
    ("commonfactors_web.alerts.services", "reliable_change", "reliable change"),
)


def where_time_goes(practice: Practice, port: int, episodes: Sequence[Any]) -> dict[str, float]:
    """Mean milliseconds per check-in of its answer POSTs and of its submission, run here
    by Django's test client, split into the library's computations (outermost calls),
    PostgreSQL (time inside ``execute``) and the rest (Django, the ORM, the view)."""
    import importlib

    from django.db import connection
    from django.test import Client as TestClient

    from commonfactors_web.checkins.services import create_checkin

    spent: Counter[str] = Counter()
    depth = 0

    def timed(fn: Callable[..., Any], label: str) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            nonlocal depth
            depth += 1
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                depth -= 1
                if depth == 0:
                    spent[label] += time.perf_counter() - start

        return wrapper

    def in_db(execute: Callable[..., Any], *args: Any) -> Any:
        start = time.perf_counter()
        try:
            return execute(*args)
        finally:
            if depth == 0:
                spent["PostgreSQL"] += time.perf_counter() - start

    originals = [(importlib.import_module(m), name) for m, name, _ in LIBRARY_CALLS]
    saved = [getattr(module, name) for module, name in originals]
    totals: Counter[str] = Counter()
    rng = random.Random(2)
    try:
        for (module, name), fn, (_, _, label) in zip(originals, saved, LIBRARY_CALLS, strict=True):
            setattr(module, name, timed(fn, label))
        for episode in episodes:
            token = create_checkin(episode, practice.therapist).token
            phone = TestClient(HTTP_HOST=f"{HOST}:{port}", HTTP_X_FORWARDED_PROTO="https")
            path = f"/c/{token}/"
            page = phone.get(path).content
            for _ in range(10):
                form = answers_for(page, rng)
                if form is None:
                    raise RuntimeError("no form on the check-in page")
                spent.clear()
                with connection.execute_wrapper(in_db):
                    start = time.perf_counter()
                    response = phone.post(path, form)
                    elapsed = time.perf_counter() - start
                done = response.get("Location", "").endswith("/c/done/")
                kind = "submit" if done else "answer"
                totals[f"{kind} POST"] += elapsed
                for label, seconds in spent.items():
                    totals[f"{kind}: {label}"] += seconds
                if done:
                    break
                page = phone.get(path).content
    finally:
        for (module, name), fn in zip(originals, saved, strict=True):
            setattr(module, name, fn)
    return {k: v * 1000 / len(episodes) for k, v in totals.items()}


def breakdown(spent: dict[str, float], kind: str) -> str:
    total = spent.get(f"{kind} POST", math.nan)
    library = {label: spent.get(f"{kind}: {label}", 0.0) for _, _, label in LIBRARY_CALLS}
    db = spent.get(f"{kind}: PostgreSQL", 0.0)
    parts = ", ".join(f"{label} {ms:.1f}" for label, ms in library.items() if ms)
    rest = total - sum(library.values()) - db
    return (
        f"{total:.1f} ms = library {sum(library.values()):.1f} ({parts}) + PostgreSQL "
        f"{db:.1f} + Django, ORM and view {rest:.1f}"
    )


# ------------------------------------------------------------------------------ report


def row(run: Run, unit: str = "POST") -> str:
    ms = [x * 1000 for x in run.latencies]
    rate = len(run.latencies) / run.seconds if run.seconds else math.nan
    errors = sum(run.errors.values())
    detail = f"  {dict(run.errors)}" if errors else ""
    return (
        f"{run.label:58} {run.count:6d} {errors:6d} {quantile(ms, 0.5):8.1f} "
        f"{quantile(ms, 0.95):8.1f} {quantile(ms, 0.99):8.1f} {max(ms, default=math.nan):8.1f} "
        f"{rate:8.0f}{detail}"
    )


HEADER = (
    f"{'run':58} {'count':>6} {'errors':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
    f"{'max ms':>8} {'per s':>8}"
)


def stored_once() -> str:
    """The benchmark checks itself: every used link stored each of its questionnaires
    exactly once, and no link is left half-used."""
    from django.db.models import Count

    from commonfactors_web.checkins.models import CheckIn

    used = CheckIn.objects.filter(used_at__isnull=False).annotate(n=Count("administrations"))
    wrong = sum(1 for c in used if c.n != len(c.instruments))
    drafts = CheckIn.objects.filter(used_at__isnull=True).exclude(draft={}).count()
    return (
        f"check: {used.count()} check-ins submitted, {wrong} not stored exactly once, "
        f"{drafts} left half-answered"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run (about 1 minute)")
    parser.add_argument("--workers", type=int, default=5, help="gunicorn processes (2×cores+1)")
    parser.add_argument("--threads", type=int, default=2, help="threads per gunicorn process")
    parser.add_argument(
        "--worker-class", default="gthread", choices=("gthread", "sync"), help="gunicorn's"
    )
    parser.add_argument(
        "--think", type=float, help="mean pause before each page is sent, s (10; quick: 3)"
    )
    parser.add_argument(
        "--caseload-concurrency", default="4,10", help="therapists at once (comma-separated)"
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--timeout", type=float, default=600, help="limit per load run, s")
    args = parser.parse_args()
    if args.quick:
        history, saturated, paced, alone, caseload_n = 6, 1, 1, 10, 30
        args.think = 3.0 if args.think is None else args.think
    else:
        history, saturated, paced, alone, caseload_n = 12, 5, 2, 30, 100
        args.think = 10.0 if args.think is None else args.think
    at_once = [int(n) for n in args.caseload_concurrency.split(",") if n.strip()]

    server_kind = f"{args.worker_class} {args.workers} workers × {args.threads} threads"
    print(f"{os.cpu_count()} cores · Python {sys.version.split()[0]} · {PHONES} phones · "
          f"gunicorn {server_kind}")  # fmt: skip
    Postgres.binaries()  # before anything is created: stops here if PostgreSQL is missing
    root = Path(tempfile.mkdtemp(prefix="commonfactors-bench-"))
    pg = Postgres(root, free_port())
    server = Gunicorn(root, free_port(), args.workers, args.threads, args.worker_class)
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # still clean up
    runs: list[tuple[str, Run]] = []
    counts: dict[str, int] = {}
    spent: dict[str, float] = {}
    profiled: Sequence[Any] = ()
    check = ""
    try:
        pg.start()
        import psycopg

        with psycopg.connect(pg.url("postgres"), autocommit=True) as conn:
            version = conn.execute("show server_version").fetchone()
            conn.execute("create database commonfactors")
        print(f"PostgreSQL {version[0] if version else '?'} on {HOST}:{pg.port} in {root}")
        env = configure_django(pg, root / "var", server.port)
        from django.core.management import call_command
        from django.db import connections

        call_command("migrate", verbosity=0)
        start = time.perf_counter()
        practice = seed(history, args.seed)
        phones_sat = new_tokens(practice.episodes[:PHONES], practice, saturated)
        phones_paced = new_tokens(practice.episodes[:PHONES], practice, paced)
        phone_alone = new_tokens(practice.episodes[PHONES : PHONES + 1], practice, alone)
        phones_warm = new_tokens(practice.episodes[PHONES + 1 : PHONES + 11], practice, 1)
        print(f"seeded {CLIENTS} clients (≤ {history} past sessions each) and "
              f"{PHONES * (saturated + paced) + alone + 10} check-in links in "
              f"{time.perf_counter() - start:.0f} s")  # fmt: skip
        connections.close_all()
        # What seeding left behind is kept out of this process's garbage collections, so
        # they do not stall the load threads or the in-process baseline.
        gc.collect()
        gc.freeze()

        server.start(env)
        print(f"gunicorn on {HOST}:{server.port}\n")
        port, limit = server.port, args.timeout
        # warm every worker (imports, compiled templates, connections) before measuring
        get_load(port, "warm-up", STYLESHEET, 20, 10, limit)
        checkin_load(port, phones_warm, 0.0, "warm-up", limit, args.seed)
        runs.append(
            ("submissions", get_load(port, "(baseline) stylesheet GET, one at a time",
                                     STYLESHEET, 1, caseload_n, limit))
        )  # fmt: skip
        runs.append(
            ("submissions", get_load(port, f"(baseline) stylesheet GET, {PHONES} at once",
                                     STYLESHEET, PHONES, saturated * 3, limit))
        )  # fmt: skip
        for label, tokens, think in (
            ("1 phone, no pause", phone_alone, 0.0),
            (f"{PHONES} phones, no pause", phones_sat, 0.0),
            (f"{PHONES} phones, ~{args.think:g} s per page", phones_paced, args.think),
        ):
            answer, submit, gets, completed = checkin_load(
                port, tokens, think, label, limit, args.seed
            )
            every = Run(f"{label}: every POST", seconds=answer.seconds)
            every.merge(answer)
            every.merge(submit)
            runs += [("submissions", every), ("submissions", answer), ("submissions", submit)]
            gets.label = f"{label}: page GETs (not timed as the goal)"
            runs.append(("submissions", gets))
            expected = sum(len(t) for t in tokens)
            print(f"{label}: {completed}/{expected} check-ins completed in "
                  f"{answer.seconds:.1f} s ({completed / answer.seconds:.1f}/s), "
                  f"{gets.extra} reconnects")  # fmt: skip
        check = stored_once()

        log_in = login(port, practice.password)
        caseload = f"caseload ({CLIENTS} clients) GET"
        get_load(port, "warm-up", "/clients/", 10, 2, limit, log_in)
        runs += [
            ("caseload", get_load(port, "(baseline) stylesheet GET, one at a time",
                                  STYLESHEET, 1, caseload_n, limit)),
            ("caseload", get_load(port, f"{caseload}, one at a time",
                                  "/clients/", 1, caseload_n, limit, log_in)),
        ]  # fmt: skip
        baseline, counts = in_process(practice, port, max(10, caseload_n // 2))
        runs.append(("caseload", baseline))
        profiled = practice.episodes[PHONES + 11 : PHONES + 11 + (8 if args.quick else 40)]
        spent = where_time_goes(practice, port, profiled)
        for n in at_once:
            per = max(1, caseload_n // n)
            runs += [
                ("caseload", get_load(port, f"(baseline) stylesheet GET, {n} at once",
                                      STYLESHEET, n, per, limit)),
                ("caseload", get_load(port, f"{caseload}, {n} at once", "/clients/",
                                      n, per, limit, log_in)),
            ]  # fmt: skip
        if any(str(code).startswith("5") for _, run in runs for code in run.errors):
            print("server errors — the end of gunicorn's log:\n" + server.tail(60))
        connections.close_all()
    finally:
        server.stop()
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # Django may not be set up yet
            pass
        pg.stop()
        shutil.rmtree(root, ignore_errors=True)
        signal.signal(signal.SIGTERM, previous)

    for section in ("submissions", "caseload"):
        print(f"\n{HEADER}")
        for kind, run in runs:
            if kind == section:
                print(row(run))
    print(f"\n{check}")
    print("queries per request: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    if spent:
        n = len(profiled)
        print(
            f"a check-in's submission in this process (mean of {n}): {breakdown(spent, 'submit')}"
        )
        print(f"its other pages' answer POSTs together: {breakdown(spent, 'answer')}")
    for _, run in runs:
        if run.label.startswith(f"{PHONES} phones") and run.label.endswith(
            ("every POST", "submit POST")
        ):
            p99 = quantile(run.latencies, 0.99) * 1000
            ok = p99 < 50 and not run.errors
            print(f"goal p99 < 50 ms, 0 errors — {run.label}: p99 {p99:.1f} ms, "
                  f"{sum(run.errors.values())} errors: {'met' if ok else 'MISSED'}")  # fmt: skip
    for kind, run in runs:
        if kind == "caseload" and run.label.startswith("caseload ("):
            p95 = quantile(run.latencies, 0.95) * 1000
            ok = p95 < 150 and not run.errors
            print(f"goal p95 < 150 ms — {run.label}: p95 {p95:.1f} ms: "
                  f"{'met' if ok else 'MISSED'}")  # fmt: skip


if __name__ == "__main__":
    main()
