"""The dropout risk on the client page: the library's model, fed from the episode's records —
outcome, alliance, attendance, expectancy, age and the homework completion known at the time."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from django.core.checks import run_checks as django_checks
from django.core.management import CommandError, call_command, execute_from_command_line
from django.core.management.base import SystemCheckError
from django.utils import timezone

from commonfactors.trajectories.dropout import (
    Appointment,
    DropoutModel,
    default_dropout_model,
    episode_dropout_risk,
)
from commonfactors_web.accounts.models import User
from commonfactors_web.audit.models import AuditEvent
from commonfactors_web.checkins.services import record_past_session
from commonfactors_web.clients.dropout import dropout_risk
from commonfactors_web.clients.models import Attendance, Client, EpisodeStatus
from commonfactors_web.clients.services import create_client
from commonfactors_web.homework.models import Assignment, AssignmentStatus
from commonfactors_web.homework.services import assign

from .helpers import PHQ9_MILD, browser_for

pytestmark = pytest.mark.django_db

PHQ9_WORSE = {f"phq9_{i}": 2 for i in range(1, 9)} | {"phq9_9": 0}  # 16


def run_checks() -> list[Any]:
    """Our own system checks' errors and warnings about the dropout model."""
    return [m for m in django_checks() if m.id == "commonfactors.E004"]


def entries(**given: dict[str, int]) -> dict[str, dict[str, object]]:
    return {name: {"answers": answers} for name, answers in given.items()}


def at(day: object) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(10)))  # type: ignore[arg-type]


@pytest.fixture
def early(client_record: Client, owner: User) -> Client:
    """Session 1 (21 days ago): PHQ-9 8, expectancy items 3, 4, 5 (mean 4.0 on 0–10); a thought
    record set that day, due 14 days ago; session 2 missed; session 3 (7 days ago): PHQ-9 16,
    alliance items 2, 3, 2, 3 (mean 2.5 on 0–4 → 3.5 on the model's 1–5)."""
    client_record.birth_year = timezone.localdate().year - 30
    client_record.save()
    episode = client_record.episodes.get()
    today = timezone.localdate()
    first = today - timedelta(days=21)
    record_past_session(
        episode,
        1,
        first,
        Attendance.ATTENDED,
        entries(
            phq9=PHQ9_MILD,
            cf_expectancy={"cf_expectancy_1": 3, "cf_expectancy_2": 4, "cf_expectancy_3": 5},
        ),
    )
    assign(episode, owner, "thought_record", due_on=today - timedelta(days=14), now=at(first))
    record_past_session(episode, 2, today - timedelta(days=14), Attendance.DID_NOT_ATTEND, {})
    record_past_session(
        episode,
        3,
        today - timedelta(days=7),
        Attendance.ATTENDED,
        entries(
            phq9=PHQ9_WORSE,
            cf_alliance={f"cf_alliance_{i}": v for i, v in [(1, 2), (2, 3), (3, 2), (4, 3)]},
        ),
    )
    return client_record


def by_hand(homework: float | None) -> float:
    """The same episode, typed in as the library's records (not read from the database)."""
    risk = episode_dropout_risk(
        [
            Appointment(1, True, outcome=8.0),
            Appointment(2, False),
            Appointment(3, True, outcome=16.0, alliance=3.5, homework=homework),
        ],
        expectancy=4.0,
        age=30.0,
    )
    assert risk is not None
    return risk.risk


def test_the_risk_is_the_models_risk_of_the_episodes_records(early: Client) -> None:
    shown = dropout_risk(early.episodes.get())
    assert shown.risk is not None and shown.synthetic
    assert shown.risk.risk == pytest.approx(by_hand(0.0))  # the thought record was not done
    assert (shown.risk.after, shown.risk.appointments) == (2, 3)
    values = {c.feature: c.value for c in shown.risk.contributions}
    assert values == pytest.approx(
        {
            "intake_severity": 8.0,
            "early_change": 8.0,
            "alliance": 3.5,
            "attendance": 2 / 3,
            "expectancy": 4.0,
            "homework": 0.0,
            "age": 30.0,
        }
    )


def test_homework_completion_feeds_the_risk(early: Client) -> None:
    episode = early.episodes.get()
    undone = dropout_risk(episode).risk
    Assignment.objects.filter(episode=episode).update(
        status=AssignmentStatus.COMPLETED,
        completed_at=at(timezone.localdate() - timedelta(days=15)),
    )
    done = dropout_risk(episode).risk
    assert undone is not None and done is not None
    assert done.risk == pytest.approx(by_hand(1.0))
    assert done.risk < undone.risk  # more homework done, less risk (the model's homework weight)
    assert default_dropout_model().odds_ratios()["homework"] < 1
    # homework completed after the second session does not reach back into it
    Assignment.objects.filter(episode=episode).update(completed_at=at(timezone.localdate()))
    assert dropout_risk(episode).risk.risk == pytest.approx(undone.risk)  # type: ignore[union-attr]


