"""An export in a real browser: Olivia opens Exports, is told what is wrong with a period
that ends before it starts, then downloads her clients' tables as a CSV zip, which holds
her client's records under a pseudonym and nothing that names the client. Screenshots
under ``test-artifacts/exports-*``."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from commonfactors_web.accounts.models import User
from commonfactors_web.audit.models import AuditEvent
from commonfactors_web.checkins.models import MeasurementPlan

from .browser import DESKTOP, Person, log_in
from .test_exports import SECRETS, make_history, pid

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_therapist_downloads_her_clients_tables(
    chromium: Any, live_server: Any, owner: User, plan: MeasurementPlan, tmp_path: Path
) -> None:
    test = "exports"
    client = make_history(owner, plan)
    therapist = Person(chromium, live_server.url, "therapist", **DESKTOP)
    log_in(therapist, "olivia")
    page = therapist.page
    page.get_by_role("link", name="Exports").click()
    page.get_by_role("heading", name="Export data").wait_for()
    assert page.get_by_role("radio", name="My clients").is_checked()
    therapist.shot(test, "1-form")

    page.get_by_label("From", exact=True).fill("2024-05-02")
    page.get_by_label("To", exact=True).fill("2024-05-01")
    page.get_by_role("button", name="Download the export").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "The period ends (2024-05-01) before it starts (2024-05-02)." in alert.inner_text()
    therapist.shot(test, "2-period-refused")

    page.get_by_label("From", exact=True).fill("")
    page.get_by_label("To", exact=True).fill("")
    page.get_by_role("radio", name="CSV tables (zip)").check()
    with page.expect_download() as caught:
        page.get_by_role("button", name="Download the export").click()
    download = caught.value
    assert download.suggested_filename.startswith("commonfactors-export-mine-")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    with zipfile.ZipFile(saved) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    assert sorted(files) == [
        "answers.csv",
        "episodes.csv",
        "manifest.json",
        "scores.csv",
        "sessions.csv",
    ]
    scores = pl.read_csv(io.BytesIO(files["scores.csv"]))
    assert scores.height == 5 and set(scores.get_column("client_id")) == {pid(client)}
    episodes = pl.read_csv(io.BytesIO(files["episodes.csv"]))
    assert episodes.get_column("reliable_change").to_list() == ["improved"]
    text = "".join(content.decode("utf-8") for content in files.values())
    assert not [secret for secret in SECRETS if secret in text]

    page.goto("/exports/")
    recent = page.get_by_role("table")
    assert "CSV tables (zip)" in recent.inner_text() and "My clients" in recent.inner_text()
    therapist.shot(test, "3-after-download")
    assert AuditEvent.objects.filter(action="export.create", actor=owner).count() == 1
    assert therapist.csp_violations() == []
    therapist.close()
