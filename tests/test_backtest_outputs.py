"""``BacktestResult.to_wide`` (statsforecast's layout) and custom metrics in a backtest."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tsforecast as tsf
from tsforecast import _engine
from tsforecast.report import render_report


@pytest.fixture(scope="module")
def air() -> pd.DataFrame:
    return tsf.load_dataset("air_passengers")


@pytest.fixture(scope="module")
def banded(air: pd.DataFrame) -> tsf.BacktestResult:
    return tsf.backtest("naive", air, tsf.WalkForward(2, 12), baselines=("mean",), level=(80, 95))


def test_to_wide_has_one_row_per_series_time_and_cutoff_and_statsforecast_columns(banded: tsf.BacktestResult) -> None:
    wide = banded.to_wide()
    assert len(wide) == 2 * 12
    assert not wide.duplicated(["unique_id", "ds", "cutoff"]).any()
    bands = ["-lo-95", "-lo-80", "-hi-80", "-hi-95"]
    models = ["naive", "mean", "seasonal_naive"]
    assert banded.models == models
    expected = ["unique_id", "ds", "cutoff", "y", *(f"{m}{s}" for m in models for s in ["", *bands])]
    assert wide.columns.tolist() == expected


def test_to_wide_values_equal_the_long_forecasts(banded: tsf.BacktestResult) -> None:
    wide = banded.to_wide()
    keys = ["unique_id", "ds", "cutoff"]
    for model, long in banded.forecasts.groupby("model"):
        merged = long.merge(wide, on=keys, how="left", suffixes=("", "_wide"))
        np.testing.assert_array_equal(merged["y_wide"], long["y"])
        np.testing.assert_array_equal(merged[model], long["y_hat"])
        for level in (80, 95):
            np.testing.assert_array_equal(merged[f"{model}-lo-{level}"], long[f"y_lo_{level}"])
            np.testing.assert_array_equal(merged[f"{model}-hi-{level}"], long[f"y_hi_{level}"])


def test_to_wide_is_nan_where_a_model_did_not_forecast_a_series_fold() -> None:
    panel = tsf.load_dataset("uk_lung_deaths")
    short = panel[(panel["unique_id"] == "fdeaths") & (panel["ds"] >= "1978-06-01")]
    df = pd.concat([panel[panel["unique_id"] == "mdeaths"], short], ignore_index=True)
    res = tsf.backtest("naive", df, tsf.WalkForward(2, 6), baselines=())
    skipped = res.skipped[(res.skipped["model"] == "seasonal_naive") & (res.skipped["unique_id"] == "fdeaths")]
    assert len(skipped) == 1
    wide = res.to_wide()
    gap = (wide["unique_id"] == "fdeaths") & (wide["cutoff"] == skipped["cutoff"].iloc[0])
    assert gap.sum() == 6
    assert wide.loc[gap, "seasonal_naive"].isna().all()
    assert wide.loc[gap, "naive"].notna().all()
    assert wide.loc[gap, "y"].notna().all()
    assert wide.loc[~gap, "seasonal_naive"].notna().all()
    assert wide.columns.tolist() == ["unique_id", "ds", "cutoff", "y", "naive", "seasonal_naive"]


def bias(y: np.ndarray, y_hat: np.ndarray, y_train: np.ndarray, season: int) -> float:
    """Mean forecast error: positive when the forecasts run high."""
    return float(np.mean(y_hat - y))


def last_times_season(y: np.ndarray, y_hat: np.ndarray, y_train: np.ndarray, season: int) -> float:
    return float(y_train[-1] * season)


@pytest.fixture(scope="module")
def scored(air: pd.DataFrame) -> tsf.BacktestResult:
    metrics = {"bias": bias, "last": last_times_season}
    return tsf.backtest("naive", air, tsf.WalkForward(2, 12), baselines=("mean",), metrics=metrics)


def test_a_custom_metric_is_computed_per_model_fold_and_series(air: pd.DataFrame, scored: tsf.BacktestResult) -> None:
    for (model, fold), part in scored.forecasts.groupby(["model", "fold"]):
        row = scored.metrics[(scored.metrics["model"] == model) & (scored.metrics["fold"] == fold)].iloc[0]
        assert row["bias"] == pytest.approx(np.mean(part["y_hat"] - part["y"]))
        assert row["last"] == air["y"].iloc[len(air) - 12 * (2 - fold) - 1] * 12


def test_a_custom_metric_appears_in_the_summary_and_summary_json(scored: tsf.BacktestResult) -> None:
    summary = scored.summary()
    assert summary.columns[-2:].tolist() == ["bias", "last"]
    means = scored.metrics.groupby("model")["bias"].mean()
    assert summary["bias"].to_dict() == pytest.approx(means.to_dict())
    assert summary["mase"].is_monotonic_increasing
    saved = scored.to_json()
    assert saved["models"]["naive"]["bias"] == pytest.approx(summary.loc["naive", "bias"])
    assert saved["settings"]["metrics"]["bias"] == f"{__name__}.bias"
    assert saved["settings"]["metrics"]["mase"] == "built-in"


@pytest.mark.parametrize("column", ["bias", "rmse", "smape"])
def test_summary_sorts_by_any_metric(scored: tsf.BacktestResult, column: str) -> None:
    summary = scored.summary(sort_by=column)
    assert summary[column].is_monotonic_increasing
    assert set(summary.index) == set(scored.models)


def test_summary_refuses_to_sort_by_an_unknown_metric(scored: tsf.BacktestResult) -> None:
    with pytest.raises(
        tsf.DataError, match=r"^Cannot sort by 'mape'.*sort_by= to one of: mae, rmse, smape, mase, bias"
    ):
        scored.summary(sort_by="mape")


def test_names_of_built_in_metrics_are_accepted_and_always_computed(air: pd.DataFrame) -> None:
    res = tsf.backtest("naive", air, tsf.WalkForward(1, 12), baselines=(), metrics=["mae", "smape", bias])
    assert res.custom_metrics == ["bias"]
    assert {"mae", "rmse", "smape", "mase", "bias"} <= set(res.summary().columns)


def _returns_a_list(y: np.ndarray, y_hat: np.ndarray, y_train: np.ndarray, season: int) -> list[float]:
    return [0.0]


def _takes_two(y: np.ndarray, y_hat: np.ndarray) -> float:
    return 0.0


@pytest.mark.parametrize(
    ("metrics", "error", "match"),
    [
        (["maee"], tsf.DataError, r"^Unknown metric 'maee'\. Did you mean 'mae'\?"),
        ([42], tsf.DataTypeError, r"^A metric must be a name .* got int 42\.$"),
        ("mae,rmse", tsf.DataError, r"^Unknown metric 'mae,rmse'"),
        ([_returns_a_list], tsf.DataError, r"^The metric '_returns_a_list' returned list \[0\.0\], not one number"),
        ([_takes_two], tsf.DataError, r"^The metric '_takes_two' failed on a small test forecast \(TypeError"),
        ([lambda y, y_hat, y_train, season: 0.0], tsf.DataError, r"cannot be named '<lambda>'"),
        ({"mae": bias}, tsf.DataError, r"cannot be named 'mae'"),
        ([bias, bias], tsf.DataError, r"^Two metrics are named 'bias'"),
    ],
)
def test_a_bad_metric_is_refused_before_any_fit(
    air: pd.DataFrame, monkeypatch: pytest.MonkeyPatch, metrics: object, error: type, match: str
) -> None:
    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("a model was fitted")

    monkeypatch.setattr(_engine, "run_plan", never)
    with pytest.raises(error, match=match) as info:
        tsf.backtest("naive", air, tsf.WalkForward(1, 12), baselines=(), metrics=metrics)
    assert "\n" not in str(info.value)


def test_the_reports_leaderboard_shows_the_custom_metrics(scored: tsf.BacktestResult) -> None:
    html = render_report(scored)
    assert '<th class="num">MASE</th><th class="num">bias</th><th class="num">last</th>' in html
