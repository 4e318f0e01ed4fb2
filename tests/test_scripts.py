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


def test_interval_study_applies_its_declared_choice_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(SCRIPTS))
    from study_intervals import choose

    def rows(blocks: int, steps: str, coverage_95: float, msis_95: float) -> list[dict[str, object]]:
        base = {"blocks": blocks, "steps": steps, "series": "s", "fold": 0, "origins": 12 * blocks}
        scores = {"coverage_80": 0.8, "coverage_95": coverage_95, "msis_80": 4.0, "msis_95": msis_95}
        return [{**base, **scores, "model": model} for model in ("ets", "sgd")]

    table = pd.DataFrame(
        rows(5, "own", 0.92, 7.05)  # within 1% of the best qualifying MSIS, fewest blocks, own steps: chosen
        + rows(5, "±1", 0.92, 7.00)
        + rows(8, "own", 0.94, 6.99)  # the lowest qualifying MSIS, but more blocks
        + rows(10, "own", 0.89, 5.00)  # the lowest MSIS, but 95% coverage below 0.90: does not qualify
    )
    assert choose(table) == (5, "own")
    assert choose(table[table["blocks"] == 10]) == (10, "own")  # none qualifies: closest to 0.90 at 95%
