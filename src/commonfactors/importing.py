"""Reading a practice's history for import: CSV tables and FHIR QuestionnaireResponses.

Pure: files in, plain records out, with every problem named at once (file, row, column and
what was expected; for FHIR the resource id and the element path). Nothing here touches a
database; the web app decides what is new and what is already present.

**Layouts** (documented in ``docs/imports.md``):

* ``answers`` — one row per item answer: a client (``client_code``, else ``client_id``), an
  episode (``started_on``, else ``episode_id`` looked up in an ``episodes`` table), the
  ``session`` number, its ``date``, the ``instrument``, the ``item`` id and the ``value``
  (empty: left blank). This is the exported ``answers`` table, and the simple layout a
  clinic can produce with ``client_code`` and ``started_on`` columns.
* ``sessions`` (optional) — one row per session: ``session``, ``date``, ``attendance``.
* ``episodes`` (optional) — one row per episode: ``started_on``, ``ended_on``, ``status``.
* ``scores`` (totals without item answers) is **refused**: a score is always computed by
  the library from item answers by the instrument's published rules, and no item answer is
  ever invented. An exported ``scores`` table beside its ``answers`` table is skipped.
* FHIR: a QuestionnaireResponse or a Bundle of them (our export's Bundle included), scored
  by :func:`commonfactors.fhir.score_response`.

Every administration is scored here by :func:`commonfactors.score` (or
:func:`commonfactors.fhir.score_response`): answers the published rules refuse are
problems of the import.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import polars as pl

from commonfactors import fhir
from commonfactors.errors import ScoringError
from commonfactors.fhir_out import ADMINISTRATION_SYSTEM, CLIENT_CODE_SYSTEM, PSEUDONYM_SYSTEM
from commonfactors.instruments.registry import get_instrument
from commonfactors.scoring import Score, score

#: Attendance values of a session.
ATTENDANCE = ("attended", "cancelled", "did_not_attend")
#: Status values of an episode.
STATUSES = ("active", "finished", "dropped_out")
#: The most a zip may unpack to (bytes): a guard against zip bombs.
UNZIPPED_BYTES = 500 * 2**20
#: The longest client code a practice may use.
CODE_LENGTH = 40

_CLIENT = ("client_code", "client_id")
_EPISODE = ("started_on", "episode_id")

Answers = dict[str, float | None]


@dataclass(frozen=True)
class Problem:
    """One problem of an import: the file, where in it (row, column or resource path), what."""

    source: str
    where: str
    message: str

    def __str__(self) -> str:
        where = f", {self.where}" if self.where else ""
        return f"{self.source}{where}: {self.message}"


@dataclass(frozen=True)
class EpisodeIn:
    client: str
    started_on: date
    ended_on: date | None = None
    status: str = "active"


@dataclass(frozen=True)
class SessionIn:
    """A session with its administrations: instrument → raw answers, and their scores."""

    client: str
    started_on: date
    number: int
    date: date
    attendance: str
    answers: Mapping[str, Answers] = field(default_factory=dict)
    scores: Mapping[str, Score] = field(default_factory=dict)


@dataclass(frozen=True)
class History:
    """What the files hold, in order, and every problem found."""

    clients: tuple[str, ...]
    episodes: tuple[EpisodeIn, ...]
    sessions: tuple[SessionIn, ...]
    problems: tuple[Problem, ...]

    @property
    def administrations(self) -> int:
        return sum(len(s.answers) for s in self.sessions)


# --------------------------------------------------------------------------------------
# Values


def _text(row: Mapping[str, str | None], column: str) -> str:
    return (row.get(column) or "").strip()


def _parse_date(value: str) -> date | None:
    try:
        return date.fromisoformat(value[:10]) if len(value) >= 10 else None
    except ValueError:
        return None


def _parse_number(value: str) -> float | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return number if number == number and abs(number) != float("inf") else None


def _parse_session(value: str) -> int | None:
    number = _parse_number(value)
    if number is None or number != int(number) or number < 1 or number > 32767:
        return None
    return int(number)


class _Collector:
    """Gathers the records of every file; a key is (client, started_on, session)."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.episodes: dict[tuple[str, date], EpisodeIn] = {}
        self.episode_ids: dict[str, tuple[str, date]] = {}
        self.sessions: dict[tuple[str, date, int], tuple[date, str, str]] = {}
        self.answers: dict[tuple[str, date, int, str], Answers] = {}
        self.answer_where: dict[tuple[str, date, int, str], str] = {}
        self.dates: dict[tuple[str, date, int], date] = {}
        self.scored: dict[tuple[str, date, int, str], Score] = {}

    def problem(self, source: str, where: str, message: str) -> None:
        self.problems.append(Problem(source, where, message))

    def client(self, source: str, where: str, row: Mapping[str, str | None]) -> str | None:
        code = next((_text(row, c) for c in _CLIENT if _text(row, c)), "")
        if not code:
            self.problem(source, where, "no client: expected a client_code (or client_id)")
            return None
        if len(code) > CODE_LENGTH:
            self.problem(source, where, f"client code is longer than {CODE_LENGTH} characters")
            return None
        return code

    def date_of(
        self, source: str, where: str, row: Mapping[str, str | None], col: str
    ) -> date | None:
        value = _text(row, col)
        parsed = _parse_date(value)
        if parsed is None:
            self.problem(source, f"{where}, column {col}", f"{value!r} is not a date (YYYY-MM-DD)")
        return parsed

    def episode_key(
        self, source: str, where: str, row: Mapping[str, str | None], client: str
    ) -> date | None:
        if _text(row, "started_on"):
            return self.date_of(source, where, row, "started_on")
        episode_id = _text(row, "episode_id")
        if episode_id and episode_id in self.episode_ids:
            owner, started_on = self.episode_ids[episode_id]
            if owner != client:
                self.problem(source, where, f"episode {episode_id} belongs to another client")
                return None
            return started_on
        self.problem(
            source,
            where,
            "no episode: expected started_on (YYYY-MM-DD), or an episode_id listed in an "
            "episodes table",
        )
        return None

    def session_number(self, source: str, where: str, row: Mapping[str, str | None]) -> int | None:
        value = _text(row, "session")
        number = _parse_session(value)
        if number is None:
            self.problem(
                source, f"{where}, column session", f"{value!r} is not a session number (1, 2 …)"
            )
        return number

    def note_date(self, source: str, where: str, key: tuple[str, date, int], day: date) -> None:
        known = self.dates.setdefault(key, day)
        if known != day:
            self.problem(source, f"{where}, column date", f"session dated {day}, elsewhere {known}")
        if day < key[1]:
            self.problem(
                source, f"{where}, column date", f"{day} is before the episode's start {key[1]}"
            )