def test_the_client_page_shows_the_risk_what_went_in_and_that_the_model_is_synthetic(
    early: Client, owner: User
) -> None:
    page = browser_for(owner).get(f"/clients/{early.pk}/").content.decode()
    risk = dropout_risk(early.episodes.get()).risk
    assert risk is not None
    assert f"<strong>{round(100 * risk.risk)} %</strong> estimated chance" in page
    assert f"against {round(100 * risk.base_rate)} % of the model's reference episodes" in page
    assert '<th scope="row">PHQ-9 at intake</th><td>8</td>' in page
    assert "From the first 2 attended sessions (3 appointments)" in page
    assert "SYNTHETIC" in page and "Refit it on your practice" in page
    assert '<th scope="row">Share of homework done</th><td>0 %</td>' in page
    assert '<th scope="row">Share of appointments attended</th><td>67 %</td>' in page
    assert '<th scope="row">PHQ-9 change by the second session (+ is worse)</th><td>+8</td>' in page
    assert (
        '<th scope="row">Alliance, mean of the first sessions (1–5)</th><td>3.5 (from Alliance '
        "(practice) 2.5 on 0–4, put on 1–5)</td>"
    ) in page
    # this client got worse by session 2: that row says it raises the risk
    assert '<td>+8</td><td class="effect-raises">raises</td>' in page


def test_before_the_second_session_or_without_an_intake_score_it_says_why(
    client_record: Client, owner: User
) -> None:
    episode = client_record.episodes.get()
    today = timezone.localdate()
    record_past_session(
        episode,
        1,
        today - timedelta(days=7),
        Attendance.ATTENDED,
        entries(cf_alliance={f"cf_alliance_{i}": 3 for i in range(1, 5)}),
    )
    page = browser_for(owner).get(f"/clients/{client_record.pk}/").content.decode()
    assert "The dropout risk is estimated after the second attended session." in page
    record_past_session(episode, 2, today, Attendance.ATTENDED, entries(phq9=PHQ9_MILD))
    shown = dropout_risk(episode)
    assert shown.risk is None and "no PHQ-9 score at the first attended session" in shown.waiting
    assert shown.waiting in browser_for(owner).get(f"/clients/{client_record.pk}/").content.decode()


def test_an_ended_episode_shows_no_risk_and_an_outsider_sees_nothing(
    early: Client, colleague: User, outsider: User
) -> None:
    assert "Dropout risk" in browser_for(colleague).get(f"/clients/{early.pk}/").content.decode()
    assert browser_for(outsider).get(f"/clients/{early.pk}/").status_code == 404
    early.episodes.update(status=EpisodeStatus.FINISHED)
    assert (
        "Dropout risk" not in browser_for(colleague).get(f"/clients/{early.pk}/").content.decode()
    )


# ------------------------------------------------------------------ the practice's own model


@pytest.fixture
def ended(owner: User) -> list[Client]:
    """24 ended episodes, two attended sessions each: the 12 who dropped out had a weaker
    alliance at session 2. Plus one active episode and one ended after one session, which
    the fit must leave out."""
    today = timezone.localdate()
    clients = []
    for n in range(26):
        client = create_client(owner, f"E-{n:03d}", measurement_plan=None)
        episode = client.episodes.get()
        dropped = n % 2 == 0
        intake = {f"phq9_{i}": (1 + n % 3) if i < 9 else 0 for i in range(1, 10)}
        record_past_session(
            episode, 1, today - timedelta(days=30), Attendance.ATTENDED, entries(phq9=intake)
        )
        if n < 25:
            bond = [1 + n % 3, 1, 2, 1] if dropped else [3, 4, 3 + n % 2, 4]
            record_past_session(
                episode,
                2,
                today - timedelta(days=23),
                Attendance.ATTENDED,
                entries(
                    phq9=PHQ9_MILD,
                    cf_alliance={f"cf_alliance_{i}": v for i, v in enumerate(bond, start=1)},
                ),
            )
        if n < 24 or n == 25:
            status = EpisodeStatus.DROPPED_OUT if dropped else EpisodeStatus.FINISHED
            client.episodes.update(status=status)
        clients.append(client)
    return clients


