"""WHO-5: raw sum 0-25 transformed to a percentage 0-100 (x 4); higher is better.

Poor wellbeing is a raw score below 13, i.e. a percentage of 48 or less. Expected values are
computed by hand in the comments.
"""

from __future__ import annotations

import pytest

import commonfactors as cf


def test_transform_to_percentage() -> None:
    # raw 3x5 = 15; 15 x 4 = 60
    s = cf.score("who5", [3, 3, 3, 3, 3])
    assert s.total == 60
    assert s.caseness is False
    assert s.band is None  # no bands are published
    assert cf.score("who5", [5, 5, 5, 5, 5]).total == 100  # raw 25 x 4
    assert cf.score("who5", [0, 0, 0, 0, 0]).total == 0


def test_caseness_edge() -> None:
    # raw 3+3+2+2+2 = 12 (< 13): 12 x 4 = 48, poor wellbeing.
    poor = cf.score("who5", [3, 3, 2, 2, 2])
    assert (poor.total, poor.caseness) == (48, True)
    # raw 3+3+3+2+2 = 13: 13 x 4 = 52, not poor wellbeing.
    fine = cf.score("who5", [3, 3, 3, 2, 2])
    assert (fine.total, fine.caseness) == (52, False)


@pytest.mark.parametrize("raw", range(26))
def test_caseness_matches_the_published_raw_rule_for_every_raw_score(raw: int) -> None:
    # Spread the raw score over the five items (5 per item, the rest on the next one).
    answers = [min(5, max(0, raw - 5 * k)) for k in range(5)]
    assert sum(answers) == raw
    s = cf.score("who5", answers)
    assert s.total == raw * 4
    assert s.caseness is (raw < 13)  # published: "a raw score below 13 ... poor wellbeing"


def test_higher_is_better_and_no_reverse_keys() -> None:
    d = cf.get_instrument("who5").definition
    assert d.direction == "higher_is_better"
    # If item 1 were reverse-keyed, "all of the time" (5) would count as 0: raw 5, total 20.
    assert cf.score("who5", [5, 0, 0, 0, 0]).total == 20


def test_no_risk_item() -> None:
    # All five items are positive wellbeing statements; the worst answers raise no risk alert.
    assert cf.get_instrument("who5").definition.risk == ()
    assert cf.score("who5", [0, 0, 0, 0, 0]).risk_items == ()


def test_a_missing_item_is_refused_naming_it() -> None:
    with pytest.raises(cf.ScoringError) as info:
        cf.score("who5", [4, None, 4, 4, 4])
    assert "1 of 5 items missing (items 2), but at most 0 may be missing" in str(info.value)


def test_a_ten_point_change_is_significant() -> None:
    rc = cf.get_instrument("who5").definition.reliable_change
    assert rc is not None
    assert (rc.basis, rc.value) == ("published", 10)  # percentage points


def test_text_pack_answer_labels_are_exact_and_in_form_order() -> None:
    instrument = cf.get_instrument("who5")
    pack = instrument.text("en")
    assert pack is not None
    labels = pack.response_sets["time"]
    values = instrument.definition.response_set("time").values
    assert dict(zip(labels, values, strict=True)) == {
        "All of the time": 5,
        "Most of the time": 4,
        "More than half of the time": 3,
        "Less than half of the time": 2,
        "Some of the time": 1,
        "At no time": 0,
    }
    assert list(labels) == [
        "All of the time",
        "Most of the time",
        "More than half of the time",
        "Less than half of the time",
        "Some of the time",
        "At no time",
    ]
    assert pack.items["who5_1"] == "I have felt cheerful and in good spirits"
    assert pack.items["who5_5"] == "My daily life has been filled with things that interest me"