# --------------------------------------------------------------------------------------
# CSV


def _rows(frame: pl.DataFrame) -> list[dict[str, str | None]]:
    return [{k: (None if v is None else str(v)) for k, v in r.items()} for r in frame.to_dicts()]


def _kind(columns: set[str]) -> str | None:
    if {"item", "value", "instrument"} <= columns:
        return "answers"
    if "total" in columns and "instrument" in columns:
        return "scores"
    if "attendance" in columns and "session" in columns:
        return "sessions"
    if "status" in columns and "started_on" in columns and "session" not in columns:
        return "episodes"
    return None


_REQUIRED = {
    "answers": ("session", "date", "instrument", "item", "value"),
    "sessions": ("session", "date", "attendance"),
    "episodes": ("started_on", "status"),
}


def _episodes_csv(c: _Collector, source: str, rows: list[dict[str, str | None]]) -> None:
    for n, row in enumerate(rows, start=2):
        where = f"row {n}"
        client = c.client(source, where, row)
        started = c.date_of(source, where, row, "started_on")
        status = _text(row, "status")
        ended_text = _text(row, "ended_on")
        ended = c.date_of(source, where, row, "ended_on") if ended_text else None
        ok = client is not None and started is not None and (ended or not ended_text)
        if status not in STATUSES:
            c.problem(
                source, f"{where}, column status", f"{status!r}: expected {', '.join(STATUSES)}"
            )
            ok = False
        elif status != "active" and ended is None and not ended_text:
            c.problem(source, f"{where}, column ended_on", f"a {status} episode needs its end")
            ok = False
        elif status == "active" and ended is not None:
            c.problem(source, f"{where}, column ended_on", "an active episode has no end")
            ok = False
        if started is not None and ended is not None and ended < started:
            c.problem(source, f"{where}, column ended_on", f"{ended} is before {started}")
            ok = False
        if not ok or client is None or started is None:
            continue
        if (client, started) in c.episodes:
            c.problem(source, where, f"episode of {client} starting {started} is listed twice")
            continue
        c.episodes[(client, started)] = EpisodeIn(client, started, ended, status)
        if _text(row, "episode_id"):
            c.episode_ids[_text(row, "episode_id")] = (client, started)


