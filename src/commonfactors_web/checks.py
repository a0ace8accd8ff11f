"""System checks run at start (``python -m commonfactors_web check``): settings that would
make the app unsafe or wrong are reported before the first request."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register

import commonfactors
from commonfactors.errors import CommonFactorsError
from commonfactors.trajectories import (
    DEFAULT_MODELS,
    DropoutModel,
    ExpectedTreatmentResponse,
    load_model,
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
    problems += _etr_model_problems(registry)
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


def _own_models() -> dict[str, str]:
    from commonfactors_web.alerts.services import etr_model_files

    try:
        return etr_model_files()
    except ValueError:
        return {}  # reported by _etr_model_problems


def _etr_model_problems(registry: Any) -> list[CheckMessage]:
    """Every problem with the practice's own expected-response model files."""
    from commonfactors_web.alerts.services import etr_model_files

    hint = "fit one with `python -m commonfactors_web fit_etr --instrument ID --out FILE`"
    try:
        files = etr_model_files()
    except ValueError as exc:
        return [
            Error(str(exc), hint="e.g. ETR_MODELS=phq9=/srv/phq9.json", id="commonfactors.E005")
        ]
    out: list[CheckMessage] = []
    for instrument, path in files.items():
        if instrument not in registry:
            out.append(
                Error(
                    f"ETR_MODELS: {instrument!r} is not a known instrument", id="commonfactors.E005"
                )
            )
            continue
        try:
            model = load_model(path)
        except (OSError, CommonFactorsError) as exc:
            out.append(
                Error(
                    f"ETR_MODELS: {path!r} cannot be read: {exc}",
                    hint=hint,
                    id="commonfactors.E005",
                )
            )
            continue
        if not isinstance(model, ExpectedTreatmentResponse) or model.instrument_ != instrument:
            out.append(
                Error(
                    f"ETR_MODELS: {path!r} is not a log-linear expected-response model of "
                    f"{instrument!r}",
                    hint=hint,
                    id="commonfactors.E005",
                )
            )
    return out
