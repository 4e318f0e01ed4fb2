from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tsforecast.errors import DataError
from tsforecast.seasonality import infer_season, panel_season

RNG = np.random.default_rng(0)


def _seasonal(period: int, n: int, *, trend: float = 0.0, noise: float = 0.1, seed: int = 0) -> np.ndarray:
    t = np.arange(n)
    rng = np.random.default_rng(seed)
    return 10 + np.sin(2 * np.pi * t / period) + trend * t + noise * rng.normal(size=n)


@pytest.mark.parametrize(("period", "n"), [(4, 60), (7, 140), (12, 120), (24, 240)])
def test_a_noisy_sine_gets_its_period(period: int, n: int) -> None:
    assert infer_season(_seasonal(period, n, trend=0.02)) == period


def test_an_annual_peak_of_weekly_data_gives_52() -> None:
    t = np.arange(52 * 5)
    y = 100 + 0.1 * t + 20 * np.exp(-(((t % 52) - 47) ** 2) / 8) + RNG.normal(size=len(t))
    assert infer_season(y) == 52


def test_weekly_pattern_of_daily_data_gives_7() -> None:
    weekdays = np.tile([10.0, 11, 11, 12, 11, 6, 5], 30)
    y = weekdays + 0.01 * np.arange(len(weekdays)) + 0.5 * RNG.normal(size=len(weekdays))
    assert infer_season(y) == 7


def test_quarterly_pattern_with_trend_gives_4() -> None:
    y = np.tile([1.0, -0.5, 0.3, -0.8], 15) + 0.1 * np.arange(60) + 0.1 * RNG.normal(size=60)
    assert infer_season(y) == 4


@pytest.mark.parametrize("seed", range(5))
def test_white_noise_has_no_season(seed: int) -> None:
    assert infer_season(np.random.default_rng(seed).normal(size=200)) == 1


@pytest.mark.parametrize("seed", range(5))
def test_random_walk_has_no_season(seed: int) -> None:
    assert infer_season(np.cumsum(np.random.default_rng(seed).normal(size=200))) == 1


def test_a_series_too_short_for_three_cycles_gets_1() -> None:
    assert infer_season(_seasonal(12, 35)) == 1  # fewer than 3 cycles of 12, and 4 and 7 are not seasonal
    assert infer_season(np.array([1.0, 2.0])) == 1


def test_constant_series_gets_1() -> None:
    assert infer_season(np.full(100, 3.0)) == 1


def test_candidates_restrict_the_choice() -> None:
    y = _seasonal(12, 120)
    assert infer_season(y, candidates=(4, 7)) == 1
    assert infer_season(y, candidates=(12,)) == 12


def test_min_cycles_is_honoured() -> None:
    y = _seasonal(12, 50)  # 4 cycles
    assert infer_season(y) == 12
    assert infer_season(y, min_cycles=5) == 1


def test_a_multiple_of_the_period_is_not_chosen() -> None:
    y = _seasonal(12, 240, noise=0.3, seed=3)
    assert infer_season(y, candidates=(12, 24)) == 12
    assert infer_season(y, candidates=(24,)) == 24  # alone, the multiple still qualifies


@given(st.integers(0, 10_000))
def test_deterministic_and_shift_scale_invariant(seed: int) -> None:
    y = _seasonal(12, 96, noise=1.0, seed=seed)
    first = infer_season(y)
    assert first == infer_season(y.copy())
    assert first == infer_season(3.0 * y + 100.0)
    assert first in (1, 4, 7, 12, 24)


def test_a_list_is_accepted() -> None:
    assert infer_season(list(_seasonal(4, 40))) == 4


def test_two_dimensional_input_is_refused() -> None:
    with pytest.raises(DataError, match=r"1-D array; got an array of shape \(2, 50\)"):
        infer_season(np.zeros((2, 50)))


def test_non_finite_values_are_refused() -> None:
    y = _seasonal(12, 60)
    y[[3, 9]] = np.nan
    with pytest.raises(DataError, match="holds 2 NaN or infinite value"):
        infer_season(y)


def test_candidates_below_2_are_refused() -> None:
    with pytest.raises(DataError, match=r"at least 2; got \[1\]. Pass candidates= with periods >= 2"):
        infer_season(_seasonal(12, 60), candidates=(1, 12))


def _frame(*series: np.ndarray) -> pd.DataFrame:
    return pd.concat(
        [pd.DataFrame({"unique_id": f"s{i}", "ds": np.arange(len(y)), "y": y}) for i, y in enumerate(series)],
        ignore_index=True,
    )


def test_panel_season_is_the_most_common_answer_ties_to_the_smaller() -> None:
    four, twelve = _seasonal(4, 96), _seasonal(12, 96)
    assert panel_season(_frame(four, twelve, twelve), 1) == 12
    assert panel_season(_frame(four, twelve), 1) == 4
    assert panel_season(_frame(twelve), "QS-JAN") == 4  # a calendar frequency decides
    assert panel_season(_frame(twelve), "YS") == 1
    assert panel_season(_frame(twelve), 1, longest=7) == 1  # 12 is not a candidate


def test_panel_season_with_a_splitter_reads_only_the_first_training_part() -> None:
    from tsforecast.split import WalkForward

    y = np.concatenate([np.full(48, 10.0) + 0.1 * RNG.normal(size=48), _seasonal(12, 72)])
    assert panel_season(_frame(y), 1) == 12
    assert panel_season(_frame(y), 1, cv=WalkForward(n_splits=6, horizon=12)) == 1  # cutoff 47: no season yet


def test_sgd_forecaster_infers_the_season_of_an_array() -> None:
    from tsforecast.metrics import mase
    from tsforecast.models.sgd import SGDForecaster

    y = _seasonal(12, 120, trend=0.02, noise=0.2, seed=0)
    train, test = y[:108], y[108:]
    inferred = SGDForecaster(lookback=24, horizon=12, family="es", epochs=20).fit(train)
    plain = SGDForecaster(lookback=24, horizon=12, season=1, family="es", epochs=20).fit(train)
    assert inferred.season_ == 12
    assert plain.season_ == 1
    error = mase(test, inferred.predict(), y_train=train, season=12)
    assert error < mase(test, plain.predict(), y_train=train, season=12)
