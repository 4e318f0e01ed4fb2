"""The CLI's familiar outputs: ``backtest --wide``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import tsforecast as tsf
from tsforecast import cli


@pytest.fixture
def sales_csv(tmp_path: Path) -> Path:
    """uk_lung_deaths with the user's own column names: store, date, units."""
    path = tmp_path / "sales.csv"
    frame = tsf.load_dataset("uk_lung_deaths").rename(columns={"unique_id": "store", "ds": "date", "y": "units"})
    frame.to_csv(path, index=False)
    return path


def test_backtest_wide_writes_one_column_per_model_with_the_users_column_names(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, sales_csv: Path
) -> None:
    out = tmp_path / "results"
    argv = [str(sales_csv), "--id-col", "store", "--time-col", "date", "--target-col", "units", "--horizon", "6"]
    status = cli.main(["backtest", *argv, "--folds", "2", "--model", "mean", "--no-audit", "--wide", "--out", str(out)])
    assert status == 0, capsys.readouterr().err
    wide = pd.read_csv(out / "forecasts.csv", parse_dates=["date", "cutoff"])
    assert wide.columns.tolist() == ["store", "date", "cutoff", "units", "mean", "naive", "seasonal_naive"]
    assert len(wide) == 2 * 2 * 6
    assert wide[["mean", "naive", "seasonal_naive", "units"]].notna().all().all()
    long = pd.read_csv(out / "metrics.csv")
    assert "store" in long.columns
