"""The CLI's familiar outputs: ``backtest --wide``, ``forecast --out -``, the model names in ``--help``."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest

import tsforecast as tsf
from tsforecast import cli
from tsforecast.metrics import METRICS
from tsforecast.models import MODELS


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


def test_forecast_out_dash_writes_only_the_csv_to_stdout(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    status = cli.main(["forecast", "air_passengers", "--horizon", "3", "--model", "naive", "--out", "-"])
    out, err = capsys.readouterr()
    assert status == 0
    csv = pd.read_csv(io.StringIO(out))
    assert csv.columns.tolist() == ["unique_id", "ds", "model", "y_hat"]
    assert csv["y_hat"].tolist() == [432.0] * 3
    assert "wrote 3 forecasts" in err
    assert not list(tmp_path.iterdir())


def test_the_light_model_and_metric_names_are_the_registries() -> None:
    assert tuple(MODELS) == cli._MODEL_NAMES
    assert tuple(METRICS) == cli._METRIC_NAMES


def test_backtest_sort_by_ranks_the_printed_leaderboard(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    argv = ["backtest", "air_passengers", "--horizon", "6", "--folds", "2", "--model", "mean,drift", "--no-audit"]
    assert cli.main([*argv, "--sort-by", "smape", "--out", str(tmp_path / "r")]) == 0
    printed = capsys.readouterr().out.splitlines()
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())["models"]
    ranked = sorted(summary, key=lambda name: summary[name]["smape"])
    assert [line.split()[0] for line in printed[2 : 2 + len(ranked)]] == ranked
    assert ranked != list(summary)  # smape ranks them otherwise than MASE does here


def test_backtest_sort_by_takes_only_built_in_metric_names(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["backtest", "air_passengers", "--horizon", "12", "--sort-by", "bias", "--out", "x"])
    assert exit_info.value.code == 2
    assert "argument --sort-by: invalid choice: 'bias'" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["backtest", "forecast"])
def test_help_lists_every_model_name(capsys: pytest.CaptureFixture[str], command: str) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main([command, "--help"])
    assert exit_info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert f"comma-separated models among {', '.join(MODELS)} (default: sgd)" in text
