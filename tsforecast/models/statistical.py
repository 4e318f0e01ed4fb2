"""The statsmodels baselines ETS and Theta, and what every statsmodels wrapper shares.

The wrappers are robust rather than clever. Each tries a short, documented chain of specifications
from the richest to the simplest and keeps the first one that fits and gives a *plausible*
forecast (:func:`_plausible`); the last link of every chain is the seasonal naive forecast (naive
when there is no usable season, :func:`_last_resort`), which cannot fail. Fits run inside
:func:`_fitting`: warnings silenced locally and one BLAS/OpenMP thread. ARIMA lives in
:mod:`tsforecast.models.arima`; the registry of every baseline in :mod:`tsforecast.models.baselines`.
"""

from __future__ import annotations

import contextlib
import logging
import statistics
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from numbers import Integral
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from threadpoolctl import threadpool_limits

from .._validation import Interval, Options
from .forecaster import LocalForecaster

if TYPE_CHECKING:
    pass

__all__ = ["ETS", "Theta"]

logger = logging.getLogger("tsforecast.models.baselines")  # one logger for every baseline

_POSITIVE_INT = Interval(Integral, 1, None, closed="left")
# --------------------------------------------------------------------------------------------- #
# helpers shared by the models: pure functions of their arguments                              #
# --------------------------------------------------------------------------------------------- #


