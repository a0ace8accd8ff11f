"""Shared support for the browser tests: Playwright driving Debian's chromium.

The ``chromium`` fixture lives in ``conftest.py``; a test makes a :class:`Person` (their own
browser context), logs them in with :func:`log_in`, and saves screenshots of each step with
:meth:`Person.shot` under ``test-artifacts/``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from commonfactors_web.clients.models import Client

from .helpers import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}


class Person:
    """One person with their own browser context (cookies), collecting CSP violations."""

    def __init__(self, chromium: Any, base_url: str, name: str, **context: Any) -> None:
        self.context = chromium.new_context(base_url=base_url, **context)
        self.context.set_default_timeout(15_000)
        self.page = self.context.new_page()
        self.name = name
        self.phone = bool(context.get("is_mobile"))
        self.console: list[str] = []
        self.page.on("console", lambda m: self.console.append(m.text))

    def shot(self, test: str, step: str) -> None:
        """The whole page, and for the phone also the screen as the client sees it."""
        name = f"{test}-{step}-{self.name}"
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        if self.phone:
            self.page.screenshot(path=str(ARTIFACTS / f"{name}-screen.png"))

    def csp_violations(self) -> list[str]:
        return [m for m in self.console if "Content Security Policy" in m]

    def close(self) -> None:
        self.context.close()


def log_in(therapist: Person, username: str) -> None:
    page = therapist.page
    page.goto("/accounts/login/")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/clients/")


def create_link(therapist: Person, client: Client, test: str) -> str:
    page = therapist.page
    page.goto(f"/clients/{client.pk}/")
    therapist.shot(test, "1-client-page")
    page.get_by_role("button", name="Create check-in link").click()
    page.get_by_role("heading", name=re.compile("Check-in link for client")).wait_for()
    assert page.locator("figure.qr svg").is_visible()
    therapist.shot(test, "2-link-and-qr")
    url = page.get_by_role("textbox", name="Link").input_value()
    assert "/c/" in url
    return url


def answer_all(client: Person, choices: dict[int, str], test: str, step: str) -> None:
    """Answer every question on the page: question n gets ``choices[n]`` (default first)."""
    page = client.page
    groups = page.get_by_role("group")
    for n in range(groups.count()):
        group = groups.nth(n)
        label = choices.get(n + 1)
        option = (
            group.get_by_role("radio", name=label) if label else group.get_by_role("radio").first
        )
        option.check()
    client.shot(test, step)
