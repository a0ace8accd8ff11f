"""Importing a history in a real browser: upload, read the dry-run report, confirm.

Screenshots of every step are saved under ``test-artifacts/`` (look at them).
"""

from __future__ import annotations

from typing import Any

import pytest

from commonfactors_web.accounts.models import User
from commonfactors_web.checkins.models import Score

from .browser import DESKTOP, Person, log_in

pytestmark = pytest.mark.django_db(transaction=True)

HEADER = "client_code,started_on,session,date,instrument,item,value\n"
ROWS = "".join(
    f"H-1,2025-01-06,{n},2025-01-{5 + 7 * n:02d},phq9,phq9_{i},{v}\n"
    for n, v in ((1, 2), (2, 1))
    for i in range(1, 10)
)


def test_upload_dry_run_and_confirm(
    chromium: Any, live_server: Any, owner: User, tmp_path: Any
) -> None:
    test = "imports"
    path = tmp_path / "history.csv"
    path.write_text(HEADER + ROWS)
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + ROWS.replace("phq9_9,1", "phq9_9,7") + "H-2,2025-01-06,x\n")
    olivia = Person(chromium, live_server.url, "olivia", **DESKTOP)
    log_in(olivia, "olivia")
    page = olivia.page
    page.get_by_role("link", name="Imports").click()
    page.get_by_label("File").set_input_files(str(bad))
    page.get_by_role("button", name="Check the file (dry-run)").click()
    alert = page.get_by_role("alert")
    alert.get_by_role("heading", name="4 problems: nothing can be imported").wait_for()
    text = alert.inner_text()
    assert "bad.csv, rows 11–19: H-1 session 2 phq9" in text
    assert "bad.csv, row 20, column session" in text
    assert page.get_by_role("button", name="Confirm the import").count() == 0
    olivia.shot(test, "0-problems")
    page.get_by_role("link", name="Upload a corrected file").click()
    page.get_by_label("File").set_input_files(str(path))
    olivia.shot(test, "1-upload")
    page.get_by_role("button", name="Check the file (dry-run)").click()
    page.get_by_role("heading", name="Dry-run report").wait_for()
    assert page.get_by_role("row", name="Sessions 2 0").is_visible()
    olivia.shot(test, "2-dry-run")
    assert Score.objects.count() == 0
    page.get_by_role("button", name="Confirm the import").click()
    page.get_by_role("heading", name="Imported").wait_for()
    olivia.shot(test, "3-imported")
    assert sorted(Score.objects.values_list("total", flat=True)) == [9, 18]
    assert olivia.csp_violations() == []
    olivia.close()
