"""Deliberately leaky models, for the tests that prove the leakage audit catches them.

Each holds a reference to the caller's full frame (``data``) and reads something after the
history it was given: values, their mean, the number of rows, the last timestamp, or the same
through a memoised function or a feature cache. They forecast one series (the frame's rows in
order), like a user's quick hack would.
"""

from __future__ import annotations

import functools
import os

import numpy as np
import pandas as pd

from tsforecast.models import LocalForecaster


class _Leaky(LocalForecaster):
    def __init__(self, horizon: int = 1, data: pd.DataFrame | None = None, column: str = "y") -> None:
        self.horizon = horizon
        self.data = data
        self.column = column

    def _frame(self) -> pd.DataFrame:
        assert self.data is not None
        return self.data

    def _future(self, y: np.ndarray) -> np.ndarray:
        """The column's values after the history ``y`` (rows after the cutoff, one series)."""
        return self._frame()[self.column].to_numpy(dtype="float64")[len(y) :]


class Peeker(_Leaky):
    """Returns the next ``horizon`` values of the full data."""

    def _forecast(self, y: np.ndarray) -> np.ndarray:
        return self._future(y)[: self.horizon]


class FutureMean(_Leaky):
    """Forecasts the mean of the values after the cutoff: unchanged by any reordering of them."""

    def _forecast(self, y: np.ndarray) -> np.ndarray:
        return np.full(self.horizon, self._future(y).mean())


class FutureStatistic(_Leaky):
    """Forecasts a numpy statistic (``"sum"``, ``"min"``, ``"std"`` ...) of the values after the cutoff."""

    def __init__(self, horizon: int = 1, data: pd.DataFrame | None = None, statistic: str = "mean") -> None:
        super().__init__(horizon, data)
        self.statistic = statistic

    def _forecast(self, y: np.ndarray) -> np.ndarray:
        return np.full(self.horizon, getattr(np, self.statistic)(self._future(y)))


class RowCount(_Leaky):
    """Forecasts the last value plus the number of rows after the cutoff: reads only the future's shape."""

    def _forecast(self, y: np.ndarray) -> np.ndarray:
        return np.full(self.horizon, y[-1] + (len(self._frame()) - len(y)))


class LastTimestamp(_Leaky):
    """Forecasts the last value plus the frame's last timestamp in days: reads only the future's timestamps."""

    def _forecast(self, y: np.ndarray) -> np.ndarray:
        days = (pd.Timestamp(self._frame()["ds"].max()) - pd.Timestamp("1900-01-01")).days
        return np.full(self.horizon, y[-1] + days)


FRAMES: dict[str, pd.DataFrame] = {}


@functools.lru_cache(maxsize=128)
def future_mean(name: str, cutoff: int) -> float:
    """A memoised feature: the mean after position ``cutoff`` of the frame registered as ``name``."""
    return float(FRAMES[name]["y"].iloc[cutoff:].mean())


class LruCachePeeker(_Leaky):
    """Reads the future's mean through ``functools.lru_cache`` keyed by the cutoff."""

    def _forecast(self, y: np.ndarray) -> np.ndarray:
        FRAMES["data"] = self._frame()
        return np.full(self.horizon, future_mean("data", len(y)))


FEATURES: dict[int, float] = {}


class FeatureCachePeeker(_Leaky):
    """Reads the future's mean through a module-level feature cache keyed by the cutoff."""

    def _forecast(self, y: np.ndarray) -> np.ndarray:
        if len(y) not in FEATURES:
            FEATURES[len(y)] = float(self._future(y).mean())
        return np.full(self.horizon, FEATURES[len(y)])


class ExitWhenReshaped(_Leaky):
    """Forecasts the last value, but ends its process at once when the full data have changed shape."""

    def __init__(self, horizon: int = 1, data: pd.DataFrame | None = None, column: str = "y", rows: int = 0) -> None:
        super().__init__(horizon, data, column)
        self.rows = rows

    def _forecast(self, y: np.ndarray) -> np.ndarray:
        if len(self._frame()) != self.rows:
            os._exit(1)
        return np.repeat(y[-1], self.horizon)


class PeekThenFail(_Leaky):
    """Forecasts the last value, but raises when the full data have changed shape (inside the audit)."""

    def __init__(self, horizon: int = 1, data: pd.DataFrame | None = None, column: str = "y", rows: int = 0) -> None:
        super().__init__(horizon, data, column)
        self.rows = rows

    def _forecast(self, y: np.ndarray) -> np.ndarray:
        if len(self._frame()) != self.rows:
            raise RuntimeError(f"boom: the frame has {len(self._frame())} rows")
        return np.repeat(y[-1], self.horizon)


class PeekFirstCalls(_Leaky):
    """Peeks at the next values on its first ``calls`` forecasts only, then forecasts honestly (the last value)."""

    def __init__(self, horizon: int = 1, data: pd.DataFrame | None = None, calls: int = 3) -> None:
        super().__init__(horizon, data)
        self.calls = calls

    def _forecast(self, y: np.ndarray) -> np.ndarray:
        self.calls -= 1
        if self.calls >= 0:
            return self._future(y)[: self.horizon]
        return np.repeat(y[-1], self.horizon)


class ColumnPeeker(LocalForecaster):
    """Holds the target column of the caller's frame (``df["y"]``, or an array viewing it), not the frame, and reads
    past the history."""

    def __init__(self, horizon: int = 1, column: pd.Series | np.ndarray | None = None) -> None:
        self.horizon = horizon
        self.column = column

    def _forecast(self, y: np.ndarray) -> np.ndarray:
        assert self.column is not None
        return np.full(self.horizon, float(np.asarray(self.column)[len(y) :].mean()))


class Unseeded(LocalForecaster):
    """Honest, but adds unseeded noise: its forecasts differ from run to run."""

    def __init__(self, horizon: int = 1) -> None:
        self.horizon = horizon

    def _forecast(self, y: np.ndarray) -> np.ndarray:
        return np.repeat(y[-1], self.horizon) + np.random.default_rng().normal(size=self.horizon)
