"""Scaling: backtest time against series count and series length, with a log-log slope (1 = linear)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import tsforecast as tsf

from .common import normalise, sgd_available, sgd_model, synthetic_panel, timed
from .markdown import fmt, md_table
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
