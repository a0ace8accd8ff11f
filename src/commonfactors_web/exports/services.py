"""Exports: who may export which clients, their records, the files, and the audit event.

* **Who.** A therapist exports their own clients (all, or one); a supervisor their team's
  clients (all, or one); an admin the whole practice — pseudonymised, the one way an admin
  meets client records, since research and reporting need the practice's data without
  anyone opening a client page. Only an admin may add the practice's client codes
  (``identified``). Scopes build on ``accounts.access.visible_clients``: a therapist or
  supervisor never exports a client they could not open.
* **What.** The records of every episode of the clients in scope, read in a few queries
  and turned into plain records for the library (:mod:`commonfactors.tidy` for the tables,
  :mod:`commonfactors.fhir_out` for FHIR). Names, e-mail addresses, birth years, genders,
  cultural backgrounds, presenting concerns, notes, plans and journals are never read.
* **Pseudonyms.** A client's and an episode's id is a keyed hash (HMAC-SHA-256) of its
  database id under a practice key derived from ``SECRET_KEY``: the same in every export of
  the practice (so exports can be linked), not reversible without the key.
* **Audit.** Every export writes one audit event: who, which scope, which format and
  period, which and how many clients, how many rows.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.crypto import salted_hmac

import commonfactors
from commonfactors import fhir_out, tidy
from commonfactors_web.accounts import access
from commonfactors_web.accounts.models import Practice
from commonfactors_web.audit.services import record
from commonfactors_web.checkins.models import Administration
from commonfactors_web.clients.models import Client, Episode, Session

#: Export formats: value → label.
FORMATS = {
    "csv": "CSV tables (zip)",
    "parquet": "Parquet tables (zip)",
    "fhir": "FHIR R4 Bundle (JSON)",
}
#: Scopes: value → label.
SCOPES = {
    "mine": "My clients",
    "team": "My team's clients",
    "practice": "The whole practice (pseudonymised)",
    "client": "One client",
}
#: The audit action of an export.
ACTION = "export.create"
#: The audit label of an export made on the command line.
COMMAND_LINE = "command line (export)"


class ExportRefusedError(ValueError):
    """An export that may not or cannot be made; ``problems`` names every reason."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(self.problems))


# --------------------------------------------------------------------------------------
# Who may export what


def scopes_for(user: Any) -> list[str]:
    """The scopes ``user`` may export (none: the export page is refused); decided by
    :func:`commonfactors_web.accounts.access.export_scopes`."""
    return access.export_scopes(user)


def may_identify(user: Any) -> bool:
    """Only an admin may add the practice's client codes to an export."""
    return access.is_practice_admin(user)


def single_clients(user: Any) -> QuerySet[Client]:
    """The clients ``user`` may export one by one (those they may open)."""
    if "client" not in scopes_for(user):
        return Client.objects.none()
    return access.visible_clients(user).order_by("code")


def clients_in_scope(user: Any, scope: str, client_id: int | None = None) -> QuerySet[Client]:
    """The clients of ``scope`` for ``user``; :class:`ExportRefusedError` if not allowed."""
    allowed = scopes_for(user)
    if scope not in allowed:
        raise ExportRefusedError([f"you may not export {SCOPES.get(scope, repr(scope)).lower()}"])
    if scope == "client":
        clients = single_clients(user).filter(pk=client_id) if client_id else None
        if clients is None or not clients.exists():
            raise ExportRefusedError(["choose one of your clients"])
        return clients
    if scope == "practice":
        return Client.objects.filter(practice_id=user.practice_id)
    return access.visible_clients(user)


# --------------------------------------------------------------------------------------
# Records


def pseudonym(practice_id: int, kind: str, pk: int) -> str:
    """The pseudonymous id of a client (``kind`` "client") or episode ("episode"): a keyed
    hash under the practice's key, derived from ``SECRET_KEY``."""
    digest = salted_hmac(
        f"commonfactors.exports.practice.{practice_id}", f"{kind}:{pk}", algorithm="sha256"
    ).hexdigest()
    return f"{kind[0]}-{digest[:20]}"


@dataclass
class Records:
    """The plain records of some clients, pseudonymised, for the library."""

    episodes: list[tidy.EpisodeRecord] = field(default_factory=list)
    sessions: list[tidy.SessionRecord] = field(default_factory=list)
    administrations: list[tidy.AdministrationRecord] = field(default_factory=list)
    codes: dict[str, str] = field(default_factory=dict)  # pseudonym → client code
    client_ids: list[int] = field(default_factory=list)

    def tables(
        self,
        *,
        since: date | None = None,
        until: date | None = None,
        identified: bool = False,
    ) -> tidy.Tables:
        """The library's tidy tables of these records, judged by the practice's primary
        outcome (``identified``: with the client codes)."""
        return tidy.tables(
            self.episodes,
            self.sessions,
            self.administrations,
            primary=settings.CF_PRIMARY_OUTCOME,
            since=since,
            until=until,
            client_codes=self.codes if identified else None,
        )