def _sessions_csv(c: _Collector, source: str, rows: list[dict[str, str | None]]) -> None:
    for n, row in enumerate(rows, start=2):
        where = f"row {n}"
        client = c.client(source, where, row)
        started = c.episode_key(source, where, row, client) if client else None
        number = c.session_number(source, where, row)
        day = c.date_of(source, where, row, "date")
        attendance = _text(row, "attendance")
        if attendance not in ATTENDANCE:
            c.problem(
                source,
                f"{where}, column attendance",
                f"{attendance!r}: expected {', '.join(ATTENDANCE)}",
            )
            continue
        if client is None or started is None or number is None or day is None:
            continue
        key = (client, started, number)
        if key in c.sessions:
            c.problem(source, where, f"session {number} of {client} is listed twice")
            continue
        c.note_date(source, where, key, day)
        c.sessions[key] = (day, attendance, f"{source}, {where}")


def _answers_csv(c: _Collector, source: str, rows: list[dict[str, str | None]]) -> None:
    first_row: dict[tuple[str, date, int, str], int] = {}
    last_row: dict[tuple[str, date, int, str], int] = {}
    for n, row in enumerate(rows, start=2):
        where = f"row {n}"
        client = c.client(source, where, row)
        started = c.episode_key(source, where, row, client) if client else None
        number = c.session_number(source, where, row)
        day = c.date_of(source, where, row, "date")
        instrument, item, raw = _text(row, "instrument"), _text(row, "item"), _text(row, "value")
        value = _parse_number(raw) if raw else None
        if raw and value is None:
            c.problem(source, f"{where}, column value", f"{raw!r} is not a number")
            continue
        if not instrument or not item:
            c.problem(source, where, "expected an instrument and an item id")
            continue
        if client is None or started is None or number is None or day is None:
            continue
        c.note_date(source, where, (client, started, number), day)
        key = (client, started, number, instrument)
        answers = c.answers.setdefault(key, {})
        if item in answers:
            c.problem(source, f"{where}, column item", f"{item} is answered twice")
            continue
        answers[item] = value
        first_row.setdefault(key, n)
        last_row[key] = n
    for key, n in first_row.items():
        rows_text = f"row {n}" if n == last_row[key] else f"rows {n}–{last_row[key]}"
        c.answer_where[key] = f"{source}, {rows_text}"


def _read_csv(c: _Collector, source: str, data: bytes, tables: dict[str, list[Any]]) -> None:
    try:
        frame = pl.read_csv(io.BytesIO(data), infer_schema=False)
    except (pl.exceptions.PolarsError, UnicodeDecodeError) as exc:
        c.problem(source, "", f"not a readable CSV file (UTF-8, a header row): {exc}")
        return
    columns = {col.strip() for col in frame.columns}
    frame = frame.rename({col: col.strip() for col in frame.columns})
    kind = _kind(columns)
    if kind is None:
        c.problem(
            source,
            "header",
            "unknown layout: expected the columns of an answers, sessions or episodes table "
            "(see docs/imports.md)",
        )
        return
    missing = [col for col in _REQUIRED.get(kind, ()) if col not in columns]
    if kind != "scores" and not columns & set(_CLIENT):
        missing.append("client_code")
    if kind in ("answers", "sessions") and not columns & set(_EPISODE):
        missing.append("started_on")
    if missing:
        c.problem(source, "header", f"missing column(s) {', '.join(missing)} for a {kind} table")
        return
    tables.setdefault(kind, []).append((source, _rows(frame)))


