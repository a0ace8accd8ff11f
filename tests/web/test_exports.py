"""Exports: who may export what, pseudonymisation, row counts, FHIR, bad input, the audit
log and the management command.

Olivia's client OLIVIA-7 (named, with an e-mail, a cultural background, presenting
concerns, a goal and a plan rationale in free text) has four sessions: PHQ-9 24 and GAD-7
14 at session 1, session 2 cancelled, PHQ-9 8 and GAD-7 0 at session 3, PHQ-9 18 with a
risk answer at session 4; the episode finished. Tom (same team) and Otto (another
practice) each have one client with one PHQ-9.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from django.core.management import CommandError, call_command
from django.http import HttpResponse
from django.utils import timezone

from commonfactors import fhir
from commonfactors.tidy import COLUMNS
from commonfactors_web.accounts.models import User
from commonfactors_web.audit.models import AuditEvent
from commonfactors_web.checkins.models import Administration, MeasurementPlan, Score
from commonfactors_web.checkins.services import record_past_session
from commonfactors_web.clients.models import Attendance, Client, Episode, Session
from commonfactors_web.clients.services import create_client, end_episode
from commonfactors_web.exports.services import COMMAND_LINE, pseudonym
from commonfactors_web.plans.services import add_goal, update_plan

from .helpers import browser_for

pytestmark = pytest.mark.django_db

START = timezone.localdate() - timedelta(days=60)
PHQ9_SEVERE = {f"phq9_{i}": 3 for i in range(1, 9)} | {"phq9_9": 0}  # 24
PHQ9_MILD = {f"phq9_{i}": 1 for i in range(1, 9)} | {"phq9_9": 0}  # 8
PHQ9_RISK = {f"phq9_{i}": 2 for i in range(1, 10)}  # 18, item 9 = 2
GAD7_MODERATE = {f"gad7_{i}": 2 for i in range(1, 8)}  # 14
GAD7_NONE = {f"gad7_{i}": 0 for i in range(1, 8)}  # 0
#: Nothing of these may appear in an export (the code only in an identified one).
SECRETS = (
    "Zelda Quixote",
    "zelda.q@example.org",
    "MARKER-CULTURE",
    "MARKER-CONCERN",
    "MARKER-GOAL",
    "MARKER-PLAN",
    "OLIVIA-7",
    "TOM-1",
)


def make_history(owner: User, plan: MeasurementPlan) -> Client:
    """Olivia's client OLIVIA-7 with four sessions and a finished episode."""
    client = create_client(
        owner,
        "OLIVIA-7",
        name="Zelda Quixote",
        email="zelda.q@example.org",
        cultural_background="MARKER-CULTURE in her own words",
        presenting_concerns="MARKER-CONCERN at work",
        started_on=START,
        measurement_plan=plan,
    )
    episode = client.episodes.get()
    sessions: list[tuple[Attendance, dict[str, dict[str, Any]]]] = [
        (Attendance.ATTENDED, {"phq9": PHQ9_SEVERE, "gad7": GAD7_MODERATE}),
        (Attendance.CANCELLED, {}),
        (Attendance.ATTENDED, {"phq9": PHQ9_MILD, "gad7": GAD7_NONE}),
        (Attendance.ATTENDED, {"phq9": PHQ9_RISK}),
    ]
    for number, (attendance, answers) in enumerate(sessions, start=1):
        entries = {i: {"answers": a} for i, a in answers.items()}
        record_past_session(
            episode, number, START + timedelta(days=7 * number), attendance, entries, user=owner
        )
    add_goal(episode, owner, "MARKER-GOAL sleep through the night", START)
    update_plan(episode, owner, {"rationale": "MARKER-PLAN behavioural activation"})
    end_episode(episode, owner, "finished", START + timedelta(days=30))
    return client


def one_session(therapist: User, code: str, plan: MeasurementPlan | None = None) -> Client:
    client = create_client(therapist, code, name=f"Name of {code}", started_on=START)
    record_past_session(
        client.episodes.get(),
        1,
        START + timedelta(days=3),
        Attendance.ATTENDED,
        {"phq9": {"answers": PHQ9_MILD}},
        user=therapist,
    )
    return client


