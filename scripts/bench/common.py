"""Helpers shared by the measurements: installed packages, timing, data loading, the SGD model, one run's forecasts."""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import numpy as np
import pandas as pd

import tsforecast as tsf

from .settings import ID, TARGET, TIME, Spec


def installed(package: str) -> bool:
    """Whether ``package`` can be imported."""
    return importlib.util.find_spec(package) is not None


def package_version(package: str) -> str:
    """The installed version of ``package``, or ``"-"``."""
    try:
        return version(package)
    except PackageNotFoundError:
        return "-"


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    """``fn()`` and its wall time in seconds."""
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def median_time(fn: Callable[[], Any], repeats: int, cheap: float = 30.0) -> tuple[float, int]:
    """Median wall time of up to ``repeats`` calls of ``fn``, and the number of calls.

    A first call longer than ``cheap`` seconds is not repeated (it is reported as measured once).
    """
    seconds = [timed(fn)[1]]
    while seconds[0] < cheap and len(seconds) < repeats:
        seconds.append(timed(fn)[1])
    return float(np.median(seconds)), len(seconds)


def normalise(frame: pd.DataFrame, columns: Sequence[str] = (TIME, "cutoff")) -> pd.DataFrame:
    """String ids and nanosecond timestamps, so frames from every library merge exactly."""
    frame = frame.copy()
    frame[ID] = frame[ID].astype(str)
    for col in columns:
        frame[col] = pd.to_datetime(frame[col]).astype("datetime64[ns]")
    return frame


def load(spec: Spec) -> pd.DataFrame:
    """A shipped dataset as ``unique_id, ds, y`` (elecdaily's covariates dropped), optionally truncated."""
    df = tsf.load_dataset(spec.name)[[ID, TIME, TARGET]]
    if spec.tail is not None:
        df = df.groupby(ID, sort=False).tail(spec.tail).reset_index(drop=True)
    return normalise(df, (TIME,))


def synthetic_panel(n_series: int, length: int, *, freq: str = "MS", season: int = 12, seed: int = 0) -> pd.DataFrame:
    """Seeded positive seasonal series: level + trend + seasonal wave + AR(1) noise, long format."""
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    level = rng.uniform(50, 500, (n_series, 1))
    trend = rng.normal(0, 0.002, (n_series, 1)) * level
    phase = rng.uniform(0, 2 * np.pi, (n_series, 1))
    wave = rng.uniform(0.05, 0.3, (n_series, 1)) * level * np.sin(2 * np.pi * t / season + phase)
    shocks = rng.normal(0, 0.03, (n_series, length)) * level
    noise = np.zeros_like(shocks)
    for k in range(length):
        noise[:, k] = shocks[:, k] + (0.5 * noise[:, k - 1] if k else 0)
    y = np.maximum(level + trend * t + wave + noise, 1.0)
    ds = pd.date_range("1990-01-01", periods=length, freq=freq)
    return pd.DataFrame(
        {
            ID: np.repeat(np.array([f"s{i:04d}" for i in range(n_series)], dtype=object), length),  # shared names
            TIME: np.tile(ds, n_series),
            TARGET: y.reshape(-1),
        }
    )


def sgd_model(horizon: int, season: int, params: dict[str, Any]) -> tsf.Forecaster:
    """The registered ``sgd`` model (defaults), with ``params`` overriding them (quick runs, scaling)."""
    return tsf.make_model("sgd", horizon=horizon, season=season).set_params(**params)


def sgd_available() -> bool:
    """Whether the ``sgd`` model is registered."""
    try:
        tsf.make_model("sgd", horizon=2, season=1)
    except tsf.DataError:
        return False
    return True


@dataclass
class Run:
    """The forecasts of one model of one system on one dataset."""

    system: str
    model: str
    forecasts: pd.DataFrame  # unique_id, ds, cutoff, y_hat
    seconds: float
    note: str = ""

    @property
    def label(self) -> str:
        return f"{self.system}.{self.model}"


EMPTY = pd.DataFrame({ID: pd.Series(dtype=str), TIME: pd.Series(dtype="datetime64[ns]"), "y_hat": []})


def fewer_folds(fn: Callable[[int], pd.DataFrame], folds: int) -> tuple[pd.DataFrame, str]:
    """Call ``fn(k)`` for k = folds, folds-1, …, 1 until it succeeds; say how many folds it took.

    Used for peers that refuse a fold whose training part is shorter than their lags or minimum;
    tsforecast reports those folds per model itself. The test-timestamp check shows the difference.
    """
    first_error = ""
    for k in range(folds, 0, -1):
        try:
            return fn(k), "" if k == folds else f"{k} of {folds} folds ({first_error})"
        except Exception as exc:  # a peer's own error, recorded in the report
            first_error = first_error or f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}"
    return EMPTY.assign(cutoff=EMPTY[TIME]), f"failed: {first_error}"


def own_forecasts(result: tsf.BacktestResult) -> pd.DataFrame:
    """The forecasts of the model under test only: a backtest also runs the reference seasonal naive."""
    return result.forecasts[result.forecasts["model"] == result.models[0]]