# --------------------------------------------------------------------------------------
# FHIR


def _identifier_value(element: object, system: str) -> str:
    items = element if isinstance(element, list) else [element]
    for i in items:
        if isinstance(i, Mapping) and i.get("system") == system and i.get("value"):
            return str(i["value"])
    return ""


def _fhir_resources(c: _Collector, source: str, data: bytes) -> list[tuple[str, Any]]:
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        c.problem(source, "", f"not JSON: {exc}")
        return []
    if isinstance(document, Mapping) and document.get("resourceType") == "Bundle":
        entries = document.get("entry") or []
        return [(f"entry[{i}].resource", e.get("resource")) for i, e in enumerate(entries)]
    if isinstance(document, Mapping) and document.get("resourceType"):
        return [("", document)]
    c.problem(source, "", "expected a FHIR QuestionnaireResponse or a Bundle of them")
    return []


def _read_fhir(c: _Collector, source: str, data: bytes) -> None:
    resources = _fhir_resources(c, source, data)
    codes: dict[str, str] = {}
    for _, resource in resources:
        if isinstance(resource, Mapping) and resource.get("resourceType") == "Patient":
            pseudonym = _identifier_value(resource.get("identifier"), PSEUDONYM_SYSTEM)
            code = _identifier_value(resource.get("identifier"), CLIENT_CODE_SYSTEM)
            if pseudonym and code:
                codes[pseudonym] = code
    found: list[tuple[str, str, str, int, str, Answers, Score, date]] = []
    for path, resource in resources:
        if not isinstance(resource, Mapping):
            c.problem(source, path, "an entry without a resource")
            continue
        if resource.get("resourceType") != "QuestionnaireResponse":
            continue  # Patients and Observations of our export: the scores are recomputed
        rid = str(resource.get("id") or "?")
        where = f"QuestionnaireResponse/{rid}" + (f" ({path})" if path else "")
        problems: list[str] = []
        key = _identifier_value(resource.get("identifier"), ADMINISTRATION_SYSTEM)
        parts = key.rsplit("/", 2)
        number = _parse_session(parts[1]) if len(parts) == 3 else None
        if number is None:
            problems.append(
                f"identifier: expected system {ADMINISTRATION_SYSTEM} with value "
                "<episode>/<session>/<instrument>"
            )
        subject = resource.get("subject")
        pseudonym = (
            _identifier_value(subject.get("identifier"), PSEUDONYM_SYSTEM)
            or _identifier_value(subject.get("identifier"), CLIENT_CODE_SYSTEM)
            if isinstance(subject, Mapping)
            else ""
        )
        client = codes.get(pseudonym, pseudonym)
        if not client:
            problems.append("subject.identifier: expected the client's code or pseudonymous id")
        elif len(client) > CODE_LENGTH:
            problems.append(f"subject.identifier: longer than {CODE_LENGTH} characters")
        day = _parse_date(str(resource.get("authored") or ""))
        if day is None:
            problems.append("authored: expected the date of the session")
        try:
            scored = fhir.score_response(resource)
        except ScoringError as exc:
            problems += [str(exc), *exc.problems]
            scored = None
        if problems or scored is None or number is None or day is None:
            for p in problems:
                c.problem(source, where, p)
            continue
        d = get_instrument(scored.instrument).definition
        raw = fhir._read(d, resource).answers  # the answers as given, before reverse keying
        answers: Answers = {i: v for i, v in raw.items() if v is not None}
        found.append(
            (where, client, parts[0], number, scored.instrument, answers, scored.score, day)
        )
    # an episode of a FHIR import starts on its first session's date (a response carries no
    # episode start)
    starts: dict[tuple[str, str], date] = {}
    for _, client, episode, _, _, _, _, day in found:
        known = starts.get((client, episode))
        starts[(client, episode)] = day if known is None else min(known, day)
    for where, client, episode, number, instrument, answers, result, day in found:
        started = starts[(client, episode)]
        c.episodes.setdefault((client, started), EpisodeIn(client, started))
        session_key = (client, started, number)
        c.note_date(source, where, session_key, day)
        c.sessions.setdefault(session_key, (day, "attended", f"{source}, {where}"))
        if (client, started, number, instrument) in c.answers:
            c.problem(source, where, f"{instrument} of session {number} is listed twice")
            continue
        c.answers[(client, started, number, instrument)] = answers
        c.answer_where[(client, started, number, instrument)] = f"{source}, {where}"
        c.scored[(client, started, number, instrument)] = result


