"""Smoke test of scripts/benchmark.py: the quick mode runs end to end and writes its report."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_quick_benchmark_writes_its_tables(tmp_path: Path) -> None:
    out = tmp_path / "BENCHMARKS.md"
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "benchmark.py"), "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    text = out.read_text()
    headings = ("# Benchmarks", "## Accuracy summary", "## Same test timestamps?", "## Memory", "## Targets")
    for heading in (*headings, "## Scaling with the number of series"):
        assert heading in text
    assert "tsforecast.seasonal_naive" in text
    assert "same test timestamps: yes" in text
    assert "| model | MASE | sMAPE | NaN forecasts |" in text
    assert "## Targets" in done.stdout  # the tables are printed too


def test_interval_benchmark_scores_each_fold_and_series_with_the_package_metrics(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import pandas as pd

    from tsforecast.metrics import coverage, msis

    monkeypatch.syspath_prepend(str(ROOT / "scripts"))
    from bench.intervals import band_scores

    ds = pd.date_range("2000-01-01", periods=8, freq="MS")
    data = pd.DataFrame({"unique_id": "s", "ds": ds, "y": [1.0, 3.0, 2.0, 5.0, 4.0, 6.0, 9.0, 7.0]})
    test = data.iloc[6:].assign(cutoff=ds[5])
    forecasts = test.assign(y_lo_80=[8.0, 7.5], y_hi_80=[10.0, 8.0], y_lo_95=[7.0, 5.0], y_hi_95=[11.0, 9.0])
    scores = band_scores(forecasts, data, season=1)
    train = data["y"].to_numpy()[:6]
    assert scores["coverage_80"].item() == coverage(test["y"], forecasts["y_lo_80"], forecasts["y_hi_80"]) == 0.5
    assert scores["msis_95"].item() == pytest.approx(
        msis(test["y"], forecasts["y_lo_95"], forecasts["y_hi_95"], level=95, y_train=train, season=1)
    )


def test_speed_only_and_skip_speed_exclude_each_other(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "benchmark.py"), "--speed-only", "--skip-speed"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 2
    assert "--speed-only and --skip-speed exclude each other" in done.stderr
