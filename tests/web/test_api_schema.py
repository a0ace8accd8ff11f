"""The API keeps to its own OpenAPI schema: schemathesis reads ``/api/v1/openapi.json`` from
the app itself (in process, through its WSGI handler, on the test database) and sends every
operation requests built from the schema, valid and invalid, with Olivia's token. Each
response must be declared (status, content type, body, headers), no request may cause a
server error, and the token must be enforced.

Valid path ids name her own records until the operation has succeeded once (a test fails
otherwise), then half the time records that exist (hers, Tom's and Otto's), so that the
operations are exercised for real, not only answered with 404. Requests go through the
WSGI handler with the test's own database connection (see ``in_process``), so the run
works on the SQLite test database (and on PostgreSQL) inside the test's transaction. The
examples are derandomised and bounded, so that a run is reproducible and takes well under a
minute.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from pytest_django.fixtures import Settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from commonfactors_web.accounts.models import User
from commonfactors_web.alerts.models import Alert
from commonfactors_web.alerts.services import raise_risk_alert
from commonfactors_web.api.schemas import MAX_ID
from commonfactors_web.api.services import create_token
from commonfactors_web.checkins.models import CheckIn, MeasurementPlan
from commonfactors_web.checkins.services import create_checkin, record_past_session
from commonfactors_web.clients.models import Attendance, Client, Episode
from commonfactors_web.clients.services import create_client
from commonfactors_web.wsgi import application

from .helpers import PHQ9_RISK

pytestmark = pytest.mark.django_db

#: Examples per operation (about 14 operations, each well under a second per example).
EXAMPLES = 50


def phq9(total: int) -> dict[str, Any]:
    answers = {f"phq9_{i}": 0 for i in range(1, 10)}
    for i in range(total):
        answers[f"phq9_{i % 8 + 1}"] += 1
    return {"answers": answers}


@dataclass
class Records:
    """Ids by path parameter: Olivia's own (``hers``, the first of each tried first) and
    every one (``every``, including Tom's and Otto's, which she may not see)."""

    hers: dict[str, list[int]]
    every: dict[str, list[int]]


@pytest.fixture
def records(
    owner: User, teammate: User, outsider: User, client_record: Client, plan: MeasurementPlan
) -> Records:
    """Olivia's client with three sessions (getting worse: signals and a red alert), an
    open check-in and a risk alert; Tom's and Otto's clients with a check-in each."""
    today = timezone.localdate()
    episode = client_record.episodes.get()
    for n, total in enumerate((10, 16, 22), start=1):
        record_past_session(
            episode,
            n,
            today - timedelta(days=28 - 7 * n),
            Attendance.ATTENDED,
            {"phq9": phq9(total)},
        )
    mine = create_checkin(episode, owner, ["phq9"]).checkin
    risk = raise_risk_alert(
        episode,
        checkin=mine,
        instrument="phq9",
        risk_items=["phq9_9"],
        answers=PHQ9_RISK,
        session_number=None,
        notify=False,
    )
    for other in (
        create_client(teammate, "T-0001", measurement_plan=plan),
        create_client(outsider, "O-0001"),
    ):
        create_checkin(other.episodes.get(), other.therapist, ["phq9"])
    others = Alert.objects.exclude(pk=risk.pk).values_list("pk", flat=True)
    return Records(
        hers={
            "client_id": [client_record.pk],
            "episode_id": [episode.pk],
            "checkin_id": [mine.pk],
            "alert_id": [risk.pk, *others],  # the risk alert can be resolved here
        },
        every={
            "client_id": list(Client.objects.values_list("pk", flat=True)),
            "episode_id": list(Episode.objects.values_list("pk", flat=True)),
            "checkin_id": list(CheckIn.objects.values_list("pk", flat=True)),
            "alert_id": list(Alert.objects.values_list("pk", flat=True)),
        },
    )


@pytest.fixture
def token(owner: User) -> str:
    return create_token(owner, "schemathesis").secret


@pytest.fixture
def in_process() -> Iterator[None]:
    """Requests through the WSGI handler keep the test's database connection: Django closes
    connections at the start and end of each request, which would close the test's own
    transaction (the test client disconnects the same two receivers)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def answered() -> Iterator[list[int]]:
    """The status of every response to one operation: some must be successes, or the run
    only proved that the operation refuses."""
    statuses: list[int] = []
    yield statuses
    assert any(200 <= s < 300 for s in statuses), f"no success among {sorted(set(statuses))}"


#: Checks that cannot hold for an operation, and why.
EXCLUDED: dict[str, list[Any]] = {
    # A new client's code must be new in the practice, which no schema can say: a valid
    # request with a code in use is refused (422, with every other problem).
    "POST /api/v1/clients": [positive_data_acceptance],
}


@pytest.fixture(autouse=True)
def _no_guess_throttle(settings: Settings) -> None:
    # schemathesis checks that a bad token is refused, once per operation: not a guesser
    settings.CF_BAD_TOKEN_ATTEMPTS = 10_000


#: Read from the app itself, in process (the OpenAPI view needs no token and no database).
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


@schema.parametrize()
@schema.given(data=st.data())
@hypothesis_settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_api_keeps_to_its_schema(
    case: Any,
    data: Any,
    records: Records,
    token: str,
    in_process: None,
    answered: list[int],
) -> None:
    # until the operation has succeeded once, a valid id is one of hers; then any one, or
    # the generated one
    succeeded = any(200 <= s < 300 for s in answered)
    for name, value in case.path_parameters.items():
        if name not in records.every or not (isinstance(value, int) and 1 <= value <= MAX_ID):
            continue
        if not succeeded:
            case.path_parameters[name] = records.hers[name][0]
        elif data.draw(st.booleans(), label=f"a real {name}"):
            case.path_parameters[name] = data.draw(st.sampled_from(records.every[name]))
    response = case.call_and_validate(
        headers={"Authorization": f"Bearer {token}"},
        excluded_checks=EXCLUDED.get(case.operation.label, []),
    )
    answered.append(response.status_code)


def test_the_schema_is_served_without_a_token(db: None) -> None:
    from django.test import Client as Browser

    response = Browser().get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "commonfactors API"
    assert schema["components"]["securitySchemes"]["TokenAuth"] == {
        "type": "http",
        "scheme": "bearer",
    }
