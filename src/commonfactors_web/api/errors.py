"""The one place that turns errors into API responses, all of the same shape
(:class:`~commonfactors_web.api.schemas.Error`): ``detail`` says what went wrong and, for bad
input, ``problems`` lists every problem at once.

======  ==============================================================================
status  when
======  ==============================================================================
400     the body is not JSON
401     no token, or a token that is unknown, expired or revoked
403     a read-only person (a supervisor) asks to change something
404     no such record, or one the token's owner may not see (the same answer)
409     the change is not possible in the record's state (e.g. a support review resolves it)
422     the input breaks the schema or a rule: every problem, each with its location
429     too many bad tokens from one address
======  ==============================================================================
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from commonfactors_web.api.schemas import Error, Problem

UNAUTHORIZED = (
    "A valid API token is required: send the header 'Authorization: Bearer <token>' "
    "(make a token at /api/tokens/)."
)
NOT_FOUND = "Not found (or not yours to see)."
READ_ONLY = "Read-only access: you may see this client's records but not change them."
THROTTLED = "Too many bad tokens from this address. Wait a few minutes and try again."


class InputError(Exception):
    """Input that breaks a rule of the app (not just the schema): 422 with every problem."""

    def __init__(self, problems: Iterable[tuple[Iterable[str | int], str]]) -> None:
        self.problems = [(list(location), message) for location, message in problems]
        super().__init__("; ".join(message for _, message in self.problems))


class NotAllowedError(PermissionDenied):
    """The person may not do this at all (not a matter of read-only access): 403."""


class ConflictError(Exception):
    """The change cannot be made in the record's present state: 409."""


class ThrottledError(Exception):
    """The address sent too many bad tokens recently: 429."""


#: Where ``api.query`` notes the query parameters an operation does not declare.
UNKNOWN_QUERY_ATTRIBUTE = "_cf_unknown_query"


def unknown_query(request: HttpRequest) -> list[tuple[list[str | int], str]]:
    """The problems of the query parameters the operation does not declare."""
    names = getattr(request, UNKNOWN_QUERY_ATTRIBUTE, ())
    return [(["query", name], "unknown query parameter") for name in names]


def _response(api: NinjaAPI, request: HttpRequest, status: int, error: Error) -> HttpResponse:
    return api.create_response(request, error.model_dump(), status=status)


def _problems_detail(n: int) -> str:
    return f"The request has {n} problem{'s' if n != 1 else ''}; each is listed in 'problems'."


def _from_pydantic(error: Mapping[str, Any]) -> tuple[list[str | int], str]:
    location = [p for p in error.get("loc", ()) if isinstance(p, str | int)]
    if location[:2] == ["body", "body"]:  # the operations' body parameter is named "body"
        del location[1]
    message = str(error.get("msg", "invalid"))
    if error.get("type") == "extra_forbidden":
        message = "unknown field"
    return location, message


def install(api: NinjaAPI) -> None:
    """Register the handlers on ``api``."""

    def validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        problems = [_from_pydantic(e) for e in exc.errors] + unknown_query(request)
        return _response(
            api,
            request,
            422,
            Error(
                detail=_problems_detail(len(problems)),
                problems=[Problem(location=loc, message=msg) for loc, msg in problems],
            ),
        )

    def rule_problems(request: HttpRequest, exc: InputError) -> HttpResponse:
        return _response(
            api,
            request,
            422,
            Error(
                detail=_problems_detail(len(exc.problems)),
                problems=[Problem(location=loc, message=msg) for loc, msg in exc.problems],
            ),
        )

    def unauthorized(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        response = _response(api, request, 401, Error(detail=UNAUTHORIZED))
        response["WWW-Authenticate"] = 'Bearer realm="commonfactors"'
        return response

    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        return _response(api, request, exc.status_code, Error(detail=str(exc)))

    def not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
        return _response(api, request, 404, Error(detail=NOT_FOUND))

    def forbidden(request: HttpRequest, exc: Exception) -> HttpResponse:
        return _response(api, request, 403, Error(detail=READ_ONLY))

    def not_allowed(request: HttpRequest, exc: Exception) -> HttpResponse:
        return _response(api, request, 403, Error(detail=str(exc)))

    def conflict(request: HttpRequest, exc: Exception) -> HttpResponse:
        return _response(api, request, 409, Error(detail=str(exc)))

    def throttled(request: HttpRequest, exc: Exception) -> HttpResponse:
        response = _response(api, request, 429, Error(detail=THROTTLED))
        response["Retry-After"] = "60"
        return response

    api.add_exception_handler(ValidationError, validation)
    api.add_exception_handler(InputError, rule_problems)
    api.add_exception_handler(AuthenticationError, unauthorized)
    api.add_exception_handler(HttpError, http_error)
    api.add_exception_handler(Http404, not_found)
    api.add_exception_handler(PermissionDenied, forbidden)  # as accounts.access raises it
    api.add_exception_handler(NotAllowedError, not_allowed)
    api.add_exception_handler(ConflictError, conflict)
    api.add_exception_handler(ThrottledError, throttled)


def json_not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Any other path under ``/api/v1/``: a JSON 404 too, never an HTML page."""
    body = json.dumps(Error(detail=NOT_FOUND).model_dump())
    return HttpResponse(body, status=404, content_type="application/json; charset=utf-8")


#: The error responses every operation documents (the body is :class:`Error`).
AUTH_ERRORS: dict[int, type[Error]] = {401: Error, 429: Error}
READ_ERRORS: dict[int, type[Error]] = {**AUTH_ERRORS, 404: Error, 422: Error}
WRITE_ERRORS: dict[int, type[Error]] = {**READ_ERRORS, 400: Error, 403: Error}
