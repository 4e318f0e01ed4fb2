"""Smoke test of scripts/benchmark.py: the quick mode runs end to end and writes its report."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
