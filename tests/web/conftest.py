"""Named people for the web tests, in the style of Healthchecks' ``hc/test.py``.

* ``owner`` — Olivia, a therapist; ``client_record`` is her client.
* ``colleague`` — Sam, the supervisor of Olivia's team: may see her clients, read-only.
* ``teammate`` — Tom, a therapist in the same team: sees only his own clients.
* ``outsider`` — Otto, a therapist of another practice.
* ``admin_user`` — Ada, who manages users and reads the audit log, but sees no clients.
* anonymous — Django's test client without a login.
"""

from __future__ import annotations

import os

# Django's settings for these tests; pyproject's `DJANGO_SETTINGS_MODULE` wins when set.
if not os.environ.get("DJANGO_SETTINGS_MODULE"):
    os.environ["DJANGO_SETTINGS_MODULE"] = "commonfactors_web.settings"
    import django

    django.setup()

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from pytest_django.fixtures import Settings

from commonfactors_web.accounts.models import Practice, Role, Team, User
from commonfactors_web.accounts.services import (
    create_practice,
    create_team,
    create_user,
)
from commonfactors_web.checkins.models import MeasurementPlan
from commonfactors_web.checkins.services import create_plan
from commonfactors_web.clients.models import Client
from commonfactors_web.clients.services import create_client

from .browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS
from .helpers import PASSWORD

__all__ = ["PASSWORD"]


@pytest.fixture(autouse=True)
def _fast_hashing_and_fresh_cache(settings: Settings) -> Iterator[None]:
    """Passwords hashed quickly (argon2 is for production), throttles start at zero."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def practice(db: None) -> Practice:
    return create_practice("Riverside Practice")


@pytest.fixture
def team(practice: Practice) -> Team:
    return create_team(practice, "Team A")


@pytest.fixture
def plan(practice: Practice) -> MeasurementPlan:
    return create_plan(
        practice,
        "PHQ-9 and GAD-7 every session",
        [
            {"instrument": "phq9", "first_session": 1, "every": 1},
            {"instrument": "gad7", "first_session": 1, "every": 1},
        ],
        is_default=True,
    )


@pytest.fixture
def owner(practice: Practice, team: Team) -> User:
    return create_user(
        "olivia",
        PASSWORD,
        role=Role.THERAPIST,
        practice=practice,
        team=team,
        first_name="Olivia",
        email="olivia@example.org",
    )


@pytest.fixture
def colleague(practice: Practice, team: Team) -> User:
    return create_user(
        "sam", PASSWORD, role=Role.SUPERVISOR, practice=practice, team=team, first_name="Sam"
    )


@pytest.fixture
def teammate(practice: Practice, team: Team) -> User:
    return create_user(
        "tom", PASSWORD, role=Role.THERAPIST, practice=practice, team=team, first_name="Tom"
    )


@pytest.fixture
def outsider(db: None) -> User:
    other = create_practice("Hilltop Clinic")
    return create_user(
        "otto",
        PASSWORD,
        role=Role.THERAPIST,
        practice=other,
        team=create_team(other, "B"),
        first_name="Otto",
    )


@pytest.fixture
def admin_user(practice: Practice) -> User:
    return create_user("ada", PASSWORD, role=Role.ADMIN, practice=practice, first_name="Ada")


@pytest.fixture
def client_record(owner: User, plan: MeasurementPlan) -> Client:
    return create_client(owner, "C-0001", email="client@example.org", measurement_plan=plan)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's chromium "
            "(`make test` installs it; or `apt-get install chromium`)",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the tests' own ORM calls
    # between browser steps are synchronous and safe.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        # launch() gives every run a fresh temporary user-data dir of its own
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous
