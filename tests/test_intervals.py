"""Prediction intervals: nested, finite, deterministic, calibrated on the training data only."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tsforecast as tsf
from tsforecast.audit import AuditOptions
from tsforecast.errors import DataError, DataTypeError, LeakageError
from tsforecast.metrics import METRICS, coverage, interval_terms, interval_width, msis
from tsforecast.models import Forecaster, LocalForecaster
from tsforecast.models.baselines import ARIMA, ETS, Naive, SeasonalNaive, Theta
from tsforecast.models.intervals import (
    Calibration,
    band_columns,
    calibrate,
    conformal_half_widths,
    conformal_rank,
    history_scales,
)
from tsforecast.models.statistical import _last_resort_bands

BANDS = ["y_lo_95", "y_lo_80", "y_hat", "y_hi_80", "y_hi_95"]


def seasonal(n: int = 48, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 20.0 + np.tile([1.0, 3.0, 2.0, 5.0], n // 4) + 0.1 * np.arange(n) + 0.4 * rng.standard_normal(n)


def _calibration(
    residuals: np.ndarray, names: pd.Index, scales: pd.Series, last: Any, forecasts: np.ndarray | None = None
) -> Calibration:
    """A calibration of the given residuals (origins numbered), for the quantile tests."""
    origins = pd.RangeIndex(residuals.shape[1])
    return Calibration(residuals, names, scales.reindex(names).to_numpy(), 12, origins, last, forecasts)


def _half_widths(
    calibration: Calibration, levels: Any, wanted: pd.Index, scales: pd.Series, forecasts: np.ndarray
) -> np.ndarray:
    """:func:`conformal_half_widths` of the series named ``wanted``, with their history scales ``scales``."""
    position = calibration.series.get_indexer(wanted)
    return conformal_half_widths(calibration, levels, position, scales.reindex(wanted).to_numpy(), forecasts)


def frame(y: np.ndarray, uid: str = "s") -> pd.DataFrame:
    return pd.DataFrame({"unique_id": uid, "ds": pd.date_range("2000-01-01", periods=len(y), freq="MS"), "y": y})


def assert_nested_and_finite(out: pd.DataFrame) -> None:
    values = out[BANDS].to_numpy()
    assert np.isfinite(values).all()
    assert (np.diff(values, axis=1) >= 0).all()


class GlobalMean(Forecaster):
    """A user's model written against the two hooks only: the mean of the last 4 values of each series."""

    def __init__(self, horizon: int = 1) -> None:
        self.horizon = horizon

    def _fit(self, frame: pd.DataFrame) -> None:
        self.n_series_ = frame["unique_id"].nunique()

    def _predict(self, frame: pd.DataFrame) -> np.ndarray:
        last = frame.groupby("unique_id", sort=True)["y"].apply(lambda s: s.to_numpy()[-4:].mean())
        return np.repeat(last.to_numpy()[:, None], self.horizon, axis=1)


