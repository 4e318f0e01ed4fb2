"""The frequency of a long frame's series, and the calendar it implies.

The frequency is read from the timestamps (:func:`infer_freq`: a pandas alias such as ``"MS"``, or
the step of an integer time index), named in words (:func:`describe_freq`), turned into a typical
seasonal period (:func:`season_length`) and continued past the last timestamp (:func:`future_times`).
The validation of :mod:`tsforecast.frames` checks every series against the grid read here.
"""

from __future__ import annotations

import contextlib
import warnings
from typing import Any

import numpy as np
import pandas as pd
from pandas.errors import OutOfBoundsDatetime, OutOfBoundsTimedelta
from pandas.tseries.frequencies import to_offset

from .columns import ID, TIME
from .errors import DataError, spell, spell_value
from .timestamps import format_time

__all__ = [
    "FREQUENCY_NAMES",
    "Series",
    "describe_freq",
    "future_times",
    "infer_freq",
    "longest_freq",
    "number_series",
    "season_length",
    "series_freq",
    "time_grid",
]


Series = tuple[np.ndarray, np.ndarray]
"""The series number of every row of a frame (numbered by first appearance) and the series names."""


def number_series(frame: pd.DataFrame) -> Series:
    """The :data:`Series` of ``frame``: each row's series number (by first appearance) and the series names."""
    ids = frame[ID].to_numpy()
    heads = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    names = ids[heads]
    with contextlib.suppress(TypeError):  # NOTE: names of several types do not compare; factorize below
        if (names[1:] > names[:-1]).all():  # one run per series, in sorted order: the runs are the series
            return np.repeat(np.arange(len(heads)), np.diff(np.r_[heads, len(ids)])), names
    codes, uniques = pd.factorize(frame[ID])
    return codes, np.asarray(uniques, dtype=object)


# NOTE: pandas 3 announces that infer_freq will return an offset; to_offset() below accepts both. Silenced around the
# call, and for this module's calls in the process-wide filters too: catch_warnings is not thread-safe, and runs in
# threads (a cluster's, concurrent backtests) would otherwise let it through.
_OFFSET_NOTICE = "A future version of pandas will return a BaseOffset"
warnings.filterwarnings("ignore", _OFFSET_NOTICE, DeprecationWarning, __name__)


def _pandas_freq(index: pd.DatetimeIndex) -> str | None:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", _OFFSET_NOTICE, DeprecationWarning)
        freq = pd.infer_freq(index)
    return None if freq is None else str(to_offset(freq).freqstr)


def series_freq(uid: str, times: pd.Series) -> str | int | None:
    """The series' own frequency alias (or integer step), ignoring gaps; None when too short."""
    if len(times) < 3:
        return None
    if pd.api.types.is_integer_dtype(times):
        diffs = np.diff(times.to_numpy())
        values, counts = np.unique(diffs, return_counts=True)
        return int(values[np.argmax(counts)])
    index = pd.DatetimeIndex(times)
    freq = _pandas_freq(index)
    if freq is None:
        # Gaps defeat pd.infer_freq: take the frequency most runs of 3 consecutive stamps agree on.
        runs = [_pandas_freq(index[i : i + 3]) for i in range(len(index) - 2)]
        runs = [r for r in runs if r is not None]
        if not runs:
            raise DataError(
                f"Could not infer a frequency for series {uid!r}: its timestamps are irregular or have too many "
                "gaps. Resample it to a regular frequency first, e.g. df.resample('MS', on='ds').sum()."
            )
        freq = max(runs, key=runs.count)  # NOTE: not max(set(...)): ties must not depend on string hashing
    return freq


def time_grid(first: Any, last: Any, freq: str | int) -> pd.Index:
    """Every timestamp (or integer step) from ``first`` to ``last`` inclusive at frequency ``freq``."""
    if isinstance(freq, int):
        return pd.Index(np.arange(first, last + 1, freq))
    return pd.date_range(first, last, freq=freq)


def longest_freq(frame: pd.DataFrame, series: Series | None = None) -> tuple[str, str | int]:
    """The first of the longest series (in order of appearance) and its frequency."""
    codes, names = number_series(frame) if series is None else series
    sizes = np.bincount(codes)
    if sizes.max() < 3:
        raise DataError(
            "Every series has fewer than 3 timestamps, so no frequency can be inferred. Provide longer series."
        )
    longest = int(np.argmax(sizes))
    freq = series_freq(str(names[longest]), frame[TIME][codes == longest])
    assert freq is not None
    return str(names[longest]), freq


