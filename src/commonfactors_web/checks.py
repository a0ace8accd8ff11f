"""System checks run at start (``python -m commonfactors_web check``): settings that would
make the app unsafe or wrong are reported before the first request."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register

import commonfactors
from commonfactors.errors import CommonFactorsError
from commonfactors.trajectories import DEFAULT_MODELS, DropoutModel


@register()
def check_commonfactors_settings(
    app_configs: Sequence[Any] | None, **kwargs: Any
) -> list[CheckMessage]:
    problems: list[CheckMessage] = []
    registry = commonfactors.default_registry()
    primary = settings.CF_PRIMARY_OUTCOME
    if primary not in registry:
        problems.append(
            Error(
                f"PRIMARY_OUTCOME {primary!r} is not a known instrument",
                hint="known: " + ", ".join(registry.ids()),
                id="commonfactors.E001",
            )
        )
    elif primary not in DEFAULT_MODELS:
        problems.append(
            Warning(
                f"PRIMARY_OUTCOME {primary!r} has no expected-response model: the caseload "
                "shows its score and change but no on-track signal",
                id="commonfactors.W001",
            )
        )
    if not settings.CF_ALLIANCE_WITHIN_SD > 0:
        problems.append(Error("ALLIANCE_WITHIN_SD must be above 0", id="commonfactors.E002"))
    site = settings.CF_SITE_URL
    if not site.startswith(("http://", "https://")):
        problems.append(
            Error(
                f"SITE_URL must start with http:// or https://: {site!r}", id="commonfactors.E003"
            )
        )
    elif not settings.DEBUG and not site.startswith("https://"):
        problems.append(
            Warning(
                "SITE_URL is not https://: links in e-mails would travel unencrypted",
                id="commonfactors.W002",
            )
        )
    if not settings.DEBUG and settings.EMAIL_BACKEND.endswith(
        ("console.EmailBackend", "locmem.EmailBackend")
    ):
        problems.append(
            Warning(
                "e-mail is not sent (console or memory backend): risk alerts reach therapists "
                "only on screen",
                hint="set EMAIL_BACKEND and EMAIL_HOST",
                id="commonfactors.W003",
            )
        )
    if settings.CF_DROPOUT_MODEL:
        try:
            DropoutModel.load(settings.CF_DROPOUT_MODEL)
        except (OSError, CommonFactorsError) as exc:
            problems.append(
                Error(
                    f"DROPOUT_MODEL {settings.CF_DROPOUT_MODEL!r} cannot be read: {exc}",
                    hint="fit one with `python -m commonfactors_web fit_dropout --out FILE`, "
                    "or leave DROPOUT_MODEL empty for the shipped SYNTHETIC model",
                    id="commonfactors.E004",
                )
            )
    if settings.PASSWORD_HASHERS[0] != "django.contrib.auth.hashers.Argon2PasswordHasher":
        problems.append(
            Warning("PASSWORD_HASHERS should start with Argon2", id="commonfactors.W004")
        )
    return problems
