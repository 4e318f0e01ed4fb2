"""Forecast accuracy metrics: MAE, RMSE, sMAPE and MASE, and interval coverage, width and MSIS.

Each formula is written once, vectorised, in :func:`error_terms`: the per-point term a metric
averages (RMSE then takes the square root). The backtest scores many forecasts at once with
:func:`error_terms` and :func:`aggregate`; the functions :func:`mae`, :func:`rmse`,
:func:`smape` and :func:`mase` score one forecast, ``metric(y_true, y_pred, **context) -> float``
on two 1-D array-likes of equal length, compared position by position (pandas indexes are not
aligned). ``mase`` also needs the training part of the series and the season length;
:func:`score` computes every metric in :data:`METRICS` for one forecast. :data:`METRICS` is the
one registry of metric names, in report order.

Missing values are never skipped: a NaN anywhere in ``y_true`` or ``y_pred`` makes the metric
NaN, so a diverged forecast cannot vanish from a backtest. Aggregate results with NaN-aware
code that reports NaN rather than dropping it (``DataFrame.mean(skipna=False)``).

Prediction intervals are scored the same way: :func:`interval_terms` holds the per-point term
of :func:`coverage`, :func:`interval_width` and :func:`msis` (scaled like MASE), and a backtest
aggregates them per level with :func:`aggregate`.
"""

from __future__ import annotations

from collections.abc import Callable
from numbers import Integral, Real
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from ._validation import Interval, check_names, validate_params
from .errors import DataError, DataTypeError

__all__ = [
    "LABELS",
    "METRICS",
    "aggregate",
    "error_terms",
    "mae",
    "mase",
    "mase_scale",
    "rmse",
    "score",
    "seasonal_scales",
    "smape",
]


def _as_1d(name: str, values: ArrayLike) -> NDArray[np.float64]:
    """``values`` as a 1-D float64 array, or a DataError/DataTypeError naming ``name``."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataTypeError(f"{name} must hold numbers; converting it to float failed: {exc}.") from exc
    if array.ndim != 1:
        raise DataError(f"{name} must be 1-D (one series), got shape {array.shape}. Score each series separately.")
    return array


def _pair(y_true: ArrayLike, y_pred: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Validate and convert ``y_true`` and ``y_pred``: 1-D, same non-zero length."""
    true, pred = _as_1d("y_true", y_true), _as_1d("y_pred", y_pred)
    if true.shape != pred.shape:
        raise DataError(
            f"y_true and y_pred must have the same shape, got y_true of shape {true.shape} and y_pred of shape "
            f"{pred.shape}. Pass one prediction per observed value."
        )
    if true.size == 0:
        raise DataError("y_true and y_pred are empty; a metric needs at least one observation.")
    return true, pred


def error_terms(y_true: ArrayLike, y_pred: ArrayLike, scale: ArrayLike = 1.0) -> dict[str, NDArray[np.float64]]:
    """Per forecast point, the term each metric averages: the one implementation of every formula.

    ``mae``: ``|e|``; ``rmse``: ``e²`` (the root is taken after averaging, see :func:`aggregate`);
    ``smape``: ``200·|e| / (|y| + |ŷ|)``, an exact 0/0 counting as 0; ``mase``: ``|e| / scale``,
    ``scale`` the :func:`mase_scale` of each point's series (an array, or one number). NaN stays
    NaN. Inputs are converted with ``np.asarray`` and broadcast; no validation.

    Examples
    --------
    >>> {k: v.tolist() for k, v in error_terms([1.0, 0.0], [3.0, 0.0], scale=2.0).items()}
    {'mae': [2.0, 0.0], 'rmse': [4.0, 0.0], 'smape': [100.0, 0.0], 'mase': [1.0, 0.0]}
    """
    true, pred = np.asarray(y_true, dtype=np.float64), np.asarray(y_pred, dtype=np.float64)
    error = np.abs(true - pred)
    denominator = np.abs(true) + np.abs(pred)
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "mae": error,
            "rmse": error**2,
            # NOTE: only exact 0/0 terms become 0; NaN denominators (NaN inputs) stay NaN and propagate.
            "smape": np.where(denominator != 0, 200 * error / denominator, 0.0),
            "mase": error / np.asarray(scale, dtype=np.float64),
        }


