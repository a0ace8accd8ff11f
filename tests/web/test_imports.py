"""Imports: the dry-run, all-or-nothing, idempotent re-import, access and the round trip."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError

from commonfactors_web.accounts.models import User
from commonfactors_web.audit.models import AuditEvent
from commonfactors_web.checkins.models import Administration, Score
from commonfactors_web.clients.models import Client, Episode, Session
from commonfactors_web.exports import services as exports
from commonfactors_web.imports import services
from commonfactors_web.imports.models import PendingImport

from .helpers import browser_for

pytestmark = pytest.mark.django_db

HEADER = "client_code,started_on,session,date,instrument,item,value\n"


def _rows(code: str, session: int, day: str, values: list[int]) -> str:
    return "".join(
        f"{code},2025-01-06,{session},{day},phq9,phq9_{i},{v}\n"
        for i, v in enumerate(values, start=1)
    )


GOOD = (
    HEADER
    + _rows("H-1", 1, "2025-01-06", [2] * 8 + [0])
    + _rows("H-1", 2, "2025-01-13", [1] * 8 + [0])
    + _rows("H-2", 1, "2025-01-08", [3] * 8 + [0])
).encode()


def _counts() -> tuple[int, int, int, int]:
    return (
        Client.objects.count(),
        Episode.objects.count(),
        Session.objects.count(),
        Administration.objects.count(),
    )


def test_dry_run_reports_and_writes_nothing(owner: User) -> None:
    before = _counts()
    report = services.dry_run({"h.csv": GOOD}, owner, owner)
    assert report.ok
    assert report.new == {"clients": 2, "episodes": 2, "sessions": 3, "administrations": 3}
    assert _counts() == before
    assert AuditEvent.objects.filter(action="import.dry_run").count() == 1


def test_import_scores_by_the_library_and_reimport_changes_nothing(owner: User) -> None:
    report = services.run_import({"h.csv": GOOD}, owner, owner)
    assert report.new["sessions"] == 3
    client = Client.objects.get(code="H-1")
    assert client.therapist == owner
    totals = list(
        Score.objects.filter(administration__session__episode__client=client)
        .order_by("administration__session__number")
        .values_list("total", flat=True)
    )
    assert totals == [16, 8]
    after = _counts()
    again = services.run_import({"h.csv": GOOD}, owner, owner)
    assert _counts() == after
    assert again.new == {"clients": 0, "episodes": 0, "sessions": 0, "administrations": 0}
    assert again.present == {"clients": 2, "episodes": 2, "sessions": 3, "administrations": 3}
    assert AuditEvent.objects.filter(action="import.run").count() == 2


def test_a_conflicting_reimport_is_a_problem_never_an_overwrite(owner: User) -> None:
    services.run_import({"h.csv": GOOD}, owner, owner)
    changed = GOOD.replace(
        b"H-1,2025-01-06,2,2025-01-13,phq9,phq9_1,1", b"H-1,2025-01-06,2,2025-01-13,phq9,phq9_1,3"
    )
    before = _counts()
    with pytest.raises(services.ImportRefusedError) as exc:
        services.run_import({"h.csv": changed}, owner, owner)
    (problem,) = exc.value.problems
    assert "client H-1, episode started 2025-01-06, session 2: already present" in problem
    assert "other answers to phq9" in problem
    assert _counts() == before
    answers = Administration.objects.get(session__number=2, session__episode__client__code="H-1")
    assert answers.answers["phq9_1"] == 1


def test_all_or_nothing_with_a_bad_row_at_the_end(owner: User) -> None:
    bad = GOOD + b"H-3,2025-01-06,1,2025-01-06,phq9,phq9_1,9\n"
    before = _counts()
    with pytest.raises(services.ImportRefusedError) as exc:
        services.run_import({"h.csv": bad}, owner, owner)
    assert any(p.startswith("h.csv, row 29: H-3 session 1 phq9") for p in exc.value.problems)
    assert _counts() == before
    assert not AuditEvent.objects.filter(action__in=["import.run", "client.create"]).exists()


def test_a_code_of_another_therapists_client_is_refused(owner: User, teammate: User) -> None:
    services.run_import({"h.csv": GOOD}, teammate, teammate)
    report = services.dry_run({"h.csv": GOOD}, owner, owner)
    assert "client H-1: the code is used in the practice by a client of another therapist" in (
        report.problems
    )


def test_round_trip_export_then_import_into_an_empty_practice(owner: User, outsider: User) -> None:
    services.run_import({"h.csv": GOOD}, owner, owner)
    export = exports.export_for(owner, scope="mine", fmt="csv")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, data in export.files.items():
            z.writestr(name, data)

    def totals(therapist: User) -> list[float]:
        return sorted(
            Score.objects.filter(administration__session__episode__therapist=therapist).values_list(
                "total", flat=True
            )
        )

    report = services.run_import({"export.zip": buffer.getvalue()}, outsider, outsider)
    assert report.new["administrations"] == 3
    assert totals(outsider) == totals(owner) == [8, 16, 24]


def test_command_line_dry_run_and_import(owner: User, tmp_path: object) -> None:
    path = tmp_path / "h.csv"  # type: ignore[operator]
    path.write_bytes(GOOD)
    out = io.StringIO()
    call_command("import_history", str(path), "--therapist", "olivia", "--dry-run", stdout=out)
    assert "sessions: 3 new, 0 already present" in out.getvalue()
    assert Session.objects.count() == 0
    call_command("import_history", str(path), "--therapist", "olivia", stdout=io.StringIO())
    assert Session.objects.count() == 3
    bad = tmp_path / "bad.csv"  # type: ignore[operator]
    bad.write_bytes(HEADER.encode() + b"H-9,2025-01-06,1,2025-01-06,phq9,phq9_1,x\n")
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command(
            "import_history",
            str(bad),
            "--therapist",
            "olivia",
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )


# -- the pages and who may use them


def _upload(browser: object, data: bytes = GOOD, **extra: object) -> object:
    return browser.post(  # type: ignore[attr-defined]
        "/imports/", {"file": SimpleUploadedFile("h.csv", data, "text/csv"), **extra}
    )


def test_owner_uploads_sees_the_dry_run_and_confirms(owner: User) -> None:
    browser = browser_for(owner)
    assert browser.get("/imports/").status_code == 200
    response = _upload(browser)
    assert response.status_code == 302
    report_url = response["Location"]
    page = browser.get(report_url)
    assert page.status_code == 200
    assert b"Dry-run report" in page.content and b"Confirm the import" in page.content
    assert Session.objects.count() == 0
    done = browser.post(report_url)
    assert done.status_code == 200 and b"Imported" in done.content
    assert Session.objects.count() == 3
    assert not PendingImport.objects.exists()


def test_problems_are_listed_and_confirm_is_refused(owner: User) -> None:
    browser = browser_for(owner)
    url = _upload(browser, GOOD + b"H-3,2025-01-06,1,2025-01-06,phq9,phq9_1,9\n")["Location"]
    page = browser.get(url)
    assert b"row 29" in page.content and b"Confirm the import" not in page.content
    assert browser.post(url).status_code == 400
    assert Session.objects.count() == 0


def test_others_cannot_see_or_confirm_the_owners_upload(
    owner: User, colleague: User, teammate: User, outsider: User
) -> None:
    url = _upload(browser_for(owner))["Location"]
    assert browser_for(colleague).get("/imports/").status_code == 403
    assert browser_for(colleague).post(url).status_code == 403
    for person in (teammate, outsider):
        assert browser_for(person).get(url).status_code == 404
        assert browser_for(person).post(url).status_code == 404
    anonymous = browser_for(None).get(url)
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]
    assert browser_for(None).get("/imports/").status_code == 302
    assert Session.objects.count() == 0


def test_admin_imports_into_a_chosen_therapist_of_the_practice(
    admin_user: User, owner: User, outsider: User
) -> None:
    browser = browser_for(admin_user)
    assert b"Into the caseload of" in browser.get("/imports/").content
    refused = _upload(browser, therapist=outsider.pk)
    assert refused.status_code == 400
    url = _upload(browser, therapist=owner.pk)["Location"]
    browser.post(url)
    assert set(Client.objects.values_list("therapist__username", flat=True)) == {"olivia"}


def test_round_trip_through_fhir_gives_the_same_scores(owner: User, outsider: User) -> None:
    services.run_import({"h.csv": GOOD}, owner, owner)
    export = exports.export_for(owner, scope="mine", fmt="fhir")
    files = {**export.files, "manifest.json": json.dumps(export.manifest).encode()}
    report = services.run_import(files, outsider, outsider)  # the manifest is skipped
    assert report.new == {"clients": 2, "episodes": 2, "sessions": 3, "administrations": 3}
    mine = Score.objects.filter(administration__session__episode__therapist=owner)
    theirs = Score.objects.filter(administration__session__episode__therapist=outsider)
    assert sorted(theirs.values_list("total", flat=True)) == sorted(
        mine.values_list("total", flat=True)
    )
    again = services.run_import(files, outsider, outsider)
    assert again.new["sessions"] == 0 and again.present["sessions"] == 3


def test_other_instruments_of_a_present_session_are_left_alone(owner: User) -> None:
    services.run_import({"h.csv": GOOD}, owner, owner)
    gad7 = "".join(f"H-1,2025-01-06,1,2025-01-06,gad7,gad7_{i},1\n" for i in range(1, 8)).encode()
    # the file lacks nothing the session has: present; a new instrument for it: a problem
    with pytest.raises(services.ImportRefusedError) as exc:
        services.run_import({"h.csv": GOOD + gad7}, owner, owner)
    assert exc.value.problems == (
        "client H-1, episode started 2025-01-06, session 1: already present with different "
        "records (gad7 not answered at that session); raw answers are never overwritten",
    )
    only_first = HEADER.encode() + _rows("H-1", 1, "2025-01-06", [2] * 8 + [0]).encode()
    assert services.dry_run({"h.csv": only_first}, owner, owner).present["sessions"] == 1


def test_upload_is_audited_and_a_supervisor_may_not_upload(owner: User, colleague: User) -> None:
    assert _upload(browser_for(colleague)).status_code == 403
    assert not PendingImport.objects.exists()
    _upload(browser_for(owner))
    event = AuditEvent.objects.get(action="import.upload")
    assert event.actor == owner and event.detail["therapist"] == "olivia"


def test_a_therapist_without_a_practice_cannot_import(db: None) -> None:
    from commonfactors_web.accounts.models import Role
    from commonfactors_web.accounts.services import create_user

    loose = create_user("lone", "a-Long-passw0rd!", role=Role.THERAPIST, practice=None, team=None)
    assert browser_for(loose).get("/imports/").status_code == 403
    assert not services.may_import(loose) and not services.therapists_for(loose).exists()
