"""PHQ-9: scored by the published rules (Kroenke, Spitzer & Williams 2001).

Expected values are computed by hand in the comments, never by the code under test.
"""

from __future__ import annotations

import pytest

import commonfactors as cf


def test_published_worked_example_all_nearly_every_day() -> None:
    # Medizininformatik-Initiative PRO IG example (mii-exa-pro-phq-9-bundle): every item
    # answered LA6571-9 "Nearly every day" (3); derived Observation value 27.
    s = cf.score("phq9", [3] * 9)
    assert s.total == 27  # 9 x 3
    assert s.band == "severe"
    assert s.caseness is True
    assert s.risk_items == ("phq9_9",)
    assert s.prorated is False


@pytest.mark.parametrize(
    ("answers", "total", "band"),
    [
        ([0, 0, 0, 0, 0, 0, 0, 0, 0], 0, "minimal"),
        ([1, 1, 1, 1, 0, 0, 0, 0, 0], 4, "minimal"),  # 1+1+1+1
        ([1, 1, 1, 1, 1, 0, 0, 0, 0], 5, "mild"),  # 1x5
        ([2, 1, 1, 1, 1, 1, 1, 1, 0], 9, "mild"),  # 2 + 1x7
        ([2, 2, 1, 1, 1, 1, 1, 1, 0], 10, "moderate"),  # 2x2 + 1x6
        ([2, 2, 2, 2, 2, 2, 1, 1, 0], 14, "moderate"),  # 2x6 + 1x2
        ([2, 2, 2, 2, 2, 2, 2, 1, 0], 15, "moderately severe"),  # 2x7 + 1
        ([3, 3, 3, 2, 2, 2, 2, 2, 0], 19, "moderately severe"),  # 3x3 + 2x5
        ([3, 3, 3, 3, 2, 2, 2, 2, 0], 20, "severe"),  # 3x4 + 2x4
    ],
)
def test_every_band_edge(answers: list[int], total: int, band: str) -> None:
    # Kroenke et al. 2001: 0-4 minimal, 5-9 mild, 10-14 moderate, 15-19 moderately severe,
    # 20-27 severe.
    s = cf.score("phq9", answers)
    assert s.total == total
    assert s.band == band
    assert s.risk_items == ()


def test_caseness_edge_is_ten_or_more() -> None:
    # 2 + 1x7 = 9: not a case; 2x2 + 1x6 = 10: a case (NHS Talking Therapies; Kroenke 2001).
    assert cf.score("phq9", [2, 1, 1, 1, 1, 1, 1, 1, 0]).caseness is False
    assert cf.score("phq9", [2, 2, 1, 1, 1, 1, 1, 1, 0]).caseness is True


def test_risk_item_nine_at_and_below_its_threshold() -> None:
    base = [0, 0, 0, 0, 0, 0, 0, 0]
    assert cf.score("phq9", [*base, 0]).risk_items == ()  # below: 0
    assert cf.score("phq9", [*base, 1]).risk_items == ("phq9_9",)  # at the threshold: 1
    assert cf.score("phq9", [*base, 3]).risk_items == ("phq9_9",)  # above
    # a risk answer raises the alert even when the total is minimal (total 1)
    s = cf.score("phq9", [*base, 1])
    assert (s.total, s.band) == (1, "minimal")


def test_no_reverse_keyed_items() -> None:
    # If item 1 were reverse-keyed, 3 would count as 0; the published rule is a plain sum.
    assert cf.score("phq9", [3, 0, 0, 0, 0, 0, 0, 0, 0]).total == 3
    assert not any(i.reverse for i in cf.get_instrument("phq9").definition.items)


def test_one_missing_item_is_prorated() -> None:
    # 8 answered items summing to 8: 8 x 9 / 8 = 9.0 -> mild, not a case.
    s = cf.score("phq9", [1, 1, 1, None, 1, 1, 1, 1, 1])
    assert s.total == 9
    assert s.prorated is True
    assert s.missing_items == ("phq9_4",)
    assert s.band == "mild"
    assert s.caseness is False


def test_prorating_rounds_half_up_across_a_band_edge() -> None:
    # 8 answered items summing to 4: 4 x 9 / 8 = 4.5 -> rounded half up to 5 (mild, not minimal).
    s = cf.score("phq9", [1, 1, 1, 1, None, 0, 0, 0, 0])
    assert s.total == 5
    assert s.band == "mild"


def test_two_missing_items_are_prorated_across_the_caseness_edge() -> None:
    # 7 answered items summing to 8: 8 x 9 / 7 = 10.2857... -> 10: moderate and a case.
    s = cf.score("phq9", [2, None, 1, 1, 1, None, 1, 1, 1])
    assert s.total == 10
    assert s.prorated is True
    assert s.missing_items == ("phq9_2", "phq9_6")
    assert s.caseness is True
    # 7 answered items summing to 7: 7 x 9 / 7 = 9 exactly.
    assert cf.score("phq9", [1, None, 1, 1, 1, None, 1, 1, 1]).total == 9


def test_three_missing_items_are_refused_naming_them() -> None:
    with pytest.raises(cf.ScoringError) as info:
        cf.score("phq9", [1, 1, None, 1, None, 1, None, 1, 0])
    assert "3 of 9 items missing (items 3, 5, 7), but at most 2 may be missing" in str(info.value)


def test_loinc_codes_are_the_published_ones() -> None:
    d = cf.get_instrument("phq9").definition
    assert (d.loinc.panel, d.loinc.total) == ("44249-1", "44261-6")
    assert [i.loinc for i in d.items] == [
        "44250-9",
        "44255-8",
        "44259-0",
        "44254-1",
        "44251-7",
        "44258-2",
        "44252-5",
        "44253-3",
        "44260-8",
    ]
    answers = [o.loinc for o in d.response_set("frequency").options]
    assert answers == ["LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9"]
    assert [r.item for r in d.risk] == ["phq9_9"]
    assert d.reliable_change is not None
    assert d.reliable_change.value == 6


def test_text_pack_wording() -> None:
    pack = cf.get_instrument("phq9").text("en")
    assert pack is not None
    assert pack.response_sets["frequency"] == (
        "Not at all",
        "Several days",
        "More than half the days",
        "Nearly every day",
    )
    assert pack.items["phq9_9"] == (
        "Thoughts that you would be better off dead or of hurting yourself in some way"
    )
    assert "No permission required to reproduce" in pack.notice
