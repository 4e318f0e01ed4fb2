"""Tests of tsforecast.metrics: hand-computed values, sklearn agreement, bounds, MASE scale and NaN handling."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sklearn.metrics import mean_absolute_error, mean_squared_error

from tsforecast.errors import DataError, DataTypeError
from tsforecast.metrics import METRICS, mae, mase, rmse, score, smape


def _all_metrics(y_true: Any, y_pred: Any, y_train: Any = (1.0, 2.0, 4.0), season: int = 1) -> dict[str, float]:
    return score(y_true, y_pred, y_train=y_train, season=season)


@pytest.mark.parametrize(
    ("metric", "y_true", "y_pred", "expected"),
    [
        (mae, [1.0, 2.0, 3.0], [2.0, 2.0, 5.0], 1.0),
        (mae, [-1.0, 4.0], [1.0, 1.0], 2.5),
        (mae, [3.0], [3.0], 0.0),
        (rmse, [1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 8.0], 2.0),
        (rmse, [0.0, 0.0], [3.0, -4.0], math.sqrt(12.5)),
        (smape, [100.0, 0.0, 50.0], [110.0, 0.0, -50.0], 200 / 3 * (10 / 210 + 0 + 1)),
        (smape, [1.0, 2.0], [1.0, 2.0], 0.0),
        (smape, [0.0], [5.0], 200.0),
        (smape, [2.0, -2.0], [-2.0, 2.0], 200.0),
        (smape, [0.0, 0.0], [0.0, 0.0], 0.0),
    ],
)
def test_metric_matches_hand_computed_value(
    metric: Callable[..., float], y_true: list[float], y_pred: list[float], expected: float
) -> None:
    assert metric(y_true, y_pred) == pytest.approx(expected, rel=1e-12, abs=0)


@pytest.mark.parametrize("seed", range(5))
def test_mae_and_rmse_agree_with_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 50))
    y_true, y_pred = rng.normal(10, 5, n), rng.normal(10, 5, n)
    assert mae(y_true, y_pred) == pytest.approx(mean_absolute_error(y_true, y_pred), rel=1e-12)
    assert rmse(y_true, y_pred) == pytest.approx(math.sqrt(mean_squared_error(y_true, y_pred)), rel=1e-12)


finite = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_infinity=False)
pairs = st.integers(min_value=1, max_value=30).flatmap(
    lambda n: st.tuples(st.lists(finite, min_size=n, max_size=n), st.lists(finite, min_size=n, max_size=n))
)


@settings(max_examples=80, deadline=None)
@given(pairs)
def test_smape_lies_in_0_200_and_is_symmetric(pair: tuple[list[float], list[float]]) -> None:
    y_true, y_pred = pair
    value = smape(y_true, y_pred)
    assert 0.0 <= value <= 200.0
    assert value == pytest.approx(smape(y_pred, y_true), rel=1e-12, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(pairs)
def test_rmse_is_at_least_mae(pair: tuple[list[float], list[float]]) -> None:
    y_true, y_pred = pair
    # Errors below 1e-150 have squares that underflow to 0, where the inequality cannot hold in floats.
    assume(mae(y_true, y_pred) > 1e-150)
    assert rmse(y_true, y_pred) >= mae(y_true, y_pred) * (1 - 1e-12)


def test_smape_counts_zero_over_zero_terms_as_zero_in_the_mean() -> None:
    # Terms: 0/0 := 0 and 2/2 = 1, averaged over both.
    assert smape([0.0, 1.0], [0.0, -1.0]) == 100.0


SEASONAL_TRAIN = np.concatenate([np.arange(12.0), np.arange(12.0) + 12.0])  # in-sample: |y_t - y_{t-12}| = 12


@pytest.mark.parametrize(
    ("y_train", "season", "expected"),
    [
        ([1.0, 3.0, 2.0, 5.0], 1, 2.0 / 2.0),  # scale: mean(|3-1|, |2-3|, |5-2|) = 2
        ([0.0, 10.0, 0.0, 20.0], 2, 2.0 / 5.0),  # scale: mean(|0-0|, |20-10|) = 5
        (SEASONAL_TRAIN, 12, 2.0 / 12.0),  # scale: every |y_t - y_{t-12}| is 12
        (SEASONAL_TRAIN, 1, 2.0 / 1.0),  # scale: every one-step difference is 1
    ],
)
def test_mase_matches_hand_computed_value(y_train: Any, season: int, expected: float) -> None:
    y_true, y_pred = [4.0, 6.0], [5.0, 9.0]  # errors 1 and 3: MAE 2
    assert mase(y_true, y_pred, y_train=y_train, season=season) == pytest.approx(expected, rel=1e-12)


def test_mase_with_season_12_on_a_seasonal_history() -> None:
    y_true = np.array([24.0, 25.0, 26.0])
    y_pred = np.array([30.0, 25.0, 20.0])  # errors 6, 0, 6: MAE 4
    assert mase(y_true, y_pred, y_train=SEASONAL_TRAIN, season=12) == pytest.approx(4.0 / 12.0, rel=1e-12)
    assert mase(y_true, y_pred, y_train=SEASONAL_TRAIN, season=1) == pytest.approx(4.0, rel=1e-12)


def test_mase_of_the_seasonal_naive_forecast_in_sample_is_one() -> None:
    rng = np.random.default_rng(0)
    y = rng.normal(size=40).cumsum()
    assert mase(y[12:], y[:-12], y_train=y, season=12) == pytest.approx(1.0, rel=1e-12)


def test_mase_is_inf_when_a_constant_history_is_forecast_wrongly() -> None:
    assert mase([5.0, 6.0], [5.0, 5.0], y_train=[3.0, 3.0, 3.0], season=1) == math.inf


def test_mase_is_nan_when_a_constant_history_is_forecast_exactly() -> None:
    assert math.isnan(mase([3.0, 3.0], [3.0, 3.0], y_train=[3.0, 3.0, 3.0], season=1))


def test_mase_scale_zero_for_a_history_that_repeats_every_season() -> None:
    assert mase([1.0], [2.0], y_train=[1.0, 2.0, 1.0, 2.0], season=2) == math.inf


@pytest.mark.parametrize(("n_train", "season"), [(0, 1), (1, 1), (12, 12), (5, 12)])
def test_mase_is_nan_with_fewer_than_season_plus_one_training_values(n_train: int, season: int) -> None:
    assert math.isnan(mase([1.0], [2.0], y_train=np.arange(float(n_train)), season=season))


def test_mase_needs_exactly_season_plus_one_training_values() -> None:
    assert mase([1.0], [2.0], y_train=np.arange(13.0) * 2, season=12) == pytest.approx(1.0 / 24.0)


@pytest.mark.parametrize("name", list(METRICS))
@pytest.mark.parametrize("where", ["y_true", "y_pred"])
def test_nan_is_propagated_not_skipped(name: str, where: str) -> None:
    clean, with_nan = [1.0, 2.0, 3.0], [1.0, float("nan"), 3.0]
    y_true, y_pred = (with_nan, clean) if where == "y_true" else (clean, with_nan)
    assert math.isnan(_all_metrics(y_true, y_pred)[name])


def test_nan_in_training_part_makes_mase_nan() -> None:
    assert math.isnan(mase([1.0], [2.0], y_train=[1.0, float("nan"), 3.0], season=1))


def test_pandas_inputs_are_compared_by_position() -> None:
    y_true = pd.Series([1.0, 2.0], index=[10, 11])
    y_pred = pd.Series([2.0, 4.0], index=[0, 1])
    assert mae(y_true, y_pred) == 1.5


def test_nullable_pandas_missing_value_gives_nan() -> None:
    assert math.isnan(mae([1.0, 2.0], pd.array([1.0, None], dtype="Float64")))


def test_score_returns_every_metric_in_registry_order() -> None:
    y_true, y_pred, y_train = [4.0, 6.0], [5.0, 9.0], [1.0, 3.0, 2.0, 5.0]
    result = score(y_true, y_pred, y_train=y_train, season=1)
    assert list(result) == ["mae", "rmse", "smape", "mase"] == list(METRICS)
    assert result == {
        "mae": mae(y_true, y_pred),
        "rmse": rmse(y_true, y_pred),
        "smape": smape(y_true, y_pred),
        "mase": mase(y_true, y_pred, y_train=y_train, season=1),
    }
    assert all(type(value) is float for value in result.values())


@pytest.mark.parametrize("name", list(METRICS))
def test_shape_mismatch_names_both_shapes(name: str) -> None:
    message = "y_true and y_pred must have the same shape, got y_true of shape (3,) and y_pred of shape (2,)."
    with pytest.raises(DataError, match=re.escape(message)):
        _all_metrics([1.0, 2.0, 3.0], [1.0, 2.0]) if name == "mase" else METRICS[name]([1.0, 2.0, 3.0], [1.0, 2.0])


@pytest.mark.parametrize(
    ("y_true", "y_pred", "name", "shape"),
    [
        ([[1.0, 2.0]], [1.0, 2.0], "y_true", "(1, 2)"),
        ([1.0, 2.0], np.ones((2, 1)), "y_pred", "(2, 1)"),
        (3.0, [3.0], "y_true", "()"),
    ],
)
def test_inputs_must_be_one_dimensional(y_true: Any, y_pred: Any, name: str, shape: str) -> None:
    with pytest.raises(DataError, match=re.escape(f"{name} must be 1-D (one series), got shape {shape}.")):
        mae(y_true, y_pred)


def test_training_part_must_be_one_dimensional() -> None:
    with pytest.raises(DataError, match=re.escape("y_train must be 1-D (one series), got shape (2, 2).")):
        mase([1.0], [1.0], y_train=np.ones((2, 2)), season=1)


def test_empty_inputs_are_refused() -> None:
    with pytest.raises(DataError, match=re.escape("y_true and y_pred are empty; a metric needs at least one")):
        rmse([], [])


def test_non_numeric_input_is_a_type_error() -> None:
    with pytest.raises(DataTypeError, match=re.escape("y_pred must hold numbers; converting it to float failed")):
        smape([1.0], ["high"])


@pytest.mark.parametrize(
    ("season", "error", "expected"),
    [
        (0, DataError, "The 'season' parameter of mase must be an int in the range [1, inf). Got 0 instead."),
        (1.5, DataTypeError, "The 'season' parameter of mase must be an int in the range [1, inf). Got 1.5 instead."),
        (None, DataTypeError, "The 'season' parameter of mase must be an int in the range [1, inf). Got None instead."),
    ],
)
def test_mase_refuses_bad_season(season: Any, error: type[Exception], expected: str) -> None:
    with pytest.raises(error, match=re.escape(expected)):
        mase([1.0], [1.0], y_train=[1.0, 2.0], season=season)