def test_the_practice_fits_its_own_model_on_its_ended_episodes(
    ended: list[Client], tmp_path: Path
) -> None:
    out = StringIO()
    call_command("fit_dropout", "--out", str(tmp_path / "own.json"), stdout=out)
    text = out.getvalue()
    assert "Fitted on 24 ended episodes of " in text and "12 dropped out (50.0%)" in text
    assert "Left out: 1 still active; 1 fewer than two attended sessions." in text
    assert "Not in the model (no episode has it): Expected benefit" in text
    assert "Caution: 12 episodes in the smaller outcome group for 4 features" in text
    model = DropoutModel.load(tmp_path / "own.json")
    assert model.features == ("intake_severity", "early_change", "alliance", "attendance")
    assert model.odds_ratios()["alliance"] < 1  # the weaker alliance went with dropout
    assert "SYNTHETIC" not in model.label and "24 ended episodes" in model.label
    # the same fit as the library gives on the features typed in by hand
    by_hand = []
    for n in range(len(ended) - 2):
        bond = [1 + n % 3, 1, 2, 1] if n % 2 == 0 else [3, 4, 3 + n % 2, 4]
        by_hand.append(
            {
                "intake_severity": 8.0 * (1 + n % 3),
                "early_change": 8.0 - 8.0 * (1 + n % 3),
                "alliance": 1 + sum(bond) / 4,
                "attendance": 1.0,
                "dropout": n % 2 == 0,
            }
        )
    frame = pl.DataFrame(by_hand)
    again = DropoutModel(model.features).fit(frame, frame["dropout"], reference="x")
    assert again.coef_ == pytest.approx(model.coef_)
    assert AuditEvent.objects.filter(action="dropout.fit").count() == 1


def test_the_client_page_uses_the_practices_model_when_set(
    ended: list[Client], early: Client, owner: User, tmp_path: Path, settings: Any
) -> None:
    path = tmp_path / "own.json"
    call_command("fit_dropout", "--out", str(path), stdout=StringIO())
    settings.CF_DROPOUT_MODEL = str(path)
    shown = dropout_risk(early.episodes.get())
    assert shown.risk is not None and not shown.synthetic
    own = DropoutModel.load(path)
    assert shown.risk.model == own.label
    assert [r.label for r in shown.rows] == [
        "PHQ-9 at intake",
        "PHQ-9 change by the second session (+ is worse)",
        "Alliance, mean of the first sessions (1–5)",
        "Share of appointments attended",
    ]
    page = browser_for(owner).get(f"/clients/{early.pk}/").content.decode()
    assert f"Model: {own.label}" in page and "Refit it on your practice" not in page
    assert run_checks() == []
    settings.CF_DROPOUT_MODEL = str(tmp_path / "missing.json")
    assert [e.id for e in run_checks()] == ["commonfactors.E004"]


def test_fitting_names_every_problem_and_writes_nothing_without_enough_episodes(
    early: Client, tmp_path: Path
) -> None:
    with pytest.raises(CommandError) as caught:
        call_command("fit_dropout", "--out", str(tmp_path / "no" / "model.txt"))
    assert "must end in .json" in str(caught.value) and "does not exist" in str(caught.value)
    with pytest.raises(CommandError, match=r"no ended episode can be used \(1 still active"):
        call_command("fit_dropout", "--out", str(tmp_path / "m.json"))
    assert not (tmp_path / "m.json").exists()


def test_a_model_file_that_cannot_be_used_falls_back_to_the_shipped_model(
    early: Client, owner: User, tmp_path: Path, settings: Any, caplog: Any, capsys: Any
) -> None:
    settings.CF_DROPOUT_MODEL = str(tmp_path / "gone.json")
    with caplog.at_level("ERROR", logger="commonfactors_web.own_models"):
        page = browser_for(owner).get(f"/clients/{early.pk}/")
    assert page.status_code == 200
    assert (
        "SYNTHETIC" in page.content.decode()
        and "Refit it on your practice" in page.content.decode()
    )
    assert "DROPOUT_MODEL" in caplog.text and "the shipped model is used instead" in caplog.text
    assert early.code not in caplog.text  # no client data in logs
    assert [e.id for e in run_checks()] == ["commonfactors.E004"]
    # a model of another outcome, or taken at another session, is refused the same way
    frame = pl.DataFrame(
        {"alliance": [float(i % 5) for i in range(40)], "dropout": [i % 2 == 0 for i in range(40)]}
    )
    other = tmp_path / "gad7.json"
    DropoutModel(("alliance",), outcome="gad7").fit(frame, frame["dropout"]).save(other)
    settings.CF_DROPOUT_MODEL = str(other)
    [error] = run_checks()
    assert "fitted on gad7 at attended session 2" in error.msg
    assert dropout_risk(early.episodes.get()).synthetic
    # and the fit command still runs from the command line, where the checks refuse the
    # setting (it stops only because this practice has no ended episode)
    with pytest.raises(SystemExit) as stopped:
        execute_from_command_line(
            ["commonfactors_web", "fit_dropout", "--out", str(tmp_path / "n.json")]
        )
    assert stopped.value.code == 1
    assert "no ended episode can be used" in capsys.readouterr().err
    with pytest.raises(SystemCheckError):  # what a command that needs the checks meets
        call_command("export", "--format", "csv", "--out", str(tmp_path), skip_checks=False)