class WidthPeeker(LocalForecaster):
    """Honest point forecast, leaky native band: its width is the spread of the values after the history."""

    def __init__(self, horizon: int = 1, data: pd.DataFrame | None = None) -> None:
        self.horizon = horizon
        self.data = data

    def _forecast(self, y: np.ndarray) -> np.ndarray:
        return np.repeat(y[-1], self.horizon)

    def _forecast_interval(self, y: np.ndarray, levels: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
        assert self.data is not None
        ahead = self.data["y"].to_numpy()[len(y) : len(y) + self.horizon]
        width = np.abs(ahead - y[-1])[None, :] * np.asarray(levels)[:, None] / 100
        return y[-1] - width, y[-1] + width


class LateRecorder(Naive):
    """Records a last_seen_ after the rows it was given, as a model that read the full data would."""

    def _fit(self, frame: pd.DataFrame) -> None:
        self.last_seen_ = pd.Timestamp("2100-01-01")


@pytest.mark.parametrize(
    ("model", "method"),
    [
        (SeasonalNaive(horizon=4, season=4), "conformal"),
        (ETS(horizon=4, season=4), "conformal"),
        (ETS(horizon=4, season=4), "native"),
        (ARIMA(horizon=4, season=4, max_p=1, max_q=0), "native"),
        (Theta(horizon=4, season=4), "native"),
        (GlobalMean(horizon=4), "conformal"),
    ],
)
def test_bands_are_nested_around_the_forecast_and_finite(model: Forecaster, method: str) -> None:
    out = model.fit(frame(seasonal())).predict(level=(95, 80), interval_method=method)
    assert list(out.columns) == ["unique_id", "ds", "y_hat", *band_columns((80, 95))]
    assert_nested_and_finite(out)
    assert (out["y_hi_95"] > out["y_lo_95"]).all()


def test_a_user_forecaster_gets_conformal_bands_without_extra_code() -> None:
    y = seasonal(60)
    model = GlobalMean(horizon=4).fit(frame(y))
    out = model.predict(level=80)
    assert model.conformal_.residuals.shape == (1, 40, 4)  # 10 windows of 4 origins, 4 steps
    assert out["y_hat"].tolist() == [y[-4:].mean()] * 4


def test_array_input_with_level_gives_a_frame() -> None:
    out = Naive(horizon=3).fit(seasonal(40)).predict(level=(80, 95))
    assert isinstance(out, pd.DataFrame)
    assert out["ds"].tolist() == [40, 41, 42]


def test_a_series_with_enough_residuals_gets_its_own_quantile_and_a_short_one_the_pooled_scaled_one() -> None:
    residuals = np.full((2, 19, 1), np.nan)
    residuals[0, :, 0] = np.arange(1.0, 20.0)  # series a: 19 residuals, scale 1
    residuals[1, :2, 0] = [2.0, 4.0]  # series b: 2 residuals, scale 2
    scales = pd.Series([1.0, 2.0], index=["a", "b"])
    calibration = _calibration(residuals, pd.Index(["a", "b"]), scales, 30)
    q = _half_widths(
        calibration,
        (80.0, 95.0),
        pd.Index(["a", "b", "new"]),
        scales.reindex(["a", "b", "new"]).fillna(3.0),
        np.ones((3, 1)),
    )
    # a: ranks ceil(20 * 0.8) = 16 and ceil(20 * 0.95) = 19 of 1..19
    assert q[:, 0, 0].tolist() == [16.0, 19.0]
    # pooled scaled residuals 1, 1, 2, 2, 3, ..., 19 (21 values): ranks ceil(22 * 0.8) = 18 -> 16 and 21 -> 19
    assert q[:, 1, 0].tolist() == [2 * 16.0, 2 * 19.0]
    assert q[:, 2, 0].tolist() == [3 * 16.0, 3 * 19.0]  # a series unseen at fit: pooled times its own scale


def test_every_step_s_sample_joins_its_neighbouring_steps() -> None:
    residuals = (np.arange(1.0, 13.0)[:, None] * np.array([1.0, 2.0, 3.0]))[None]  # 1 series, 12 origins, 3 steps
    calibration = _calibration(residuals, pd.Index(["a"]), pd.Series([1.0], index=["a"]), 20)
    q = _half_widths(calibration, (80.0, 95.0), pd.Index(["a"]), pd.Series([1.0], index=["a"]), np.ones((1, 3)))
    # at every level, step j ranks the residuals of steps j-1, j and j+1 (24 or 36 values: enough at 95% too)
    for step, sample in enumerate([residuals[0, :, :2], residuals[0], residuals[0, :, 1:]]):
        values = np.sort(sample.ravel())
        for k, level in enumerate((80.0, 95.0)):
            assert q[k, 0, step] == values[conformal_rank(values.size, level) - 1]
    assert (q[0] <= q[1]).all()


def test_a_level_s_band_does_not_depend_on_higher_levels_asked_for() -> None:
    residuals = (np.arange(1.0, 13.0)[:, None] * np.array([1.0, 2.0, 3.0]))[None]  # 12 per step: 95% needs more
    calibration = _calibration(residuals, pd.Index(["a"]), pd.Series([1.0], index=["a"]), 20)
    args = (pd.Index(["a"]), pd.Series([1.0], index=["a"]), np.ones((1, 3)))
    alone = _half_widths(calibration, (80.0,), *args)[0]
    np.testing.assert_array_equal(_half_widths(calibration, (80.0, 95.0), *args)[0], alone)
    np.testing.assert_array_equal(_half_widths(calibration, (95.0, 80.0), *args)[1], alone)


def test_a_higher_level_whose_larger_sample_gives_a_narrower_band_is_widened_to_nest() -> None:
    residuals = np.ones((3, 20, 1))
    residuals[0, :, 0] = np.arange(10.0, 201.0, 10.0)  # series a: 20 residuals of its own, 10 .. 200
    scales = pd.Series([1.0, 1.0, 1.0], index=["a", "b", "c"])
    calibration = _calibration(residuals, pd.Index(["a", "b", "c"]), scales, 30)
    args = (pd.Index(["a"]), pd.Series([1.0], index=["a"]), np.ones((1, 1)))
    # 95% (19 needed): a's own 20th smallest, 200; 96% (24 needed): the 59th of the 60 pooled over a, b, c, 190
    assert _half_widths(calibration, (95.0,), *args)[0, 0, 0] == 200.0
    assert _half_widths(calibration, (96.0,), *args)[0, 0, 0] == 190.0
    assert _half_widths(calibration, (95.0, 96.0), *args)[:, 0, 0].tolist() == [200.0, 200.0]


@given(
    n_series=st.integers(1, 3),
    n_origins=st.integers(1, 30),
    horizon=st.integers(1, 5),
    levels=st.lists(st.sampled_from([10.0, 50.0, 80.0, 90.0, 95.0, 97.5]), min_size=1, max_size=4, unique=True),
    relative=st.booleans(),
    positive=st.booleans(),
    new_series=st.booleans(),
    seed=st.integers(0, 2**16),
)
@settings(max_examples=60, deadline=None)
def test_half_widths_nest_across_levels_for_any_mix_of_samples(
    n_series: int,
    n_origins: int,
    horizon: int,
    levels: list[float],
    relative: bool,
    positive: bool,
    new_series: bool,
    seed: int,
) -> None:
    # Ragged residuals (own, pooled and neighbouring-step samples all in play), any order of levels.
    rng = np.random.default_rng(seed)
    residuals = rng.exponential(size=(n_series, n_origins, horizon)) * rng.uniform(0.1, 10.0, size=(n_series, 1, 1))
    residuals[rng.random(residuals.shape) < 0.3] = np.nan
    names = pd.Index([f"s{i}" for i in range(n_series)])
    scales = pd.Series(rng.uniform(0.5, 2.0, n_series), index=names)
    cal_forecasts = rng.uniform(1.0, 50.0, residuals.shape) if relative else None
    calibration = _calibration(residuals, names, scales, n_origins, cal_forecasts)
    wanted = names.append(pd.Index(["new"])) if new_series else names
    forecasts = rng.uniform(1.0 if positive else -5.0, 20.0, (len(wanted), horizon))
    try:
        q = _half_widths(calibration, levels, wanted, scales.reindex(wanted).fillna(1.0), forecasts)
    except DataError:  # too few residuals for some level even pooled: refused (the message is tested above)
        return
    assert np.isfinite(q).all()
    assert (q >= 0).all()
    ordered = q[np.argsort(levels)]
    assert (np.diff(ordered, axis=0) >= 0).all()


def test_a_short_backtest_gets_95_percent_bands_from_neighbouring_steps() -> None:
    data = frame(seasonal(64))  # the first fold trains on 40 months: one calibration block, 12 residuals per step
    model = SeasonalNaive(horizon=12, season=12)
    result = tsf.backtest(model, data, tsf.WalkForward(2, 12), baselines=(), level=(80, 95))
    assert_nested_and_finite(result.forecasts)
    model.fit(data.iloc[:40])
    assert_nested_and_finite(model.predict(level=(80, 95)))
    assert model.conformal_.residuals.shape[1] == 12  # 12 per step, 24-36 with its neighbours: 19 needed at 95%


def test_too_few_residuals_even_pooled_are_refused() -> None:
    residuals = np.arange(1.0, 6.0).reshape(1, 5, 1)
    calibration = _calibration(residuals, pd.Index(["a"]), pd.Series([1.0], index=["a"]), 9)
    with pytest.raises(
        DataError, match=r"Too few calibration residuals for level=95: 5 per horizon step, .*; 19 needed"
    ):
        _half_widths(calibration, (95.0,), pd.Index(["a"]), pd.Series([1.0], index=["a"]), np.ones((1, 1)))


def test_data_too_short_to_calibrate_is_refused() -> None:
    with pytest.raises(DataError, match="cannot calibrate prediction intervals: the data have 9 timestamps, and "):
        Naive(horizon=4).fit(frame(seasonal(12)[:9])).predict(level=50)
    with pytest.raises(DataError, match=r"needs at least 10 \(3 to fit it, then 4 origins whose 4-step horizons"):
        Naive(horizon=4).fit(frame(seasonal(12)[:9])).predict(level=50)
    out = Naive(horizon=4).fit(frame(seasonal(12)[:10])).predict(level=50)
    assert np.isfinite(out[["y_lo_50", "y_hi_50"]].to_numpy()).all()


def test_calibration_stays_inside_the_fitted_data_and_is_cached() -> None:
    model = SeasonalNaive(horizon=4, season=4).fit(frame(seasonal(40)))
    model.predict(level=80)
    calibration = model.conformal_
    assert calibration.last_target == model.last_seen_
    assert calibration.origins.max() == model.last_seen_ - pd.DateOffset(months=4)
    model.predict(level=(50, 90))
    assert model.conformal_ is calibration  # reused for other levels
    model.fit(frame(seasonal(44)))
    assert not hasattr(model, "conformal_")  # a refit drops it


def test_calibrating_on_data_beyond_the_fitted_span_is_refused() -> None:
    # Every calibration fit stays before its origin, so only the last-target check can catch a longer frame.
    model = SeasonalNaive(horizon=4, season=4).fit(frame(seasonal(40)))
    with pytest.raises(LeakageError, match=r"read a target at 2003-12-01 00:00:00, after the fitted data's last"):
        calibrate(SeasonalNaive(horizon=4, season=4), frame(seasonal(48)), "MS", last_seen=model.last_seen_)


def test_a_shorter_calibration_is_the_latest_part_of_a_longer_one() -> None:
    # A model that refits every block (calibration_refits): blocks are fitted independently, latest first.
    data = frame(seasonal(48))
    model = ETS(horizon=4, season=4).fit(data)
    short, long = (
        calibrate(ETS(horizon=4, season=4), data, "MS", last_seen=model.last_seen_, n_windows=n) for n in (5, 7)
    )
    assert (long.residuals.shape[1], short.residuals.shape[1]) == (28, 20)
    np.testing.assert_array_equal(long.residuals[:, :20], short.residuals)
    assert long.origins[:20].equals(short.origins)


def test_a_calibration_fit_that_records_later_data_is_refused() -> None:
    model = LateRecorder(horizon=2).fit(frame(seasonal(20)))
    model.last_seen_ = pd.Timestamp("2100-01-01")
    with pytest.raises(
        LeakageError,
        match="fitted on data up to 2100-01-01 00:00:00, after the cutoff 2001-05-01 00:00:00 of its fit: it read",
    ):
        model.predict(level=80)


def test_same_seed_same_bands_for_the_sgd_model() -> None:
    df = frame(seasonal(60))

    def bands() -> pd.DataFrame:
        model = tsf.SGDForecaster(lookback=8, horizon=4, season=4, epochs=3, seed=3, scales=(1.0,), family="drift")
        out = model.fit(df).predict(level=(80, 95))
        assert isinstance(out, pd.DataFrame)
        return out

    first, second = bands(), bands()
    assert_nested_and_finite(first)
    pd.testing.assert_frame_equal(first, second, check_exact=True)


def test_native_and_conformal_ets_bands_differ_and_native_comes_from_the_fitted_model() -> None:
    y = seasonal(48)
    model = ETS(horizon=4, season=4).fit(frame(y))
    native = model.predict(level=(80, 95), interval_method="native")
    conformal = model.predict(level=(80, 95), interval_method="conformal")
    pd.testing.assert_series_equal(native["y_hat"], conformal["y_hat"])
    assert not np.allclose(native["y_hi_95"], conformal["y_hi_95"])
    fallback_lo, _ = _last_resort_bands(y, 4, 4, (80.0, 95.0))
    assert not np.allclose(native["y_lo_80"], fallback_lo[0])  # the simulation ran, not the fallback


def test_native_bands_are_deterministic() -> None:
    df = frame(seasonal(48))
    first = ARIMA(horizon=4, season=4, max_p=1, max_q=0).fit(df).predict(level=90, interval_method="native")
    second = ARIMA(horizon=4, season=4, max_p=1, max_q=0).fit(df).predict(level=90, interval_method="native")
    pd.testing.assert_frame_equal(first, second, check_exact=True)


def test_a_model_without_native_intervals_says_so() -> None:
    with pytest.raises(DataError, match=r"Mean has no native prediction intervals .* Use interval_method='conformal'"):
        tsf.Mean(horizon=2).fit(seasonal(20)).predict(level=80, interval_method="native")


@pytest.mark.parametrize(
    ("level", "error", "match"),
    [
        (
            0,
            DataError,
            r"level=0 is not strictly between 0 and 100\. Pass coverage percentages such as level=\(80, 95\)",
        ),
        (100, DataError, "level=100 is not strictly between 0 and 100"),
        (150, DataError, "level=150 is not strictly between 0 and 100"),
        ((80, float("nan")), DataError, "level=nan is not strictly between 0 and 100"),
        ("80", DataTypeError, r"level='80' is not a number \(str\)"),
        ((80, "95"), DataTypeError, r"level='95' is not a number \(str\)"),
        (True, DataTypeError, r"level=True is not a number \(bool\)"),
        ((80, 80.0), DataError, r"level=\(80, 80.0\) repeats a level"),
        ((), DataError, r"level=\(\) holds no level"),
        (99.99999, DataError, r"level=99.99999 has more than 6 significant digits.* Round it, e.g. to 100"),
        ((80, 80.0000001), DataError, r"level=80.0000001 has more than 6 significant digits.* to 80\."),
    ],
)
def test_bad_levels_are_refused_with_one_clear_line(level: Any, error: type[Exception], match: str) -> None:
    model = Naive(horizon=2).fit(seasonal(20))
    with pytest.raises(error, match=match):
        model.predict(level=level)


def test_a_bad_interval_method_is_refused() -> None:
    with pytest.raises(DataError, match=r"interval_method='exact' is not a known interval method\. Choose one of"):
        Naive(horizon=2).fit(seasonal(20)).predict(level=80, interval_method="exact")


def test_backtest_refuses_a_bad_level_before_fitting() -> None:
    with pytest.raises(DataError, match="level=150 is not strictly between 0 and 100"):
        tsf.backtest("naive", tsf.load_dataset("air_passengers"), tsf.WalkForward(2, 12), level=(80, 150))


def test_backtest_adds_the_band_columns_of_every_model() -> None:
    df = frame(seasonal(60))
    res = tsf.backtest("seasonal_naive", df, tsf.WalkForward(2, 4), baselines=("naive",), season=4, level=(80, 95))
    assert res.forecasts.columns[-4:].tolist() == band_columns((80, 95))
    assert set(res.forecasts["model"]) == {"seasonal_naive", "naive"}
    assert_nested_and_finite(res.forecasts)


def _fold_forecasts(model: Any, df: pd.DataFrame, fold: int, method: str) -> pd.DataFrame:
    res = tsf.backtest(model, df, tsf.WalkForward(2, 4), baselines=(), season=4, level=(80, 95), interval_method=method)
    return res.forecasts[res.forecasts["fold"] == fold][BANDS].reset_index(drop=True)


@pytest.mark.parametrize(
    ("model", "method"), [("theta", "conformal"), ("ets", "native"), ("seasonal_naive", "conformal")]
)
def test_bands_do_not_change_when_the_future_of_the_cutoff_changes(model: str, method: str) -> None:
    df = frame(seasonal(48))
    before = _fold_forecasts(model, df, 0, method)
    cutoff = df["ds"].iloc[-9]  # fold 0 of WalkForward(2, 4): its test span is the 4 points after this
    perturbed = df.assign(y=df["y"].where(df["ds"] <= cutoff, 1e6))
    pd.testing.assert_frame_equal(_fold_forecasts(model, perturbed, 0, method), before, check_exact=True)


def test_a_band_whose_width_peeks_at_the_future_is_caught() -> None:
    df = frame(seasonal(48))
    model = WidthPeeker(horizon=4, data=df)
    cv = tsf.WalkForward(2, 4)
    given: dict[str, Any] = dict(baselines=(), season=4, fresh_process=False, interval_method="native")
    assert tsf.audit_leakage(model, df, cv, **given).passed  # the point forecast alone passes the audit
    audit = tsf.audit_leakage(model, df, cv, level=(80, 95), **given)
    assert audit.status == "leak"
    assert not audit.folds[audit.folds["check"] != "control"]["identical"].any()


@pytest.mark.parametrize("method", ["conformal", "native"])
def test_honest_bands_pass_the_audit_from_the_backtest(method: str) -> None:
    df = frame(seasonal(48))
    res = tsf.backtest(
        "ets",
        df,
        tsf.WalkForward(2, 4),
        baselines=(),
        season=4,
        level=80,
        interval_method=method,
        audit=AuditOptions(fresh_process=False),
    )
    assert res.audit is not None
    assert res.audit.passed


def test_the_audit_refuses_a_bad_level() -> None:
    with pytest.raises(DataError, match="level=100 is not strictly between 0 and 100"):
        tsf.audit_leakage("naive", frame(seasonal(48)), tsf.WalkForward(2, 4), level=100)


def test_interval_metrics() -> None:
    y, lo, hi = np.array([1.0, 5.0]), np.array([0.0, 0.0]), np.array([2.0, 4.0])
    assert coverage(y, lo, hi) == 0.5
    assert interval_width(y, lo, hi, y_train=[0.0, 1.0, 2.0], season=1) == 3.0
    assert msis(y, lo, hi, level=80, y_train=[0.0, 1.0, 2.0], season=1) == pytest.approx((2 + 4 + 10 * 1) / 2)
    assert np.isnan(coverage([np.nan, 1.0], lo, hi))
    terms = interval_terms([np.nan, 1.0], [0.0, np.nan], [2.0, 2.0])
    assert np.isnan(terms["coverage"]).all()
    assert "msis" not in terms  # it needs the level


@pytest.mark.parametrize("level", [0, 100, True, "95"])
def test_msis_refuses_a_bad_level(level: Any) -> None:
    with pytest.raises(DataError, match="level must be a coverage percentage strictly between 0 and 100, got"):
        msis([1.0], [0.0], [2.0], level=level, y_train=[0.0, 1.0], season=1)


class InfiniteBand(Naive):
    """A native band that diverged."""

    def _forecast_interval(self, y: np.ndarray, levels: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
        band = np.full((len(levels), self.horizon), np.inf)
        return -band, band


def test_a_non_finite_band_is_refused() -> None:
    with pytest.raises(DataError, match=r"InfiniteBand produced a non-finite prediction interval \(native\)"):
        InfiniteBand(horizon=2).fit(seasonal(20)).predict(level=80, interval_method="native")


def test_declared_covariates_travel_into_the_calibration_fits() -> None:
    df = frame(seasonal(40)).assign(price=np.arange(40.0), temperature=np.cos(np.arange(40.0)))
    cov = tsf.Covariates(known_future=["price"], past_only=["temperature"])
    model = Naive(horizon=2).fit(df, covariates=cov)
    future = pd.DataFrame({"unique_id": "s", "ds": pd.date_range("2003-05-01", periods=2, freq="MS"), "price": 1.0})
    out = model.predict(future=future, level=80)
    assert_nested_and_finite(out.assign(y_lo_95=out["y_lo_80"], y_hi_95=out["y_hi_80"]))
    assert model.conformal_.residuals.shape == (1, 20, 2)


def test_relative_scores_scale_the_band_with_the_forecast() -> None:
    residuals = np.arange(1.0, 20.0).reshape(1, 19, 1)  # relative residuals 1% .. 19% of forecasts of 100
    forecasts = np.full_like(residuals, 100.0)
    calibration = _calibration(residuals, pd.Index(["a"]), pd.Series([5.0], index=["a"]), 30, forecasts)
    q = _half_widths(calibration, (80.0,), pd.Index(["a"]), pd.Series([5.0], index=["a"]), np.array([[200.0]]))
    assert q[0, 0, 0] == pytest.approx(0.16 * 200.0)


def test_a_forecast_that_is_not_positive_gets_a_band_from_absolute_scores() -> None:
    model = Naive(horizon=2).fit(frame(seasonal(40)))
    model.predict(level=80)
    assert model.conformal_.relative
    history = frame(np.r_[seasonal(40)[:39], 0.0])  # a new history whose last value, hence its forecast, is 0
    out = model.predict(history, level=80)
    absolute = dataclasses.replace(model.conformal_, forecasts=None)
    scale = history_scales(history["y"].to_numpy(), np.array([0]), np.array([len(history)]), 12)
    q = _half_widths(absolute, (80.0,), pd.Index(["s"]), pd.Series(scale, index=["s"]), np.zeros((1, 2)))
    np.testing.assert_array_equal(out["y_hi_80"] - out["y_hat"], q[0, 0])
    assert (q > 0).all()


@pytest.mark.parametrize(("shift", "relative"), [(0.0, True), (-30.0, False)])
def test_relative_scores_only_for_positive_series(shift: float, relative: bool) -> None:
    model = SeasonalNaive(horizon=4, season=4).fit(frame(seasonal(40) + shift))
    model.predict(level=80)
    assert model.conformal_.relative is relative


def test_the_backtest_scores_the_bands_per_model_fold_series_and_step(tmp_path: Any) -> None:
    df = frame(seasonal(60))
    res = tsf.backtest("seasonal_naive", df, tsf.WalkForward(2, 4), baselines=("naive",), season=4, level=(80, 95))
    scores = ["coverage_80", "width_80", "msis_80", "coverage_95", "width_95", "msis_95"]
    assert res.metrics.columns.tolist() == ["model", "fold", "cutoff", "unique_id", *METRICS, *scores, "scale"]
    for (model, fold), part in res.forecasts.groupby(["model", "fold"]):
        row = res.metrics[(res.metrics["model"] == model) & (res.metrics["fold"] == fold)].iloc[0]
        train = df["y"].to_numpy()[df["ds"] <= part["cutoff"].iloc[0]]
        lo, hi = part["y_lo_95"], part["y_hi_95"]
        assert row["coverage_95"] == coverage(part["y"], lo, hi)
        assert row["width_95"] == pytest.approx(interval_width(part["y"], lo, hi, y_train=train, season=4))
        assert row["msis_95"] == pytest.approx(msis(part["y"], lo, hi, level=95, y_train=train, season=4))
    summary = res.summary()
    first = [c for c in ("mase", "mase_vs_seasonal_naive") if c in summary]
    expected = [*first, *(m for m in METRICS if m != "mase"), *scores]
    assert summary.columns[: len(expected)].tolist() == expected
    assert summary.loc["naive", "msis_80"] == pytest.approx(res.metrics.query("model == 'naive'")["msis_80"].mean())
    by_step = res.metrics_by_horizon()
    assert set(scores) <= set(by_step.columns)
    assert by_step["step"].max() == 4
    step_one = res.forecasts.groupby(["model", "fold"]).head(1)
    assert by_step.query("model == 'naive' and step == 1")["coverage_80"].item() == pytest.approx(
        coverage(*(step_one.query("model == 'naive'")[c] for c in ("y", "y_lo_80", "y_hi_80")))
    )
    res.save(tmp_path)
    assert set(scores) <= set(pd.read_csv(tmp_path / "metrics.csv").columns)
    saved = json.loads((tmp_path / "summary.json").read_text())["models"]["naive"]
    assert {*METRICS, *scores} <= set(saved)
    assert saved["coverage_95"] == pytest.approx(summary.loc["naive", "coverage_95"])


def test_without_level_there_are_no_interval_scores() -> None:
    res = tsf.backtest("naive", frame(seasonal(40)), tsf.WalkForward(2, 4), baselines=(), season=4)
    assert not any(c.startswith(("coverage", "width", "msis")) for c in res.metrics.columns)
    assert "coverage_80" not in res.to_json()["models"]["naive"]


def test_calibration_fits_are_long_enough_to_be_the_model_they_calibrate() -> None:
    # ETS on fewer than two seasons falls back to a model without its season: a calibration fit there is another
    # model, whose larger errors widen the bands (on short series, to 0.95 / 1.00 coverage at 80% / 95%).
    assert (ETS(season=12).calibration_length(), ETS(season=4).calibration_length()) == (24, 14)
    assert (Theta(season=12).calibration_length(), Naive().calibration_length()) == (24, 3)
    data = frame(seasonal(60))
    model = ETS(horizon=4, season=4).fit(data)
    calibration = calibrate(ETS(horizon=4, season=4), data, "MS", last_seen=model.last_seen_)
    earliest = data["ds"].searchsorted(calibration.origins.min())
    assert earliest + 1 >= 14  # every calibration fit holds at least 14 rows
    assert earliest + 1 < 14 + 4  # and the span goes back as far as that allows (blocks of 4 origins)


def test_data_too_short_for_the_full_form_are_calibrated_at_the_models_minimum() -> None:
    data = frame(seasonal(32))  # the latest origin with a 12-step horizon inside is row 19: under 24 rows
    out = ETS(horizon=12, season=12).fit(data).predict(level=(80, 95))
    assert_nested_and_finite(out)


def test_a_panel_whose_series_end_early_calibrates_with_known_future_covariates() -> None:
    from sklearn.linear_model import Ridge

    rng = np.random.default_rng(0)
    df = pd.concat(
        [
            pd.DataFrame(
                {"unique_id": uid, "ds": np.arange(n), "y": rng.normal(size=n).cumsum(), "promo": np.arange(n) % 3 == 0}
            )
            for uid, n in [("a", 70), ("b", 47), ("c", 60)]  # b and c end before the folds
        ],
        ignore_index=True,
    ).astype({"promo": float})
    model = tsf.RegressionForecaster(Ridge(), lags=3, horizon=4, strategy="direct")
    cov = tsf.Covariates(known_future=["promo"])
    result = tsf.backtest(model, df, tsf.WalkForward(2, 4), covariates=cov, baselines=(), level=80)
    mine = result.forecasts[result.forecasts["model"] == result.models[0]]
    bands = mine[["y_lo_80", "y_hat", "y_hi_80"]].to_numpy()
    assert len(bands) == 8  # series a's two folds
    assert np.isfinite(bands).all()
    assert (np.diff(bands, axis=1) >= 0).all()
