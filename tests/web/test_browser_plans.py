"""The treatment plan in a real browser: a therapist writes a plan with goals, the client
rates their own goals on a phone, the therapist sees the ratings over time and the
version history. Screenshots of every step under ``test-artifacts/`` (look at them)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from commonfactors_web.accounts.models import Practice, User
from commonfactors_web.checkins.models import Administration, MeasurementPlan
from commonfactors_web.checkins.services import create_plan, record_past_session
from commonfactors_web.clients.models import Attendance, Client
from commonfactors_web.plans.models import PlanVersion, TreatmentPlan

from .browser import DESKTOP, PHONE, Person, answer_all, create_link, log_in

pytestmark = pytest.mark.django_db(transaction=True)

GOAL_1 = "Take the bus to work without panicking"
GOAL_2 = "Ring my sister on Sundays"


@pytest.fixture
def goals_plan(practice: Practice) -> MeasurementPlan:
    return create_plan(
        practice,
        "PHQ-9 and goals every session",
        [
            {"instrument": "phq9", "first_session": 1, "every": 1},
            {"instrument": "goals", "first_session": 1, "every": 1},
        ],
    )


def _write_the_plan(therapist: Person, client: Client, test: str) -> None:
    page = therapist.page
    page.goto(f"/clients/{client.pk}/")
    page.get_by_role("link", name="Write the plan").click()
    page.get_by_role("heading", name=re.compile("Treatment plan")).first.wait_for()
    therapist.shot(test, "1-empty-plan")
    for text in (GOAL_1, GOAL_2):
        page.get_by_label("The goal, in the client's own words").fill(text)
        page.get_by_role("button", name="Add goal").click()
        page.get_by_text(re.compile(r"Goal \d agreed\.")).wait_for()
    page.get_by_role("link", name="Edit the plan").click()
    page.get_by_label("Modality").fill("CBT")
    page.get_by_label("Shared understanding and rationale").fill(
        "Panic keeps going because the bus is avoided; we will face it step by step."
    )
    page.get_by_label("Measurement plan").select_option(label="PHQ-9 and goals every session")
    page.get_by_role("checkbox", name="Exposure", exact=True).check()
    page.get_by_role("checkbox", name="Psychoeducation").check()
    page.get_by_role("group", name="Who leads").get_by_label(
        "We decide structure and tasks together"
    ).check()
    page.get_by_role("group", name="Involving family").get_by_label(
        "Family kept informed, as far as the client agrees"
    ).check()
    page.get_by_label("What matters in the relationship with the therapist").fill(
        "Plain words; a therapist who understands Ramadan may shift session times."
    )
    therapist.shot(test, "2-edit-form")
    page.get_by_role("button", name="Save the plan").click()
    page.get_by_text(re.compile(r"Plan saved as version \d+\.")).wait_for()
    therapist.shot(test, "3-plan-written")


def test_goals_from_plan_to_phone_and_back(
    chromium: Any,
    live_server: Any,
    owner: User,
    client_record: Client,
    goals_plan: MeasurementPlan,
) -> None:
    test = "plan"
    therapist = Person(chromium, live_server.url, "therapist", **DESKTOP)
    log_in(therapist, "olivia")
    _write_the_plan(therapist, client_record, test)
    plan = TreatmentPlan.objects.get(episode__client=client_record)
    assert plan.techniques == ["exposure", "psychoeducation"]  # catalogue order
    assert plan.pref_directiveness == "shared" and plan.family_involvement == "informed"
    episode = client_record.episodes.get()
    assert episode.measurement_plan == goals_plan and episode.modality == "CBT"

    # a first rating, a week ago, answered on paper
    record_past_session(
        episode,
        1,
        timezone.localdate() - timedelta(days=7),
        Attendance.ATTENDED,
        {
            "phq9": {"answers": {f"phq9_{i}": 1 for i in range(1, 10)} | {"phq9_9": 0}},
            "goals": {"answers": {"goals_1": 2, "goals_2": 5, "goals_3": None}},
        },
    )

    url = create_link(therapist, client_record, f"{test}-link")
    client = Person(chromium, live_server.url, "client", **PHONE)
    page = client.page
    page.goto(url)
    answer_all(client, {}, test, "4-phq9")
    page.get_by_role("button", name="Next").click()
    page.get_by_role("heading", name="Your goals").wait_for()
    groups = page.get_by_role("group")
    assert groups.count() == 2
    assert GOAL_1 in groups.nth(0).inner_text() and GOAL_2 in groups.nth(1).inner_text()
    assert page.get_by_text("Goal 3").count() == 0
    client.shot(test, "5-goals-empty")
    groups.nth(0).get_by_role("radio", name="7", exact=True).check()
    groups.nth(1).get_by_role("radio", name="5 - halfway").check()
    client.shot(test, "6-goals-answered")
    page.get_by_role("button", name="Send my answers").click()
    page.get_by_role("heading", name="Thank you").wait_for()
    client.shot(test, "7-thank-you")
    stored = Administration.objects.get(instrument="goals", session__number=2)
    assert stored.answers == {"goals_1": 7, "goals_2": 5, "goals_3": None}

    page = therapist.page
    page.goto(f"/clients/{client_record.pk}/")
    summary = page.locator("section.plan-summary")
    assert "7/10" in summary.inner_text() and "+5 since first rated" in summary.inner_text()
    therapist.shot(test, "8-client-page-summary")
    summary.get_by_role("link", name="Open the treatment plan").click()
    goal = page.get_by_role("article", name=re.compile("Take the bus"))
    assert "7 / 10" in goal.inner_text() and "+5 since the first rating (2)" in goal.inner_text()
    assert goal.get_by_role("row").count() == 3  # header and two sessions
    therapist.shot(test, "9-plan-with-ratings")

    page.get_by_role("link", name="Record techniques of session 2").click()
    page.get_by_role("group", name="Planned for this client").get_by_label("Exposure").check()
    therapist.shot(test, "10-session-techniques")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Techniques of session 2 saved.").wait_for()
    used = page.get_by_role("region", name="Techniques used in sessions")
    assert "Exposure" in used.get_by_role("row", name=re.compile(r"^2 ")).inner_text()

    page.get_by_role("link", name=re.compile(r"Version history")).click()
    page.get_by_role("heading", name="Version 4: Techniques of session 2 recorded").wait_for()
    first = page.get_by_role("article", name="Version 1: Goal 1 agreed")
    assert GOAL_1 in first.inner_text() and "Olivia" in first.inner_text()
    plan_change = page.get_by_role("article", name="Version 3: Plan changed")
    assert "Approach · Planned techniques" in plan_change.inner_text()
    assert "Exposure; Psychoeducation" in plan_change.inner_text()
    therapist.shot(test, "11-history")
    assert PlanVersion.objects.filter(episode=episode).count() == 4
    assert therapist.csp_violations() == [] and client.csp_violations() == []
    therapist.close()
    client.close()


def test_the_supervisor_reads_the_plan_and_cannot_change_it(
    chromium: Any, live_server: Any, owner: User, colleague: User, client_record: Client
) -> None:
    from commonfactors_web.plans import services

    episode = client_record.episodes.get()
    services.update_plan(episode, owner, {"modality": "Narrative therapy"})
    services.add_goal(episode, owner, "Worry less about money", timezone.localdate())
    test = "plan-supervisor"
    supervisor = Person(chromium, live_server.url, "supervisor", **DESKTOP)
    log_in(supervisor, "sam")
    page = supervisor.page
    page.goto(f"/clients/{client_record.pk}/plan/")
    assert page.get_by_text("You are viewing this plan read-only.").is_visible()
    assert page.get_by_role("link", name="Edit the plan").count() == 0
    assert page.get_by_role("button", name="Add goal").count() == 0
    assert "Worry less about money" in page.get_by_role("article").first.inner_text()
    supervisor.shot(test, "1-read-only")
    response = page.goto(f"/clients/{client_record.pk}/plan/edit/")
    assert response is not None and response.status == 403
    assert supervisor.csp_violations() == []
    supervisor.close()


def test_an_admin_edits_the_practice_catalogue(
    chromium: Any, live_server: Any, admin_user: User, owner: User, client_record: Client
) -> None:
    from .helpers import PASSWORD

    test = "plan-techniques"
    admin = Person(chromium, live_server.url, "admin", **DESKTOP)
    page = admin.page
    page.goto("/accounts/login/")
    page.get_by_label("User name").fill("ada")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Techniques").click()
    page.get_by_role("heading", name="Narrative therapy").wait_for()
    admin.shot(test, "1-catalogue")
    page.get_by_role("link", name="Dream analysis").click()
    page.get_by_label("Offered in plans and session records").uncheck()
    page.get_by_role("button", name="Save").click()
    page.get_by_text("“Dream analysis” saved.").wait_for()
    form = page.get_by_role("region", name="Add a technique")
    form.get_by_label("Name", exact=True).fill("Worry time")
    form.get_by_label("Short name").fill("worry_time")
    form.get_by_label("Modality").select_option(label="Cognitive behavioural therapy (CBT)")
    form.get_by_label("Description").fill("Postponing worry to a set half hour each day.")
    form.get_by_role("button", name="Add technique").click()
    page.get_by_text("“Worry time” added.").wait_for()
    admin.shot(test, "2-edited")
    assert "Switched off" in page.get_by_role("row", name=re.compile("Dream analysis")).inner_text()
    assert admin.csp_violations() == []
    admin.close()

    therapist = Person(chromium, live_server.url, "therapist", **DESKTOP)
    log_in(therapist, "olivia")
    therapist.page.goto(f"/clients/{client_record.pk}/plan/edit/")
    assert therapist.page.get_by_role("checkbox", name="Worry time").count() == 1
    assert therapist.page.get_by_role("checkbox", name="Dream analysis").count() == 0
    therapist.close()
