"""Memory: peak RSS of building the windows of a long series (``memory_probe.py`` in a fresh process each time)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from .markdown import fmt, md_table
from .settings import Config


def memory_probe(n: int, lookback: int, dtype: str, mode: str) -> dict[str, int]:
    """Peak RSS above the baseline of building windows, measured in a fresh subprocess."""
    out = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("memory_probe.py")), str(n), str(lookback), dtype, mode],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["delta"] = result["built"] - result["baseline"]
    result["delta_batch"] = result["peak"] - result["baseline"]
    return result


def memory(cfg: Config) -> tuple[str, dict[str, float]]:
    """Window memory: ``WindowDataset`` views (O(T)) against materialised windows (O(T·L))."""
    n, small, lookback = cfg.memory_points, cfg.materialised_points, cfg.lookback
    mib = 2**20
    rows, ratios = [], {}
    for dtype in ("float32", "float64"):
        r = memory_probe(n, lookback, dtype, "windows")
        ratios[dtype] = r["delta"] / r["raw"]
        rows.append(
            [
                f"WindowDataset, {dtype} series",
                f"{n:,}",
                f"{r['windows']:,}",
                fmt(r["raw"] / mib, 1),
                fmt(r["delta"] / mib, 1),
                fmt(ratios[dtype], 2),
                fmt(r["delta_batch"] / mib, 1),
            ]
        )
    m = memory_probe(small, lookback, "float32", "materialised")
    rows.append(
        [
            f"materialised (`unfold().contiguous()`), {small:,} points",
            f"{small:,}",
            f"{m['windows']:,}",
            fmt(m["raw"] / mib, 1),
            fmt(m["delta"] / mib, 1),
            fmt(m["delta"] / m["raw"], 1),
            "-",
        ]
    )
    needed = (n - lookback + 1) * lookback * 4
    headers = ["what", "points", "windows", "series MiB", "peak above baseline, built (MiB)", "× series bytes"]
    text = (
        f"## Memory: windows of a {n:,}-point series, lookback {lookback}\n\n"
        "Each line is measured in its own subprocess: the peak RSS (`VmHWM`, reset to the current RSS after the "
        "series is created; `ru_maxrss` where that reset is not allowed) minus the RSS with the series loaded, "
        "once the windows are built and the last one read, and again after one ordered batch of 1,024 windows is "
        "drawn with `tsf.ordered_loader`.\n\n"
        + md_table([*headers, "… after one batch (MiB)"], rows)
        + f"\n\nMaterialising all windows of {n:,} points as float32 would need {n:,} × {lookback} × 4 B ≈ "
        f"{needed / 2**30:.1f} GiB (O(T·L)); it is measured on {small:,} points instead of crashing the machine "
        f"(expected {(small - lookback + 1) * lookback * 4 / mib:.0f} MiB)."
    )
    return text, ratios
