"""WSAS: five items 0-8, total 0-40, Mundt (2002) bands, and the work item left blank.

A blank work item (retired, or not working for reasons unrelated to the problem) or any one
other missing item is replaced by the mean of the answered items (NHS Data Dictionary), i.e.
the total is sum x 5 / 4, rounded half up to a whole number. Arithmetic is in each comment.
"""

from __future__ import annotations

import pytest

import commonfactors as cf
from commonfactors.errors import ScoringError
from commonfactors.instruments.registry import DEFINITIONS_DIR, read_definition

DEFINITION = read_definition(DEFINITIONS_DIR / "wsas.yaml")


def test_definition_facts() -> None:
    assert DEFINITION.licence.text_shippable is False
    assert DEFINITION.score_range == (0, 40)
    assert not any(i.reverse for i in DEFINITION.items)
    assert DEFINITION.risk == ()
    assert DEFINITION.caseness_cutoff is None


@pytest.mark.parametrize(
    ("answers", "total", "band"),
    [
        ([0, 0, 0, 0, 0], 0, "subclinical"),
        # 2 + 2 + 2 + 2 + 1 = 9, below 10
        ([2, 2, 2, 2, 1], 9, "subclinical"),
        # 2 + 2 + 2 + 2 + 2 = 10
        ([2, 2, 2, 2, 2], 10, "significant functional impairment"),
        # 4 x 5 = 20, not yet above 20
        ([4, 4, 4, 4, 4], 20, "significant functional impairment"),
        # 5 + 4 + 4 + 4 + 4 = 21, above 20
        ([5, 4, 4, 4, 4], 21, "moderately severe or worse"),
        # 8 x 5 = 40
        ([8, 8, 8, 8, 8], 40, "moderately severe or worse"),
    ],
)
def test_band_edges(answers: list[int], total: int, band: str) -> None:
    result = cf.score("wsas", answers)
    assert result.total == total
    assert result.band == band
    assert result.prorated is False
    assert result.caseness is None


# -- the work item left blank -----------------------------------------------------------------


def test_blank_work_item_is_prorated_to_the_0_to_40_scale() -> None:
    # items 2-5: 4 + 4 + 4 + 4 = 16 over 4 items -> 16 x 5 / 4 = 20
    result = cf.score("wsas", [None, 4, 4, 4, 4])
    assert result.total == 20
    assert result.prorated is True
    assert result.missing_items == ("wsas_1",)
    assert result.band == "significant functional impairment"


def test_blank_work_item_can_move_the_total_into_a_higher_band() -> None:
    # items 2-5: 2 + 2 + 2 + 2 = 8 -> 8 x 5 / 4 = 10 (a plain four-item sum of 8 would read
    # "subclinical")
    result = cf.score("wsas", [None, 2, 2, 2, 2])
    assert result.total == 10
    assert result.band == "significant functional impairment"


def test_blank_work_item_prorated_total_is_rounded_half_up() -> None:
    # items 2-5: 2 + 2 + 2 + 4 = 10 -> 10 x 5 / 4 = 12.5 -> 13
    assert cf.score("wsas", [None, 2, 2, 2, 4]).total == 13
    # items 2-5: 1 + 1 + 1 + 2 = 5 -> 5 x 5 / 4 = 6.25 -> 6
    assert cf.score("wsas", [None, 1, 1, 1, 2]).total == 6
    # items 2-5: 4 + 4 + 4 + 5 = 17 -> 17 x 5 / 4 = 21.25 -> 21, above 20
    above = cf.score("wsas", [None, 4, 4, 4, 5])
    assert above.total == 21
    assert above.band == "moderately severe or worse"


def test_blank_work_item_by_mapping() -> None:
    # the work item simply not given: 3 + 3 + 3 + 3 = 12 -> 12 x 5 / 4 = 15
    answers = {"wsas_2": 3, "wsas_3": 3, "wsas_4": 3, "wsas_5": 3}
    assert cf.score("wsas", answers).total == 15


def test_one_other_missing_item_is_prorated_the_same_way() -> None:
    # item 5 missing: 6 + 6 + 5 + 5 = 22 -> 22 x 5 / 4 = 27.5 -> 28
    result = cf.score("wsas", [6, 6, 5, 5, None])
    assert result.total == 28
    assert result.missing_items == ("wsas_5",)


def test_blank_work_item_and_another_missing_item_are_refused() -> None:
    with pytest.raises(ScoringError) as info:
        cf.score("wsas", [None, 4, 4, 4, None])
    assert any("2 of 5 items missing" in p for p in info.value.problems)


def test_an_answer_outside_0_to_8_is_refused() -> None:
    with pytest.raises(ScoringError, match="not an allowed value"):
        cf.score("wsas", [9, 0, 0, 0, 0])
