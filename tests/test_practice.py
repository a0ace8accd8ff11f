"""Practice outcomes and therapist profiles, tested against values computed independently:
Wilson intervals from statsmodels' own implementation and Newcombe (1998) Table I, the
pre-post effect size worked by hand, and the multilevel model's ICC and shrunken estimates
against the balanced-design ANOVA estimators (which REML equals when the covariate's
therapist means are all equal) and statsmodels' own random effects."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest
from statsmodels.stats.proportion import proportion_confint

import commonfactors
from commonfactors.charts import to_svg
from commonfactors.practice import (
    MIN_CASELOAD,
    PracticeError,
    completeness,
    effect_size,
    funnel_chart,
    outcomes,
    therapist_profiles,
    trend,
)
from commonfactors.tidy import AdministrationRecord, EpisodeRecord, SessionRecord, tables

D0 = date(2025, 1, 1)


def episodes_frame(rows: list[dict[str, object]]) -> pl.DataFrame:
    """An episodes table with the tidy columns this module reads."""
    base: dict[str, object] = {
        "status": "finished",
        "ended_on": D0,
        "dropout": False,
        "intake_score": None,
        "last_score": None,
        "nhstt_counted": False,
        "nhstt_recovery": None,
        "nhstt_reliable_improvement": None,
        "nhstt_reliable_deterioration": None,
        "primary_instrument": "phq9",
        "therapist": "t",
        "team": "A",
    }
    full = [base | r for r in rows]
    return pl.DataFrame(
        full,
        schema={
            "status": pl.String,
            "ended_on": pl.Date,
            "dropout": pl.Boolean,
            "intake_score": pl.Float64,
            "last_score": pl.Float64,
            "nhstt_counted": pl.Boolean,
            "nhstt_recovery": pl.Boolean,
            "nhstt_reliable_improvement": pl.Boolean,
            "nhstt_reliable_deterioration": pl.Boolean,
            "primary_instrument": pl.String,
            "therapist": pl.String,
            "team": pl.String,
        },
    )


def row(frame: pl.DataFrame, measure: str) -> dict[str, object]:
    return frame.filter(pl.col("measure") == measure).row(0, named=True)


# ------------------------------------------------------------------ practice outcomes


def test_rates_count_the_right_episodes_with_wilson_intervals() -> None:
    rows: list[dict[str, object]] = []
    # 8 counted NHS TT courses: 6 cases at first (4 recovered), 5 reliably improved, 1 worse
    for i in range(8):
        rows.append(
            {
                "nhstt_counted": True,
                "nhstt_recovery": (i < 4) if i < 6 else None,
                "nhstt_reliable_improvement": i < 5,
                "nhstt_reliable_deterioration": i == 7,
            }
        )
    # 2 more ended episodes not counted (one dropped out), 1 active, 1 ended out of period
    rows.append({"status": "dropped_out", "dropout": True, "nhstt_counted": False})
    rows.append({"nhstt_counted": False})
    rows.append({"status": "active", "ended_on": None, "dropout": None})
    rows.append({"ended_on": D0 - timedelta(days=40), "nhstt_counted": True})
    frame = episodes_frame(rows)
    result = outcomes(frame, since=D0 - timedelta(days=30), until=D0)
    expected = {
        "episodes finished": (9, 10),
        "recovery": (4, 6),
        "reliable improvement": (5, 8),
        "reliable deterioration": (1, 8),
        "dropout": (1, 10),
    }
    for measure, (count, n) in expected.items():
        r = row(result, measure)
        assert (r["count"], r["n"]) == (count, n), measure
        low, high = proportion_confint(count, n, alpha=0.05, method="wilson")
        assert r["ci_low"] == pytest.approx(low, abs=1e-9)
        assert r["ci_high"] == pytest.approx(high, abs=1e-9)
        assert r["value"] == pytest.approx(count / n)


def test_wilson_interval_matches_newcombe_table_one() -> None:
    # Newcombe (1998) Table I: 0/10 -> 0.0000 to 0.2775 (Wilson score method)
    frame = episodes_frame([{"dropout": False} for _ in range(10)])
    r = row(outcomes(frame), "dropout")
    assert (r["count"], r["n"]) == (0, 10)
    assert r["ci_low"] == pytest.approx(0.0, abs=1e-4)
    assert r["ci_high"] == pytest.approx(0.2775, abs=1e-4)


def test_effect_size_worked_by_hand() -> None:
    # intake 10 14 18 22 (mean 16, SD sqrt(80/3)), last 6 10 10 14: improvement 4 4 8 8
    # d = 6 / sqrt(80/3) = 1.16189; r = 48 / sqrt(80 * 32) = 0.948683
    # SE = sqrt(2 (1 - r) / 4 + d^2 / 8) = 0.440918
    d, low, high, n = effect_size([10, 14, 18, 22], [6, 10, 10, 14])
    assert n == 4
    assert d == pytest.approx(1.161895, abs=1e-6)
    assert high - d == pytest.approx(1.959964 * 0.440918, abs=1e-5)
    assert d - low == pytest.approx(high - d)
    # where higher is better the same numbers are a deterioration
    assert effect_size([10, 14, 18, 22], [6, 10, 10, 14], lower_is_better=False)[0] == (
        pytest.approx(-1.161895, abs=1e-6)
    )
    assert all(math.isnan(v) for v in effect_size([5, 7], [1, 2])[:3])


def test_effect_size_row_and_groups_by_team() -> None:
    rows: list[dict[str, object]] = [
        {"intake_score": a, "last_score": b, "team": "A"}
        for a, b in zip([10, 14, 18, 22], [6, 10, 10, 14], strict=True)
    ]
    rows += [{"intake_score": 15, "last_score": 15, "team": "B"} for _ in range(2)]
    by_team = outcomes(episodes_frame(rows), by="team")
    a = by_team.filter((pl.col("team") == "A") & (pl.col("measure") == "pre-post effect size"))
    assert a.get_column("value")[0] == pytest.approx(1.161895, abs=1e-6)
    b = by_team.filter((pl.col("team") == "B") & (pl.col("measure") == "pre-post effect size"))
    assert b.get_column("value")[0] is None and b.get_column("n")[0] == 2
    assert sorted(set(by_team.get_column("team"))) == ["A", "B"]


def test_trend_is_by_month_of_the_end() -> None:
    rows: list[dict[str, object]] = [
        {"ended_on": date(2025, 1, 5)},
        {"ended_on": date(2025, 1, 30)},
    ]
    rows += [{"ended_on": date(2025, 3, 2), "status": "dropped_out", "dropout": True}]
    t = trend(episodes_frame(rows)).filter(pl.col("measure") == "dropout")
    assert t.get_column("month").to_list() == [date(2025, 1, 1), date(2025, 3, 1)]
    assert t.get_column("count").to_list() == [0, 1]
    assert t.get_column("n").to_list() == [2, 1]


def test_completeness_is_attended_sessions_with_a_checkin() -> None:
    sessions = pl.DataFrame(
        {
            "date": [D0 + timedelta(days=i) for i in range(7)],
            "attendance": ["attended"] * 5 + ["cancelled", "attended"],
            "instruments": ["phq9", "phq9 gad7", None, "gad7", "phq9", None, None],
        }
    )
    whole = completeness(sessions).row(0, named=True)
    assert (whole["count"], whole["n"]) == (4, 6)
    low, high = proportion_confint(4, 6, method="wilson")
    assert (whole["ci_low"], whole["ci_high"]) == (pytest.approx(low), pytest.approx(high))
    early = completeness(sessions, until=D0 + timedelta(days=2)).row(0, named=True)
    assert (early["count"], early["n"]) == (2, 3)


def test_bad_input_names_every_problem() -> None:
    with pytest.raises(PracticeError) as caught:
        outcomes(pl.DataFrame({"status": ["finished"]}))
    assert "column 'ended_on' is missing" in caught.value.problems
    assert "column 'nhstt_recovery' is missing" in caught.value.problems
    with pytest.raises(PracticeError, match="bad period"):
        outcomes(episodes_frame([{}]), since=D0, until=D0 - timedelta(days=1))


def test_it_works_on_the_tidy_episode_table() -> None:
    def adm(ep: str, session: int, instrument: str, value: int) -> AdministrationRecord:
        d = commonfactors.default_registry().definition(instrument)
        answers: dict[str, float | None] = {i.id: value for i in d.items}
        s = commonfactors.score(instrument, answers)
        return AdministrationRecord(
            "c-" + ep,
            ep,
            session,
            D0 + timedelta(days=7 * session),
            instrument,
            s.definition_version,
            answers,
            s.total,
            s.band,
            s.caseness,
            s.risk_items,
        )

    eps = [EpisodeRecord("c-e1", "e1", D0, D0 + timedelta(days=30), "finished")]
    sessions = [SessionRecord("e1", n, D0 + timedelta(days=7 * n), "attended") for n in (1, 2, 3)]
    adms = [adm("e1", 1, "phq9", 2), adm("e1", 1, "gad7", 2), adm("e1", 3, "phq9", 0)]
    adms.append(adm("e1", 3, "gad7", 0))
    t = tables(eps, sessions, adms)
    result = outcomes(t.episodes)
    assert row(result, "recovery")["count"] == 1
    assert row(result, "reliable improvement")["count"] == 1
    assert completeness(t.sessions).row(0, named=True)["count"] == 2


# ------------------------------------------------------------------ therapist profiles

INTAKES = [10.0, 12.0, 14.0, 16.0, 18.0, 20.0, 11.0, 13.0, 15.0, 17.0, 19.0, 21.0]
EFFECTS = {"ann": 6.0, "ben": 2.0, "cal": 4.5, "dee": 0.5}


def balanced() -> pl.DataFrame:
    """Four therapists, each with the same twelve intakes (so their intake means are equal),
    improvement = therapist effect + 0.3 * intake + noise; and one therapist with three."""
    rng = np.random.default_rng(7)
    rows: list[dict[str, object]] = []
    for name, effect in EFFECTS.items():
        for x in INTAKES:
            gain = effect + 0.3 * x + rng.normal(0, 2.0)
            rows.append({"therapist": name, "intake_score": x, "last_score": x - gain})
    for x in (12.0, 15.0, 18.0):
        rows.append({"therapist": "eve", "intake_score": x, "last_score": x - 5})
    return episodes_frame(rows)


def anova_estimates(frame: pl.DataFrame) -> tuple[float, float, dict[str, float]]:
    """tau2, sigma2 and therapist means of a balanced design with a covariate whose group
    means are equal, by the method of moments (within-group regression for sigma2)."""
    data = frame.filter(pl.col("therapist") != "eve")
    groups = sorted(EFFECTS)
    k, j = len(INTAKES), len(groups)
    x = {
        g: np.array(data.filter(pl.col("therapist") == g).get_column("intake_score"))
        for g in groups
    }
    y = {
        g: np.array(
            data.filter(pl.col("therapist") == g)
            .select(pl.col("intake_score") - pl.col("last_score"))
            .to_series()
        )
        for g in groups
    }
    sxx = sum(float(((x[g] - x[g].mean()) ** 2).sum()) for g in groups)
    sxy = sum(float(((x[g] - x[g].mean()) * (y[g] - y[g].mean())).sum()) for g in groups)
    slope = sxy / sxx
    ssw = sum(
        float(((y[g] - y[g].mean() - slope * (x[g] - x[g].mean())) ** 2).sum()) for g in groups
    )
    sigma2 = ssw / (k * j - j - 1)
    means = {g: float(y[g].mean()) for g in groups}
    grand = float(np.mean(list(means.values())))
    msb = k * sum((m - grand) ** 2 for m in means.values()) / (j - 1)
    return (msb - sigma2) / k, sigma2, means


def test_icc_and_variances_match_the_anova_estimators() -> None:
    frame = balanced()
    result = therapist_profiles(frame)
    tau2, sigma2, _ = anova_estimates(frame)
    assert tau2 > 0
    assert result.sigma2 == pytest.approx(sigma2, rel=1e-4)
    assert result.tau2 == pytest.approx(tau2, rel=1e-3)
    assert result.icc == pytest.approx(tau2 / (tau2 + sigma2), rel=1e-3)
    assert result.n_episodes == 48


def test_shrunken_estimates_match_the_empirical_bayes_formula_and_statsmodels() -> None:
    from statsmodels.regression.mixed_linear_model import MixedLM

    frame = balanced()
    result = therapist_profiles(frame)
    tau2, sigma2, means = anova_estimates(frame)
    grand = float(np.mean(list(means.values())))
    k = len(INTAKES)
    lam = tau2 / (tau2 + sigma2 / k)
    profiles = {r["therapist"]: r for r in result.profiles.iter_rows(named=True)}
    assert result.practice_mean == pytest.approx(grand, rel=1e-6)
    for name, mean in means.items():
        p = profiles[name]
        assert p["status"] == "shown" and p["n"] == k
        assert p["raw_mean"] == pytest.approx(mean)
        assert p["estimate"] == pytest.approx(grand + lam * (mean - grand), rel=1e-3)
        # balanced design: Var(b0) = (tau2 + sigma2 / k) / J exactly (GLS of the group means)
        var_b0 = (tau2 + sigma2 / k) / len(EFFECTS)
        half = 1.959964 * math.sqrt(lam * sigma2 / k + (1 - lam) ** 2 * var_b0)
        assert p["ci_high"] - p["estimate"] == pytest.approx(half, rel=1e-3)
        # the estimate lies between the practice mean and the therapist's own mean
        assert min(grand, mean) <= p["estimate"] <= max(grand, mean)
        # funnel limits at n = k around the practice mean
        assert p["limit95_high"] == pytest.approx(
            grand + 1.959964 * math.sqrt(tau2 + sigma2) / math.sqrt(k), rel=1e-3
        )
    # statsmodels' own predicted random effects agree
    data = frame.filter(pl.col("therapist") != "eve").sort("therapist")
    x = data.get_column("intake_score").to_numpy()
    y = (data.get_column("intake_score") - data.get_column("last_score")).to_numpy()
    fit = MixedLM(
        y, np.column_stack([np.ones_like(x), x - x.mean()]), groups=data.get_column("therapist")
    ).fit(reml=True)
    for name, effect in fit.random_effects.items():
        assert profiles[name]["estimate"] == pytest.approx(
            float(fit.fe_params[0]) + float(effect.iloc[0]), abs=1e-6
        )
    # the best therapist by the data is the best by the model
    assert max(profiles, key=lambda n: profiles[n]["estimate"] or -99) == "ann"


def test_small_caseloads_are_reported_as_too_few() -> None:
    result = therapist_profiles(balanced())
    eve = result.profiles.filter(pl.col("therapist") == "eve").row(0, named=True)
    assert eve["status"] == "too_few" and eve["n"] == 3
    assert eve["estimate"] is None and eve["ci_low"] is None
    assert MIN_CASELOAD == 10
    with pytest.raises(PracticeError) as caught:
        therapist_profiles(balanced(), min_caseload=13)
    assert "0 therapist(s) with at least 13" in caught.value.problems[0]


def test_funnel_chart_names_only_the_labelled_therapists() -> None:
    result = therapist_profiles(balanced())
    svg = to_svg(funnel_chart(result, labels={"ann": "Ann"}))
    assert "<svg" in svg and "Ann" in svg and "ben" not in svg


def test_no_therapist_variance_leaves_the_practice_mean_with_its_interval() -> None:
    # every therapist has exactly the same episodes: the therapist variance is 0, so each
    # estimate is the practice mean, and its interval that of the mean: 1.96 sqrt(s2 / N)
    # with s2 the residual variance of the regression on intake (N - 2 degrees of freedom)
    gains = [3.0, 7.0, 4.0, 9.0, 5.0, 6.0, 2.0, 8.0, 6.0, 4.0, 7.0, 5.0]
    rows: list[dict[str, object]] = [
        {"therapist": name, "intake_score": x, "last_score": x - g}
        for name in ("ann", "ben", "cal")
        for x, g in zip(INTAKES, gains, strict=True)
    ]
    result = therapist_profiles(episodes_frame(rows))
    x, y = np.array(INTAKES * 3), np.array(gains * 3)
    slope, intercept = np.polyfit(x - x.mean(), y, 1)
    s2 = float(((y - intercept - slope * (x - x.mean())) ** 2).sum()) / (len(y) - 2)
    assert result.tau2 == pytest.approx(0.0, abs=1e-6) and result.icc == pytest.approx(
        0.0, abs=1e-6
    )
    assert result.sigma2 == pytest.approx(s2, rel=1e-3)
    for p in result.profiles.iter_rows(named=True):
        assert p["estimate"] == pytest.approx(float(np.mean(gains)), abs=1e-4)
        half = p["ci_high"] - p["estimate"]
        assert half == pytest.approx(1.959964 * math.sqrt(s2 / len(y)), rel=1e-3)
