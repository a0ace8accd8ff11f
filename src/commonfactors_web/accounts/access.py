"""The one place that decides who may see and change what.

* A **therapist** sees and changes only their own clients (the client's responsible
  therapist), with their episodes, check-ins, scores, signals and alerts.
* A **supervisor** sees the clients of their team's therapists, read-only.
* An **admin** manages users and reads the audit log; an admin sees no client records.
  An admin also manages the practice's technique catalogue, exports the whole practice
  pseudonymised (alone may add client codes) and imports into any therapist's caseload.
* Exports: a therapist their own clients, a supervisor their team's, each also one client
  they may open; imports: a therapist into their own caseload.
* The team dashboard and the practice report are a supervisor's (their team); a therapist
  sees their own profile and keeps their own development log.

Views ask here and nowhere else. A client that a user may not see is reported as not found
(404), so its existence is not revealed; a supervisor asking to change is refused (403).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from commonfactors_web.accounts.models import Role, User

if TYPE_CHECKING:
    from commonfactors_web.clients.models import Client


def person(user: Any) -> User | None:
    """``user`` as an active, logged-in :class:`User`, or None."""
    if isinstance(user, User) and user.is_authenticated and user.is_active:
        return user
    return None


def is_practice_admin(user: Any) -> bool:
    """An admin of a practice."""
    p = person(user)
    return p is not None and p.role == Role.ADMIN and p.practice_id is not None


def is_team_supervisor(user: Any) -> bool:
    """A supervisor of a team in a practice: sees the team's clients (read-only), figures
    and development logs."""
    p = person(user)
    return (
        p is not None
        and p.role == Role.SUPERVISOR
        and p.team_id is not None
        and p.practice_id is not None
    )


def is_practice_therapist(user: Any) -> bool:
    """A therapist in a practice: has a caseload, a profile and a development log."""
    p = person(user)
    return p is not None and p.role == Role.THERAPIST and p.practice_id is not None


def export_scopes(user: Any) -> list[str]:
    """The export scopes ``user`` may use (none: the export page is refused): ``mine``,
    ``team``, ``client`` (one client they may open) or ``practice`` (an admin)."""
    if is_practice_therapist(user):
        return ["mine", "client"]
    if is_team_supervisor(user):
        return ["team", "client"]
    if is_practice_admin(user):
        return ["practice"]
    return []


def import_therapists(user: Any) -> QuerySet[User]:
    """The therapists into whose caseload ``user`` may import: a therapist themselves, an
    admin any active therapist of the practice."""
    p = person(user)
    if p is not None and is_practice_therapist(p):
        return User.objects.filter(pk=p.pk)
    if p is not None and is_practice_admin(p):
        return User.objects.filter(
            practice_id=p.practice_id, role=Role.THERAPIST, is_active=True
        ).order_by("username")
    return User.objects.none()


def visible_clients(user: Any) -> QuerySet[Client]:
    """Every client ``user`` may see."""
    from commonfactors_web.clients.models import Client

    p = person(user)
    clients = Client.objects.all()
    if p is None or p.practice_id is None:
        return clients.none()
    if p.role == Role.THERAPIST:
        return clients.filter(therapist=p, practice_id=p.practice_id)
    if p.role == Role.SUPERVISOR and p.team_id is not None:
        return clients.filter(therapist__team_id=p.team_id, practice_id=p.practice_id)
    return clients.none()


def can_view_client(user: Any, client: Client) -> bool:
    return visible_clients(user).filter(pk=client.pk).exists()


def can_change_client(user: Any, client: Client) -> bool:
    p = person(user)
    return (
        p is not None
        and p.role == Role.THERAPIST
        and client.therapist_id == p.pk
        and client.practice_id == p.practice_id
    )


def can_add_clients(user: Any) -> bool:
    return is_practice_therapist(user)


def can_read_audit(user: Any) -> bool:
    p = person(user)
    return p is not None and (p.role == Role.ADMIN or p.is_superuser)


def client_for_view(user: Any, client_id: int) -> Client:
    """The client, if ``user`` may see it; otherwise 404."""
    client = visible_clients(user).filter(pk=client_id).select_related("therapist").first()
    if client is None:
        raise Http404("no such client")
    return client


def client_for_change(user: Any, client_id: int) -> Client:
    """The client, if ``user`` may change it; 404 if they may not even see it, else 403."""
    client = client_for_view(user, client_id)
    if not can_change_client(user, client):
        raise PermissionDenied("read-only access")
    return client
