"""The practice view: who may see the team dashboard, a therapist's own profile and a team
therapist's profile and log; the development log (only its therapist writes it); the
period filter; the audit log; and the figures on the demo practice.

Olivia's client OLIVIA-7 (``test_exports.make_history``): PHQ-9 24 -> 18 and GAD-7 14 -> 0
over three attended sessions, finished: an NHS Talking Therapies course of treatment with
reliable improvement and no recovery (PHQ-9 18 is still a case).
"""

from __future__ import annotations

import re
from datetime import date
from io import StringIO

import polars as pl
import pytest
from django.core.management import call_command

from commonfactors import practice
from commonfactors_web.accounts.models import Role, User
from commonfactors_web.audit.models import AuditEvent
from commonfactors_web.checkins.models import MeasurementPlan
from commonfactors_web.clients.models import Client, Episode, EpisodeStatus
from commonfactors_web.practice import services
from commonfactors_web.practice.models import DevelopmentEntry, EntryKind

from .helpers import browser_for
from .test_exports import make_history

pytestmark = pytest.mark.django_db

DASHBOARD = "/practice/"
ME = "/practice/me/"


def therapist_url(user: User) -> str:
    return f"/practice/therapists/{user.pk}/"


@pytest.fixture
def history(owner: User, plan: MeasurementPlan) -> Client:
    return make_history(owner, plan)


# ------------------------------------------------------------------ who sees what


def test_anonymous_is_sent_to_log_in_everywhere(owner: User) -> None:
    for url in (DASHBOARD, ME, therapist_url(owner)):
        response = browser_for(None).get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_only_the_supervisor_sees_the_team_dashboard(
    owner: User,
    colleague: User,
    teammate: User,
    outsider: User,
    admin_user: User,
    history: Client,
) -> None:
    for person in (owner, teammate, outsider, admin_user):
        assert browser_for(person).get(DASHBOARD).status_code == 403, person.username
    page = browser_for(colleague).get(DASHBOARD)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Team outcomes" in html
    # Olivia's finished episode: reliable improvement 1 of 1, recovery 0 of 1
    assert re.search(r"Reliable improvement</th>\s*<td>100 %</td>", html)
    assert re.search(r"Recovery</th>\s*<td>0 %</td>", html)
    assert "Olivia" in html and "Tom" in html and "Otto" not in html
    # too few episodes for a model: said plainly, no funnel plot
    assert "No model yet" in html and "<svg" not in html
    event = AuditEvent.objects.get(action="practice.dashboard.view")
    assert event.actor == colleague and event.detail["team"] == colleague.team_id


def test_a_therapist_sees_only_their_own_profile(
    owner: User,
    colleague: User,
    teammate: User,
    outsider: User,
    admin_user: User,
    history: Client,
) -> None:
    for person in (colleague, admin_user):
        assert browser_for(person).get(ME).status_code == 403, person.username
    mine = browser_for(owner).get(ME).content.decode()
    assert "My outcomes and development" in mine
    assert re.search(r"Reliable improvement</th>\s*<td>100 %</td>", mine)
    # Tom and Otto see their own (empty) figures, nothing of Olivia's
    for person in (teammate, outsider):
        page = browser_for(person).get(ME)
        assert page.status_code == 200
        html = page.content.decode()
        assert "0 / 0" in html and "100 %" not in html and "Olivia" not in html
    assert AuditEvent.objects.filter(action="practice.profile.view", actor=owner).count() == 1


def test_only_the_teams_supervisor_reads_a_therapists_profile(
    owner: User,
    colleague: User,
    teammate: User,
    outsider: User,
    admin_user: User,
    history: Client,
) -> None:
    for person in (owner, teammate, outsider, admin_user):
        assert browser_for(person).get(therapist_url(owner)).status_code == 404, person.username
    page = browser_for(colleague).get(therapist_url(owner))
    assert page.status_code == 200
    assert "Outcomes and development of Olivia" in page.content.decode()
    # a supervisor of another practice's therapist: not found
    assert browser_for(colleague).get(therapist_url(outsider)).status_code == 404
    # a supervisor is not a therapist of the team
    assert browser_for(colleague).get(therapist_url(colleague)).status_code == 404
    event = AuditEvent.objects.get(action="practice.profile.view", actor=colleague)
    assert event.detail["therapist"] == owner.pk


def test_the_rule_functions(
    owner: User, colleague: User, teammate: User, outsider: User, admin_user: User
) -> None:
    assert [services.is_supervisor(p) for p in (owner, colleague, outsider, admin_user)] == [
        False,
        True,
        False,
        False,
    ]
    assert [services.is_therapist(p) for p in (owner, colleague, outsider, admin_user)] == [
        True,
        False,
        True,
        False,
    ]
    assert set(services.team_therapists(colleague)) == {owner, teammate}
    assert not services.team_therapists(owner).exists()


# ------------------------------------------------------------------ the development log


