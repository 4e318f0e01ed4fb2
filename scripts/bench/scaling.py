"""Scaling: backtest time against series count and series length, with a log-log slope (1 = linear), and time and
peak memory of a panel backtest and of one global SGD fit against the number of series."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import tsforecast as tsf

from .common import normalise, sgd_available, sgd_model, synthetic_panel, timed
from .markdown import fmt, md_table, secs
from .settings import TIME, Config


def scaling(cfg: Config) -> str:
    """Backtest time against series count and series length (daily synthetic series, season 7, 5 folds)."""
    h = season = 7
    cv = tsf.WalkForward(n_splits=5, horizon=h)
    rows, slopes = [], []
    sweeps = (
        ("series count", [(c, cfg.count_length) for c in cfg.counts], 0),
        ("series length", [(cfg.length_series, t) for t in cfg.lengths], 1),
    )
    models: list[tuple[str, Callable[[], Any]]] = [("seasonal_naive", lambda: "seasonal_naive")]
    if sgd_available():
        models.append(("sgd (fixed epochs)", lambda: sgd_model(h, season, {**cfg.scaling_sgd, "early_stopping": None})))
    for sweep, sizes, axis in sweeps:
        for name, build in models:
            seconds = []
            for n, length in sizes:
                df = normalise(synthetic_panel(n, length, freq="D", season=season), (TIME,))
                seconds.append(timed(lambda df=df, b=build: tsf.backtest(b(), df, cv, baselines=(), season=season))[1])
                rows.append([sweep, name, n, length, fmt(seconds[-1], 2)])
            x = np.log([s[axis] for s in sizes])
            slope = np.polyfit(x, np.log(seconds), 1)[0]
            per_unit = np.polyfit([s[axis] for s in sizes], seconds, 1)[0]
            slopes.append([sweep, name, fmt(slope, 2), f"{per_unit * 1000:.3f} ms per {sweep.split()[1]} unit"])
    return (
        f"## Scaling: backtest time (serial, 5 folds, horizon {h}, daily synthetic series)\n\n"
        + md_table(["sweep", "model", "series", "length", "seconds"], rows)
        + "\n\nFitted log-log slope of time against size (1 = linear; below 1 = fixed overhead still dominates) "
        "and the linear cost per unit:\n\n"
        + md_table(["sweep", "model", "log-log slope", "linear fit"], slopes)
        + (
            f"\n\nsgd uses `{cfg.scaling_sgd}` and no early stopping, so its work is fixed per window."
            if sgd_available()
            else ""
        )
    )


def _probe(job: str, n: int, length: int, steps: int) -> dict[str, float]:
    """One run of ``panel_probe.py`` in a fresh process: seconds, peak bytes above the loaded panel, panel bytes."""
    out = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("panel_probe.py")), job, str(n), str(length), str(steps)],
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _available() -> int:
    """The machine's available memory in bytes (``MemAvailable``), or 0 where it cannot be read."""
    with contextlib.suppress(OSError, StopIteration), open("/proc/meminfo") as info:
        return int(next(line for line in info if line.startswith("MemAvailable")).split()[1]) * 1024
    return 0


def panel_scaling(cfg: Config) -> str:
    """Time and peak memory against series count: a seasonal-naive backtest and one global SGD fit.

    Each size runs in its own process. A size whose peak, extrapolated linearly from the previous
    size, would exceed half the available memory is skipped and the table says so.
    """
    length, steps = cfg.panel_length, cfg.panel_sgd_steps
    jobs = [("seasonal_naive", "seasonal-naive backtest (5 folds, horizon 12)")]
    if sgd_available() and not cfg.quick:  # NOTE: per-series smoothing fits make even a tiny SGD probe slow
        jobs.append(("sgd", f"one global SGDForecaster fit ({steps} SGD steps)"))
    rows, slopes = [], []
    mib = 2**20
    for job, label in jobs:
        measured: list[tuple[int, float]] = []
        previous: tuple[int, float] | None = None
        for n in cfg.panel_series:
            if previous is not None and previous[1] * n / previous[0] > _available() / 2:
                projected = previous[1] * n / previous[0] / 2**30
                rows.append(
                    [label, f"{n:,}", f"{n * length:,}", "skipped", f"~{projected:.0f} GiB projected", "-", "-"]
                )
                continue
            r = _probe(job, n, length, steps)
            measured.append((n, r["seconds"]))
            previous = (n, r["peak"])
            rows.append(
                [
                    label,
                    f"{n:,}",
                    f"{r['points']:,}",
                    secs(r["seconds"]),
                    fmt(r["peak"] / mib, 0),
                    fmt(r["data"] / mib, 0),
                    fmt(r["peak"] / r["data"], 1),
                ]
            )
        if len(measured) > 1:
            slope = np.polyfit(np.log([m[0] for m in measured]), np.log([m[1] for m in measured]), 1)[0]
            slopes.append([label, fmt(slope, 2), f"{measured[0][0]:,} to {measured[-1][0]:,} series"])
    return (
        f"## Scaling with the number of series: {length} monthly points each, serial\n\n"
        "Seeded `synthetic_panel` series; every line runs in a fresh process (`scripts/bench/panel_probe.py`), "
        "after a small warm-up run. Time is the whole `tsf.backtest` call (validation, folds, forecasts, scores, "
        "result frames) or the whole `fit`. Peak memory is the peak RSS above the RSS with the panel loaded; the "
        "panel's bytes are `DataFrame.memory_usage` (8 bytes per point for each of `unique_id` pointers, `ds`, "
        "`y`).\n\n"
        + md_table(
            ["job", "series", "points", "seconds", "peak MiB above the panel", "panel MiB", "peak / panel"], rows
        )
        + "\n\nFitted slope of log time against log series count (1 = linear):\n\n"
        + md_table(["job", "log-log slope", "sizes"], slopes)
    )
