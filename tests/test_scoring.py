"""The scoring engine: one rule implementation for one administration and for a frame."""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import commonfactors as cf
from commonfactors.instruments.schema import Definition


def reference_score(d: Definition, answers: Sequence[float | None]) -> dict[str, object] | None:
    """An independent, deliberately plain re-statement of the published rules (for tests only).

    Returns None when the administration must be refused.
    """
    values = dict(zip(d.item_ids, answers, strict=True))
    for item_id, v in values.items():
        if v is not None and v not in d.allowed_values(item_id):
            return None
    optional = set(d.missing.optional_items)
    required = [i for i in d.item_ids if i not in optional]
    missing = [i for i in required if values[i] is None]
    if len(missing) > d.missing.max_missing:
        return None

    def keyed(i: str) -> float:
        v = values[i]
        assert v is not None
        if d.item(i).reverse:
            allowed = d.allowed_values(i)
            return min(allowed) + max(allowed) - v
        return v

    def aggregate(ids: Sequence[str], kind: str) -> float | None:
        answered = [i for i in ids if values[i] is not None]
        if not answered:
            return None
        if kind == "mean":
            return sum(keyed(i) for i in answered) / len(answered)
        req = [i for i in ids if i not in optional]
        req_answered = [i for i in req if values[i] is not None]
        s = sum(keyed(i) for i in req_answered)
        if req and len(req_answered) < len(req):
            s = s * len(req) / len(req_answered)
            if d.missing.rounding == "nearest":
                s = math.floor(s + 0.5)
        return s + sum(keyed(i) for i in ids if i in optional and values[i] is not None)

    if d.scoring.kind == "composite":
        parts = [
            (t.weight, aggregate(d.subscale(t.subscale).items, d.subscale(t.subscale).kind))
            for t in d.scoring.composite
        ]
        total = sum(w * (p or 0.0) for w, p in parts)
    else:
        total = aggregate(d.item_ids, "mean" if d.scoring.kind == "mean" else "sum")
    assert total is not None
    total *= d.scoring.multiplier
    band = None
    for b in d.bands:
        if total >= b.min:
            band = b.label
    cut = d.caseness_cutoff
    return {
        "total": total,
        "band": band,
        "caseness": None if cut is None else cut.holds(total),
        "risk_items": [
            r.item for r in d.risk if values[r.item] is not None and values[r.item] >= r.at_least
        ],
        "prorated": bool(missing),
        "risk_unanswered": [r.item for r in d.risk if values[r.item] is None],
    }


INSTRUMENTS = cf.default_registry().ids()


@st.composite
def administrations(draw: st.DrawFn) -> tuple[str, list[list[float | None]]]:
    instrument_id = draw(st.sampled_from(INSTRUMENTS))
    d = cf.default_registry().definition(instrument_id)
    rows = []
    for _ in range(draw(st.integers(1, 6))):
        row: list[float | None] = []
        for item_id in d.item_ids:
            allowed = d.allowed_values(item_id)
            row.append(
                draw(
                    st.one_of(
                        st.sampled_from(allowed),
                        st.none(),
                        st.sampled_from([max(allowed) + 1, min(allowed) - 1, 0.5]),
                    )
                )
            )
        rows.append(row)
    return instrument_id, rows


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(administrations())
def test_score_and_score_frame_agree_with_each_other_and_the_published_rules(
    case: tuple[str, list[list[float | None]]],
) -> None:
    instrument_id, rows = case
    d = cf.default_registry().definition(instrument_id)
    frame = pl.DataFrame(
        {item_id: [row[k] for row in rows] for k, item_id in enumerate(d.item_ids)},
        schema=dict.fromkeys(d.item_ids, pl.Float64),
    )
    scored = cf.score_frame(instrument_id, frame, errors="report")
    for r, row in enumerate(rows):
        expected = reference_score(d, row)
        got = scored.row(r, named=True)
        if expected is None:
            assert got["error"] is not None
            assert got["total"] is None
            with pytest.raises(cf.ScoringError):
                cf.score(instrument_id, row)
            continue
        single = cf.score(instrument_id, row)
        assert got["error"] is None
        assert got["total"] == pytest.approx(expected["total"])
        assert single.total == pytest.approx(expected["total"])
        assert got["band"] == single.band == expected["band"]
        assert got["caseness"] == single.caseness == expected["caseness"]
        assert list(got["risk_items"]) == list(single.risk_items) == expected["risk_items"]
        assert got["prorated"] == single.prorated == expected["prorated"]
        assert list(got["risk_unanswered"]) == list(single.risk_unanswered)
        assert list(single.risk_unanswered) == expected["risk_unanswered"]