def test_a_therapist_keeps_a_log_their_supervisor_reads(
    owner: User, colleague: User, teammate: User
) -> None:
    response = browser_for(owner).post(
        ME,
        {
            "kind": EntryKind.GOAL,
            "date": "2025-03-01",
            "title": "Ask for alliance feedback at every session",
            "notes": "Review with Sam in May",
        },
    )
    assert response.status_code == 302 and response["Location"] == ME
    entry = DevelopmentEntry.objects.get()
    assert (entry.therapist, entry.kind, entry.date) == (owner, "goal", date(2025, 3, 1))
    event = AuditEvent.objects.get(action="practice.log.add")
    assert event.actor == owner and event.object_id == str(entry.pk)
    assert "Ask for alliance feedback" in browser_for(owner).get(ME).content.decode()
    supervisor_view = browser_for(colleague).get(therapist_url(owner)).content.decode()
    assert "Ask for alliance feedback" in supervisor_view
    assert "Add to the log" not in supervisor_view
    assert "Ask for alliance feedback" not in browser_for(teammate).get(ME).content.decode()


def test_nobody_else_writes_a_therapists_log(
    owner: User, colleague: User, teammate: User, admin_user: User
) -> None:
    data = {"kind": "training", "date": "2025-03-01", "title": "Written by someone else"}
    assert browser_for(colleague).post(ME, data).status_code == 403
    assert browser_for(admin_user).post(ME, data).status_code == 403
    assert browser_for(colleague).post(therapist_url(owner), data).status_code == 405
    assert browser_for(None).post(ME, data).status_code == 302
    # Tom's post goes into Tom's own log, never Olivia's
    browser_for(teammate).post(ME, data)
    assert not DevelopmentEntry.objects.filter(therapist=owner).exists()
    assert DevelopmentEntry.objects.get().therapist == teammate


def test_a_bad_entry_names_every_problem_and_writes_nothing(owner: User) -> None:
    response = browser_for(owner).post(ME, {"kind": "gossip", "date": "yesterday"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "The entry was not added" in html
    for label in ("Kind of entry", "Date", "What"):
        assert f"<li>{label}:" in html
    assert not DevelopmentEntry.objects.exists()
    assert not AuditEvent.objects.filter(action="practice.log.add").exists()


def test_a_period_that_ends_before_it_starts_is_refused(colleague: User) -> None:
    response = browser_for(colleague).get(DASHBOARD, {"since": "2025-05-02", "until": "2025-05-01"})
    assert response.status_code == 400
    assert "The period ends (2025-05-01) before it starts (2025-05-02)." in (
        response.content.decode()
    )


def test_the_period_filters_by_the_day_an_episode_ended(colleague: User, history: Client) -> None:
    ended = history.episodes.get().ended_on
    assert ended is not None
    before = browser_for(colleague).get(DASHBOARD, {"until": ended.replace(day=1).isoformat()})
    if ended.day == 1:  # the episode ended on the 1st: look before its month instead
        before = browser_for(colleague).get(DASHBOARD, {"until": "2000-01-01"})
    html = before.content.decode()
    assert re.search(r"Episodes finished</th>\s*<td>–</td>", html)
    after = browser_for(colleague).get(DASHBOARD, {"since": ended.isoformat()}).content.decode()
    assert re.search(r"Episodes finished</th>\s*<td>100 %</td>", after)


# ------------------------------------------------------------------ the demo practice


def test_the_demo_practice_dashboard_shows_the_librarys_figures() -> None:
    # the demo's past clients give each therapist more ended episodes than the minimum
    # caseload of 10, so `make demo` shows profiles
    call_command("seed_demo", stdout=StringIO())  # as `make demo` loads it
    supervisor = User.objects.get(username="supervisor")
    page = browser_for(supervisor).get(DASHBOARD)
    assert page.status_code == 200
    html = page.content.decode()
    ended = Episode.objects.exclude(status=EpisodeStatus.ACTIVE)
    finished = ended.filter(status=EpisodeStatus.FINISHED).count()
    assert f"{finished} / {ended.count()}" in html
    # the same profiles as the library fitted on the same records
    data = services._data(Client.objects.filter(practice_id=supervisor.practice_id))
    fitted = practice.therapist_profiles(data.episodes)
    assert f"{fitted.icc:.3f}" in html
    therapists = User.objects.filter(role=Role.THERAPIST)
    for t in therapists:
        assert t.display_name in html
        row = fitted.profiles.filter(pl.col("therapist") == str(t.pk)).row(0, named=True)
        if row["status"] == "shown":
            assert f"{row['estimate']:.1f}" in html
    assert (fitted.profiles.get_column("status") == "shown").sum() >= 2
    assert "<svg" in html and "The funnel plot as a table" in html
    # a therapist's own page never names a colleague
    theo = User.objects.get(username="therapist1")
    mine = browser_for(theo).get(ME).content.decode()
    assert "Tara" not in mine and "Toni" not in mine and "Practice mean" in mine


def test_an_empty_team_gets_a_dashboard_that_says_so(colleague: User, owner: User) -> None:
    page = browser_for(colleague).get(DASHBOARD)
    assert page.status_code == 200
    html = page.content.decode()
    assert "No episode ended in the period." in html and "No model yet" in html
    assert re.search(r"Recovery</th>\s*<td>–</td>\s*<td>too few to say</td>", html)
    assert "No profile yet" in browser_for(owner).get(ME).content.decode()
