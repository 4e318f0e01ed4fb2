"""Backtest a shipped dataset with the library API and write the report (what ``tsforecast backtest`` does).

Usage::

    python scripts/backtest_report.py [DATASET] [--out results/] [--folds 5] [--epochs N]
"""

from __future__ import annotations

import argparse

import tsforecast as tsf
from tsforecast.frequency import season_length


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dataset", nargs="?", default="air_passengers", choices=tsf.list_datasets())
    parser.add_argument("--out", default="results")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=300)
    args = parser.parse_args(argv)

    df = tsf.load_dataset(args.dataset)[["unique_id", "ds", "y"]]
    season = season_length(tsf.infer_freq(df))
    model = tsf.SGDForecaster(lookback=2 * season, horizon=season, epochs=args.epochs, seed=0)
    cv = tsf.WalkForward(n_splits=args.folds, horizon=season)  # expanding window, step = horizon, refit each fold
    result = tsf.backtest(model, df, cv, baselines=("naive", "seasonal_naive", "ets"), audit=True, source=args.dataset)
    out = result.save(args.out)
    print(result.summary()[["mae", "rmse", "smape", "mase"]].round(3).to_string())
    print(f"audit passed: {result.audit.passed if result.audit else None}; report: {out / 'report.html'}")


if __name__ == "__main__":
    main()
