"""The client progress report: a PDF made from the same records as the client page, for
the client (plain words) or a referrer (clinical words, the client's own words only when
ticked). Tested by rendering its HTML and by reading the PDF's text and pages back."""

from __future__ import annotations

import io
import re
import sys
import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone
from pypdf import PdfReader

from commonfactors_web.accounts.models import Role, User
from commonfactors_web.accounts.services import create_practice, create_team, create_user
from commonfactors_web.audit.models import AuditEvent
from commonfactors_web.checkins.services import record_past_session
from commonfactors_web.clients.models import Attendance, Client, Episode, EpisodeStatus
from commonfactors_web.clients.services import end_episode
from commonfactors_web.homework.services import create_link, save_journal
from commonfactors_web.plans import services as plans
from commonfactors_web.reports import services
from commonfactors_web.reports.apps import pdf_engine_check

from .helpers import browser_for

pytestmark = pytest.mark.django_db

PHQ9 = [20, 18, 16, 13, 11]
GAD7 = [15, 14, 12, 10, 8]
ALLIANCE = [4, 4, 4, 2, 4]  # a drop of 2 below a steady 4: a rupture at session 4
JOURNAL = "Walked to the river with my sister on Sunday"
PRIVATE_JOURNAL = "Nobody should read this one"
IDENTITY = "Second-generation; family from Lahore"


def phq9(total: int) -> dict[str, int]:
    items = [min(3, max(0, total - 3 * i)) for i in range(8)] + [0]
    return {f"phq9_{i + 1}": v for i, v in enumerate(items)}


def gad7(total: int) -> dict[str, int]:
    return {f"gad7_{i + 1}": min(3, max(0, total - 3 * i)) for i in range(7)}


@pytest.fixture
def episode(client_record: Client, owner: User) -> Episode:
    return make_history(client_record, owner)


def make_history(client: Client, owner: User) -> Episode:
    """Five sessions of PHQ-9, GAD-7 and goal ratings, a plan with a cultural formulation,
    and one shared and one private journal entry."""
    episode = client.episodes.get()
    episode.started_on = timezone.localdate() - timedelta(days=60)
    episode.save(update_fields=["started_on"])
    earlier = timezone.now() - timedelta(days=50)
    plans.update_plan(episode, owner, {"modality": "CBT", "cultural_identity": IDENTITY})
    plans.add_goal(episode, owner, "Go out with friends again", episode.started_on, now=earlier)
    for n in range(1, 6):
        record_past_session(
            episode,
            n,
            date(2025, 1, 6) + timedelta(weeks=n - 1),
            Attendance.ATTENDED,
            {
                "phq9": {"answers": phq9(PHQ9[n - 1])},
                "gad7": {"answers": gad7(GAD7[n - 1])},
                "cf_alliance": {
                    "answers": {f"cf_alliance_{i}": ALLIANCE[n - 1] for i in range(1, 5)}
                },
                "goals": {
                    "answers": {"goals_1": n + 1, "goals_2": None, "goals_3": None},
                    "answered_at": (earlier + timedelta(days=n)).isoformat(),
                },
            },
        )
    link = create_link(episode, owner).link
    save_journal(link, uuid.uuid4(), JOURNAL, shared=True)
    save_journal(link, uuid.uuid4(), PRIVATE_JOURNAL, shared=False)
    return episode


