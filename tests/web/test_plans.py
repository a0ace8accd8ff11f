"""The treatment plan: services (versions, goals, attainment, session techniques, the
practice catalogue), the client's goal ratings at check-ins, every URL with the named
people, and the audit records."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from commonfactors.goals import gas_t_score
from commonfactors.techniques import default_catalogue
from commonfactors_web.accounts.models import Practice, User
from commonfactors_web.accounts.services import create_practice, create_user
from commonfactors_web.audit.models import AuditEvent
from commonfactors_web.checkins.models import Administration, MeasurementPlan
from commonfactors_web.checkins.services import CheckInError, create_plan, record_past_session
from commonfactors_web.clients.models import Attendance, Client, Episode
from commonfactors_web.plans import services
from commonfactors_web.plans.models import (
    GoalStatus,
    ImmutableVersionError,
    PlanVersion,
    PracticeTechnique,
    TreatmentPlan,
)
from commonfactors_web.plans.progress import gas_history, goal_progress

from .helpers import PASSWORD, PHQ9_MILD, answer, browser_for, new_link

pytestmark = pytest.mark.django_db

GAS = {-2: "Never leaves the flat", -1: "Out once a week", 0: "Out three times a week",
       1: "Out most days", 2: "Out every day and sees friends"}  # fmt: skip


@pytest.fixture
def episode(client_record: Client) -> Episode:
    return client_record.episodes.get()


def _start(episode: Episode, days: int = 30) -> Episode:
    episode.started_on = timezone.localdate() - timedelta(days=days)
    episode.save(update_fields=["started_on"])
    return episode


def _labels(version: PlanVersion | None) -> list[str]:
    assert version is not None
    return [c["label"] for c in version.changes]


def _actions(client: Client) -> list[str]:
    return list(AuditEvent.objects.filter(client=client).values_list("action", flat=True))


# ------------------------------------------------------------------ the plan and its versions


class TestPlanVersions:
    def test_the_first_save_writes_the_plan_and_version_1(
        self, episode: Episode, owner: User, plan: MeasurementPlan
    ) -> None:
        version = services.update_plan(
            episode,
            owner,
            {
                "modality": "CBT",
                "techniques": ["exposure", "cognitive_restructuring"],
                "pref_directiveness": "shared",
                "family_involvement": "joins",
                "cultural_identity": "Second-generation; family from Lahore",
            },
        )
        assert version is not None and version.number == 1 and version.created_by == owner
        assert TreatmentPlan.objects.get(episode=episode).techniques == [
            "exposure",
            "cognitive_restructuring",
        ]
        episode.refresh_from_db()
        assert episode.modality == "CBT"
        changes = {c["label"]: (c["old"], c["new"]) for c in version.changes}
        assert changes["Approach · Modality"] == ("", "CBT")
        assert changes["Approach · Planned techniques"] == ("", "Exposure; Cognitive restructuring")
        assert changes["Preferences · Who leads"][1] == "We decide structure and tasks together"
        assert changes["Cultural formulation · Involving family"][1].startswith("Family members")
        assert len(changes) == 5

    def test_each_change_is_a_new_version_with_only_what_changed(
        self, episode: Episode, owner: User
    ) -> None:
        services.update_plan(episode, owner, {"modality": "CBT", "rationale": "First words"})
        v2 = services.update_plan(episode, owner, {"modality": "Integrative"})
        assert v2 is not None and v2.number == 2
        assert v2.changes == [
            {
                "key": "episode.modality",
                "label": "Approach · Modality",
                "old": "CBT",
                "new": "Integrative",
            }
        ]
        assert v2.snapshot["plan.rationale"][1] == "First words"  # the whole plan is kept
        assert services.update_plan(episode, owner, {"modality": "Integrative"}) is None
        assert PlanVersion.objects.filter(episode=episode).count() == 2

    def test_a_version_is_never_edited(self, episode: Episode, owner: User) -> None:
        version = services.update_plan(episode, owner, {"modality": "CBT"})
        assert version is not None
        version.summary = "rewritten"
        with pytest.raises(ImmutableVersionError):
            version.save()

    def test_bad_input_names_every_problem_and_writes_nothing(
        self, episode: Episode, owner: User, outsider: User
    ) -> None:
        foreign = create_plan(outsider.practice, "theirs", [{"instrument": "phq9"}])
        with pytest.raises(services.PlanError) as caught:
            services.update_plan(
                episode,
                owner,
                {
                    "modality": "x" * 101,
                    "techniques": ["exposure", "hypnosis"],
                    "pref_format": "by carrier pigeon",
                    "measurement_plan": foreign,
                    "favourite_colour": "blue",
                    "cultural_identity": "ok",
                },
            )
        problems = "\n".join(caught.value.problems)
        assert "unknown field 'favourite_colour'" in problems
        assert "modality: at most 100 characters" in problems
        assert "'hypnosis' is not in the practice's catalogue" in problems
        assert "Format: 'by carrier pigeon' is not one of the choices" in problems
        assert "measurement plan: choose one of the practice's plans" in problems
        assert len(caught.value.problems) == 5
        assert not TreatmentPlan.objects.filter(episode=episode).exists()
        assert not PlanVersion.objects.exists()
        episode.refresh_from_db()
        assert episode.modality == ""

    def test_a_switched_off_technique_stays_planned_but_cannot_be_added(
        self, episode: Episode, owner: User, practice: Practice
    ) -> None:
        services.update_plan(episode, owner, {"techniques": ["exposure"]})
        PracticeTechnique.objects.filter(
            practice=practice, slug__in=["exposure", "genogram"]
        ).update(active=False)
        version = services.update_plan(episode, owner, {"techniques": ["exposure", "relaxation"]})
        assert "Approach · Planned techniques" in _labels(version)
        with pytest.raises(services.PlanError, match="'genogram' is switched off"):
            services.update_plan(episode, owner, {"techniques": ["genogram"]})

    def test_the_measurement_plan_is_one_of_the_practice(
        self, episode: Episode, owner: User, practice: Practice
    ) -> None:
        goals_plan = create_plan(practice, "With goals", [{"instrument": "goals"}])
        version = services.update_plan(episode, owner, {"measurement_plan": goals_plan})
        episode.refresh_from_db()
        assert episode.measurement_plan == goals_plan
        change = version.changes[0] if version else {}
        assert change["new"] == "With goals" and change["old"] == "PHQ-9 and GAD-7 every session"
        services.update_plan(episode, owner, {"measurement_plan": None})
        episode.refresh_from_db()
        assert episode.measurement_plan is None

    def test_changes_are_audited_by_field_label_without_clinical_text(
        self, client_record: Client, episode: Episode, owner: User
    ) -> None:
        services.update_plan(episode, owner, {"explanation": "A curse from a neighbour"})
        event = AuditEvent.objects.get(client=client_record, action="plan.update")
        assert event.actor == owner and event.detail["version"] == 1
        assert event.detail["fields"] == [
            "Cultural formulation · The client's explanation of the problem"
        ]
        assert "curse" not in str(event.detail)


# ------------------------------------------------------------------ goals


class TestGoals:
    def test_goals_take_the_free_positions_up_to_three(self, episode: Episode, owner: User) -> None:
        today = timezone.localdate()
        goals = [services.add_goal(episode, owner, f"Goal text {i}", today) for i in range(3)]
        assert [g.position for g in goals] == [1, 2, 3]
        with pytest.raises(services.PlanError, match="3 goals are active already"):
            services.add_goal(episode, owner, "A fourth", today)
        services.update_goal(goals[1], owner, text=goals[1].text, agreed_on=today, status="dropped")
        goals[1].refresh_from_db()
        assert goals[1].closed_at is not None
        new = services.add_goal(episode, owner, "Sleep through the night", today)
        assert new.position == 2
        assert [g.text for g in services.agreed_goals(episode)] == [
            "Goal text 0",
            "Sleep through the night",
            "Goal text 2",
        ]
        # the dropped goal cannot be reopened: a later goal holds its place
        with pytest.raises(services.PlanError, match="a later goal has held position 2"):
            services.update_goal(goals[1], owner, text="x", agreed_on=today, status="active")

    def test_every_goal_change_is_versioned(self, episode: Episode, owner: User) -> None:
        today = timezone.localdate()
        goal = services.add_goal(episode, owner, "Get back to football", today)
        version = services.update_goal(
            goal, owner, text="Play football with my son again", agreed_on=today, status="active"
        )
        assert _labels(version) == ["Goal 1 · text"]
        assert version is not None and version.changes[0]["old"] == "Get back to football"
        goal.refresh_from_db()
        version = services.update_goal(
            goal, owner, text=goal.text, agreed_on=today, status="achieved"
        )
        assert version is not None and version.changes == [
            {"key": f"goal.{goal.pk}.status", "label": "Goal 1 · status",
             "old": "Active", "new": "Achieved"}
        ]  # fmt: skip
        same = services.update_goal(goal, owner, text=goal.text, agreed_on=today, status="achieved")
        assert same is None
        assert list(
            PlanVersion.objects.filter(episode=episode).values_list("number", "summary")
        ) == [(3, "Goal 1 changed"), (2, "Goal 1 changed"), (1, "Goal 1 agreed")]

    def test_bad_goal_input_names_every_problem(self, episode: Episode, owner: User) -> None:
        _start(episode, 10)
        with pytest.raises(services.PlanError) as caught:
            services.add_goal(
                episode,
                owner,
                "   ",
                timezone.localdate() + timedelta(days=1),
                gas={-2: "worse", 0: "as expected"},
                gas_weight=0,
            )
        problems = caught.value.problems
        assert "goal: write the goal in the client's own words" in problems
        assert "agreed on: the date is in the future" in problems
        assert any("describe all five levels or none (missing: −1, +1, +2)" in p for p in problems)
        assert "attainment weight: a number above 0 and at most 10" in problems
        with pytest.raises(services.PlanError, match="before the episode started"):
            services.add_goal(episode, owner, "ok", timezone.localdate() - timedelta(days=11))
        assert not episode.goals.exists()

    def test_goal_attainment_scaling_gives_the_libraries_t_score(
        self, episode: Episode, owner: User
    ) -> None:
        _start(episode)
        day = timezone.localdate() - timedelta(days=7)
        g1 = services.add_goal(episode, owner, "Go out more", day, gas=GAS)
        g2 = services.add_goal(episode, owner, "Call my sister", day, gas=GAS, gas_weight=2)
        plain = services.add_goal(episode, owner, "Not scaled", day)
        services.rate_attainment(g1, owner, 1, day)
        services.rate_attainment(g1, owner, 2, timezone.localdate())
        services.rate_attainment(g2, owner, -1, timezone.localdate())
        history = gas_history(episode.goals.prefetch_related("attainments"))
        assert [(p.goals, round(p.t_score, 6)) for p in history] == [
            (1, round(gas_t_score([1]), 6)),
            (2, round(gas_t_score([2, -1], [1, 2]), 6)),
        ]
        with pytest.raises(services.PlanError, match="describe the five attainment levels"):
            services.rate_attainment(plain, owner, 0, day)
        with pytest.raises(services.PlanError, match=r"rated on .* already"):
            services.rate_attainment(g1, owner, 0, day)
        with pytest.raises(services.PlanError, match="level: 3 is not one of"):
            services.rate_attainment(g1, owner, 3, timezone.localdate() - timedelta(days=1))
        versions = PlanVersion.objects.filter(episode=episode, summary__contains="attainment")
        assert versions.count() == 3
        assert versions.first().changes == [  # type: ignore[union-attr]
            {"key": f"goal.{g2.pk}.attainment.{timezone.localdate().isoformat()}",
             "label": f"Goal 2 · attainment rated on {timezone.localdate():%-d %b %Y}",
             "old": "", "new": "−1"}
        ]  # fmt: skip
        with pytest.raises(services.PlanError, match="levels can be reworded but not removed"):
            services.update_goal(g1, owner, text=g1.text, agreed_on=day, status="active", gas={})

    def test_the_last_goal_stays_while_a_link_asks_for_ratings(
        self, client_record: Client, episode: Episode, owner: User
    ) -> None:
        goal = services.add_goal(episode, owner, "Feel calmer at work", timezone.localdate())
        new_link(client_record, owner, ["phq9", "goals"])
        with pytest.raises(services.PlanError, match="an open check-in link asks"):
            services.update_goal(
                goal, owner, text=goal.text, agreed_on=goal.agreed_on, status="achieved"
            )
        services.add_goal(episode, owner, "Another", timezone.localdate())
        services.update_goal(
            goal, owner, text=goal.text, agreed_on=goal.agreed_on, status="achieved"
        )
        goal.refresh_from_db()
        assert goal.status == GoalStatus.ACHIEVED


# ------------------------------------------------------------------ ratings at check-ins


class TestGoalRatings:
    def test_the_client_sees_only_their_agreed_goals_in_their_words(
        self, client_record: Client, episode: Episode, owner: User
    ) -> None:
        today = timezone.localdate()
        services.add_goal(episode, owner, "Sleep through the night", today)
        second = services.add_goal(episode, owner, "Something dropped", today)
        services.add_goal(episode, owner, "Ring my sister on Sundays", today)
        services.update_goal(second, owner, text=second.text, agreed_on=today, status="dropped")
        link = new_link(client_record, owner, ["phq9", "goals"])
        browser = browser_for(None)
        assert answer(browser, link.token, "phq9", PHQ9_MILD).status_code == 302
        page = browser.get(f"/c/{link.token}/").content.decode()
        assert "Sleep through the night" in page and "Ring my sister on Sundays" in page
        assert "Something dropped" not in page and "Goal 2" not in page
        assert 'name="goals_1"' in page and 'name="goals_3"' in page
        assert 'name="goals_2"' not in page
        # a forged answer to a goal not asked is left blank
        r = answer(browser, link.token, "goals", {"goals_1": 4, "goals_2": 9, "goals_3": 7})
        assert r.status_code == 302
        stored = Administration.objects.get(instrument="goals")
        assert stored.answers == {"goals_1": 4, "goals_2": None, "goals_3": 7}
        assert stored.score.total == pytest.approx(5.5)

    def test_rating_nothing_asks_again_in_plain_words(
        self, client_record: Client, episode: Episode, owner: User
    ) -> None:
        services.add_goal(episode, owner, "Sleep better", timezone.localdate())
        link = new_link(client_record, owner, ["goals"])
        r = answer(browser_for(None), link.token, "goals", {})
        assert r.status_code == 422
        assert "Please rate at least one of your goals." in r.content.decode()
        assert not Administration.objects.exists()

    def test_goals_are_left_out_of_a_link_while_none_is_agreed(
        self, client_record: Client, episode: Episode, owner: User
    ) -> None:
        link = new_link(client_record, owner, ["phq9", "goals"])
        assert link.checkin.instruments == ["phq9"]
        assert "checkin.goals_left_out" in _actions(client_record)
        with pytest.raises(CheckInError, match="agree goals on the treatment plan first"):
            new_link(client_record, owner, ["goals"])

    def test_each_goal_has_its_ratings_over_time_and_its_change(
        self, client_record: Client, episode: Episode, owner: User
    ) -> None:
        _start(episode)
        earlier = timezone.now() - timedelta(days=20)
        old = services.add_goal(episode, owner, "Old goal", episode.started_on, now=earlier)
        for n, (a, b) in enumerate([(2, None), (4, None)], start=1):
            record_past_session(
                episode,
                n,
                timezone.localdate() - timedelta(days=20 - n),
                Attendance.ATTENDED,
                {
                    "goals": {
                        "answers": {"goals_1": a, "goals_2": b, "goals_3": None},
                        "answered_at": (earlier + timedelta(days=n)).isoformat(),
                    }
                },
            )
        services.update_goal(
            old, owner, text=old.text, agreed_on=old.agreed_on, status="dropped",
            now=earlier + timedelta(days=5),
        )  # fmt: skip
        new = services.add_goal(episode, owner, "New goal", timezone.localdate())
        link = new_link(client_record, owner, ["goals"])
        assert answer(browser_for(None), link.token, "goals", {"goals_1": 8}).status_code == 302
        progress = {p.goal.text: p for p in goal_progress(episode)}
        assert [r.value for r in progress["Old goal"].ratings] == [2.0, 4.0]
        assert progress["Old goal"].change is not None
        assert progress["Old goal"].change.change == pytest.approx(2.0)
        assert [r.value for r in progress["New goal"].ratings] == [8.0]
        assert progress["New goal"].change is None and new.position == 1
        page = browser_for(owner).get(f"/clients/{client_record.pk}/plan/").content.decode()
        assert "+2 since the first rating" in page and "8 / 10" in page


# ------------------------------------------------------------------ session techniques


class TestSessionTechniques:
    def test_the_techniques_of_a_session_are_recorded_and_versioned(
        self, client_record: Client, episode: Episode, owner: User
    ) -> None:
        session = record_past_session(
            episode, 1, timezone.localdate(), Attendance.ATTENDED, {}, user=owner
        )
        version = services.set_session_techniques(session, owner, ["psychoeducation", "exposure"])
        session.refresh_from_db()
        assert session.techniques == ["psychoeducation", "exposure"]
        assert version is not None and version.changes == [
            {
                "key": "session.1.techniques",
                "label": "Session 1 · techniques used",
                "old": "",
                "new": "Psychoeducation; Exposure",
            }
        ]
        assert "session.techniques" in _actions(client_record)
        with pytest.raises(services.PlanError, match="'tarot' is not in the practice's"):
            services.set_session_techniques(session, owner, ["tarot"])
        session.refresh_from_db()
        assert session.techniques == ["psychoeducation", "exposure"]

    def test_the_form_saves_the_ticked_techniques(
        self, client_record: Client, episode: Episode, owner: User
    ) -> None:
        services.update_plan(episode, owner, {"techniques": ["behavioural_activation"]})
        record_past_session(episode, 1, timezone.localdate(), Attendance.ATTENDED, {})
        url = f"/clients/{client_record.pk}/plan/sessions/1/techniques/"
        page = browser_for(owner).get(url).content.decode()
        assert "Planned for this client" in page and "Behavioural activation" in page
        r = browser_for(owner).post(url, {"techniques": ["behavioural_activation", "relaxation"]})
        assert r.status_code == 302
        assert episode.sessions.get().techniques == ["behavioural_activation", "relaxation"]
        r = browser_for(owner).post(url, {"techniques": ["not-a-technique"]})
        assert r.status_code == 422


# ------------------------------------------------------------------ the practice catalogue


class TestCatalogue:
    def test_a_practice_starts_from_the_library_defaults(self, practice: Practice) -> None:
        techniques = services.catalogue(practice)
        assert {t.slug for t in techniques} == {t.id for t in default_catalogue()}
        assert techniques[0].modality == "cbt"  # catalogue order
        assert services.seed_techniques(practice) == 0

    def test_restoring_defaults_keeps_the_practices_edits(
        self, practice: Practice, admin_user: User
    ) -> None:
        services.catalogue(practice)
        exposure = PracticeTechnique.objects.get(practice=practice, slug="exposure")
        services.save_technique(
            practice, admin_user, technique=exposure, modality="cbt",
            name="Graded exposure", description="Our description.", active=True,
        )  # fmt: skip
        PracticeTechnique.objects.filter(practice=practice, slug="genogram").delete()
        assert services.missing_defaults(practice) == 1
        assert services.seed_techniques(practice) == 1
        assert PracticeTechnique.objects.get(practice=practice, slug="exposure").name == (
            "Graded exposure"
        )

    def test_a_new_technique_is_checked(self, practice: Practice, admin_user: User) -> None:
        services.catalogue(practice)
        with pytest.raises(services.PlanError) as caught:
            services.save_technique(
                practice, admin_user, slug="exposure", modality="astrology", name="", description=""
            )
        assert len(caught.value.problems) == 4
        technique = services.save_technique(
            practice, admin_user, slug="worry time", modality="cbt", name="Worry time",
            description="Postponing worry to a set half hour a day.",
        )  # fmt: skip
        assert technique.slug == "worry_time" and technique.active
        assert AuditEvent.objects.filter(action="technique.save").exists()

    def test_the_admin_page_adds_and_edits_techniques(
        self, practice: Practice, admin_user: User
    ) -> None:
        browser = browser_for(admin_user)
        page = browser.get("/practice/techniques/").content.decode()
        assert "Cognitive restructuring" in page and "Free association" in page
        r = browser.post(
            "/practice/techniques/",
            {"name": "Worry time", "slug": "worry_time", "modality": "cbt",
             "description": "Postponing worry.", "active": "on"},
        )  # fmt: skip
        assert r.status_code == 302
        technique = PracticeTechnique.objects.get(practice=practice, slug="worry_time")
        r = browser.post(
            f"/practice/techniques/{technique.pk}/",
            {"name": "Worry time", "modality": "cbt", "description": "Changed."},
        )
        assert r.status_code == 302
        technique.refresh_from_db()
        assert technique.description == "Changed." and not technique.active

    def test_the_django_admin_shows_only_the_admins_practice(
        self, practice: Practice, admin_user: User
    ) -> None:
        other = create_practice("Elsewhere")
        services.catalogue(other)
        theirs = PracticeTechnique.objects.get(practice=other, slug="exposure")
        browser = browser_for(admin_user)
        r = browser.get("/admin/plans/practicetechnique/")
        assert r.status_code == 200
        assert r.content.decode().count("Cognitive restructuring") == 1
        assert browser.get(f"/admin/plans/practicetechnique/{theirs.pk}/change/").status_code in (
            302,
            404,
        )
        ours = PracticeTechnique.objects.get(practice=practice, slug="exposure")
        r = browser.post(
            f"/admin/plans/practicetechnique/{ours.pk}/change/",
            {"modality": "cbt", "name": "Exposure work", "description": "Ours.", "source": "",
             "active": "on"},
        )  # fmt: skip
        assert r.status_code == 302
        ours.refresh_from_db()
        assert ours.name == "Exposure work"


# ------------------------------------------------------------------ every URL, every person


def _urls(client: Client, episode: Episode, owner: User) -> dict[str, Any]:
    goal = services.add_goal(episode, owner, "Sleep better", timezone.localdate(), gas=GAS)
    record_past_session(episode, 1, timezone.localdate(), Attendance.ATTENDED, {})
    base = f"/clients/{client.pk}/plan"
    return {
        "view": f"{base}/",
        "history": f"{base}/history/",
        "edit": f"{base}/edit/",
        "goal_add": f"{base}/goals/new/",
        "goal_edit": f"{base}/goals/{goal.pk}/",
        "attainment": f"{base}/goals/{goal.pk}/attainment/",
        "session": f"{base}/sessions/1/techniques/",
    }


POSTS = {
    "edit": {"modality": "Integrative"},
    "goal_add": {"text": "A second goal", "agreed_on": "2020-01-01"},
    "goal_edit": {"text": "Sleep better", "agreed_on": "2020-01-01", "status": "active",
                  "gas_weight": "1"},
    "attainment": {"level": "1", "rated_on": "2020-01-01"},
    "session": {"techniques": ["exposure"]},
}  # fmt: skip
READ = ("view", "history")
CHANGE_GET = ("edit", "goal_add", "goal_edit", "session")


class TestAccess:
    @pytest.fixture
    def urls(self, client_record: Client, episode: Episode, owner: User) -> dict[str, Any]:
        _start(episode, 3000)
        return _urls(client_record, episode, owner)

    def test_the_owner_reads_and_changes(self, urls: dict[str, Any], owner: User) -> None:
        browser = browser_for(owner)
        for name in READ + CHANGE_GET:
            assert browser.get(urls[name]).status_code == 200, name
        for name, data in POSTS.items():
            r = browser.post(urls[name], data)
            assert r.status_code == 302, (name, r.content.decode()[:2000])

    def test_the_colleague_reads_only(self, urls: dict[str, Any], colleague: User) -> None:
        browser = browser_for(colleague)
        for name in READ:
            r = browser.get(urls[name])
            assert r.status_code == 200, name
            assert "Edit the plan" not in r.content.decode()
        assert "read-only" in browser.get(urls["view"]).content.decode()
        for name in CHANGE_GET:
            assert browser.get(urls[name]).status_code == 403, name
        for name, data in POSTS.items():
            assert browser.post(urls[name], data).status_code == 403, name
        assert PlanVersion.objects.count() == 1  # the goal of the fixture only

    @pytest.mark.parametrize("who", ["teammate", "outsider", "admin_user"])
    def test_everyone_else_finds_nothing(
        self, urls: dict[str, Any], who: str, request: pytest.FixtureRequest
    ) -> None:
        browser = browser_for(request.getfixturevalue(who))
        for name in READ + CHANGE_GET:
            assert browser.get(urls[name]).status_code == 404, name
        for name, data in POSTS.items():
            assert browser.post(urls[name], data).status_code == 404, name

    def test_anonymous_is_sent_to_log_in(self, urls: dict[str, Any]) -> None:
        browser = browser_for(None)
        for name in READ + CHANGE_GET:
            r = browser.get(urls[name])
            assert r.status_code == 302 and "/accounts/login/" in r["Location"], name
        for name, data in POSTS.items():
            r = browser.post(urls[name], data)
            assert r.status_code == 302 and "/accounts/login/" in r["Location"], name

    def test_a_goal_of_another_client_is_not_found(
        self, urls: dict[str, Any], owner: User, practice: Practice, plan: MeasurementPlan
    ) -> None:
        from commonfactors_web.clients.services import create_client

        other = create_client(owner, "C-0002", measurement_plan=plan)
        goal_url = urls["goal_edit"].replace(f"/clients/{urls['view'].split('/')[2]}/", "/")
        r = browser_for(owner).get(f"/clients/{other.pk}{goal_url}")
        assert r.status_code == 404

    def test_the_practice_pages_are_for_its_admins(
        self, practice: Practice, admin_user: User, owner: User, colleague: User, outsider: User
    ) -> None:
        services.catalogue(practice)
        technique = PracticeTechnique.objects.filter(practice=practice).first()
        assert technique is not None
        urls = [
            "/practice/techniques/",
            f"/practice/techniques/{technique.pk}/",
        ]
        for url in urls:
            assert browser_for(admin_user).get(url).status_code == 200
            for person in (owner, colleague, outsider):
                assert browser_for(person).get(url).status_code == 403
            r = browser_for(None).get(url)
            assert r.status_code == 302 and "/accounts/login/" in r["Location"]
        other_admin = create_user(
            "ann", PASSWORD, role="admin", practice=outsider.practice, first_name="Ann"
        )
        assert browser_for(other_admin).get(urls[1]).status_code == 404
        assert browser_for(owner).post("/practice/techniques/defaults/").status_code == 403
        assert browser_for(admin_user).post("/practice/techniques/defaults/").status_code == 302


# ------------------------------------------------------------------ pages and audit


class TestPages:
    def test_every_read_of_the_plan_is_audited(
        self, client_record: Client, episode: Episode, owner: User, colleague: User
    ) -> None:
        _start(episode, 3000)
        urls = _urls(client_record, episode, owner)
        before = AuditEvent.objects.count()
        browser_for(colleague).get(urls["view"])
        browser_for(colleague).get(urls["history"])
        for name in CHANGE_GET:
            browser_for(owner).get(urls[name])
        ours = ("plan.", "goal.", "session.")  # other apps' panels on the page audit their own
        actions = [
            (action, who)
            for action, who in AuditEvent.objects.order_by("pk")[before:].values_list(
                "action", "actor__username"
            )
            if action.startswith(ours)
        ]
        assert actions == [
            ("plan.view", "sam"),
            ("plan.history.view", "sam"),
            ("plan.view", "olivia"),
            ("goal.new.view", "olivia"),
            ("goal.view", "olivia"),
            ("session.techniques.view", "olivia"),
        ]

    def test_the_plan_page_shows_the_whole_plan(
        self, client_record: Client, episode: Episode, owner: User
    ) -> None:
        services.update_plan(
            episode,
            owner,
            {"modality": "Narrative therapy", "techniques": ["externalising"],
             "pref_time_focus": "present", "relationship": "Plain speaking, no jargon"},
        )  # fmt: skip
        services.add_goal(episode, owner, "Worry less about money", timezone.localdate())
        page = browser_for(owner).get(f"/clients/{client_record.pk}/plan/").content.decode()
        for text in (
            "Narrative therapy",
            "Externalising the problem",
            "The present and the future",
            "Plain speaking, no jargon",
            "“Worry less about money”",
            "Not rated yet",
            "PHQ-9 and GAD-7 every session",
            "{# slot:adaptations",
        ):
            if text.startswith("{#"):
                assert text not in page  # the slot is a template comment
            else:
                assert text in page, text
        assert "does not ask for goal ratings" in page

    def test_the_history_page_shows_who_changed_what(
        self, client_record: Client, episode: Episode, owner: User
    ) -> None:
        services.update_plan(episode, owner, {"modality": "CBT"})
        services.update_plan(episode, owner, {"modality": "Integrative"})
        page = browser_for(owner).get(f"/clients/{client_record.pk}/plan/history/").content.decode()
        assert "Version 2: Plan changed" in page and "Olivia" in page
        assert "<del>CBT</del>" in page and "<ins>Integrative</ins>" in page

    def test_the_edit_form_saves_and_shows_problems(
        self, client_record: Client, episode: Episode, owner: User
    ) -> None:
        url = f"/clients/{client_record.pk}/plan/edit/"
        browser = browser_for(owner)
        r = browser.post(
            url,
            {"modality": "CBT", "techniques": ["exposure"], "pref_directiveness": "client_leads",
             "family_involvement": "consulted", "explanation": "Nerves"},
        )  # fmt: skip
        assert r.status_code == 302
        plan = TreatmentPlan.objects.get(episode=episode)
        assert plan.pref_directiveness == "client_leads" and plan.explanation == "Nerves"
        r = browser.post(url, {"techniques": ["exposure", "bogus"], "pref_format": "x"})
        assert r.status_code == 422
        page = r.content.decode()
        assert "Please check the form" in page

    def test_the_client_page_shows_the_plan_in_brief(
        self, client_record: Client, episode: Episode, owner: User
    ) -> None:
        page = browser_for(owner).get(f"/clients/{client_record.pk}/").content.decode()
        assert "Treatment plan" in page and "Write the plan" in page
        assert "No goals agreed yet" in page
        services.update_plan(episode, owner, {"modality": "CBT", "techniques": ["exposure"]})
        services.add_goal(episode, owner, "Take the bus to work", timezone.localdate())
        page = browser_for(owner).get(f"/clients/{client_record.pk}/").content.decode()
        assert "“Take the bus to work”" in page and "not rated yet" in page
        assert "Exposure" in page and "Open the treatment plan" in page


# ------------------------------------------------------------------ the demo


def test_the_demo_gives_each_episode_a_plan_goals_and_ratings(
    client_record: Client, episode: Episode, owner: User, practice: Practice
) -> None:
    import random

    from commonfactors_web.plans import demo

    _start(episode, 60)
    for n, total in enumerate([15, 13, 11, 8, 6], start=1):
        answers = {f"phq9_{i}": 0 for i in range(1, 10)}
        for i in range(total):
            answers[f"phq9_{i % 8 + 1}"] += 1
        record_past_session(
            episode,
            n,
            timezone.localdate() - timedelta(days=50 - 7 * n),
            Attendance.ATTENDED,
            {"phq9": {"answers": answers}},
        )
    demo.seed(practice, random.Random(7))
    episode.refresh_from_db()
    assert episode.measurement_plan is not None
    assert {"instrument": "goals", "first_session": 2, "every": 1} in (
        episode.measurement_plan.schedule
    )
    plan = TreatmentPlan.objects.get(episode=episode)
    assert plan.techniques and plan.rationale
    progress = goal_progress(episode)
    # one entry per goal the demo agreed (one to three), each rated at sessions 2 to 5 and
    # rising as PHQ-9 falls (15 → 6)
    assert [p.goal for p in progress] == list(episode.goals.order_by("position"))
    assert len(progress) in (1, 2, 3)
    assert all(len(p.ratings) == 4 for p in progress)
    assert all(p.ratings[-1].value > p.ratings[0].value for p in progress)
    assert all(s.techniques for s in episode.sessions.all())
    first = episode.goals.get(position=1)
    reworded = [
        c for v in episode.plan_versions.all() for c in v.changes if c["label"] == "Goal 1 · text"
    ]
    assert len(reworded) == 2 and reworded[0]["new"] == first.text  # agreed, then reworded
    assert reworded[0]["old"] == reworded[1]["new"]
    assert episode.plan_versions.count() >= 4
