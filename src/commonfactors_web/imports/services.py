"""Imports: who may import into which caseload, the dry-run report, and the import itself.

* **Who.** A therapist imports into their own caseload; an admin into the caseload of a
  therapist of their practice. A supervisor (read-only) and anyone else may not import.
* **Reading.** :func:`commonfactors.importing.read_history` reads and scores the files
  (pure, no database); here the records are compared with the caseload: a client is keyed
  by the practice's client code, an episode by its start date, a session by its number.
* **Idempotent.** What is already present with the same answers is reported as "already
  present" and left alone; what is present with other answers (or another date or
  attendance) is a problem — raw answers are never edited.
* **All-or-nothing.** :func:`run_import` writes in one transaction, and only when the
  report has no problem. Sessions go through ``checkins.services.record_past_session``
  (raw answers, the library's scores and the episode's evaluation); clients through
  ``clients.services.create_client``.
* **Audit.** A dry-run (``import.dry_run``) and an import (``import.run``) are each one
  event with the counts and the files' SHA-256; every client, session and episode end
  written is audited by the service that writes it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404

from commonfactors import importing
from commonfactors_web.accounts import access
from commonfactors_web.accounts.models import User
from commonfactors_web.audit.services import record
from commonfactors_web.checkins.models import Administration
from commonfactors_web.checkins.services import record_past_session
from commonfactors_web.clients.models import Client, Episode, Session
from commonfactors_web.clients.services import create_client, end_episode
from commonfactors_web.imports.models import PendingImport

#: The largest file accepted on the web (bytes).
MAX_BYTES = 20 * 1024 * 1024
#: The audit label of an import made on the command line.
COMMAND_LINE = "command line (import_history)"
KINDS = ("clients", "episodes", "sessions", "administrations")


class ImportRefusedError(ValueError):
    """An import that may not or cannot be made; ``problems`` names every reason."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(self.problems))


@dataclass
class Report:
    """What an import would create, what is already present, and every problem."""

    new: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    present: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {"new": self.new, "present": self.present, "problems": len(self.problems)}


# --------------------------------------------------------------------------------------
# Who


def therapists_for(user: Any) -> QuerySet[User]:
    """The therapists into whose caseload ``user`` may import (decided by
    :func:`commonfactors_web.accounts.access.import_therapists`)."""
    return access.import_therapists(user)


def may_import(user: Any) -> bool:
    return therapists_for(user).exists()


def target_therapist(user: Any, therapist_id: int | None) -> User:
    """The therapist ``user`` imports for (a therapist: themselves)."""
    allowed = therapists_for(user)
    person = access.person(user)
    if person is not None and access.is_practice_therapist(person):
        return person
    chosen = allowed.filter(pk=therapist_id).first() if therapist_id else None
    if chosen is None:
        raise ImportRefusedError(["choose a therapist of your practice"])
    return chosen


# --------------------------------------------------------------------------------------
# Comparing with the caseload


def _normal(answers: Mapping[str, Any]) -> dict[str, float]:
    return {k: float(v) for k, v in answers.items() if v is not None and v != ""}


def _sha(files: Mapping[str, bytes]) -> dict[str, str]:
    return {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}


@dataclass
class _Plan:
    report: Report
    history: importing.History
    clients: dict[str, Client]
    episodes: dict[tuple[str, date], Episode]
    new_sessions: list[importing.SessionIn]


def _plan(history: importing.History, therapist: User) -> _Plan:
    report = Report(problems=[str(p) for p in history.problems])
    clients = {
        c.code: c
        for c in Client.objects.filter(practice_id=therapist.practice_id, code__in=history.clients)
    }
    for code in history.clients:
        client = clients.get(code)
        if client is None:
            report.new["clients"] += 1
        elif client.therapist_id != therapist.pk:
            report.problems.append(
                f"client {code}: the code is used in the practice by a client of another therapist"
            )
        else:
            report.present["clients"] += 1
    ours = [c for c in clients.values() if c.therapist_id == therapist.pk]
    episodes = {
        (e.client.code, e.started_on): e
        for e in Episode.objects.filter(client__in=ours).select_related("client")
    }
    for e in history.episodes:
        kind = "present" if (e.client, e.started_on) in episodes else "new"
        getattr(report, kind)["episodes"] += 1
    sessions = {
        (s.episode.client.code, s.episode.started_on, s.number): s
        for s in Session.objects.filter(episode__in=list(episodes.values())).select_related(
            "episode__client"
        )
    }
    given: dict[int, dict[str, dict[str, float]]] = {}
    for a in Administration.objects.filter(session__in=list(sessions.values())):
        given.setdefault(a.session_id, {})[a.instrument] = _normal(a.answers)
    new_sessions = []
    for s in history.sessions:
        existing = sessions.get((s.client, s.started_on, s.number))
        if existing is None:
            new_sessions.append(s)
            report.new["sessions"] += 1
            report.new["administrations"] += len(s.answers)
            continue
        theirs = given.get(existing.pk, {})
        ours_now = {i: _normal(a) for i, a in s.answers.items()}
        differs = []
        if existing.date != s.date:
            differs.append(f"date {existing.date}, file {s.date}")
        if existing.attendance != s.attendance:
            differs.append(f"attendance {existing.attendance}, file {s.attendance}")
        # an instrument of the session the file does not carry is left as it is
        differs += [
            f"other answers to {i}" if i in theirs else f"{i} not answered at that session"
            for i in sorted(ours_now)
            if theirs.get(i) != ours_now[i]
        ]
        if differs:
            report.problems.append(
                f"client {s.client}, episode started {s.started_on}, session {s.number}: already "
                f"present with different records ({'; '.join(differs)}); raw answers are never "
                "overwritten"
            )
        else:
            report.present["sessions"] += 1
            report.present["administrations"] += len(s.answers)
    return _Plan(report, history, clients, episodes, new_sessions)


