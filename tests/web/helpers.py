"""Small helpers shared by the web tests."""

from __future__ import annotations

from typing import Any

from django.test import Client as Browser

from commonfactors_web.accounts.models import User
from commonfactors_web.checkins.services import NewLink, create_checkin
from commonfactors_web.clients.models import Client

#: Every test person's password.
PASSWORD = "a-long-test-password"

#: PHQ-9 answers: total 9 (mild), no risk answer.
PHQ9_MILD = {f"phq9_{i}": 1 for i in range(1, 10)} | {"phq9_9": 0}
#: PHQ-9 answers with item 9 (thoughts of self-harm) above 0.
PHQ9_RISK = {f"phq9_{i}": 2 for i in range(1, 10)} | {"phq9_9": 2}
GAD7_MODERATE = {f"gad7_{i}": 2 for i in range(1, 8)} | {"gad7_7": 0}


def browser_for(user: User | None) -> Browser:
    browser = Browser()
    if user is not None:
        browser.force_login(user)
    return browser


def new_link(client: Client, user: User, instruments: list[str] | None = None) -> NewLink:
    return create_checkin(client.episodes.get(), user, instruments)


def answer(browser: Browser, token: str, instrument: str, answers: dict[str, Any]) -> Any:
    data = {"instrument": instrument, **{k: str(v) for k, v in answers.items()}}
    return browser.post(f"/c/{token}/", data)