# --------------------------------------------------------------------------------------
# Reading files


def _unpack(name: str, data: bytes, c: _Collector) -> list[tuple[str, bytes]]:
    if not name.lower().endswith(".zip"):
        return [(name, data)]
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            if sum(info.file_size for info in z.infolist()) > UNZIPPED_BYTES:
                c.problem(name, "", f"unpacks to more than {UNZIPPED_BYTES // 2**20} MB")
                return []
            return [
                (f"{name}/{member}", z.read(member))
                for member in z.namelist()
                if not member.endswith("/")
            ]
    except zipfile.BadZipFile:
        c.problem(name, "", "not a zip file")
        return []


def read_history(files: Mapping[str, bytes]) -> History:
    """Read ``files`` (name → bytes: ``.csv`` tables, ``.json`` FHIR, or a ``.zip`` of them)
    into a :class:`History`, naming every problem at once."""
    c = _Collector()
    tables: dict[str, list[tuple[str, list[dict[str, str | None]]]]] = {}
    for name, data in files.items():
        for source, content in _unpack(name, data, c):
            lower = source.lower()
            if lower.rpartition("/")[2] == "manifest.json":
                continue  # an export's description of itself
            if lower.endswith(".csv"):
                _read_csv(c, source, content, tables)
            elif lower.endswith(".json"):
                _read_fhir(c, source, content)
            else:
                c.problem(source, "", "expected a .csv, .json (FHIR) or .zip file")
    for source, _ in tables.get("scores", []):
        if "answers" not in tables:
            c.problem(
                source,
                "header",
                "totals without item answers are not imported: scores are computed from the "
                "item answers (give an answers table, one row per item)",
            )
    for kind, reader in (
        ("episodes", _episodes_csv),
        ("sessions", _sessions_csv),
        ("answers", _answers_csv),
    ):
        for source, rows in tables.get(kind, []):
            reader(c, source, rows)
    return _assemble(c)


def _assemble(c: _Collector) -> History:
    for key, answers in c.answers.items():
        if key in c.scored:
            continue
        try:
            c.scored[key] = score(key[3], answers)
        except ScoringError as exc:
            where = c.answer_where.get(key, "")
            source, _, rows = where.partition(", ")
            detail = "; ".join(exc.problems) or str(exc)
            c.problem(source, rows, f"{key[0]} session {key[2]} {key[3]}: {detail}")
    for client, started, number, _ in c.answers:
        c.sessions.setdefault(
            (client, started, number), (c.dates[(client, started, number)], "attended", "")
        )
    for client, started, _ in c.sessions:
        c.episodes.setdefault((client, started), EpisodeIn(client, started))
    by_session: dict[tuple[str, date, int], dict[str, Answers]] = {}
    for key, given in c.answers.items():
        by_session.setdefault(key[:3], {})[key[3]] = given
    sessions = []
    for (client, started, number), (day, attendance, where) in sorted(c.sessions.items()):
        episode = c.episodes[(client, started)]
        if episode.ended_on is not None and day > episode.ended_on:
            source, _, rows = where.partition(", ")
            c.problem(source, rows, f"session {number} of {client} is after the episode's end")
        administered = by_session.get((client, started, number), {})
        if administered and attendance != "attended":
            source, _, rows = where.partition(", ")
            c.problem(
                source, rows, f"session {number} of {client} has answers but was {attendance}"
            )
        scores = {
            i: c.scored[(client, started, number, i)]
            for i in administered
            if (client, started, number, i) in c.scored
        }
        sessions.append(SessionIn(client, started, number, day, attendance, administered, scores))
    return History(
        clients=tuple(sorted({e.client for e in c.episodes.values()})),
        episodes=tuple(sorted(c.episodes.values(), key=lambda e: (e.client, e.started_on))),
        sessions=tuple(sessions),
        problems=tuple(c.problems),
    )
