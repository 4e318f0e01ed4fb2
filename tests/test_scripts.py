"""The example scripts run end to end (with a small training budget)."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import pandas as pd
import pytest

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


def run_script(name: str, *args: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", [name, *args])
    runpy.run_path(str(SCRIPTS / name), run_name="__main__")


def test_forecast_script_writes_the_next_season(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "forecast.csv"
    run_script("forecast.py", "ausbeer", "--out", str(out), "--epochs", "3", monkeypatch=monkeypatch)
    forecast = pd.read_csv(out)
    assert list(forecast.columns) == ["unique_id", "ds", "y_hat"]
    assert len(forecast) == 4


def test_backtest_report_script_writes_the_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run_script("backtest_report.py", "ausbeer", "--out", str(tmp_path), "--folds", "2", "--epochs", "3",
               monkeypatch=monkeypatch)  # fmt: skip
    assert (tmp_path / "report.html").exists()
    assert (tmp_path / "summary.json").exists()
