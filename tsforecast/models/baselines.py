"""Baseline forecasters: naive, seasonal naive, mean, drift, and statsmodels ETS / ARIMA / Theta.

Every baseline is a :class:`~tsforecast.models.forecaster.LocalForecaster`: it is estimated separately
on each series, and its forecast is a pure function of that series' history (the 1-D array handed
to ``_forecast``). Nothing is cached between series or calls and nothing random is drawn, so the
same history always gives a bit-identical forecast, and values after the history's end can never
reach it.

The three statsmodels models are wrapped to be robust rather than clever. Each tries a short,
documented chain of specifications from the richest to the simplest and keeps the first one that
fits and gives a *plausible* forecast; the last link of every chain is :class:`SeasonalNaive`
(or :class:`Naive` when there is no usable season), which cannot fail. A forecast is plausible
when it is finite and stays within the history's range widened by ``horizon + 1`` times that
range on each side; this catches the rare finite-but-absurd output of a degenerate fit. Warnings
raised while fitting (``ConvergenceWarning``, start-parameter and overflow warnings) are silenced
inside ``warnings.catch_warnings()`` only, never through the global filters; numerical trouble
shows up in the forecast and moves the chain on. The fits also run with one BLAS/OpenMP thread
(``threadpoolctl.threadpool_limits``, restored on exit): faster for matrices this small, and the
same arithmetic on every machine. A constant history is forecast as that constant
without fitting anything. The specification each series ended up with is logged at DEBUG level
(logger ``tsforecast.models.baselines``).

Build a baseline by name with :func:`make_baseline`; :data:`BASELINES` maps names to classes.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from .._validation import NONE, check_names
from ..errors import DataTypeError
from .arima import ARIMA
from .forecaster import LocalForecaster
from .statistical import _POSITIVE_INT, ETS, Theta, _last_resort_bands, _seasonal_naive

__all__ = [
    "ARIMA",
    "BASELINES",
    "ETS",
    "Drift",
    "Mean",
    "Naive",
    "SeasonalNaive",
    "Theta",
    "make_baseline",
]

# --------------------------------------------------------------------------------------------- #
# closed-form baselines                                                                          #
# --------------------------------------------------------------------------------------------- #

_GATHERED = 1 << 22
"""Most values :meth:`Mean._forecast_panel` copies at once (32 MiB of float64)."""


def _seasonal_naive_panel(values: np.ndarray, ends: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """:func:`_seasonal_naive` of every history ending (exclusively) at ``ends``: ``(n_series, horizon)``."""
    return values[(ends - season)[:, None] + np.arange(horizon) % season].astype("float64", copy=True)


class _HorizonOnly(LocalForecaster):
    """A baseline whose only parameter is ``horizon``."""

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {"horizon": [_POSITIVE_INT]}

    def __init__(self, horizon: int = 1) -> None:
        self.horizon = horizon


class Naive(_HorizonOnly):
    r"""Naive (random-walk) forecast: the last observed value, repeated.

    Parameters
    ----------
    horizon : int, default=1
        Number of future steps to forecast (>= 1).

    Notes
    -----
    For a history :math:`y_1, \dots, y_T`,

    .. math:: \hat y_{T+h} = y_T, \qquad h = 1, \dots, H.

    Needs one observation.

    Examples
    --------
    >>> import numpy as np
    >>> Naive(horizon=3).fit(np.array([1.0, 2.0, 5.0])).predict()
    array([5., 5., 5.])
    """

    def _forecast(self, y: np.ndarray) -> np.ndarray:
        return _seasonal_naive(y, self.horizon, 1)

    def _forecast_panel(self, values: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        return _seasonal_naive_panel(values, starts + lengths, self.horizon, 1)

    def _forecast_interval(self, y: np.ndarray, levels: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
        """Native bands: normal, ``sigma · sqrt(h)`` at step ``h``, ``sigma`` the naive forecast's in-sample RMSE."""
        return _last_resort_bands(y, int(self.horizon), 1, levels)


