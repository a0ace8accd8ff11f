"""A fixed-window counter in the cache: how many times something happened recently.

Used for failed logins (per user name and per address) and bad check-in links (per
address). With several server processes the cache must be shared (``CACHE_BACKEND=file``
or ``database``; production settings use ``file``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.core.cache import cache
from django.http import HttpRequest


@dataclass(frozen=True)
class Throttle:
    name: str
    limit: int
    window_seconds: int

    def _key(self, subject: str) -> str:
        digest = hashlib.sha256(subject.encode("utf-8")).hexdigest()[:32]
        return f"cf-throttle:{self.name}:{digest}"

    def count(self, subject: str) -> int:
        value = cache.get(self._key(subject), 0)
        return int(value)

    def blocked(self, subject: str) -> bool:
        return self.count(subject) >= self.limit

    def hit(self, subject: str) -> int:
        """Count one more event; the window starts with the first."""
        key = self._key(subject)
        if cache.add(key, 1, self.window_seconds):
            return 1
        try:
            return int(cache.incr(key))
        except ValueError:  # expired between add and incr
            cache.set(key, 1, self.window_seconds)
            return 1

    def reset(self, subject: str) -> None:
        cache.delete(self._key(subject))


def client_address(request: HttpRequest) -> str:
    """The requesting address (REMOTE_ADDR; a proxy in front must set it, e.g. gunicorn's
    ``--forwarded-allow-ips``)."""
    return str(request.META.get("REMOTE_ADDR", "unknown"))