def dry_run(files: Mapping[str, bytes], therapist: User, user: Any) -> Report:
    """The report of importing ``files`` into ``therapist``'s caseload; writes nothing but
    its audit event."""
    report = _plan(importing.read_history(files), therapist).report
    record(
        user,
        "import.dry_run",
        therapist=therapist.get_username(),
        files=_sha(files),
        **report.as_dict(),
    )
    return report


def run_import(files: Mapping[str, bytes], therapist: User, user: Any) -> Report:
    """Import ``files`` into ``therapist``'s caseload, all or nothing; raises
    :class:`ImportRefusedError` naming every problem (then nothing is written)."""
    history = importing.read_history(files)
    with transaction.atomic():
        # the caseload is read again inside the transaction: a problem found now refuses all
        plan = _plan(history, therapist)
        if plan.report.problems:
            raise ImportRefusedError(plan.report.problems)
        episodes = dict(plan.episodes)
        firsts: dict[str, date] = {}
        for e in history.episodes:
            firsts.setdefault(e.client, e.started_on)
        fresh: set[int] = set()
        for code in history.clients:
            if code not in plan.clients:
                client = create_client(therapist, code, started_on=firsts[code], actor=user)
                plan.clients[code] = client
                first = client.episodes.get()
                episodes[(code, first.started_on)] = first
                fresh.add(first.pk)
        created: list[tuple[Episode, importing.EpisodeIn]] = []
        for e in history.episodes:
            episode = episodes.get((e.client, e.started_on))
            if episode is None:
                episode = Episode.objects.create(
                    client=plan.clients[e.client], therapist=therapist, started_on=e.started_on
                )
                record(user, "episode.create", client=episode.client, obj=episode)
                episodes[(e.client, e.started_on)] = episode
                fresh.add(episode.pk)
            if episode.pk in fresh:
                created.append((episode, e))
        for s in plan.new_sessions:
            stamp = f"{s.date.isoformat()}T12:00:00+00:00"
            record_past_session(
                episodes[(s.client, s.started_on)],
                s.number,
                s.date,
                s.attendance,
                {i: {"answers": dict(a), "answered_at": stamp} for i, a in s.answers.items()},
                user=user,
                notify=False,
            )
        for episode, e in created:
            if e.status != "active" and e.ended_on is not None:
                end_episode(episode, user, e.status, e.ended_on)
        record(
            user,
            "import.run",
            therapist=therapist.get_username(),
            files=_sha(files),
            **plan.report.as_dict(),
        )
    return plan.report


# --------------------------------------------------------------------------------------
# Uploads waiting for confirmation


def upload(user: Any, therapist: User, filename: str, content: bytes) -> PendingImport:
    """Keep an uploaded file until its dry-run is confirmed (or another upload)."""
    PendingImport.objects.filter(uploaded_by=user).delete()  # one waiting upload a person
    digest = hashlib.sha256(content).hexdigest()
    record(user, "import.upload", therapist=therapist.get_username(), files={filename: digest})
    return PendingImport.objects.create(
        uploaded_by=user,
        therapist=therapist,
        filename=filename[-200:],
        content=content,
        sha256=digest,
    )


def pending_for(user: Any, pk: int) -> PendingImport:
    """The user's own waiting upload (404 for anyone else's, or when they may no longer
    import into its caseload)."""
    person = access.person(user)
    pending = (
        PendingImport.objects.filter(pk=pk, uploaded_by=person).select_related("therapist").first()
        if person is not None
        else None
    )
    if pending is None or not therapists_for(user).filter(pk=pending.therapist_id).exists():
        raise Http404("no such upload")
    return pending


def files_of(pending: PendingImport) -> dict[str, bytes]:
    return {pending.filename: bytes(pending.content)}
