"""Reliable and clinically significant change, tested against published results and values
derived by hand (the arithmetic is in the comments), never against the code itself."""

from __future__ import annotations

import math
import statistics
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pytest

from commonfactors import default_registry
from commonfactors.change import (
    CATEGORIES,
    Z_95,
    Z_975,
    ChangeError,
    clinical_cutoff,
    clinical_significance,
    reliable_change,
    reliable_change_frame,
)
from commonfactors.change._hlm import fit_slopes, slopes
from commonfactors.change._pairs import ID, T, Y
from commonfactors.instruments.schema import ReliableChange

DATA = Path(__file__).parent / "data" / "change"

# --------------------------------------------------------------------------------------
# A small data set computed by hand.
#
# pre  = 12, 16, 20, 24, 28   mean 20, deviations -8 -4 0 4 8, SS 160, var 40, SD 6.324555
# post = 30,  6, 13, 10, 28   mean 17.4, deviations 12.6 -11.4 -4.4 -7.4 10.6,
#                             SS 158.76+129.96+19.36+54.76+112.36 = 475.2, var 118.8
# pre-post covariance: (-8)(12.6) + (-4)(-11.4) + 0 + 4(-7.4) + 8(10.6) = 0, so r12 = 0
# reliability r = 0.8; lower scores are better.
# Cut-off a (sample): 20 - 2 x 6.324555 = 7.350889.

PRE = [12.0, 16.0, 20.0, 24.0, 28.0]
POST = [30.0, 6.0, 13.0, 10.0, 28.0]


def _long(pre: list[float], post: list[float], ids: list[str] | None = None) -> pl.DataFrame:
    ids = ids or [f"c{i + 1}" for i in range(len(pre))]
    return pl.DataFrame(
        {
            "client": ids + ids,
            "when": ["pre"] * len(ids) + ["post"] * len(ids),
            "score": pre + post,
        }
    )


def _run(method: str, **kwargs: object) -> pl.DataFrame:
    args: dict[str, object] = {"reliability": 0.8, "method": method, **kwargs}
    return clinical_significance(
        _long(PRE, POST),
        id="client",
        time="when",
        outcome="score",
        pre="pre",
        post="post",
        **args,  # type: ignore[arg-type]
    )


def _rci(result: pl.DataFrame) -> list[float]:
    return result.get_column("rci").to_list()


def _cats(result: pl.DataFrame) -> list[str]:
    return result.get_column("category").to_list()


def test_jt_by_hand() -> None:
    # S_diff = sqrt(2 x 40 x (1 - 0.8)) = sqrt(16) = 4; RC = change / 4
    # changes +18 -10 -7 -14 0 -> RC 4.5 -2.5 -1.75 -3.5 0
    res = _run("jt")
    assert _rci(res) == pytest.approx([4.5, -2.5, -1.75, -3.5, 0.0])
    assert res.get_column("change").to_list() == [18.0, -10.0, -7.0, -14.0, 0.0]
    assert res.get_column("cutoff")[0] == pytest.approx(20 - 2 * math.sqrt(40))
    # c1 worse by 4.5 SDs, clinical before and after: deteriorated; c2 improved and ends at
    # 6 < 7.35: recovered; c4 improved but ends at 10: improved
    assert _cats(res) == ["deteriorated", "recovered", "unchanged", "improved", "unchanged"]
    assert res.columns[:6] == ["id", "pre", "post", "change", "rci", "category"]
    assert res.get_column("id").to_list() == ["c1", "c2", "c3", "c4", "c5"]


def test_gln_by_hand() -> None:
    # predicted post = 0.8 (pre - 20) + 20 = 13.6 16.8 20 23.2 26.4
    # post - predicted = 16.4 -10.8 -7 -13.2 1.6; SE of prediction = 6.324555 x sqrt(1 - .64)
    # = 3.794733 -> 4.321779 -2.846050 -1.844662 -3.478505 0.421637
    res = _run("gln")
    assert _rci(res) == pytest.approx(
        [4.321779, -2.846050, -1.844662, -3.478505, 0.421637], abs=1e-6
    )
    assert _cats(res) == ["deteriorated", "recovered", "unchanged", "improved", "unchanged"]


