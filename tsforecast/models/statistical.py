"""The statistical baselines ETS and Theta, and what they and ARIMA share.

The models are robust rather than clever. Each tries a short, documented chain of specifications
from the richest to the simplest and keeps the first one that fits and gives a *plausible*
forecast (:func:`_plausible`); the last link of every chain is the seasonal naive forecast (naive
when there is no usable season, :func:`_last_resort`), which cannot fail. ETS is estimated by
:mod:`tsforecast.models.smoothing` (every series of a panel at once) and keeps its parameters from
``fit`` to ``predict``; Theta and ARIMA are statsmodels fits, run inside :func:`_fitting` (warnings
silenced locally and one BLAS/OpenMP thread). ARIMA lives in :mod:`tsforecast.models.arima`; the
registry of every baseline in :mod:`tsforecast.models.baselines`.
"""

from __future__ import annotations

import contextlib
import logging
import statistics
import warnings
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from numbers import Integral
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from .._validation import NONE, Interval, Options
from ..columns import ID, TARGET, TIME
from ..errors import DataError
from .batch import Fit, FitResult, Histories
from .forecaster import Forecaster, LocalForecaster
from .smoothing import SeasonKind, Smoothing, Spec, estimate_chains, smoothing_paths, smoothing_states

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

_LAST_RESORTS = ("seasonal naive", "naive")
"""The names (``Smoothing.spec``) of the last link of the ETS chain."""

_SMOOTHED, _CONSTANT, _RESORT = 0, 1, 2  # what a forecast of :meth:`ETS._checked` is


