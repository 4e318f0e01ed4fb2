"""Reading a time column: ISO and other formats, day-first detection, UTC offsets, integer time.

Every reading either gives one unambiguous timestamp per row or refuses the column with a message
naming the first offending row and the remedy (``date_format=``); nothing is silently misread.
:func:`format_time` writes a timestamp back as short text, for messages and reports.
"""

from __future__ import annotations

import sys
import warnings
from datetime import datetime
from typing import Any, NoReturn

import numpy as np
import pandas as pd
from pandas.tseries.api import guess_datetime_format

from .errors import DataError, spell, spell_value

__all__ = ["format_time", "parse_time", "refuse_time", "warn_user"]

# A UTC offset after a clock time: Z, +01, +0100 or +01:00.
_OFFSET = r"(?:[T ]\d{2}|:\d{2}(?:[.,]\d+)?)\s*(?:[Zz]|[+-]\d{2}(?::?\d{2})?)$"


def warn_user(message: str, category: type[UserWarning] = UserWarning) -> None:
    """A warning of ``category`` attributed to the first caller outside tsforecast (the user's line)."""
    frame, level = sys._getframe(1), 2
    while frame.f_back is not None and str(frame.f_globals.get("__name__", "")).startswith("tsforecast."):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


def parse_time(
    col: pd.Series, time_col: str, date_format: str | None = None, *, local: bool = True
) -> list[tuple[str, pd.Series]]:
    """The readings of a time column: one, or two when every date reads both day-first and month-first.

    Parameters
    ----------
    col : Series
        The time column: text, datetimes, Python dates, or integers (an integer time index).
    time_col : str
        Its name, for messages.
    date_format : str, optional
        The strftime format of text timestamps; by default ISO 8601 or guessed from the first row.
    local : bool
        Whether text with UTC offsets all at one local time of day is read as local times (with a
        warning; see :mod:`tsforecast.frames`). When False, text with offsets is always converted to
        UTC, without a warning: for a caller that places it on a time-zone-aware clock anyway.

    Returns
    -------
    list of (str, Series)
        Each reading's format (``""`` when not read from text with one format) and timestamps.

    Raises
    ------
    DataError
        For missing, unreadable or mixed-format timestamps, or text mixing rows with and without
        a UTC offset; the message names the first offending row.
    """
    if col.isna().any():
        # NOTE: checked before the dtype shortcuts: NaT in a datetime column or <NA> in a nullable
        # integer column used to escape validation and crash later with a pandas error.
        refuse_time(col, int(np.flatnonzero(col.isna().to_numpy())[0]), time_col)
    if date_format is not None and not pd.api.types.is_datetime64_any_dtype(col):
        return [(date_format, _parse_text(col.astype(str).reset_index(drop=True), time_col, date_format, local=local))]
    if pd.api.types.infer_dtype(col, skipna=False) == "string":
        return _read_text(col.reset_index(drop=True), time_col, local)
    return [("", _parse_values(col, time_col))]


def _parse_values(col: pd.Series, time_col: str) -> pd.Series:
    if pd.api.types.is_float_dtype(col):
        # NOTE: pd.to_datetime would read floats as nanoseconds since 1970; whole numbers are an integer index.
        values = col.to_numpy(dtype="float64")
        fractional = np.flatnonzero(~np.isfinite(values) | (values != np.round(values)))
        if len(fractional):
            refuse_time(col, int(fractional[0]), time_col)
        return pd.Series(values.astype(np.int64), name=col.name)
    if pd.api.types.is_integer_dtype(col):  # nullable Int64 and friends become plain int64
        return pd.Series(col.to_numpy(dtype=np.int64), name=col.name)
    if pd.api.types.is_datetime64_any_dtype(col):
        return col.reset_index(drop=True)
    # Python date/datetime objects (or a mix of them with strings): each is read on its own.
    parsed = pd.to_datetime(col, errors="coerce", format="mixed")
    bad = parsed.isna() & col.notna()
    if bad.any():
        refuse_time(col, int(np.flatnonzero(bad.to_numpy())[0]), time_col)
    return parsed.reset_index(drop=True)