def _seasonal_naive(y: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """``y[T - season + (h - 1) % season]`` for ``h = 1 .. horizon`` (0-based ``y`` of length T)."""
    steps = np.arange(horizon)
    return y[len(y) - season + steps % season].astype("float64", copy=True)


def _last_resort(y: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """Seasonal naive when a whole season is available, naive otherwise."""
    return _seasonal_naive(y, horizon, season if 1 < season <= len(y) else 1)


@contextlib.contextmanager
def _fitting() -> Iterator[None]:
    """Scope of one series' statsmodels work: warnings silenced, one BLAS/OpenMP thread.

    Both settings are restored on exit; the global warning filters are never modified.
    """
    # NOTE: the matrices of these fits are tiny (a Kalman filter with a state of a few dozen), so
    # BLAS threads only add synchronisation; on a busy 2-core machine a multi-threaded OpenBLAS made
    # the ARIMA search 5x slower (2.5 s against 0.5 s wall for 144 points). One thread is also the
    # same arithmetic on every machine.
    # NOTE: statsmodels adds "always" warning filters for its own warning classes when its modules are
    # first imported; importing them inside catch_warnings would put those filters in front of ours
    # (and leak warnings on the first fit of a fresh process), so the imports come first.
    import statsmodels.tsa.forecasting.theta
    import statsmodels.tsa.holtwinters
    import statsmodels.tsa.seasonal
    import statsmodels.tsa.statespace.sarimax
    import statsmodels.tsa.stattools  # noqa: F401

    with warnings.catch_warnings(), np.errstate(all="ignore"), threadpool_limits(limits=1):
        warnings.simplefilter("ignore")
        yield


def _plausible(forecast: np.ndarray, y: np.ndarray, horizon: int) -> bool:
    """Finite, of length ``horizon``, and within the history's range widened by (horizon + 1) ranges."""
    if forecast.shape != (horizon,) or not np.isfinite(forecast).all():
        return False
    lo, hi = float(y.min()), float(y.max())
    slack = (horizon + 1) * (hi - lo)
    return bool(forecast.min() >= lo - slack and forecast.max() <= hi + slack)


def _constant(y: np.ndarray) -> bool:
    return bool(y.min() == y.max())


# Simulated sample paths behind the native ETS and ARIMA intervals (seeded: the same history gives the same band).
_N_PATHS = 1000


def _path_bands(paths: np.ndarray, levels: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Equal-tailed quantiles of simulated ``paths`` ``(horizon, n_paths)``: bands ``(n_levels, horizon)``."""
    tails = np.array([(100.0 - level) / 200.0 for level in levels])
    return np.quantile(paths, tails, axis=1), np.quantile(paths, 1.0 - tails, axis=1)


def _last_resort_bands(
    y: np.ndarray, horizon: int, season: int, levels: tuple[float, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """Normal bands of the seasonal-naive (or naive) fallback: ``sigma · sqrt(k + 1)`` at step ``h``.

    ``sigma`` is the in-sample RMSE of the fallback and ``k = floor((h - 1) / m)`` the number of
    whole seasons before step ``h`` (Hyndman & Athanasopoulos, *Forecasting: Principles and
    Practice*, section 5.5); a history of one season or less gives a zero-width band.
    """
    m = season if 1 < season <= len(y) else 1
    forecast = _seasonal_naive(y, horizon, m)
    errors = y[m:] - y[:-m]
    sigma = float(np.sqrt(np.mean(errors**2))) if len(errors) else 0.0
    spread = sigma * np.sqrt(np.arange(horizon) // m + 1.0)
    z = np.array([statistics.NormalDist().inv_cdf(0.5 + level / 200.0) for level in levels])[:, None]
    return forecast - z * spread, forecast + z * spread


class _StatisticalForecaster(LocalForecaster):
    """A statsmodels-backed model (ETS, ARIMA, Theta): a constant series forecasts itself; any other
    is fitted by ``_forecast_quietly`` with warnings silenced and one BLAS thread (:func:`_fitting`),
    falling back along its own chain of simpler models."""

    def _forecast(self, y: np.ndarray) -> np.ndarray:
        with _fitting():
            if _constant(y):
                return np.full(int(self.horizon), y[0], dtype="float64")
            return self._forecast_quietly(y)

    def _forecast_quietly(self, y: np.ndarray) -> np.ndarray:
        raise NotImplementedError


# --------------------------------------------------------------------------------------------- #
# ETS                                                                                            #
# --------------------------------------------------------------------------------------------- #


@dataclass(frozen=True)
class _EtsSpec:
    trend: bool
    damped: bool
    seasonal: str | None  # "mul", "add" or None

    def n_params(self, season: int) -> int:
        """Smoothing parameters plus initial states, counted as R's forecast::ets counts them."""
        n = 2  # alpha, level
        if self.trend:
            n += 2 + int(self.damped)  # beta, slope (, phi)
        if self.seasonal:
            n += season  # gamma and season - 1 free seasonal states
        return n

    def __str__(self) -> str:
        trend = ("damped additive" if self.damped else "additive") + " trend" if self.trend else "no trend"
        season = (
            f"{'multiplicative' if self.seasonal == 'mul' else 'additive'} season" if self.seasonal else "no season"
        )
        return f"ETS({trend}, {season})"


class ETS(_StatisticalForecaster):
    r"""Exponential smoothing (Holt-Winters) with a damped trend, fitted by statsmodels.

    Parameters
    ----------
    horizon : int, default=1
        Number of future steps to forecast (>= 1).
    season : int, default=1
        Seasonal period ``m`` in steps; 1 fits no seasonal component.
    damped : bool, default=True
        Damp the additive trend (``phi`` estimated), so that long-horizon forecasts level off.
        ``False`` keeps a linear (Holt) trend.

    Notes
    -----
    Uses :class:`statsmodels.tsa.holtwinters.ExponentialSmoothing` with estimated initial states
    and smoothing parameters. With the damped additive trend and a multiplicative season the
    ``h``-step forecast is

    .. math:: \hat y_{T+h} = (\ell_T + (\phi + \dots + \phi^h) b_T) \, s_{T+h-m(k+1)},
              \qquad k = \lfloor (h - 1) / m \rfloor.

    *Specification.* For a history of length ``T`` with minimum ``lo``:

    - season: multiplicative when ``m > 1``, ``T >= 2m`` and ``lo > 0``; additive when ``m > 1``,
      ``T >= 2m`` and the series touches or crosses zero; none otherwise;
    - trend: additive, damped when ``damped=True``.

    A specification is tried only when ``T > k + 4``, where ``k`` counts its parameters and initial
    states as R's ``forecast::ets`` does (2 for level, +2 for a trend, +1 for damping, +``m`` for a
    season): simple exponential smoothing needs 7 points, a damped trend 10, a damped trend with a
    monthly season 24.

    *Fallback chain.* The first specification that fits and gives a plausible forecast (finite,
    within the history's range widened by ``horizon + 1`` ranges) is used:

    1. trend and season;
    2. season only;
    3. trend only;
    4. simple exponential smoothing (level only);
    5. :class:`SeasonalNaive` (when ``T >= m > 1``), else :class:`Naive`.

    A constant history is forecast as that constant. ``min_length()`` is 3: shorter series are
    refused, and series too short for any smoothing specification get the step-5 forecast.
    Convergence warnings are silenced locally and do not trigger a fallback (the estimates are
    still used, as R does).

    Examples
    --------
    >>> import numpy as np
    >>> y = 10.0 + np.tile([1.0, 3.0, 2.0, 5.0], 6) + 0.1 * np.arange(24)
    >>> forecast = ETS(horizon=4, season=4).fit(y).predict()
    >>> forecast.shape, bool(np.isfinite(forecast).all())
    ((4,), True)
    >>> ETS(horizon=2).fit(np.full(5, 7.0)).predict()
    array([7., 7.])
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "horizon": [_POSITIVE_INT],
        "season": [_POSITIVE_INT],
        "damped": [Options((True, False))],
    }

    def __init__(self, horizon: int = 1, season: int = 1, damped: bool = True) -> None:
        self.horizon = horizon
        self.season = season
        self.damped = damped

    def min_length(self) -> int:
        """Three observations; the fallback chain covers series too short for smoothing."""
        return 3

    def _specs(self, y: np.ndarray) -> list[_EtsSpec]:
        m, n = int(self.season), len(y)
        damped = bool(self.damped)
        seasonal: str | None = None
        if m > 1 and n >= 2 * m:
            seasonal = "mul" if y.min() > 0 else "add"
        chain = [
            _EtsSpec(True, damped, seasonal),
            _EtsSpec(False, False, seasonal),
            _EtsSpec(True, damped, None),
            _EtsSpec(False, False, None),
        ]
        unique = list(dict.fromkeys(chain))
        return [spec for spec in unique if n > spec.n_params(m) + 4]

    def _fit_spec(self, y: np.ndarray, spec: _EtsSpec) -> np.ndarray:
        return np.asarray(self._fit_result(y, spec).forecast(self.horizon), dtype="float64")

    def _fit_result(self, y: np.ndarray, spec: _EtsSpec) -> Any:
        from statsmodels.tsa.holtwinters import ExponentialSmoothing

        model = ExponentialSmoothing(
            y,
            trend="add" if spec.trend else None,
            damped_trend=spec.damped,
            seasonal=spec.seasonal,
            seasonal_periods=int(self.season) if spec.seasonal else None,
            initialization_method="estimated",
        )
        return model.fit()

    def _forecast_quietly(self, y: np.ndarray) -> np.ndarray:
        for spec in self._specs(y):
            forecast = _try(partial(self._fit_spec, y, spec), str(spec))
            if forecast is not None and _plausible(forecast, y, self.horizon):
                logger.debug("ETS on %d points: %s", len(y), spec)
                return forecast
        logger.debug("ETS on %d points: every specification failed; seasonal naive / naive used", len(y))
        return _last_resort(y, self.horizon, int(self.season))

    def _forecast_interval(self, y: np.ndarray, levels: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
        """Native bands: quantiles of 1,000 paths simulated (seeded, Gaussian additive errors) by the
        statsmodels fit the point forecast came from; the fallback's normal bands otherwise."""
        horizon = int(self.horizon)
        with _fitting():
            if _constant(y):
                flat = np.full((len(levels), horizon), y[0], dtype="float64")
                return flat, flat.copy()
            for spec in self._specs(y):
                try:
                    result = self._fit_result(y, spec)
                    forecast = np.asarray(result.forecast(horizon), dtype="float64")
                    if not _plausible(forecast, y, horizon):
                        continue
                    paths = result.simulate(
                        horizon, anchor="end", repetitions=_N_PATHS, error="add", rng=np.random.default_rng(0)
                    )
                except Exception as exc:  # NOTE: as in _try: any statsmodels failure moves the chain on
                    logger.debug("%s failed: %s: %s", spec, type(exc).__name__, exc)
                    continue
                return _path_bands(np.asarray(paths, dtype="float64").reshape(horizon, -1), levels)
        return _last_resort_bands(y, horizon, int(self.season), levels)


def _try(fit: Callable[[], np.ndarray], what: str) -> np.ndarray | None:
    """Run one statsmodels fit; ``None`` when it raises."""
    try:
        return fit()
    # NOTE: statsmodels signals a failed fit with many exception types (ValueError, LinAlgError,
    # IndexError, ZeroDivisionError, ...); any of them means "try the next, simpler model". The
    # tests check that the primary specification is what well-behaved series actually get, so a
    # bug here cannot hide behind the fallback.
    except Exception as exc:
        logger.debug("%s failed: %s: %s", what, type(exc).__name__, exc)
        return None


# --------------------------------------------------------------------------------------------- #
# Theta                                                                                          #
# --------------------------------------------------------------------------------------------- #


class Theta(_StatisticalForecaster):
    r"""The Theta method (Assimakopoulos & Nikolopoulos, 2000), fitted by statsmodels.

    Parameters
    ----------
    horizon : int, default=1
        Number of future steps to forecast (>= 1).
    season : int, default=1
        Seasonal period ``m`` in steps; 1 does no seasonal adjustment.

    Notes
    -----
    Uses :class:`statsmodels.tsa.forecasting.theta.ThetaModel` with ``theta = 2``: simple
    exponential smoothing (:math:`\alpha` estimated) plus half the slope :math:`b_0` of a linear
    trend fitted by OLS (Hyndman & Billah, 2003),

    .. math:: \hat y_{T+h} = \tilde y_{T+h} + \tfrac{1}{2} b_0
              \left(h - 1 + \tfrac{1}{\alpha} - \tfrac{(1 - \alpha)^T}{\alpha}\right),

    on the seasonally adjusted series when there is a season.

    *Seasonal adjustment.* When ``m > 1`` and ``T >= 2m``, statsmodels tests the lag-``m``
    autocorrelation (10% level) and, if it is significant, removes a classical decomposition's
    seasonal indices before fitting and puts them back on the forecast. The decomposition is
    multiplicative when the series is strictly positive and all indices are positive (statsmodels'
    ``method="auto"``), additive otherwise.

    *Fallback chain.* The first plausible forecast (finite, within the history's range widened
    by ``horizon + 1`` ranges) is used:

    1. Theta with seasonal adjustment (only when ``m > 1`` and ``T >= 2m``);
    2. Theta without seasonal adjustment;
    3. :class:`SeasonalNaive` (when ``T >= m > 1``), else :class:`Naive`.

    A constant history is forecast as that constant (statsmodels' estimate is unstable there:
    :math:`\alpha \to 0` divides a zero slope). ``min_length()`` is 3.

    Examples
    --------
    >>> import numpy as np
    >>> forecast = Theta(horizon=3).fit(np.array([1.0, 2.0, 4.0, 3.0, 5.0, 6.0])).predict()
    >>> forecast.shape, bool(np.isfinite(forecast).all())
    ((3,), True)
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {"horizon": [_POSITIVE_INT], "season": [_POSITIVE_INT]}

    def __init__(self, horizon: int = 1, season: int = 1) -> None:
        self.horizon = horizon
        self.season = season

    def min_length(self) -> int:
        """Three observations."""
        return 3

    def _fit_theta(self, y: np.ndarray, deseasonalize: bool) -> np.ndarray:
        return np.asarray(self._theta_result(y, deseasonalize).forecast(self.horizon, theta=2.0), dtype="float64")

    def _theta_result(self, y: np.ndarray, deseasonalize: bool) -> Any:
        from statsmodels.tsa.forecasting.theta import ThetaModel

        model = ThetaModel(
            y,
            period=int(self.season) if deseasonalize else None,
            deseasonalize=deseasonalize,
            use_test=True,
            method="auto",
        )
        return model.fit()

    def _forecast_quietly(self, y: np.ndarray) -> np.ndarray:
        m, horizon = int(self.season), int(self.horizon)
        chain = [True, False] if m > 1 and len(y) >= 2 * m else [False]
        for deseasonalize in chain:
            what = f"Theta({'seasonally adjusted' if deseasonalize else 'no seasonal adjustment'})"
            forecast = _try(partial(self._fit_theta, y, deseasonalize), what)
            if forecast is not None and _plausible(forecast, y, horizon):
                logger.debug("Theta on %d points: %s", len(y), what)
                return forecast
        logger.debug("Theta on %d points: every specification failed; seasonal naive / naive used", len(y))
        return _last_resort(y, horizon, m)

    def _forecast_interval(self, y: np.ndarray, levels: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
        """Native bands: statsmodels' ``ThetaModelResults.prediction_intervals`` (the SES forecast
        variance) of the fit the point forecast came from; the fallback's normal bands otherwise."""
        m, horizon = int(self.season), int(self.horizon)
        with _fitting():
            if _constant(y):
                flat = np.full((len(levels), horizon), y[0], dtype="float64")
                return flat, flat.copy()
            for deseasonalize in [True, False] if m > 1 and len(y) >= 2 * m else [False]:
                try:
                    result = self._theta_result(y, deseasonalize)
                    if not _plausible(np.asarray(result.forecast(horizon, theta=2.0), dtype="float64"), y, horizon):
                        continue
                    frames = [
                        result.prediction_intervals(horizon, theta=2.0, alpha=1 - level / 100) for level in levels
                    ]
                except Exception as exc:  # NOTE: as in _try: any statsmodels failure moves the chain on
                    logger.debug("Theta failed: %s: %s", type(exc).__name__, exc)
                    continue
                lo = np.stack([f["lower"].to_numpy(dtype="float64") for f in frames])
                hi = np.stack([f["upper"].to_numpy(dtype="float64") for f in frames])
                return lo, hi
        return _last_resort_bands(y, horizon, m, levels)
