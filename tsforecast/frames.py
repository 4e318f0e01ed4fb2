"""Validate a frame into the canonical long format ``unique_id, ds, y``: :func:`from_pandas`.

It returns, as every loader of :mod:`tsforecast.loaders` does, a new DataFrame sorted by
``unique_id, ds`` with ``unique_id`` as strings, ``ds`` as ``datetime64`` (or integers for an
integer time index) and ``y`` as ``float64``; any other columns (covariates) follow unchanged. The
caller's file or frame is never modified.

Series ids are labels, never numbers: each becomes the text it is written as, and two ids are one
series exactly when their texts are equal. A CSV file's id column is read as written (stores ``007``
and ``7`` stay two series, and ``NA``, ``null``, ``N/A`` or ``None`` are ids like any other); ids of
any other type become ``str(value)``, so the integer ``7`` becomes ``"7"`` and the float ``7.0`` (an
integer column pandas read as floats because a value was missing) becomes ``"7.0"``. A missing
(NaN, None, ``pd.NA``) or empty id is refused, naming its rows, and so is one label held both as text
and as another type (``"7"`` and ``7`` in one column), which would otherwise silently be one series.

Validation refuses, with a :class:`~tsforecast.errors.DataError` naming the series, the first
offending row and the fix: missing columns, unparsable timestamps, timestamps written in mixed
formats or mixing ones with and without a UTC offset, a non-numeric, non-finite or overflowing
target, duplicate timestamps, and missing or off-grid timestamps. Unsorted rows are sorted (a
lossless reorder). Missing timestamps can be inserted explicitly with ``fill="ffill"`` or
``fill="zero"``; there is deliberately no interpolation, because interpolating a gap uses the value
after it, which is future information for any cutoff inside the gap.

Text timestamps are read in one format for the whole column: ISO 8601, the format
``date_format=`` names, or the one guessed from the first row (text no strftime format can be
guessed from, such as ``Jan 2020``, is read row by row). Day-first dates are recognised
(``13/01/2024``); when every date reads both ways (``01/02/2024``), the reading that gives a
regular series without duplicates is used, with a :class:`UserWarning`, and if both or neither do,
the column is refused as ambiguous. Timestamps written with UTC offsets (a local-time export across
a daylight-saving change) are converted to UTC, with a :class:`UserWarning` saying so; when all
are at one local time of day (daily or coarser data, whose rows mean dates) the local times are
kept instead, as in UTC a daylight-saving change would move them off a daily grid.

Any data frame in: a pandas DataFrame, a polars DataFrame or a pyarrow Table, through one narrow layer
(:func:`as_pandas`, on `narwhals <https://narwhals-dev.github.io/narwhals/>`_). A polars or pyarrow frame is
converted to pandas with its library's own conversion and validated by the same rules, so it gives the same
result and the same errors as its pandas copy; :func:`from_pandas` and ``predict`` answer in the caller's frame
type, while a backtest's :class:`~tsforecast.BacktestResult` holds pandas frames.
"""

from __future__ import annotations

from typing import Any, Literal

import narwhals as nw
import numpy as np
import pandas as pd
from narwhals.dependencies import is_polars_dataframe, is_pyarrow_table

from ._validation import NONE, Options, validate_params
from .columns import ID, TARGET, TIME, Fill
from .errors import DataError, DataTypeError, spell, spell_value
from .frequency import Series, longest_freq, number_series, series_freq, time_grid
from .timestamps import parse_time, warn_user

__all__ = ["FRAME_TYPES", "MAX_ABS_TARGET", "FrameKind", "as_pandas", "from_pandas", "series_labels", "to_kind"]

FrameKind = Literal["pandas", "polars", "pyarrow"]
"""The frame types accepted wherever a frame is expected, by name."""
FRAME_TYPES = "a pandas DataFrame, a polars DataFrame or a pyarrow Table"
"""The accepted frame types, as messages name them."""

_MAX_LISTED = 5
# NOTE: the audit's spread (np.std) and RMSE square the target; beyond ~1.3e154 a square overflows float64 to
# inf, and a sum of squares over many rows sooner (then inf - inf = NaN). 1e150 leaves room for 1e8 rows.
MAX_ABS_TARGET = 1e150
"""The largest magnitude a target may have: beyond it a square overflows float64 (refused at load)."""