def test_hll_by_hand() -> None:
    # (post - 17.4) - 0.8 (pre - 20) = 19.0 -8.2 -4.4 -10.6 4.2; / 3.794733
    # -> 5.006940 -2.160890 -1.159502 -2.793345 1.106797
    res = _run("hll")
    assert _rci(res) == pytest.approx(
        [5.006940, -2.160890, -1.159502, -2.793345, 1.106797], abs=1e-6
    )
    assert _cats(res) == ["deteriorated", "recovered", "unchanged", "improved", "unchanged"]


def test_en_by_hand() -> None:
    # post - estimated true pre = 16.4 -10.8 -7 -13.2 1.6; SE = 6.324555 x sqrt(.2) = 2.828427
    # -> 5.798276 -3.818377 -2.474874 -4.666905 0.565685: c3 (-2.47) is now improved
    res = _run("en")
    assert _rci(res) == pytest.approx(
        [5.798276, -3.818377, -2.474874, -4.666905, 0.565685], abs=1e-6
    )
    assert _cats(res) == ["deteriorated", "recovered", "improved", "improved", "unchanged"]


def test_nk_by_hand_and_with_a_post_reliability() -> None:
    # denominator sqrt(r^2 SD^2 (1 - r) + SD^2 (1 - r_post)) = sqrt(.64x40x.2 + 40x.2)
    # = sqrt(13.12) = 3.622154 -> 4.527693 -2.981651 -1.932552 -3.644240 0.441726;
    # c3: -7 / 3.622154 = -1.932552, just short of 1.959964
    res = _run("nk")
    assert _rci(res) == pytest.approx(
        [4.527693, -2.981651, -1.932552, -3.644240, 0.441726], abs=1e-6
    )
    assert _cats(res)[2] == "unchanged"
    # r_post = .9: sqrt(5.12 + 40 x .1) = sqrt(9.12) = 3.019934 -> c3: -2.317931, improved
    res = _run("nk", reliability_post=0.9)
    assert _rci(res)[2] == pytest.approx(-7 / math.sqrt(9.12))
    assert _cats(res)[2] == "improved"


def test_ha_by_hand() -> None:
    # SE^2 = 40 x .2 = 8; r_pre = .8; r_post = (118.8 - 8) / 118.8 = .932660
    # r12 = 0, so r_dd = (40 x .8 + 118.8 x .932660) / (40 + 118.8) = 142.8 / 158.8 = .899244
    # RC = [change x .899244 + (17.4 - 20)(1 - .899244)] / (sqrt(.899244) x sqrt(2 x 8))
    #    = [change x .899244 - .261965] / 3.793139
    #   -> 4.198219 -2.439775 -1.728561 -3.388060 -0.069063
    res = _run("ha")
    assert _rci(res) == pytest.approx(
        [4.198219, -2.439775, -1.728561, -3.388060, -0.069063], abs=1e-6
    )
    # one-tailed 1.644854: c3 (-1.73) is improved
    # true-score cut-off a = 20 - 2 x 6.324555 x sqrt(.8) = 8.686292
    # CSI = [17.4 + (post - 17.4) x .932660 - 8.686292] / (sqrt(.932660) x 2.828427)
    #   c1: (29.151515 - 8.686292) / 2.731535 = 7.492208 (clinical) -> harmed
    #   c2: (6.767677 - 8.686292) / 2.731535 = -0.702395 (not significantly functional)
    assert res.get_column("cutoff")[0] == pytest.approx(8.686292, abs=1e-6)
    assert res.get_column("csi").to_list()[:2] == pytest.approx([7.492208, -0.702395], abs=1e-6)
    assert _cats(res) == ["harmed", "improved", "improved", "improved", "unchanged"]


# --------------------------------------------------------------------------------------
# Jacobson & Truax (1991), Table 2: 30 couples' Dyadic Adjustment Scale (DAS, higher is
# better) and Global Distress Scale (GDS, lower is better) scores before and after marital
# therapy; GDS is missing after therapy for couples 27-30. Sources of the transcription:
# tests/data/change/README.md.


def _jt1991() -> pl.DataFrame:
    return pl.read_csv(DATA / "jacobson_truax_1991.csv")


