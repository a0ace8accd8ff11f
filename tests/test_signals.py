"""Not-on-track signals and alliance ruptures: rules on hand-made histories, and the
batch twins agree with the single-episode functions."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest

from commonfactors import default_registry
from commonfactors.instruments.schema import Cutoff, ReliableChange
from commonfactors.trajectories import (
    COMBINED_RULE,
    DEFAULT_RULE,
    AllianceRule,
    ExpectedTreatmentResponse,
    SignalRule,
    TrajectoryError,
    alliance_frame,
    alliance_rule,
    alliance_signal,
    default_model,
    explain_rule,
    pooled_within_sd,
    signal,
    signal_frame,
    signal_summary,
)


def flat_model(instrument: str, offsets: dict[str, float]) -> ExpectedTreatmentResponse:
    """A model whose bands are the intake plus fixed offsets at every session."""
    doc = {
        "format": "commonfactors.model",
        "format_version": 1,
        "kind": "etr_loglinear_quantile",
        "instrument": instrument,
        "better": None,
        "quantiles": [int(k[1:]) / 100 for k in offsets],
        "score_range": None,
        "reference": {
            "label": "hand-made test bands",
            "description": "hand-made test bands",
            "synthetic": True,
            "episodes": 0,
            "sessions": 0,
            "fitted_with": "tests",
        },
        "params": {
            "better": None,
            "min_episodes_per_session": 1,
            "max_session": None,
            "max_iter": 1,
        },
        "fitted": {"max_session": 40, "coef": {k: [v, 1.0, 0.0, 0.0] for k, v in offsets.items()}},
    }
    return ExpectedTreatmentResponse.from_json(json.dumps(doc))


#: PHQ-9 bands: expected = intake − 2; yellow above intake; red above intake + 2.
PHQ9 = flat_model(
    "phq9", {"p10": -6, "p20": -5, "p25": -4, "p50": -2, "p75": 0, "p80": 1, "p90": 2}
)
#: WHO-5 (higher is better): the mirror image.
WHO5 = flat_model(
    "who5", {"p10": -20, "p20": -10, "p25": -5, "p50": 5, "p75": 10, "p80": 12, "p90": 15}
)


# ------------------------------------------------------------------------------ signals


def test_a_client_improving_as_expected_is_on_track() -> None:
    s = signal([15, 12, 11], PHQ9)
    assert s.status == "on_track" and s.reliable_deterioration is False
    assert (s.session, s.score, s.intake, s.change, s.expected) == (3, 11.0, 15.0, -4.0, 13.0)
    assert "at or below the 75th percentile (15)" in s.reasons[-1]


def test_less_change_than_expected_is_yellow_and_worse_is_red() -> None:
    assert signal([15, 16], PHQ9).status == "yellow"
    assert signal([15, 15], PHQ9).status == "on_track"  # at the band is not above it
    red = signal([15, 18], PHQ9)
    assert red.status == "red" and red.reliable_deterioration is False
    assert (red.yellow_threshold, red.red_threshold) == (15.0, 17.0)
    assert "above the 90th percentile (17)" in red.reasons[-1]


def test_a_reliable_deterioration_of_six_phq9_points_is_red() -> None:
    wide = flat_model("phq9", {"p10": -6, "p25": -4, "p50": -2, "p75": 8, "p90": 10})
    s = signal([10, 16], wide)
    assert s.reliable_deterioration is True and s.status == "red"
    assert s.reliable_change_threshold == 6.0
    assert "reliably worse (threshold 6 points)" in s.reasons[0]
    assert signal([10, 15], wide).reliable_deterioration is False
    assert signal([10, 15], wide).status == "on_track"
    lenient = SignalRule(deterioration_is_red=False)
    assert signal([10, 16], wide, rule=lenient).status == "on_track"
    assert signal([10, 16], wide, rule=lenient).reliable_deterioration is True


def test_the_shipped_default_judges_clear_cases() -> None:
    assert signal([18, 14, 10, 8]).status == "on_track"
    worse = signal([18, 22, 24])
    assert worse.status == "red" and worse.reliable_deterioration is True
    assert worse.model == default_model("phq9").label and "SYNTHETIC" in worse.model
    assert "SYNTHETIC" in worse.rule


def test_an_intake_alone_is_not_judged() -> None:
    s = signal([15], PHQ9)
    assert s.status is None and s.reliable_deterioration is None
    assert "is the intake" in s.reasons[0]
    assert signal([], PHQ9).reasons == ("no scores yet",)
    s = signal({1: None, 2: 14, 4: 18}, PHQ9)  # intake at the first scored session
    assert (s.intake, s.session, s.status) == (14.0, 4, "red")
    assert [x.status for x in s.sessions] == [None, None, "red"]


def test_higher_is_better_instruments_are_mirrored() -> None:
    assert signal([40, 50], WHO5).status == "on_track"
    s = signal([40, 34], WHO5)  # below the 25th percentile (35), above the 10th (20)
    assert s.status == "yellow" and s.reliable_deterioration is False
    assert (s.yellow_threshold, s.red_threshold) == (35.0, 20.0)
    assert "below the 25th percentile (35)" in s.reasons[-1]
    assert signal([40, 30], WHO5).reliable_deterioration is True  # 10 points lower
    assert signal([40, 19], WHO5).status == "red"


def test_the_rule_is_explained_with_its_thresholds_sources_and_model() -> None:
    text = explain_rule(PHQ9)
    assert "above the 90th percentile" in text and "above the 75th percentile" in text
    assert "6 or more points higher than at intake" in text and "NHS Talking Therapies" in text
    assert "hand-made test bands" in text
    assert signal([15, 18], PHQ9).rule == text


def test_the_explanation_follows_the_model_when_it_is_refitted() -> None:
    """The rule's wording is kept per fitted state (it is asked for at every signal): a
    model refitted on other data is explained anew, never with its old bands."""
    model = flat_model("phq9", {"p10": -6, "p25": -4, "p50": -2, "p75": 0, "p90": 2})
    before = explain_rule(model)
    assert "hand-made test bands" in before
    rows = [
        {"episode_id": e, "session": s, "score": 20.0 - s * (1 + e % 3)}
        for e in range(60)
        for s in range(1, 7)
    ]
    model.fit(pl.DataFrame(rows))
    after = explain_rule(model)
    assert after != before and "hand-made test bands" not in after
    assert signal([15, 18], model).rule == after


def test_a_rule_must_fit_the_model() -> None:
    with pytest.raises(TrajectoryError, match="p70"):
        signal([15, 18], PHQ9, rule=SignalRule(yellow=0.7))
    with pytest.raises(TrajectoryError, match="yellow < red"):
        signal([15, 18], PHQ9, rule=SignalRule(yellow=0.9, red=0.75))
    assert signal([15, 16], PHQ9).status == "yellow"  # above the 75th percentile (15)
    assert signal([15, 16], PHQ9, rule=COMBINED_RULE).status == "on_track"  # not above the 80th
    assert DEFAULT_RULE.bands(PHQ9) == ("p75", "p90")


def test_bad_histories_name_the_problem() -> None:
    with pytest.raises(TrajectoryError, match="not a number"):
        signal([15, "x"], PHQ9)  # type: ignore[list-item]
    with pytest.raises(TrajectoryError, match="outside the PHQ-9 range"):
        signal([15, 30], PHQ9)


def random_histories(n: int, seed: int) -> list[list[float | None]]:
    rng = np.random.default_rng(seed)
    out: list[list[float | None]] = []
    for _ in range(n):
        length = int(rng.integers(0, 14))
        h: list[float | None] = [
            float(v) for v in np.clip(rng.normal(14, 6, length).round(), 0, 27)
        ]
        for i in range(length):
            if rng.random() < 0.1:
                h[i] = None
        out.append(h)
    return out


@pytest.mark.parametrize("model", [PHQ9, None], ids=["hand-made", "shipped"])
def test_the_batch_twin_equals_the_single_signal(model: ExpectedTreatmentResponse | None) -> None:
    histories = random_histories(80, seed=3)
    frame = pl.DataFrame(
        [
            {"episode_id": e, "session": s, "score": v}
            for e, h in enumerate(histories)
            for s, v in enumerate(h, 1)
        ],
        schema={"episode_id": pl.Int64, "session": pl.Int64, "score": pl.Float64},
    )
    batch = signal_frame(frame, model)
    summary = signal_summary(batch).sort("episode_id")
    for e, h in enumerate(histories):
        one = signal(h, model)
        rows = batch.filter(pl.col("episode_id") == e)
        assert [x.status for x in one.sessions] == rows["status"].to_list()
        assert [x.red_threshold for x in one.sessions] == rows["red_threshold"].to_list()
        assert [x.reliable_deterioration for x in one.sessions] == rows[
            "reliable_deterioration"
        ].to_list()
        if h and any(v is not None for v in h):
            row = summary.filter(pl.col("episode_id") == e).row(0, named=True)
            assert row["status"] == next(
                (x.status for x in reversed(one.sessions) if x.status), None
            )


def test_signal_frame_keeps_other_columns_and_accepts_pandas() -> None:
    frame = pl.DataFrame(
        {
            "ep": [1, 1, 2, 2],
            "visit": [1, 2, 1, 2],
            "phq": [15, 18, 10, 9],
            "site": ["a", "a", "b", "b"],
        }
    )
    out = signal_frame(frame.to_pandas(), PHQ9, episode="ep", session="visit", score="phq")
    assert out.columns[:4] == ["ep", "visit", "phq", "site"]
    assert out["status"].to_list() == [None, "red", None, "on_track"]
    assert out["model"].unique().to_list() == ["hand-made test bands"]
    summary = signal_summary(out, episode="ep", session="visit")
    assert summary["first_red_session"].to_list() == [2, None]


# ------------------------------------------------------------------------------ alliance


def wai_with(reliable: float | None, cutoff: float | None) -> AllianceRule:
    d = default_registry().definition("wai_sr")
    update: dict[str, object] = {}
    if reliable is not None:
        update["reliable_change"] = ReliableChange(
            basis="published", threshold=reliable, source="test RC"
        )
    if cutoff is not None:
        update["cutoffs"] = (
            Cutoff(id="weak", description="weak", value=cutoff, op="<=", source="test cut-off"),
        )
    return alliance_rule(d.model_copy(update=update))


def test_an_instrument_without_threshold_or_cutoff_needs_the_within_client_rule() -> None:
    with pytest.raises(TrajectoryError, match="within_sd"):
        alliance_rule("wai_sr")
    rule = alliance_rule("wai_sr", within_sd=2.5, within_sd_source="our 2024 data")
    assert rule.basis == "within_client" and rule.k == 2.0
    assert "WAI-SR states neither a reliable-change threshold nor a cut-off" in rule.source
    assert "Stiles" in rule.describe() and "our 2024 data" in rule.describe()


def test_a_reliable_drop_is_a_rupture_and_recovery_repairs_it() -> None:
    rule = wai_with(reliable=5, cutoff=None)
    assert rule.basis == "reliable_change" and rule.drop_inclusive
    s = alliance_signal([50, 52, 46, 51, 52], rule)
    assert [x.status for x in s.sessions] == [
        "stable",
        "stable",
        "rupture",
        "unrepaired",
        "repaired",
    ]
    assert s.ruptures == ((3, 5),) and not s.open
    assert "fell 6 points from 52 (threshold 5)" in s.reasons[0]
    assert alliance_signal([50, 45], rule).ruptures == ((2, None),)  # exactly 5: inclusive
    assert alliance_signal([50, 45], rule).open
    assert alliance_signal([50, 46], rule).ruptures == ()


def test_falling_below_the_cutoff_is_a_rupture() -> None:
    rule = wai_with(reliable=5, cutoff=36)
    assert rule.basis == "reliable_change_and_cutoff"
    s = alliance_signal([40, 36, 37], rule)
    assert [x.status for x in s.sessions] == ["stable", "rupture", "repaired"]
    assert "<= the cut-off 36" in s.reasons[0]
    assert alliance_signal([35, 35, 38], rule).ruptures == ((1, 3),)  # below from the start


def test_the_within_client_rule_uses_the_clients_own_mean_and_spread() -> None:
    rule = alliance_rule(None, within_sd=0.3)
    s = alliance_signal([4.0, 4.2, 4.1, 3.0, 3.5, 4.2, 4.1], rule)
    assert [x.status for x in s.sessions] == [
        "stable",
        "stable",
        "stable",
        "rupture",
        "unrepaired",
        "repaired",
        "stable",
    ]
    assert s.sessions[3].baseline == pytest.approx(4.1) and s.sessions[
        3
    ].rupture_threshold == pytest.approx(0.6)
    # a client whose ratings swing: after three sessions their own SD (1.0) sets the bar
    swinging = [3.0, 4.0, 5.0, 3.0]
    assert alliance_signal(swinging, rule).ruptures == ()
    assert alliance_signal(swinging, rule).sessions[3].rupture_threshold == pytest.approx(2.0)
    strict = alliance_rule(None, within_sd=0.3, own_sd=False)
    assert alliance_signal(swinging, strict).ruptures == ((4, None),)


def test_the_alliance_batch_twin_equals_the_single_signal() -> None:
    rule = alliance_rule(None, within_sd=0.3, k=1.5)
    rng = np.random.default_rng(8)
    histories = [
        list(np.clip(rng.normal(4, 0.5, int(rng.integers(1, 12))), 1, 5).round(2))
        for _ in range(120)
    ]
    frame = pl.DataFrame(
        [
            {"episode_id": e, "session": s, "alliance": float(v)}
            for e, h in enumerate(histories)
            for s, v in enumerate(h, 1)
        ]
    )
    batch = alliance_frame(frame, rule)
    for e, h in enumerate(histories):
        one = alliance_signal([float(v) for v in h], rule)
        rows = batch.filter(pl.col("episode_id") == e)
        assert [x.status for x in one.sessions] == rows["alliance_status"].to_list()
        assert [x.rupture_session for x in one.sessions] == rows["rupture_session"].to_list()


def test_pooled_within_sd() -> None:
    frame = pl.DataFrame(
        {
            "episode_id": [1, 1, 2, 2, 3],
            "session": [1, 2, 1, 2, 1],
            "alliance": [4.0, 5.0, 3.0, 3.0, 1.0],
        }
    )
    assert pooled_within_sd(frame) == pytest.approx((0.5**2 * 2 / 2) ** 0.5)
