"""NHS Talking Therapies paired outcomes: caseness PHQ-9 >= 10 or GAD-7 >= 8, reliable
change 6 and 4 points (read from the instrument definitions), recovery, reliable recovery,
and only finished episodes with at least two attended treatment sessions counted."""

from __future__ import annotations

import pandas as pd
import polars as pl
import pytest

from commonfactors.change import NHSTT_COLUMNS, ChangeError, nhstt_outcome, nhstt_outcomes


def test_a_typical_recovery() -> None:
    # PHQ-9 15 -> 7 (-8, reliable), GAD-7 12 -> 5 (-7, reliable); a case at first (both),
    # not at last (7 < 10, 5 < 8): recovered and reliably recovered
    o = nhstt_outcome(15, 7, 12, 5)
    assert o.counted and o.reason is None
    assert (o.case_first, o.case_last) == (True, False)
    assert (o.phq9_change, o.gad7_change) == (-8.0, -7.0)
    assert (o.phq9_reliable, o.gad7_reliable) == ("improved", "improved")
    assert o.reliable_improvement and not o.reliable_deterioration
    assert o.recovery and o.reliable_recovery
    assert "PHQ-9 total >= 10 or GAD-7 total >= 8" in o.rules["caseness"]


def test_exactly_six_and_four_points_are_reliable() -> None:
    assert nhstt_outcome(16, 10, 9, 9).phq9_reliable == "improved"  # -6
    assert nhstt_outcome(16, 11, 9, 9).phq9_reliable == "unchanged"  # -5
    assert nhstt_outcome(12, 12, 12, 8).gad7_reliable == "improved"  # -4
    assert nhstt_outcome(12, 12, 12, 9).gad7_reliable == "unchanged"  # -3
    assert nhstt_outcome(12, 18, 5, 9).phq9_reliable == "deteriorated"  # +6
    assert nhstt_outcome(12, 12, 5, 9).gad7_reliable == "deteriorated"  # +4


def test_a_case_on_one_measure_only() -> None:
    # PHQ-9 8 (below 10) but GAD-7 12 (8 or more): a case at first
    o = nhstt_outcome(8, 4, 12, 7)
    assert o.case_first is True and o.case_last is False
    assert o.recovery is True and o.reliable_recovery is True  # GAD-7 -5 is reliable
    # still a case at last on the anxiety measure alone (GAD-7 exactly 8): not recovered
    o = nhstt_outcome(16, 4, 12, 8)
    assert o.case_last is True and o.recovery is False and o.reliable_improvement is True
    assert o.reliable_recovery is False


def test_recovered_without_reliable_improvement_is_not_reliable_recovery() -> None:
    o = nhstt_outcome(10, 9, 8, 7)  # a case, then not; changes of -1 and -1
    assert o.recovery is True and o.reliable_improvement is False
    assert o.reliable_recovery is False


def test_not_a_case_at_first_is_not_eligible_for_recovery() -> None:
    o = nhstt_outcome(9, 2, 7, 1)
    assert o.case_first is False
    assert o.recovery is None and o.reliable_recovery is None
    assert o.reliable_improvement is True  # still counted for reliable improvement


def test_one_measure_better_and_the_other_worse_is_neither() -> None:
    # UNVERIFIED reading of the manual: reliable improvement needs no reliable deterioration
    # on the other measure, and vice versa
    o = nhstt_outcome(20, 14, 5, 9)  # PHQ-9 -6, GAD-7 +4
    assert (o.phq9_reliable, o.gad7_reliable) == ("improved", "deteriorated")
    assert o.reliable_improvement is False and o.reliable_deterioration is False
    assert "UNVERIFIED" in o.rules["reliable_improvement"]
    o = nhstt_outcome(8, 15, 9, 9)  # PHQ-9 +7 only
    assert o.reliable_deterioration is True and o.reliable_improvement is False


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"finished": False}, "not finished"),
        ({"attended": 1}, "fewer than 2 attended treatment sessions"),
        ({"attended": 0, "finished": False}, "not finished"),
    ],
)
def test_only_finished_episodes_with_two_sessions_count(
    kwargs: dict[str, object], reason: str
) -> None:
    o = nhstt_outcome(15, 7, 12, 5, **kwargs)  # type: ignore[arg-type]
    assert o.counted is False and o.reason == reason
    outcomes = (o.case_first, o.reliable_improvement, o.recovery, o.reliable_recovery)
    assert outcomes == (None, None, None, None)
    assert nhstt_outcome(15, 7, 12, 5, attended=2).counted is True