@pytest.mark.parametrize(
    ("method", "counts"),
    [
        # R: clinical_significance(jacobson_1989, subject, time, gds, pre = "pre",
        #    reliability = 0.8, method = "JT")  -> Recovered 10, Improved 4, Unchanged 12
        ("jt", {"recovered": 10, "improved": 4, "unchanged": 12}),
        ("gln", {"recovered": 12, "improved": 4, "unchanged": 10}),
        ("hll", {"recovered": 7, "unchanged": 11, "deteriorated": 8}),
        ("en", {"recovered": 12, "improved": 5, "unchanged": 9}),
        ("nk", {"recovered": 12, "improved": 4, "unchanged": 10}),
        ("ha", {"recovered": 7, "improved": 10, "unchanged": 9}),
    ],
)
def test_the_r_package_documented_results_on_jacobson_truax_table_2(
    method: str, counts: dict[str, int]
) -> None:
    # The counts the R package clinicalsignificance publishes for its jacobson_1989 data
    # (tests/testthat/_snaps/clinical_significance.md): GDS, reliability .8, cut-off a, the
    # 26 couples with both scores. (The R package rounds the critical value to 1.96; no
    # couple lies between 1.96 and 1.959964 here.)
    res = clinical_significance(
        _jt1991(),
        id="subject",
        time="time",
        outcome="gds",
        pre="pre",
        post="post",
        reliability=0.8,
        method=method,  # type: ignore[arg-type]
        incomplete="drop",
    )
    assert res.height == 26
    got = dict(res.group_by("category").len().iter_rows())
    assert got == counts


def test_jt_on_table_2_by_hand() -> None:
    # GDS pre of the 26 complete couples: mean and SD by Python's statistics module (n - 1)
    df = _jt1991()
    wide = df.pivot(on="time", index="subject", values="gds").drop_nulls()
    sd = statistics.stdev(wide.get_column("pre").to_list())
    s_diff = math.sqrt(2 * sd**2 * (1 - 0.8))
    res = clinical_significance(
        df,
        id="subject",
        time="time",
        outcome="gds",
        pre="pre",
        post="post",
        reliability=0.8,
        incomplete="drop",
    )
    # couple 2: 74.5 -> 56, change -18.5
    row = res.filter(pl.col("id") == 2).row(0, named=True)
    assert row["rci"] == pytest.approx(-18.5 / s_diff)
    assert sd == pytest.approx(6.102080, abs=1e-6)


def test_direction_higher_is_better_mirrors_lower_is_better() -> None:
    # DAS is higher-is-better; scoring it as 200 - DAS with lower-is-better must give the
    # same categories, the same cut-off (mirrored) and RCIs of opposite sign.
    df = _jt1991()
    flipped = df.with_columns(das=200 - pl.col("das"))
    for method in ("jt", "gln", "hll", "en", "nk", "ha"):
        kw = {"id": "subject", "time": "time", "outcome": "das", "pre": "pre", "post": "post"}
        up = clinical_significance(df, **kw, reliability=0.9, method=method, better="higher")  # type: ignore[arg-type]
        down = clinical_significance(flipped, **kw, reliability=0.9, method=method)  # type: ignore[arg-type]
        assert _cats(up) == _cats(down), method
        assert _rci(up) == pytest.approx([-x for x in _rci(down)]), method
        assert up.get_column("cutoff")[0] == pytest.approx(200 - down.get_column("cutoff")[0])
    counts = dict(
        clinical_significance(
            df,
            id="subject",
            time="time",
            outcome="das",
            pre="pre",
            post="post",
            reliability=0.9,
            better="higher",
        )
        .group_by("category")
        .len()
        .iter_rows()
    )
    assert counts.get("recovered", 0) + counts.get("improved", 0) > counts.get("deteriorated", 0)


# --------------------------------------------------------------------------------------
# Cut-offs


