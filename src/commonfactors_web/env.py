"""Typed helpers that read settings from the environment.

Each helper names the variable and its default in one place and refuses values it cannot
read, so a typo fails at start with a message naming the variable, never later.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    """The variable's text, or ``default`` when it is unset."""
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    """``1/true/yes/on`` or ``0/false/no/off`` (any case); ``default`` when unset."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of 1/0, true/false, yes/no, on/off: {raw!r}")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    """A whole number (at least ``minimum`` when given); ``default`` when unset."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number: {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}: {value}")
    return value


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    """Comma-separated values, stripped, empty entries dropped; ``default`` when unset."""
    raw = os.environ.get(name)
    if raw is None:
        return list(default or [])
    return [part.strip() for part in raw.split(",") if part.strip()]


def env_path(name: str, default: Path) -> Path:
    """A filesystem path (``~`` expanded); ``default`` when unset or empty."""
    raw = os.environ.get(name, "").strip()
    return Path(raw).expanduser() if raw else default
