r"""Prediction intervals: split-conformal bands calibrated on forecasts made inside the training data.

Any :class:`~tsforecast.models.Forecaster` answers ``predict(level=(80, 95))`` with the
columns ``y_lo_80, y_hi_80, y_lo_95, y_hi_95`` beside ``y_hat``. By default the bands are
*split-conformal* (Stankeviciute, Alaa & van der Schaar, 2021, "Conformal time-series
forecasting", NeurIPS; the same scheme as statsforecast's ``ConformalIntervals``), calibrated
only on the data the model was fitted on:

1. **Origins.** On the sorted timestamps ``t_0 < ... < t_{G-1}`` of the fitted data and the
   model's horizon ``h``, the calibration origins are the ``N = B · h`` latest positions whose
   whole horizon is still inside the data: ``i = G-1-h, G-2-h, ..., G-h-N``. They form
   ``B = max(n_windows, ceil(20 / h))`` blocks of ``h`` consecutive origins (``n_windows = 10`` by
   default; at least 20 origins, so that a 95% band has enough residuals of its own), fewer when
   the data are short.
2. **Forecasts.** For each block, a :func:`sklearn.base.clone` of the model is fitted on the rows
   up to the block's earliest origin, then forecasts from every origin of the block (its history
   up to that origin, to which the block's fit is applied: a refit every ``h`` origins, as a
   backtest with ``refit=h`` would). A model whose ``calibration_refits`` is ``False``
   (:class:`~tsforecast.SGDForecaster`, whose fit is costly) is fitted once, at the earliest
   block's first origin, and forecasts every origin from that fit. A block is used only while
   some series still has ``max(min_length(), 3)`` points at its earliest origin; series shorter
   than that sit the block out. So calibrating needs at least ``max(min_length(), 3) + 2h - 1``
   timestamps. Every forecast comes from the model's
   :meth:`~tsforecast.models.Forecaster.fit_forecast` (:func:`plan_calibration` says what to ask),
   the one method that also makes a backtest's forecasts.
3. **Scores.** The absolute residuals :math:`r_{s,i,j} = |y_{s,i+j} - \hat y_{s,i+j \mid i}|` per
   series ``s``, origin ``i`` and horizon step ``j``; when every training value, every
   calibration forecast and every forecast to band is positive, the *relative* residuals
   :math:`r_{s,i,j} / \hat y_{s,i+j \mid i}` (a normalised nonconformity score: the band then
   scales with the forecast, as the errors of a growing positive series do).
4. **Quantiles.** Each horizon step ``j``'s sample is its residuals joined by those of steps
   ``j-1`` and ``j+1`` (about ``3N`` per series). For level :math:`1-\alpha` and the :math:`n`
   residuals of a series' sample, the half-width is their :math:`\lceil (n+1)(1-\alpha) \rceil`-th
   smallest value, i.e. the empirical quantile at :math:`\lceil (n+1)(1-\alpha) \rceil / n` (the
   finite-sample correction of split conformal prediction). When a series has too few residuals
   for that rank (:math:`\lceil (n+1)(1-\alpha) \rceil > n`: fewer than 19 at 95%, 4 at 80%), the
   samples of every series are pooled after dividing each by its series' MASE scale (in-sample
   seasonal-naive MAE at the data's season, :func:`history_scales`), and the pooled quantile is
   multiplied back by the series' scale. The span (10 blocks) and the pooling of neighbouring
   steps were chosen by a fixed rule on separate monthly series and confirmed on others
   (``docs/interval-calibration.md``).
5. **Bands.** :math:`\hat y \pm q_{s,j}` (relative scores: :math:`\hat y (1 \pm q_{s,j})`):
   symmetric, and nested across levels (a higher level takes a higher order statistic of the
   same residuals; where it had to take the pooled sample, its half-width is raised to the lower
   level's if below). With relative scores no MASE scaling is needed to pool.

Every residual pairs a forecast from an origin inside the fitted data with an actual value inside
it too, so in a backtest the calibration of a fold never touches that fold's test span. The
calibration records the last timestamp it read (``last_target``; one after the model's
``last_seen_`` raises :class:`~tsforecast.errors.LeakageError`), and each calibration fit's
``last_seen_`` is checked against its origin (fit-scope provenance, as the backtest checks a fit
against its cutoff). The cost is ``B`` fits (one when ``calibration_refits`` is ``False``) plus
``N`` forecasts per series, in one ``fit_forecast`` call that built-in models vectorise; it is paid
once per fitted model, on the first ``predict(level=...)``, and never when ``level`` is ``None``.
In a backtest the calibration forecasts are asked in the same ``fit_forecast`` call as the fold's
forecasts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_levels
from ..columns import ID
from ..covariates import Covariates
from ..errors import DataError, LeakageError, spell, spell_value
from ..metrics import seasonal_scales
from ..seasonality import panel_season
from .batch import Fit, Histories, histories_of

__all__ = [
    "INTERVAL_METHODS",
    "MIN_ORIGINS",
    "N_WINDOWS",
    "Calibration",
    "CalibrationPlan",
    "band_columns",
    "band_levels",
    "calibrate",
    "check_interval_method",
    "check_levels",
    "collect_calibration",
    "conformal_bands",
    "conformal_half_widths",
    "conformal_rank",
    "fewest_residuals",
    "history_scales",
    "plan_calibration",
    "plan_model_calibration",
    "with_neighbouring_steps",
]

N_WINDOWS = 10
"""Calibration blocks of ``horizon`` origins each (fewer when the data are short): 120 origins, and 360
residuals per series and step with its neighbouring steps, for monthly data with ``h = 12``. Chosen over 5,
8 and 15 blocks by a fixed rule on separate monthly series (``docs/interval-calibration.md``): the fewest
blocks whose coverage meets the targets at 80% and 95% with an interval score within 1% of the best."""

MIN_ORIGINS = 20
"""Fewest calibration origins wanted whatever the horizon: more blocks are used when ``n_windows · h`` is below."""

INTERVAL_METHODS = ("conformal", "native")


def check_interval_method(method: Any) -> str:
    """Validate ``interval_method`` (``"conformal"`` or ``"native"``).

    Raises
    ------
    DataError
        For any other value.

    Examples
    --------
    >>> check_interval_method("native")
    'native'
    """
    if not isinstance(method, str) or method not in INTERVAL_METHODS:
        raise DataError(
            f"{spell_value('interval_method', method)} is not a known interval method. "
            f"Choose one of {', '.join(repr(m) for m in INTERVAL_METHODS)}."
        )
    return method


def _number(level: float) -> float | int:
    """``80.0`` as ``80``, ``99.5`` as it is: a level as the user wrote it."""
    return int(level) if float(level).is_integer() else level


def band_columns(levels: Sequence[float]) -> list[str]:
    """Column names ``y_lo_L, y_hi_L`` per level, in level order.

    Examples
    --------
    >>> band_columns((80.0, 99.5))
    ['y_lo_80', 'y_hi_80', 'y_lo_99.5', 'y_hi_99.5']
    """
    return [f"y_{side}_{level:g}" for level in levels for side in ("lo", "hi")]


def band_levels(columns: Sequence[str]) -> tuple[float, ...]:
    """The levels whose band columns (see :func:`band_columns`) are among ``columns``, ascending.

    Examples
    --------
    >>> band_levels(["y", "y_hat", "y_lo_95", "y_hi_95", "y_lo_99.5", "y_hi_99.5"])
    (95.0, 99.5)
    """
    found = {str(c)[len("y_lo_") :] for c in columns if str(c).startswith("y_lo_")}
    return tuple(sorted(float(level) for level in found if f"y_hi_{level}" in columns))


def conformal_rank(n: np.ndarray | int, level: float) -> np.ndarray:
    """The order statistic ``ceil((n + 1) · level / 100)`` of split conformal prediction (1-based).

    A rank above ``n`` means ``n`` residuals are too few for ``level``.

    Examples
    --------
    >>> conformal_rank(np.array([4, 19, 60]), 95.0).tolist()
    [5, 19, 58]
    """
    # NOTE: rounding before ceil keeps float noise such as 5 * 0.8 = 4.000000000000001 from adding a rank.
    return np.ceil(np.round((np.asarray(n) + 1) * level / 100.0, 9)).astype("int64")


def history_scales(values: np.ndarray, starts: np.ndarray, lengths: np.ndarray, season: int) -> np.ndarray:
    """Per history, its MASE scale (seasonal-naive MAE, :func:`~tsforecast.metrics.seasonal_scales`), for pooling.

    Falls back to the lag-1 naive MAE when the seasonal one is undefined or zero, and to 1 when
    that is too (a constant series).

    Examples
    --------
    >>> history_scales(np.array([1.0, 1.0, 1.0, 2.0, 4.0]), np.array([0, 3]), np.array([3, 2]), 2).tolist()
    [1.0, 2.0]
    """
    scales = np.full(len(starts), np.nan)
    for lag in (season, 1):
        missing = ~(np.isfinite(scales) & (scales > 0))
        if missing.any():
            found = seasonal_scales(values, np.asarray(starts)[missing], np.asarray(lengths)[missing], lag)
            scales[missing] = np.where(np.isfinite(found) & (found > 0), found, np.nan)
    return np.where(np.isfinite(scales), scales, 1.0)


@dataclass(frozen=True)
class Calibration:
    """Absolute residuals of forecasts made at origins inside a model's training data.

    Attributes
    ----------
    residuals : ndarray of shape (n_series, n_origins, horizon)
        ``|y - y_hat|`` per series, origin (latest first) and horizon step; NaN where the series
        had no forecast or no actual value.
    series : Index
        Series ids, in the order of the first axis (sorted).
    scales : ndarray of shape (n_series,)
        MASE scale of each series' training history (see :func:`history_scales`); 1 for a series
        without training rows.
    season : int
        The season of those scales: the data's (:func:`~tsforecast.seasonality.panel_season` of
        the training data), also used for the histories whose bands are made.
    origins : Index
        Origin timestamps, in the order of the second axis.
    last_target : Timestamp or int
        The last timestamp any residual used.
    forecasts : ndarray of shape (n_series, n_origins, horizon) or None
        The forecasts behind ``residuals``, kept when every training value and every one of them
        is positive: the scores may then be relative (``residuals / forecasts``).
    """

    residuals: np.ndarray
    series: pd.Index
    scales: np.ndarray
    season: int
    origins: pd.Index
    last_target: Any
    forecasts: np.ndarray | None = None

    @property
    def relative(self) -> bool:
        """Whether relative scores are allowed (see ``forecasts``)."""
        return self.forecasts is not None


@dataclass(frozen=True)
class CalibrationPlan:
    """The calibration fits of a model's training data, and where each forecast they ask for belongs.

    Attributes
    ----------
    fits : list of Fit
        One per block of ``horizon`` origins (or one for all, see :func:`plan_calibration`).
    fitted : list of ndarray
        Per fit, the series (positions in the :class:`~.batch.Histories`) it is fitted on, in the
        order of the fit's rows.
    series, origin : list of ndarray
        Per fit, the series and the origin (position in ``times``) of each requested forecast.
    times : Index
        The sorted distinct timestamps of the training data.
    used : ndarray
        The origin positions used, ascending.
    fitted_start, fitted_end : ndarray
        Per series, its first training row and one past its last (equal: not trained on).
    """

    fits: list[Fit]
    fitted: list[np.ndarray]
    series: list[np.ndarray]
    origin: list[np.ndarray]
    times: pd.Index
    used: np.ndarray
    fitted_start: np.ndarray
    fitted_end: np.ndarray


def _calibration_blocks(n_times: int, horizon: int, n_windows: int) -> list[np.ndarray]:
    """Origin positions (ascending) of each calibration block, latest block first."""
    latest = n_times - 1 - horizon
    blocks = []
    for b in range(max(n_windows, math.ceil(MIN_ORIGINS / horizon))):
        first = latest - (b + 1) * horizon + 1
        if first < 0:
            break
        blocks.append(np.arange(first, first + horizon))
    return blocks


def plan_calibration(
    data: Histories,
    fitted_end: np.ndarray,
    *,
    fitted_start: np.ndarray | None = None,
    horizon: int,
    need: int,
    refits: bool,
    n_windows: int = N_WINDOWS,
) -> CalibrationPlan:
    """The calibration fits of a model trained on the rows of ``data`` before ``fitted_end``.

    Parameters
    ----------
    data : Histories
        Rows the calibration may read.
    fitted_end : ndarray of shape (n_series,)
        One past the last training row of each series of ``data`` (equal to its first training
        row when the series was not trained on).
    fitted_start : ndarray of shape (n_series,), optional
        The first training row of each series (default: its first row in ``data``).
    horizon : int
        The model's horizon ``h``.
    need : int
        Rows a series needs at an origin to be fitted there (``max(min_length(), 3)``).
    refits : bool
        ``True``: one fit per block of ``h`` origins, at the block's first origin (blocks are used
        while some series has ``need`` rows at their first origin). ``False``: one fit, at the
        first origin of the earliest block used, for every origin (the model's
        :attr:`~tsforecast.models.Forecaster.calibration_refits`).
    n_windows : int, default=N_WINDOWS
        Blocks wanted (more when they hold under :data:`MIN_ORIGINS` origins; fewer on short data).

    Returns
    -------
    CalibrationPlan
        With no fits when the data are too short for one origin (:func:`collect_calibration`
        then refuses).
    """
    starts = data.offsets[:-1] if fitted_start is None else np.asarray(fitted_start)
    lengths = np.asarray(fitted_end) - starts
    owner = np.repeat(np.arange(len(lengths)), lengths)
    rows = np.concatenate([np.arange(a, b) for a, b in zip(starts, fitted_end, strict=True)]) if len(owner) else owner
    times = pd.Index(np.unique(data.times[rows]))  # NOTE: an Index, so its elements are Timestamps (or ints)
    position = times.searchsorted(data.times[rows])
    key = owner.astype(np.int64) * (len(times) + 1) + position
    series = np.arange(len(lengths))

    def rows_up_to(p: int) -> np.ndarray:
        """Per series, its training rows at or before origin position ``p``."""
        bound = series.astype(np.int64) * (len(times) + 1) + p
        return np.searchsorted(key, bound, side="right") - np.searchsorted(key, bound - p, side="left")

    # NOTE: with known-future covariates a forecast reads them over its whole horizon (calendar features need none)
    reads_known = data.covariates is not None and bool(data.covariates.known_future)
    readable, ahead = _known_future_reach(data), horizon if reads_known else 1
    blocks = []
    for block in _calibration_blocks(len(times), horizon, n_windows):
        kept = np.flatnonzero(rows_up_to(int(block[0])) >= need)
        if not len(kept):
            break
        blocks.append((block, kept))
    groups = blocks if refits or not blocks else [(np.sort(np.concatenate([b for b, _ in blocks])), blocks[-1][1])]
    fits, fitted, owners, origins = [], [], [], []
    for block, kept in groups:
        counts = np.stack([rows_up_to(int(p))[kept] for p in block])  # (origins, kept series)
        # NOTE: a forecast is asked only where a training row follows its origin (a series that ended before the
        # origin has no actual to score it against) and, with known-future covariates, where their values cover
        # its horizon (a series that ends within it has none for the steps after its end).
        ends = starts[kept][None, :] + counts
        wanted = (counts < lengths[kept][None, :]) & (readable[kept][None, :] - ends >= ahead)
        at, of = np.nonzero(wanted)  # origin-major, like the residual table
        if not len(at):
            continue
        fits.append(
            Fit(
                first=starts[kept],
                end=starts[kept] + counts[0],
                cutoff=times[int(block[0])],
                request_first=starts[kept][of],
                request_end=ends[at, of],
            )
        )
        fitted.append(kept)
        owners.append(kept[of])
        origins.append(block[at])
    used = np.sort(np.concatenate([b for b, _ in blocks])) if blocks else np.zeros(0, dtype=np.int64)
    return CalibrationPlan(fits, fitted, owners, origins, times, used, starts, np.asarray(fitted_end))


def _known_future_reach(data: Histories) -> np.ndarray:
    """Per series, one past the last row position (in ``data.frame``'s numbering) with known-future values:
    its last row in ``data`` plus the rows :attr:`~.batch.Histories.known_future` holds after it."""
    reach = data.offsets[1:].copy()
    if data.known_future is not None:
        beyond = data.known_future.groupby(ID, sort=False).size()
        reach += pd.Series(data.ids).map(beyond).fillna(0).to_numpy(dtype=np.int64)
    return reach


def collect_calibration(
    plan: CalibrationPlan,
    data: Histories,
    forecasts: Sequence[np.ndarray],
    *,
    freq: str | int,
    owner: str,
    last_seen: Any = None,
) -> Calibration:
    """The :class:`Calibration` from the forecasts of a :class:`CalibrationPlan`'s fits.

    Parameters
    ----------
    plan : CalibrationPlan
        What was asked.
    data : Histories
        The rows it was asked of.
    forecasts : sequence of ndarray
        Per fit of ``plan``, the ``(n_requests, horizon)`` forecasts.
    freq : str or int
        The data's frequency (the season of the pooling scales follows from it).
    owner : str
        The model's name, for messages.
    last_seen : Timestamp or int, optional
        The fitted model's ``last_seen_``: a residual whose target lies after it is refused.

    Raises
    ------
    DataError
        If the data are too short to forecast from a single origin inside them.
    LeakageError
        If a residual would read a target after ``last_seen``.
    """
    times, values, offsets = plan.times, data.values, data.offsets
    n_series = len(offsets) - 1
    horizon = forecasts[0].shape[1] if len(forecasts) else 0
    if not len(plan.used):
        raise DataError(
            f"{owner} cannot calibrate prediction intervals: its training data have {len(times)} timestamps, too "
            f"few for a calibration fit and one origin whose horizon lies inside them. Provide a longer history, "
            f"or leave out {spell('level').rstrip('=')}."
        )
    column = {int(p): k for k, p in enumerate(plan.used[::-1])}  # latest origin first
    residuals = np.full((n_series, len(plan.used), horizon), np.nan)
    kept = np.full_like(residuals, np.nan)
    for fit, series, origin, predicted in zip(plan.fits, plan.series, plan.origin, forecasts, strict=True):
        where = np.array([column[int(p)] for p in origin], dtype=np.int64)
        target = fit.request_end[:, None] + np.arange(horizon)[None, :]  # the rows after each history
        inside = target < plan.fitted_end[series][:, None]
        truth = np.where(inside, values[np.minimum(target, len(values) - 1)], np.nan)
        kept[series, where] = predicted
        residuals[series, where] = np.abs(truth - predicted)
    last_target = times[int(plan.used[-1]) + horizon]
    if last_seen is not None and last_target > last_seen:
        raise LeakageError(
            f"The calibration of {owner} read a target at {last_target}, after the fitted data's last timestamp "
            f"{last_seen}. Calibrate on the frame the model was fitted on."
        )
    lengths = plan.fitted_end - plan.fitted_start
    fitted = np.concatenate([np.arange(a, b) for a, b in zip(plan.fitted_start, plan.fitted_end, strict=True)])
    season = panel_season(data.frame.take(fitted), freq)
    positive = bool((values[fitted] > 0).all() and (np.isnan(kept) | (kept > 0)).all())
    return Calibration(
        residuals=residuals,
        series=pd.Index(data.ids),
        scales=np.where(lengths > 0, history_scales(values, plan.fitted_start, lengths, season), 1.0),
        season=season,
        origins=pd.Index(times[plan.used[::-1]]),
        last_target=last_target,
        forecasts=kept if positive else None,
    )


def plan_model_calibration(
    data: Histories,
    fitted_end: np.ndarray,
    model: Any,
    *,
    fitted_start: np.ndarray | None = None,
    n_windows: int = N_WINDOWS,
) -> CalibrationPlan:
    """:func:`plan_calibration` for ``model``: its calibration fits need ``model.calibration_length()`` rows, so
    that each is the model it calibrates; where the data hold no origin with that many, ``max(min_length(), 3)``.
    """
    settings = {"horizon": int(model.horizon), "refits": model.calibration_refits, "n_windows": n_windows}
    plan = plan_calibration(data, fitted_end, fitted_start=fitted_start, need=model.calibration_length(), **settings)
    if plan.fits:
        return plan
    return plan_calibration(data, fitted_end, fitted_start=fitted_start, need=max(model.min_length(), 3), **settings)


def calibrate(
    model: Any,
    frame: pd.DataFrame,
    freq: str | int,
    *,
    covariates: Covariates | None = None,
    last_seen: Any = None,
    n_windows: int = N_WINDOWS,
) -> Calibration:
    """Calibrate an unfitted copy of a model on the training ``frame`` of the fitted one.

    The calibration forecasts come from ``model.fit_forecast`` (:meth:`~tsforecast.models.Forecaster.fit_forecast`),
    the method backtests use, on the fits of :func:`plan_calibration`; then
    :func:`collect_calibration`.

    Parameters
    ----------
    model : Forecaster
        An unfitted copy of the fitted forecaster (its parameters; only clones of it are fitted).
    frame : DataFrame
        The prepared long frame the forecaster was fitted on (``unique_id, ds, y`` and declared covariates).
    freq : str or int
        Its frequency.
    covariates : Covariates, optional
        The covariates the forecaster was fitted with.
    last_seen : Timestamp or int, optional
        The fitted forecaster's ``last_seen_`` (a residual after it is refused).
    n_windows : int, default=N_WINDOWS
        Calibration blocks wanted (see :func:`plan_calibration`).

    Returns
    -------
    Calibration

    Raises
    ------
    DataError
        If the data are too short to forecast from a single origin inside them.
    LeakageError
        If a calibration fit recorded a ``last_seen_`` after the origin it was fitted at, or a
        residual would read a target after ``last_seen``.
    """
    data = histories_of(frame, freq, covariates)
    need = max(model.min_length(), 3)
    plan = plan_model_calibration(data, data.offsets[1:], model, n_windows=n_windows)
    if not plan.fits:
        times = len(np.unique(data.times))
        raise DataError(
            f"{type(model).__name__} cannot calibrate prediction intervals: the data have {times} timestamps, "
            f"and calibrating needs at least {need + 2 * int(model.horizon) - 1} ({need} to fit it, then "
            f"{model.horizon} origins whose {model.horizon}-step horizons lie inside the data). Provide a longer "
            f"history, or leave out {spell('level').rstrip('=')}."
        )
    results = model.fit_forecast(data, plan.fits)
    return collect_calibration(
        plan, data, [r.forecasts for r in results], freq=freq, owner=type(model).__name__, last_seen=last_seen
    )


def conformal_bands(
    calibration: Calibration, frame: pd.DataFrame, forecasts: np.ndarray, levels: Sequence[float]
) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper conformal bands ``(n_levels, n_series, horizon)`` of the forecasts made after ``frame``.

    ``frame`` holds the histories forecast (series in sorted order, as ``forecasts``); their MASE
    scales (at the calibration's season) size the pooled half-widths of series without enough
    residuals of their own (:func:`conformal_half_widths`).
    """
    data = histories_of(frame, 1)
    lengths = np.diff(data.offsets)
    scales = history_scales(data.values, data.offsets[:-1], lengths, calibration.season)
    q = conformal_half_widths(calibration, levels, calibration.series.get_indexer(data.ids), scales, forecasts)
    return forecasts - q, forecasts + q


def _ranked(values: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """The conformal order statistic along axis 1 of ``values`` (NaN = missing), and whether it exists."""
    n = (~np.isnan(values)).sum(axis=1)
    rank = conformal_rank(n, level)
    ok = (rank <= n) & (n > 0)
    ordered = np.sort(values, axis=1)  # NaN sort last
    index = np.clip(rank - 1, 0, values.shape[1] - 1)
    return np.take_along_axis(ordered, index[:, None, ...], axis=1)[:, 0, ...], ok


def with_neighbouring_steps(residuals: np.ndarray) -> np.ndarray:
    """Each horizon step's residuals joined by those of the steps before and after it.

    Parameters
    ----------
    residuals : ndarray of shape (n_series, n_origins, horizon)
        Residuals per series, origin and step (NaN = missing).

    Returns
    -------
    ndarray of shape (n_series, 3 * n_origins, horizon)
        For step ``j``: the residuals of steps ``j-1``, ``j`` and ``j+1`` (NaN beyond the first and last step).

    Examples
    --------
    >>> with_neighbouring_steps(np.array([[[1.0, 2.0, 3.0]]]))[0].T.tolist()
    [[nan, 1.0, 2.0], [1.0, 2.0, 3.0], [2.0, 3.0, nan]]
    """
    horizon = residuals.shape[2]
    padded = np.pad(residuals, ((0, 0), (0, 0), (1, 1)), constant_values=np.nan)
    return np.concatenate([padded[:, :, k : k + horizon] for k in range(3)], axis=1)


def fewest_residuals(level: float) -> int:
    """The fewest residuals whose conformal rank (:func:`conformal_rank`) exists at ``level``.

    Examples
    --------
    >>> fewest_residuals(80.0), fewest_residuals(95.0)
    (4, 19)
    """
    n = max(1, math.ceil(level / (100.0 - level)) - 1)  # NOTE: rank <= n from n >= level / (100 - level) on
    while conformal_rank(n, level) > n:
        n += 1
    return n


def conformal_half_widths(
    calibration: Calibration,
    levels: Sequence[float],
    position: np.ndarray,
    scales: np.ndarray,
    forecasts: np.ndarray,
    *,
    neighbouring_steps: bool = True,
) -> np.ndarray:
    """Half-widths ``q`` of the bands, shape ``(n_levels, n_series, horizon)``, of the series forecast.

    ``position`` is each forecast series' position in ``calibration.series`` (-1: not in it).
    Every horizon step's sample is its residuals pooled with those of its two neighbouring steps
    (:func:`with_neighbouring_steps`; ``neighbouring_steps=False``: its own residuals only, the
    variant ``docs/interval-calibration.md`` compares). Per level, a series with enough residuals of its own gets
    its own quantile per step; any other series (too few residuals, or not in the calibration,
    e.g. a new series given to ``predict``) gets the quantile of every series' residuals pooled
    after dividing each by its scale, times its own scale (``scales``, from the history it is
    forecast from). A higher level's half-width is at least a lower one's, so the bands nest.
    Scores are relative to the forecast when the calibration allows it and every forecast to
    band (``forecasts``, shape ``(n_series, horizon)``) is positive: relative residuals are
    pooled as they are, and each quantile is multiplied by the forecast.

    Raises
    ------
    DataError
        If even the residuals of a step and its neighbours pooled over all series are too few for a level.
    """
    relative = calibration.relative and bool((forecasts > 0).all())
    residuals = calibration.residuals / calibration.forecasts if relative else calibration.residuals
    if neighbouring_steps:
        residuals = with_neighbouring_steps(residuals)
    horizon = residuals.shape[2]
    position = np.asarray(position)
    known = position >= 0
    divisor = 1.0 if relative else calibration.scales[:, None, None]
    pooled_sample = (residuals / divisor).reshape(1, -1, horizon)
    scale = np.asarray(scales)[:, None]
    multiplier = forecasts if relative else 1.0
    out = np.empty((len(levels), len(position), horizon))
    for k, level in enumerate(levels):
        own, own_ok = _ranked(residuals, level)
        pooled, pooled_ok = _ranked(pooled_sample, level)
        use_own = known[:, None] & own_ok[np.maximum(position, 0)]
        if not (use_own | pooled_ok).all():
            count = int((~np.isnan(pooled_sample)).sum(axis=1).min())
            where = "per horizon step with its neighbouring steps" if horizon > 1 else "per horizon step"
            raise DataError(
                f"Too few calibration residuals for {spell_value('level', _number(level))}: {count} {where}, over "
                f"all series; {fewest_residuals(level)} needed. Provide longer histories or lower the level."
            )
        out[k] = multiplier * np.where(use_own, own[np.maximum(position, 0)], pooled if relative else scale * pooled)
    # NOTE: each level takes the first sample with enough residuals for it, so a level's band does not depend on
    # higher levels asked for; a higher level whose pooled sample gives a narrower band is widened to nest.
    order = np.argsort(levels)
    out[order] = np.maximum.accumulate(out[order], axis=0)
    return out
