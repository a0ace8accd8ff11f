"""Who is calling: a bearer token (``Authorization: Bearer cf_…``), and nothing else.

The API offers no session (cookie) login, so a page in a browser cannot make a logged-in
person's browser call it, and no CSRF token is needed. An address that sends too many bad
tokens (unknown, expired or revoked) is refused for a while (429), whatever it sends next,
as bad check-in links are (``throttle.py``; ``BAD_TOKEN_ATTEMPTS`` per
``BAD_TOKEN_WINDOW_SECONDS``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja.security import HttpBearer

from commonfactors_web.accounts.models import User
from commonfactors_web.api import services
from commonfactors_web.api.errors import ThrottledError
from commonfactors_web.api.models import ApiToken
from commonfactors_web.audit.services import record
from commonfactors_web.throttle import Throttle, client_address


def bad_tokens() -> Throttle:
    return Throttle(
        "api-bad-token", settings.CF_BAD_TOKEN_ATTEMPTS, settings.CF_BAD_TOKEN_WINDOW_SECONDS
    )


class TokenAuth(HttpBearer):
    """The bearer token of an active account; ``request.auth`` is the :class:`ApiToken`."""

    def __call__(self, request: HttpRequest) -> ApiToken | None:
        # Django's HttpBearer logs an unexpected header in DEBUG: it may hold a secret, so
        # the header is read here and never logged.
        scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return None
        return self.authenticate(request, secret.strip())

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        throttle, address = bad_tokens(), client_address(request)
        if throttle.blocked(address):
            raise ThrottledError
        found = services.authenticate(token)
        if found is None:
            throttle.hit(address)
        return found


def token_of(request: HttpRequest) -> ApiToken:
    token = getattr(request, "auth", None)
    if not isinstance(token, ApiToken):  # the API's auth runs before every operation
        raise TypeError("the request was not authenticated by a token")
    return token


def user_of(request: HttpRequest) -> User:
    """The person the request acts as: the token's owner."""
    return token_of(request).user


def audit(request: HttpRequest, action: str, **detail: Any) -> None:
    """Record a read through the API, as the web pages record theirs, saying it came through
    the API and with which token."""
    token = token_of(request)
    record(token.user, action, via="api", api_token=token.pk, **detail)