def as_pandas(data: Any) -> tuple[Any, FrameKind]:
    """``data`` as pandas when it is a polars DataFrame or a pyarrow Table, and the kind of frame it was.

    A polars DataFrame or pyarrow Table is converted with its library's own ``to_pandas`` (through
    narwhals); anything else, pandas included, is returned unchanged with the kind ``"pandas"`` (the
    caller then accepts or refuses it as before). Neither polars nor pyarrow is imported unless ``data``
    is one of their frames.

    Parameters
    ----------
    data : object
        The caller's frame.

    Returns
    -------
    tuple
        The pandas frame (or ``data`` itself) and its kind: ``"pandas"``, ``"polars"`` or ``"pyarrow"``,
        for :func:`to_kind`.

    Examples
    --------
    >>> import pyarrow as pa
    >>> frame, kind = as_pandas(pa.table({"ds": [1, 2], "y": [3.0, 4.0]}))
    >>> type(frame).__name__, kind
    ('DataFrame', 'pyarrow')
    """
    if is_polars_dataframe(data):
        return nw.from_native(data, eager_only=True).to_pandas(), "polars"
    if is_pyarrow_table(data):
        return nw.from_native(data, eager_only=True).to_pandas(), "pyarrow"
    return data, "pandas"


def frame_kind(data: Any) -> FrameKind:
    """The kind of frame ``data`` is (``"pandas"`` for anything but a polars DataFrame or a pyarrow Table)."""
    return "polars" if is_polars_dataframe(data) else "pyarrow" if is_pyarrow_table(data) else "pandas"


def to_kind(frame: pd.DataFrame, kind: FrameKind) -> Any:
    """``frame`` converted to the caller's frame type ``kind`` (as :func:`as_pandas` named it).

    Examples
    --------
    >>> type(to_kind(pd.DataFrame({"y": [1.0]}), "pyarrow")).__name__
    'Table'
    """
    if kind == "pandas":
        return frame
    native = nw.from_native(frame.reset_index(drop=True), eager_only=True)
    return native.to_polars() if kind == "polars" else native.to_arrow()


def from_pandas(
    data: Any,
    time_col: str = TIME,
    target_col: str = TARGET,
    id_col: str | None = None,
    *,
    name: str = "series",
    fill: Fill | None = None,
    date_format: str | None = None,
) -> pd.DataFrame:
    """Convert a DataFrame or Series into the validated canonical long frame.

    Parameters
    ----------
    data : DataFrame or Series
        A frame with a time column, a target column and optionally an id column (a pandas or polars
        DataFrame or a pyarrow Table); or a pandas Series whose index holds the timestamps (a
        ``DatetimeIndex`` or integers).
    time_col, target_col : str
        Names of the timestamp and target columns.
    id_col : str, optional
        Column identifying each series of a panel. When ``None``, a ``unique_id`` column is used
        if present; otherwise the data are one series called ``name``.
    name : str
        ``unique_id`` given to a single series.
    fill : {"ffill", "zero"}, optional
        Insert missing timestamps explicitly, carrying the last value forward or using 0.
        By default missing timestamps are an error.
    date_format : str, optional
        The strftime format of text timestamps (as pandas' ``format=``), e.g. ``"%d/%m/%Y"``; it also
        reads integers such as ``20240131`` with ``"%Y%m%d"``. By default text timestamps must be ISO
        8601 or all in the format guessed from the first row; day-first dates are detected (see the
        module documentation). Ignored for a column that already holds datetimes.

    Returns
    -------
    DataFrame
        In the caller's frame type (pandas for a Series; polars or pyarrow for those frames, converted
        from the pandas result, which is identical to that of a pandas copy of ``data``).
        Columns ``unique_id, ds, y`` followed by any other columns, sorted by ``unique_id, ds``
        (unsorted input is reordered, never refused). Text timestamps with UTC offsets come back
        in UTC, or in local time when all are at one local time of day; a column that already holds
        time-zone-aware datetimes keeps its time zone.

    Warns
    -----
    UserWarning
        When text timestamps with UTC offsets are converted to UTC (or kept in local time), or when
        dates that read both day-first and month-first are read the one way that gives a regular
        series.

    Raises
    ------
    DataTypeError
        If ``data`` is not one of those frames or a pandas Series, or ``date_format`` is not a string.
    DataError
        For missing columns, unparsable, ambiguous or mixed-format timestamps, timestamps mixing
        ones with and without a UTC offset, non-numeric, non-finite or overflowing (beyond 1e150)
        targets, duplicate, missing or off-grid timestamps, or frequencies that differ across series.

    Examples
    --------
    >>> s = pd.Series([1.0, 2.0, 3.0], index=pd.date_range("2020-01-01", periods=3, freq="MS"))
    >>> from_pandas(s, name="sales")
      unique_id         ds    y
    0     sales 2020-01-01  1.0
    1     sales 2020-02-01  2.0
    2     sales 2020-03-01  3.0
    """
    # NOTE: validated up front: an unknown fill (e.g. "linear") used to be treated silently as "zero".
    validate_params(
        "from_pandas",
        {"fill": fill, "date_format": date_format},
        {"fill": [Options(("ffill", "zero")), NONE], "date_format": [str, NONE]},
    )
    data, kind = as_pandas(data)
    return to_kind(_canonical(data, time_col, target_col, id_col, name, fill, date_format), kind)


