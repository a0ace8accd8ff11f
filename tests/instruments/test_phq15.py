"""PHQ-15: scored by the published rules (Kroenke, Spitzer & Williams 2002).

Item 4 (menstrual problems) is asked of women only: left blank it is not prorated, and the
maximum is then 28. Expected values are computed by hand in the comments.
"""

from __future__ import annotations

import pytest

import commonfactors as cf


@pytest.mark.parametrize(
    ("answers", "total", "band"),
    [
        ([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 0, "minimal"),
        ([1, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 4, "minimal"),  # 1x4
        ([1, 1, 1, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0], 5, "low"),  # 1x5
        ([1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0], 9, "low"),  # 1x9
        ([2, 1, 1, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0], 10, "medium"),  # 2 + 1x8
        ([2, 2, 2, 0, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0, 0], 14, "medium"),  # 2x5 + 1x4
        ([2, 2, 2, 0, 2, 2, 2, 1, 1, 1, 0, 0, 0, 0, 0], 15, "high"),  # 2x6 + 1x3
        ([2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2], 30, "high"),  # 2x15, the maximum
    ],
)
def test_every_band_edge(answers: list[int], total: int, band: str) -> None:
    # Kroenke et al. 2002: 5, 10, 15 are the cut points for low, medium, high; 0-4 minimal.
    s = cf.score("phq15", answers)
    assert s.total == total
    assert s.band == band
    assert s.prorated is False


def test_item_4_blank_is_not_prorated_and_the_maximum_is_28() -> None:
    # A man leaves item 4 blank; every other item "bothered a lot": 2 x 14 = 28 (not 30).
    answers: list[int | None] = [2] * 15
    answers[3] = None
    s = cf.score("phq15", answers)
    assert s.total == 28
    assert s.prorated is False
    assert s.missing_items == ("phq15_4",)
    assert s.band == "high"


def test_item_4_adds_to_the_total_when_answered() -> None:
    # Items 1, 2, 3, 5 "a little" (1 each) = 4, minimal; with item 4 also 1: 5, low.
    without: list[int | None] = [1, 1, 1, None, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    with_item_4: list[int | None] = [1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    assert (cf.score("phq15", without).total, cf.score("phq15", without).band) == (4, "minimal")
    assert (cf.score("phq15", with_item_4).total, cf.score("phq15", with_item_4).band) == (
        5,
        "low",
    )


def test_a_missing_required_item_is_refused_naming_it() -> None:
    # No published prorating rule for the other 14 items: each is required.
    answers: list[int | None] = [1] * 15
    answers[10] = None  # item 11
    with pytest.raises(cf.ScoringError) as info:
        cf.score("phq15", answers)
    assert "1 of 14 items missing (items 11), but at most 0 may be missing" in str(info.value)


def test_item_4_blank_does_not_count_towards_the_missing_limit() -> None:
    # Item 4 and item 7 blank: only item 7 is a missing required item.
    answers: list[int | None] = [1] * 15
    answers[3] = None
    answers[6] = None
    with pytest.raises(cf.ScoringError) as info:
        cf.score("phq15", answers)
    assert "1 of 14 items missing (items 7), but at most 0 may be missing" in str(info.value)


def test_no_caseness_threshold_and_no_risk_item() -> None:
    d = cf.get_instrument("phq15").definition
    assert d.caseness_cutoff is None
    assert d.risk == ()
    s = cf.score("phq15", [2] * 15)
    assert s.caseness is None
    assert s.risk_items == ()


def test_no_reverse_keyed_items() -> None:
    # If item 15 were reverse-keyed, 2 would count as 0; the published rule is a plain sum.
    assert cf.score("phq15", [0] * 14 + [2]).total == 2


def test_item_order_and_loinc_codes() -> None:
    d = cf.get_instrument("phq15").definition
    assert (d.loinc.panel, d.loinc.total) == ("69728-4", "70273-8")
    # Stand-alone form order: sexual intercourse is item 11 (LOINC lists it fifth).
    assert d.item("phq15_11").loinc == "69717-7"
    assert d.item("phq15_4").loinc == "69674-0"
    assert d.missing.optional_items == ("phq15_4",)
    answers = [o.loinc for o in d.response_set("bother").options]
    assert answers == ["LA18334-5", "LA18335-2", "LA18336-0"]


def test_text_pack_wording() -> None:
    pack = cf.get_instrument("phq15").text("en")
    assert pack is not None
    assert pack.response_sets["bother"] == (
        "Not bothered at all",
        "Bothered a little",
        "Bothered a lot",
    )
    assert pack.items["phq15_4"] == "Menstrual cramps or other problems with your periods"
    assert pack.items["phq15_11"] == "Pain or problems during sexual intercourse"
    assert "past 4 weeks" in pack.instructions