def test_phq9_done_when_examples() -> None:
    s = cf.score("phq9", [3, 3, 3, 3, 3, 3, 3, 3, 1])
    assert (s.total, s.band, s.caseness, s.risk_items) == (25, "severe", True, ("phq9_9",))
    assert s.definition_version == cf.default_registry().definition("phq9").version
    assert set(s.rules) >= {"total", "band", "caseness", "risk_items", "prorated"}


def test_answers_by_item_id_mapping() -> None:
    answers = {f"phq9_{k}": 1 for k in range(1, 10)}
    assert cf.score("phq9", answers).total == 9


def test_every_problem_is_named_at_once() -> None:
    with pytest.raises(cf.ScoringError) as info:
        cf.score("phq9", {"phq9_1": "often", "phq9_2": 4, "phq9_77": 1, "phq9_3": True})
    problems = info.value.problems
    assert any("phq9_77" in p for p in problems)
    assert any("item 1 (phq9_1): often is not a number" in p for p in problems)
    assert any("item 2 (phq9_2): 4 is not an allowed value (expected one of 0, 1, 2, 3)" in p
               for p in problems)  # fmt: skip
    assert any("item 3 (phq9_3): True is not a number" in p for p in problems)


def test_too_many_missing_is_refused_and_names_the_items() -> None:
    with pytest.raises(cf.ScoringError) as info:
        cf.score("phq9", [1, None, 1, None, 1, None, 1, 1, 1])
    assert "3 of 9 items missing (items 2, 4, 6), but at most 2 may be missing" in str(info.value)


def test_a_refused_administration_still_reports_its_risk_answer() -> None:
    with pytest.raises(cf.ScoringError) as info:
        cf.score("phq9", [None, None, None, 7, 1, 1, 1, 1, 2])
    assert info.value.risk_items == ("phq9_9",)


def test_wrong_number_of_answers() -> None:
    with pytest.raises(cf.ScoringError, match="expected 9 answers in item order, got 8"):
        cf.score("phq9", [1] * 8)


def test_unknown_instrument() -> None:
    with pytest.raises(cf.UnknownInstrumentError, match="unknown instrument 'phq10'"):
        cf.score("phq10", [1] * 9)
    assert issubclass(cf.UnknownInstrumentError, cf.ScoringError)


def test_string_answers_and_blanks_in_a_frame() -> None:
    frame = pl.DataFrame({f"phq9_{k}": ["1"] for k in range(1, 10)}).with_columns(
        phq9_5=pl.lit(" "), phq9_6=pl.lit("two")
    )
    with pytest.raises(cf.ScoringError) as info:
        cf.score_frame("phq9", frame)
    assert info.value.problems == (
        "row 1: item 6 (phq9_6): two is not a number (expected one of 0, 1, 2, 3)",
    )


def test_score_frame_raises_naming_every_bad_row_and_scores_nothing() -> None:
    frame = pl.DataFrame({f"phq9_{k}": [0, 1, 2, 3] for k in range(1, 10)}).with_columns(
        phq9_2=pl.Series([0, 9, 2, -1])
    )
    with pytest.raises(cf.ScoringError) as info:
        cf.score_frame("phq9", frame)
    assert info.value.problems == (
        "row 2: item 2 (phq9_2): 9 is not an allowed value (expected one of 0, 1, 2, 3)",
        "row 4: item 2 (phq9_2): -1 is not an allowed value (expected one of 0, 1, 2, 3)",
    )
    assert "2 of 4 row(s) cannot be scored" in str(info.value)
    assert info.value.risk_items == ("phq9_9",)  # row 2 and 4 answered item 9 with 1 and 3


def test_score_frame_report_mode_keeps_good_rows_and_explains_bad_ones() -> None:
    frame = pl.DataFrame({"client": ["a", "b"], **{f"phq9_{k}": [2, 2] for k in range(1, 10)}})
    frame = frame.with_columns(phq9_1=pl.Series([2, 5]))
    scored = cf.score_frame("phq9", frame, errors="report")
    assert scored.columns[:1] == ["client"]
    good, bad = scored.rows(named=True)
    assert (good["total"], good["band"], good["error"]) == (18, "moderately severe", None)
    assert bad["total"] is None and bad["band"] is None
    assert bad["error"] == "item 1 (phq9_1): 5 is not an allowed value (expected one of 0, 1, 2, 3)"
    assert bad["risk_items"] == ["phq9_9"]  # never silent, even on a refused row