class ETS(Forecaster):
    r"""Exponential smoothing (Holt-Winters) with a damped trend; ``predict`` applies the parameters ``fit`` estimated.

    Parameters
    ----------
    horizon : int, default=1
        Number of future steps to forecast (>= 1).
    season : int, optional
        Seasonal period ``m`` in steps; 1 fits no seasonal component. ``None`` (the default): the
        season of the data it is fitted on, as the name ``"ets"`` takes it (``season_``).
    damped : bool, default=True
        Damp the additive trend (``phi`` estimated), so that long-horizon forecasts level off.
        ``False`` keeps a linear (Holt) trend.

    Attributes
    ----------
    params_ : dict
        Set by ``fit``: per series id, its first timestamp and its parameters
        (:class:`~tsforecast.models.smoothing.Smoothing`).

    Notes
    -----
    The model is statsmodels' ``ExponentialSmoothing`` with additive errors, estimated and run
    by :mod:`tsforecast.models.smoothing` (no statsmodels call). With the damped additive trend and
    a multiplicative season the ``h``-step forecast is

    .. math:: \hat y_{T+h} = (\ell_T + (\phi + \dots + \phi^h) b_T) \, s_{T+h-m(k+1)},
              \qquad k = \lfloor (h - 1) / m \rfloor.

    *What is estimated, and how.* Per series, the smoothing parameters ``alpha``, ``beta``,
    ``gamma``, the damping ``phi`` and the initial states (level, trend and ``m`` seasonal
    indices), by least squares on the one-step-ahead errors (what statsmodels minimises), within
    statsmodels' bounds ``0 <= beta <= alpha <= 1``, ``0 <= gamma <= 1 - alpha``,
    ``0.8 <= phi <= 0.995``: from statsmodels' initial states (its heuristic from ``10 + 2⌊m/2⌋``
    points on, its simple one before) and the best point of a coarse grid of the smoothing
    parameters at ``phi = 0.99`` (statsmodels' kind of start), Levenberg-Marquardt over the
    smoothing parameters and the initial states, at most 60 steps
    (:func:`~tsforecast.models.smoothing.estimate_smoothing`). Every series of a panel is estimated
    in one vectorised computation, and a series' parameters are bit-identical whether it is
    estimated alone or inside any panel.

    *Specification.* For a history of length ``T`` with minimum ``lo``:

    - season: multiplicative when ``m > 1``, ``T >= 2m`` and ``lo > 0``; additive when ``m > 1``,
      ``T >= 2m`` and the series touches or crosses zero; none otherwise;
    - trend: additive, damped when ``damped=True``.

    A specification is tried only when ``T > k + 4``, where ``k`` counts its parameters and initial
    states as R's ``forecast::ets`` does (2 for level, +2 for a trend, +1 for damping, +``m`` for a
    season): simple exponential smoothing needs 7 points, a damped trend 10, a damped trend with a
    monthly season 24.

    *Fallback chain.* The first specification whose estimate is finite and whose forecast from the
    history's last value is plausible (finite, within the history's range widened by
    ``horizon + 1`` ranges) is used:

    1. trend and season;
    2. season only;
    3. trend only;
    4. simple exponential smoothing (level only);
    5. the last resort, :class:`SeasonalNaive` (when ``T >= m > 1``), else :class:`Naive`.

    A constant history has nothing to estimate: it gets the last resort and is forecast as that
    constant. ``min_length()`` is 3: shorter series are refused, and series too short for any
    smoothing specification get the last resort.

    *Held parameters.* ``fit`` estimates every series' parameters and keeps them, with the
    series' first timestamp, in ``params_``. ``predict(y_new)`` applies them to a series of
    ``y_new`` with the same id and the same first timestamp: the states are run forward over its
    new history with the held parameters; nothing is re-estimated. Only a series the model was not
    fitted on, or whose history starts at another timestamp, is estimated, on the history given.
    Each forecast is checked as at ``fit``: a constant history is forecast as its constant, and a
    forecast that is not plausible is replaced by the last resort of that history.

    *Native intervals* (``interval_method="native"``): equal-tailed quantiles of 1,000 paths
    simulated from the history's last state by the fitted model's own recursion, with Gaussian
    additive errors of standard deviation ``sqrt(SSE / max(T - k, 1))`` (``SSE`` the squared one-step
    errors, ``k = 2 + 2·trend + (m + 1)·season + damped`` as statsmodels counts), drawn from a
    fixed seed, the same draws for every series, so the same history gives the same band. This is
    statsmodels' ``simulate(error="add")``, except that statsmodels moves the trend by
    ``smoothing_trend`` times the error where its own fit (and this model) moves it by
    ``smoothing_level · smoothing_trend`` times the error. Where the forecast is the last resort,
    its normal bands (:class:`SeasonalNaive`'s); a constant history gets a flat band.

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

    per_series: ClassVar[bool] = True
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "horizon": [_POSITIVE_INT],
        "season": [_POSITIVE_INT, NONE],
        "damped": [Options((True, False))],
    }

    def __init__(self, horizon: int = 1, season: int | None = None, damped: bool = True) -> None:
        self.horizon = horizon
        self.season = season
        self.damped = damped

    def min_length(self) -> int:
        """Three observations; the fallback chain covers series too short for smoothing."""
        return 3

    def calibration_length(self) -> int:
        """The fewest observations for the first model of the fallback chain (damped trend and the season, if any)."""
        m = self._season()
        full = Spec(True, bool(self.damped), "mul" if m > 1 else "none")
        return max(2 * m if m > 1 else 3, full.n_params(m) + 5)

    # ------------------------------------------------------------------------------ hooks ---- #

    def _fit(self, frame: pd.DataFrame) -> None:
        ids, starts, histories = self._histories(frame)
        self.params_ = {uid: (start, p) for uid, start, p in zip(ids, starts, self._estimate(histories), strict=True)}

    def _predict(self, frame: pd.DataFrame) -> np.ndarray:
        ids, starts, histories = self._histories(frame)
        last = [np.array([len(y) - 1]) for y in histories]
        return np.concatenate(self._forecast_histories(histories, self._held(ids, starts, histories), last))

    def _native_intervals(self, frame: pd.DataFrame, levels: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
        ids, starts, histories = self._histories(frame)
        params = self._held(ids, starts, histories)
        horizon, m = int(self.horizon), self._season()
        kinds = np.concatenate(self._checked(histories, params, [np.array([len(y) - 1]) for y in histories])[1])
        lo = np.empty((len(levels), len(histories), horizon))
        hi = np.empty_like(lo)
        for i in np.flatnonzero(kinds == _CONSTANT):
            lo[:, i], hi[:, i] = histories[i][0], histories[i][0]
        for i in np.flatnonzero(kinds == _RESORT):
            lo[:, i], hi[:, i] = _last_resort_bands(histories[i], horizon, m, levels)
        smoothed = np.flatnonzero(kinds == _SMOOTHED)
        if len(smoothed):
            chosen, fitted = [histories[i] for i in smoothed], [params[i] for i in smoothed]
            errors = np.split(smoothing_states(chosen, fitted, 1).errors, np.cumsum([len(y) for y in chosen])[:-1])
            sigma = np.array(
                [
                    np.sqrt(np.sum(e**2) / max(len(e) - _simulated_params(p, m), 1))  # NOTE: held on a short history
                    for e, p in zip(errors, fitted, strict=True)
                ]
            )
            shocks = np.random.default_rng(0).standard_normal((horizon, _N_PATHS))  # every series: the same draws
            for i, paths in zip(smoothed, smoothing_paths(chosen, fitted, shocks, sigma), strict=True):
                lo[:, i], hi[:, i] = _path_bands(paths, levels)
        return lo, hi

    def fit_forecast(
        self, data: Histories, fits: Sequence[Fit], *, native: tuple[float, ...] | None = None
    ) -> list[FitResult]:
        """Every fit's parameters in one :meth:`_estimate` call, every forecast in one :meth:`_forecast_histories` call.

        What ``fit`` then ``predict(history)`` computes (a property test checks it): a request whose
        history starts where a fitted series' rows start is forecast with that series' held
        parameters; any other is estimated on its own history. With ``native`` bands, the default
        :meth:`Forecaster.fit_forecast` runs.
        """
        if native is not None:
            return Forecaster.fit_forecast(self, data, fits, native=native)
        self._validate_params()
        values = data.values
        ends = np.concatenate([np.r_[fit.end, fit.request_end] for fit in fits]) if fits else np.zeros(0, int)
        firsts = np.concatenate([np.r_[fit.first, fit.request_first] for fit in fits]) if fits else ends
        if len(ends) and (ends - firsts).min() < self.min_length():
            shortest = int(np.argmin(ends - firsts))
            raise DataError(
                f"Series {data.frame[ID].iloc[ends[shortest] - 1]!r} has {ends[shortest] - firsts[shortest]} "
                f"observations; {type(self).__name__} needs at least {self.min_length()}. Provide a longer history "
                "or choose a simpler model."
            )
        fitted = [values[a:b] for fit in fits for a, b in zip(fit.first, fit.end, strict=True)]
        estimates = iter(self._estimate(fitted))
        held = [dict(zip(fit.first.tolist(), (next(estimates) for _ in fit.first), strict=True)) for fit in fits]
        own = [
            values[a:b]
            for fit, known in zip(fits, held, strict=True)
            for a, b in zip(fit.request_first, fit.request_end, strict=True)
            if a not in known
        ]
        estimated = iter(self._estimate(own))
        histories: list[np.ndarray] = []
        params: list[Smoothing] = []
        rows: list[np.ndarray] = []
        where: list[tuple[int, list[int]]] = []
        for k, (fit, known) in enumerate(zip(fits, held, strict=True)):
            groups: dict[int, list[int]] = {}
            for j, (a, b) in enumerate(zip(fit.request_first.tolist(), fit.request_end.tolist(), strict=True)):
                if a in known:
                    groups.setdefault(a, []).append(j)  # NOTE: every origin of a held series read off one history
                else:
                    histories.append(values[a:b])
                    params.append(next(estimated))
                    rows.append(np.array([b - a - 1]))
                    where.append((k, [j]))
            for a, asked in groups.items():
                stop = int(fit.request_end[asked].max())
                histories.append(values[a:stop])
                params.append(known[a])
                rows.append(fit.request_end[asked] - a - 1)
                where.append((k, asked))
        forecasts = [np.full((fit.n_requests, int(self.horizon)), np.nan) for fit in fits]
        for (k, asked), made in zip(where, self._forecast_histories(histories, params, rows), strict=True):
            forecasts[k][asked] = made
        return [FitResult(f) for f in forecasts]

    # ------------------------------------------------- the vectorised core, shared with backtests ---- #

    def _estimate(self, histories: list[np.ndarray]) -> list[Smoothing]:
        """Each history's parameters along the fallback chain (class Notes), all histories in one vectorised pass.

        A constant history, or one for which no specification of the chain is kept, gets the last
        resort (``spec`` ``"seasonal naive"``, or ``"naive"`` when ``season`` is 1).
        """
        horizon, m = int(self.horizon), self._season()

        def plausible(spec: Spec, members: list[int], estimates: list[Smoothing | None]) -> np.ndarray:
            finite = [k for k, p in enumerate(estimates) if p is not None]
            kept = np.zeros(len(members), dtype=bool)
            if finite:
                chosen = [histories[members[k]] for k in finite]
                states = smoothing_states(chosen, [estimates[k] for k in finite], horizon)  # type: ignore[misc]
                for k, y, forecast in zip(finite, chosen, states.forecasts(states.ends - 1), strict=True):
                    kept[k] = _plausible(forecast, y, horizon)
            for k, i in enumerate(members):
                what = (
                    "used" if kept[k] else "is not finite" if estimates[k] is None else "gave an implausible forecast"
                )
                logger.debug("ETS on %d points: ETS(%s) %s", len(histories[i]), spec, what)
            return kept

        chains = [[] if _constant(y) else self._specs(y) for y in histories]
        found = estimate_chains(histories, chains, m, plausible)
        for y, chain, p in zip(histories, chains, found, strict=True):
            if p is None and chain:
                logger.debug("ETS on %d points: every specification failed; seasonal naive / naive used", len(y))
        return [p if p is not None else _resort(y, m) for y, p in zip(histories, found, strict=True)]

    def _forecast_histories(
        self, histories: list[np.ndarray], params: list[Smoothing], ends: list[np.ndarray]
    ) -> list[np.ndarray]:
        """Per history ``i``, the ``(len(ends[i]), horizon)`` forecasts made from each of its rows ``ends[i]``.

        A forecast from row ``t`` (0-based) reads the history's rows up to ``t`` only and is checked
        as ``predict`` checks it: a constant history up to ``t`` gives that constant, a last-resort
        ``params[i]`` or an implausible forecast the last resort of the history up to ``t``.

        Raises
        ------
        ValueError
            If ``histories``, ``params`` and ``ends`` differ in length, or a row is outside its history.
        """
        return self._checked(histories, params, ends)[0]

    def _checked(
        self, histories: list[np.ndarray], params: list[Smoothing], ends: list[np.ndarray]
    ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """:meth:`_forecast_histories`, and what each forecast is (smoothed, constant or the last resort)."""
        if not len(histories) == len(params) == len(ends):
            raise ValueError(
                f"{len(histories)} histories, {len(params)} parameter sets and {len(ends)} row arrays: pass one of "
                "each per history."
            )
        horizon, m = int(self.horizon), self._season()
        lengths = np.array([len(y) for y in histories], dtype="int64")
        rows = [np.asarray(e, dtype="int64").reshape(-1) for e in ends]
        for i, (r, n) in enumerate(zip(rows, lengths, strict=True)):
            if len(r) and (r.min() < 0 or r.max() >= n):
                raise ValueError(
                    f"History {i} has {n} rows (0 to {n - 1}); a forecast row {r.min()} or {r.max()} is outside it."
                )
        if not len(histories):
            return [], []
        values = np.concatenate(histories)
        first = np.cumsum(lengths) - lengths
        origin = np.concatenate([f + r for f, r in zip(first, rows, strict=True)])  # rows of ``values``
        owner = np.repeat(np.arange(len(histories)), [len(r) for r in rows])
        low = np.concatenate([np.minimum.accumulate(y) for y in histories])[origin]
        high = np.concatenate([np.maximum.accumulate(y) for y in histories])[origin]
        forecasts = smoothing_states(histories, params, horizon).forecasts(origin)
        slack = (horizon + 1) * (high - low)  # NOTE: _plausible's test, row by row
        plausible = (
            np.isfinite(forecasts).all(axis=1)
            & (forecasts.min(axis=1) >= low - slack)
            & (forecasts.max(axis=1) <= high + slack)
        )
        resort = np.array([p.spec in _LAST_RESORTS for p in params], dtype=bool)[owner] | ~plausible
        count = origin - first[owner] + 1  # the values up to each origin
        period = np.where((m > 1) & (m <= count), m, 1)  # _last_resort's season
        steps = np.arange(horizon)[None, :]
        resorted = values[(origin + 1 - period)[:, None] + steps % period[:, None]]
        constant = low == high
        kinds = np.where(constant, _CONSTANT, np.where(resort, _RESORT, _SMOOTHED))
        forecasts = np.where((kinds == _RESORT)[:, None], resorted, forecasts)
        forecasts = np.where(constant[:, None], values[origin][:, None], forecasts)
        splits = np.cumsum([len(r) for r in rows])[:-1]
        return np.split(forecasts, splits), np.split(kinds, splits)

    # ------------------------------------------------------------------------------ helpers ---- #

    def _histories(self, frame: pd.DataFrame) -> tuple[list[Any], list[Any], list[np.ndarray]]:
        """The ids (sorted), first timestamps and histories of ``frame``'s series, after checking their lengths."""
        codes, ids = pd.factorize(frame[ID], sort=True)
        order = np.argsort(codes, kind="stable")  # series by series, each in time order
        lengths = np.bincount(codes, minlength=len(ids))
        short = np.flatnonzero(lengths < self.min_length())
        if len(short):
            raise DataError(
                f"Series {ids[short[0]]!r} has {lengths[short[0]]} observations; {type(self).__name__} needs at least "
                f"{self.min_length()}. Provide a longer history or choose a simpler model."
            )
        firsts = np.cumsum(lengths) - lengths
        values = frame[TARGET].to_numpy(dtype="float64")[order]
        starts = frame[TIME].to_numpy()[order][firsts]
        return (
            list(ids),
            [pd.Timestamp(s) if isinstance(s, np.datetime64) else s for s in starts.tolist()],
            np.split(values, firsts[1:]),
        )

    def _held(self, ids: list[Any], starts: list[Any], histories: list[np.ndarray]) -> list[Smoothing]:
        """Each series' held parameters (same id and first timestamp as at ``fit``), the others estimated now."""
        held: list[Smoothing | None] = []
        for uid, start in zip(ids, starts, strict=True):
            stored = self.params_.get(uid)
            held.append(stored[1] if stored is not None and stored[0] == start else None)
        missing = [y for y, p in zip(histories, held, strict=True) if p is None]
        estimated = iter(self._estimate(missing) if missing else [])
        return [p if p is not None else next(estimated) for p in held]

    def _specs(self, y: np.ndarray) -> list[Spec]:
        """The fallback chain of one history (class Notes), without the last resort."""
        m, n = self._season(), len(y)
        damped = bool(self.damped)
        season: SeasonKind = "none"
        if m > 1 and n >= 2 * m:
            season = "mul" if y.min() > 0 else "add"
        chain = [Spec(True, damped, season), Spec(False, False, season), Spec(True, damped), Spec(False, False)]
        return [spec for spec in dict.fromkeys(chain) if n > spec.n_params(m) + 4]


