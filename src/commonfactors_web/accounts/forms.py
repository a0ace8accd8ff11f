from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm

from commonfactors_web.throttle import Throttle, client_address


def login_throttles() -> tuple[Throttle, Throttle]:
    window = settings.CF_LOGIN_WINDOW_SECONDS
    return (
        Throttle("login-user", settings.CF_LOGIN_ATTEMPTS, window),
        Throttle("login-address", settings.CF_LOGIN_ATTEMPTS * 4, window),
    )


class ThrottledLoginForm(AuthenticationForm):
    """Django's login form, refusing further tries after too many failures for one user
    name or from one address (the same message either way, and no password is checked)."""

    error_messages: ClassVar[dict[str, str]] = {
        **AuthenticationForm.error_messages,
        "throttled": "Too many failed logins. Please wait a few minutes and try again.",
    }

    def clean(self) -> dict[str, Any]:
        by_user, by_address = login_throttles()
        username = (self.data.get("username") or "").strip().lower()
        address = client_address(self.request) if self.request else "unknown"
        if by_user.blocked(username) or by_address.blocked(address):
            raise forms.ValidationError(self.error_messages["throttled"], code="throttled")
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            by_user.hit(username)
            by_address.hit(address)
            raise
        by_user.reset(username)
        return cleaned