def collect(clients: QuerySet[Client]) -> Records:
    """Every episode, session and scored administration of ``clients``, in four queries
    (no transaction: an export never holds up a check-in; records added while it reads are
    left out). Only the fields an export needs are read (no names, contact details or
    free text)."""
    out = Records()
    client_of: dict[int, str] = {}
    for pk, practice_id, code in clients.order_by("pk").values_list("pk", "practice_id", "code"):
        client_of[pk] = pseudonym(practice_id, "client", pk)
        out.codes[client_of[pk]] = code
        out.client_ids.append(pk)
    episode_of: dict[int, tuple[str, str]] = {}
    # the ids read above, not the clients' query again as a subquery: on PostgreSQL a
    # supervisor's scope (clients joined to their therapists' team) as an IN-subquery of
    # the administrations' four-table join could get a plan that ran for many minutes
    in_scope = list(out.client_ids)
    episodes = Episode.objects.filter(client_id__in=in_scope).order_by("pk")
    for pk, client_id, practice_id, started, ended, status in episodes.values_list(
        "pk", "client_id", "client__practice_id", "started_on", "ended_on", "status"
    ):
        if client_id not in client_of:  # a client added since the first query
            continue
        episode_of[pk] = (client_of[client_id], pseudonym(practice_id, "episode", pk))
        out.episodes.append(tidy.EpisodeRecord(*episode_of[pk], started, ended, status))
    sessions = Session.objects.filter(episode__client_id__in=in_scope).order_by("pk")
    for episode_id, number, day, attendance in sessions.values_list(
        "episode_id", "number", "date", "attendance"
    ):
        if episode_id not in episode_of:  # records added while reading are left out
            continue
        out.sessions.append(tidy.SessionRecord(episode_of[episode_id][1], number, day, attendance))
    administrations = Administration.objects.filter(
        session__episode__client_id__in=in_scope, score__isnull=False
    ).order_by("pk")
    for row in administrations.values(
        "session__episode_id",
        "session__number",
        "session__date",
        "instrument",
        "definition_version",
        "answers",
        "score__total",
        "score__band",
        "score__caseness",
        "score__risk_items",
    ):
        if row["session__episode_id"] not in episode_of:
            continue
        client, episode = episode_of[row["session__episode_id"]]
        out.administrations.append(
            tidy.AdministrationRecord(
                client=client,
                episode=episode,
                session=row["session__number"],
                date=row["session__date"],
                instrument=row["instrument"],
                definition_version=row["definition_version"],
                answers=dict(row["answers"]),
                total=row["score__total"],
                band=row["score__band"] or None,
                caseness=row["score__caseness"],
                risk_items=tuple(row["score__risk_items"] or ()),
            )
        )
    return out


# --------------------------------------------------------------------------------------
# Files


@dataclass(frozen=True)
class Export:
    """A finished export: its files (name → bytes), what they hold, and its download."""

    files: dict[str, bytes]
    manifest: dict[str, Any]
    counts: dict[str, int]
    n_clients: int
    fmt: str
    scope: str

    @property
    def is_single_bundle(self) -> bool:
        return self.fmt == "fhir" and list(self.files) == ["bundle.json"]

    @property
    def filename(self) -> str:
        extension = "json" if self.is_single_bundle else "zip"
        return f"commonfactors-export-{self.scope}-{timezone.localdate():%Y-%m-%d}.{extension}"

    @property
    def content_type(self) -> str:
        return "application/fhir+json" if self.is_single_bundle else "application/zip"

    @property
    def content(self) -> bytes:
        """The download: the Bundle itself, or a zip of the files."""
        if self.is_single_bundle:
            return self.files["bundle.json"]
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, content in self.files.items():
                archive.writestr(name, content)
        return buffer.getvalue()


def check_options(fmt: str, since: date | None, until: date | None) -> list[str]:
    """Every problem of the export's options."""
    problems = []
    if fmt not in FORMATS:
        problems.append(f"unknown format {fmt!r}: expected one of {', '.join(FORMATS)}")
    return problems + tidy.check_period(since, until)


def _in_period(a: tidy.AdministrationRecord, since: date | None, until: date | None) -> bool:
    return (since is None or a.date >= since) and (until is None or a.date <= until)


def _manifest(
    scope: str, fmt: str, since: date | None, until: date | None, identified: bool
) -> dict[str, Any]:
    return {
        "created": timezone.now().isoformat(timespec="seconds"),
        "software": f"commonfactors {commonfactors.__version__}",
        "scope": scope,
        "format": fmt,
        "period": {
            "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None,
        },
        "pseudonymised": not identified,
        "identified": identified,
        "dates": "session dates kept; times of day left out",
        "primary_outcome": settings.CF_PRIMARY_OUTCOME,
        "columns": "docs/exports.md (the column dictionary)",
    }