def _resort(y: np.ndarray, season: int) -> Smoothing:
    """The last resort of ETS as parameters: seasonal naive (``γ = 1``) or, without a season, naive (``α = 1``).

    ETS computes that forecast directly (:func:`_last_resort`); run through the recursion, these
    numbers give it from the first whole season on.
    """
    if season > 1:
        return Smoothing(0.0, 0.0, 1.0, 1.0, 0.0, 0.0, (0.0,) * season, "seasonal naive")
    return Smoothing(1.0, 0.0, 0.0, 1.0, float(y[0]), 0.0, (0.0,), "naive")


def _simulated_params(p: Smoothing, season: int) -> int:
    """statsmodels' count of a fitted model's parameters in ``simulate``: ``2 + 2·trend + (m + 1)·season + damped``."""
    spec = Spec.named(p.spec)
    assert spec is not None  # only estimated models are simulated
    return 2 + 2 * spec.trend + (season + 1) * spec.seasonal + int(spec.damped)


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
    season : int, optional
        Seasonal period ``m`` in steps; 1 does no seasonal adjustment. ``None`` (the default): the
        season of the data it is fitted on, as the name ``"theta"`` takes it (``season_``).

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

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "horizon": [_POSITIVE_INT],
        "season": [_POSITIVE_INT, NONE],
    }

    def __init__(self, horizon: int = 1, season: int | None = None) -> None:
        self.horizon = horizon
        self.season = season

    def min_length(self) -> int:
        """Three observations."""
        return 3

    def calibration_length(self) -> int:
        """Two seasons, from which the Theta model is deseasonalised (three observations without a season)."""
        m = self._season()
        return 2 * m if m > 1 else 3

    def _fit_theta(self, y: np.ndarray, deseasonalize: bool) -> np.ndarray:
        return np.asarray(self._theta_result(y, deseasonalize).forecast(self.horizon, theta=2.0), dtype="float64")

    def _theta_result(self, y: np.ndarray, deseasonalize: bool) -> Any:
        from statsmodels.tsa.forecasting.theta import ThetaModel

        model = ThetaModel(
            y,
            period=self._season() if deseasonalize else None,
            deseasonalize=deseasonalize,
            use_test=True,
            method="auto",
        )
        return model.fit()

    def _forecast_quietly(self, y: np.ndarray) -> np.ndarray:
        m, horizon = self._season(), int(self.horizon)
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
        m, horizon = self._season(), int(self.horizon)
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
