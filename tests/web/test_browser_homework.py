"""Homework and journal end to end in a real browser (Playwright driving Debian's chromium).

The therapist sets a thought record and makes the client's link; the client, on a phone-sized
screen, fills in the thought record (a validation error first), writes a long journal entry,
reloads in the middle of it and finds it intact, and shares it; the therapist sees the
completion and the shared entry. Screenshots of each step go to ``test-artifacts/``.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from commonfactors_web.accounts.models import User
from commonfactors_web.clients.models import Client
from commonfactors_web.homework.models import Assignment, HomeworkEntry, JournalEntry

from .browser import DESKTOP, PHONE, Person, log_in

pytestmark = pytest.mark.django_db(transaction=True)

TEST = "homework"
LONG_ENTRY = " ".join(
    f"Paragraph {n}: today I noticed the old worry again, and this time I wrote it down "
    "before it grew, and I tried to look at it the way we practised."
    for n in range(1, 31)
)


def _therapist_sets_homework(therapist: Person, client: Client) -> str:
    page = therapist.page
    page.goto(f"/clients/{client.pk}/")
    panel = page.get_by_role("region", name="Homework and journal")
    panel.scroll_into_view_if_needed()
    therapist.shot(TEST, "0-set-homework")
    panel.get_by_role("radio", name=re.compile("^Thought record")).check()
    panel.get_by_label("Your instructions to the client").fill(
        "Once this week, when you notice your mood drop at work."
    )
    panel.get_by_role("button", name="Set homework").click()
    page.get_by_text("Homework set: Thought record").wait_for()
    therapist.shot(TEST, "1-homework-set")
    panel = page.get_by_role("region", name="Homework and journal")
    panel.get_by_role("button", name="Make a link").click()
    page.get_by_role("heading", name=re.compile("Homework and journal link for client")).wait_for()
    assert page.locator("figure.qr svg").is_visible()
    therapist.shot(TEST, "2-link-and-qr")
    url = page.get_by_role("textbox", name="Link").input_value()
    assert "/h/" in url
    return url


def _client_completes_the_thought_record(client: Person, url: str) -> None:
    page = client.page
    page.goto(url)
    assert page.get_by_text("Once this week, when you notice your mood drop at work.").is_visible()
    client.shot(TEST, "3-client-page")
    page.get_by_role("link", name="Fill in the thought record").click()
    page.get_by_role("heading", name="Thought record", level=1).wait_for()
    client.shot(TEST, "4-thought-record-empty")
    # forget the situation, and rate a feeling 140 on a 0-100 scale
    feeling1 = page.get_by_role("group", name="Feeling 1", exact=True)
    feeling1.get_by_label("Feeling", exact=True).fill("anxious")
    feeling1.get_by_label("How strong (0–100)").fill("140")
    page.get_by_label("Automatic thought").fill("She is annoyed with me.")
    page.get_by_label("How much you believed the thought (0–100)").fill("80")
    page.get_by_label("Evidence against the thought").fill("She is always busy on Mondays.")
    page.get_by_label("Balanced thought", exact=True).fill("She may just be busy; I can ask.")
    after = page.get_by_role("group", name="Feeling now 1")
    after.get_by_label("Feeling", exact=True).fill("anxious")
    after.get_by_label("How strong (0–100)").fill("35")
    page.get_by_role("button", name="Send to my therapist").click()

    summary = page.get_by_role("alert")
    summary.get_by_role("heading", name="Please check 2 things").wait_for()
    assert "Situation: please fill this in" in summary.inner_text()
    assert "140 is outside 0–100" in summary.inner_text()
    # the summary has the focus, so a screen reader starts there; each problem links to its field
    assert page.evaluate("document.activeElement.getAttribute('role')") == "alert"
    strength = page.get_by_role("group", name="Feeling 1", exact=True).get_by_label(
        "How strong (0–100)"
    )
    assert strength.get_attribute("aria-invalid") == "true"
    assert strength.input_value() == "140"  # nothing the client typed is lost
    client.shot(TEST, "5-thought-record-problems")
    assert HomeworkEntry.objects.count() == 0

    summary.get_by_role("link", name=re.compile("Situation")).click()
    page.keyboard.type("My colleague did not answer my message all day.")
    strength.fill("70")
    page.get_by_role("button", name="Send to my therapist").click()
    page.get_by_text("Your thought record was sent to your therapist.").wait_for()
    client.shot(TEST, "6-thought-record-sent")
    assert HomeworkEntry.objects.get().data["feelings"] == [{"feeling": "anxious", "intensity": 70}]


def _server_copy(text: str, seconds: float = 15) -> JournalEntry:
    """The journal entry once the server has ``text`` (autosave runs after a pause)."""
    deadline = time.monotonic() + seconds
    while True:
        entry = JournalEntry.objects.first()
        if entry is not None and entry.text == text:
            return entry
        if time.monotonic() > deadline:
            raise AssertionError(f"the server has {len(entry.text) if entry else 0} characters")
        time.sleep(0.2)


def _settled(page: Any, text: str) -> None:
    """Wait until the editor holds ``text`` and says it is saved."""
    page.wait_for_function(
        "(text) => document.getElementById('journal-text').value === text && "
        "/^Saved|saved as you type/.test(document.getElementById('journal-status').textContent)",
        arg=text,
    )


def _client_writes_the_journal(client: Person) -> None:
    page = client.page
    page.get_by_role("link", name="Write a new entry").click()
    box = page.get_by_label("Write whatever you like")
    box.wait_for()
    assert page.get_by_role("radio", name=re.compile("Only me")).is_checked()
    # 1. reload before the first autosave: the draft on the phone comes back
    box.fill(LONG_ENTRY[:900])
    page.reload()
    box = page.get_by_label("Write whatever you like")
    _settled(page, LONG_ENTRY[:900])
    page.wait_for_url(re.compile(r"/journal/[0-9a-f-]{36}/$"))  # the saved entry's address
    _server_copy(LONG_ENTRY[:900])
    # 2. go on typing, and reload in the middle of it
    box.fill(LONG_ENTRY[:2000])
    box.press("End")
    box.press_sequentially(LONG_ENTRY[2000:2060], delay=5)
    client.shot(TEST, "7-journal-typing")
    page.reload()
    box = page.get_by_label("Write whatever you like")
    _settled(page, LONG_ENTRY[:2060])
    _server_copy(LONG_ENTRY[:2060])
    client.shot(TEST, "8-journal-after-reload")
    box.press("End")
    box.press_sequentially(LONG_ENTRY[2060:], delay=1)
    entry = _server_copy(LONG_ENTRY)  # saved as they type: no button pressed
    assert entry.shared_with_therapist is False
    page.get_by_text(re.compile("Saved \\(private\\) at")).wait_for()
    # 3. share it
    page.get_by_role("radio", name="Me and my therapist").check()
    page.get_by_text(re.compile("Saved and shared with your therapist at")).wait_for()
    client.shot(TEST, "9-journal-shared")
    page.get_by_role("button", name="Save").click()
    page.get_by_text(
        "Your journal entry is saved. It can be read by you and your therapist."
    ).wait_for()
    assert page.get_by_text("Shared with your therapist").is_visible()
    client.shot(TEST, "10-client-page-after")
    entry.refresh_from_db()
    assert entry.shared_with_therapist and entry.text == LONG_ENTRY
    assert JournalEntry.objects.count() == 1
    # nothing is left on the phone once the server has it
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('cf-journal'))") == []


def test_homework_and_journal(
    chromium: Any, live_server: Any, owner: User, client_record: Client
) -> None:
    therapist = Person(chromium, live_server.url, "therapist", **DESKTOP)
    log_in(therapist, "olivia")
    url = _therapist_sets_homework(therapist, client_record)

    client = Person(chromium, live_server.url, "client", **PHONE)
    _client_completes_the_thought_record(client, url)
    _client_writes_the_journal(client)

    page = therapist.page
    page.goto(f"/clients/{client_record.pk}/")
    panel = page.get_by_role("region", name="Homework and journal")
    panel.scroll_into_view_if_needed()
    assert "1 of 1" in panel.inner_text() and "(100%)" in panel.inner_text()
    assert "Completed" in panel.get_by_role("row", name=re.compile("Thought record")).inner_text()
    assert "Paragraph 1: today I noticed" in panel.inner_text()
    therapist.shot(TEST, "11-therapist-panel")
    panel.get_by_role("link", name="Thought record").click()
    page.get_by_role("heading", name="What the client wrote").wait_for()
    assert page.get_by_text("She may just be busy; I can ask.").is_visible()
    assert page.get_by_role("cell", name="70").first.is_visible()
    therapist.shot(TEST, "12-therapist-entry")
    page.go_back()
    page.get_by_role("link", name=re.compile("Read the shared entries")).click()
    page.get_by_text("Paragraph 30").wait_for()
    therapist.shot(TEST, "13-therapist-shared-journal")
    assert Assignment.objects.get().status == "completed"
    assert therapist.csp_violations() == [] and client.csp_violations() == []
    therapist.close()
    client.close()
