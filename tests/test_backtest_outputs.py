"""``BacktestResult.to_wide`` (statsforecast's layout) and custom metrics in a backtest."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tsforecast as tsf


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