def aggregate(terms: pd.DataFrame, keys: list[pd.Series]) -> pd.DataFrame:
    """Every metric by ``keys``: the mean of each term column (root for RMSE).

    ``terms`` holds a column per metric (the :func:`error_terms`, and any :func:`interval_terms`
    named ``coverage_80`` ...) and a boolean ``missing`` (no forecast at that point); a group with
    a missing forecast scores NaN in every metric, so a failed forecast is never skipped.
    """
    columns = [c for c in terms.columns if c != "missing"]
    grouped = terms.groupby(keys, sort=False)
    table = grouped[columns].mean()
    table["rmse"] = np.sqrt(table["rmse"])
    table.loc[grouped["missing"].any().to_numpy(), columns] = np.nan
    return table


def _mean_term(name: str, y_true: ArrayLike, y_pred: ArrayLike) -> np.floating[Any]:
    """The mean of metric ``name``'s term over one forecast, after validating the inputs."""
    true, pred = _pair(y_true, y_pred)
    return np.mean(error_terms(true, pred)[name])


def mae(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    r"""Mean absolute error.

    Parameters
    ----------
    y_true : array-like of shape (n,)
        Observed values.
    y_pred : array-like of shape (n,)
        Forecasts, position by position.

    Returns
    -------
    float
        The MAE, in the units of the series; NaN if any input is NaN.

    Raises
    ------
    DataError
        If the inputs are not 1-D, differ in shape, or are empty.
    DataTypeError
        If an input is not numeric.

    Notes
    -----
    .. math:: \mathrm{MAE} = \frac{1}{n} \sum_{t=1}^{n} |y_t - \hat y_t|

    Examples
    --------
    >>> mae([1.0, 2.0, 3.0], [2.0, 2.0, 5.0])
    1.0
    """
    return float(_mean_term("mae", y_true, y_pred))


def rmse(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    r"""Root mean squared error.

    Parameters
    ----------
    y_true : array-like of shape (n,)
        Observed values.
    y_pred : array-like of shape (n,)
        Forecasts, position by position.

    Returns
    -------
    float
        The RMSE, in the units of the series; NaN if any input is NaN.

    Raises
    ------
    DataError
        If the inputs are not 1-D, differ in shape, or are empty.
    DataTypeError
        If an input is not numeric.

    Notes
    -----
    .. math:: \mathrm{RMSE} = \sqrt{\frac{1}{n} \sum_{t=1}^{n} (y_t - \hat y_t)^2}

    Examples
    --------
    >>> rmse([1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 8.0])
    2.0
    """
    return float(np.sqrt(_mean_term("rmse", y_true, y_pred)))


def smape(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    r"""Symmetric mean absolute percentage error, on a 0-200 scale.

    Parameters
    ----------
    y_true : array-like of shape (n,)
        Observed values.
    y_pred : array-like of shape (n,)
        Forecasts, position by position.

    Returns
    -------
    float
        The sMAPE in ``[0, 200]``; NaN if any input is NaN.

    Raises
    ------
    DataError
        If the inputs are not 1-D, differ in shape, or are empty.
    DataTypeError
        If an input is not numeric.

    Notes
    -----
    .. math:: \mathrm{sMAPE} = \frac{200}{n} \sum_{t=1}^{n} \frac{|y_t - \hat y_t|}{|y_t| + |\hat y_t|}

    A term with :math:`y_t = \hat y_t = 0` is 0/0; it is defined as 0 (a perfect forecast of a zero),
    so the sum is over all ``n`` terms. Each other term lies in ``[0, 1]``, reaching 1 when the
    forecast is zero or of the opposite sign, hence the range ``[0, 200]``. An infinite value
    (a diverged forecast) gives an undefined term and a NaN result.

    Examples
    --------
    >>> round(smape([100.0, 0.0, 50.0], [110.0, 0.0, -50.0]), 4)  # terms 10/210, 0/0 := 0, 100/100
    69.8413
    """
    return float(_mean_term("smape", y_true, y_pred))


def mase(y_true: ArrayLike, y_pred: ArrayLike, *, y_train: ArrayLike, season: int) -> float:
    r"""Mean absolute scaled error: the MAE relative to the in-sample seasonal-naive MAE.

    Parameters
    ----------
    y_true : array-like of shape (n,)
        Observed values.
    y_pred : array-like of shape (n,)
        Forecasts, position by position.
    y_train : array-like of shape (m,)
        The training part of the series the forecast was made from (observations up to the cutoff).
    season : int
        Season length ``s`` of the naive scale, >= 1 (1: the non-seasonal naive forecast).

    Returns
    -------
    float
        The MASE: below 1 beats the in-sample seasonal-naive forecast. NaN when undefined
        (see Notes), ``inf`` when the scale is 0 and the forecast has an error.

    Raises
    ------
    DataError
        If the inputs are not 1-D, ``y_true`` and ``y_pred`` differ in shape or are empty, or
        ``season`` is below 1.
    DataTypeError
        If an input is not numeric or ``season`` is not an int.

    Notes
    -----
    .. math::

        \mathrm{MASE} = \frac{\frac{1}{n} \sum_{t=1}^{n} |y_t - \hat y_t|}
                             {\frac{1}{m - s} \sum_{t=s+1}^{m} |y^{\mathrm{train}}_t - y^{\mathrm{train}}_{t-s}|}

    (Hyndman & Koehler, 2006). The ratio is evaluated as written, in IEEE arithmetic, and never
    replaced by a made-up number:

    - fewer than ``s + 1`` training values: no seasonal difference exists, the scale is
      undefined and the result is NaN;
    - a scale of 0 (a history that repeats itself exactly every ``s`` steps, e.g. a constant):
      ``inf`` if the forecast has any error -- it is infinitely worse than the naive forecast
      was in sample -- and NaN (0/0) if the forecast is exact;
    - a NaN anywhere in the inputs: NaN.

    Examples
    --------
    >>> mase([5.0, 7.0], [6.0, 6.0], y_train=[0.0, 2.0, 4.0, 6.0], season=1)
    0.5
    """
    validate_params("mase", {"season": season}, {"season": [Interval(Integral, 1, None, closed="left")]})
    error = _mean_term("mae", y_true, y_pred)
    # NOTE: the scale is one number here, so this is the mean of the "mase" terms; dividing the
    # mean keeps an exact forecast of a zero-scale history at 0/0 = NaN and any error at inf.
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.divide(error, mase_scale(y_train, season)))


def mase_scale(y_train: ArrayLike, season: int) -> float:
    """The MASE denominator: the in-sample MAE of the seasonal-naive forecast of ``y_train``.

    NaN when ``y_train`` has fewer than ``season + 1`` values (see :func:`mase`). Computed by
    :func:`seasonal_scales`, the one implementation backtests use too.

    Examples
    --------
    >>> mase_scale([0.0, 2.0, 4.0, 6.0], season=1)
    2.0
    """
    validate_params("mase_scale", {"season": season}, {"season": [Interval(Integral, 1, None, closed="left")]})
    train = _as_1d("y_train", y_train)
    return float(seasonal_scales(train, np.array([0]), np.array([train.size]), season)[0])


def seasonal_scales(values: np.ndarray, starts: np.ndarray, lengths: np.ndarray, season: int) -> np.ndarray:
    """The MASE scale of many histories at once: the mean of ``|y[t] - y[t - season]|`` over each.

    History ``k`` is ``values[starts[k] : starts[k] + lengths[k]]``; its scale is NaN when it has
    no seasonal difference (``lengths[k] <= season``). This is the one implementation of the MASE
    denominator: :func:`mase_scale`, backtest scores and the pooling of conformal residuals use it.

    Each sum runs in row order with Kahan compensation (the arithmetic of pandas' groupby mean),
    so a scale does not depend on which other histories are computed with it. The loop runs over
    the rows of the longest history, each step vectorised across histories; histories with one
    start (one series' expanding windows) share one running sum, read at each one's end.

    Examples
    --------
    >>> seasonal_scales(np.array([1.0, 2.0, 4.0, 8.0]), np.array([0, 1]), np.array([4, 2]), 1).tolist()
    [2.3333333333333335, 2.0]
    """
    starts = np.asarray(starts, dtype=np.int64) + season
    lengths = np.maximum(np.asarray(lengths, dtype=np.int64) - season, 0)
    heads, which = np.unique(starts, return_inverse=True)
    reach = np.zeros(len(heads), dtype=np.int64)
    np.maximum.at(reach, which, lengths)
    order = np.argsort(-reach, kind="stable")  # longest first: the sums still running are a prefix
    heads, reach = heads[order], reach[order]
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    which = rank[which]
    by_length = np.argsort(lengths, kind="stable")
    ends = lengths[by_length]
    total, compensation = np.zeros(len(heads)), np.zeros(len(heads))
    means = np.full(len(starts), np.nan)  # an empty history: no seasonal difference, no scale
    done = int(np.searchsorted(ends, 0, side="right"))
    with np.errstate(invalid="ignore", over="ignore"):
        for step in range(int(reach[0]) if len(reach) else 0):
            live = int(np.searchsorted(-reach, -step, side="left"))  # the sums longer than `step`
            row = heads[:live] + step
            y = np.abs(values[row] - values[row - season]) - compensation[:live]
            t = total[:live] + y
            compensation[:live] = t - total[:live] - y
            total[:live] = t
            stop = int(np.searchsorted(ends, step + 1, side="right"))
            finished = by_length[done:stop]
            means[finished] = total[which[finished]] / (step + 1)
            done = stop
    return means


Metric = Callable[..., float]

METRICS: dict[str, Metric] = {"mae": mae, "rmse": rmse, "smape": smape, "mase": mase}
"""Every metric by name, in report order; ``mase`` takes the keywords ``y_train`` and ``season``."""

LABELS: dict[str, str] = {"mae": "MAE", "rmse": "RMSE", "smape": "sMAPE (0–200)", "mase": "MASE"}
"""How a report or table heads each metric of :data:`METRICS`."""

_NEEDS_TRAINING = frozenset({"mase"})


def score(y_true: ArrayLike, y_pred: ArrayLike, *, y_train: ArrayLike, season: int) -> dict[str, float]:
    """Compute every metric in :data:`METRICS` for one forecast.

    Parameters
    ----------
    y_true : array-like of shape (n,)
        Observed values.
    y_pred : array-like of shape (n,)
        Forecasts, position by position.
    y_train : array-like of shape (m,)
        The training part of the series, for the MASE scale.
    season : int
        Season length of the MASE scale, >= 1.

    Returns
    -------
    dict of str to float
        ``{"mae": ..., "rmse": ..., "smape": ..., "mase": ...}``.

    Raises
    ------
    DataError, DataTypeError
        As the individual metrics.

    Examples
    --------
    >>> score([5.0, 7.0], [6.0, 6.0], y_train=[0.0, 2.0, 4.0, 6.0], season=1)
    {'mae': 1.0, 'rmse': 1.0, 'smape': 16.783216783216783, 'mase': 0.5}
    """
    context: dict[str, Any] = {"y_train": y_train, "season": season}
    return {
        name: metric(y_true, y_pred, **context) if name in _NEEDS_TRAINING else metric(y_true, y_pred)
        for name, metric in METRICS.items()
    }


# --------------------------------------------------------------------------------------------- #
# prediction-interval metrics: vectorised over points, one value per point averaged             #
# --------------------------------------------------------------------------------------------- #


def _bounds(y_true: ArrayLike, lo: ArrayLike, hi: ArrayLike) -> tuple[NDArray[np.float64], ...]:
    """Validate an interval forecast: three 1-D arrays of one shape, non-empty."""
    true, lower = _pair(y_true, lo)
    _, upper = _pair(y_true, hi)
    return true, lower, upper


def _alpha(level: float) -> float:
    if isinstance(level, bool) or not isinstance(level, (int, float, np.floating, np.integer)) or not 0 < level < 100:
        raise DataError(f"level must be a coverage percentage strictly between 0 and 100, got {level!r}.")
    return 1.0 - float(level) / 100.0


INTERVAL_METRICS: dict[str, str] = {"coverage": "Coverage", "width": "Width (scaled)", "msis": "MSIS"}
"""The interval metrics by name, in report order, with their headings; a backtest reports each per
level as ``coverage_80``, ``width_80``, ``msis_80`` ..."""


def interval_columns(levels: tuple[float, ...]) -> list[str]:
    """Names of the interval scores a backtest reports, per level: ``coverage_L, width_L, msis_L``.

    Examples
    --------
    >>> interval_columns((80.0, 99.5))
    ['coverage_80', 'width_80', 'msis_80', 'coverage_99.5', 'width_99.5', 'msis_99.5']
    """
    return [f"{name}_{level:g}" for level in levels for name in INTERVAL_METRICS]


def interval_terms(
    y_true: ArrayLike, lo: ArrayLike, hi: ArrayLike, scale: ArrayLike = 1.0, *, level: float | None = None
) -> dict[str, NDArray[np.float64]]:
    """Per forecast point, the term each interval metric averages: the one implementation of their formulas.

    ``coverage``: ``1[lo <= y <= hi]`` (NaN where an input is NaN); ``width``: ``(hi - lo) / scale``;
    ``msis`` (only when ``level`` is given, ``a = 1 - level/100``):
    ``(hi - lo + 2/a·(lo - y)·1[y < lo] + 2/a·(y - hi)·1[y > hi]) / scale``. ``scale`` is the
    :func:`mase_scale` of each point's series (an array, or one number). Inputs are converted
    with ``np.asarray`` and broadcast; only ``level`` is validated.

    Raises
    ------
    DataError
        If ``level`` is not strictly between 0 and 100.

    Examples
    --------
    >>> terms = interval_terms([1.0, 5.0], [0.0, 0.0], [2.0, 4.0], scale=2.0, level=50)
    >>> {k: v.tolist() for k, v in terms.items()}
    {'coverage': [1.0, 0.0], 'width': [1.0, 2.0], 'msis': [1.0, 4.0]}
    """
    true, lower, upper = (np.asarray(v, dtype=np.float64) for v in (y_true, lo, hi))
    scales = np.asarray(scale, dtype=np.float64)
    width = upper - lower
    inside = ((lower <= true) & (true <= upper)).astype(np.float64)
    terms = {"coverage": np.where(np.isnan(true) | np.isnan(width), np.nan, inside)}
    with np.errstate(divide="ignore", invalid="ignore"):
        terms["width"] = width / scales
        if level is not None:
            penalty = (2.0 / _alpha(level)) * (np.maximum(lower - true, 0.0) + np.maximum(true - upper, 0.0))
            terms["msis"] = (width + penalty) / scales
    return terms


def coverage(y_true: ArrayLike, lo: ArrayLike, hi: ArrayLike) -> float:
    r"""Empirical coverage: the share of observations inside their interval (bounds included).

    Parameters
    ----------
    y_true : array-like of shape (n,)
        Observed values.
    lo, hi : array-like of shape (n,)
        Lower and upper bounds, position by position.

    Returns
    -------
    float
        In ``[0, 1]``; NaN if any input is NaN.

    Raises
    ------
    DataError, DataTypeError
        As :func:`mae`.

    Notes
    -----
    .. math:: \mathrm{coverage} = \frac{1}{n} \sum_{t=1}^{n} \mathbb{1}[\ell_t \le y_t \le u_t]

    Examples
    --------
    >>> coverage([1.0, 2.0, 3.0, 4.0], [0.0, 2.5, 3.0, 0.0], [2.0, 3.0, 3.0, 3.0])
    0.5
    """
    return float(np.mean(interval_terms(*_bounds(y_true, lo, hi))["coverage"]))


def interval_width(y_true: ArrayLike, lo: ArrayLike, hi: ArrayLike, *, y_train: ArrayLike, season: int) -> float:
    r"""Mean interval width, scaled like MASE by the in-sample seasonal-naive MAE.

    Parameters
    ----------
    y_true : array-like of shape (n,)
        Observed values (only their count and shape are checked: the width does not depend on them).
    lo, hi : array-like of shape (n,)
        Lower and upper bounds.
    y_train : array-like of shape (m,)
        The training part of the series, for the scale.
    season : int
        Season length ``s`` of the scale, >= 1.

    Returns
    -------
    float
        The scaled mean width; NaN/inf as :func:`mase` when the scale is undefined or zero.

    Raises
    ------
    DataError, DataTypeError
        As :func:`mase`.

    Notes
    -----
    .. math:: \mathrm{width} = \frac{\frac{1}{n} \sum_{t=1}^{n} (u_t - \ell_t)}
                                    {\frac{1}{m - s} \sum_{t=s+1}^{m} |y^{\mathrm{train}}_t - y^{\mathrm{train}}_{t-s}|}

    Examples
    --------
    >>> interval_width([5.0, 7.0], [4.0, 5.0], [6.0, 9.0], y_train=[0.0, 2.0, 4.0, 6.0], season=1)
    1.5
    """
    # NOTE: the scale is one number here, so dividing the mean equals the mean of the scaled terms.
    terms = interval_terms(*_bounds(y_true, lo, hi))
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.divide(np.mean(terms["width"]), mase_scale(y_train, season)))


def msis(y_true: ArrayLike, lo: ArrayLike, hi: ArrayLike, *, level: float, y_train: ArrayLike, season: int) -> float:
    r"""Mean scaled interval score (MSIS) of the M4 competition: width plus penalties for misses, scaled.

    Parameters
    ----------
    y_true : array-like of shape (n,)
        Observed values.
    lo, hi : array-like of shape (n,)
        Lower and upper bounds of the central ``level`` % interval.
    level : float
        The interval's nominal coverage in percent, strictly between 0 and 100 (``a = 1 - level/100``).
    y_train : array-like of shape (m,)
        The training part of the series, for the scale.
    season : int
        Season length ``s`` of the scale, >= 1.

    Returns
    -------
    float
        The MSIS (lower is better); NaN/inf as :func:`mase` when the scale is undefined or zero.

    Raises
    ------
    DataError
        If ``level`` is not strictly between 0 and 100, or as :func:`mase`.

    Notes
    -----
    With :math:`a = 1 - \mathrm{level}/100` (Gneiting & Raftery, 2007; M4 competitor's guide, 2018):

    .. math::

        \mathrm{MSIS} = \frac{\frac{1}{n} \sum_{t=1}^{n} \left[(u_t - \ell_t)
              + \frac{2}{a} (\ell_t - y_t) \mathbb{1}[y_t < \ell_t]
              + \frac{2}{a} (y_t - u_t) \mathbb{1}[y_t > u_t]\right]}
             {\frac{1}{m - s} \sum_{t=s+1}^{m} |y^{\mathrm{train}}_t - y^{\mathrm{train}}_{t-s}|}

    Examples
    --------
    Widths 2 and 4, and the second value misses its interval by 1: penalty ``2 / 0.05 · 1 = 40``;
    ``(2 + 44) / 2`` over the scale 2:

    >>> round(msis([5.0, 10.0], [4.0, 5.0], [6.0, 9.0], level=95, y_train=[0.0, 2.0, 4.0, 6.0], season=1), 6)
    11.5
    """
    _alpha(level)
    terms = interval_terms(*_bounds(y_true, lo, hi), level=level)
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.divide(np.mean(terms["msis"]), mase_scale(y_train, season)))


