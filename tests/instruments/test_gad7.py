"""GAD-7: scored by the published rules (Spitzer et al. 2006; NHS Talking Therapies).

Expected values are computed by hand in the comments, never by the code under test.
"""

from __future__ import annotations

import pytest

import commonfactors as cf


def test_published_worked_example_moderate_anxiety() -> None:
    # Medizininformatik-Initiative PRO IG example (mii-exa-pro-gad-7-response): answers
    # 2, 3, 2, 1, 2, 1, 2; "Total score: 2+3+2+1+2+1+2 = 13 (moderate anxiety)".
    s = cf.score("gad7", [2, 3, 2, 1, 2, 1, 2])
    assert s.total == 13
    assert s.band == "moderate"
    assert s.caseness is True  # 13 >= 8
    assert s.risk_items == ()
    assert s.prorated is False


@pytest.mark.parametrize(
    ("answers", "total", "band"),
    [
        ([0, 0, 0, 0, 0, 0, 0], 0, "minimal"),
        ([1, 1, 1, 1, 0, 0, 0], 4, "minimal"),  # 1x4
        ([1, 1, 1, 1, 1, 0, 0], 5, "mild"),  # 1x5
        ([2, 2, 1, 1, 1, 1, 1], 9, "mild"),  # 2x2 + 1x5
        ([2, 2, 2, 1, 1, 1, 1], 10, "moderate"),  # 2x3 + 1x4
        ([2, 2, 2, 2, 2, 2, 2], 14, "moderate"),  # 2x7
        ([3, 2, 2, 2, 2, 2, 2], 15, "severe"),  # 3 + 2x6
        ([3, 3, 3, 3, 3, 3, 3], 21, "severe"),  # 3x7, the maximum
    ],
)
def test_every_band_edge(answers: list[int], total: int, band: str) -> None:
    # Spitzer et al. 2006: 0-4 minimal, 5-9 mild, 10-14 moderate, 15-21 severe.
    s = cf.score("gad7", answers)
    assert s.total == total
    assert s.band == band


def test_caseness_edge_is_the_nhs_talking_therapies_eight() -> None:
    # 1x7 = 7: not a case; 2 + 1x6 = 8: a case (NHS Talking Therapies anxiety caseness).
    assert cf.score("gad7", [1, 1, 1, 1, 1, 1, 1]).caseness is False
    eight = cf.score("gad7", [2, 1, 1, 1, 1, 1, 1])
    assert (eight.total, eight.caseness, eight.band) == (8, True, "mild")


def test_spitzer_screening_cut_point_is_recorded_but_not_caseness() -> None:
    d = cf.get_instrument("gad7").definition
    screen = next(c for c in d.cutoffs if c.id == "gad_screen")
    assert (screen.value, screen.op, screen.caseness) == (10, ">=", False)
    assert d.caseness_cutoff is not None
    assert (d.caseness_cutoff.value, d.caseness_cutoff.op) == (8, ">=")


def test_no_item_is_a_risk_item() -> None:
    # The GAD-7 asks nothing about self-harm: even the maximum answers raise no risk alert.
    assert cf.get_instrument("gad7").definition.risk == ()
    assert cf.score("gad7", [3] * 7).risk_items == ()


def test_no_reverse_keyed_items() -> None:
    # If item 7 were reverse-keyed, 3 would count as 0; the published rule is a plain sum.
    assert cf.score("gad7", [0, 0, 0, 0, 0, 0, 3]).total == 3


def test_a_missing_item_is_refused_naming_it() -> None:
    # No published prorating rule: every item is required (conservative choice).
    with pytest.raises(cf.ScoringError) as info:
        cf.score("gad7", [1, 1, None, 1, 1, 1, 1])
    assert "1 of 7 items missing (items 3), but at most 0 may be missing" in str(info.value)


def test_reliable_change_is_four_points() -> None:
    rc = cf.get_instrument("gad7").definition.reliable_change
    assert rc is not None
    assert (rc.basis, rc.value) == ("published", 4)


def test_loinc_codes_are_the_published_ones() -> None:
    d = cf.get_instrument("gad7").definition
    assert (d.loinc.panel, d.loinc.total) == ("69737-5", "70274-6")
    assert [i.loinc for i in d.items] == [
        "69725-0",
        "68509-9",
        "69733-4",
        "69734-2",
        "69735-9",
        "69689-8",
        "69736-7",
    ]
    answers = [o.loinc for o in d.response_set("frequency").options]
    assert answers == ["LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9"]


def test_text_pack_wording() -> None:
    pack = cf.get_instrument("gad7").text("en")
    assert pack is not None
    # The zero anchor is "Not at all" (never "Not at all sure": Zorowitz et al. 2021).
    assert pack.response_sets["frequency"] == (
        "Not at all",
        "Several days",
        "More than half the days",
        "Nearly every day",
    )
    assert pack.items["gad7_1"] == "Feeling nervous, anxious, or on edge"
    assert pack.items["gad7_7"] == "Feeling afraid, as if something awful might happen"
    assert "No permission required to reproduce" in pack.notice