class SeasonalNaive(LocalForecaster):
    r"""Seasonal naive forecast: the value one season earlier, the last season repeated.

    Parameters
    ----------
    horizon : int, default=1
        Number of future steps to forecast (>= 1).
    season : int, optional
        Seasonal period ``m`` in steps (12 for monthly data, 4 quarterly, 7 daily); 1 gives
        :class:`Naive`. ``None`` (the default): the season of the data it is fitted on, as the
        name ``"seasonal_naive"`` takes it (:func:`~tsforecast.seasonality.panel_season`).

    Notes
    -----
    With the 0-based history ``y[0], ..., y[T-1]``,

    .. math:: \hat y_{T+h} = y[T - m + (h - 1) \bmod m], \qquad h = 1, \dots, H,

    i.e. the last observed season is repeated as often as the horizon needs. Needs ``season``
    observations.

    Examples
    --------
    >>> import numpy as np
    >>> SeasonalNaive(horizon=3, season=2).fit(np.array([1.0, 2.0, 3.0, 4.0])).predict()
    array([3., 4., 3.])
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "horizon": [_POSITIVE_INT],
        "season": [_POSITIVE_INT, NONE],
    }

    def __init__(self, horizon: int = 1, season: int | None = None) -> None:
        self.horizon = horizon
        self.season = season

    def min_length(self) -> int:
        """One full season of observations."""
        return self._season() if self.season is not None or hasattr(self, "season_") else 1

    def _forecast(self, y: np.ndarray) -> np.ndarray:
        return _seasonal_naive(y, self.horizon, self._season())

    def _forecast_panel(self, values: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        return _seasonal_naive_panel(values, starts + lengths, self.horizon, self._season())

    def _forecast_interval(self, y: np.ndarray, levels: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
        """Native bands: normal, ``sigma · sqrt(k + 1)`` at step ``h``, ``k = floor((h - 1) / m)`` whole seasons
        before it and ``sigma`` the in-sample RMSE of the seasonal naive forecast (Hyndman & Athanasopoulos,
        *Forecasting: Principles and Practice*, section 5.5)."""
        return _last_resort_bands(y, int(self.horizon), self._season(), levels)


class Mean(_HorizonOnly):
    r"""Mean forecast: the average of the whole history, repeated.

    Parameters
    ----------
    horizon : int, default=1
        Number of future steps to forecast (>= 1).

    Notes
    -----
    .. math:: \hat y_{T+h} = \frac{1}{T} \sum_{t=1}^{T} y_t, \qquad h = 1, \dots, H.

    Needs one observation.

    Examples
    --------
    >>> import numpy as np
    >>> Mean(horizon=2).fit(np.array([1.0, 2.0, 6.0])).predict()
    array([3., 3.])
    """

    def _forecast(self, y: np.ndarray) -> np.ndarray:
        return np.full(self.horizon, y.mean(), dtype="float64")

    def _forecast_panel(self, values: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        means = np.empty(len(starts))
        # NOTE: histories of one length are gathered into the rows of a matrix, a bounded number at a time;
        # numpy sums each row as it sums a 1-D history (pairwise), so the means equal y.mean() bit for bit.
        for length in np.unique(lengths):
            same = np.flatnonzero(lengths == length)
            for chunk in np.array_split(same, -(-len(same) * int(length) // _GATHERED)):
                means[chunk] = values[starts[chunk, None] + np.arange(length)].mean(axis=1)
        return np.repeat(means[:, None], self.horizon, axis=1)


class Drift(_HorizonOnly):
    r"""Drift forecast: the line through the first and the last observation, extended.

    Parameters
    ----------
    horizon : int, default=1
        Number of future steps to forecast (>= 1).

    Notes
    -----
    .. math:: \hat y_{T+h} = y_T + h \, \frac{y_T - y_1}{T - 1}, \qquad h = 1, \dots, H,

    the naive forecast plus the average historical change. Needs two observations.

    Examples
    --------
    >>> import numpy as np
    >>> Drift(horizon=3).fit(np.array([1.0, 2.0, 5.0])).predict()
    array([ 7.,  9., 11.])
    """

    def min_length(self) -> int:
        """Two observations (one change)."""
        return 2

    def _forecast(self, y: np.ndarray) -> np.ndarray:
        slope = (y[-1] - y[0]) / (len(y) - 1)
        return y[-1] + slope * np.arange(1, self.horizon + 1, dtype="float64")

    def _forecast_panel(self, values: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        last = values[starts + lengths - 1]
        slope = (last - values[starts]) / (lengths - 1)
        return last[:, None] + slope[:, None] * np.arange(1, self.horizon + 1, dtype="float64")


# --------------------------------------------------------------------------------------------- #
# registry                                                                                       #
# --------------------------------------------------------------------------------------------- #

BASELINES: dict[str, type[LocalForecaster]] = {
    "naive": Naive,
    "seasonal_naive": SeasonalNaive,
    "mean": Mean,
    "drift": Drift,
    "ets": ETS,
    "arima": ARIMA,
    "theta": Theta,
}
"""Baseline forecasters by name, for :func:`make_baseline` and ``backtest(..., baselines=...)``."""


def make_baseline(name: str, *, horizon: int, season: int = 1) -> LocalForecaster:
    """Build the baseline called ``name`` (a key of :data:`BASELINES`).

    Parameters
    ----------
    name : str
        One of ``naive, seasonal_naive, mean, drift, ets, arima, theta``.
    horizon : int
        Number of future steps to forecast.
    season : int, default=1
        Seasonal period, passed only to the baselines that take one (seasonal naive, ETS, ARIMA,
        Theta).

    Returns
    -------
    LocalForecaster
        An unfitted estimator; its parameters are validated when it is fitted.

    Raises
    ------
    DataTypeError
        If ``name`` is not a string.
    DataError
        If ``name`` is not a known baseline; the message suggests the closest name.

    Examples
    --------
    >>> make_baseline("seasonal_naive", horizon=12, season=12)
    SeasonalNaive(horizon=12, season=12)
    >>> make_baseline("naive", horizon=12, season=12)
    Naive(horizon=12)
    """
    if not isinstance(name, str):
        raise DataTypeError(f"A baseline name must be a string, got {type(name).__name__} {name!r}.")
    check_names("baseline", [name], BASELINES)
    cls = BASELINES[name]
    params: dict[str, Any] = {"horizon": horizon}
    if "season" in cls._get_param_names():
        params["season"] = season
    return cls(**params)
