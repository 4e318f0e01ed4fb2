"""Forecast the next season of a shipped dataset with the library API (what ``tsforecast forecast`` does).

Usage::

    python scripts/forecast.py [DATASET] [--out forecast.csv] [--epochs N]
"""

from __future__ import annotations

import argparse

import tsforecast as tsf
from tsforecast.frequency import season_length


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dataset", nargs="?", default="air_passengers", choices=tsf.list_datasets())
    parser.add_argument("--out", default="forecast.csv")
    parser.add_argument("--epochs", type=int, default=300)
    args = parser.parse_args(argv)

    df = tsf.load_dataset(args.dataset)[["unique_id", "ds", "y"]]
    season = season_length(tsf.infer_freq(df))
    model = tsf.SGDForecaster(lookback=2 * season, horizon=season, epochs=args.epochs, seed=0)
    forecast = model.fit(df).predict()  # a frame: unique_id, ds, y_hat
    forecast.to_csv(args.out, index=False)
    print(forecast.to_string(index=False))


if __name__ == "__main__":
    main()
