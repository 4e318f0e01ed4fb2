"""Tests of models.baselines, .statistical and .arima: closed-form baselines, statsmodels wrappers, registry."""

from __future__ import annotations

import contextlib
import logging
import re
import subprocess
import sys
import warnings
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

import tsforecast as tsf
from tsforecast.errors import DataError, DataTypeError
from tsforecast.models import LocalForecaster, arima, smoothing
from tsforecast.models.baselines import (
    ARIMA,
    BASELINES,
    ETS,
    Drift,
    Mean,
    Naive,
    SeasonalNaive,
    Theta,
    make_baseline,
)
from tsforecast.models.smoothing import Smoothing, Spec, smoothing_states

STATS_MODELS = [ETS, ARIMA, Theta]
ALL_MODELS = [Naive, SeasonalNaive, Mean, Drift, ETS, ARIMA, Theta]
LOGGER = "tsforecast.models.baselines"


def _make(cls: type[LocalForecaster], horizon: int, season: int) -> Any:
    return cls(horizon=horizon, season=season) if "season" in cls._get_param_names() else cls(horizon=horizon)


@pytest.fixture(scope="module")
def air() -> np.ndarray:
    return tsf.load_dataset("air_passengers")["y"].to_numpy(dtype="float64")


@contextlib.contextmanager
def _statsmodels_may_warn() -> Iterator[None]:
    """Silence warnings of the direct reference calls to statsmodels (they are not ours)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _held(model: ETS) -> Smoothing:
    """The parameters an ETS fitted on one series holds."""
    ((_, params),) = model.params_.values()
    return params


def _mae(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(np.abs(np.asarray(a) - np.asarray(b))))


# --------------------------------------------------------------------------------------------- #
# closed-form baselines, hand-computed                                                           #
# --------------------------------------------------------------------------------------------- #

Y = np.array([3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0])


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        (Naive(horizon=3), [2.0, 2.0, 2.0]),
        (SeasonalNaive(horizon=5, season=3), [5.0, 9.0, 2.0, 5.0, 9.0]),
        (SeasonalNaive(horizon=2, season=1), [2.0, 2.0]),
        (SeasonalNaive(horizon=3, season=7), [3.0, 1.0, 4.0]),
        (Mean(horizon=2), [25.0 / 7, 25.0 / 7]),
        # slope (2 - 3) / 6
        (Drift(horizon=3), [2.0 - 1 / 6, 2.0 - 2 / 6, 2.0 - 3 / 6]),
    ],
)
def test_closed_form_forecasts_match_hand_computation(model: Any, expected: list[float]) -> None:
    forecast = model.fit(Y).predict()
    assert isinstance(forecast, np.ndarray)
    assert forecast.dtype == np.float64
    np.testing.assert_allclose(forecast, expected, rtol=0, atol=1e-12)


def test_seasonal_naive_docstring_example() -> None:
    forecast = SeasonalNaive(horizon=3, season=2).fit(np.array([1.0, 2.0, 3.0, 4.0])).predict()
    np.testing.assert_array_equal(forecast, [3.0, 4.0, 3.0])


def test_series_input_gives_frame_with_future_monthly_timestamps() -> None:
    index = pd.date_range("2020-01-01", periods=6, freq="MS")
    series = pd.Series([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], index=index, name="sales")
    out = SeasonalNaive(horizon=4, season=3).fit(series).predict()
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == ["unique_id", "ds", "y_hat"]
    assert list(out["unique_id"]) == ["sales"] * 4
    assert list(out["ds"]) == list(pd.date_range("2020-07-01", periods=4, freq="MS"))
    np.testing.assert_array_equal(out["y_hat"], [4.0, 5.0, 6.0, 4.0])


def test_panel_frame_is_forecast_series_by_series() -> None:
    frame = pd.DataFrame(
        {
            "unique_id": ["b"] * 4 + ["a"] * 5,
            "ds": list(pd.date_range("2021-01-01", periods=4, freq="MS"))
            + list(pd.date_range("2020-10-01", periods=5, freq="MS")),
            "y": [10.0, 20.0, 30.0, 40.0, 1.0, 2.0, 4.0, 8.0, 16.0],
        }
    )
    out = Drift(horizon=2).fit(frame).predict()
    assert list(out["unique_id"]) == ["a", "a", "b", "b"]
    assert list(out["ds"]) == [
        pd.Timestamp("2021-03-01"),
        pd.Timestamp("2021-04-01"),
        pd.Timestamp("2021-05-01"),
        pd.Timestamp("2021-06-01"),
    ]
    # a: 16 + h * 15 / 4; b: 40 + h * 10
    np.testing.assert_allclose(out["y_hat"], [19.75, 23.5, 50.0, 60.0])
    naive = Naive(horizon=1).fit(frame).predict()
    np.testing.assert_array_equal(naive["y_hat"], [16.0, 40.0])


def test_predict_on_new_history_reestimates_each_series() -> None:
    model = Mean(horizon=2).fit(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(model.predict(np.array([10.0, 20.0, 30.0, 40.0])), [25.0, 25.0])
    np.testing.assert_array_equal(model.predict(), [2.0, 2.0])


@given(
    values=st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=3, max_size=40),
    horizon=st.integers(1, 30),
    season=st.integers(1, 12),
)
@settings(max_examples=60, deadline=None)
def test_seasonal_naive_repeats_the_last_season(values: list[float], horizon: int, season: int) -> None:
    y = np.array(values)
    if season > len(y):
        season = len(y)
    forecast = SeasonalNaive(horizon=horizon, season=season).fit(y).predict()
    last_season = y[-season:]
    np.testing.assert_array_equal(forecast, [last_season[h % season] for h in range(horizon)])


# --------------------------------------------------------------------------------------------- #
# statsmodels wrappers on a real seasonal series                                                 #
# --------------------------------------------------------------------------------------------- #


@pytest.mark.parametrize("cls", STATS_MODELS)
def test_statsmodels_baselines_beat_seasonal_naive_on_air_passengers(
    cls: type, air: np.ndarray, caplog: pytest.LogCaptureFixture
) -> None:
    train, test = air[:-12], air[-12:]
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        forecast = cls(horizon=12, season=12).fit(train).predict()
    assert forecast.shape == (12,)
    assert np.isfinite(forecast).all()
    snaive = SeasonalNaive(horizon=12, season=12).fit(train).predict()
    assert _mae(forecast, test) < _mae(np.asarray(snaive), test)
    # the primary specification was used, not a fallback
    primary = {
        ETS: "ETS(damped additive trend, multiplicative season)",
        ARIMA: "ARIMA(",
        Theta: "Theta(seasonally adjusted)",
    }[cls]
    assert any(primary in message for message in caplog.messages)
    assert not any("failed" in message for message in caplog.messages)


@pytest.mark.parametrize("cls", [ETS, Theta])
def test_panel_series_are_forecast_independently(cls: type) -> None:
    panel = tsf.load_dataset("uk_lung_deaths")
    out = cls(horizon=12, season=12).fit(panel).predict()
    assert isinstance(out, pd.DataFrame)
    assert out.shape == (24, 3)
    for uid, part in panel.groupby("unique_id"):
        alone = cls(horizon=12, season=12).fit(part["y"].to_numpy()).predict()
        mine = out[out["unique_id"] == uid]
        assert mine["y_hat"].to_numpy().tobytes() == alone.tobytes()
        assert list(mine["ds"]) == list(pd.date_range("1980-01-01", periods=12, freq="MS"))


def test_ets_fits_air_passengers_as_well_as_statsmodels(air: np.ndarray) -> None:
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    train = air[:-12]
    with _statsmodels_may_warn():
        direct = ExponentialSmoothing(train, trend="add", damped_trend=True, seasonal="mul", seasonal_periods=12).fit()
    model = ETS(horizon=12, season=12).fit(train)
    params = _held(model)
    assert params.spec == "damped additive trend, multiplicative season"
    states = smoothing_states([train], [params], 12)
    assert float(np.sum(states.errors**2)) <= direct.sse * (1 + 1e-4)  # least squares, as statsmodels
    np.testing.assert_array_equal(model.predict(), states.forecasts(np.array([len(train) - 1]))[0])
    # statsmodels reads the seasonal index of step 12 one cycle early: steps 1-11 compare
    np.testing.assert_allclose(model.predict()[:11], direct.forecast(12)[:11], rtol=0.01)


def test_theta_equals_the_direct_statsmodels_fit(air: np.ndarray) -> None:
    from statsmodels.tsa.forecasting.theta import ThetaModel

    train = air[:-12]
    with _statsmodels_may_warn():
        direct = np.asarray(ThetaModel(train, period=12).fit().forecast(12, theta=2.0))
    np.testing.assert_array_equal(Theta(horizon=12, season=12).fit(train).predict(), direct)


def test_ets_uses_an_additive_season_when_the_series_is_not_positive(caplog: pytest.LogCaptureFixture) -> None:
    rng = np.random.default_rng(1)
    y = np.tile([-2.0, 0.0, 1.0, 3.0], 10) + 0.05 * np.arange(40) + 0.3 * rng.standard_normal(40)
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        forecast = ETS(horizon=8, season=4).fit(y).predict()
    assert forecast.shape == (8,)
    assert any("additive season" in m and "multiplicative" not in m for m in caplog.messages)


def test_ets_without_damping_uses_a_linear_trend(caplog: pytest.LogCaptureFixture) -> None:
    y = 5.0 + 0.5 * np.arange(30) + np.sin(np.arange(30))
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        ETS(horizon=3, damped=False).fit(y).predict()
    assert any("ETS(additive trend, no season)" in m for m in caplog.messages)


def test_statsmodels_baselines_do_not_leak_warnings(air: np.ndarray, recwarn: pytest.WarningsRecorder) -> None:
    for cls in STATS_MODELS:
        cls(horizon=6, season=12).fit(air[:40]).predict()
        cls(horizon=6, season=12).fit(np.array([1.0, 1.0, 1.0, 2.0, 1.0])).predict()
    assert len(recwarn) == 0


def test_first_fit_in_a_fresh_process_is_silent() -> None:
    # statsmodels installs its warning filters on first import; they must not defeat the local silence
    code = (
        "import numpy as np\n"
        "from tsforecast.models.baselines import ARIMA, ETS, Theta\n"
        "y = np.abs(np.random.default_rng(0).standard_normal(60)).cumsum() + np.tile(np.arange(12.0), 5)\n"
        "for cls in (ARIMA, ETS, Theta):\n"
        "    cls(horizon=12, season=12).fit(y).predict()\n"
    )
    done = subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""


def test_arima_search_is_fast_enough(air: np.ndarray) -> None:
    import time

    start = time.perf_counter()
    ARIMA(horizon=12, season=12).fit(air).predict()
    # about 0.3 s of CPU; the loose bound only catches a search that grew by an order of magnitude
    assert time.perf_counter() - start < 10


def test_arima_extrapolates_an_exact_pattern_exactly() -> None:
    y = 10.0 + np.tile([1.0, 3.0, 2.0, 5.0], 6) + 0.5 * np.arange(24)
    forecast = ARIMA(horizon=6, season=4).fit(y).predict()
    expected = 10.0 + np.tile([1.0, 3.0, 2.0, 5.0], 2)[:6] + 0.5 * np.arange(24, 30)
    np.testing.assert_allclose(forecast, expected, rtol=1e-12)


@pytest.mark.parametrize(("d", "seasonal_d"), [(0, 0), (1, 0), (2, 0), (0, 1), (1, 1), (2, 1)])
def test_undifference_inverts_difference(d: int, seasonal_d: int) -> None:
    rng = np.random.default_rng(d + 10 * seasonal_d)
    y = np.cumsum(rng.standard_normal(40)) + 3.0 * np.tile([0.0, 1.0, -1.0, 2.0], 10)
    history, future = y[:32], y[32:]
    w_future = arima._difference(y, d, seasonal_d, 4)[-8:]
    np.testing.assert_allclose(arima._undifference(history, w_future, d, seasonal_d, 4), future, atol=1e-9)


def test_arima_with_fixed_differences(air: np.ndarray, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        forecast = ARIMA(horizon=12, season=12, max_p=1, max_q=1, d=1, seasonal_d=1).fit(air[:-12]).predict()
    assert np.isfinite(forecast).all()
    pattern = re.compile(r"ARIMA on 132 points: ARIMA\([01],1,[01]\)\([01],1,[01]\)\[12\]")
    assert any(pattern.match(m) for m in caplog.messages)


# --------------------------------------------------------------------------------------------- #
# determinism, leakage invariant                                                                 #
# --------------------------------------------------------------------------------------------- #


@pytest.mark.parametrize("cls", ALL_MODELS)
def test_two_fits_give_bit_identical_forecasts(cls: type, air: np.ndarray) -> None:
    first = _make(cls, 12, 12).fit(air).predict()
    second = _make(cls, 12, 12).fit(air.copy()).predict()
    assert first.tobytes() == second.tobytes()


@pytest.mark.parametrize("cls", ALL_MODELS)
def test_values_after_the_history_cannot_change_the_forecast(cls: type, air: np.ndarray) -> None:
    cutoff = 100
    other = air.copy()
    other[cutoff:] = other[cutoff:] * -3.0 + 1e6
    model = _make(cls, 12, 12)
    first = model.fit(air[:cutoff]).predict()
    second = clone(model).fit(other[:cutoff]).predict()
    assert first.tobytes() == second.tobytes()


# --------------------------------------------------------------------------------------------- #
# fallbacks                                                                                      #
# --------------------------------------------------------------------------------------------- #


@pytest.mark.parametrize("cls", STATS_MODELS)
@pytest.mark.parametrize("y", [[5.0, 5.0, 5.0], [5.0] * 40, [0.0] * 30])
def test_constant_history_is_forecast_as_that_constant(cls: type, y: list[float]) -> None:
    forecast = cls(horizon=4, season=12).fit(np.array(y)).predict()
    np.testing.assert_array_equal(forecast, [y[0]] * 4)


@pytest.mark.parametrize("cls", STATS_MODELS)
@pytest.mark.parametrize("n", [3, 4, 6, 9, 13])
def test_short_series_get_finite_forecasts(cls: type, n: int) -> None:
    y = np.array([3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0, 5.0, 3.0, 5.0, 8.0, 9.0])[:n]
    forecast = cls(horizon=5, season=12).fit(y).predict()
    assert forecast.shape == (5,)
    assert np.isfinite(forecast).all()


def test_ets_too_short_for_smoothing_is_naive() -> None:
    # 6 points: simple exponential smoothing needs T > 2 + 4
    y = np.array([3.0, 1.0, 4.0, 1.0, 5.0, 9.0])
    np.testing.assert_array_equal(ETS(horizon=3, season=12).fit(y).predict(), [9.0, 9.0, 9.0])


def _boom(*args: object, **kwargs: object) -> None:
    raise np.linalg.LinAlgError("simulated failure")


@pytest.mark.parametrize(
    ("cls", "target"),
    [
        (ARIMA, "statsmodels.tsa.statespace.sarimax.SARIMAX.fit"),
        (Theta, "statsmodels.tsa.forecasting.theta.ThetaModel.fit"),
    ],
)
def test_failing_fits_fall_back_to_seasonal_naive(
    cls: type, target: str, air: np.ndarray, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(target, _boom)
    train = air[:-12]
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        forecast = cls(horizon=12, season=12).fit(train).predict()
    np.testing.assert_array_equal(forecast, SeasonalNaive(horizon=12, season=12).fit(train).predict())
    assert any("simulated failure" in m for m in caplog.messages)
    assert any("seasonal naive / naive used" in m for m in caplog.messages)
    # without a whole season the last resort is the naive forecast
    short = train[:10]
    np.testing.assert_array_equal(cls(horizon=3, season=12).fit(short).predict(), [short[-1]] * 3)


def _estimates_failing(when: Any) -> Any:
    """A stand-in for ``estimate_smoothing`` whose estimates of the specifications ``when`` picks are not finite."""
    real = smoothing.estimate_smoothing

    def estimate(histories: list[np.ndarray], spec: Spec, season: int) -> list[Smoothing | None]:
        return [None] * len(histories) if when(spec) else real(histories, spec, season)

    return estimate


def test_ets_falls_back_to_seasonal_naive_when_no_estimate_is_finite(
    air: np.ndarray, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(smoothing, "estimate_smoothing", _estimates_failing(lambda spec: True))
    train = air[:-12]
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        model = ETS(horizon=12, season=12).fit(train)
    np.testing.assert_array_equal(model.predict(), SeasonalNaive(horizon=12, season=12).fit(train).predict())
    assert _held(model).spec == "seasonal naive"
    assert "ETS on 132 points: ETS(damped additive trend, multiplicative season) is not finite" in caplog.messages
    assert any("seasonal naive / naive used" in m for m in caplog.messages)
    short = train[:10]  # without a whole season the last resort is the naive forecast
    np.testing.assert_array_equal(ETS(horizon=3, season=12).fit(short).predict(), [short[-1]] * 3)


def test_ets_chain_steps_down_to_the_next_specification(
    air: np.ndarray, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(smoothing, "estimate_smoothing", _estimates_failing(lambda spec: spec.seasonal))
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        forecast = ETS(horizon=12, season=12).fit(air).predict()
    assert np.isfinite(forecast).all()
    assert [m for m in caplog.messages if m.startswith("ETS on")] == [
        "ETS on 144 points: ETS(damped additive trend, multiplicative season) is not finite",
        "ETS on 144 points: ETS(no trend, multiplicative season) is not finite",
        "ETS on 144 points: ETS(damped additive trend, no season) used",
    ]


def test_ets_steps_down_past_an_implausible_forecast(
    air: np.ndarray, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    real = smoothing.estimate_smoothing

    def broken(histories: list[np.ndarray], spec: Spec, season: int) -> list[Smoothing | None]:
        fitted = real(histories, spec, season)  # with a trend: a NaN level, so a forecast that is not finite
        return [replace(p, level=np.nan) if p is not None and spec.trend else p for p in fitted]

    monkeypatch.setattr(smoothing, "estimate_smoothing", broken)
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        model = ETS(horizon=12, season=12).fit(air)
    assert _held(model).spec == "no trend, multiplicative season"
    assert "ETS on 144 points: ETS(damped additive trend, multiplicative season) gave an implausible forecast" in (
        caplog.messages
    )


@pytest.mark.parametrize("bad", [np.nan, 1e12])
def test_implausible_forecasts_trigger_the_fallback(
    bad: float, air: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    from statsmodels.tsa.forecasting.theta import ThetaModelResults

    monkeypatch.setattr(ThetaModelResults, "forecast", lambda self, steps, theta=2.0: np.full(steps, bad))
    forecast = Theta(horizon=12, season=12).fit(air).predict()
    np.testing.assert_array_equal(forecast, air[-12:])


# --------------------------------------------------------------------------------------------- #
# parameters, estimator conventions                                                              #
# --------------------------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    ("model", "error", "match"),
    [
        (
            SeasonalNaive(season=0),
            DataError,
            r"The 'season' parameter of SeasonalNaive must be an int in the range \[1, inf\) or None\. Got 0 instead\.",
        ),
        (Naive(horizon=0), DataError, r"The 'horizon' parameter of Naive must be an int in the range \[1, inf\)"),
        (ETS(horizon="3"), DataTypeError, r"The 'horizon' parameter of ETS must be .* Got '3' instead\."),  # type: ignore[arg-type]
        (Drift(horizon=2.0), DataTypeError, r"'horizon' parameter of Drift must be an int .* Got 2\.0 instead"),  # type: ignore[arg-type]
        (ETS(damped="yes"), DataTypeError, r"'damped' parameter of ETS must be one of \{True, False\}"),  # type: ignore[arg-type]
        (ARIMA(max_p=-1), DataError, r"'max_p' parameter of ARIMA must be an int in the range \[0, inf\)"),
        (ARIMA(d=3), DataError, r"'d' parameter of ARIMA must be an int in the range \[0, 2\] or None\. Got 3"),
        (Theta(season=0), DataError, r"'season' parameter of Theta must be an int in the range \[1, inf\)"),
        (
            ARIMA(seasonal_d=1),
            DataError,
            r"ARIMA got seasonal_d=1 with season=1: a seasonal difference needs a season\.",
        ),
    ],
)
def test_invalid_parameters_are_refused_at_fit(model: Any, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        model.fit(Y)


@pytest.mark.parametrize(
    ("model", "n", "needs"),
    [(SeasonalNaive(season=12), 11, 12), (Drift(), 1, 2), (ETS(season=12), 2, 3)],
)
def test_too_short_series_are_refused(model: Any, n: int, needs: int) -> None:
    frame = pd.DataFrame(
        {
            "unique_id": ["long"] * 20 + ["short"] * n,
            "ds": list(range(20)) + list(range(n)),
            "y": np.arange(20 + n, dtype="float64"),
        }
    )
    with pytest.raises(DataError, match=rf"Series 'short' has {n} observations; .* needs at least {needs}\."):
        model.fit(frame)


@pytest.mark.parametrize("cls", ALL_MODELS)
def test_predict_before_fit_raises_not_fitted(cls: type) -> None:
    with pytest.raises(NotFittedError):
        cls().predict()


@pytest.mark.parametrize(
    "model",
    [
        Naive(horizon=4),
        SeasonalNaive(horizon=4, season=7),
        Mean(horizon=2),
        Drift(horizon=5),
        ETS(horizon=6, season=4, damped=False),
        ARIMA(horizon=3, season=4, max_p=1, max_q=3, d=1, seasonal_d=0),
        Theta(horizon=2, season=12),
    ],
)
def test_clone_and_get_params_round_trip(model: Any) -> None:
    params = model.get_params()
    copy = clone(model)
    assert copy is not model
    assert copy.get_params() == params
    assert type(model)(**params).get_params() == params
    assert clone(model.set_params(horizon=9)).horizon == 9


def test_repr_shows_non_default_parameters_only() -> None:
    assert repr(ETS(horizon=12, season=12)) == "ETS(horizon=12, season=12)"
    assert repr(ARIMA(d=1)) == "ARIMA(d=1)"


def test_fit_returns_self_and_records_provenance() -> None:
    model = Naive()
    assert model.fit(Y) is model
    assert model.last_seen_ == len(Y) - 1


# --------------------------------------------------------------------------------------------- #
# registry                                                                                       #
# --------------------------------------------------------------------------------------------- #


def test_registry_lists_every_baseline() -> None:
    assert {
        "naive": Naive,
        "seasonal_naive": SeasonalNaive,
        "mean": Mean,
        "drift": Drift,
        "ets": ETS,
        "arima": ARIMA,
        "theta": Theta,
    } == BASELINES


@pytest.mark.parametrize("name", list(BASELINES))
def test_make_baseline_passes_season_only_where_it_is_taken(name: str) -> None:
    model = make_baseline(name, horizon=6, season=4)
    assert type(model) is BASELINES[name]
    assert model.horizon == 6
    params = model.get_params()
    assert params.get("season", 4) == 4
    assert ("season" in params) == (name in {"seasonal_naive", "ets", "arima", "theta"})


def test_make_baseline_suggests_the_closest_name() -> None:
    with pytest.raises(DataError, match=r"Unknown baseline 'seasonal_naiv'\. Did you mean 'seasonal_naive'\?"):
        make_baseline("seasonal_naiv", horizon=12, season=12)


def test_make_baseline_lists_the_names_when_nothing_is_close() -> None:
    with pytest.raises(
        DataError,
        match=r"Unknown baseline 'prophet'\. Available: naive, seasonal_naive, mean, drift, ets, arima, theta\.$",
    ):
        make_baseline("prophet", horizon=12, season=12)


def test_make_baseline_refuses_a_non_string_name() -> None:
    with pytest.raises(DataTypeError, match=r"A baseline name must be a string, got int 3\."):
        make_baseline(3, horizon=12)  # type: ignore[arg-type]


class _LastTwoMean(LocalForecaster):
    """A baseline without a vectorised hook: it forecasts through the per-series ``_forecast``."""

    def __init__(self, horizon: int = 1) -> None:
        self.horizon = horizon

    def _forecast(self, y: np.ndarray) -> np.ndarray:
        return np.full(self.horizon, y[-2:].mean())


@pytest.mark.parametrize(
    "model",
    [Naive(horizon=5), SeasonalNaive(horizon=30, season=12), Mean(horizon=3), Drift(horizon=7), _LastTwoMean(4)],
)
def test_panel_forecast_equals_the_per_series_forecast_bit_for_bit(
    model: LocalForecaster, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(5)
    values = rng.standard_normal(4000) * 10.0 ** rng.integers(-3, 6, 4000)
    lengths = rng.integers(12, 90, 300)
    starts = rng.integers(0, len(values) - 90, 300)
    monkeypatch.setattr("tsforecast.models.baselines._GATHERED", 200)  # Mean: several chunks per length
    expected = np.stack([model._forecast(values[s : s + n].copy()) for s, n in zip(starts, lengths, strict=True)])
    got = model._forecast_panel(values, starts, lengths)
    assert got.shape == (300, model.horizon)
    np.testing.assert_array_equal(got, expected)


def test_predict_on_an_unsorted_panel_forecasts_each_series_from_its_own_history() -> None:
    frame = pd.DataFrame(
        {"unique_id": ["b", "a", "b", "a", "b", "a"], "ds": [0, 0, 1, 1, 2, 2], "y": [1.0, 5, 2, 6, 4, 9]}
    )
    shuffled = frame.iloc[[5, 0, 3, 2, 1, 4]]
    for model in (Drift(horizon=2), _LastTwoMean(horizon=2)):
        got = model.fit(shuffled).predict()
        assert got["unique_id"].tolist() == ["a", "a", "b", "b"]
        expected = [model._forecast(np.array(v)) for v in ([5.0, 6, 9], [1.0, 2, 4])]
        np.testing.assert_array_equal(got["y_hat"].to_numpy(), np.concatenate(expected))


# --------------------------------------------------------------------------------------------- #
# ETS: held parameters, the vectorised core, native intervals                                    #
# --------------------------------------------------------------------------------------------- #


def _monthly(y: np.ndarray, uid: str = "s", start: str = "2000-01-01") -> pd.DataFrame:
    return pd.DataFrame({"unique_id": uid, "ds": pd.date_range(start, periods=len(y), freq="MS"), "y": y})


def test_ets_predict_runs_the_held_parameters_over_a_longer_history(air: np.ndarray) -> None:
    model = ETS(horizon=12, season=12).fit(_monthly(air[:100]))
    held = dict(model.params_)
    longer = model.predict(_monthly(air[:130]))
    assert model.params_ == held  # predict estimates nothing for a series it holds
    states = smoothing_states([air[:130]], [held["s"][1]], 12)
    np.testing.assert_array_equal(longer["y_hat"], states.forecasts(np.array([129]))[0])
    refit = ETS(horizon=12, season=12).fit(_monthly(air[:130])).predict()
    assert not np.array_equal(longer["y_hat"], refit["y_hat"])  # a refit would estimate other parameters


def test_ets_estimates_the_series_it_does_not_hold(air: np.ndarray) -> None:
    model = ETS(horizon=12, season=12).fit(_monthly(air[:100], "a"))
    other = model.predict(_monthly(air[20:120], "b"))  # another id
    np.testing.assert_array_equal(other["y_hat"], ETS(horizon=12, season=12).fit(air[20:120]).predict())
    later = model.predict(_monthly(air[20:120], "a", start="2001-09-01"))  # the same id, another first timestamp
    np.testing.assert_array_equal(later["y_hat"], other["y_hat"])
    assert list(model.params_) == ["a"]


def test_ets_forecasts_from_every_row_are_what_predict_gives_on_that_history(air: np.ndarray) -> None:
    model = ETS(horizon=6, season=12).fit(air[:60])
    params = _held(model)
    rows = np.array([2, 10, 23, 24, 59, 90, 143])
    forecasts = model._forecast_histories([air], [params], [rows])[0]
    assert forecasts.shape == (len(rows), 6)
    for row, forecast in zip(rows, forecasts, strict=True):
        np.testing.assert_array_equal(forecast, model.predict(air[: row + 1]))
    empty = model._forecast_histories([air], [params], [np.array([], dtype=int)])[0]
    assert empty.shape == (0, 6)
    assert model._forecast_histories([], [], []) == []


def test_ets_replaces_each_implausible_or_constant_forecast(air: np.ndarray) -> None:
    model = ETS(horizon=4, season=12).fit(air[:60])
    exploding = replace(_held(model), trend=1e9)  # every forecast far outside the history's range
    y = np.concatenate([np.full(5, 7.0), air[:40]])
    rows = np.array([2, 4, 8, 30, 44])
    forecasts = model._forecast_histories([y], [exploding], [rows])[0]
    np.testing.assert_array_equal(forecasts[:2], np.full((2, 4), 7.0))  # constant up to the origin
    np.testing.assert_array_equal(forecasts[2], [y[8]] * 4)  # under a season: naive
    for row, forecast in zip(rows[3:], forecasts[3:], strict=True):
        np.testing.assert_array_equal(forecast, SeasonalNaive(horizon=4, season=12).fit(y[: row + 1]).predict())
    resort = ETS(horizon=4, season=12)._estimate([np.full(30, 2.0)])[0]
    assert resort.spec == "seasonal naive"
    np.testing.assert_array_equal(  # the last resort held: seasonal naive of whatever history follows
        model._forecast_histories([y], [resort], [np.array([44])])[0][0], forecasts[-1]
    )


@pytest.mark.parametrize(
    ("histories", "params", "ends", "match"),
    [
        ([np.ones(5)], [], [np.array([1])], r"^1 histories, 0 parameter sets and 1 row arrays: pass one of each"),
        ([np.ones(5)], ["p"], [np.array([5])], r"^History 0 has 5 rows \(0 to 4\); a forecast row 5 or 5 is outside"),
        ([np.ones(5)], ["p"], [np.array([-1, 2])], r"^History 0 has 5 rows \(0 to 4\); a forecast row -1 or 2"),
    ],
)
def test_ets_forecast_histories_refuses_rows_it_cannot_forecast_from(
    histories: list[np.ndarray], params: list[Any], ends: list[np.ndarray], match: str
) -> None:
    resort = ETS(horizon=2, season=1)._estimate([np.ones(5)])[0]
    with pytest.raises(ValueError, match=match):
        ETS(horizon=2, season=1)._forecast_histories(histories, [resort for _ in params], ends)


def test_ets_estimate_gives_every_history_its_chain_in_one_call(air: np.ndarray) -> None:
    histories = [air[:60], np.full(30, 3.0), air[:6], air[:30] - 200.0, air[:60] * 1000.0]
    fitted = ETS(horizon=12, season=12)._estimate(histories)
    assert [p.spec for p in fitted] == [
        "damped additive trend, multiplicative season",
        "seasonal naive",  # constant
        "seasonal naive",  # too short for any smoothing specification
        "damped additive trend, additive season",  # crosses zero
        "damped additive trend, multiplicative season",
    ]
    assert [ETS(horizon=12, season=12)._estimate([y])[0] for y in histories] == fitted  # alone or together
    assert ETS(horizon=12, season=1)._estimate([np.full(30, 3.0)])[0].spec == "naive"


def test_ets_forecasts_non_positive_series() -> None:
    rng = np.random.default_rng(3)
    y = np.tile([-5.0, 0.0, 2.0, 4.0], 12) + rng.standard_normal(48)
    forecast = ETS(horizon=8, season=4).fit(y).predict()
    assert np.isfinite(forecast).all()
    assert forecast.min() > y.min() - 9 * np.ptp(y)


def _bands(out: pd.DataFrame) -> np.ndarray:
    return out[["y_lo_95", "y_lo_80", "y_hat", "y_hi_80", "y_hi_95"]].to_numpy()


def test_ets_native_bands_are_nested_seeded_and_per_series(air: np.ndarray) -> None:
    panel = pd.concat([_monthly(air[:100], "a"), _monthly(air[20:140] * 2.0, "b")], ignore_index=True)
    model = ETS(horizon=12, season=12).fit(panel)
    out = model.predict(level=(80, 95), interval_method="native")
    bands = _bands(out)
    assert (np.diff(bands, axis=1) >= 0).all()  # lo_95 <= lo_80 <= y_hat <= hi_80 <= hi_95
    assert (bands[:, 4] > bands[:, 0]).all()
    assert _bands(model.predict(level=(80, 95), interval_method="native")).tobytes() == bands.tobytes()
    alone = ETS(horizon=12, season=12).fit(_monthly(air[:100], "a")).predict(level=(80, 95), interval_method="native")
    assert _bands(alone).tobytes() == bands[:12].tobytes()


def test_ets_native_bands_are_the_simulation_of_the_fitted_model(air: np.ndarray) -> None:
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    # statsmodels' simulate() moves the trend by smoothing_trend · error, where its fit moves it by smoothing_level ·
    # smoothing_trend · error; without a trend both are the same model, so compare there
    train = air[:-12]
    model = ETS(horizon=12, season=12).fit(train)
    fitted = smoothing.estimate_smoothing([train], Spec(False, False, "mul"), 12)[0]
    assert fitted is not None
    model.params_ = {"series": (0, fitted)}
    with _statsmodels_may_warn():
        reference = ExponentialSmoothing(
            train,
            seasonal="mul",
            seasonal_periods=12,
            initialization_method="known",
            initial_level=fitted.level,
            initial_seasonal=np.array(fitted.seasons),
        ).fit(smoothing_level=fitted.alpha, smoothing_seasonal=fitted.gamma, optimized=False)
        paths = reference.simulate(12, anchor="end", repetitions=1000, error="add", rng=np.random.default_rng(0))
    expected = np.quantile(np.asarray(paths), [0.1, 0.9], axis=1)
    out = model.predict(level=80, interval_method="native")
    np.testing.assert_allclose(out[["y_lo_80", "y_hi_80"]].to_numpy().T, expected, rtol=1e-9)


def test_ets_native_bands_of_held_parameters_on_a_history_shorter_than_their_count(air: np.ndarray) -> None:
    model = ETS(horizon=3, season=12).fit(air)  # 18 parameters as statsmodels counts them, held
    out = model.predict(air[:15], level=80, interval_method="native")  # same series, same start: 15 values
    assert np.isfinite(_bands_80(out)).all()
    assert (out["y_hi_80"] > out["y_lo_80"]).all()


def _bands_80(out: pd.DataFrame) -> np.ndarray:
    return out[["y_lo_80", "y_hat", "y_hi_80"]].to_numpy()


def test_ets_native_bands_of_constant_and_short_histories() -> None:
    flat = ETS(horizon=3, season=12).fit(np.full(30, 4.0)).predict(level=90, interval_method="native")
    np.testing.assert_array_equal(flat[["y_lo_90", "y_hat", "y_hi_90"]].to_numpy(), np.full((3, 3), 4.0))
    y = np.array([3.0, 1.0, 4.0, 1.0, 5.0, 9.0])
    short = ETS(horizon=3, season=12).fit(y).predict(level=90, interval_method="native")
    errors = np.diff(y)
    spread = 1.6448536269514722 * np.sqrt(np.mean(errors**2) * np.arange(1, 4))  # the naive forecast's normal band
    np.testing.assert_allclose(short["y_hi_90"] - short["y_hat"], spread)
    np.testing.assert_allclose(short["y_hat"] - short["y_lo_90"], spread)
