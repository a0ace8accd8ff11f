"""Version 1 of the REST API, served at ``/api/v1/`` with its OpenAPI schema at
``/api/v1/openapi.json`` (``docs/api.md``).

Every operation needs a bearer token (``api.auth``); what it may see and change is decided
by ``accounts.access`` alone, and records change only through the apps' service functions.
A change to what an operation accepts or returns that could break a caller makes a new
version (``/api/v2/``) beside this one.
"""

from __future__ import annotations

from ninja import NinjaAPI

from commonfactors_web.api import errors, query
from commonfactors_web.api.auth import TokenAuth
from commonfactors_web.api.routers import alerts, checkins, clients, people

api = NinjaAPI(
    title="commonfactors API",
    version="1",
    description=(
        "Clients, episodes of care, check-in links, scores, signals and alerts of the "
        "clients a person may see, as on the web pages. Send a personal API token "
        "(made at /api/tokens/) as 'Authorization: Bearer <token>'. Lists are pages "
        "(limit, offset) with a total count. Errors have one shape: 'detail' and, for bad "
        "input, every problem in 'problems'."
    ),
    urls_namespace="api-v1",
    auth=TokenAuth(),
    # the interactive docs page loads scripts the Content-Security-Policy forbids; the
    # schema itself opens in any OpenAPI tool
    docs_url=None,
)
errors.install(api)
api.add_decorator(query.note_unknown, mode="view")
api.add_decorator(query.refuse_unknown, mode="operation")
api.add_router("", people.router)
api.add_router("", clients.router)
api.add_router("", checkins.router)
api.add_router("", alerts.router)
