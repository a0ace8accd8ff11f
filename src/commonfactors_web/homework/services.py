"""The only functions that create or change homework, journal entries and client links.

Therapist side: :func:`assign` a form from the library, :func:`withdraw` it, make the client's
private link (:func:`create_link`: a random token, stored only as its SHA-256 hash; a new link
revokes the old) or :func:`revoke_link` it. Client side (through the link): :func:`submit` a
completed form — checked by the library first, then kept in one transaction that completes
the assignment exactly once — and :func:`save_journal`, called by every autosave and by the
plain Save button alike. Every write is audited; the client's writes with
:data:`~commonfactors_web.audit.services.CLIENT_VIA_LINK` as the actor.

Others read :func:`completion` (the library's summary for an episode).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from commonfactors import homework as library
from commonfactors_web.audit.services import CLIENT_VIA_LINK, record
from commonfactors_web.clients.models import Episode, EpisodeStatus
from commonfactors_web.homework.models import (
    Assignment,
    AssignmentStatus,
    ClientLink,
    HomeworkEntry,
    JournalEntry,
)

#: The longest instructions a therapist may give with one assignment.
INSTRUCTIONS_MAX_CHARS = 2000


class HomeworkServiceError(ValueError):
    """A request that cannot be carried out; ``problems`` names every reason."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(self.problems))


def link_days() -> int:
    """How many days a client link works (setting ``CF_HOMEWORK_LINK_DAYS``, from the
    ``HOMEWORK_LINK_DAYS`` environment variable, default 90)."""
    return max(int(settings.CF_HOMEWORK_LINK_DAYS), 1)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# ------------------------------------------------------------------ assignments


def assign(
    episode: Episode,
    user: Any,
    form_id: str,
    *,
    instructions: str = "",
    due_on: date | None = None,
    now: datetime | None = None,
) -> Assignment:
    """Set homework ``form_id`` for ``episode``; :class:`HomeworkServiceError` names every
    problem (unknown form, instructions too long, a due date in the past, an ended episode)."""
    now = now or timezone.now()
    problems = []
    try:
        library.get_form(form_id)
    except library.UnknownFormError:
        problems.append(f"unknown homework form “{form_id}”")
    instructions = instructions.strip().replace("\r\n", "\n")
    if len(instructions) > INSTRUCTIONS_MAX_CHARS:
        problems.append(
            f"the instructions have {len(instructions):,} characters; "
            f"at most {INSTRUCTIONS_MAX_CHARS:,} fit"
        )
    if due_on is not None and due_on < timezone.localdate(now):
        problems.append("the due date is in the past")
    if episode.status != EpisodeStatus.ACTIVE:
        problems.append("the episode has ended; homework is set in an active episode only")
    if problems:
        raise HomeworkServiceError(problems)
    assignment = Assignment.objects.create(
        episode=episode,
        form_id=form_id,
        instructions=instructions,
        due_on=due_on,
        assigned_by=user,
        created_at=now,
    )
    record(
        user,
        "homework.assign",
        client=episode.client,
        obj=assignment,
        form=form_id,
        due_on=due_on.isoformat() if due_on else None,
    )
    return assignment


def withdraw(assignment: Assignment, user: Any, *, now: datetime | None = None) -> bool:
    """Withdraw homework not yet completed; False if it was completed or withdrawn already."""
    now = now or timezone.now()
    changed = Assignment.objects.filter(pk=assignment.pk, status=AssignmentStatus.ASSIGNED).update(
        status=AssignmentStatus.WITHDRAWN, withdrawn_at=now
    )
    if changed:
        assignment.refresh_from_db()
        record(user, "homework.withdraw", client=assignment.episode.client, obj=assignment)
    return bool(changed)


def assignments_of(episode: Episode) -> QuerySet[Assignment]:
    return Assignment.objects.filter(episode=episode).select_related("entry", "assigned_by")


def open_assignments(episode: Episode) -> list[Assignment]:
    """Homework still to do, the soonest due first."""
    rows = Assignment.objects.filter(episode=episode, status=AssignmentStatus.ASSIGNED)
    return sorted(rows, key=lambda a: (a.due_on is None, a.due_on or date.max, a.pk))


def assignment_records(episode: Episode) -> list[library.AssignmentRecord]:
    """``episode``'s homework as the library's plain records."""
    rows = Assignment.objects.filter(episode=episode).values_list(
        "created_at", "due_on", "completed_at", "status"
    )
    return [
        library.AssignmentRecord(
            assigned_on=timezone.localdate(created),
            due_on=due,
            completed_on=timezone.localdate(done) if done else None,
            withdrawn=status == AssignmentStatus.WITHDRAWN,
        )
        for created, due, done, status in rows
    ]