def test_score_frame_refuses_a_frame_without_the_item_columns() -> None:
    with pytest.raises(cf.ScoringError) as info:
        cf.score_frame("phq9", pl.DataFrame({"phq9_1": [1], "total": [3]}))
    problems = info.value.problems
    assert "column 'phq9_2' (item 2) is missing" in problems
    assert "column 'total' would be overwritten by the score" in problems
    assert len(problems) == 9


def test_score_frame_with_integer_columns_matches_float_columns() -> None:
    ints = pl.DataFrame({f"phq9_{k}": [0, 1, 3] for k in range(1, 10)})
    floats = ints.cast(pl.Float64)
    assert cf.score_frame("phq9", ints).equals(cf.score_frame("phq9", floats))


def test_empty_frame_scores_to_an_empty_frame() -> None:
    frame = pl.DataFrame(schema={f"phq9_{k}": pl.Int64 for k in range(1, 10)})
    scored = cf.score_frame("phq9", frame)
    assert scored.height == 0
    assert "total" in scored.columns


def test_small_integer_columns_cannot_overflow() -> None:
    # all 3s in Int8 with one missing row elsewhere: 27, never a wrapped-around negative
    frame = pl.DataFrame(
        {f"phq9_{k}": pl.Series([3, 3 if k != 2 else None], dtype=pl.Int8) for k in range(1, 10)}
    )
    totals = cf.score_frame("phq9", frame).get_column("total").to_list()
    assert totals == [27.0, 27.0]  # second row: 24 × 9/8 = 27
    k10 = pl.DataFrame({f"k10_{k}": pl.Series([5, None], dtype=pl.UInt8) for k in range(1, 11)})
    assert cf.score_frame("k10", k10.head(1)).get_column("total").to_list() == [50.0]


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan, "nan", "inf", 1e300, "1e300"])
def test_non_finite_and_huge_values_are_named(value: object) -> None:
    answers: list[object] = [1] * 9
    answers[0] = value
    with pytest.raises(cf.ScoringError) as info:
        cf.score("phq9", answers)
    assert len(info.value.problems) == 1
    assert info.value.problems[0].startswith("item 1 (phq9_1): ")
    assert "expected one of 0, 1, 2, 3" in info.value.problems[0]


def test_categorical_columns_are_read_as_text() -> None:
    frame = pl.DataFrame({f"phq9_{k}": ["1", "2"] for k in range(1, 10)}).cast(pl.Categorical)
    assert cf.score_frame("phq9", frame).get_column("total").to_list() == [9.0, 18.0]


def test_a_list_column_is_refused_not_crashed() -> None:
    frame = pl.DataFrame({f"phq9_{k}": [1] for k in range(1, 10)}).with_columns(
        phq9_1=pl.lit([1, 2])
    )
    with pytest.raises(cf.ScoringError, match=r"item 1 .* is not a number"):
        cf.score_frame("phq9", frame)


def test_a_column_named_like_an_internal_or_subscale_column_is_refused() -> None:
    frame = pl.DataFrame({f"pcl5_{k}": [1] for k in range(1, 21)}).with_columns(
        __cf_ok=pl.lit(1), subscale_cluster_b=pl.lit(2)
    )
    with pytest.raises(cf.ScoringError) as info:
        cf.score_frame("pcl5", frame)
    assert info.value.problems == (
        "column '__cf_ok' would be overwritten by the score",
        "column 'subscale_cluster_b' would be overwritten by the score",
    )


def test_pandas_and_lazy_frames_are_scored() -> None:
    frame = pl.DataFrame({f"phq9_{k}": [1, 2] for k in range(1, 10)})
    assert cf.score_frame("phq9", frame.to_pandas()).get_column("total").to_list() == [9, 18]
    assert cf.score_frame("phq9", frame.lazy()).get_column("total").to_list() == [9, 18]
    with pytest.raises(cf.ScoringError, match="cannot score a dict"):
        cf.score_frame("phq9", {"phq9_1": [1]})


def test_decimal_and_numpy_answers() -> None:
    import numpy as np

    assert cf.score("phq9", [Decimal("1")] * 9).total == 9
    assert cf.score("phq9", np.array([1] * 9)).total == 9