def build(
    records: Records,
    fmt: str,
    *,
    scope: str,
    since: date | None = None,
    until: date | None = None,
    identified: bool = False,
    per_client: bool = False,
) -> Export:
    """The files of an export. CSV and Parquet: one file per table and ``manifest.json``,
    zipped for a download. FHIR: one Bundle (or, ``per_client``, one per client)."""
    problems = check_options(fmt, since, until)
    if per_client and fmt != "fhir":
        problems.append("one file per client is for the FHIR format only")
    if problems:
        raise ExportRefusedError(problems)
    try:
        return _build(records, fmt, scope, since, until, identified, per_client)
    except commonfactors.CommonFactorsError as exc:  # records the library cannot export
        raise ExportRefusedError(exc.problems) from exc


def _build(
    records: Records,
    fmt: str,
    scope: str,
    since: date | None,
    until: date | None,
    identified: bool,
    per_client: bool,
) -> Export:
    codes = records.codes if identified else None
    manifest = _manifest(scope, fmt, since, until, identified)
    n_clients = len(records.client_ids)
    if fmt == "fhir":
        chosen = [a for a in records.administrations if _in_period(a, since, until)]
        now = timezone.now()
        bundles = (
            fhir_out.client_bundles(chosen, client_codes=codes, timestamp=now)
            if per_client
            else {"bundle": fhir_out.bundle(chosen, client_codes=codes, timestamp=now)}
        )
        counts = _resource_counts(bundles.values())
        files = {f"{name}.json": _json(b) for name, b in bundles.items()}
        return Export(files, {**manifest, "resources": counts}, counts, n_clients, fmt, scope)
    result = records.tables(since=since, until=until, identified=identified)
    counts = {name: frame.height for name, frame in result.items()}
    files = tidy.write_tables(result, fmt)
    manifest = {**manifest, "rows": counts}
    files["manifest.json"] = _json(manifest)
    return Export(files, manifest, counts, n_clients, fmt, scope)


def _json(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8")


def _resource_counts(bundles: Iterable[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for b in bundles:
        for entry in b.get("entry", ()):
            kind = entry["resource"]["resourceType"]
            counts[kind] = counts.get(kind, 0) + 1
    return counts


# --------------------------------------------------------------------------------------
# Exporting, audited


def _audit(
    actor: Any,
    export: Export,
    records: Records,
    *,
    scope: str,
    since: date | None,
    until: date | None,
    identified: bool,
    client: Client | None = None,
) -> None:
    record(
        actor,
        ACTION,
        client=client,
        scope=scope,
        format=export.fmt,
        since=since.isoformat() if since else None,
        until=until.isoformat() if until else None,
        identified=identified,
        n_clients=export.n_clients,
        clients=records.client_ids,
        rows=export.counts,
    )


def export_for(
    user: Any,
    *,
    scope: str,
    fmt: str,
    since: date | None = None,
    until: date | None = None,
    client_id: int | None = None,
    identified: bool = False,
) -> Export:
    """An export made by ``user`` (the web page): checked, built and audited.
    :class:`ExportRefusedError` names every problem."""
    problems = check_options(fmt, since, until)
    if identified and not may_identify(user):
        problems.append("only an admin may include the practice's client codes")
    try:
        clients = clients_in_scope(user, scope, client_id)
    except ExportRefusedError as exc:
        problems += exc.problems
    if problems:
        raise ExportRefusedError(problems)
    records = collect(clients)
    export = build(records, fmt, scope=scope, since=since, until=until, identified=identified)
    client = clients.get() if scope == "client" else None
    _audit(
        user,
        export,
        records,
        scope=scope,
        since=since,
        until=until,
        identified=identified,
        client=client,
    )
    return export


def export_practice(
    practice: Practice,
    fmt: str,
    *,
    since: date | None = None,
    until: date | None = None,
    identified: bool = False,
    per_client: bool = False,
) -> Export:
    """A practice's export from the command line (a clinic server's operator), audited."""
    records = collect(Client.objects.filter(practice=practice))
    export = build(
        records,
        fmt,
        scope="practice",
        since=since,
        until=until,
        identified=identified,
        per_client=per_client,
    )
    _audit(
        COMMAND_LINE,
        export,
        records,
        scope="practice",
        since=since,
        until=until,
        identified=identified,
    )
    return export


def recent_exports(user: Any, limit: int = 10) -> list[dict[str, Any]]:
    """``user``'s own latest exports, from the audit log."""
    from commonfactors_web.audit.models import AuditEvent

    person = access.person(user)
    if person is None:
        return []
    events = AuditEvent.objects.filter(actor=person, action=ACTION)[:limit]
    return [
        {
            "at": e.created_at,
            "scope": SCOPES.get(str(e.detail.get("scope")), e.detail.get("scope")),
            "format": FORMATS.get(str(e.detail.get("format")), e.detail.get("format")),
            "n_clients": e.detail.get("n_clients"),
            "since": e.detail.get("since"),
            "until": e.detail.get("until"),
        }
        for e in events
    ]