def _canonical(
    data: Any,
    time_col: str,
    target_col: str,
    id_col: str | None,
    name: str,
    fill: Fill | None,
    date_format: str | None,
) -> pd.DataFrame:
    """:func:`from_pandas` on pandas input."""
    if isinstance(data, pd.Series):
        frame = pd.DataFrame({time_col: data.index, target_col: data.to_numpy()})
    elif isinstance(data, pd.DataFrame):
        frame = data.copy()
    else:
        raise DataTypeError(
            f"Expected {FRAME_TYPES}, or a pandas Series, got {type(data).__name__}. "
            "Wrap arrays with pd.Series(values, index=timestamps)."
        )
    if id_col is None and ID in frame.columns:
        id_col = ID
    required = [c for c in (time_col, target_col, id_col) if c is not None]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise DataError(
            f"Missing column(s) {missing}; the data have {list(frame.columns)}. "
            f"Name the right ones with {spell('time_col')}, {spell('target_col')} and {spell('id_col')}."
        )
    if frame.empty:
        raise DataError("The data are empty: at least one row per series is needed.")
    ids = series_labels(frame[id_col], id_col) if id_col is not None else np.full(len(frame), name, dtype=object)
    clash = [c for c in (ID, TIME, TARGET) if c in frame.columns and c not in required]
    if clash:
        raise DataError(
            f"Column(s) {clash} would be replaced by the canonical {ID}, {TIME}, {TARGET} columns. "
            "Rename or drop them first, so no data is lost."
        )
    others = [c for c in frame.columns if c not in required]
    readings = parse_time(frame[time_col], time_col, date_format)
    out = pd.DataFrame({ID: ids, TIME: readings[0][1]})
    out[TARGET] = _parse_target(frame[target_col], target_col, out)
    for col in others:
        out[col] = frame[col].to_numpy()
    if len(readings) == 1:
        return _check_regular(*_check_order(out), fill)
    return _pick_reading(out, readings, frame[time_col], time_col, fill)


def series_labels(col: pd.Series, id_col: str) -> np.ndarray:
    """The series ids of ``col`` as text, exactly as written (see the module documentation).

    Parameters
    ----------
    col : Series
        The id column, of any dtype.
    id_col : str
        Its name, for messages.

    Returns
    -------
    ndarray of str
        ``str(value)`` of every row, in order.

    Raises
    ------
    DataError
        If an id is missing (NaN, None, ``pd.NA``) or empty, naming the rows; or if one label is
        held both as text and as another type (``"7"`` and ``7``), which would merge two spellings.

    Examples
    --------
    >>> series_labels(pd.Series(["007", 7, 7.0]), "store").tolist()
    ['007', '7', '7.0']
    """
    text = col.astype(str).to_numpy(dtype=object)
    unlabelled = np.flatnonzero(col.isna().to_numpy() | (text == ""))
    if len(unlabelled):
        first = col.iloc[unlabelled[0]]
        seen = repr(first) if isinstance(first, str) else str(first)  # NOTE: shows '', None, nan, <NA>
        rows = ", ".join(str(r) for r in unlabelled[:_MAX_LISTED])
        more = f" and {len(unlabelled) - _MAX_LISTED} more" if len(unlabelled) > _MAX_LISTED else ""
        where = (
            f"row {rows} (holds {seen})"
            if len(unlabelled) == 1
            else f"rows {rows}{more} (row {unlabelled[0]} holds {seen})"
        )
        raise DataError(
            f"Column {id_col!r} has {len(unlabelled)} row(s) with an empty or missing series id: {where}. Every row "
            "needs the label of its series: fill in the ids, or drop those rows."
        )
    _refuse_two_spellings(col, text, id_col)
    return text


