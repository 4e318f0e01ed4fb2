"""The SGD step cap on a large panel: accuracy and time of a global fit with and without it.

Usage::

    python scripts/measure_batch_cap.py [--series 500] [--folds 2]

Backtests the default ``SGDForecaster`` as one global model on the benchmark's seeded synthetic
monthly panel (``--series`` series × 400 points, horizon 12, ``--folds`` folds), once with the
step cap of :data:`tsforecast.models.sgd.estimator.MAX_BATCH_WINDOWS` and once with it lifted
(32 windows per series per step whatever the panel), and prints each run's mean MASE and wall time.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # NOTE: scripts/, for the bench package

from bench.common import normalise, synthetic_panel
from bench.settings import TIME

import tsforecast as tsf
from tsforecast.models.sgd import estimator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=500)
    parser.add_argument("--folds", type=int, default=2)
    args = parser.parse_args()
    df = normalise(synthetic_panel(args.series, 400), (TIME,))
    cv = tsf.WalkForward(n_splits=args.folds, horizon=12)
    capped = estimator.MAX_BATCH_WINDOWS
    for label, cap in ((f"cap {capped:,} windows", capped), ("no cap (32 per series)", 32 * args.series)):
        estimator.MAX_BATCH_WINDOWS = cap
        start = time.perf_counter()
        result = tsf.backtest(tsf.SGDForecaster(horizon=12, season=12, seed=0), df, cv, baselines=(), season=12)
        seconds = time.perf_counter() - start
        print(f"{label}: MASE {result.summary()['mase'].iloc[0]:.3f}, {seconds:.0f} s", flush=True)
    estimator.MAX_BATCH_WINDOWS = capped


if __name__ == "__main__":
    main()
