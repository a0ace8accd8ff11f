"""Who the token acts as, and which questionnaires a check-in may ask."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router

import commonfactors
from commonfactors_web.accounts import access
from commonfactors_web.api import schemas
from commonfactors_web.api.auth import token_of
from commonfactors_web.api.errors import AUTH_ERRORS
from commonfactors_web.checkins.instruments import administrable

router = Router(tags=["people and instruments"])


@router.get("/me", response={200: schemas.Me, **AUTH_ERRORS})
def me(request: HttpRequest) -> schemas.Me:
    """The person this token acts as, and the token's name and expiry."""
    token = token_of(request)
    user = token.user
    return schemas.Me(
        id=user.pk,
        username=user.get_username(),
        display_name=user.display_name,
        role=user.role,
        practice_id=user.practice_id,
        team_id=user.team_id,
        can_add_clients=access.can_add_clients(user),
        token_name=token.name,
        token_expires_at=token.expires_at,
    )


@router.get("/instruments", response={200: list[schemas.Instrument], **AUTH_ERRORS})
def instruments(request: HttpRequest) -> list[schemas.Instrument]:
    """The questionnaires a check-in may ask (those with text to show a client)."""
    registry = commonfactors.default_registry()
    out = []
    for instrument_id in administrable():
        d = registry.definition(instrument_id)
        out.append(
            schemas.Instrument(id=d.id, short_name=d.short_name, name=d.name, measures=d.measures)
        )
    return out