def test_cutoffs_by_hand_lower_is_better() -> None:
    # clinical M 20 SD 6, functional M 2 SD 2
    kw = {"m_clinical": 20.0, "sd_clinical": 6.0, "m_functional": 2.0, "sd_functional": 2.0}
    assert clinical_cutoff("a", **kw) == pytest.approx(8.0)  # 20 - 2 x 6
    assert clinical_cutoff("b", **kw) == pytest.approx(6.0)  # 2 + 2 x 2 (functional SD)
    assert clinical_cutoff("b", **kw, b_sd="clinical") == pytest.approx(14.0)  # 2 + 2 x 6
    assert clinical_cutoff("c", **kw) == pytest.approx(6.5)  # (6 x 2 + 2 x 20) / 8


def test_cutoffs_by_hand_higher_is_better() -> None:
    kw = {"m_clinical": 20.0, "sd_clinical": 6.0, "m_functional": 44.0, "sd_functional": 4.0}
    assert clinical_cutoff("a", **kw, better="higher") == pytest.approx(32.0)  # 20 + 12
    assert clinical_cutoff("b", **kw, better="higher") == pytest.approx(36.0)  # 44 - 8
    assert clinical_cutoff("b", **kw, better="higher", b_sd="clinical") == pytest.approx(32.0)
    # (6 x 44 + 4 x 20) / 10 = 34.4
    assert clinical_cutoff("c", **kw, better="higher") == pytest.approx(34.4)


def test_true_score_cutoffs_by_hand() -> None:
    # reliability .75: SE = 6 x sqrt(.25) = 3; clinical true SD = 6 x sqrt((36 - 9)/36)
    # = sqrt(27) = 5.196152; functional true SD = 4 x sqrt((16 - 9)/16) = sqrt(7) = 2.645751
    kw = {"m_clinical": 20.0, "sd_clinical": 6.0, "m_functional": 2.0, "sd_functional": 4.0}
    a = clinical_cutoff("a", **kw, true_score_reliability=0.75)
    assert a == pytest.approx(20 - 2 * math.sqrt(27))  # 9.607695
    c = clinical_cutoff("c", **kw, true_score_reliability=0.75)
    assert c == pytest.approx(
        (math.sqrt(27) * 2 + math.sqrt(7) * 20) / (math.sqrt(27) + math.sqrt(7))
    )


def test_cutoffs_stated_in_the_r_package_documentation() -> None:
    # README of clinicalsignificance: claus_2020 BDI-II, M clinical 35.48, SD clinical 8.16,
    # functional M 8, SD 8: "cutoff type was c with a value of 21.6"; cut-off a 19.16; with
    # the HA method and reliability .8 "c_true with a value of 21.57" (reliability
    # functional .79).
    kw = {"m_clinical": 35.48, "sd_clinical": 8.16, "m_functional": 8.0, "sd_functional": 8.0}
    assert round(clinical_cutoff("c", **kw), 2) == 21.60
    assert round(clinical_cutoff("a", m_clinical=35.48, sd_clinical=8.16), 2) == 19.16
    assert round(clinical_cutoff("c", **kw, true_score_reliability=0.8), 2) == 21.57


def test_clinical_significance_uses_given_clinical_and_functional_norms() -> None:
    res = _run("jt", m_clinical=20.0, sd_clinical=6.0, m_functional=2.0, sd_functional=2.0)
    assert res.get_column("cutoff")[0] == pytest.approx(6.5)  # c by default with norms
    res = _run(
        "jt",
        cutoff="b",
        m_functional=2.0,
        sd_functional=2.0,
        m_clinical=20.0,
        sd_clinical=6.0,
        b_sd="clinical",
    )
    assert res.get_column("cutoff")[0] == pytest.approx(14.0)
    # c1 starts at 12, functional below 14, and ends at 30 after a reliable deterioration:
    # harmed; c2 ends at 6 and c4 at 10, both below 14: recovered
    assert _cats(res) == ["harmed", "recovered", "unchanged", "recovered", "unchanged"]


def test_harmed_needs_a_functional_pre_score() -> None:
    # With a clinical mean of 40 (SD 6), cut-off a is 28: c1 starts functional at 12 and
    # ends clinical at 30 after a reliable deterioration: harmed. c5 starts at 28, on the
    # cut-off: clinical, and stays there.
    res = _run("jt", m_clinical=40.0, sd_clinical=6.0)
    assert res.get_column("cutoff")[0] == pytest.approx(28.0)
    assert _cats(res)[0] == "harmed"
    assert res.get_column("clinical_pre").to_list() == [False, False, False, False, True]


