"""K10 with the Australian 1-5 scoring: ABS bands, one missing item prorated (PMHC-MDS).

Answers are 1 (none of the time) to 5 (all of the time), in item order 1..10. Arithmetic for
every expected total is in its comment.
"""

from __future__ import annotations

import pytest

import commonfactors as cf
from commonfactors.errors import ScoringError
from commonfactors.instruments.registry import DEFINITIONS_DIR, read_definition

DEFINITION = read_definition(DEFINITIONS_DIR / "k10.yaml")


def test_definition_facts() -> None:
    assert DEFINITION.licence.text_shippable is False
    assert DEFINITION.score_range == (10, 50)
    assert not any(i.reverse for i in DEFINITION.items)
    assert DEFINITION.risk == ()


@pytest.mark.parametrize(
    ("answers", "total", "band"),
    [
        # 10 x 1 = 10
        ([1] * 10, 10, "low"),
        # 5 x 2 + 5 x 1 = 15
        ([2, 2, 2, 2, 2, 1, 1, 1, 1, 1], 15, "low"),
        # 6 x 2 + 4 x 1 = 16
        ([2, 2, 2, 2, 2, 2, 1, 1, 1, 1], 16, "moderate"),
        # 1 x 3 + 9 x 2 = 21
        ([3, 2, 2, 2, 2, 2, 2, 2, 2, 2], 21, "moderate"),
        # 2 x 3 + 8 x 2 = 22
        ([3, 3, 2, 2, 2, 2, 2, 2, 2, 2], 22, "high"),
        # 9 x 3 + 1 x 2 = 29
        ([3, 3, 3, 3, 3, 3, 3, 3, 3, 2], 29, "high"),
        # 10 x 3 = 30
        ([3] * 10, 30, "very high"),
        # 10 x 5 = 50
        ([5] * 10, 50, "very high"),
    ],
)
def test_abs_band_edges(answers: list[int], total: int, band: str) -> None:
    result = cf.score("k10", answers)
    assert result.total == total
    assert result.band == band
    assert result.prorated is False
    assert result.risk_items == ()


def test_us_zero_to_four_scoring_is_refused_not_misread() -> None:
    # a 0 ("none of the time" in the US 0-4 convention) is not an Australian answer
    with pytest.raises(ScoringError, match=r"expected one of 1, 2, 3, 4, 5"):
        cf.score("k10", [0] * 10)


def test_one_missing_item_is_prorated_and_rounded() -> None:
    # items 1-9: 2 x 6 + 1 x 3 = 15 -> 15 / 9 x 10 = 16.67 -> 17 ("moderate"; the unprorated
    # sum of 15 would read "low")
    result = cf.score("k10", [2, 2, 2, 2, 2, 2, 1, 1, 1, None])
    assert result.total == 17
    assert result.band == "moderate"
    assert result.prorated is True
    assert result.missing_items == ("k10_10",)


def test_one_missing_item_prorated_rounds_down_below_half() -> None:
    # items 2-10: 2 + 8 x 1 = 10 -> 10 / 9 x 10 = 11.11 -> 11
    assert cf.score("k10", [None, 2, 1, 1, 1, 1, 1, 1, 1, 1]).total == 11
    # items 1-9 all 1: 9 / 9 x 10 = 10, the lowest possible total
    assert cf.score("k10", [1, 1, 1, 1, 1, 1, 1, 1, 1, None]).total == 10


def test_two_missing_items_are_refused() -> None:
    with pytest.raises(ScoringError) as info:
        cf.score("k10", [2, 2, 2, 2, 2, 2, 2, 2, None, None])
    assert any("2 of 10 items missing" in p for p in info.value.problems)