def _refuse_two_spellings(col: pd.Series, text: np.ndarray, id_col: str) -> None:
    """Refuse a label held both as text and as another type (the str ``"7"`` and the int ``7``): one series or two?"""
    if col.dtype != object and not isinstance(col.dtype, pd.CategoricalDtype):
        return  # NOTE: any other dtype holds its labels in one type
    values = col.to_numpy(dtype=object)
    if pd.api.types.infer_dtype(values, skipna=False) not in ("mixed", "mixed-integer"):
        return
    is_text = np.fromiter((isinstance(v, str) for v in values), dtype=bool, count=len(values))
    both = np.flatnonzero(np.isin(text, text[is_text]) & ~is_text)
    if len(both):
        other = int(both[0])
        row = int(np.flatnonzero(is_text & (text == text[other]))[0])
        raise DataError(
            f"Column {id_col!r} spells the series id {text[other]!r} both as text (row {row}: {values[row]!r}) "
            f"and as {type(values[other]).__name__} (row {other}: {values[other]!r}): one label in two types. "
            f"Give the column one type first: df[{id_col!r}].astype(str) if they are one series, or rename "
            "one of them if they are two."
        )


def _pick_reading(
    out: pd.DataFrame, readings: list[tuple[str, pd.Series]], col: pd.Series, time_col: str, fill: Fill | None
) -> pd.DataFrame:
    """Validate ``out`` under each reading of ambiguous dates; keep the one reading that gives a valid series."""
    valid = []
    for fmt, times in readings:
        try:
            valid.append((fmt, _check_regular(*_check_order(out.assign(**{TIME: times})), fill)))
        except DataError:
            continue
    example = str(col.iloc[0])
    if len(valid) == 1:
        fmt, result = valid[0]
        warn_user(
            f"Column {time_col!r} has dates such as {example!r} that read both day-first and month-first; "
            f"read as {fmt!r}, the only reading that gives a regular series without duplicates. "
            f"Pass {spell_value('date_format', fmt)} to say so and silence this warning."
        )
        return result
    outcome = "both readings give" if valid else "neither reading gives"
    remedies = " or ".join(spell_value("date_format", fmt) for fmt, _ in readings)
    raise DataError(
        f"Column {time_col!r} has dates such as {example!r} that read both day-first and month-first, and "
        f"{outcome} a regular series without duplicates. Say which with {remedies}."
    )


def _parse_target(col: pd.Series, target_col: str, out: pd.DataFrame) -> np.ndarray:
    numeric = pd.to_numeric(col, errors="coerce")
    bad = numeric.isna() & col.notna()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"Column {target_col!r} must be numeric, but row {row} holds {col.iloc[row]!r}. "
            "Clean or convert the column to numbers first."
        )
    values = numeric.to_numpy(dtype="float64")
    nonfinite = ~np.isfinite(values)
    if nonfinite.any():
        row = int(np.flatnonzero(nonfinite)[0])
        raise DataError(
            f"Column {target_col!r} has {int(nonfinite.sum())} NaN or infinite value(s); the first is in series "
            f"{out[ID].iloc[row]!r} at {out[TIME].iloc[row]}. Drop or impute them before loading "
            "(a backtest cannot score a missing value)."
        )
    huge = np.abs(values) > MAX_ABS_TARGET
    if huge.any():
        row = int(np.argmax(huge))
        raise DataError(
            f"Column {target_col!r} has {int(huge.sum())} value(s) beyond +-{MAX_ABS_TARGET:g}, the first "
            f"{values[row]:g} in series {out[ID].iloc[row]!r} at {out[TIME].iloc[row]}: their squares overflow "
            "float64, so errors and spreads would be inf or NaN. Rescale the column first (e.g. divide it by 1e100)."
        )
    return values


def _in_order(frame: pd.DataFrame, series: Series) -> bool:
    """Whether ``frame`` is already sorted by series then strictly increasing time (checked on arrays)."""
    codes, names = series
    times = frame[TIME].to_numpy()
    if times.dtype.kind not in "iM":
        return False
    steps = np.diff(codes)
    # NOTE: numbered by first appearance, the codes never decrease when each series' rows are contiguous
    return bool(
        (steps >= 0).all() and (names[1:] > names[:-1]).all() and (np.diff(times.view(np.int64))[steps == 0] > 0).all()
    )