# --------------------------------------------------------------------------------------
# Edges


def test_a_change_exactly_at_the_critical_value_is_not_reliable() -> None:
    # pre 0 and 2: variance 2; r = .75: S_diff = sqrt(2 x 2 x .25) = 1 exactly, so the RC
    # equals the change. A change of exactly -1.959963984540054 is not beyond it.
    def run(post: float) -> pl.DataFrame:
        return clinical_significance(
            _long([0.0, 2.0], [post, 2.0]),
            id="client",
            time="when",
            outcome="score",
            pre="pre",
            post="post",
            reliability=0.75,
        )

    at = run(-Z_975)
    assert at.get_column("rci")[0] == -Z_975
    assert at.get_column("category")[0] == "unchanged"
    beyond = run(float(np.nextafter(-Z_975, -np.inf)))
    assert beyond.get_column("category")[0] in ("improved", "recovered")


def test_a_post_score_exactly_at_the_cutoff_is_clinical() -> None:
    # cut-off a = 20 - 2 x 6 = 8 (given norms); c4 24 -> 8 is a reliable improvement
    # (RC -16 / 4 = -4) but ends on the cut-off: improved, not recovered; at 7.5: recovered
    def category(post4: float) -> str:
        post = [*POST[:3], post4, POST[4]]
        res = clinical_significance(
            _long(PRE, post),
            id="client",
            time="when",
            outcome="score",
            pre="pre",
            post="post",
            reliability=0.8,
            m_clinical=20.0,
            sd_clinical=6.0,
        )
        return str(res.get_column("category")[3])

    assert category(8.0) == "improved"
    assert category(7.5) == "recovered"


def test_pandas_input_gives_the_same_result() -> None:
    df = _long(PRE, POST)
    pdf = pd.DataFrame(df.to_dict(as_series=False))
    for method in ("jt", "ha"):
        a = clinical_significance(
            df,
            id="client",
            time="when",
            outcome="score",
            pre="pre",
            post="post",
            reliability=0.8,
            method=method,
        )  # type: ignore[arg-type]
        b = clinical_significance(
            pdf,
            id="client",
            time="when",
            outcome="score",
            pre="pre",
            post="post",
            reliability=0.8,
            method=method,
        )  # type: ignore[arg-type]
        assert a.equals(b)


def test_categories_are_an_enum_in_the_published_order() -> None:
    res = _run("jt")
    assert res.schema["category"] == pl.Enum(CATEGORIES)
    assert CATEGORIES == ("recovered", "improved", "unchanged", "deteriorated", "harmed")
    # the exact normal quantiles, from the standard library
    assert abs(Z_975 - statistics.NormalDist().inv_cdf(0.975)) < 1e-15
    assert abs(Z_95 - statistics.NormalDist().inv_cdf(0.95)) < 1e-15


def test_more_than_two_times_uses_only_pre_and_post() -> None:
    df = _long(PRE, POST).vstack(
        pl.DataFrame({"client": ["c1", "c2"], "when": ["mid", "mid"], "score": [99.0, 0.0]})
    )
    res = clinical_significance(
        df, id="client", time="when", outcome="score", pre="pre", post="post", reliability=0.8
    )
    assert _rci(res) == pytest.approx([4.5, -2.5, -1.75, -3.5, 0.0])


# --------------------------------------------------------------------------------------
# Errors


def test_bad_input_names_every_problem() -> None:
    df = _long(PRE, POST)
    with pytest.raises(ChangeError) as err:
        clinical_significance(
            df,
            id="patient",
            time="when",
            outcome="phq",
            pre="pre",
            post="post",
            reliability=1.2,
            method="xyz",  # type: ignore[arg-type]
        )
    text = "\n".join(err.value.problems)
    assert "method must be one of" in text and "'xyz'" in text
    assert "reliability must be a number strictly between 0 and 1, not 1.2" in text
    assert "'patient'" in text and "'phq'" in text
    assert len(err.value.problems) == 4
    assert isinstance(err.value, ValueError)


