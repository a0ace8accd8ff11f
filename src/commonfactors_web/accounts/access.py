"""The one place that decides who may see and change what.

* A **therapist** sees and changes only their own clients (the client's responsible
  therapist), with their episodes, check-ins, scores, signals and alerts.
* A **supervisor** sees the clients of their team's therapists, read-only.
* An **admin** manages users and reads the audit log; an admin sees no client records.

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


def _person(user: Any) -> User | None:
    if isinstance(user, User) and user.is_authenticated and user.is_active:
        return user
    return None


def visible_clients(user: Any) -> QuerySet[Client]:
    """Every client ``user`` may see."""
    from commonfactors_web.clients.models import Client

    person = _person(user)
    clients = Client.objects.all()
    if person is None or person.practice_id is None:
        return clients.none()
    if person.role == Role.THERAPIST:
        return clients.filter(therapist=person, practice_id=person.practice_id)
    if person.role == Role.SUPERVISOR and person.team_id is not None:
        return clients.filter(therapist__team_id=person.team_id, practice_id=person.practice_id)
    return clients.none()


def can_view_client(user: Any, client: Client) -> bool:
    return visible_clients(user).filter(pk=client.pk).exists()


def can_change_client(user: Any, client: Client) -> bool:
    person = _person(user)
    return (
        person is not None
        and person.role == Role.THERAPIST
        and client.therapist_id == person.pk
        and client.practice_id == person.practice_id
    )


def can_add_clients(user: Any) -> bool:
    person = _person(user)
    return person is not None and person.role == Role.THERAPIST and person.practice_id is not None


def can_read_audit(user: Any) -> bool:
    person = _person(user)
    return person is not None and (person.role == Role.ADMIN or person.is_superuser)


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