def _read_text(text: pd.Series, time_col: str, local: bool) -> list[tuple[str, pd.Series]]:
    """Read text timestamps in one format for the whole column, guessed from the first row."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # pandas' advice about dayfirst: we try both below
        guessed = guess_datetime_format(text.iloc[0])
    if guessed is None:  # e.g. 'Jan 2020': no strftime format to hold every row to, so each row is read on its own
        parsed = _parse_text(text, time_col, "mixed", strict=False, local=local)
        if parsed.isna().any():
            refuse_time(text, int(np.argmax(parsed.isna().to_numpy())), time_col)
        return [("", parsed)]
    formats = [guessed]
    if guessed.startswith("%Y-%m-%d"):
        formats = ["ISO8601"]  # every ISO 8601 variant (date only, 'T' or space, seconds or not) reads one way
    elif guessed[:2] == "%m" and guessed[3:5] == "%d":
        formats.append(f"%d{guessed[2]}%m{guessed[5:]}")  # 01/02/2024 may be day-first as well
    readings = [(fmt, _parse_text(text, time_col, fmt, strict=False, local=local)) for fmt in formats]
    complete = [(fmt, parsed) for fmt, parsed in readings if parsed.notna().all()]
    if complete:
        return complete
    # No format reads every row: name the first row the best reading fails on.
    fmt, parsed = max(readings, key=lambda reading: int(np.argmax(reading[1].isna().to_numpy())))
    row = int(np.argmax(parsed.isna().to_numpy()))
    if pd.isna(pd.to_datetime(text.iloc[row], format="mixed", errors="coerce")):
        refuse_time(text, row, time_col)
    shown = "ISO 8601" if fmt == "ISO8601" else repr(fmt)
    raise DataError(
        f"Column {time_col!r} mixes date formats: row 0 is {text.iloc[0]!r} ({shown}) but row {row} is "
        f"{text.iloc[row]!r}. Write every timestamp in one format (ISO 8601 such as 2020-01-31 is safest) "
        f"and, if it is not ISO, name it with {spell('date_format')} (e.g. {spell_value('date_format', '%d/%m/%Y')})."
    )


def _parse_text(text: pd.Series, time_col: str, fmt: str, strict: bool = True, local: bool = True) -> pd.Series:
    """``text`` read with strftime format ``fmt``, on one clock; rows that do not match are NaT unless ``strict``.

    Text with UTC offsets comes back in UTC, or, when ``local`` and all are at one local time of day, in local time.
    """
    several_offsets = False
    try:
        parsed = pd.to_datetime(text, format=fmt, errors="coerce")
    except ValueError as exc:
        several_offsets = True
        try:
            parsed = pd.to_datetime(text, format=fmt, errors="coerce", utc=True)
        except ValueError:
            raise DataError(
                f"{spell_value('date_format', fmt)} is not a usable strftime format: {exc}. "
                "Use codes such as '%Y-%m-%d %H:%M' or '%d/%m/%Y'."
            ) from exc
        # Several time zones in one column: placeable on one clock (UTC) only if every row has an offset.
        aware = text.str.contains(_OFFSET, regex=True).to_numpy()
        if aware.any() and not aware.all():
            with_offset, without = int(np.argmax(aware)), int(np.argmax(~aware))
            raise DataError(
                f"Column {time_col!r} mixes timestamps with and without a UTC offset: row {with_offset} is "
                f"{text.iloc[with_offset]!r} but row {without} is {text.iloc[without]!r}, so they cannot be placed "
                "on one clock. Write every timestamp with its offset (or every one without)."
            ) from exc
    if strict and parsed.isna().any():
        row = int(np.argmax(parsed.isna().to_numpy()))
        raise DataError(
            f"Column {time_col!r} row {row} holds {text.iloc[row]!r}, which does not match "
            f"{spell_value('date_format', fmt)}. Fix that row, or pass the format the column is written in."
        )
    if not several_offsets and str(parsed.dt.tz) in ("None", "UTC"):
        return parsed
    utc = parsed.dt.tz_convert("UTC")
    if not local:
        return utc
    dates = _local_dates(text, utc)  # NOTE: offsets dropped only when that keeps a daily grid
    if dates is not None:
        warn_user(
            f"Column {time_col!r} has timestamps all at one local time of day, written with UTC offsets (e.g. "
            f"{text.iloc[0]!r}); the local times were kept and the offsets dropped, as in UTC a daylight-saving "
            "change would move them off a daily grid."
        )
        return dates
    warn_user(
        f"Column {time_col!r} has timestamps with UTC offsets (e.g. {text.iloc[0]!r}); they were converted "
        "to UTC, the one clock on which every row can be placed."
    )
    return utc


def _local_dates(text: pd.Series, utc: pd.Series) -> pd.Series | None:
    """The local wall-clock times of ``text`` as naive timestamps if all share one time of day, else None."""
    # NOTE: a daily (or coarser) export in local time across a daylight-saving change is regular in local
    # time but not in UTC (midnight is 23:00 one day and 22:00 the next), and its rows mean dates.
    offset = text.str.extract(r"([Zz]|[+-]\d{2}(?::?\d{2})?)$")[0]
    if offset.isna().any():
        return None
    digits = offset.str.replace(":", "").str.replace(r"^[Zz]$", "+0000", regex=True).str.ljust(5, "0")
    sign = np.where(digits.str[0] == "-", -1, 1)
    minutes = sign * (digits.str[1:3].astype(int) * 60 + digits.str[3:5].astype(int))
    local = utc.dt.tz_localize(None) + pd.to_timedelta(minutes, unit="min")
    known = local.dropna()
    return local if len(known) and (known - known.dt.normalize()).nunique() == 1 else None


def refuse_time(col: pd.Series, row: int, time_col: str) -> NoReturn:
    raise DataError(
        f"Column {time_col!r} has a value that is not a timestamp at row {row}: {col.iloc[row]!r}. "
        f"Use ISO dates such as 2020-01-31 (or name another format with {spell('date_format')}), or integers "
        "for an integer time index."
    )


def format_time(value: Any) -> str:
    """A timestamp as ``YYYY-MM-DD`` (midnight) or ``YYYY-MM-DD HH:MM``; anything else with ``str``.

    Examples
    --------
    >>> format_time(pd.Timestamp("2024-03-01")), format_time(pd.Timestamp("2024-03-01 06:30")), format_time(7)
    ('2024-03-01', '2024-03-01 06:30', '7')
    """
    if isinstance(value, pd.Timestamp | np.datetime64 | datetime):
        stamp = pd.Timestamp(value)
        return stamp.strftime("%Y-%m-%d") if stamp == stamp.normalize() else stamp.strftime("%Y-%m-%d %H:%M")
    return str(value)