def test_refused_rows_name_their_risk_answers() -> None:
    frame = pl.DataFrame({f"phq9_{k}": [1, 7, None] for k in range(1, 10)}).with_columns(
        phq9_9=pl.Series([1, 2, None])
    )
    with pytest.raises(cf.ScoringError) as info:
        cf.score_frame("phq9", frame)
    assert info.value.risk_rows == {2: ("phq9_9",)}  # row 1 scored: its risk is on the score
    assert info.value.risk_unanswered_rows == {3: ("phq9_9",)}


def test_an_unreadable_risk_answer_must_be_asked_in_person() -> None:
    s = cf.score("phq9", [1, 1, 1, 1, 1, 1, 1, 1, None])
    assert s.risk_unanswered == ("phq9_9",)
    with pytest.raises(cf.ScoringError) as info:
        cf.score("phq9", [1, 1, 1, 1, 1, 1, 1, 1, "yes"])
    assert info.value.risk_unanswered == ("phq9_9",)
    assert info.value.risk_items == ()


def _custom(**changes: object) -> Definition:
    import yaml

    from commonfactors.instruments.registry import DEFINITIONS_DIR

    data = yaml.safe_load((DEFINITIONS_DIR / "pcl5.yaml").read_text(encoding="utf-8"))
    return Definition.model_validate({**data, **changes})


def test_a_single_band_definition_scores() -> None:
    d = _custom(bands=[{"label": "any", "min": 0}], bands_source="test")
    assert cf.score(d, [1] * 20).band == "any"


def test_a_subscale_with_no_answer_is_missing_not_zero_over_zero() -> None:
    d = _custom(missing={"max_missing": 2, "prorate": True, "source": "test"})
    answers: list[int | None] = [1] * 20
    answers[5] = answers[6] = None  # cluster C is items 6-7
    s = cf.score(d, answers)
    assert s.subscales["cluster_c"] is None
    assert s.total == pytest.approx(20.0)  # 18 × 20/18


def test_a_composite_with_a_missing_term_is_refused_not_shrunk() -> None:
    d = _custom(
        scoring={
            "kind": "composite",
            "composite": [
                {"subscale": "cluster_b", "weight": 1},
                {"subscale": "cluster_c", "weight": -1},
            ],
            "source": "test",
        },
        missing={"max_missing": 2, "prorate": True, "source": "test"},
        bands=[],
        cutoffs=[],
    )
    answers: list[int | None] = [2] * 20
    answers[5] = answers[6] = None
    with pytest.raises(cf.ScoringError, match="leave the score undefined"):
        cf.score(d, answers)


def test_an_integer_column_with_gaps_and_a_bad_value_is_still_checked_row_by_row() -> None:
    frame = pl.DataFrame({f"phq9_{k}": [1, 2, None] for k in range(1, 10)}).with_columns(
        phq9_3=pl.Series([1, 7, 2])
    )
    scored = cf.score_frame("phq9", frame, errors="report")
    assert scored.get_column("total").to_list() == [9.0, None, None]
    assert scored.get_column("error").to_list() == [
        None,
        "item 3 (phq9_3): 7 is not an allowed value (expected one of 0, 1, 2, 3)",
        "8 of 9 items missing (items 1, 2, 4, 5, 6, 7, 8, 9), but at most 2 may be missing",
    ]


def test_several_risk_items_are_listed_in_item_order() -> None:
    risk = [
        {"item": f"pcl5_{n}", "at_least": 3, "reason": "test", "source": "test"} for n in (2, 9, 16)
    ]
    d = _custom(risk=risk, missing={"max_missing": 1, "prorate": True, "source": "test"})
    rows = [[0] * 20 for _ in range(4)]
    rows[1][15] = 4  # item 16 only
    rows[2][1] = rows[2][15] = 3  # items 2 and 16
    rows[3][1] = rows[3][8] = rows[3][15] = 4  # all three
    frame = pl.DataFrame(rows, schema=d.item_ids, orient="row").with_columns(
        pcl5_9=pl.Series([None, 0, 0, 4])
    )
    scored = cf.score_frame(d, frame)
    assert scored.get_column("risk_items").to_list() == [
        [],
        ["pcl5_16"],
        ["pcl5_2", "pcl5_16"],
        ["pcl5_2", "pcl5_9", "pcl5_16"],
    ]
    assert scored.get_column("risk_unanswered").to_list() == [["pcl5_9"], [], [], []]