def pdf_text(content: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return len(reader.pages), " ".join(text.split())


def download(user: User | None, client: Client, **options: Any) -> Any:
    return browser_for(user).get(f"/clients/{client.pk}/report/", options)


# ------------------------------------------------------------------ what the report shows


class TestTheReport:
    def test_the_html_has_the_charts_scores_profile_and_goals(
        self, client_record: Client, episode: Episode
    ) -> None:
        html = services.report_html(client_record, audience="referrer")
        assert html.count("<svg") == 2  # PHQ-9 and GAD-7, the charts of the client page
        assert "<script" not in html and "<link" not in html  # self-contained
        table = re.search(r"<caption>PHQ-9</caption>(.*?)</table>", html, re.S)
        assert table is not None
        assert re.findall(r"<td>(\d+)</td>\s*<td>", table.group(1))[:5] == [str(t) for t in PHQ9]
        assert "Common-factors profile" in html and "Alliance" in html
        assert "Go out with friends again" in html and "session 5: 6" in html
        assert "+4" in html  # the goal moved from 2 to 6

    def test_the_client_pdf_has_the_code_scores_model_label_and_own_words(
        self, client_record: Client, episode: Episode, owner: User
    ) -> None:
        report = services.client_report(owner, client_record, audience="client")
        pages, text = pdf_text(report.content)
        assert report.content.startswith(b"%PDF-")
        assert 2 <= pages <= 6, pages
        assert f"Page 1 of {pages}" in text
        assert "Your progress report" in text and "C-0001" in text
        assert f"Client C-0001 · confidential Page {pages} of {pages}" in text  # each footer
        assert "Goals Session" not in text  # goal ratings are in the goals section only
        assert "SYNTHETIC" in text  # the expected course's model says what it was fitted on
        for total in (20, 18, 16, 13, 11):
            assert f"{total} " in text
        assert "Changing as expected" in text or "Less change than expected" in text
        assert "Severity band" not in text  # plain words, not the referrer's
        assert JOURNAL in text and IDENTITY in text
        assert PRIVATE_JOURNAL not in text  # never shared with the therapist
        assert report.filename.startswith("progress-report-c-0001-client-")

    def test_the_referrer_pdf_leaves_out_the_clients_own_words(
        self, client_record: Client, episode: Episode, owner: User
    ) -> None:
        report = services.client_report(owner, client_record, audience="referrer")
        _, text = pdf_text(report.content)
        assert "Progress report" in text and "Severity band" in text and "SYNTHETIC" in text
        assert JOURNAL not in text and IDENTITY not in text
        assert "Cultural formulation" not in text

    def test_the_referrer_pdf_includes_them_when_ticked(
        self, client_record: Client, episode: Episode, owner: User
    ) -> None:
        report = services.client_report(
            owner, client_record, audience="referrer", include_private=True
        )
        _, text = pdf_text(report.content)
        assert JOURNAL in text and IDENTITY in text and "Cultural formulation" in text
        assert PRIVATE_JOURNAL not in text

    def test_a_client_without_scores_gets_a_short_honest_report(
        self, client_record: Client, owner: User
    ) -> None:
        pages, text = pdf_text(
            services.client_report(owner, client_record, audience="client").content
        )
        assert pages == 1 and "C-0001" in text and "No scores to draw yet" in text

    def test_an_alliance_rupture_is_named_for_a_referrer_only(
        self, client_record: Client, episode: Episode
    ) -> None:
        def signals(audience: str) -> list[str]:
            context = services.report_context(client_record, audience=audience)
            (alliance,) = [t for t in context["scores"] if t["name"].startswith("Alliance")]
            return [r["signal"] for r in alliance["rows"]]

        assert signals("referrer")[3] == "rupture"
        assert "rupture" not in signals("client") and signals("client")[3] == "—"

    def test_an_unknown_audience_is_refused_by_name(self, client_record: Client) -> None:
        with pytest.raises(services.ReportError, match="unknown audience 'press'"):
            services.report_html(client_record, audience="press")


# ------------------------------------------------------------------ the page and who may use it


class TestAccess:
    def test_the_owner_gets_the_options_then_the_pdf(
        self, client_record: Client, episode: Episode, owner: User
    ) -> None:
        page = download(owner, client_record)
        assert page.status_code == 200
        html = page.content.decode()
        assert "Download the PDF" in html and 'name="audience"' in html
        r = download(owner, client_record, audience="client")
        assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
        assert r["Content-Disposition"].startswith('attachment; filename="progress-report-')
        assert r["Cache-Control"] == "no-store"
        assert pdf_text(r.content)[1].count("C-0001") >= 1

    def test_the_client_page_links_to_the_report(self, client_record: Client, owner: User) -> None:
        html = browser_for(owner).get(f"/clients/{client_record.pk}/").content.decode()
        assert f'href="/clients/{client_record.pk}/report/">Progress report (PDF)</a>' in html

    def test_the_supervisor_may_download(
        self, client_record: Client, episode: Episode, colleague: User
    ) -> None:
        r = download(colleague, client_record, audience="referrer")
        assert r.status_code == 200 and r.content.startswith(b"%PDF-")

    @pytest.mark.parametrize("who", ["teammate", "outsider", "admin_user"])
    def test_everyone_else_finds_nothing(
        self, client_record: Client, who: str, request: pytest.FixtureRequest
    ) -> None:
        user = request.getfixturevalue(who)
        assert download(user, client_record).status_code == 404
        assert download(user, client_record, audience="client").status_code == 404
        assert not AuditEvent.objects.filter(action__startswith="report.").exists()

    def test_anonymous_is_sent_to_log_in(self, client_record: Client) -> None:
        r = download(None, client_record, audience="client")
        assert r.status_code == 302 and r["Location"].startswith("/accounts/login/")

    def test_a_bad_option_names_the_problem_and_makes_nothing(
        self, client_record: Client, owner: User
    ) -> None:
        r = download(owner, client_record, audience="press")
        assert r.status_code == 400
        assert "Who is the report for?" in r.content.decode()
        assert not AuditEvent.objects.filter(action="report.download").exists()

    def test_only_get_is_allowed(self, client_record: Client, owner: User) -> None:
        r = browser_for(owner).post(f"/clients/{client_record.pk}/report/", {"audience": "client"})
        assert r.status_code == 405

    def test_every_download_is_audited_with_its_options(
        self, client_record: Client, episode: Episode, owner: User, colleague: User
    ) -> None:
        download(owner, client_record)
        download(owner, client_record, audience="referrer", include_private="on")
        download(colleague, client_record, audience="client")
        events = AuditEvent.objects.filter(client=client_record, action__startswith="report.")
        got = [(e.actor, e.action, e.detail.get("audience"), e.detail.get("own_words"))
               for e in events.order_by("pk")]  # fmt: skip
        assert got == [
            (owner, "report.options", None, None),
            (owner, "report.download", "referrer", True),
            (colleague, "report.download", "client", True),
        ]
        assert all(JOURNAL not in str(e.detail) for e in events)  # no clinical text in the log


# ------------------------------------------------------------------ the practice report


@pytest.fixture
def ended(client_record: Client, episode: Episode, owner: User) -> Episode:
    """The five-session episode (6 Jan to 3 Feb 2025), finished in February 2025."""
    episode.started_on = date(2025, 1, 6)
    episode.save(update_fields=["started_on"])
    return end_episode(episode, owner, EpisodeStatus.FINISHED, date(2025, 2, 10))


def practice_pdf(user: User | None, **period: str) -> Any:
    return browser_for(user).get("/reports/practice/", {"period": "1", **period})


class TestPracticeReport:
    def test_the_supervisor_gets_the_teams_outcomes_with_intervals(
        self, ended: Episode, colleague: User
    ) -> None:
        r = practice_pdf(colleague)
        assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
        assert r["Content-Disposition"].startswith('attachment; filename="practice-report-')
        pages, text = pdf_text(r.content)
        assert pages >= 1 and "Riverside Practice · Team A · confidential" in text
        assert "Episodes finished 1 of 1 100 %" in text
        # PHQ-9 20 → 11 and GAD-7 15 → 8: reliable improvement, not recovery (PHQ-9 still ≥ 10)
        assert "Reliable improvement 1 of 1 100 %" in text
        assert "Recovery 0 of 1 0 %" in text
        assert "Feb 2025" in text and "5 of 5 attended sessions had a check-in" in text
        assert "C-0001" not in text  # clients are counted, never named
        # the therapist profiles as on the dashboard: one ended episode is too few
        assert "Therapist profiles" in text and "too few episodes for a profile" in text

    def test_a_period_without_endings_says_so(self, ended: Episode, colleague: User) -> None:
        _, text = pdf_text(practice_pdf(colleague, since="2025-03-01").content)
        assert "Episodes finished 0 of 0 — —" in text
        assert "No episodes ended in the period" in text

    def test_a_period_that_ends_before_it_starts_is_refused(self, colleague: User) -> None:
        r = practice_pdf(colleague, since="2025-03-01", until="2025-02-01")
        assert r.status_code == 400
        assert "The period ends (2025-02-01) before it starts (2025-03-01)." in r.content.decode()
        assert not AuditEvent.objects.filter(action="report.practice.download").exists()

    def test_a_supervisor_of_another_practice_sees_none_of_these_clients(
        self, ended: Episode
    ) -> None:
        other = create_practice("Hilltop Clinic")
        boss = create_user(
            "hilda", "a-long-test-password", role=Role.SUPERVISOR, practice=other,
            team=create_team(other, "B"),
        )  # fmt: skip
        _, text = pdf_text(practice_pdf(boss).content)
        assert "0 clients in the team's caseloads" in text
        assert "Episodes finished 0 of 0" in text

    @pytest.mark.parametrize("who", ["owner", "teammate", "outsider", "admin_user"])
    def test_it_is_for_supervisors_only(self, who: str, request: pytest.FixtureRequest) -> None:
        user = request.getfixturevalue(who)
        assert browser_for(user).get("/reports/practice/").status_code == 403
        assert practice_pdf(user).status_code == 403

    def test_anonymous_is_sent_to_log_in(self, db: None) -> None:
        r = practice_pdf(None)
        assert r.status_code == 302 and r["Location"].startswith("/accounts/login/")

    def test_each_download_is_audited_with_the_clients_it_covers(
        self, client_record: Client, ended: Episode, colleague: User
    ) -> None:
        assert browser_for(colleague).get("/reports/practice/").status_code == 200
        practice_pdf(colleague, until="2025-12-31")
        (event,) = AuditEvent.objects.filter(action="report.practice.download")
        assert event.actor == colleague
        assert event.detail == {
            "team": colleague.team_id,
            "since": None,
            "until": "2025-12-31",
            "clients": [client_record.pk],
        }


# ------------------------------------------------------------------ the PDF engine


def test_the_deploy_check_names_a_missing_pdf_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    assert pdf_engine_check() == []
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # as if it were not installed
    (error,) = pdf_engine_check()
    assert error.id == "commonfactors.E901" and "libpangoft2-1.0-0" in (error.hint or "")


def test_the_practice_report_of_the_demo_has_the_profiles_and_the_funnel_plot() -> None:
    from io import StringIO

    from django.core.management import call_command

    call_command("seed_demo", stdout=StringIO())
    supervisor = User.objects.get(username="supervisor")
    r = practice_pdf(supervisor)
    assert r.status_code == 200
    _, text = pdf_text(r.content)
    assert "Therapist profiles" in text and "ICC" in text
    for name in ("Theo Therapist", "Tara Therapist", "Toni Therapist"):
        assert name in text
    assert "Funnel plot" in text
