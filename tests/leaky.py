"""A deliberately leaky model, for the tests that prove the leakage audit catches one."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tsforecast.models import LocalForecaster


class Peeker(LocalForecaster):
    """Leaky on purpose: it kept a reference to the full data and reads ``column`` after the history."""

    def __init__(self, horizon: int = 1, data: pd.DataFrame | None = None, column: str = "y") -> None:
        self.horizon = horizon
        self.data = data
        self.column = column

    def _forecast(self, y: np.ndarray) -> np.ndarray:
        assert self.data is not None
        return self.data[self.column].to_numpy(dtype="float64")[len(y) : len(y) + self.horizon]
