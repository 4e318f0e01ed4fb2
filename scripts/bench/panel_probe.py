"""Time and peak memory of one panel job, in a process of its own; run by :func:`bench.scaling.panel_scaling`.

Usage: ``python panel_probe.py JOB SERIES LENGTH [MAX_STEPS]``, ``JOB`` ``seasonal_naive`` (a 5-fold
walk-forward backtest, horizon 12, of the monthly ``synthetic_panel``) or ``sgd`` (one global
``SGDForecaster`` fit on the whole panel with a fixed budget of ``MAX_STEPS`` SGD steps). Prints one
JSON line: the wall time (``seconds``), the peak RSS above the RSS with the panel loaded
(``peak``), the panel's bytes (``data``: ``DataFrame.memory_usage``, the id column counted as
pointers to its shared names) and the number of points.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # NOTE: scripts/, for the bench package

import tsforecast as tsf
from bench.common import normalise, synthetic_panel
from bench.memory_probe import _status, peak_meter
from bench.settings import TIME


def main() -> None:
    job, n, length = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    df = normalise(synthetic_panel(n, length), (TIME,))
    if job == "seasonal_naive":
        cv = tsf.WalkForward(n_splits=5, horizon=12)
        tsf.backtest("seasonal_naive", df.head(length * 2), cv, baselines=(), season=12)  # warm-up: lazy imports

        def run() -> object:
            return tsf.backtest("seasonal_naive", df, cv, baselines=(), season=12)
    else:
        from tsforecast.models.sgd import SGDForecaster

        params = {"horizon": 12, "season": 12, "epochs": 10**6, "max_steps": int(sys.argv[4]), "early_stopping": None}
        SGDForecaster(**{**params, "max_steps": 2}).fit(df.head(length * 2))  # warm-up: torch's first calls

        def run() -> object:
            return SGDForecaster(**params).fit(df)

    peak = peak_meter()
    base = _status("VmRSS")
    start = time.perf_counter()
    run()
    seconds = time.perf_counter() - start
    result = {
        "seconds": seconds,
        "peak": peak() - base,
        "data": int(df.memory_usage(index=True).sum()),
        "points": len(df),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
