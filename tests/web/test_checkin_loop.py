"""The loop: the client answers one instrument at a time, the library checks every answer,
the last one stores everything in one transaction, and nothing is ever stored twice."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail

import commonfactors
from commonfactors_web.accounts.models import User
from commonfactors_web.alerts import services as alert_services
from commonfactors_web.alerts.models import Alert, AlertKind, Signal
from commonfactors_web.audit.models import AuditEvent
from commonfactors_web.checkins import services
from commonfactors_web.checkins.models import Administration, CheckIn, ImmutableRecordError, Score
from commonfactors_web.clients.models import Client, Session

from .helpers import GAD7_MODERATE, PHQ9_MILD, PHQ9_RISK, answer, browser_for, new_link
from .workers import run_queued_tasks

pytestmark = pytest.mark.django_db


def stored_counts() -> tuple[int, int, int, int]:
    return (
        Session.objects.count(),
        Administration.objects.count(),
        Score.objects.count(),
        Signal.objects.count(),
    )


class TestTheForm:
    def test_it_shows_one_instrument_at_a_time_with_progress(
        self, client_record: Client, owner: User
    ) -> None:
        link = new_link(client_record, owner, ["phq9", "gad7"])
        r = browser_for(None).get(f"/c/{link.token}/")
        html = r.content.decode()
        assert r.status_code == 200
        assert "Questionnaire 1 of 2" in html
        assert '<progress max="2" value="0"' in html
        assert "Little interest or pleasure in doing things" in html  # PHQ-9 text pack
        assert "GAD-7" not in html and "Feeling nervous" not in html
        assert html.count("<fieldset") == 9 and html.count("<legend>") == 9
        assert 'type="radio" name="phq9_1" value="0"' in html

    def test_it_shows_nothing_about_the_client(self, client_record: Client, owner: User) -> None:
        html = browser_for(None).get(f"/c/{new_link(client_record, owner).token}/").content.decode()
        assert "C-0001" not in html and "Olivia" not in html and "client@example.org" not in html
        assert "/clients/" not in html

    def test_it_moves_to_the_next_instrument(self, client_record: Client, owner: User) -> None:
        link = new_link(client_record, owner, ["phq9", "gad7"])
        browser = browser_for(None)
        r = answer(browser, link.token, "phq9", PHQ9_MILD)
        assert r.status_code == 302
        html = browser.get(f"/c/{link.token}/").content.decode()
        assert "Questionnaire 2 of 2" in html and "Send my answers" in html
        assert stored_counts() == (0, 0, 0, 0)  # nothing is stored before the last answer

    def test_it_refuses_answers_the_library_refuses(
        self, client_record: Client, owner: User
    ) -> None:
        link = new_link(client_record, owner, ["phq9"])
        bad = dict(PHQ9_MILD, phq9_4=9)
        r = answer(browser_for(None), link.token, "phq9", bad)
        assert r.status_code == 422
        assert "item 4 (phq9_4): 9 is not an allowed value" in r.content.decode()
        assert CheckIn.objects.get().used_at is None
        assert stored_counts() == (0, 0, 0, 0)

    def test_it_keeps_the_given_answers_when_refusing(
        self, client_record: Client, owner: User
    ) -> None:
        link = new_link(client_record, owner, ["phq9"])
        few = {"phq9_1": 2, "phq9_2": 1}
        html = answer(browser_for(None), link.token, "phq9", few).content.decode()
        assert "at most 2 may be missing" in html
        assert 'name="phq9_1" value="2" checked' in html


class TestSubmission:
    def submit(self, client: Client, owner: User) -> tuple[Any, str]:
        link = new_link(client, owner, ["phq9", "gad7"])
        browser = browser_for(None)
        answer(browser, link.token, "phq9", PHQ9_MILD)
        return answer(browser, link.token, "gad7", GAD7_MODERATE), link.token

    def test_it_stores_raw_answers_scores_and_signals(
        self, client_record: Client, owner: User
    ) -> None:
        r, _ = self.submit(client_record, owner)
        assert r.status_code == 302 and r["Location"] == "/c/done/"
        assert stored_counts() == (1, 2, 2, 2)
        phq9 = Administration.objects.get(instrument="phq9")
        assert phq9.answers == PHQ9_MILD
        assert (
            phq9.definition_version == commonfactors.default_registry().definition("phq9").version
        )
        assert phq9.session.number == 1 and phq9.checkin is not None
        expected = commonfactors.score("phq9", PHQ9_MILD)
        assert phq9.score.total == expected.total == 8
        assert phq9.score.band == expected.band
        assert phq9.score.rules == dict(expected.rules)
        assert (
            Score.objects.get(instrument="gad7").total
            == commonfactors.score("gad7", GAD7_MODERATE).total
        )

    def test_a_repeated_submit_stores_nothing_twice(
        self, client_record: Client, owner: User
    ) -> None:
        link = new_link(client_record, owner, ["phq9"])
        browser = browser_for(None)
        first = answer(browser, link.token, "phq9", PHQ9_MILD)
        again = answer(browser, link.token, "phq9", PHQ9_MILD)
        assert first["Location"] == again["Location"] == "/c/done/"
        assert stored_counts() == (1, 1, 1, 1)
        assert AuditEvent.objects.filter(action="checkin.submit").count() == 1

    def test_a_repeated_submit_from_elsewhere_sees_the_plain_page(
        self, client_record: Client, owner: User
    ) -> None:
        link = new_link(client_record, owner, ["phq9"])
        answer(browser_for(None), link.token, "phq9", PHQ9_MILD)
        r = answer(browser_for(None), link.token, "phq9", PHQ9_MILD)
        assert r.status_code == 404
        assert stored_counts() == (1, 1, 1, 1)

    def test_a_refreshed_step_stores_nothing_twice(
        self, client_record: Client, owner: User
    ) -> None:
        link = new_link(client_record, owner, ["phq9", "gad7"])
        browser = browser_for(None)
        answer(browser, link.token, "phq9", PHQ9_MILD)
        r = answer(browser, link.token, "phq9", dict(PHQ9_MILD, phq9_1=3))  # the back button
        assert r.status_code == 302
        answer(browser, link.token, "gad7", GAD7_MODERATE)
        assert Administration.objects.get(instrument="phq9").answers == PHQ9_MILD

    def test_the_service_submits_once_when_called_twice(
        self, client_record: Client, owner: User
    ) -> None:
        checkin = new_link(client_record, owner, ["phq9"]).checkin
        first = services.answer(checkin.pk, "phq9", PHQ9_MILD)
        second = services.answer(checkin.pk, "phq9", PHQ9_MILD)
        assert (first.status, second.status) == ("submitted", "gone")
        assert stored_counts() == (1, 1, 1, 1)

    def test_everything_is_one_transaction(
        self, client_record: Client, owner: User, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def broken(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("evaluation failed")

        link = new_link(client_record, owner, ["phq9"])
        monkeypatch.setattr(alert_services, "evaluate_episode", broken)
        with pytest.raises(RuntimeError):
            services.answer(link.checkin.pk, "phq9", PHQ9_MILD)
        assert stored_counts() == (0, 0, 0, 0)
        assert CheckIn.objects.get().used_at is None  # the client can try again
        monkeypatch.undo()
        assert services.answer(link.checkin.pk, "phq9", PHQ9_MILD).status == "submitted"
        assert stored_counts() == (1, 1, 1, 1)

    def test_raw_answers_and_scores_are_never_edited(
        self, client_record: Client, owner: User
    ) -> None:
        self.submit(client_record, owner)
        administration = Administration.objects.get(instrument="phq9")
        administration.answers = {"phq9_1": 3}
        with pytest.raises(ImmutableRecordError):
            administration.save()
        with pytest.raises(ImmutableRecordError):
            administration.score.save()

    def test_it_audits_the_client_reading_and_writing(
        self, client_record: Client, owner: User
    ) -> None:
        self.submit(client_record, owner)
        actions = list(
            AuditEvent.objects.filter(client=client_record).values_list("action", flat=True)
        )
        for action in ("checkin.create", "checkin.answer", "checkin.submit"):
            assert action in actions


class TestEvaluation:
    def history(self, client: Client, owner: User, totals: list[list[int]]) -> None:
        """One check-in per session, PHQ-9 only, answers given as nine item values."""
        for items in totals:
            checkin = new_link(client, owner, ["phq9"]).checkin
            result = services.answer(
                checkin.pk, "phq9", {f"phq9_{i + 1}": v for i, v in enumerate(items)}
            )
            assert result.status == "submitted"

    def test_it_judges_change_since_intake_by_the_library(
        self, client_record: Client, owner: User
    ) -> None:
        self.history(
            client_record, owner, [[2, 2, 2, 2, 2, 2, 2, 2, 0], [1, 1, 1, 1, 1, 1, 1, 1, 0]]
        )
        latest = Signal.objects.get(session_number=2)
        rc = commonfactors_change(16, 8)
        assert (latest.intake, latest.score) == (16, 8)
        assert latest.change == rc.change == -8
        assert latest.change_category == rc.category == "improved"
        assert latest.status == "on_track"
        assert "SYNTHETIC" in latest.model_label

    def test_it_raises_a_not_on_track_alert_once(self, client_record: Client, owner: User) -> None:
        worse = [
            [1, 1, 1, 1, 1, 1, 1, 1, 0],
            [3, 3, 2, 2, 2, 2, 2, 2, 0],
            [3, 3, 3, 3, 2, 2, 2, 2, 0],
        ]
        self.history(client_record, owner, worse)
        assert [s.status for s in Signal.objects.order_by("session_number")] == ["", "red", "red"]
        alerts = Alert.objects.filter(kind=AlertKind.NOT_ON_TRACK)
        assert alerts.count() == 1  # still open: no second alert
        assert alerts.get().evidence["reasons"]

    def test_the_caseload_shows_the_latest_score_and_change(
        self, client_record: Client, owner: User
    ) -> None:
        self.history(
            client_record, owner, [[2, 2, 2, 2, 2, 2, 2, 2, 0], [1, 1, 1, 1, 1, 1, 1, 1, 0]]
        )
        html = browser_for(owner).get("/clients/").content.decode()
        assert '8 <span class="muted">mild</span>' in html
        assert '-8 <span class="muted">improved</span>' in html
        assert "On track" in html
        assert "SYNTHETIC reference data" in html

    def test_the_client_page_shows_the_history_and_how_it_was_computed(
        self, client_record: Client, owner: User
    ) -> None:
        self.history(
            client_record, owner, [[2, 2, 2, 2, 2, 2, 2, 2, 0], [1, 1, 1, 1, 1, 1, 1, 1, 0]]
        )
        html = browser_for(owner).get(f"/clients/{client_record.pk}/").content.decode()
        assert "PHQ-9" in html and "moderate" in html and "mild" in html
        assert "Model: SYNTHETIC reference data" in html
        assert "reliable change is a change of 6 or more points" in html


def commonfactors_change(pre: float, post: float) -> Any:
    from commonfactors.change import reliable_change

    return reliable_change("phq9", pre, post)


class TestRiskPath:
    def test_the_client_sees_crisis_information_at_once(
        self, client_record: Client, owner: User
    ) -> None:
        link = new_link(client_record, owner, ["phq9", "gad7"])
        browser = browser_for(None)
        answer(browser, link.token, "phq9", PHQ9_RISK)
        html = browser.get(f"/c/{link.token}/").content.decode()
        assert "If you need help now" in html and "emergency" in html
        done = browser.get(answer(browser, link.token, "gad7", GAD7_MODERATE)["Location"])
        assert "If you need help now" in done.content.decode()

    def test_the_practice_text_replaces_the_default(
        self, client_record: Client, owner: User
    ) -> None:
        practice = client_record.practice
        practice.crisis_text = "Call the Riverside duty line: 0123 456789."
        practice.save()
        link = new_link(client_record, owner, ["phq9"])
        browser = browser_for(None)
        done = browser.get(answer(browser, link.token, "phq9", PHQ9_RISK)["Location"])
        assert "Riverside duty line" in done.content.decode()

    def test_it_raises_an_alert_that_stays_open(self, client_record: Client, owner: User) -> None:
        link = new_link(client_record, owner, ["phq9", "gad7"])
        browser = browser_for(None)
        answer(browser, link.token, "phq9", PHQ9_RISK)
        alert = Alert.objects.get(kind=AlertKind.RISK)  # already at the first step
        assert alert.is_open and alert.evidence["risk_items"] == ["phq9_9"]
        answer(browser, link.token, "gad7", GAD7_MODERATE)
        alert = Alert.objects.get(kind=AlertKind.RISK)  # still exactly one
        assert alert.session_number == 1 and alert.is_open
        html = browser_for(owner).get(f"/clients/{client_record.pk}/").content.decode()
        assert "Risk answer" in html and "phq9_9" in html

    def test_it_emails_the_therapist_without_clinical_detail(
        self, client_record: Client, owner: User, django_capture_on_commit_callbacks: Any
    ) -> None:
        link = new_link(client_record, owner, ["phq9"])
        with django_capture_on_commit_callbacks(execute=True):
            answer(browser_for(None), link.token, "phq9", PHQ9_RISK)
        assert mail.outbox == []  # not in the client's request: the worker sends it
        run_queued_tasks()
        assert len(mail.outbox) == 1
        message = mail.outbox[0]
        assert message.to == ["olivia@example.org"]
        assert "C-0001" in message.subject and f"/clients/{client_record.pk}/" in message.body
        assert "phq9_9" not in message.body and "Thoughts" not in message.body

    def test_it_is_audited(self, client_record: Client, owner: User) -> None:
        link = new_link(client_record, owner, ["phq9"])
        answer(browser_for(None), link.token, "phq9", PHQ9_RISK)
        event = AuditEvent.objects.get(action="risk.answer")
        assert event.client == client_record and event.detail["risk_items"] == ["phq9_9"]

    def test_a_risk_answer_in_refused_answers_is_not_lost(
        self, client_record: Client, owner: User
    ) -> None:
        link = new_link(client_record, owner, ["phq9"])
        r = answer(browser_for(None), link.token, "phq9", {"phq9_9": 3})  # 8 items missing
        assert r.status_code == 422
        assert "If you need help now" in r.content.decode()
        alert = Alert.objects.get(kind=AlertKind.RISK)
        assert alert.evidence["refused_answers"] is True
        assert stored_counts() == (0, 0, 0, 0)

    def test_the_alert_stays_until_a_person_resolves_it(
        self, client_record: Client, owner: User
    ) -> None:
        link = new_link(client_record, owner, ["phq9"])
        answer(browser_for(None), link.token, "phq9", PHQ9_RISK)
        alert = Alert.objects.get()
        with pytest.raises(ValueError, match="say why"):
            alert_services.resolve(alert, owner, "")
        alert_services.resolve(alert, owner, "Phoned the client; safety plan in place.")
        alert.refresh_from_db()
        assert (alert.resolved_by, alert.is_open) == (owner, False)
        assert AuditEvent.objects.filter(action="alert.resolve", client=client_record).exists()