def completion(episode: Episode, *, today: date | None = None) -> library.CompletionSummary:
    """The library's completion summary of ``episode``'s homework as of ``today`` (for the
    client page, the common-factors profile and the support review; the dropout risk reads
    :func:`assignment_records` at each session)."""
    return library.completion(assignment_records(episode), today=today or timezone.localdate())


# ------------------------------------------------------------------ the client's link


@dataclass(frozen=True)
class NewClientLink:
    """A new link and its token: the only moment the token exists in clear."""

    link: ClientLink
    token: str


def active_link(episode: Episode, *, now: datetime | None = None) -> ClientLink | None:
    now = now or timezone.now()
    return (
        ClientLink.objects.filter(episode=episode, revoked_at__isnull=True, expires_at__gt=now)
        .select_related("episode")
        .first()
    )


@transaction.atomic
def create_link(episode: Episode, user: Any, *, now: datetime | None = None) -> NewClientLink:
    """A new private link for ``episode``'s homework and journal; any older link stops
    working. The link expires after :func:`link_days` days or when the episode ends."""
    now = now or timezone.now()
    if episode.status != EpisodeStatus.ACTIVE:
        raise HomeworkServiceError(["the episode has ended; a client link needs an active one"])
    for old in ClientLink.objects.select_for_update().filter(
        episode=episode, revoked_at__isnull=True
    ):
        _revoke(old, user, now, reason="replaced by a new link")
    token = secrets.token_urlsafe(32)
    link = ClientLink.objects.create(
        episode=episode,
        token_hash=hash_token(token),
        created_by=user,
        created_at=now,
        expires_at=now + timedelta(days=link_days()),
    )
    record(
        user,
        "homework.link.create",
        client=episode.client,
        obj=link,
        expires_at=link.expires_at.isoformat(),
    )
    return NewClientLink(link, token)


def _revoke(link: ClientLink, user: Any, now: datetime, *, reason: str) -> None:
    ClientLink.objects.filter(pk=link.pk).update(revoked_at=now, revoked_by=user)
    link.revoked_at, link.revoked_by = now, user
    record(user, "homework.link.revoke", client=link.episode.client, obj=link, reason=reason)


def revoke_link(link: ClientLink, user: Any, *, now: datetime | None = None) -> bool:
    """Stop ``link`` working at once; False if it was revoked already."""
    if link.revoked_at is not None:
        return False
    _revoke(link, user, now or timezone.now(), reason="revoked by the therapist")
    return True


def email_link(link: ClientLink, url: str, user: Any) -> bool:
    """Send the link to the client's contact address; False when there is none."""
    client = link.episode.client
    if not client.email:
        return False
    send_mail(
        subject="Your private page for homework and journal",
        message=(
            "Your therapist has made a private page for you, where you can fill in the "
            "homework you agreed and keep a journal. Your journal stays private unless you "
            "choose to share an entry.\n\n"
            f"{url}\n\nThe link works until {timezone.localtime(link.expires_at):%d %B %Y}. "
            "Keep it to yourself, like a password. If you did not expect this message, you "
            "can ignore it."
        ),
        from_email=None,
        recipient_list=[client.email],
    )
    ClientLink.objects.filter(pk=link.pk).update(emailed_at=timezone.now())
    record(user, "homework.link.email", client=client, obj=link)
    return True


def find_link(token: str, *, now: datetime | None = None) -> ClientLink | None:
    """The working link of ``token``, or None: unknown, revoked and expired links and those
    of ended episodes are all the same to the caller."""
    if not token or len(token) > 100:
        return None
    now = now or timezone.now()
    return (
        ClientLink.objects.select_related("episode__client__practice")
        .filter(
            token_hash=hash_token(token),
            revoked_at__isnull=True,
            expires_at__gt=now,
            episode__status=EpisodeStatus.ACTIVE,
        )
        .first()
    )


def link_opened(link: ClientLink, *, now: datetime | None = None) -> None:
    """Note that the client opened their page (shown to the therapist)."""
    now = now or timezone.now()
    ClientLink.objects.filter(pk=link.pk).update(last_opened_at=now)
    record(CLIENT_VIA_LINK, "homework.link.open", client=link.episode.client, obj=link)


# ------------------------------------------------------------------ completing homework


