"""CORE-10: reverse keys, bands, caseness, the one-missing-item rule and the risk item.

Answers are given in item order 1..10 as the position of the chosen option (0 = not at all,
4 = most or all of the time). Items 2 and 3 are reverse-keyed: keyed value = 4 - answer.
Every expected total below is worked out by hand in its comment.
"""

from __future__ import annotations

import pytest

import commonfactors as cf
from commonfactors.errors import ScoringError
from commonfactors.instruments.registry import DEFINITIONS_DIR, read_definition

DEFINITION = read_definition(DEFINITIONS_DIR / "core10.yaml")


def test_definition_facts() -> None:
    assert DEFINITION.licence.text_shippable is False
    assert [i.number for i in DEFINITION.items if i.reverse] == [2, 3]
    assert DEFINITION.score_range == (0, 40)
    assert DEFINITION.reliable_change is not None
    assert DEFINITION.reliable_change.value == 6


# -- reverse keys -----------------------------------------------------------------------------


def test_all_answers_zero_scores_eight_because_items_2_and_3_are_reversed() -> None:
    # items 1,4..10: 0 each; items 2 and 3: 4 - 0 = 4 each -> 4 + 4 = 8
    assert cf.score("core10", [0] * 10).total == 8


def test_all_answers_four_scores_thirty_two() -> None:
    # items 1,4..10: 8 items x 4 = 32; items 2 and 3: 4 - 4 = 0 each -> 32
    assert cf.score("core10", [4] * 10).total == 32


def test_reverse_keyed_items_count_each_value_backwards() -> None:
    # item 2 answered 1 -> 4 - 1 = 3; item 3 answered 3 -> 4 - 3 = 1; all else 0 -> 3 + 1 = 4
    assert cf.score("core10", [0, 1, 3, 0, 0, 0, 0, 0, 0, 0]).total == 4


def test_item_4_is_not_reverse_keyed() -> None:
    # items 2 and 3 answered 4 -> keyed 0; item 4 answered 3 -> 3; all else 0 -> 3
    assert cf.score("core10", [0, 4, 4, 3, 0, 0, 0, 0, 0, 0]).total == 3


def test_maximum_and_minimum() -> None:
    # maximum: every non-reversed item 4 (8 x 4 = 32), items 2 and 3 answered 0 (4 + 4) -> 40
    high = cf.score("core10", [4, 0, 0, 4, 4, 4, 4, 4, 4, 4])
    assert high.total == 40
    assert high.band == "severe"
    # minimum: every non-reversed item 0, items 2 and 3 answered 4 (keyed 0) -> 0
    low = cf.score("core10", [0, 4, 4, 0, 0, 0, 0, 0, 0, 0])
    assert low.total == 0
    assert low.band == "healthy or low level"
    assert low.caseness is False


# -- bands and caseness -----------------------------------------------------------------------
# Items 2 and 3 are answered 4 (keyed 0) and item 6 is 0, so the total is the sum of items
# 1, 4, 5, 7, 8, 9 and 10 as written.


@pytest.mark.parametrize(
    ("answers", "total", "band", "caseness"),
    [
        # 2 + 2 + 2 + 2 + 1 + 1 + 0 = 10
        ([2, 4, 4, 2, 2, 0, 2, 1, 1, 0], 10, "healthy or low level", False),
        # 2 + 2 + 2 + 2 + 1 + 1 + 1 = 11
        ([2, 4, 4, 2, 2, 0, 2, 1, 1, 1], 11, "mild", True),
        # 2 + 2 + 2 + 2 + 2 + 2 + 2 = 14
        ([2, 4, 4, 2, 2, 0, 2, 2, 2, 2], 14, "mild", True),
        # 3 + 2 + 2 + 2 + 2 + 2 + 2 = 15
        ([3, 4, 4, 2, 2, 0, 2, 2, 2, 2], 15, "moderate", True),
        # 3 + 3 + 3 + 3 + 3 + 2 + 2 = 19
        ([3, 4, 4, 3, 3, 0, 3, 3, 2, 2], 19, "moderate", True),
        # 3 + 3 + 3 + 3 + 3 + 3 + 2 = 20
        ([3, 4, 4, 3, 3, 0, 3, 3, 3, 2], 20, "moderate-to-severe", True),
        # 4 + 4 + 3 + 3 + 3 + 3 + 4 = 24
        ([4, 4, 4, 4, 3, 0, 3, 3, 3, 4], 24, "moderate-to-severe", True),
        # 4 + 4 + 4 + 3 + 3 + 3 + 4 = 25
        ([4, 4, 4, 4, 4, 0, 3, 3, 3, 4], 25, "severe", True),
    ],
)
def test_band_and_caseness_edges(answers: list[int], total: int, band: str, caseness: bool) -> None:
    result = cf.score("core10", answers)
    assert result.total == total
    assert result.band == band
    assert result.caseness is caseness
    assert result.risk_items == ()
    assert result.prorated is False


# -- missing items ----------------------------------------------------------------------------


def test_one_missing_item_is_prorated_without_rounding() -> None:
    # answered: 2 + 0 + 0 + 2 + 2 + 0 + 2 + 1 + 1 = 10 over 9 items (item 10 missing)
    # clinical score = 10 x 10 / 9 = 11.11..., which reaches the cut-off of 11
    result = cf.score("core10", [2, 4, 4, 2, 2, 0, 2, 1, 1, None])
    assert result.total == pytest.approx(100 / 9)
    assert result.prorated is True
    assert result.missing_items == ("core10_10",)
    assert result.band == "mild"
    assert result.caseness is True


def test_a_missing_reverse_keyed_item_is_prorated_from_the_keyed_others() -> None:
    # item 2 missing; item 3 answered 1 -> 4 - 1 = 3; item 1 = 4, item 4 = 2; others 0
    # keyed sum = 4 + 3 + 2 = 9 over 9 items -> 9 x 10 / 9 = 10
    result = cf.score("core10", [4, None, 1, 2, 0, 0, 0, 0, 0, 0])
    assert result.total == pytest.approx(10)
    assert result.caseness is False


def test_two_missing_items_are_refused() -> None:
    with pytest.raises(ScoringError) as info:
        cf.score("core10", [2, 4, 4, 2, 2, 0, 2, 1, None, None])
    assert any("2 of 10 items missing" in p for p in info.value.problems)


def test_an_answer_outside_0_to_4_is_refused() -> None:
    with pytest.raises(ScoringError, match="not an allowed value"):
        cf.score("core10", [5, 4, 4, 0, 0, 0, 0, 0, 0, 0])


# -- the risk item ----------------------------------------------------------------------------


def test_risk_item_6_at_threshold_raises_a_risk() -> None:
    # item 6 answered 1 (the lowest answer above "not at all"); total 1, far below the cut-off
    result = cf.score("core10", [0, 4, 4, 0, 0, 1, 0, 0, 0, 0])
    assert result.total == 1
    assert result.caseness is False
    assert result.risk_items == ("core10_6",)


def test_risk_item_6_below_threshold_raises_no_risk() -> None:
    # every item at its most distressed answer except item 6 = 0: risk stays silent
    result = cf.score("core10", [4, 0, 0, 4, 4, 0, 4, 4, 4, 4])
    assert result.total == 36
    assert result.risk_items == ()


def test_risk_answer_is_reported_even_when_the_form_cannot_be_scored() -> None:
    with pytest.raises(ScoringError) as info:
        cf.score("core10", [None, None, 4, 0, 0, 3, 0, 0, 0, 0])
    assert info.value.risk_items == ("core10_6",)
