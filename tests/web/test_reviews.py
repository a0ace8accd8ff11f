"""Alerts inbox, yellow alerts and support reviews: the services, every URL with the named
people, and the audit log.

The history used: PHQ-9 8 at intake; at session 2 a PHQ-9 of 18 (red against the synthetic
reference model: its red threshold there is 11.5) or 10 (yellow: above 9.0, below 11.5), and
the alliance practice questions answered 1, 2, 2, 2 (mean 1.75)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.utils import timezone

from commonfactors import support
from commonfactors_web.accounts.models import User
from commonfactors_web.alerts.models import Alert, AlertKind, Signal
from commonfactors_web.alerts.services import raise_risk_alert
from commonfactors_web.audit.models import AuditEvent
from commonfactors_web.checkins import services as checkins
from commonfactors_web.checkins.models import CheckIn
from commonfactors_web.clients.models import Attendance, Client
from commonfactors_web.homework.services import assign
from commonfactors_web.reviews import services
from commonfactors_web.reviews.models import (
    Adaptation,
    ReviewQuestionnaire,
    ReviewRecordError,
    SupportReview,
)
from commonfactors_web.reviews.services import Chosen, ReviewError

from .helpers import PHQ9_RISK, browser_for

pytestmark = pytest.mark.django_db


def phq9(total: int) -> dict[str, Any]:
    """PHQ-9 answers with ``total`` spread over items 1-8 (item 9, the risk item, at 0)."""
    items = [0] * 9
    for i in range(total):
        items[i % 8] += 1
    return {"answers": {f"phq9_{i + 1}": v for i, v in enumerate(items)}}


def alliance(*values: int) -> dict[str, Any]:
    return {"answers": {f"cf_alliance_{i + 1}": v for i, v in enumerate(values)}}


def session(client: Client, number: int, **entries: dict[str, Any]) -> None:
    checkins.record_past_session(
        client.episodes.get(),
        number,
        timezone.localdate() - timedelta(days=30 - number),
        Attendance.ATTENDED,
        entries,
    )


@pytest.fixture
def red_alert(client_record: Client) -> Alert:
    session(client_record, 1, phq9=phq9(8))
    session(client_record, 2, phq9=phq9(18), cf_alliance=alliance(1, 2, 2, 2))
    return Alert.objects.get(kind=AlertKind.NOT_ON_TRACK)


@pytest.fixture
def risk_alert(client_record: Client) -> Alert:
    return raise_risk_alert(
        client_record.episodes.get(),
        checkin=None,
        instrument="phq9",
        risk_items=["phq9_9"],
        answers=PHQ9_RISK,
        session_number=None,
        notify=False,
    )


def actions(client: Client) -> list[str]:
    return list(
        AuditEvent.objects.filter(client=client).order_by("pk").values_list("action", flat=True)
    )


REVIEW_POST = {
    "alliance_bond": "1",
    "homework_done": "little",
    "life_event": "no",
    "alliance_note": "Quiet and agreeable, little said about the week.",
}


# ====================================================================== yellow alerts


class TestYellowAlerts:
    def test_a_yellow_signal_raises_a_less_change_alert(self, client_record: Client) -> None:
        session(client_record, 1, phq9=phq9(8))
        session(client_record, 2, phq9=phq9(10))
        alert = Alert.objects.get()
        assert alert.kind == AlertKind.LESS_CHANGE
        assert alert.get_kind_display() == "Less change than expected (yellow)"
        assert alert.summary == "PHQ-9 at session 2: less change than expected (yellow)"
        assert alert.signal_id == Signal.objects.get(session_number=2).pk

    def test_one_yellow_alert_stays_open_per_episode_and_instrument(
        self, client_record: Client
    ) -> None:
        session(client_record, 1, phq9=phq9(8))
        session(client_record, 2, phq9=phq9(10))
        session(client_record, 3, phq9=phq9(10))
        assert Alert.objects.filter(kind=AlertKind.LESS_CHANGE).count() == 1

    def test_a_red_alert_supersedes_an_open_yellow_one(self, client_record: Client) -> None:
        session(client_record, 1, phq9=phq9(8))
        session(client_record, 2, phq9=phq9(10))
        session(client_record, 3, phq9=phq9(18))
        yellow = Alert.objects.get(kind=AlertKind.LESS_CHANGE)
        red = Alert.objects.get(kind=AlertKind.NOT_ON_TRACK)
        assert red.is_open and not yellow.is_open
        assert yellow.resolved_by is None
        assert yellow.resolution.startswith("Superseded by the red alert of session 3")
        assert AuditEvent.objects.filter(
            action="alert.supersede", object_id=str(yellow.pk)
        ).exists()

    def test_no_yellow_alert_while_a_red_one_is_open(self, client_record: Client) -> None:
        session(client_record, 1, phq9=phq9(8))
        session(client_record, 2, phq9=phq9(18))
        session(client_record, 3, phq9=phq9(10))
        assert Signal.objects.get(session_number=3).status == "yellow"
        assert list(Alert.objects.values_list("kind", flat=True)) == [AlertKind.NOT_ON_TRACK]

    def test_alerts_sort_by_urgency(self, client_record: Client, risk_alert: Alert) -> None:
        session(client_record, 1, phq9=phq9(8))
        session(client_record, 2, phq9=phq9(10))
        kinds = list(Alert.objects.open().by_urgency().values_list("kind", flat=True))
        assert kinds == [AlertKind.RISK, AlertKind.LESS_CHANGE]


# ====================================================================== services


class TestFactorsAndSuggestions:
    def test_the_latest_factors_with_missing_ones_shown_as_missing(self, red_alert: Alert) -> None:
        rows = {r.instrument: r for r in services.latest_factors(red_alert.episode)}
        measured = rows["cf_alliance"]
        assert (measured.value, measured.session, measured.domain) == (1.75, 2, "alliance")
        assert measured.items["cf_alliance_1"] == 1.0
        assert measured.on == timezone.localdate() - timedelta(days=28)
        assert rows["cf_expectancy"].value is None and rows["wai_sr"].value is None
        assert next(iter(rows)) == "cf_alliance"  # the review order

    def test_suggestions_come_from_the_library_with_the_episodes_data(
        self, red_alert: Alert
    ) -> None:
        kept, suggestions = services.suggestions_for(red_alert, {"alliance_bond": "1"})
        assert kept == {"alliance_bond": 1}
        assert [s.rule for s in suggestions] == ["not_on_track_feedback", "alliance_low"]
        assert suggestions[0].because == ("The outcome signal is red (not on track)",)
        assert any("score was 1.75 at session 2" in b for b in suggestions[1].because)
        # the same as the library says for the same inputs
        readings = [f.reading for f in services.latest_factors(red_alert.episode)]
        assert suggestions == support.suggest(
            kept, readings, signals={"outcome": "red", "alliance": "stable"}
        )

    def test_the_recorded_homework_completion_feeds_the_suggestions_and_the_page(
        self, red_alert: Alert, owner: User
    ) -> None:
        episode = red_alert.episode
        set_on = timezone.now() - timedelta(days=20)
        for due in (10, 5):
            assign(
                episode,
                owner,
                "activity_schedule",
                due_on=timezone.localdate() - timedelta(days=due),
                now=set_on,
            )
        _, suggestions = services.suggestions_for(red_alert, {})
        homework = next(s for s in suggestions if s.rule == "homework_low")
        assert homework.because[0].startswith(
            "The homework record shows 0 of 2 assignments due were done (0 %), below 50 %"
        )
        page = browser_for(owner).get(f"/alerts/{red_alert.pk}/review/").content.decode()
        assert "Recorded in commonfactors: 0 of 2 assignments due done (0 %); 2 set in all." in page


class TestSaveReview:
    def test_it_stores_the_review_its_adaptations_and_resolves_the_alert(
        self, red_alert: Alert, owner: User, client_record: Client
    ) -> None:
        _, shown = services.suggestions_for(red_alert, REVIEW_POST)
        review = services.save_review(
            red_alert,
            owner,
            REVIEW_POST,
            chosen=[Chosen("alliance_low", "Ask openly what has not fitted.", "Alliance 1.75")],
            own=[Chosen("own", "Meet weekly for a month.", "Life is busy; keep contact close.")],
            notes="Reviewed together with the graph.",
        )
        assert review.answers == {
            "alliance_bond": 1,
            "alliance_note": "Quiet and agreeable, little said about the week.",
            "homework_done": "little",
            "life_event": "no",
        }
        assert review.suggestions == [s.as_dict() for s in shown]
        assert [s["rule"] for s in review.suggestions] == [
            "not_on_track_feedback",
            "alliance_low",
            "homework_low",
        ]
        snapshot = {f["instrument"]: f for f in review.factors}
        assert snapshot["cf_alliance"]["value"] == 1.75 and snapshot["urica"]["value"] is None
        assert (review.outcome_instrument, review.outcome_status) == ("phq9", "red")
        assert (review.factor, review.factor_value, review.session_number) == (
            "cf_alliance",
            1.75,
            2,
        )
        assert review.definition_version == support.default_review().version
        adaptations = list(Adaptation.objects.order_by("pk"))
        assert [(a.rule, a.text) for a in adaptations] == [
            ("alliance_low", "Ask openly what has not fitted."),
            ("own", "Meet weekly for a month."),
        ]
        assert all(a.alert == red_alert and a.episode == red_alert.episode for a in adaptations)
        assert all(a.created_by == owner and a.review == review for a in adaptations)
        red_alert.refresh_from_db()
        assert not red_alert.is_open and red_alert.resolved_by == owner
        assert red_alert.resolution == (
            f"Support review {review.pk}: 2 adaptations (The working relationship is strained; "
            "own adaptation)."
        )
        assert services.review_of(red_alert) == review
        assert actions(client_record)[-4:] == [
            "alert.resolve",
            "review.create",
            "adaptation.create",
            "adaptation.create",
        ]

    def test_bad_input_names_every_problem_and_writes_nothing(
        self, red_alert: Alert, owner: User
    ) -> None:
        with pytest.raises(ReviewError) as info:
            services.save_review(
                red_alert,
                owner,
                {"alliance_bond": "9"},
                chosen=[Chosen("life_event", "x", "y")],
                own=[Chosen("own", "Something", "")],
                also=[999999],
            )
        assert info.value.problems == (
            "alliance_bond: a whole number from 0 to 4, not '9'",
            "“A major life event” is not suggested for these answers: show the suggestions again",
            "your own adaptation 1: say why (the reason is empty)",
            "alert 999999 is not another open alert of this episode",
        )
        assert SupportReview.objects.count() == Adaptation.objects.count() == 0
        red_alert.refresh_from_db()
        assert red_alert.is_open

    def test_a_review_needs_an_answer_and_a_decision(self, red_alert: Alert, owner: User) -> None:
        with pytest.raises(ReviewError) as info:
            services.save_review(red_alert, owner, {})
        assert info.value.problems == (
            "answer at least one question of the review",
            "choose or write at least one adaptation, or say in the notes why the plan stays "
            "as it is",
        )

    def test_no_change_is_allowed_when_the_notes_say_why(
        self, red_alert: Alert, owner: User
    ) -> None:
        review = services.save_review(
            red_alert, owner, {"life_event": "yes"}, notes="A bereavement; we wait two sessions."
        )
        red_alert.refresh_from_db()
        assert red_alert.resolution == (
            f"Support review {review.pk}: no change to the plan. A bereavement; we wait two "
            "sessions."
        )
        assert review.factor == ""  # nothing chosen: the closed loop follows the outcome only

    def test_one_review_answers_the_other_open_alerts_of_the_episode(
        self, client_record: Client, owner: User
    ) -> None:
        gad7 = {"answers": {f"gad7_{i}": 0 for i in range(1, 8)}}
        worse = {"answers": {f"gad7_{i}": 3 for i in range(1, 8)}}
        session(client_record, 1, phq9=phq9(8), gad7=gad7)
        session(client_record, 2, phq9=phq9(18), gad7=worse)
        first, second = Alert.objects.filter(kind=AlertKind.NOT_ON_TRACK).order_by("instrument")
        assert services.other_open_alerts(first) == [second]
        review = services.save_review(
            first, owner, {"life_event": "yes"}, notes="Both measures worse.", also=[second.pk]
        )
        second.refresh_from_db()
        assert not second.is_open and second.resolution.startswith(f"Support review {review.pk}")
        assert set(review.answered_alerts.all()) == {first, second}
        assert services.review_of(second) == review

    def test_a_resolved_alert_cannot_be_reviewed_again(self, red_alert: Alert, owner: User) -> None:
        services.save_review(red_alert, owner, {"life_event": "yes"}, notes="n")
        with pytest.raises(ReviewError, match="resolved meanwhile"):
            services.save_review(red_alert, owner, {"life_event": "yes"}, notes="n")

    def test_reviews_and_adaptations_are_written_once(self, red_alert: Alert, owner: User) -> None:
        review = services.save_review(
            red_alert, owner, {"alliance_bond": 1}, chosen=[Chosen("alliance_low", "t", "r")]
        )
        with pytest.raises(ReviewRecordError):
            review.save()
        with pytest.raises(ReviewRecordError):
            Adaptation.objects.get().save()

    def test_a_rupture_review_follows_the_alliance_and_the_primary_outcome(
        self, client_record: Client, owner: User
    ) -> None:
        # alliance 4 at sessions 2-4, then 1: a fall far beyond the within-client rule
        session(client_record, 1, phq9=phq9(8))
        for n in (2, 3, 4):
            session(client_record, n, phq9=phq9(6), cf_alliance=alliance(4, 4, 4, 4))
        session(client_record, 5, phq9=phq9(6), cf_alliance=alliance(1, 1, 1, 1))
        rupture = Alert.objects.get(kind=AlertKind.ALLIANCE_RUPTURE)
        _, suggestions = services.suggestions_for(rupture, {})
        assert "The alliance signal is a new rupture" in suggestions[0].because
        review = services.save_review(
            rupture, owner, {"alliance_strain": "withdrawal"}, notes="Talked it through."
        )
        assert (review.factor, review.factor_value) == ("cf_alliance", 1.0)
        assert (review.outcome_instrument, review.outcome_status) == ("phq9", "on_track")

    def test_a_yellow_alert_is_resolved_by_a_review(
        self, client_record: Client, owner: User
    ) -> None:
        session(client_record, 1, phq9=phq9(8))
        session(client_record, 2, phq9=phq9(10))
        yellow = Alert.objects.get(kind=AlertKind.LESS_CHANGE)
        review = services.save_review(yellow, owner, {"life_event": "yes"}, notes="Wait and see.")
        yellow.refresh_from_db()
        assert not yellow.is_open and review.outcome_status == "yellow"

    def test_a_risk_alert_is_not_resolved_by_a_review(self, risk_alert: Alert, owner: User) -> None:
        with pytest.raises(ReviewError, match="only red, yellow and alliance-rupture alerts"):
            services.save_review(risk_alert, owner, {"life_event": "yes"}, notes="n")


class TestClosedLoop:
    def test_later_sessions_show_the_factor_and_the_outcome(
        self, red_alert: Alert, owner: User, client_record: Client
    ) -> None:
        review = services.save_review(
            red_alert,
            owner,
            {"alliance_bond": "1"},
            chosen=[Chosen("alliance_low", "Talk about the relationship.", "Alliance low")],
        )
        loop = services.closed_loop(review)
        assert (loop.factor_verdict, loop.outcome_verdict) == (
            "not measured since",
            "not judged since",
        )
        # session 3: alliance 3, 3, 3, 3 (mean 3: +1.25 from 1.75); PHQ-9 back to 4
        session(client_record, 3, phq9=phq9(4), cf_alliance=alliance(3, 3, 3, 3))
        assert Signal.objects.get(instrument="phq9", session_number=3).status == "on_track"
        loop = services.closed_loop(review)
        assert (loop.factor_before, loop.factor_latest, loop.factor_verdict) == (
            1.75,
            3.0,
            "improved",
        )
        assert (loop.outcome_before, loop.outcome_latest, loop.outcome_verdict) == (
            "red",
            "on_track",
            "back on track",
        )
        assert loop.summary[1] == "The PHQ-9 signal is back on track (it was red at the review)."


class TestQuestionnaire:
    def test_it_sends_the_practice_questions_by_link(
        self, red_alert: Alert, owner: User, client_record: Client
    ) -> None:
        link = services.send_questionnaire(red_alert, owner)
        assert link.checkin.instruments == [
            "cf_alliance",
            "cf_expectancy",
            "cf_motivation",
            "cf_preferences",
        ]
        assert ReviewQuestionnaire.objects.get().checkin == link.checkin
        assert actions(client_record)[-2:] == ["checkin.create", "review.questionnaire"]
        # the client answers: the expectancy is measured now and low (2 out of 10)
        answers = {
            "cf_alliance": {f"cf_alliance_{i}": 3 for i in range(1, 5)},
            "cf_expectancy": {f"cf_expectancy_{i}": 2 for i in range(1, 4)},
            "cf_motivation": {f"cf_motivation_{i}": 8 for i in range(1, 4)},
            "cf_preferences": {f"cf_preferences_{i}": 3 for i in range(1, 5)},
        }
        for instrument, values in answers.items():
            assert checkins.answer(link.checkin.pk, instrument, values).status in (
                "saved",
                "submitted",
            )
        rows = {r.instrument: r for r in services.latest_factors(red_alert.episode)}
        assert rows["cf_expectancy"].value == 2.0 and rows["cf_expectancy"].session == 3
        _, suggestions = services.suggestions_for(red_alert, {})
        assert "expectancy_low" in [s.rule for s in suggestions]

    def test_it_is_refused_for_a_risk_alert(self, risk_alert: Alert, owner: User) -> None:
        with pytest.raises(ReviewError):
            services.send_questionnaire(risk_alert, owner)
        assert CheckIn.objects.count() == 0


# ====================================================================== the inbox


class TestInbox:
    url = "/alerts/"

    def test_it_lists_the_owners_open_alerts_most_urgent_first_with_why(
        self, owner: User, red_alert: Alert, risk_alert: Alert, client_record: Client
    ) -> None:
        html = browser_for(owner).get(self.url).content.decode()
        assert html.index("Risk answer") < html.index("Not on track (red)")
        assert "PHQ-9 at session 2: not on track (red)" in html
        assert "Why it fired" in html and "Rule" in html and "Source" in html
        assert "PHQ-9 score 18 at session 2." in html  # the data, from the signal
        assert "Reference model: SYNTHETIC" in html
        assert f"/alerts/{red_alert.pk}/review/" in html
        assert "Open the support review" in html
        event = AuditEvent.objects.get(action="alert.inbox.view")
        assert sorted(event.detail["alerts"]) == sorted([red_alert.pk, risk_alert.pk])
        assert event.detail["clients"] == [client_record.pk]

    def test_it_shows_the_colleague_the_teams_alerts_read_only(
        self, colleague: User, red_alert: Alert
    ) -> None:
        html = browser_for(colleague).get(self.url).content.decode()
        assert "PHQ-9 at session 2" in html and "Olivia" in html
        assert "View the support review (read-only)" in html
        assert "Open the support review" not in html

    @pytest.mark.parametrize("person", ["teammate", "outsider", "admin_user"])
    def test_it_hides_other_clients_alerts(
        self, person: str, red_alert: Alert, request: pytest.FixtureRequest
    ) -> None:
        r = browser_for(request.getfixturevalue(person)).get(self.url)
        assert r.status_code == 200
        assert b"C-0001" not in r.content and b"No open alerts." in r.content

    def test_it_sends_anonymous_to_login(self, red_alert: Alert) -> None:
        r = browser_for(None).get(self.url)
        assert r.status_code == 302 and r["Location"].startswith("/accounts/login/")

    def test_the_nav_links_to_it_for_therapists_and_supervisors(
        self, owner: User, colleague: User, admin_user: User
    ) -> None:
        link = b'href="/alerts/">Alerts</a>'
        assert link in browser_for(owner).get("/clients/").content
        assert link in browser_for(colleague).get("/clients/").content
        assert link not in browser_for(admin_user).get("/audit/").content


# ====================================================================== the review page


class TestReviewPage:
    def url(self, alert: Alert) -> str:
        return f"/alerts/{alert.pk}/review/"

    def test_it_shows_the_owner_the_form_with_the_latest_factors(
        self, owner: User, red_alert: Alert, client_record: Client
    ) -> None:
        r = browser_for(owner).get(self.url(red_alert))
        html = r.content.decode()
        assert r.status_code == 200
        for title in ("1. Safety and coping", "2. The working relationship", "9. Formulation"):
            assert title in html
        assert "<legend>How much does the client seem to feel understood" in html
        assert "1.75" in html and "not measured" in html  # measured and missing factors
        assert (
            "Show suggested adaptations" in html and "Send the client a short questionnaire" in html
        )
        assert actions(client_record)[-1] == "review.view"

    def test_it_shows_the_colleague_read_only(self, colleague: User, red_alert: Alert) -> None:
        html = browser_for(colleague).get(self.url(red_alert)).content.decode()
        assert "read-only" in html
        assert "Save the review" not in html and "Send the client" not in html
        assert 'type="radio" name="alliance_bond" value="0" disabled' in html

    @pytest.mark.parametrize("person", ["teammate", "outsider"])
    def test_it_validates_ownership(
        self, person: str, red_alert: Alert, request: pytest.FixtureRequest
    ) -> None:
        browser = browser_for(request.getfixturevalue(person))
        assert browser.get(self.url(red_alert)).status_code == 404
        assert browser.post(self.url(red_alert), REVIEW_POST).status_code == 404

    def test_it_sends_anonymous_to_login(self, red_alert: Alert) -> None:
        assert browser_for(None).get(self.url(red_alert)).status_code == 302
        assert browser_for(None).post(self.url(red_alert), REVIEW_POST).status_code == 302

    def test_a_risk_alert_has_no_review_page(self, owner: User, risk_alert: Alert) -> None:
        assert browser_for(owner).get(self.url(risk_alert)).status_code == 404

    def test_unknown_alert(self, owner: User, db: None) -> None:
        assert browser_for(owner).get("/alerts/999999/review/").status_code == 404

    def test_it_shows_the_suggestions_for_the_answers(
        self, owner: User, red_alert: Alert, client_record: Client
    ) -> None:
        r = browser_for(owner).post(self.url(red_alert), {**REVIEW_POST, "action": "suggest"})
        html = r.content.decode()
        assert r.status_code == 200
        assert "Suggested adaptations" in html
        assert "The working relationship is strained" in html
        assert "Little of the work between sessions gets done" in html
        assert "You answered “A little” to “How much does the client seem" in html
        assert "r = .278" in html and "Flückiger" in html
        assert 'name="text_alliance_low"' in html
        assert 'name="alliance_bond" value="1" checked' in html  # the answers are kept
        event = AuditEvent.objects.filter(action="review.suggest").get()
        assert event.detail["rules"] == ["not_on_track_feedback", "alliance_low", "homework_low"]
        assert event.client == client_record

    def test_bad_answers_are_shown_all_at_once(self, owner: User, red_alert: Alert) -> None:
        r = browser_for(owner).post(
            self.url(red_alert),
            {"alliance_bond": "7", "life_event": "perhaps", "action": "suggest"},
        )
        assert r.status_code == 400
        assert b"alliance_bond: a whole number from 0 to 4" in r.content
        assert b"life_event: one of yes, no, unsure" in r.content

    def test_the_owner_saves_an_edited_suggestion(
        self, owner: User, red_alert: Alert, client_record: Client
    ) -> None:
        r = browser_for(owner).post(
            self.url(red_alert),
            {
                **REVIEW_POST,
                "action": "save",
                "use": ["alliance_low"],
                "text_alliance_low": "Next session: ask what has not fitted, and listen.",
                "reason_alliance_low": "Alliance 1.75 and a quiet client.",
                "text_homework_low": "unused",
                "reason_homework_low": "unused",
            },
        )
        assert r.status_code == 302 and r["Location"] == self.url(red_alert)
        adaptation = Adaptation.objects.get()
        assert adaptation.text == "Next session: ask what has not fitted, and listen."
        assert (adaptation.rule, adaptation.reason) == (
            "alliance_low",
            "Alliance 1.75 and a quiet client.",
        )
        red_alert.refresh_from_db()
        assert not red_alert.is_open
        html = browser_for(owner).get(self.url(red_alert)).content.decode()
        assert f"Support review {adaptation.review_id}" in html
        assert "Next session: ask what has not fitted, and listen." in html
        assert "has not been measured since the review (it was 1.75 before)" in html

    def test_a_save_with_problems_keeps_what_was_typed(self, owner: User, red_alert: Alert) -> None:
        r = browser_for(owner).post(
            self.url(red_alert),
            {
                **REVIEW_POST,
                "action": "save",
                "use": ["alliance_low"],
                "text_alliance_low": "My edited words",
                "reason_alliance_low": "",
            },
        )
        assert r.status_code == 400
        html = r.content.decode()
        assert "“The working relationship is strained”: say why (the reason is empty)" in html
        assert "My edited words" in html
        assert SupportReview.objects.count() == 0

    def test_the_colleague_may_not_save(self, colleague: User, red_alert: Alert) -> None:
        r = browser_for(colleague).post(
            self.url(red_alert), {**REVIEW_POST, "action": "save", "notes": "x"}
        )
        assert r.status_code == 403
        red_alert.refresh_from_db()
        assert red_alert.is_open

    def test_resolving_a_red_alert_on_the_client_page_leads_to_the_review(
        self, owner: User, red_alert: Alert
    ) -> None:
        r = browser_for(owner).post(f"/alerts/{red_alert.pk}/resolve/", {"resolution": "done"})
        assert r.status_code == 302 and r["Location"] == self.url(red_alert)
        red_alert.refresh_from_db()
        assert red_alert.is_open


class TestQuestionnairePage:
    def url(self, alert: Alert) -> str:
        return f"/alerts/{alert.pk}/review/questionnaire/"

    def test_it_shows_the_owner_the_link_once(
        self, owner: User, red_alert: Alert, client_record: Client
    ) -> None:
        r = browser_for(owner).post(self.url(red_alert))
        assert r.status_code == 200
        html = r.content.decode()
        assert "http://testserver/c/" in html and "QR code of the questionnaire link" in html
        checkin = CheckIn.objects.get()
        assert f"/checkins/{checkin.pk}/" in html
        assert "review.questionnaire" in actions(client_record)
        again = browser_for(owner).get(f"/alerts/{red_alert.pk}/review/").content.decode()
        assert "http://testserver/c/" not in again and "Questionnaire sent" in again

    def test_it_refuses_the_colleague(self, colleague: User, red_alert: Alert) -> None:
        assert browser_for(colleague).post(self.url(red_alert)).status_code == 403
        assert CheckIn.objects.count() == 0

    @pytest.mark.parametrize("person", ["teammate", "outsider"])
    def test_it_validates_ownership(
        self, person: str, red_alert: Alert, request: pytest.FixtureRequest
    ) -> None:
        r = browser_for(request.getfixturevalue(person)).post(self.url(red_alert))
        assert r.status_code == 404

    def test_it_sends_anonymous_to_login(self, red_alert: Alert) -> None:
        assert browser_for(None).post(self.url(red_alert)).status_code == 302

    def test_it_is_post_only(self, owner: User, red_alert: Alert) -> None:
        assert browser_for(owner).get(self.url(red_alert)).status_code == 405


# ====================================================================== other pages


class TestClientPage:
    def test_an_open_red_alert_links_to_its_review(self, owner: User, red_alert: Alert) -> None:
        html = browser_for(owner).get(f"/clients/{red_alert.episode.client_id}/").content.decode()
        assert f'href="/alerts/{red_alert.pk}/review/">Open the support review' in html
        assert f"resolution-{red_alert.pk}" not in html  # no free-text resolve for red alerts

    def test_a_risk_alert_keeps_the_simple_resolve(self, owner: User, risk_alert: Alert) -> None:
        html = browser_for(owner).get(f"/clients/{risk_alert.episode.client_id}/").content.decode()
        assert f'id="resolution-{risk_alert.pk}"' in html

    def test_the_resolved_alert_shows_its_review_and_the_closed_loop(
        self, owner: User, colleague: User, red_alert: Alert, client_record: Client
    ) -> None:
        review = services.save_review(
            red_alert, owner, {"alliance_bond": 1}, chosen=[Chosen("alliance_low", "t", "r")]
        )
        session(client_record, 3, phq9=phq9(4), cf_alliance=alliance(3, 3, 3, 3))
        for person in (owner, colleague):
            html = browser_for(person).get(f"/clients/{client_record.pk}/").content.decode()
            assert f"Support review {review.pk}</a>" in html
            assert "Alliance (practice) improved: 1.75 before the review, 3 at session 3" in html
            assert "The PHQ-9 signal is back on track (it was red at the review)." in html


class TestAdaptationLog:
    def render(self, user: User | None, episode: Any) -> str:
        request = RequestFactory().get("/")
        request.user = user  # type: ignore[assignment]
        template = Template("{% load reviews_tags %}{% adaptation_log episode %}")
        return template.render(Context({"request": request, "episode": episode}))

    def test_it_lists_the_episodes_adaptations_with_their_reason_and_alert(
        self, owner: User, red_alert: Alert, client_record: Client
    ) -> None:
        services.save_review(
            red_alert,
            owner,
            {"alliance_bond": 1},
            chosen=[Chosen("alliance_low", "Talk about the work together.", "Alliance low")],
            own=[Chosen("own", "Shorter homework.", "Too much last time")],
        )
        html = self.render(owner, red_alert.episode)
        assert "Adaptation log" in html
        assert "Talk about the work together." in html and "rule alliance_low" in html
        assert "Shorter homework." in html and "own words" in html
        assert f'href="/alerts/{red_alert.pk}/review/"' in html
        event = AuditEvent.objects.filter(action="adaptation.log.view").get()
        assert event.client == client_record and len(event.detail["adaptations"]) == 2

    def test_an_episode_without_adaptations(self, owner: User, client_record: Client) -> None:
        assert "No adaptations yet" in self.render(owner, client_record.episodes.get())

    def test_the_treatment_plan_shows_the_log(
        self, owner: User, colleague: User, red_alert: Alert, client_record: Client
    ) -> None:
        services.save_review(
            red_alert,
            owner,
            {"alliance_bond": 1},
            chosen=[Chosen("alliance_low", "Talk about the work together.", "Alliance low")],
        )
        for person in (owner, colleague):
            html = browser_for(person).get(f"/clients/{client_record.pk}/plan/").content.decode()
            assert "Adaptation log" in html and "Talk about the work together." in html


# ====================================================================== the demo


def test_the_demo_has_completed_reviews_and_an_open_red_alert_to_review() -> None:
    from io import StringIO

    from django.core.management import call_command

    call_command("seed_demo", stdout=StringIO())
    reviews = list(SupportReview.objects.order_by("pk"))
    assert len(reviews) >= 2
    assert Adaptation.objects.filter(review__in=reviews).exists()
    assert all(
        not r.alert.is_open and r.alert.resolution.startswith("Support review") for r in reviews
    )
    therapist1 = User.objects.get(username="therapist1")
    assert (
        Alert.objects.open()
        .filter(kind=AlertKind.NOT_ON_TRACK, episode__therapist=therapist1)
        .exists()
    )
    loop = services.closed_loop(reviews[0])
    assert loop.judgements_after == 1 and loop.factor_verdict != "not measured since"
    html = browser_for(therapist1).get("/alerts/").content.decode()
    assert "Open the support review" in html
