"""The trajectory charts on the client page: drawn from the stored scores and signals, the
same chart as an interactive spec and as a cached static SVG, with a table of its values.
The charts add no URL: they are part of the client page and share its access check."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import altair as alt
import pytest
from django.core.cache import cache

from commonfactors.charts import STATUS_LABELS, expected_course
from commonfactors.trajectories import COMBINED_RULE, default_model
from commonfactors_web.accounts.models import User
from commonfactors_web.alerts.models import Signal, SignalKind
from commonfactors_web.checkins.services import record_past_session
from commonfactors_web.clients import charts
from commonfactors_web.clients.models import Attendance, Client
from commonfactors_web.clients.overview import history

from .helpers import browser_for

pytestmark = pytest.mark.django_db

STATIC = Path(charts.__file__).resolve().parents[1] / "static" / "commonfactors_web"
PHQ9 = [20, 18, 19, 23, 12]
GAD7 = [15, 14, 12, 13, 8]
ALLIANCE = [4, 4, 4, 2, 4]  # a drop of 2 below a steady 4: a rupture at session 4


def phq9(total: int) -> dict[str, int]:
    """PHQ-9 answers with this total and no risk answer (item 9 = 0)."""
    items = [min(3, max(0, total - 3 * i)) for i in range(8)] + [0]
    return {f"phq9_{i + 1}": v for i, v in enumerate(items)}


def gad7(total: int) -> dict[str, int]:
    return {f"gad7_{i + 1}": min(3, max(0, total - 3 * i)) for i in range(7)}


def alliance(level: int) -> dict[str, int]:
    return {f"cf_alliance_{i}": level for i in range(1, 5)}


def record(client: Client, n: int, entries: dict[str, dict[str, int]]) -> None:
    record_past_session(
        client.episodes.get(),
        n,
        date(2025, 1, 6) + timedelta(weeks=n - 1),
        Attendance.ATTENDED,
        {i: {"answers": a} for i, a in entries.items()},
    )


@pytest.fixture
def five_sessions(client_record: Client) -> Client:
    for n in range(1, 6):
        record(
            client_record,
            n,
            {
                "phq9": phq9(PHQ9[n - 1]),
                "gad7": gad7(GAD7[n - 1]),
                "cf_alliance": alliance(ALLIANCE[n - 1]),
            },
        )
    return client_record


def page(user: User | None, client: Client) -> Any:
    return browser_for(user).get(f"/clients/{client.pk}/")


def spec_of(html: str, instrument: str) -> dict[str, Any]:
    found = re.search(
        rf'<script id="trajectory-{instrument}-spec" type="application/json">(.*?)</script>',
        html,
        flags=re.S,
    )
    assert found, f"no spec for {instrument}"
    return dict(json.loads(found.group(1)))


def layer(spec: dict[str, Any], mark: str, **where: Any) -> dict[str, Any]:
    (found,) = [
        lay
        for lay in spec["layer"]
        if lay["mark"]["type"] == mark and all(lay["mark"].get(k) == v for k, v in where.items())
    ]
    return found


def test_the_client_page_shows_a_chart_per_outcome_instrument(
    owner: User, five_sessions: Client
) -> None:
    r = page(owner, five_sessions)
    html = r.content.decode()
    assert r.status_code == 200
    assert list(re.findall(r'<figure class="trajectory" id="([^"]+)"', html)) == [
        "trajectory-phq9",
        "trajectory-gad7",
    ]  # the primary outcome first; the alliance is not an outcome chart
    for i in ("phq9", "gad7"):
        # the interactive chart and the static image are described by the table of values
        assert f'aria-describedby="trajectory-{i}-keys trajectory-{i}-summary ' in html
        assert f'trajectory-{i}-table"' in html
        assert f'<table id="trajectory-{i}-table"' in html
    static = re.search(r'<div class="chart-static"[^>]*>(<svg.*?</svg>)</div>', html, re.S)
    assert static and "Session 5: PHQ-9 12 (-8 since intake)" in static.group(1)
    for script in ("vega-6.2.0.min.js", "vega-lite-6.4.1.min.js", "vega-embed-7.0.2.min.js"):
        assert f"vendor/{script}" in html
    assert "commonfactors_web/trajectory.js" in html
    assert "<script>" not in html  # nothing inline: CSP


def test_the_table_has_every_session_with_its_values(owner: User, five_sessions: Client) -> None:
    html = page(owner, five_sessions).content.decode()
    table = html.split('<table id="trajectory-phq9-table"', 1)[1].split("</table>", 1)[0]
    sessions = re.findall(r'<tr data-session="(\d+)" data-label="([^"]*)">', table)
    assert [int(s) for s, _ in sessions] == [1, 2, 3, 4, 5]
    assert sessions[3][1] == "Session 4: PHQ-9 23 (+3 since intake), not on track (red)"
    assert "rupture signalled" in table
    assert "<td>27 Jan 2025</td>" in table
    assert "Expected score" in table and "Red threshold" in table


def test_the_points_carry_the_signals_stored_at_each_session(
    owner: User, five_sessions: Client
) -> None:
    spec = spec_of(page(owner, five_sessions).content.decode(), "phq9")
    points = layer(spec, "point", filled=True)["data"]["values"]
    stored = {
        s.session_number: s.status
        for s in Signal.objects.filter(instrument="phq9", kind=SignalKind.OUTCOME)
    }
    assert [p["value"] for p in points] == PHQ9
    assert [p["signal"] for p in points] == [
        STATUS_LABELS[stored.get(p["session"]) or None] for p in points
    ]
    assert "Not on track (red)" in [p["signal"] for p in points]  # 23 after 20: reliably worse


def test_the_zones_are_the_stored_thresholds_then_the_models(
    owner: User, five_sessions: Client
) -> None:
    spec = spec_of(page(owner, five_sessions).content.decode(), "phq9")
    zones = {z["session"]: z for z in layer(spec, "area", opacity=0.22)["data"]["values"]}
    stored = Signal.objects.filter(instrument="phq9", session_number__gte=2)
    for s in stored:
        assert (zones[s.session_number]["from"], zones[s.session_number]["to"]) == (
            s.yellow_threshold,
            s.red_threshold,
        )
    # past the latest session: the model, with the bands the signals used (PHQ-9 and
    # GAD-7 together: yellow at the 80th percentile)
    projected = expected_course(default_model("phq9"), 20, [6, 7, 8], rule=COMBINED_RULE)
    assert sorted(zones) == [2, 3, 4, 5, 6, 7, 8]
    for e in projected:
        assert zones[e.session]["from"] == pytest.approx(e.yellow)
        assert zones[e.session]["to"] == pytest.approx(e.red)
    assert "SYNTHETIC" in " ".join(spec["title"]["subtitle"])


def test_the_rule_of_the_stored_signals_is_recognised(five_sessions: Client) -> None:
    (h,) = [h for h in history(five_sessions.episodes.get()) if h.instrument == "phq9"]
    data = charts.trajectory_data(h)
    judged = [r.signal for r in h.rows if r.signal is not None]
    assert charts.rule_of(default_model("phq9"), data.intake, judged) == COMBINED_RULE


def test_an_alliance_rupture_is_marked_on_each_outcome_chart(
    owner: User, five_sessions: Client
) -> None:
    assert Signal.objects.get(instrument="cf_alliance", session_number=4).status == "rupture"
    html = page(owner, five_sessions).content.decode()
    for i in ("phq9", "gad7"):
        rupture = layer(spec_of(html, i), "rule", strokeDash=[2, 3])
        assert [v["session"] for v in rupture["data"]["values"]] == [4]


def test_an_instrument_without_a_model_is_charted_without_an_expected_course(
    owner: User, client_record: Client
) -> None:
    who5 = {f"who5_{i}": 1 for i in range(1, 6)}
    record(client_record, 1, {"who5": who5})
    record(client_record, 2, {"who5": dict.fromkeys(who5, 3)})
    spec = spec_of(page(owner, client_record).content.decode(), "who5")
    assert not [lay for lay in spec["layer"] if lay["mark"]["type"] == "area"]
    assert spec["title"]["subtitle"][0].startswith("No expected-response model for the WHO-5")
    points = layer(spec, "point", filled=True)["data"]["values"]
    assert [p["value"] for p in points] == [20, 60]  # raw 5 and 15, times 4


def test_no_chart_and_no_scripts_without_scores(owner: User, client_record: Client) -> None:
    html = page(owner, client_record).content.decode()
    assert "trajectory-h" not in html and "vega" not in html


def test_the_static_svg_is_rendered_once_per_spec(
    owner: User, five_sessions: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    rendered: list[str] = []
    real = charts.to_svg

    def counting(spec: Any) -> str:
        rendered.append(spec["title"]["text"])
        return real(spec)

    monkeypatch.setattr(charts, "to_svg", counting)
    cache.clear()
    page(owner, five_sessions)
    assert rendered == ["PHQ-9 by session", "GAD-7 by session"]
    page(owner, five_sessions)
    assert len(rendered) == 2  # from the cache
    record(five_sessions, 6, {"phq9": phq9(10)})  # new data → a new spec and key
    page(owner, five_sessions)
    assert rendered[2:] == ["PHQ-9 by session"]


def test_the_spec_is_built_once_per_trajectory(
    owner: User, five_sessions: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[str] = []
    real = charts.trajectory_chart

    def counting(data: Any, **kw: Any) -> Any:
        built.append(data.instrument)
        return real(data, **kw)

    monkeypatch.setattr(charts, "trajectory_chart", counting)
    cache.clear()
    first = spec_of(page(owner, five_sessions).content.decode(), "phq9")
    assert built == ["phq9", "gad7"]
    assert spec_of(page(owner, five_sessions).content.decode(), "phq9") == first
    assert len(built) == 2
    record(five_sessions, 6, {"gad7": gad7(5)})
    page(owner, five_sessions)
    assert built[2:] == ["gad7"]


def test_the_spec_key_changes_with_the_data() -> None:
    a = {"layer": [{"data": {"values": [{"value": 1}]}}]}
    b = {"layer": [{"data": {"values": [{"value": 2}]}}]}
    assert charts.spec_key(a) != charts.spec_key(b)
    assert charts.spec_key(a) == charts.spec_key(json.loads(json.dumps(a)))


def test_the_charts_read_nothing_more_when_the_history_is_given(
    five_sessions: Client, django_assert_num_queries: Any
) -> None:
    episode = five_sessions.episodes.get()
    histories = history(episode)
    charts.episode_trajectories(episode, histories)  # warm the SVG cache
    with django_assert_num_queries(0):
        views = charts.episode_trajectories(episode, histories)
    assert [v.instrument for v in views] == ["phq9", "gad7"]


@pytest.mark.parametrize(
    ("who", "status", "chart"),
    [
        ("owner", 200, True),
        ("colleague", 200, True),
        ("teammate", 404, False),
        ("outsider", 404, False),
        ("admin_user", 404, False),
        (None, 302, False),
    ],
)
def test_the_chart_is_shown_only_to_those_who_may_see_the_client(
    request: pytest.FixtureRequest, five_sessions: Client, who: str | None, status: int, chart: bool
) -> None:
    user = request.getfixturevalue(who) if who else None
    r = page(user, five_sessions)
    assert r.status_code == status
    assert (b"trajectory-phq9-spec" in r.content) is chart
    assert (b"PHQ-9 20 (intake)" in r.content) is chart


# ------------------------------------------------------------------------------ vendored JS


def test_the_vendored_vega_lite_is_the_version_altair_writes() -> None:
    version = alt.SCHEMA_VERSION.lstrip("v")
    build = STATIC / "vendor" / f"vega-lite-{version}.min.js"
    assert build.exists(), f"vendor Vega-Lite {version} (altair.SCHEMA_VERSION)"
    assert f'"{version}"' in build.read_text(encoding="utf-8")[:2000]
    template = Path(charts.__file__).resolve().parents[1] / "templates/clients/_trajectory.html"
    assert f"vendor/vega-lite-{version}.min.js" in template.read_text(encoding="utf-8")


def test_every_vendored_file_has_its_licence_and_is_listed() -> None:
    vendor = STATIC / "vendor"
    readme = (vendor / "README.md").read_text(encoding="utf-8")
    for build in vendor.glob("*.js"):
        package = build.name.rsplit("-", 1)[0]
        assert (vendor / f"LICENSE-{package}.txt").exists(), package
        assert f"`{build.name}`" in readme
    assert (vendor / "THIRD-PARTY-NOTICES.txt").exists()
