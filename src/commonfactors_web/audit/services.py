"""Recording audit events: the only way rows enter the audit log."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from commonfactors_web.audit.models import AuditEvent

if TYPE_CHECKING:
    from commonfactors_web.clients.models import Client

#: The label of events caused by a client through their check-in link.
CLIENT_VIA_LINK = "client via check-in link"
SYSTEM = "system"


def _label(actor: Any) -> str:
    if actor is None:
        return SYSTEM
    if isinstance(actor, str):
        return actor
    return f"{actor.get_username()} ({getattr(actor, 'role', 'user')})"


def record(
    actor: Any,
    action: str,
    *,
    client: Client | None = None,
    obj: Any = None,
    **detail: Any,
) -> AuditEvent:
    """Append one event: ``actor`` is a user, a label (e.g. :data:`CLIENT_VIA_LINK`) or None
    (the system); ``obj`` the record acted on; ``detail`` plain JSON values."""
    user = actor if getattr(actor, "pk", None) is not None and not isinstance(actor, str) else None
    return AuditEvent.objects.create(
        actor=user,
        actor_label=_label(actor),
        action=action,
        client=client,
        object_type=type(obj).__name__ if obj is not None else "",
        object_id=str(obj.pk) if obj is not None and getattr(obj, "pk", None) else "",
        detail=detail,
    )
