"""seed_demo: a synthetic practice a new user can log into, and one working client link.

Loading the practice takes seconds, so each test checks several facts of one load."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command

from commonfactors_web.accounts.models import Role, User
from commonfactors_web.alerts.models import Alert, AlertKind, Signal
from commonfactors_web.clients.models import Client, Episode, EpisodeStatus
from commonfactors_web.demo.management.commands.seed_demo import PAST_CLIENTS

from .helpers import PHQ9_MILD, answer, browser_for

pytestmark = pytest.mark.django_db


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_it_loads_a_practice_a_new_user_can_try() -> None:
    output = seed()
    # three therapists with sixty current and 36 past clients between them, and a supervisor
    # who sees them all
    assert User.objects.filter(role=Role.THERAPIST).count() == 3
    assert Client.objects.count() == 60 + PAST_CLIENTS
    assert {c.therapist.username for c in Client.objects.all()} == {
        "therapist1",
        "therapist2",
        "therapist3",
    }
    # some not on track, exactly one open risk alert
    assert Alert.objects.open().filter(kind=AlertKind.RISK).count() == 1
    assert Signal.objects.filter(status="red").exists()
    assert Signal.objects.filter(status="yellow").exists()
    assert Alert.objects.open().filter(kind=AlertKind.NOT_ON_TRACK).exists()
    # the printed logins work
    password = re.search(r"password for all: (\S+)\)", output)
    assert password is not None
    for username in ("admin", "supervisor", "therapist1"):
        assert username in output
        assert browser_for(None).login(username=username, password=password.group(1))
    # the caseloads render
    # the caseloads render: active episodes by default, every client with ?episodes=all
    therapist = User.objects.get(username="therapist1")
    rows = '<th scope="row">'
    everyone = browser_for(therapist).get("/clients/?episodes=all").content.decode()
    assert everyone.count(rows) == (60 + PAST_CLIENTS) // 3
    active = Episode.objects.filter(therapist=therapist, status=EpisodeStatus.ACTIVE).count()
    assert 0 < active < 20  # the 36 past clients' episodes have all ended
    assert browser_for(therapist).get("/clients/").content.decode().count(rows) == active
    supervisor = User.objects.get(username="supervisor")
    page = browser_for(supervisor).get("/clients/?episodes=all").content.decode()
    assert page.count(rows) == 60 + PAST_CLIENTS
    # the printed client link works
    match = re.search(r"http://127\.0\.0\.1:8000/c/([\w-]+)/", output)
    assert match is not None
    browser = browser_for(None)
    assert browser.get(f"/c/{match.group(1)}/").status_code == 200
    assert answer(browser, match.group(1), "phq9", PHQ9_MILD).status_code == 302


def test_running_it_again_keeps_the_practice_and_prints_a_new_link() -> None:
    first = seed()
    second = seed()
    assert "exists already" in second
    assert Client.objects.count() == 60 + PAST_CLIENTS
    links = [re.search(r"/c/[\w-]+/", text) for text in (first, second)]
    assert all(links) and links[0].group(0) != links[1].group(0)  # type: ignore[union-attr]