def _check_order(frame: pd.DataFrame) -> tuple[pd.DataFrame, Series]:
    """``frame`` sorted by series then time (a lossless reorder), and its :data:`Series`; duplicates are refused."""
    series = number_series(frame)
    if _in_order(frame, series):  # NOTE: already sorted, without duplicates: nothing to reorder
        return frame, series
    # NOTE: unsorted input used to be refused; sorting loses nothing, duplicates would lose data.
    out = frame.sort_values([ID, TIME], kind="stable").reset_index(drop=True)
    repeated = (out[ID].eq(out[ID].shift()) & out[TIME].eq(out[TIME].shift())).to_numpy()
    if not repeated.any():
        return out, number_series(out)
    row = int(np.argmax(repeated))
    uid, stamp = out[ID].iloc[row], out[TIME].iloc[row]
    counts = out.loc[out[ID] == uid, TIME].value_counts()
    listed = frame.loc[frame[ID] == uid, TIME]
    stamps = listed.to_numpy()
    restarts = np.flatnonzero(stamps[1:] < stamps[:-1])
    if counts.nunique() == 1 or len(restarts):
        how = (
            f"each of its timestamps appears {counts.iloc[0]} times"
            if counts.nunique() == 1
            else f"its timestamps restart ({listed.iloc[restarts[0] + 1]} is listed after {listed.iloc[restarts[0]]})"
        )
        raise DataError(
            f"Series {uid!r} has duplicate timestamp {stamp} and {how}: it looks like several series stacked "
            f"in one. Name the column that tells them apart with {spell('id_col')}, or aggregate the duplicates."
        )
    raise DataError(
        f"Series {uid!r} has duplicate timestamp {stamp}. "
        "Each series needs one row per timestamp: aggregate or drop the duplicates."
    )


def _check_regular(frame: pd.DataFrame, series: Series, fill: Fill | None) -> pd.DataFrame:
    longest, freq = longest_freq(frame, series)
    # Fast path: every timestamp on one grid for the whole panel, consecutive within each series.
    grid = time_grid(frame[TIME].min(), frame[TIME].max(), freq)
    positions = grid.get_indexer(pd.Index(frame[TIME]))
    codes = series[0]
    same_series = np.r_[False, codes[1:] == codes[:-1]]
    if (positions >= 0).all() and not (same_series & (np.diff(positions, prepend=-1) != 1)).any():
        return frame
    # Slow path, series by series: name the first problem, or insert the missing timestamps when asked to.
    parts = []
    for uid, part in frame.groupby(ID, sort=False):
        own = series_freq(str(uid), part[TIME])
        if own is not None and own != freq:
            raise DataError(
                f"Series have different frequencies ({longest!r}: {freq}, {uid!r}: {own}). "
                "Resample them to one frequency first."
            )
        series_grid = time_grid(part[TIME].iloc[0], part[TIME].iloc[-1], freq)
        off_grid = pd.Index(part[TIME]).difference(series_grid)
        if len(off_grid):
            raise DataError(
                f"Series {uid!r} has timestamps off its {freq} grid, first {off_grid[0]}. "
                "Resample the data to a regular frequency."
            )
        absent = series_grid.difference(pd.Index(part[TIME]))
        if len(absent) and fill is None:
            shown = ", ".join(str(t) for t in absent[:_MAX_LISTED])
            more = f" and {len(absent) - _MAX_LISTED} more" if len(absent) > _MAX_LISTED else ""
            raise DataError(
                f"Series {uid!r} has {len(absent)} missing timestamp(s) at frequency {freq}: {shown}{more}. "
                f"Insert them explicitly with {spell_value('fill', 'ffill')} or {spell_value('fill', 'zero')}, "
                "or resample the data."
            )
        if len(absent):
            part = part.set_index(TIME).reindex(series_grid).rename_axis(TIME).reset_index()
            part[ID] = uid
            part = part.ffill() if fill == "ffill" else part.fillna({TARGET: 0.0}).ffill()
            part = part[frame.columns]
        parts.append(part)
    return pd.concat(parts, ignore_index=True) if fill is not None else frame
