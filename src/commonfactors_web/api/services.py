"""The only functions that create, use or revoke API tokens.

A token is ``cf_`` and 43 random URL-safe characters (256 bits). It exists in clear only in
the return value of :func:`create_token`; the database keeps its SHA-256 hash (a hash is
enough: the token is random and long, so it cannot be guessed from the hash the way a
password could) and its first characters. A token acts as its owner, through
``accounts.access``; it stops working when it expires, when it is revoked, or when its
owner's account is deactivated. Making and revoking a token are audited.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from commonfactors_web.api.models import ApiToken
from commonfactors_web.audit.services import record

#: Every token starts so, which lets secret scanners and people recognise it.
TOKEN_PREFIX = "cf_"
#: How many characters of a token are kept to tell tokens apart (the prefix and 7 more).
SHOWN_CHARACTERS = len(TOKEN_PREFIX) + 7
#: The lifetimes a person may choose, in days; the first one not chosen is the default.
LIFETIMES_DAYS: tuple[int, ...] = (30, 90, 180, 365)
DEFAULT_LIFETIME_DAYS = 90
NAME_MAX_LENGTH = 100
#: A token's last use is written at most this often (not on every request).
LAST_USED_PRECISION = timedelta(minutes=1)


class TokenError(ValueError):
    """A token cannot be made as asked; ``problems`` names every reason."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class NewToken:
    """A new token and its secret: the only moment the secret exists in clear."""

    token: ApiToken
    secret: str


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_token(
    user: Any, name: str, *, days: int = DEFAULT_LIFETIME_DAYS, now: datetime | None = None
) -> NewToken:
    """A token for ``user`` named ``name`` that works for ``days`` days."""
    name = (name or "").strip()
    problems = []
    if not name:
        problems.append("give the token a name (what it is for)")
    elif len(name) > NAME_MAX_LENGTH:
        problems.append(f"the name is longer than {NAME_MAX_LENGTH} characters")
    if days not in LIFETIMES_DAYS:
        choices = ", ".join(str(d) for d in LIFETIMES_DAYS)
        problems.append(f"a token works for one of {choices} days, not {days}")
    if not getattr(user, "is_active", False) or getattr(user, "pk", None) is None:
        problems.append("only an active account can have tokens")
    if problems:
        raise TokenError(problems)
    now = now or timezone.now()
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=secret[:SHOWN_CHARACTERS],
        token_hash=hash_token(secret),
        expires_at=now + timedelta(days=days),
    )
    record(user, "api_token.create", obj=token, name=name, expires_at=token.expires_at.isoformat())
    return NewToken(token, secret)


def tokens_of(user: Any) -> QuerySet[ApiToken]:
    """The tokens ``user`` owns (any state), newest first."""
    return ApiToken.objects.filter(user_id=getattr(user, "pk", None))


def revoke_token(token: ApiToken, user: Any, *, now: datetime | None = None) -> ApiToken:
    """Stop ``token`` working, at once and for good; only its owner may. Revoking a revoked
    token changes nothing."""
    if token.user_id != getattr(user, "pk", None):
        raise PermissionError("a token is revoked by its owner")
    now = now or timezone.now()
    if ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now):
        record(user, "api_token.revoke", obj=token, name=token.name)
    token.refresh_from_db()
    return token


def authenticate(secret: str, *, now: datetime | None = None) -> ApiToken | None:
    """The working token of ``secret`` (its owner in ``token.user``), or None: unknown,
    expired and revoked tokens, and tokens of deactivated accounts, are all the same."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
        return None
    now = now or timezone.now()
    token = (
        ApiToken.objects.select_related("user")
        .filter(
            token_hash=hash_token(secret),
            revoked_at__isnull=True,
            expires_at__gt=now,
            user__is_active=True,
        )
        .first()
    )
    if token is None:
        return None
    if token.last_used_at is None or token.last_used_at <= now - LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