__all__ += ["INTERVAL_METRICS", "coverage", "interval_columns", "interval_terms", "interval_width", "msis"]


# --------------------------------------------------------------------------------------------- #
# custom metrics of a backtest: ``f(y, y_hat, y_train, season) -> float``                       #
# --------------------------------------------------------------------------------------------- #

_RESERVED = frozenset(
    {"model", "fold", "cutoff", "unique_id", "scale", "mase_vs_seasonal_naive", "compared", "forecast", "left_out"}
)
"""Columns of a backtest's metrics and summary that a custom metric's name may not take."""

_PROBE = (np.array([1.0, 2.0, 3.0]), np.array([1.5, 2.0, 2.5]), np.array([0.0, 1.0, 2.0, 3.0, 4.0]), 1)
"""A small forecast, its training values and season, on which each custom metric is tried before any fit."""


def metric_value(name: str, value: Any) -> float:
    """The float a custom metric ``name`` returned, or a :class:`DataError` if it is not one real number.

    Examples
    --------
    >>> metric_value("bias", np.float32(0.5))
    0.5
    >>> metric_value("bias", [0.5])
    Traceback (most recent call last):
    ...
    tsforecast.errors.DataError: The metric 'bias' returned list [0.5], not one number. Make it return a float.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (Real, np.integer, np.floating)):
        raise DataError(
            f"The metric {name!r} returned {type(value).__name__} {value!r}, not one number. Make it return a float."
        )
    return float(value)


def custom_metrics(metrics: Any) -> dict[str, Metric]:
    """Check the ``metrics=`` of a backtest and return its custom metrics by name.

    Parameters
    ----------
    metrics : sequence of str or callable, or dict of str to callable, optional
        Names from :data:`METRICS` (always computed; naming one is allowed) and callables
        ``f(y, y_hat, y_train, season) -> float``, named by their ``__name__`` (a dict names them).

    Returns
    -------
    dict of str to callable
        The callables by name, in the order given; each has returned a number on a small
        forecast, so a broken metric is refused before anything is fitted.

    Raises
    ------
    DataError
        For an unknown name, a name that a built-in metric, a lambda or another column holds,
        the same name twice, or a metric that fails or returns something other than one number.
    DataTypeError
        For an entry that is neither a name nor a callable.

    Examples
    --------
    >>> def bias(y, y_hat, y_train, season):
    ...     return float((y_hat - y).mean())
    >>> list(custom_metrics(["mae", bias]))
    ['bias']
    """
    if metrics is None:
        return {}
    entries = list(metrics.items()) if isinstance(metrics, dict) else [(None, m) for m in _entries(metrics)]
    found: dict[str, Metric] = {}
    for given, metric in entries:
        if isinstance(metric, str) and given is None:
            check_names("metric", [metric], METRICS)
            continue
        if not callable(metric):
            raise DataTypeError(
                f"A metric must be a name ({', '.join(METRICS)}) or a callable f(y, y_hat, y_train, season) -> float, "
                f"got {type(metric).__name__} {metric!r}."
            )
        name = given if given is not None else getattr(metric, "__name__", None)
        if not isinstance(name, str) or not name.isidentifier() or name in METRICS or name in _RESERVED:
            raise DataError(
                f"The metric {metric!r} cannot be named {name!r}: pass metrics={{'my_name': f}} with a name that "
                "is a Python identifier and no built-in metric or column."
            )
        if name in found:
            raise DataError(f"Two metrics are named {name!r}. Name them apart: metrics={{'name': f, ...}}.")
        if name.startswith(tuple(f"{m}_" for m in INTERVAL_METRICS)):
            raise DataError(
                f"The metric name {name!r} looks like an interval score's. Rename it: metrics={{'name': f}}."
            )
        try:
            value = metric(*_PROBE)
        except Exception as exc:
            raise DataError(
                f"The metric {name!r} failed on a small test forecast ({type(exc).__name__}: {exc}). It must accept "
                "f(y, y_hat, y_train, season): three float arrays and an int."
            ) from exc
        metric_value(name, value)
        found[name] = metric
    return found


def _entries(metrics: Any) -> list[Any]:
    """The entries of a ``metrics=`` that is not a dict: one metric, or a sequence of them."""
    if isinstance(metrics, str) or callable(metrics):
        return [metrics]
    if not isinstance(metrics, (list, tuple)):
        raise DataTypeError(
            f"metrics= takes a list of names and callables, or a dict of names to callables, "
            f"got {type(metrics).__name__}."
        )
    return list(metrics)


__all__ += ["custom_metrics", "metric_value"]
