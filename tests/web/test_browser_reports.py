"""A progress report in a real browser: Olivia opens her client's page, follows
"Progress report (PDF)", chooses a referrer's copy and downloads the PDF, which holds the
client's code and scores and leaves the client's journal out. Screenshots under
``test-artifacts/reports-*``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from commonfactors_web.accounts.models import User
from commonfactors_web.audit.models import AuditEvent
from commonfactors_web.clients.models import Client

from .browser import DESKTOP, Person, log_in
from .test_reports import JOURNAL, make_history, pdf_text

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_therapist_downloads_a_progress_report(
    chromium: Any, live_server: Any, owner: User, client_record: Client, tmp_path: Path
) -> None:
    test = "reports"
    make_history(client_record, owner)
    therapist = Person(chromium, live_server.url, "therapist", **DESKTOP)
    log_in(therapist, "olivia")
    page = therapist.page
    page.goto(f"/clients/{client_record.pk}/")
    therapist.shot(test, "1-client-page")
    page.get_by_role("link", name="Progress report (PDF)").click()
    page.get_by_role("heading", name="Progress report").wait_for()
    assert page.get_by_role("radio", name="The client").first.is_checked()
    therapist.shot(test, "2-options")

    page.get_by_role("radio", name="A referrer").check()
    with page.expect_download() as caught:
        page.get_by_role("button", name="Download the PDF").click()
    download = caught.value
    assert download.suggested_filename.startswith("progress-report-c-0001-referrer-")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    pages, text = pdf_text(saved.read_bytes())
    assert pages >= 2 and "C-0001" in text and "SYNTHETIC" in text and "20" in text
    assert JOURNAL not in text
    therapist.shot(test, "3-after-download")
    assert AuditEvent.objects.filter(action="report.download", actor=owner).count() == 1
    assert therapist.csp_violations() == []
    therapist.close()
