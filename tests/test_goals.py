"""Goal ratings and Goal Attainment Scaling, against values worked by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

import commonfactors as cf
from commonfactors.goals import gas_t_score, gas_t_scores, goal_change


def test_gas_goals_met_exactly_as_expected_is_50() -> None:
    assert gas_t_score([0, 0, 0]) == pytest.approx(50.0)
    assert gas_t_score([1, 0, -1]) == pytest.approx(50.0)


def test_gas_three_goals_all_much_better_than_expected() -> None:
    # T = 50 + 10·6 / √((1 − .3)·3 + .3·3²) = 50 + 60 / √4.8 = 50 + 27.386 = 77.386
    assert gas_t_score([2, 2, 2]) == pytest.approx(50 + 60 / math.sqrt(4.8))
    assert gas_t_score([2, 2, 2]) == pytest.approx(77.386, abs=1e-3)


def test_gas_one_goal_moves_ten_points_per_level() -> None:
    # one goal: the denominator is w·√((1 − ρ) + ρ) = w, so T = 50 + 10·x whatever the weight
    assert gas_t_score([-2]) == pytest.approx(30.0)
    assert gas_t_score([1], [3]) == pytest.approx(60.0)


def test_gas_weights() -> None:
    # x = (2, −1), w = (2, 1): Σwx = 3; Σw² = 5; (Σw)² = 9
    # T = 50 + 30 / √(.7·5 + .3·9) = 50 + 30 / √6.2 = 62.048
    assert gas_t_score([2, -1], [2, 1]) == pytest.approx(50 + 30 / math.sqrt(6.2))


def test_gas_with_uncorrelated_goals() -> None:
    # ρ = 0: T = 50 + 10·Σx / √n = 50 + 10·3 / 2 = 65 for x = (1, 1, 1, 0)
    assert gas_t_score([1, 1, 1, 0], rho=0.0) == pytest.approx(65.0)


def test_gas_batch_twin_handles_clients_with_fewer_goals() -> None:
    t = gas_t_scores([[2, 2, 2], [1, np.nan, np.nan], [np.nan, np.nan, np.nan]])
    assert t[0] == pytest.approx(gas_t_score([2, 2, 2]))
    assert t[1] == pytest.approx(60.0)
    assert math.isnan(t[2])


def test_gas_refuses_bad_levels_and_weights_naming_each() -> None:
    with pytest.raises(cf.ScoringError) as info:
        gas_t_scores([[3, 0], [0, 1]], [[1, 1], [1, -2]])
    assert info.value.problems == (
        "row 1, goal 1: 3 is not one of −2, −1, 0, 1, 2",
        "row 2, goal 2: weight -2 must be positive",
    )
    with pytest.raises(cf.ScoringError, match="rho"):
        gas_t_score([1], rho=1.0)


def test_goal_ratings_instrument_is_the_mean_of_the_rated_goals() -> None:
    s = cf.score("goals", [4, None, 8])
    assert s.total == pytest.approx(6.0)
    assert cf.score("goals", [7, None, None]).total == pytest.approx(7.0)
    with pytest.raises(cf.ScoringError, match="3 of 3 items missing"):
        cf.score("goals", [None, None, None])
    with pytest.raises(cf.ScoringError, match="11 is not an allowed value"):
        cf.score("goals", [11, 2, 3])


def test_goal_change_from_first_to_latest_rating() -> None:
    changes = goal_change([[2, 5], [3, None], [6, 4, 1]])
    assert [(c.goal, c.first, c.latest, c.change, c.ratings) for c in changes] == [
        (1, 2.0, 6.0, 4.0, 3),
        (2, 5.0, 4.0, -1.0, 2),
    ]  # goal 3 was rated once: no change yet


def test_goal_change_refuses_ratings_off_the_scale() -> None:
    with pytest.raises(cf.ScoringError) as info:
        goal_change([[2, 12], [1, 2, 3, 4]])
    assert info.value.problems == (
        "check-in 1, goal 2: 12 is not a rating from 0 to 10",
        "check-in 2: 4 goals; at most 3 goals are agreed",
    )
