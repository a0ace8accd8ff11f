"""System checks run at start (``python -m commonfactors_web check``): settings that would
make the app unsafe or wrong are reported before the first request."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register

import commonfactors
from commonfactors.trajectories import DEFAULT_MODELS
from commonfactors_web.own_models import (
    OwnModelError,
    dropout_model_problems,
    etr_model_files,
    etr_model_problems,
)

#: How to mend a practice's model file (the fit commands run even while these checks fail).
FIT_HINT = (
    "fit one with `python -m commonfactors_web {command}`, or leave the setting empty for "
    "the shipped SYNTHETIC model"
)


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
    elif primary not in DEFAULT_MODELS and primary not in _own_models():
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
    problems += _etr_model_problems()
    problems += [
        Error(msg, hint=FIT_HINT.format(command="fit_dropout --out FILE"), id="commonfactors.E004")
        for msg in dropout_model_problems()
    ]
    if settings.PASSWORD_HASHERS[0] != "django.contrib.auth.hashers.Argon2PasswordHasher":
        problems.append(
            Warning("PASSWORD_HASHERS should start with Argon2", id="commonfactors.W004")
        )
    return problems


def _own_models() -> dict[str, str]:
    try:
        return etr_model_files()
    except OwnModelError:
        return {}  # reported as E005


def _etr_model_problems() -> list[CheckMessage]:
    """Every problem with the practice's own expected-response model files."""
    hint = FIT_HINT.format(command="fit_etr --instrument ID --out FILE")
    return [Error(msg, hint=hint, id="commonfactors.E005") for msg in etr_model_problems()]
