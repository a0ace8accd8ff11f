from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from commonfactors_web.accounts.access import can_read_audit
from commonfactors_web.audit.models import AuditEvent
from commonfactors_web.audit.services import record


@require_GET
@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    """The audit log, newest first (admins only)."""
    if not can_read_audit(request.user):
        raise PermissionDenied("admins only")
    action = request.GET.get("action", "").strip()
    record(request.user, "audit.view", page=request.GET.get("page", "1"), filter=action)
    events = AuditEvent.objects.select_related("client")
    if action:
        events = events.filter(action=action)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return render(request, "audit/log.html", {"page": page, "action": action})