@dataclass
class SubmitResult:
    """What happened to one completed form."""

    status: str  # "completed" | "invalid" | "gone"
    problems: tuple[str, ...] = ()
    by_field: dict[str, tuple[str, ...]] = field(default_factory=dict)
    entry: HomeworkEntry | None = None


def submit(
    link: ClientLink,
    assignment_id: int,
    given: Mapping[str, Any],
    *,
    now: datetime | None = None,
) -> SubmitResult:
    """Check the completed form with the library and keep it, completing the assignment.
    A repeated or concurrent submission finds the assignment completed and stores nothing."""
    now = now or timezone.now()
    assignment = Assignment.objects.filter(
        pk=assignment_id, episode_id=link.episode_id, status=AssignmentStatus.ASSIGNED
    ).first()
    if assignment is None:
        return SubmitResult("gone")
    form = library.get_form(assignment.form_id)
    try:
        clean = library.validate(assignment.form_id, given)
    except library.HomeworkError as exc:
        return SubmitResult("invalid", problems=exc.problems, by_field=exc.by_field)
    with transaction.atomic():
        claimed = Assignment.objects.filter(
            pk=assignment.pk, status=AssignmentStatus.ASSIGNED
        ).update(status=AssignmentStatus.COMPLETED, completed_at=now)
        if claimed != 1:
            return SubmitResult("gone")
        entry = HomeworkEntry.objects.create(
            assignment=assignment, form_version=form.version, data=clean, submitted_at=now
        )
        record(
            CLIENT_VIA_LINK,
            "homework.complete",
            client=link.episode.client,
            obj=assignment,
            form=assignment.form_id,
        )
    return SubmitResult("completed", entry=entry)


# ------------------------------------------------------------------ the journal


class JournalKeyError(LookupError):
    """The entry key belongs to another episode's journal."""


@dataclass(frozen=True)
class JournalSave:
    entry: JournalEntry | None  # None: nothing to keep yet (a new, empty entry)
    changed: bool


def save_journal(
    link: ClientLink,
    key: uuid.UUID,
    text: str,
    shared: bool,
    *,
    now: datetime | None = None,
) -> JournalSave:
    """Create or update the journal entry ``key`` of the link's episode. Raises
    ``JournalError`` (too long) or :class:`JournalKeyError` (another episode's key). Two
    saves of a new entry at once (an autosave and the page closing) make one entry."""
    now = now or timezone.now()
    text = library.check_journal_text(text)
    with transaction.atomic():
        entry = JournalEntry.objects.select_for_update().filter(key=key).first()
        if entry is None:
            if not text.strip():
                return JournalSave(None, changed=False)
            try:
                with transaction.atomic():
                    entry = JournalEntry.objects.create(
                        episode_id=link.episode_id,
                        key=key,
                        text=text,
                        shared_with_therapist=shared,
                        shared_at=now if shared else None,
                        created_at=now,
                        updated_at=now,
                    )
            except IntegrityError:  # the other save created it first: update that one
                entry = JournalEntry.objects.select_for_update().get(key=key)
            else:
                record(
                    CLIENT_VIA_LINK,
                    "journal.create",
                    client=link.episode.client,
                    obj=entry,
                    shared=shared,
                )
                return JournalSave(entry, changed=True)
        if entry.episode_id != link.episode_id:
            raise JournalKeyError("no such journal entry")
        return JournalSave(entry, changed=_update_journal(link, entry, text, shared, now))


def _update_journal(
    link: ClientLink, entry: JournalEntry, text: str, shared: bool, now: datetime
) -> bool:
    text_changed = entry.text != text
    sharing_changed = entry.shared_with_therapist != shared
    if not (text_changed or sharing_changed):
        return False
    entry.text = text
    entry.shared_with_therapist = shared
    entry.updated_at = now
    if sharing_changed:
        entry.shared_at = now if shared else None
    entry.save(update_fields=["text", "shared_with_therapist", "shared_at", "updated_at"])
    client = link.episode.client
    if text_changed:
        record(CLIENT_VIA_LINK, "journal.update", client=client, obj=entry)
    if sharing_changed:
        action = "journal.share" if shared else "journal.unshare"
        record(CLIENT_VIA_LINK, action, client=client, obj=entry)
    return True


def journal_of(link: ClientLink) -> QuerySet[JournalEntry]:
    """The client's own journal (every entry, shared or not): for the client's page only."""
    return JournalEntry.objects.filter(episode_id=link.episode_id)


def shared_journal(episode: Episode) -> QuerySet[JournalEntry]:
    """The entries the client chose to share: all a therapist ever sees of the journal."""
    return JournalEntry.objects.filter(episode=episode, shared_with_therapist=True)
