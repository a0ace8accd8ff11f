"""A practice's own expected treatment response: ``fit_etr`` fits it on the practice's
records, the setting ``ETR_MODELS`` puts it behind the signals and the chart, and the
system check refuses a file it cannot use."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from django.core.checks import run_checks
from django.core.management import CommandError, call_command, execute_from_command_line
from django.utils import timezone

from commonfactors.trajectories import ExpectedTreatmentResponse, default_model
from commonfactors_web.accounts.models import User
from commonfactors_web.alerts.models import Alert, AlertKind, Signal
from commonfactors_web.audit.models import AuditEvent
from commonfactors_web.checkins.services import record_past_session
from commonfactors_web.clients.models import Attendance, Client
from commonfactors_web.clients.services import create_client
from commonfactors_web.own_models import etr_model

from .helpers import browser_for

pytestmark = pytest.mark.django_db

#: PHQ-9 totals by session of the 24 reference episodes: two kinds of course.
COURSES = ((18, 15, 12, 10), (14, 14, 13, 13))


def phq9(total: int) -> dict[str, Any]:
    items = [0] * 9
    for i in range(total):
        items[i % 8] += 1
    return {"phq9": {"answers": {f"phq9_{i + 1}": v for i, v in enumerate(items)}}}


@pytest.fixture
def practice_records(owner: User) -> list[Client]:
    today = timezone.localdate()
    clients = []
    for n in range(24):
        client = create_client(owner, f"R-{n:03d}", measurement_plan=None)
        episode = client.episodes.get()
        for s, total in enumerate(COURSES[n % 2], start=1):
            shift = n % 3 - 1 if s > 1 else 0  # some spread between clients
            day = today - timedelta(days=40 - 7 * s)
            record_past_session(episode, s, day, Attendance.ATTENDED, phq9(total + shift))
        clients.append(client)
    return clients


def by_hand() -> pl.DataFrame:
    """The same records typed in: episode, session, PHQ-9 total."""
    rows = []
    for n in range(24):
        for s, total in enumerate(COURSES[n % 2], start=1):
            rows.append((n, s, float(total + (n % 3 - 1 if s > 1 else 0))))
    return pl.DataFrame(rows, schema=["episode_id", "session", "score"], orient="row")


def test_the_practice_fits_its_own_expected_response(
    practice_records: list[Client], tmp_path: Path
) -> None:
    out = StringIO()
    call_command("fit_etr", "--out", str(tmp_path / "phq9.json"), stdout=out)
    text = out.getvalue()
    assert "Fitted PHQ-9 on 96 scores in 24 episodes of " in text
    assert "set ETR_MODELS=phq9=" in text
    own = ExpectedTreatmentResponse.load(tmp_path / "phq9.json")
    assert "SYNTHETIC" not in own.label and "24 episodes" in own.label
    again = ExpectedTreatmentResponse("phq9").fit(by_hand(), reference="x")
    assert own.coef_ == pytest.approx(again.coef_)
    assert own.expected(18, 4) == pytest.approx(again.expected(18, 4))
    assert AuditEvent.objects.filter(action="etr.fit").count() == 1


def test_signals_and_the_chart_use_the_practices_model_once_set(
    practice_records: list[Client], client_record: Client, owner: User, tmp_path: Path,
    settings: Any,
) -> None:  # fmt: skip
    path = tmp_path / "phq9.json"
    call_command("fit_etr", "--out", str(path), stdout=StringIO())
    episode = client_record.episodes.get()
    today = timezone.localdate()
    record_past_session(episode, 1, today - timedelta(days=14), Attendance.ATTENDED, phq9(18))
    record_past_session(episode, 2, today - timedelta(days=7), Attendance.ATTENDED, phq9(17))
    synthetic = default_model("phq9").label
    assert Signal.objects.get(episode=episode, session_number=2).model_label == synthetic
    settings.CF_ETR_MODELS = f"phq9={path}"
    own = ExpectedTreatmentResponse.load(path)
    assert etr_model("phq9").label == own.label and etr_model("gad7").label != own.label
    record_past_session(episode, 3, today, Attendance.ATTENDED, phq9(16))
    latest = Signal.objects.get(episode=episode, session_number=3)
    assert latest.model_label == own.label
    assert latest.expected == pytest.approx(own.expected(18, 3)["p50"])
    # the signal judged before keeps the model it was judged by
    assert Signal.objects.get(episode=episode, session_number=2).model_label == synthetic
    page = browser_for(owner).get(f"/clients/{client_record.pk}/").content.decode()
    assert own.label in page
    assert [m.id for m in run_checks() if m.id.startswith("commonfactors.E")] == []


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("phq9", "is not instrument=path"),
        ("nope={path}", "'nope' is not a known instrument"),
        ("phq9={missing}", "cannot be read"),
        ("gad7={path}", "is not a log-linear expected-response model of 'gad7'"),
        ("phq9={path} phq9={path}", "names 'phq9' twice"),
    ],
)
def test_the_system_check_refuses_a_model_it_cannot_use(
    practice_records: list[Client], tmp_path: Path, settings: Any, value: str, says: str
) -> None:
    path = tmp_path / "phq9.json"
    call_command("fit_etr", "--out", str(path), stdout=StringIO())
    settings.CF_ETR_MODELS = value.format(path=path, missing=tmp_path / "missing.json")
    errors = [m for m in run_checks() if m.id == "commonfactors.E005"]
    assert len(errors) == 1 and says in errors[0].msg


def test_fitting_names_every_problem_and_writes_nothing_without_enough_data(
    client_record: Client, tmp_path: Path
) -> None:
    with pytest.raises(CommandError) as caught:
        call_command("fit_etr", "--instrument", "nope", "--out", str(tmp_path / "x" / "m.txt"))
    for problem in ("'nope' is not a known instrument", "must end in .json", "does not exist"):
        assert problem in str(caught.value)
    with pytest.raises(CommandError, match="needs reference episodes"):
        call_command("fit_etr", "--out", str(tmp_path / "m.json"))
    assert not (tmp_path / "m.json").exists()


def test_a_model_file_that_cannot_be_used_never_loses_a_submission(
    practice_records: list[Client], client_record: Client, tmp_path: Path, settings: Any,
    caplog: Any,
) -> None:  # fmt: skip
    settings.CF_ETR_MODELS = f"phq9={tmp_path / 'deleted.json'}"
    episode = client_record.episodes.get()
    today = timezone.localdate()
    record_past_session(episode, 1, today - timedelta(days=7), Attendance.ATTENDED, phq9(18))
    risky = {"phq9": {"answers": dict.fromkeys((f"phq9_{i}" for i in range(1, 10)), 2)}}
    with caplog.at_level("ERROR", logger="commonfactors_web.own_models"):
        record_past_session(episode, 2, today, Attendance.ATTENDED, risky)
    assert "the shipped model is used instead" in caplog.text
    assert Alert.objects.filter(episode=episode, kind=AlertKind.RISK).exists()
    signal = Signal.objects.get(episode=episode, session_number=2)
    assert signal.model_label == default_model("phq9").label and signal.status
    # the fit command runs from the command line, where the system checks refuse the
    # setting, to mend it
    execute_from_command_line(
        ["commonfactors_web", "fit_etr", "--out", str(tmp_path / "deleted.json")]
    )
    assert (
        etr_model("phq9").label == ExpectedTreatmentResponse.load(tmp_path / "deleted.json").label
    )
