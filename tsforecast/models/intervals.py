r"""Prediction intervals: split-conformal bands calibrated on forecasts made inside the training data.

Any :class:`~tsforecast.models.Forecaster` answers ``predict(level=(80, 95))`` with the
columns ``y_lo_80, y_hi_80, y_lo_95, y_hi_95`` beside ``y_hat``. By default the bands are
*split-conformal* (Stankeviciute, Alaa & van der Schaar, 2021, "Conformal time-series
forecasting", NeurIPS; the same scheme as statsforecast's ``ConformalIntervals``), calibrated
only on the data the model was fitted on:

1. **Origins.** On the sorted timestamps ``t_0 < ... < t_{G-1}`` of the fitted data and the
   model's horizon ``h``, the calibration origins are the ``N = B · h`` latest positions whose
   whole horizon is still inside the data: ``i = G-1-h, G-2-h, ..., G-h-N``. They form
   ``B = max(n_windows, ceil(20 / h))`` blocks of ``h`` consecutive origins (``n_windows = 5`` by
   default; at least 20 origins, so that a 95% band has enough residuals of its own), fewer when
   the data are short.
2. **Forecasts.** For each block, a :func:`sklearn.base.clone` of the model is fitted on the rows
   up to the block's earliest origin, then forecasts from every origin of the block (its history
   up to that origin; a refit every ``h`` origins, as a backtest with ``refit=h`` would). A block
   is used only while some series still has ``max(min_length(), 3)`` points at its earliest
   origin; series shorter than that sit the block out. So calibrating needs at least
   ``max(min_length(), 3) + 2h - 1`` timestamps.
3. **Scores.** The absolute residuals :math:`r_{s,i,j} = |y_{s,i+j} - \hat y_{s,i+j \mid i}|` per
   series ``s``, origin ``i`` and horizon step ``j``; when every training value, every
   calibration forecast and every forecast to band is positive, the *relative* residuals
   :math:`r_{s,i,j} / \hat y_{s,i+j \mid i}` (a normalised nonconformity score: the band then
   scales with the forecast, as the errors of a growing positive series do).
4. **Quantiles.** For level :math:`1-\alpha` and the :math:`n` residuals of a series and step, the
   half-width is their :math:`\lceil (n+1)(1-\alpha) \rceil`-th smallest value, i.e. the empirical
   quantile at :math:`\lceil (n+1)(1-\alpha) \rceil / n` (the finite-sample correction of split
   conformal prediction). When a series has too few residuals for that rank
   (:math:`\lceil (n+1)(1-\alpha) \rceil > n`: fewer than 19 at 95%, 4 at 80%), the residuals of every
   series are pooled after dividing each by its series' MASE scale (in-sample seasonal-naive MAE),
   and the pooled quantile is multiplied back by the series' scale. Where even the pooled residuals
   of step ``j`` are too few (short histories), those of steps ``j-1`` and ``j+1`` join them (on
   separate monthly series with about 60 residuals per step, pooling neighbouring steps was as
   well calibrated as each step's own residuals: ``docs/interval-calibration.md``). Each level
   takes the first of these samples that has enough residuals for it.
5. **Bands.** :math:`\hat y \pm q_{s,j}` (relative scores: :math:`\hat y (1 \pm q_{s,j})`):
   symmetric, and nested across levels (a higher level takes a higher order statistic of the
   same residuals; where it had to take a larger sample, its half-width is raised to the lower
   level's if below). With relative scores no MASE scaling is needed to pool.

Every residual pairs a forecast from an origin inside the fitted data with an actual value inside
it too, so in a backtest the calibration of a fold never touches that fold's test span. The
calibration records the last timestamp it read (``last_target``; one after the model's
``last_seen_`` raises :class:`~tsforecast.errors.LeakageError`), and each calibration fit's
``last_seen_`` is checked against its origin (fit-scope provenance, as the backtest checks a fit
against its cutoff). The cost is ``B`` refits
plus ``N`` forecasts (for local models, which are re-estimated on every history, ``N`` fits per
series); it is paid once per fitted model, on the first ``predict(level=...)``, and never when
``level`` is ``None``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Real
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from ..data import ID, TARGET, TIME
from ..errors import DataError, DataTypeError, LeakageError, spell, spell_value
from ..metrics import mase_scale

__all__ = [
    "INTERVAL_METHODS",
    "MIN_ORIGINS",
    "N_WINDOWS",
    "Calibration",
    "band_columns",
    "band_levels",
    "calibrate",
    "check_interval_method",
    "check_levels",
    "conformal_half_widths",
    "conformal_rank",
    "fewest_residuals",
    "series_scales",
    "with_neighbouring_steps",
]

N_WINDOWS = 5
"""Calibration blocks of ``horizon`` origins each (fewer when the data are short): 60 residuals per
series and step for monthly data with ``h = 12``, enough for a per-series 95% band (19 needed). Kept over
8, 10 and 15 blocks by a study on separate monthly series (``docs/interval-calibration.md``): longer spans
cover more but score a worse interval score."""

MIN_ORIGINS = 20
"""Fewest calibration origins wanted whatever the horizon: more blocks are used when ``n_windows · h`` is below."""

INTERVAL_METHODS = ("conformal", "native")


def check_levels(level: Any) -> tuple[float, ...]:
    """Validate ``level``: one number or a sequence of distinct numbers strictly between 0 and 100.

    Returns
    -------
    tuple of float
        The levels, ascending.

    Raises
    ------
    DataTypeError
        If a level is not a real number (a string such as ``"80"``, a bool, None).
    DataError
        If a level is not strictly between 0 and 100, is not finite, or repeats; or no level is given.

    Examples
    --------
    >>> check_levels((95, 80))
    (80.0, 95.0)
    >>> check_levels(90)
    (90.0,)
    >>> check_levels((80, 100))
    Traceback (most recent call last):
    ...
    tsforecast.errors.DataError: level=100 is not strictly between 0 and 100. Pass coverage percentages ...
    """
    values = list(level) if isinstance(level, (list, tuple, np.ndarray, pd.Index)) else [level]
    # NOTE: the example is written as the caller writes it: level=(80, 95) in Python, --level 80,95 on the CLI.
    example = "level=(80, 95)" if spell("level") == "level=" else f"{spell('level')} 80,95"
    remedy = f"Pass coverage percentages such as {example}."
    if not values:
        raise DataError(f"{spell_value('level', level)} holds no level. {remedy}")
    for value in values:
        if isinstance(value, bool) or not isinstance(value, Real):
            raise DataTypeError(f"{spell_value('level', value)} is not a number ({type(value).__name__}). {remedy}")
        if not (math.isfinite(value) and 0 < float(value) < 100):
            raise DataError(f"{spell_value('level', value)} is not strictly between 0 and 100. {remedy}")
    floats = [float(v) for v in values]
    if len(set(floats)) != len(floats):
        raise DataError(f"{spell_value('level', tuple(values))} repeats a level. {remedy}")
    for value in floats:
        if float(f"{value:g}") != value:  # NOTE: the band columns name a level with 6 significant digits
            raise DataError(
                f"{spell_value('level', value)} has more than 6 significant digits, which the band columns "
                f"(y_lo_<level>) cannot name apart. Round it, e.g. to {_number(float(f'{value:.4g}'))}."
            )
    return tuple(sorted(floats))


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


def series_scales(frame: pd.DataFrame, season: int) -> pd.Series:
    """Per series, the MASE scale of its history (seasonal-naive MAE), for pooling residuals.

    Falls back to the lag-1 naive MAE when the seasonal one is undefined or zero, and to 1 when
    that is too (a constant series).
    """

    def scale(y: np.ndarray) -> float:
        for lag in (season, 1):
            value = mase_scale(y, lag)
            if math.isfinite(value) and value > 0:
                return value
        return 1.0

    return frame.groupby(ID, sort=True)[TARGET].agg(lambda s: scale(s.to_numpy(dtype="float64")))


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
    scales : Series
        MASE scale of each series' training history (see :func:`series_scales`).
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
    scales: pd.Series
    origins: pd.Index
    last_target: Any
    forecasts: np.ndarray | None = None

    @property
    def relative(self) -> bool:
        """Whether relative scores are allowed (see ``forecasts``)."""
        return self.forecasts is not None


def _blocks(n_times: int, horizon: int, n_windows: int) -> list[np.ndarray]:
    """Origin positions (ascending) of each calibration block, latest block first."""
    latest = n_times - 1 - horizon
    blocks = []
    for b in range(max(n_windows, math.ceil(MIN_ORIGINS / horizon))):
        first = latest - (b + 1) * horizon + 1
        if first < 0:
            break
        blocks.append(np.arange(first, first + horizon))
    return blocks


def calibrate(model: Any, frame: pd.DataFrame, *, season: int, n_windows: int = N_WINDOWS) -> Calibration:
    """Collect the calibration residuals of a fitted ``model`` on its training ``frame``.

    Parameters
    ----------
    model : Forecaster
        A fitted forecaster; only clones of it are fitted here.
    frame : DataFrame
        The long frame it was fitted on (``unique_id, ds, y`` and declared covariates).
    season : int
        Season length of the MASE scales used when residuals are pooled across series.
    n_windows : int, default=N_WINDOWS
        Calibration blocks of ``horizon`` origins each (more when they hold under
        :data:`MIN_ORIGINS` origins; fewer when the data are short).

    Returns
    -------
    Calibration

    Raises
    ------
    DataError
        If the data are too short to forecast from a single origin inside them.
    LeakageError
        If a calibration fit recorded a ``last_seen_`` after the origin it was fitted at.
    """
    horizon = int(model.horizon)
    times = pd.Index(frame[TIME].unique()).sort_values()
    series = pd.Index(frame[ID].unique()).sort_values()
    covariates = getattr(model, "covariates_", None)
    columns = [ID, TIME, TARGET, *(covariates.data_columns if covariates is not None else ())]
    data = frame[columns]
    need = max(model.min_length(), 3)
    actual = data.set_index([ID, TIME])[TARGET]
    residuals = np.full((len(series), len(times), horizon), np.nan)
    forecasts = np.full_like(residuals, np.nan)
    used = []
    for block in _blocks(len(times), horizon, n_windows):
        start = data[data[TIME] <= times[block[0]]]
        sizes = start.groupby(ID, sort=True).size()
        kept = sizes.index[sizes >= need]
        if not len(kept):
            break
        fitted = clone(model)
        train = start[start[ID].isin(kept)]
        fitted.fit(train) if covariates is None else fitted.fit(train, covariates=covariates)
        if fitted.last_seen_ > times[block[0]]:
            raise LeakageError(
                f"A calibration fit of {type(model).__name__} on data up to the origin {times[block[0]]} recorded "
                f"last_seen_={fitted.last_seen_}: it read data after its training rows. Fit only on the frame given."
            )
        histories, futures, keys = [], [], {}
        for position in block:
            rows = data[(data[TIME] <= times[position]) & data[ID].isin(kept)]
            for uid in kept:
                keys[f"{uid}\x1f{position}"] = (series.get_loc(uid), position)
            histories.append(rows.assign(**{ID: rows[ID].astype(str) + f"\x1f{position}"}))
            if covariates is not None and covariates.known_future:
                span = times[position + 1 : position + 1 + horizon]
                ahead = data[data[TIME].isin(span) & data[ID].isin(kept)][[ID, TIME, *covariates.known_future]]
                futures.append(ahead.assign(**{ID: ahead[ID].astype(str) + f"\x1f{position}"}))
        given = {"future": pd.concat(futures, ignore_index=True)} if futures else {}
        predicted = fitted.predict(pd.concat(histories, ignore_index=True), **given)
        assert isinstance(predicted, pd.DataFrame)
        owner = predicted[ID].map(keys)
        s = owner.map(lambda k: k[0]).to_numpy(dtype="int64")
        origin = owner.map(lambda k: k[1]).to_numpy(dtype="int64")
        step = predicted.groupby(ID, sort=False).cumcount().to_numpy()
        uid = series[s]
        truth = actual.reindex(pd.MultiIndex.from_arrays([uid, predicted[TIME]])).to_numpy(dtype="float64")
        forecasts[s, origin, step] = predicted["y_hat"].to_numpy(dtype="float64")
        residuals[s, origin, step] = np.abs(truth - forecasts[s, origin, step])
        used.extend(block.tolist())
    if not used:
        raise DataError(
            f"{type(model).__name__} cannot calibrate prediction intervals: the data have {len(times)} timestamps, "
            f"and calibrating needs at least {need + 2 * horizon - 1} ({need} to fit it, then {horizon} origins "
            f"whose {horizon}-step horizons lie inside the data). Provide a longer history, or leave out "
            f"{spell('level').rstrip('=')}."
        )
    order = np.sort(np.asarray(used))[::-1]  # latest origin first
    last_target = times[int(order[0]) + horizon]
    if last_target > model.last_seen_:
        raise LeakageError(
            f"The calibration of {type(model).__name__} read a target at {last_target}, after the fitted data's "
            f"last timestamp {model.last_seen_}. Calibrate on the frame the model was fitted on."
        )
    positive = bool((data[TARGET] > 0).all() and (np.isnan(forecasts) | (forecasts > 0)).all())
    kept = forecasts[:, order, :] if positive else None
    return Calibration(residuals[:, order, :], series, series_scales(data, season), times[order], last_target, kept)


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
    n = 1
    while conformal_rank(n, level) > n:
        n += 1
    return n


def conformal_half_widths(
    calibration: Calibration, levels: Sequence[float], series: pd.Index, scales: pd.Series, forecasts: np.ndarray
) -> np.ndarray:
    """Half-widths ``q`` of the bands, shape ``(n_levels, n_series, horizon)``, for ``series`` in order.

    Per level, a series with enough residuals of its own gets its own quantile per step; any
    other series (too few residuals, or not in the calibration, e.g. a new series given to
    ``predict``) gets the pooled quantile of scaled residuals times its scale (``scales``, from
    the history it is forecast from); where even the pooled residuals of a step are too few,
    those of its two neighbouring steps join them. A higher level's half-width is at least a
    lower one's, so the bands nest. Scores are relative to the forecast when the calibration
    allows it and every forecast to band (``forecasts``, shape ``(n_series, horizon)``) is
    positive: relative residuals are pooled as they are, and each quantile is multiplied by
    the forecast.

    Raises
    ------
    DataError
        If even the pooled residuals of a step and its neighbours are too few for a level.
    """
    relative = calibration.relative and bool((forecasts > 0).all())
    residuals = calibration.residuals / calibration.forecasts if relative else calibration.residuals
    horizon = residuals.shape[2]
    position = calibration.series.get_indexer(series)
    known = position >= 0
    divisor = 1.0 if relative else calibration.scales.to_numpy()[:, None, None]
    pooled_sample = (residuals / divisor).reshape(1, -1, horizon)
    wide_sample = with_neighbouring_steps(pooled_sample)
    scale = scales.reindex(series).to_numpy()[:, None]
    multiplier = forecasts if relative else 1.0
    out = np.empty((len(levels), len(series), horizon))
    for k, level in enumerate(levels):
        own, own_ok = _ranked(residuals, level)
        pooled, pooled_ok = _ranked(pooled_sample, level)
        wide, wide_ok = _ranked(wide_sample, level)
        use_own = known[:, None] & own_ok[np.maximum(position, 0)]
        if not (use_own | pooled_ok | wide_ok).all():
            count = int((~np.isnan(wide_sample)).sum(axis=1).min())
            where = "per horizon step with its neighbouring steps" if horizon > 1 else "per horizon step"
            raise DataError(
                f"Too few calibration residuals for {spell_value('level', _number(level))}: {count} {where}, over "
                f"all series; {fewest_residuals(level)} needed. Provide longer histories or lower the level."
            )
        shared = np.where(pooled_ok, pooled, wide)
        out[k] = multiplier * np.where(use_own, own[np.maximum(position, 0)], shared if relative else scale * shared)
    # NOTE: each level takes the first sample with enough residuals for it, so a level's band does not depend on
    # higher levels asked for; a higher level whose larger sample gives a narrower band is widened to nest.
    order = np.argsort(levels)
    out[order] = np.maximum.accumulate(out[order], axis=0)
    return out
