"""PCL-5: scored by the National Center for PTSD rules (Weathers et al. 2013).

Total 0-80; cluster scores B (items 1-5), C (6-7), D (8-14), E (15-20); no severity bands.
Expected values are computed by hand in the comments.
"""

from __future__ import annotations

import pytest

import commonfactors as cf


def test_cluster_scores_and_total() -> None:
    answers = [
        *[4, 3, 2, 1, 0],  # B, items 1-5: 4+3+2+1+0 = 10
        *[4, 4],  # C, items 6-7: 4+4 = 8
        *[1, 1, 1, 1, 1, 1, 1],  # D, items 8-14: 1x7 = 7
        *[0, 1, 2, 3, 4, 0],  # E, items 15-20: 0+1+2+3+4+0 = 10
    ]
    s = cf.score("pcl5", answers)
    assert s.subscales == {"cluster_b": 10, "cluster_c": 8, "cluster_d": 7, "cluster_e": 10}
    assert s.total == 35  # 10 + 8 + 7 + 10
    assert s.caseness is True  # 35 >= 33
    assert s.band is None  # no published severity bands


def test_maximum_and_minimum() -> None:
    top = cf.score("pcl5", [4] * 20)
    assert top.total == 80  # 4 x 20
    # B 4x5 = 20, C 4x2 = 8, D 4x7 = 28, E 4x6 = 24
    assert top.subscales == {"cluster_b": 20, "cluster_c": 8, "cluster_d": 28, "cluster_e": 24}
    bottom = cf.score("pcl5", [0] * 20)
    assert (bottom.total, bottom.caseness) == (0, False)


def test_caseness_edge_is_33() -> None:
    # 2 x 16 = 32: below the cut-off; 2 x 16 + 1 = 33: probable PTSD.
    below = cf.score("pcl5", [2] * 16 + [0, 0, 0, 0])
    assert (below.total, below.caseness) == (32, False)
    at = cf.score("pcl5", [2] * 16 + [1, 0, 0, 0])
    assert (at.total, at.caseness) == (33, True)
    # its clusters: B 2x5 = 10, C 2x2 = 4, D 2x7 = 14, E 2+2+1+0+0+0 = 5 (10+4+14+5 = 33)
    assert at.subscales == {"cluster_b": 10, "cluster_c": 4, "cluster_d": 14, "cluster_e": 5}


def test_lower_end_of_the_provisional_range_is_recorded() -> None:
    d = cf.get_instrument("pcl5").definition
    assert d.caseness_cutoff is not None
    assert (d.caseness_cutoff.value, d.caseness_cutoff.op) == (33, ">=")
    lower = next(c for c in d.cutoffs if c.id == "probable_ptsd_lower")
    assert (lower.value, lower.op, lower.caseness) == (31, ">=", False)
    assert d.bands == ()


def test_no_published_risk_item_even_for_item_16() -> None:
    # Item 16 (risk-taking) answered "extremely" raises no risk alert: no published risk rule.
    assert cf.get_instrument("pcl5").definition.risk == ()
    answers = [0] * 20
    answers[15] = 4
    s = cf.score("pcl5", answers)
    assert s.risk_items == ()
    assert s.subscales["cluster_e"] == 4
    assert s.total == 4


def test_no_reverse_keyed_items() -> None:
    # If item 8 (trouble remembering) were reverse-keyed, 4 would count as 0.
    answers = [0] * 20
    answers[7] = 4
    assert cf.score("pcl5", answers).total == 4


def test_a_missing_item_is_refused_naming_it() -> None:
    answers: list[int | None] = [1] * 20
    answers[5] = None  # item 6
    answers[19] = None  # item 20
    with pytest.raises(cf.ScoringError) as info:
        cf.score("pcl5", answers)
    assert "2 of 20 items missing (items 6, 20), but at most 0 may be missing" in str(info.value)


def test_reliability_and_change_guidance() -> None:
    d = cf.get_instrument("pcl5").definition
    assert d.reliability is not None
    assert (d.reliability.alpha, d.reliability.test_retest) == (0.94, 0.82)  # Blevins 2015
    assert d.reliable_change is not None
    assert (d.reliable_change.basis, d.reliable_change.value) == ("published", 10)


def test_text_pack_answer_labels_are_exact() -> None:
    pack = cf.get_instrument("pcl5").text("en")
    assert pack is not None
    assert pack.response_sets["bother"] == (
        "Not at all",
        "A little bit",
        "Moderately",
        "Quite a bit",
        "Extremely",
    )
    assert pack.items["pcl5_1"] == (
        "Repeated, disturbing, and unwanted memories of the stressful experience?"
    )
    assert pack.items["pcl5_17"] == 'Being "superalert" or watchful or on guard?'
    assert pack.instructions.endswith("In the past month, how much were you bothered by:")
