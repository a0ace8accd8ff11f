"""Trajectory charts: the Vega-Lite spec says what the data say, and renders without a
browser.

Expected values are computed here independently: the ETR model's published formula applied
to the coefficients in its JSON file, the PHQ-9's NHS Talking Therapies reliable-change
threshold (6 points) and caseness cut-off (10), the WHO-5's (10 points; 28-52 → ≤ 48).
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from importlib import resources
from typing import Any

import pytest
import vl_convert as vlc

from commonfactors.charts import (
    STATUS_LABELS,
    VEGA_LITE_VERSION,
    ChartError,
    ExpectedSession,
    SessionScore,
    expected_course,
    to_png,
    to_svg,
    trajectory,
    trajectory_chart,
)
from commonfactors.trajectories import COMBINED_RULE, DEFAULT_RULE, default_model

PHQ9 = [
    SessionScore(1, 20, "2025-01-06"),
    SessionScore(2, 18, "2025-01-13", "on_track"),
    SessionScore(3, 19, "2025-01-20", "yellow"),
    SessionScore(4, 23, "2025-01-27", "red"),
    SessionScore(5, 12, "2025-02-03", "on_track"),
]


def _model_file() -> dict[str, Any]:
    path = resources.files("commonfactors.trajectories") / "models/etr_phq9_synthetic.json"
    return dict(json.loads(path.read_text(encoding="utf-8")))


def _by_formula(intake: float, t: int) -> dict[str, float]:
    """score_q(t) = b0 + b1*intake + (b2 + b3*intake)*ln(min(t, max_session)), bands sorted
    and clipped to 0-27 (docs/trajectories.md)."""
    doc = _model_file()
    lt = math.log(min(t, doc["fitted"]["max_session"]))
    names = [f"p{round(q * 100)}" for q in doc["quantiles"]]
    raw = sorted(
        b0 + b1 * intake + (b2 + b3 * intake) * lt
        for b0, b1, b2, b3 in (doc["fitted"]["coef"][n] for n in names)
    )
    return {n: min(27.0, max(0.0, v)) for n, v in zip(names, raw, strict=True)}


def _layers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return list(spec["layer"])


def _layer(spec: dict[str, Any], mark: str, **where: Any) -> list[dict[str, Any]]:
    """Layers of this mark type whose mark properties include ``where``."""
    out = []
    for layer in _layers(spec):
        m = layer["mark"]
        m = m if isinstance(m, dict) else {"type": m}
        if m["type"] == mark and all(m.get(k) == v for k, v in where.items()):
            out.append(layer)
    return out


@pytest.fixture(scope="module")
def phq9_chart() -> tuple[Any, dict[str, Any]]:
    model = default_model("phq9")
    course = expected_course(model, 20, range(2, 9))
    data = trajectory("phq9", PHQ9, expected=course, model_label=model.label, ruptures=[4])
    return data, trajectory_chart(data).to_dict()


# ------------------------------------------------------------------------------ the data


def test_the_expected_course_is_the_models_formula() -> None:
    model = default_model("phq9")
    course = expected_course(model, 20, [2, 3, 5, 8], intake_session=1)
    assert [e.session for e in course] == [2, 3, 5, 8]
    for e in course:
        bands = _by_formula(20, e.session)
        assert e.expected == pytest.approx(bands["p50"], abs=1e-9)
        assert e.yellow == pytest.approx(bands["p75"], abs=1e-9)
        assert e.red == pytest.approx(bands["p90"], abs=1e-9)
        assert model.expected(20, e.session) == pytest.approx(bands)


def test_the_expected_course_counts_sessions_from_the_intake() -> None:
    """An intake at session 3: session 5 is t = 3."""
    course = expected_course(default_model("phq9"), 15, [2, 3, 5], intake_session=3)
    assert [e.session for e in course] == [5]
    assert course[0].expected == pytest.approx(_by_formula(15, 3)["p50"], abs=1e-9)


def test_the_combined_rule_uses_the_80th_percentile_for_yellow() -> None:
    (e,) = expected_course(default_model("phq9"), 20, [4], rule=COMBINED_RULE)
    assert e.yellow == pytest.approx(_by_formula(20, 4)["p80"], abs=1e-9)
    assert e.red == pytest.approx(_by_formula(20, 4)["p90"], abs=1e-9)
    (d,) = expected_course(default_model("phq9"), 20, [4], rule=DEFAULT_RULE)
    assert d.yellow == pytest.approx(_by_formula(20, 4)["p75"], abs=1e-9)


def test_the_reliable_change_band_and_caseness_come_from_the_definition() -> None:
    data = trajectory("phq9", PHQ9)
    assert data.reliable_threshold == 6  # NHS Talking Therapies: 6 points on the PHQ-9
    assert data.band == (14, 26)
    assert data.caseness == 10
    assert data.caseness_text == "caseness cut-off: ≥ 10"
    assert data.better == "lower"
    # clipped to the scale: intake 24 → 18 to 27, not 30
    assert trajectory("phq9", [SessionScore(1, 24)]).band == (18, 27)


def test_a_higher_is_better_instrument_keeps_its_direction() -> None:
    data = trajectory("who5", [SessionScore(1, 4), SessionScore(2, 40)])
    assert data.better == "higher"
    assert data.band == (0, 14)  # WHO-5: 10 points, clipped at 0
    assert data.caseness == 48
    assert data.caseness_text == "caseness cut-off: ≤ 48"
    svg = to_svg(trajectory_chart(data))
    assert "WHO-5 total (higher is better)" in svg
    assert "No expected-response model for the WHO-5" in svg


def test_an_instrument_without_cut_off_or_threshold_draws_neither() -> None:
    data = trajectory("wsas", [SessionScore(1, 30), SessionScore(2, 22)])
    assert (data.band, data.caseness, data.reliable_threshold) == (None, None, None)
    spec = trajectory_chart(data).to_dict()
    assert not _layer(spec, "rect") and not _layer(spec, "rule")
    assert "no reliable change" not in data.summary()


def test_every_problem_is_named_at_once() -> None:
    with pytest.raises(ChartError) as err:
        trajectory(
            "phq9",
            [SessionScore(1, 30), SessionScore(1, 5), SessionScore(0, 3, status="green")],  # type: ignore[arg-type]
            expected=[ExpectedSession(2, float("nan"), yellow=40)],
            ruptures=[-1],
        )
    text = "\n".join(err.value.problems)
    assert "scores: session numbers must be whole numbers of at least 1, not [0]" in text
    assert "scores: session(s) [1] given more than once" in text
    assert "status 'green' is not one of on_track, yellow, red" in text
    assert "session 1: score 30 is outside the PHQ-9 range 0-27" in text
    assert "expected session 2: expected must be a number, not nan" in text
    assert "expected session 2: yellow 40 is outside the PHQ-9 range 0-27" in text
    assert "ruptures: session numbers must be whole numbers of at least 1, not [-1]" in text
    assert "an expected course needs the label of the model it comes from" in text
    assert len(err.value.problems) == 8


def test_no_scores_is_refused() -> None:
    with pytest.raises(ChartError, match="at least the intake score"):
        trajectory("phq9", [])


def test_the_table_and_summary_say_what_the_chart_shows(phq9_chart: Any) -> None:
    data, _ = phq9_chart
    rows = data.table()
    assert [r["session"] for r in rows] == [1, 2, 3, 4, 5]
    assert [r["change"] for r in rows] == [None, -2, -1, 3, -8]
    assert [r["change_text"] for r in rows] == ["intake", "-2", "-1", "+3", "-8"]
    assert rows[3]["signal"] == "Not on track (red)" and rows[3]["rupture"] is True
    assert rows[1]["expected"] == round(_by_formula(20, 2)["p50"], 1)
    assert rows[0]["label"] == "Session 1: PHQ-9 20 (intake), not judged yet"
    assert rows[4]["label"] == "Session 5: PHQ-9 12 (-8 since intake), on track"
    assert data.summary() == (
        "PHQ-9, 5 scored sessions: 20 at the intake (session 1), 12 at session 5, "
        "reliably improved. Latest signal: on track. "
        "Alliance rupture signalled at session 4."
    )


# ------------------------------------------------------------------------------ the spec


def test_the_spec_is_valid_vega_lite_of_the_version_rendered() -> None:
    assert VEGA_LITE_VERSION in vlc.get_vegalite_versions()
    spec = trajectory_chart(trajectory("phq9", PHQ9)).to_dict(validate=True)
    assert spec["$schema"].endswith(f"v{VEGA_LITE_VERSION}.1.json") or (
        f"/v{VEGA_LITE_VERSION}" in spec["$schema"]
    )


def test_the_scores_layer_has_every_point_with_its_signal(phq9_chart: Any) -> None:
    _, spec = phq9_chart
    (points,) = _layer(spec, "point", filled=True)
    values = points["data"]["values"]
    assert [(v["session"], v["value"]) for v in values] == [(s.session, s.score) for s in PHQ9]
    assert [v["signal"] for v in values] == [STATUS_LABELS[s.status] for s in PHQ9]
    enc = points["encoding"]
    # told by shape as well as colour, with the same categories
    assert enc["shape"]["field"] == enc["color"]["field"] == "signal"
    assert enc["shape"]["scale"]["domain"] == enc["color"]["scale"]["domain"]
    assert len(set(enc["shape"]["scale"]["range"])) == len(enc["shape"]["scale"]["domain"])
    titles = [t["title"] for t in enc["tooltip"]]
    assert titles == [
        "Session",
        "Date",
        "PHQ-9 total",
        "Change since intake",
        "Signal",
        "Expected score",
    ]


def test_the_zones_are_the_signal_thresholds(phq9_chart: Any) -> None:
    _, spec = phq9_chart
    yellow, red = _layer(spec, "area")
    for row in yellow["data"]["values"]:
        bands = _by_formula(20, row["session"])
        assert row["from"] == pytest.approx(bands["p75"], abs=1e-9)
        assert row["to"] == pytest.approx(bands["p90"], abs=1e-9)
        assert row["worst"] == 27  # lower is better: the red zone runs to the top
    assert (yellow["encoding"]["y"]["field"], yellow["encoding"]["y2"]["field"]) == ("from", "to")
    assert (red["encoding"]["y"]["field"], red["encoding"]["y2"]["field"]) == ("to", "worst")
    assert [r["session"] for r in yellow["data"]["values"]] == list(range(2, 9))


def test_the_expected_curve_starts_at_the_intake(phq9_chart: Any) -> None:
    _, spec = phq9_chart
    (line,) = _layer(spec, "line", strokeDash=[8, 4])
    values = line["data"]["values"]
    assert values[0] == {"session": 1, "value": 20, "what": "intake"}
    assert values[1]["what"] == f"Expected score at session 2: {_by_formula(20, 2)['p50']:.1f}"
    assert [v["value"] for v in values[1:]] == [
        round(_by_formula(20, t)["p50"], 1) for t in range(2, 9)
    ]


def test_the_caseness_line_band_and_ruptures_are_drawn(phq9_chart: Any) -> None:
    _, spec = phq9_chart
    (caseness,) = _layer(spec, "rule", strokeDash=[6, 4])
    assert caseness["data"]["values"] == [{"value": 10, "label": "caseness cut-off: ≥ 10"}]
    (rupture,) = _layer(spec, "rule", strokeDash=[2, 3])
    assert [v["session"] for v in rupture["data"]["values"]] == [4]
    (band,) = _layer(spec, "rect")
    assert (band["data"]["values"][0]["low"], band["data"]["values"][0]["high"]) == (14, 26)
    (edges,) = _layer(spec, "rule", strokeDash=[1, 3])
    assert edges["data"]["values"] == [{"edge": 14}, {"edge": 26}]


def test_the_model_label_is_on_the_chart(phq9_chart: Any) -> None:
    data, spec = phq9_chart
    subtitle = " ".join(spec["title"]["subtitle"])
    assert "SYNTHETIC" in data.model_label
    assert subtitle == f"Expected course: {data.model_label}"


def test_the_focus_parameter_rings_one_session(phq9_chart: Any) -> None:
    _, spec = phq9_chart
    assert {"name": "focus", "value": None} in spec["params"]
    focus = [
        layer
        for layer in _layers(spec)
        if any("focus" in str(t.get("filter", "")) for t in layer.get("transform", []))
    ]
    assert [f["mark"]["type"] for f in focus] == ["point", "text", "text"]


# ------------------------------------------------------------------------------ rendering


def test_the_svg_renders_every_point_and_the_label(phq9_chart: Any) -> None:
    data, spec = phq9_chart
    svg = to_svg(spec)
    assert svg.startswith("<svg")
    labels = re.findall(r'aria-label="([^"]*)"', svg)
    for row in data.table():
        # once for screen readers (the larger pointer target under it is hidden from them)
        assert labels.count(row["label"]) == 1, row["label"]
    points = re.findall(r'<path [^>]*aria-roledescription="point"[^>]*>', svg)
    assert len(points) >= len(data.scores)
    assert "SYNTHETIC reference data" in svg
    assert "caseness cut-off: ≥ 10" in svg
    assert "alliance rupture" in svg
    assert "Session 3: 19" not in svg  # no focus ring in a static image
    spec_focused = {**spec, "params": [{"name": "focus", "value": 3}]}
    assert "Session 3: 19" in to_svg(spec_focused)


def test_the_svg_has_no_script_style_or_ids(phq9_chart: Any) -> None:
    """It is put into the page as it is, under a CSP without inline styles."""
    svg = to_svg(phq9_chart[1])
    assert "<script" not in svg and "style=" not in svg and " id=" not in svg


def test_the_png_is_an_image_at_twice_the_size(phq9_chart: Any) -> None:
    png = to_png(trajectory_chart(phq9_chart[0]), scale=2)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    svg = to_svg(phq9_chart[1])
    svg_w, svg_h = (int(v) for v in re.search(r'width="(\d+)" height="(\d+)"', svg).groups())  # type: ignore[union-attr]
    assert (width, height) == (2 * svg_w, 2 * svg_h)


def test_the_charts_module_loads_no_django() -> None:
    code = (
        "import sys, commonfactors.charts\n"
        "web = ('django', 'commonfactors_web')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in web))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