def test_clients_without_both_measurements_are_named() -> None:
    df = _long(PRE, POST).filter(~((pl.col("client") == "c3") & (pl.col("when") == "post")))
    df = df.vstack(pl.DataFrame({"client": ["c9"], "when": ["post"], "score": [3.0]}))
    with pytest.raises(ChangeError, match=r"2 client\(s\) lack.*'c3', 'c9'"):
        clinical_significance(
            df, id="client", time="when", outcome="score", pre="pre", post="post", reliability=0.8
        )
    res = clinical_significance(
        df,
        id="client",
        time="when",
        outcome="score",
        pre="pre",
        post="post",
        reliability=0.8,
        incomplete="drop",
    )
    assert res.get_column("id").to_list() == ["c1", "c2", "c4", "c5"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"reliability": 0.0}, "strictly between 0 and 1, not 0.0"),
        ({"reliability": None}, "method 'jt' needs the instrument's reliability"),
        ({"cutoff": "b"}, "cut-off b needs the functional population's m_functional and sd"),
        ({"cutoff": "d"}, "cutoff must be one of None, 'a', 'b', 'c', not 'd'"),
        ({"better": "up"}, "better must be one of 'lower', 'higher', not 'up'"),
        ({"b_sd": "pooled"}, "b_sd must be one of 'functional', 'clinical'"),
        ({"reliability_post": 0.9}, "reliability_post is used by method 'nk' only"),
        ({"method": "hlm"}, "method 'hlm' does not use a reliability"),
        ({"m_functional": 30.0, "sd_functional": 2.0}, "must be lower than the clinical mean"),
        ({"sd_functional": -1.0, "m_functional": 2.0}, "sd_functional must be a positive"),
        ({"pre": "before"}, "no measurement has when == 'before'"),
        ({"post": "pre"}, "pre and post must differ"),
        ({"incomplete": "skip"}, "incomplete must be one of 'raise', 'drop'"),
    ],
)
def test_each_bad_parameter_is_named(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {
        "id": "client",
        "time": "when",
        "outcome": "score",
        "pre": "pre",
        "post": "post",
        "reliability": 0.8,
        **kwargs,
    }
    with pytest.raises(ChangeError, match=message):
        clinical_significance(_long(PRE, POST), **args)  # type: ignore[arg-type]


def test_duplicates_non_numeric_outcomes_and_bad_frames_are_refused() -> None:
    df = _long(PRE, POST)
    with pytest.raises(ChangeError, match=r"more than one row at the same 'when': 'c1'"):
        clinical_significance(
            df.vstack(df.head(1)),
            id="client",
            time="when",
            outcome="score",
            pre="pre",
            post="post",
            reliability=0.8,
        )
    with pytest.raises(ChangeError, match="must be numeric"):
        clinical_significance(
            df.with_columns(pl.col("score").cast(pl.String)),
            id="client",
            time="when",
            outcome="score",
            pre="pre",
            post="post",
            reliability=0.8,
        )
    with pytest.raises(ChangeError, match="must be values of the time column"):
        clinical_significance(
            df, id="client", time="when", outcome="score", pre=1, post=2, reliability=0.8
        )
    with pytest.raises(ChangeError, match="Polars or pandas DataFrame"):
        clinical_significance(
            [1, 2],
            id="client",
            time="when",
            outcome="score",
            pre="pre",
            post="post",
            reliability=0.8,
        )
    with pytest.raises(ChangeError, match="pre-treatment SD"):
        clinical_significance(
            _long([5.0, 5.0], [1.0, 2.0]),
            id="client",
            time="when",
            outcome="score",
            pre="pre",
            post="post",
            reliability=0.8,
        )


def test_clinical_cutoff_names_every_problem() -> None:
    with pytest.raises(ChangeError) as err:
        clinical_cutoff("c", m_clinical=20.0, sd_clinical=0.0, better="sideways")  # type: ignore[arg-type]
    text = " | ".join(err.value.problems)
    assert "better must be" in text and "clinical SD must be positive" in text
    assert "m_functional and sd_functional" in text
    with pytest.raises(ChangeError, match="exceed the standard error"):
        clinical_cutoff(
            "c",
            m_clinical=20.0,
            sd_clinical=6.0,
            m_functional=2.0,
            sd_functional=1.0,
            true_score_reliability=0.5,
        )


# --------------------------------------------------------------------------------------
# The multilevel method


def _hlm_data() -> pl.DataFrame:
    return pl.read_csv(DATA / "hlm_example.csv")


def test_hlm_empirical_bayes_slopes_match_an_independent_computation() -> None:
    # 30 clients x weeks 0-4. Fit once, then compute each client's posterior for the random
    # effects with numpy from the textbook formula C = (G^-1 + Z'Z / s2)^-1,
    # u = C Z'(y - X b) / s2 (Raudenbush & Bryk 2002), and compare with the vectorised one.
    df = _hlm_data()
    rows = df.select(
        pl.col("client").alias(ID),
        pl.col("week").cast(pl.Float64).alias(T),
        pl.col("score").cast(pl.Float64).alias(Y),
    )
    beta, g, s2 = fit_slopes(rows)
    got = slopes(rows)
    for client in ("c00", "c07", "c29"):
        sub = rows.filter(pl.col(ID) == client)
        t = sub.get_column(T).to_numpy()
        z = np.column_stack([np.ones_like(t), t])
        c = np.linalg.inv(np.linalg.inv(g) + z.T @ z / s2)
        u = c @ z.T @ (sub.get_column(Y).to_numpy() - z @ beta) / s2
        row = got.filter(pl.col(ID) == client).row(0, named=True)
        assert row["slope"] == pytest.approx(beta[1] + u[1], rel=1e-9)
        assert row["slope_sd"] == pytest.approx(math.sqrt(c[1, 1]), rel=1e-9)
        assert row["z"] == pytest.approx((beta[1] + u[1]) / math.sqrt(c[1, 1]), rel=1e-9)


def test_hlm_matches_statsmodels_own_random_effects() -> None:
    from statsmodels.regression.mixed_linear_model import MixedLM

    df = _hlm_data()
    t = df.get_column("week").cast(pl.Float64).to_numpy()
    x = np.column_stack([np.ones_like(t), t])
    fit = MixedLM(
        df.get_column("score").to_numpy().astype(float),
        x,
        groups=df.get_column("client").to_numpy(),
        exog_re=x,
    ).fit(reml=True)
    res = clinical_significance(
        df, id="client", time="week", outcome="score", pre=0, post=4, reliability=None, method="hlm"
    )
    for client in ("c03", "c15"):
        row = res.filter(pl.col("id") == client).row(0, named=True)
        assert row["slope"] == pytest.approx(
            fit.fe_params[1] + np.asarray(fit.random_effects[client])[1], rel=1e-6
        )
        cov = np.asarray(fit.random_effects_cov[client])
        assert row["slope_sd"] == pytest.approx(math.sqrt(cov[1, 1]), rel=1e-6)


def test_hlm_categories_follow_z() -> None:
    res = clinical_significance(
        _hlm_data(),
        id="client",
        time="week",
        outcome="score",
        pre=0,
        post=4,
        reliability=None,
        method="hlm",
    )
    assert res.height == 30 and set(res.get_column("n_measurements").to_list()) == {5}
    reliable_down = res.filter(pl.col("rci") < -Z_975)
    assert set(reliable_down.get_column("category").to_list()) <= {"improved", "recovered"}
    unchanged = res.filter(pl.col("rci").abs() <= Z_975)
    assert set(unchanged.get_column("category").to_list()) == {"unchanged"}
    assert res.get_column("pre").to_list()[0] == 20.0  # c00 at week 0


def test_hlm_needs_three_measurements_and_a_numeric_time() -> None:
    df = _hlm_data().filter(~((pl.col("client") == "c05") & pl.col("week").is_in([1, 2, 3])))
    with pytest.raises(ChangeError, match=r"1 client\(s\) lack.*fewer than 3.*'c05'"):
        clinical_significance(
            df,
            id="client",
            time="week",
            outcome="score",
            pre=0,
            post=4,
            reliability=None,
            method="hlm",
        )
    res = clinical_significance(
        df,
        id="client",
        time="week",
        outcome="score",
        pre=0,
        post=4,
        reliability=None,
        method="hlm",
        incomplete="drop",
    )
    assert res.height == 29
    with pytest.raises(ChangeError, match="numeric time column"):
        clinical_significance(
            _long(PRE, POST),
            id="client",
            time="when",
            outcome="score",
            pre="pre",
            post="post",
            reliability=None,
            method="hlm",
        )


# --------------------------------------------------------------------------------------
# One client, by the instrument's published threshold


@pytest.mark.parametrize(
    ("pre", "post", "category", "recovered"),
    [
        (15, 9, "improved", True),  # -6: exactly the threshold; 15 is a case, 9 is not
        (15, 10, "unchanged", False),  # -5
        (20, 14, "improved", False),  # -6 but still a case (14 >= 10)
        (9, 3, "improved", False),  # -6 but not a case at pre
        (10, 16, "deteriorated", False),  # +6
        (10, 15, "unchanged", False),  # +5
    ],
)
def test_phq9_reliable_change_by_its_published_threshold(
    pre: int, post: int, category: str, recovered: bool
) -> None:
    r = reliable_change("phq9", pre, post)
    assert (r.category, r.recovered) == (category, recovered)
    assert r.threshold == 6 and r.basis == "published" and r.better == "lower"
    assert r.change == post - pre
    assert "6 or more points" in r.rule and "NHS Talking Therapies" in r.source
    assert r.definition_version == default_registry().definition("phq9").version


def test_higher_is_better_instrument() -> None:
    # WHO-5: higher is better, reliable change 10 points, caseness <= 48
    assert reliable_change("who5", 40, 50).category == "improved"
    assert reliable_change("who5", 40, 50).recovered is True  # 40 <= 48, 50 is not
    assert reliable_change("who5", 50, 40).category == "deteriorated"
    assert reliable_change("who5", 40, 49).category == "unchanged"


def test_a_derived_threshold_is_strict() -> None:
    # SD 5.5, r .84: 1.959964 x sqrt(2) x 5.5 x sqrt(.16) = 1.959964 x 1.414214 x 2.2
    # = 6.097977; a change of 6.1 is reliable, 6.09 is not (and 6 would be under the
    # published rule)
    d = default_registry().definition("phq9")
    derived = d.model_copy(
        update={
            "reliable_change": ReliableChange(
                basis="derived", sd=5.5, reliability=0.84, source="test"
            )
        }
    )
    assert reliable_change(derived, 20, 13.9).threshold == pytest.approx(6.097977, abs=1e-6)
    assert reliable_change(derived, 20, 13.9).category == "improved"
    assert reliable_change(derived, 20, 13.91).category == "unchanged"
    assert reliable_change(derived, 20, 14).category == "unchanged"
    assert "more than 6.09798" in reliable_change(derived, 20, 14).rule


def test_the_batch_twin_agrees_with_the_single_client_function() -> None:
    pairs = [(15, 9), (15, 10), (20, 14), (9, 3), (10, 16), (27, 0)]
    frame = pl.DataFrame({"first": [p for p, _ in pairs], "last": [q for _, q in pairs]})
    out = reliable_change_frame("phq9", frame, pre="first", post="last")
    for (pre, post), row in zip(pairs, out.iter_rows(named=True), strict=True):
        one = reliable_change("phq9", pre, post)
        assert (row["category"], row["recovered"], row["case_pre"], row["case_post"]) == (
            one.category,
            one.recovered,
            one.case_pre,
            one.case_post,
        )
    with_gap = reliable_change_frame(
        "phq9", pd.DataFrame({"pre": [12.0, None], "post": [5.0, 3.0]})
    )
    assert with_gap.get_column("category").to_list() == ["improved", None]


def test_single_client_errors() -> None:
    with pytest.raises(ChangeError, match="post 28 is outside the PHQ-9 range 0-27"):
        reliable_change("phq9", 10, 28)
    with pytest.raises(ChangeError, match="pre must be a number"):
        reliable_change("phq9", "ten", 3)  # type: ignore[arg-type]
    with pytest.raises(ChangeError, match="states no reliable-change threshold"):
        reliable_change("k10", 30, 20)
    with pytest.raises(ChangeError, match=r"range 0-27 in row\(s\) 2"):
        reliable_change_frame("phq9", pl.DataFrame({"pre": [10, 30], "post": [3, 3]}))