@pytest.fixture
def history(owner: User, plan: MeasurementPlan) -> Client:
    return make_history(owner, plan)


@pytest.fixture
def toms(teammate: User) -> Client:
    return one_session(teammate, "TOM-1")


@pytest.fixture
def ottos(outsider: User) -> Client:
    return one_session(outsider, "OTTO-1")


@pytest.fixture
def everyone(history: Client, toms: Client, ottos: Client) -> None:
    """All three clients exist."""


def post(user: User | None, **data: Any) -> HttpResponse:
    response: HttpResponse = browser_for(user).post("/exports/", data)
    return response


def members(response: HttpResponse) -> dict[str, bytes]:
    assert response.status_code == 200, response.content[:2000]
    assert response["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def table(files: dict[str, bytes], name: str) -> pl.DataFrame:
    if f"{name}.parquet" in files:
        return pl.read_parquet(io.BytesIO(files[f"{name}.parquet"]))
    return pl.read_csv(io.BytesIO(files[f"{name}.csv"]), infer_schema_length=None)


def pid(client: Client) -> str:
    return pseudonym(client.practice_id, "client", client.pk)


def clients_in(files: dict[str, bytes]) -> set[str]:
    return set(table(files, "episodes").get_column("client_id").to_list())


def texts_of(response: HttpResponse) -> list[str]:
    """Every byte of a download as text: zip members decompressed, Parquet tables read."""
    if response["Content-Type"] != "application/zip":
        return [response.content.decode("utf-8")]
    out = []
    for name, content in members(response).items():
        out.append(content.decode("latin-1"))
        if name.endswith(".parquet"):
            out.append(pl.read_parquet(io.BytesIO(content)).write_csv())
    return out


# ------------------------------------------------------------------ who may export what


class TestWhoMayExport:
    def test_anonymous_is_sent_to_log_in(self, everyone: None) -> None:
        for response in (browser_for(None).get("/exports/"), post(None, scope="mine")):
            assert response.status_code == 302
            assert response["Location"].startswith("/accounts/login/")
        assert not AuditEvent.objects.filter(action="export.create").exists()

    def test_the_owner_exports_her_own_clients_only(
        self, owner: User, history: Client, toms: Client, ottos: Client
    ) -> None:
        page = browser_for(owner).get("/exports/")
        assert page.status_code == 200
        assert b"My clients" in page.content and b"OLIVIA-7" in page.content
        assert b"TOM-1" not in page.content and b"whole practice" not in page.content
        files = members(post(owner, scope="mine", format="csv"))
        assert clients_in(files) == {pid(history)}

    def test_the_supervisor_exports_the_teams_clients(
        self, colleague: User, history: Client, toms: Client, ottos: Client
    ) -> None:
        page = browser_for(colleague).get("/exports/")
        assert page.status_code == 200 and b"My team&#x27;s clients" in page.content
        files = members(post(colleague, scope="team", format="csv"))
        assert clients_in(files) == {pid(history), pid(toms)}
        one = members(post(colleague, scope="client", client=history.pk, format="csv"))
        assert clients_in(one) == {pid(history)}

    def test_a_teammate_exports_only_his_own(
        self, teammate: User, history: Client, toms: Client
    ) -> None:
        assert clients_in(members(post(teammate, scope="mine", format="csv"))) == {pid(toms)}
        refused = post(teammate, scope="client", client=history.pk, format="csv")
        assert refused.status_code == 400 and b"Select a valid choice" in refused.content
        assert b"OLIVIA-7" not in refused.content

    def test_an_outsider_exports_nothing_of_the_practice(
        self, outsider: User, history: Client, ottos: Client
    ) -> None:
        files = members(post(outsider, scope="mine", format="parquet"))
        assert clients_in(files) == {pid(ottos)}
        assert pid(history) not in "".join(c.decode("latin-1") for c in files.values())
        refused = post(outsider, scope="client", client=history.pk, format="csv")
        assert refused.status_code == 400

    def test_the_admin_exports_the_practice_pseudonymised(
        self, admin_user: User, history: Client, toms: Client, ottos: Client
    ) -> None:
        page = browser_for(admin_user).get("/exports/")
        assert page.status_code == 200 and b"The whole practice" in page.content
        assert b"OLIVIA-7" not in page.content  # no client list for an admin
        response = post(admin_user, scope="practice", format="csv")
        files = members(response)
        assert clients_in(files) == {pid(history), pid(toms)}
        assert "client_code" not in table(files, "scores").columns
        assert not any("OLIVIA-7" in t for t in texts_of(response))

    def test_the_admin_may_add_the_client_codes(
        self, admin_user: User, history: Client, toms: Client
    ) -> None:
        files = members(post(admin_user, scope="practice", format="csv", identified="on"))
        for name in ("scores", "answers", "sessions", "episodes"):
            frame = table(files, name)
            assert frame.columns[:2] == ["client_id", "client_code"], name
        codes = dict(table(files, "episodes").select("client_id", "client_code").iter_rows())
        assert codes == {pid(history): "OLIVIA-7", pid(toms): "TOM-1"}
        assert json.loads(files["manifest.json"])["identified"] is True
        event = AuditEvent.objects.get(action="export.create")
        assert event.actor == admin_user and event.detail["identified"] is True
        assert event.detail["scope"] == "practice" and event.detail["n_clients"] == 2

    def test_nobody_else_may_add_client_codes_or_widen_the_scope(
        self, owner: User, colleague: User, history: Client
    ) -> None:
        response = post(owner, scope="mine", format="csv", identified="on")
        assert response.status_code == 400
        assert b"Only an admin may include the practice&#x27;s client codes" in response.content
        for user, scope in ((owner, "practice"), (owner, "team"), (colleague, "practice")):
            response = post(user, scope=scope, format="csv")
            assert response.status_code == 400, (user, scope)
            assert b"Select a valid choice" in response.content
        assert not AuditEvent.objects.filter(action="export.create").exists()

    def test_only_get_and_post_are_answered(self, owner: User) -> None:
        assert browser_for(owner).put("/exports/").status_code == 405


# ------------------------------------------------------------------ pseudonymisation


class TestPseudonymisation:
    @pytest.mark.parametrize("fmt", ["csv", "parquet", "fhir"])
    def test_no_name_email_code_or_free_text_in_any_byte(
        self, fmt: str, admin_user: User, owner: User, everyone: None
    ) -> None:
        for user, scope in ((admin_user, "practice"), (owner, "mine")):
            texts = texts_of(post(user, scope=scope, format=fmt))
            for secret in SECRETS:
                assert not any(secret in t for t in texts), (user, secret)
                assert not any(secret.lower() in t.lower() for t in texts), (user, secret)

    def test_ids_are_stable_across_exports_and_keyed(
        self, owner: User, history: Client, settings: Any
    ) -> None:
        first = table(members(post(owner, scope="mine", format="csv")), "scores")
        again = table(members(post(owner, scope="mine", format="csv")), "scores")
        assert first.get_column("client_id").unique().to_list() == [pid(history)]
        assert first.select("client_id", "episode_id").equals(
            again.select("client_id", "episode_id")
        )
        before = pid(history)
        settings.SECRET_KEY = "another-practice-secret-key-of-enough-length-1234567890"
        assert pid(history) != before  # keyed: without the practice's key, no link

    def test_the_pseudonym_depends_on_the_practice(self, history: Client) -> None:
        assert pseudonym(history.practice_id, "client", 1) != pseudonym(
            history.practice_id + 1, "client", 1
        )
        assert pseudonym(1, "client", 1) != pseudonym(1, "episode", 1)


# ------------------------------------------------------------------ rows and values


def counts_of(client: Client) -> dict[str, int]:
    administrations = Administration.objects.filter(session__episode__client=client)
    return {
        "scores": administrations.count(),
        "answers": sum(len(a.answers) for a in administrations),
        "sessions": Session.objects.filter(episode__client=client).count(),
        "episodes": Episode.objects.filter(client=client).count(),
    }


class TestTables:
    @pytest.mark.parametrize("fmt", ["csv", "parquet"])
    def test_row_counts_equal_the_records(self, fmt: str, owner: User, history: Client) -> None:
        files = members(post(owner, scope="mine", format=fmt))
        expected = counts_of(history)
        assert expected == {"scores": 5, "answers": 41, "sessions": 4, "episodes": 1}
        assert set(files) == {f"{n}.{fmt}" for n in expected} | {"manifest.json"}
        assert {n: table(files, n).height for n in expected} == expected
        assert json.loads(files["manifest.json"])["rows"] == expected
        for name in expected:
            assert table(files, name).columns == list(COLUMNS[name]), name

    def test_the_episode_row(self, owner: User, history: Client) -> None:
        [row] = table(members(post(owner, scope="mine", format="parquet")), "episodes").to_dicts()
        assert row["status"] == "finished" and row["dropout"] is False
        assert (row["sessions_attended"], row["sessions_missed"]) == (3, 1)
        assert (row["intake_session"], row["intake_score"]) == (1, 24.0)
        assert (row["last_session"], row["last_score"], row["n_scores"]) == (4, 18.0, 3)
        assert row["change"] == -6.0 and row["reliable_change"] == "improved"
        assert row["case_at_intake"] is True and row["recovered"] is False
        assert row["nhstt_counted"] is True and row["nhstt_reason"] is None
        assert row["nhstt_reliable_improvement"] is True
        assert row["nhstt_recovery"] is False  # PHQ-9 18 is still a case
        assert row["started_on"] == START and row["ended_on"] == START + timedelta(days=30)

    def test_the_score_rows(self, owner: User, history: Client) -> None:
        scores = table(members(post(owner, scope="mine", format="parquet")), "scores")
        phq9 = scores.filter(pl.col("instrument") == "phq9").sort("session")
        assert phq9.get_column("total").to_list() == [24.0, 8.0, 18.0]
        assert phq9.get_column("reliable_change").to_list() == [None, "improved", "improved"]
        assert phq9.get_column("risk_flag").to_list() == [False, False, True]
        assert phq9.get_column("risk_items").to_list() == [None, None, "phq9_9"]
        assert phq9.get_column("band").to_list()[0] == "severe"
        assert set(phq9.get_column("date").to_list()) == {
            START + timedelta(days=7 * n) for n in (1, 3, 4)
        }

    def test_a_period_lists_its_rows_and_judges_as_at_its_end(
        self, owner: User, history: Client
    ) -> None:
        since = START + timedelta(days=10)  # after session 1
        until = START + timedelta(days=22)  # before session 4 and the episode's end
        files = members(
            post(
                owner, scope="mine", format="csv", since=since.isoformat(), until=until.isoformat()
            )
        )
        scores = table(files, "scores")
        assert scores.get_column("session").to_list() == [3, 3]
        assert scores.get_column("intake_total").to_list() == [14.0, 24.0]  # intake before since
        [episode] = table(files, "episodes").to_dicts()
        assert episode["status"] == "active" and episode["ended_on"] is None
        assert episode["last_score"] == 8.0 and episode["nhstt_counted"] is False
        assert table(files, "sessions").get_column("session").to_list() == [2, 3]


# ------------------------------------------------------------------ FHIR


class TestFhir:
    def test_every_resource_is_valid_and_scores_to_the_stored_total(
        self, owner: User, history: Client
    ) -> None:
        response = post(owner, scope="mine", format="fhir")
        assert response.status_code == 200
        assert response["Content-Type"] == "application/fhir+json"
        assert response["Content-Disposition"].endswith('.json"')
        bundle = json.loads(response.content)
        fhir.validate_resource(bundle)
        assert bundle["type"] == "collection"
        kinds: dict[str, list[dict[str, Any]]] = {}
        for entry in bundle["entry"]:
            fhir.validate_resource(entry["resource"])
            assert entry["fullUrl"] == f"urn:uuid:{entry['resource']['id']}"
            kinds.setdefault(entry["resource"]["resourceType"], []).append(entry["resource"])
        assert {k: len(v) for k, v in kinds.items()} == {
            "Patient": 1,
            "QuestionnaireResponse": 5,
            "Observation": 5,
        }
        stored = sorted(
            Administration.objects.filter(session__episode__client=history).values_list(
                "score__total", flat=True
            )
        )
        rescored = sorted(
            fhir.score_response(r).score.total for r in kinds["QuestionnaireResponse"]
        )
        assert rescored == stored
        values = sorted(o["valueQuantity"]["value"] for o in kinds["Observation"])
        assert values == stored
        loinc = {
            c["code"]
            for o in kinds["Observation"]
            for c in o["code"]["coding"]
            if c["system"] == fhir.LOINC_SYSTEM
        }
        assert loinc == {"44261-6", "70274-6"}  # PHQ-9 and GAD-7 totals
        assert kinds["Patient"][0]["identifier"] == [
            {
                "system": "https://commonfactors.dev/fhir/NamingSystem/client-pseudonym",
                "value": pid(history),
            }
        ]


# ------------------------------------------------------------------ bad input


class TestBadInput:
    def test_every_problem_is_named_at_once(self, owner: User, history: Client) -> None:
        response = post(owner, scope="mine", format="xml", since="2024-13-01", until="tomorrow")
        assert response.status_code == 400
        text = response.content.decode()
        assert "Format</a>: Select a valid choice. xml is not one of the available choices." in text
        assert "From</a>: Enter a valid date." in text
        assert "To</a>: Enter a valid date." in text
        assert not AuditEvent.objects.filter(action="export.create").exists()

    def test_a_period_that_ends_before_it_starts(self, owner: User, history: Client) -> None:
        response = post(owner, scope="mine", format="csv", since="2024-05-02", until="2024-05-01")
        assert response.status_code == 400
        assert b"The period ends (2024-05-01) before it starts (2024-05-02)." in response.content

    def test_one_client_needs_a_client(self, owner: User, history: Client) -> None:
        response = post(owner, scope="client", format="csv")
        assert response.status_code == 400 and b"Choose the client to export." in response.content

    def test_an_answer_the_definition_does_not_offer_is_named_and_nothing_exported(
        self, owner: User, history: Client, tmp_path: Path
    ) -> None:
        """Raw answers are never edited; one stored before a definition changed its options
        cannot be coded in FHIR (the tables still list it as given)."""
        session = Session.objects.get(episode__client=history, number=2)
        odd = Administration.objects.create(
            session=session,
            instrument="gad7",
            definition_version="0.9.0",
            answers={f"gad7_{i}": 0 for i in range(1, 8)} | {"gad7_3": 5},
            answered_at=timezone.now(),
        )
        Score.objects.create(
            administration=odd, instrument="gad7", total=5, definition_version="0.9.0"
        )
        response = post(owner, scope="mine", format="fhir")
        assert response.status_code == 400
        assert b"item 3 (gad7_3): 5 is not an option (expected one of 0, 1, 2, 3)" in (
            response.content
        )
        with pytest.raises(CommandError, match="item 3 \\(gad7_3\\): 5 is not an option"):
            call_command("export", "--format", "fhir", "--out", str(tmp_path))
        assert list(tmp_path.iterdir()) == []
        assert not AuditEvent.objects.filter(action="export.create").exists()
        scores = table(members(post(owner, scope="mine", format="csv")), "scores")
        assert scores.filter(pl.col("session") == 2).get_column("total").to_list() == [5.0]


# ------------------------------------------------------------------ audit


class TestAudit:
    def test_every_export_is_audited(self, colleague: User, history: Client, toms: Client) -> None:
        post(colleague, scope="team", format="parquet", since="2020-01-01")
        event = AuditEvent.objects.get(action="export.create")
        assert event.actor == colleague
        assert event.detail["scope"] == "team" and event.detail["format"] == "parquet"
        assert event.detail["n_clients"] == 2
        assert sorted(event.detail["clients"]) == sorted([history.pk, toms.pk])
        assert event.detail["since"] == "2020-01-01" and event.detail["identified"] is False
        assert event.detail["rows"]["scores"] == 6

    def test_a_single_client_export_names_the_client(self, owner: User, history: Client) -> None:
        post(owner, scope="client", client=history.pk, format="fhir")
        event = AuditEvent.objects.get(action="export.create")
        assert event.client == history and event.detail["n_clients"] == 1
        assert event.detail["rows"] == {"Patient": 1, "QuestionnaireResponse": 5, "Observation": 5}

    def test_the_page_lists_ones_own_recent_exports(
        self, owner: User, teammate: User, history: Client
    ) -> None:
        post(owner, scope="mine", format="csv")
        page = browser_for(owner).get("/exports/").content.decode()
        assert "CSV tables (zip)" in page and "None yet." not in page
        assert "None yet." in browser_for(teammate).get("/exports/").content.decode()
        viewed = AuditEvent.objects.filter(action="exports.view", actor=owner).first()
        assert viewed is not None and viewed.detail["clients"] == [history.pk]


# ------------------------------------------------------------------ the command


class TestCommand:
    def test_it_writes_the_tables_of_the_practice(
        self, tmp_path: Path, history: Client, toms: Client, ottos: Client
    ) -> None:
        out = io.StringIO()
        call_command(
            "export",
            "--format",
            "csv",
            "--out",
            str(tmp_path / "x"),
            "--practice",
            str(history.practice_id),
            stdout=out,
        )
        written = {p.name for p in (tmp_path / "x").iterdir()}
        assert written == {
            "scores.csv",
            "answers.csv",
            "sessions.csv",
            "episodes.csv",
            "manifest.json",
        }
        episodes = pl.read_csv(tmp_path / "x" / "episodes.csv")
        assert set(episodes.get_column("client_id")) == {pid(history), pid(toms)}
        assert "pseudonymised; 2 clients" in out.getvalue()
        event = AuditEvent.objects.get(action="export.create")
        assert event.actor is None and event.actor_label == COMMAND_LINE
        assert event.detail["scope"] == "practice" and event.detail["n_clients"] == 2

    def test_it_writes_one_bundle_per_client(
        self, tmp_path: Path, history: Client, toms: Client
    ) -> None:
        call_command(
            "export",
            "--format",
            "fhir",
            "--out",
            str(tmp_path),
            "--per-client",
            "--identified",
            stdout=io.StringIO(),
        )
        names = {p.name for p in tmp_path.iterdir()}
        assert names == {f"{pid(history)}.json", f"{pid(toms)}.json", "manifest.json"}
        bundle = json.loads((tmp_path / f"{pid(history)}.json").read_text())
        fhir.validate_resource(bundle)
        patient = bundle["entry"][0]["resource"]
        assert {i["value"] for i in patient["identifier"]} == {pid(history), "OLIVIA-7"}

    def test_bad_options_are_all_named(
        self, tmp_path: Path, history: Client, ottos: Client
    ) -> None:
        afile = tmp_path / "a-file"
        afile.write_text("x")
        with pytest.raises(CommandError) as caught:
            call_command(
                "export",
                "--format",
                "xlsx",
                "--out",
                str(afile),
                "--since",
                "2024-02-30",
                "--until",
                "soon",
                "--per-client",
            )
        message = str(caught.value)
        for problem in (
            "unknown format 'xlsx': expected one of csv, parquet, fhir",
            "--since '2024-02-30' is not a date (YYYY-MM-DD)",
            "--until 'soon' is not a date (YYYY-MM-DD)",
            "--per-client is for --format fhir only",
            "is a file, not a directory",
            "name the practice with --practice",
        ):
            assert problem in message, problem
        assert afile.read_text() == "x"
        assert not AuditEvent.objects.filter(action="export.create").exists()

    def test_an_unknown_practice_and_a_backwards_period(
        self, tmp_path: Path, history: Client
    ) -> None:
        with pytest.raises(CommandError) as caught:
            call_command(
                "export",
                "--format",
                "parquet",
                "--out",
                str(tmp_path),
                "--practice",
                "Nowhere",
                "--since",
                "2024-06-01",
                "--until",
                "2024-01-01",
            )
        assert "--practice 'Nowhere' names no practice" in str(caught.value)
        assert "the period starts (2024-06-01) after it ends (2024-01-01)" in str(caught.value)
        assert list(tmp_path.iterdir()) == []


def test_the_export_page_needs_a_practice(db: None) -> None:
    """A superuser without a practice has nothing to export (403)."""
    root = User.objects.create_superuser("root", "root@example.org", "a-long-test-password")
    assert browser_for(root).get("/exports/").status_code == 403
    assert post(root, scope="practice", format="csv").status_code == 403