def infer_freq(df: pd.DataFrame) -> str | int:
    """Frequency of a validated long frame: a pandas alias, or the step of an integer time index.

    Read from the longest series (validation has checked that every series shares it).

    Raises
    ------
    DataError
        If no series has 3 timestamps.
    """
    return longest_freq(df)[1]


_SEASONS = {"MS": 12, "ME": 12, "QS": 4, "QE": 4, "W": 52, "D": 7, "B": 5, "h": 24, "30min": 48, "min": 60}


def season_length(freq: str | int) -> int:
    """Typical seasonal period of a frequency: 12 monthly, 4 quarterly, 52 weekly, 7 daily, 24 hourly,
    48 half-hourly; 1 (no season) otherwise.

    Examples
    --------
    >>> season_length("MS"), season_length("QS-JAN"), season_length("D"), season_length(1)
    (12, 4, 7, 1)
    """
    if isinstance(freq, int):
        return 1
    base = str(freq).split("-")[0]
    return _SEASONS.get(base, 1)


FREQUENCY_NAMES = {
    "MS": "monthly",
    "ME": "monthly",
    "M": "monthly",
    "QS": "quarterly",
    "QE": "quarterly",
    "Q": "quarterly",
    "YS": "yearly",
    "YE": "yearly",
    "Y": "yearly",
    "AS": "yearly",
    "W": "weekly",
    "D": "daily",
    "B": "business-daily",
    "h": "hourly",
    "H": "hourly",
    "30min": "half-hourly",
    "min": "every minute",
}
"""Plain names of pandas frequency aliases (the anchor, e.g. ``-JAN``, is ignored)."""


def describe_freq(freq: Any) -> str:
    """A frequency in words: ``"monthly (MS)"``, ``"integer time index, step 1"``, ``"—"`` for ``None``.

    Examples
    --------
    >>> describe_freq("QS-JAN"), describe_freq(1), describe_freq("5D")
    ('quarterly (QS-JAN)', 'integer time index, step 1', 'daily (5D)')
    """
    if freq is None:
        return "—"
    if isinstance(freq, int) or str(freq).lstrip("-").isdigit():
        return f"integer time index, step {freq}"
    base = str(freq).split("-")[0]
    name = FREQUENCY_NAMES.get(base) or FREQUENCY_NAMES.get(base.lstrip("0123456789"))
    return f"{name} ({freq})" if name else str(freq)


_UNITS = {"s": "second", "ms": "millisecond", "us": "microsecond", "ns": "nanosecond"}


def future_times(last: Any, freq: str | int, horizon: int) -> pd.Index:
    """The ``horizon`` timestamps after ``last`` at frequency ``freq``.

    Raises
    ------
    DataError
        If they run past the last representable time: for timestamps, the latest one pandas holds
        at their resolution (2262-04-11 for nanoseconds, year 294247 for microseconds); for an
        integer time index, the largest 64-bit integer.

    Examples
    --------
    >>> future_times(pd.Timestamp("2024-01-01"), "MS", 2).strftime("%Y-%m").tolist(), future_times(9, 1, 2).tolist()
    (['2024-02', '2024-03'], [10, 11])
    """
    remedy = f"Forecast fewer steps (a smaller {spell('horizon')})."
    if isinstance(freq, int):
        largest = int(np.iinfo(np.int64).max)
        if int(last) + freq * horizon > largest:  # NOTE: Python integers: the check itself cannot overflow
            raise DataError(
                f"{spell_value('horizon', horizon)} runs past the last representable time step: {horizon} steps of "
                f"{freq} after {last} end after {largest}, the largest 64-bit integer. {remedy}"
            )
        return pd.Index(int(last) + freq * np.arange(1, horizon + 1))
    try:
        return pd.date_range(last, periods=horizon + 1, freq=freq)[1:]
    except (OutOfBoundsDatetime, OutOfBoundsTimedelta, OverflowError) as exc:
        unit = pd.Timestamp(last).unit
        bound = pd.Timestamp(np.datetime64(np.iinfo(np.int64).max, unit))
        raise DataError(
            f"{spell_value('horizon', horizon)} runs past the last representable timestamp: {horizon} steps of "
            f"{freq} after {format_time(last)} end after {bound.year}-{bound.month:02d}-{bound.day:02d}, the "
            f"latest time pandas can hold at {_UNITS[unit]} resolution. {remedy}"
        ) from exc