def test_missing_scores_are_not_counted() -> None:
    o = nhstt_outcome(15, None, 12, 5)
    assert o.counted is False and o.reason == "no first and last scores on both PHQ-9 and GAD-7"


def test_single_episode_errors_name_every_problem() -> None:
    with pytest.raises(ChangeError) as err:
        nhstt_outcome(30, "7", 12, -1, attended=-1)  # type: ignore[arg-type]
    text = " | ".join(err.value.problems)
    assert "attended must be a whole number" in text
    assert "phq9_last must be a number or None" in text
    assert "'phq9_first'" in text and "outside the PHQ-9 range 0-27" in text
    assert "'gad7_last'" in text and "outside the GAD-7 range 0-21" in text
    assert len(err.value.problems) == 4


EPISODES = [
    # phq9 first/last, gad7 first/last, finished, attended
    (15, 7, 12, 5, True, 6),  # recovered, reliably
    (16, 10, 9, 9, True, 2),  # exactly 6 points; not recovered (GAD-7 9 >= 8 at last)
    (8, 4, 12, 7, True, 4),  # a case on the anxiety measure only
    (15, 7, 12, 5, False, 6),  # not finished
    (15, 7, 12, 5, True, 1),  # one session
    (20, 14, 5, 9, True, 3),  # mixed
    (9, 2, 7, 1, True, 3),  # not a case at first
    (15, None, 12, 5, True, 3),  # no last PHQ-9
]


def _registry() -> pl.DataFrame:
    cols = ["phq9_first", "phq9_last", "gad7_first", "gad7_last", "finished", "attended"]
    return pl.DataFrame(
        [dict(zip(cols, e, strict=True)) for e in EPISODES],
        schema={
            "phq9_first": pl.Int64,
            "phq9_last": pl.Int64,
            "gad7_first": pl.Int64,
            "gad7_last": pl.Int64,
            "finished": pl.Boolean,
            "attended": pl.Int64,
        },
    )


def test_the_registry_twin_agrees_with_single_episodes() -> None:
    out = nhstt_outcomes(_registry())
    assert out.columns[-len(NHSTT_COLUMNS) :] == list(NHSTT_COLUMNS)
    for episode, row in zip(EPISODES, out.iter_rows(named=True), strict=True):
        *scores, finished, attended = episode
        one = nhstt_outcome(*scores, finished=finished, attended=attended)  # type: ignore[arg-type]
        assert {k: row[k] for k in NHSTT_COLUMNS} == {k: getattr(one, k) for k in NHSTT_COLUMNS}


def test_registry_rates_use_the_published_denominators() -> None:
    out = nhstt_outcomes(_registry())
    # counted: episodes 1, 2, 3, 6, 7 (5 of 8)
    assert out.get_column("counted").sum() == 5
    # recovery among counted cases at first (1, 2, 3, 6): 1 and 3 recovered -> 2 / 4
    assert out.get_column("recovery").mean() == pytest.approx(0.5)
    # reliable improvement among all counted: 1, 2, 3, 7 (not 6, mixed) -> 4 / 5
    assert out.get_column("reliable_improvement").mean() == pytest.approx(0.8)
    assert out.get_column("reliable_recovery").sum() == 2


def test_registry_accepts_pandas_and_other_column_names() -> None:
    pdf = _registry().rename({"finished": "ended", "attended": "sessions"}).to_pandas()
    out = nhstt_outcomes(pdf, finished="ended", attended="sessions")
    assert out.get_column("counted").to_list() == [
        True,
        True,
        True,
        False,
        False,
        True,
        True,
        False,
    ]
    assert isinstance(pdf, pd.DataFrame)


def test_registry_errors_name_every_bad_row() -> None:
    bad = _registry().with_columns(
        pl.when(pl.int_range(pl.len()) == 2)
        .then(30)
        .otherwise(pl.col("phq9_first"))
        .alias("phq9_first"),
        pl.col("attended").cast(pl.Float64),
    )
    with pytest.raises(ChangeError) as err:
        nhstt_outcomes(bad.drop("gad7_last"))
    text = " | ".join(err.value.problems)
    assert "row(s) 3" in text and "range 0-27" in text
    assert "'gad7_last'" in text and "is not in the frame" in text
    assert "(attended) must hold whole numbers" in text
    with pytest.raises(ChangeError, match=r"\(finished\) is missing in row\(s\) 1"):
        nhstt_outcomes(_registry().with_columns(finished=pl.lit(None, dtype=pl.Boolean)))
