"""Check-in links: make one (its link is in this one response only) and look at them.

As on the client page: the client's own therapist makes a link for the client's current
episode, with the questionnaires asked or those due by the measurement plan
(``checkins.services.create_checkin``); a supervisor may look but not make one.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest
from django.urls import reverse
from ninja import Query, Router, Status

from commonfactors_web.accounts import access
from commonfactors_web.api import output, schemas
from commonfactors_web.api.auth import audit, user_of
from commonfactors_web.api.errors import READ_ERRORS, WRITE_ERRORS, InputError
from commonfactors_web.api.pagination import page
from commonfactors_web.checkins import services
from commonfactors_web.checkins.models import CheckIn, Score
from commonfactors_web.clients.services import current_episode

router = Router(tags=["check-ins"])


@router.post(
    "/clients/{client_id}/checkins", response={201: schemas.CheckInCreated, **WRITE_ERRORS}
)
def create_checkin(
    request: HttpRequest, client_id: schemas.ClientId, body: schemas.CheckInIn
) -> Status[schemas.CheckInCreated]:
    """A new check-in link for the client's current episode. The link (and its token) is
    in this response only: it is stored as a hash and cannot be shown again."""
    user = user_of(request)
    client = access.client_for_change(user, client_id)
    episode = current_episode(client)
    if episode is None:
        raise Http404("no episode")
    try:
        link = services.create_checkin(episode, user, body.instruments)
    except services.CheckInError as exc:
        raise InputError([(["body", "instruments"], str(exc))]) from None
    url = request.build_absolute_uri(reverse("checkin_form", args=[link.token]))
    emailed = services.email_link(link.checkin, url, user) if body.email else False
    checkin = CheckIn.objects.select_related("episode", "created_by", "session").get(
        pk=link.checkin.pk
    )
    return Status(
        201,
        schemas.CheckInCreated(
            **output.checkin_fields(checkin), url=url, token=link.token, emailed=emailed
        ),
    )


@router.get(
    "/clients/{client_id}/checkins",
    response={200: schemas.Page[schemas.CheckInOut], **READ_ERRORS},
)
def list_checkins(
    request: HttpRequest, client_id: schemas.ClientId, paging: Query[schemas.Paging]
) -> schemas.Page[schemas.CheckInOut]:
    """The client's check-ins (of every episode), the newest first: their state, never
    their links."""
    client = access.client_for_view(user_of(request), client_id)
    checkins = CheckIn.objects.filter(episode__client=client).select_related(
        "episode", "created_by", "session"
    )
    rows, count = page(checkins.order_by("-created_at", "-pk"), paging)
    audit(request, "checkin.list", client=client, checkins=[c.pk for c in rows])
    return schemas.Page[schemas.CheckInOut](
        count=count,
        limit=paging.limit,
        offset=paging.offset,
        items=[output.checkin(c) for c in rows],
    )


@router.get("/checkins/{checkin_id}", response={200: schemas.CheckInDetail, **READ_ERRORS})
def get_checkin(request: HttpRequest, checkin_id: schemas.CheckInId) -> schemas.CheckInDetail:
    """One check-in, with the scores of the answers it brought once the client has sent
    them."""
    checkin = (
        CheckIn.objects.select_related("episode__client", "created_by", "session")
        .filter(pk=checkin_id)
        .first()
    )
    if checkin is None:
        raise Http404("no such check-in")
    client = access.client_for_view(user_of(request), checkin.episode.client_id)
    scores = (
        Score.objects.filter(administration__checkin=checkin)
        .select_related("administration__session")
        .order_by("instrument")
    )
    audit(request, "checkin.view", client=client, obj=checkin)
    return schemas.CheckInDetail(
        **output.checkin_fields(checkin), scores=[output.score(s) for s in scores]
    )
