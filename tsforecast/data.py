"""Load and validate time series in the canonical long format ``unique_id, ds, y``.

Every loader returns a new DataFrame sorted by ``unique_id, ds`` with ``unique_id`` as strings,
``ds`` as ``datetime64`` (or integers for an integer time index) and ``y`` as ``float64``; any
other columns (covariates) follow unchanged. The caller's file or frame is never modified.

Validation refuses, with a :class:`~tsforecast.errors.DataError` naming the series, the first
offending row and the fix: missing columns, unparsable timestamps, a non-numeric or non-finite
target, unsorted or duplicate timestamps, and missing or off-grid timestamps. Missing timestamps
can be inserted explicitly with ``fill="ffill"`` or ``fill="zero"``; there is deliberately no
interpolation, because interpolating a gap uses the value after it, which is future information
for any cutoff inside the gap.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any, Literal, NoReturn

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from ._validation import NONE, Options, check_names, validate_params
from .errors import DataError, DataTypeError

__all__ = [
    "FREQUENCY_NAMES",
    "DatasetInfo",
    "dataset_info",
    "describe_freq",
    "format_time",
    "from_pandas",
    "future_times",
    "infer_freq",
    "list_datasets",
    "load_csv",
    "load_dataset",
    "load_parquet",
    "season_length",
]

ID, TIME, TARGET = "unique_id", "ds", "y"
Fill = Literal["ffill", "zero"]
_MAX_LISTED = 5


@dataclass(frozen=True)
class DatasetInfo:
    """Description of a shipped dataset."""

    name: str
    description: str
    source: str
    freq: str
    season: int


_DATASETS = {
    info.name: info
    for info in (
        DatasetInfo("air_passengers", "Monthly airline passengers, 1949-1960", "R datasets::AirPassengers", "MS", 12),
        DatasetInfo("elnino_sst", "Monthly El Nino sea-surface temperature, 1950-2010", "statsmodels elnino", "MS", 12),
        DatasetInfo("ausbeer", "Quarterly Australian beer production", "fpp2::ausbeer", "QS-JAN", 4),
        DatasetInfo("lynx", "Annual Canadian lynx trappings, 1821-1934", "R datasets::lynx", "YS-JAN", 1),
        DatasetInfo("nile", "Annual flow of the river Nile, 1871-1970", "R datasets::Nile", "YS-JAN", 1),
        DatasetInfo(
            "elecdaily",
            "Daily electricity demand in Victoria, 2014, with WorkDay and Temperature",
            "fpp2::elecdaily",
            "D",
            7,
        ),
        DatasetInfo(
            "taylor", "Half-hourly electricity demand, England and Wales, 2000", "forecast::taylor", "30min", 48
        ),
        DatasetInfo(
            "arrivals", "Quarterly arrivals to Australia from 4 countries (panel)", "fpp2::arrivals", "QS-JAN", 4
        ),
        DatasetInfo(
            "uk_lung_deaths", "Monthly UK lung-disease deaths, male and female (panel)", "R mdeaths/fdeaths", "MS", 12
        ),
    )
}


def _dataset_dir() -> Path:
    # NOTE: an installed wheel carries the CSVs as package data (tsforecast/datasets/); a source
    # checkout (tests run from the repository) reads the repository's top-level datasets/ folder.
    packaged = Path(str(resources.files("tsforecast"))) / "datasets"
    return packaged if packaged.is_dir() else Path(__file__).resolve().parents[1] / "datasets"


def list_datasets() -> list[str]:
    """Names of the shipped datasets, for :func:`load_dataset`.

    Examples
    --------
    >>> "air_passengers" in list_datasets()
    True
    """
    return sorted(_DATASETS)


def _check_dataset_name(name: str) -> DatasetInfo:
    check_names("dataset", [name], list_datasets())
    return _DATASETS[name]


def dataset_info(name: str) -> DatasetInfo:
    """Return the description, source, frequency and season of a shipped dataset."""
    return _check_dataset_name(name)


def load_dataset(name: str) -> pd.DataFrame:
    """Load a shipped real dataset as a validated long frame.

    Single series get ``unique_id`` equal to the dataset name; panels keep their own ids.

    Raises
    ------
    DataError
        If ``name`` is not a shipped dataset (the message suggests the closest name).

    Examples
    --------
    >>> df = load_dataset("air_passengers")
    >>> df.shape, list(df.columns)
    ((144, 3), ['unique_id', 'ds', 'y'])
    """
    _check_dataset_name(name)
    frame = pd.read_csv(_dataset_dir() / f"{name}.csv")
    return from_pandas(frame, id_col=ID if ID in frame.columns else None, name=name)


def load_csv(
    path: str | Path,
    time_col: str = TIME,
    target_col: str = TARGET,
    id_col: str | None = None,
    *,
    fill: Fill | None = None,
) -> pd.DataFrame:
    """Read a CSV file into a validated long frame (see :func:`from_pandas`).

    A single series (no ``id_col`` and no ``unique_id`` column) is named after the file's stem.

    Raises
    ------
    DataError
        If the file does not exist, cannot be parsed, or its data are invalid.
    """
    path = Path(path)
    frame = _read(path, pd.read_csv)
    return from_pandas(frame, time_col, target_col, id_col, name=path.stem, fill=fill)


def load_parquet(
    path: str | Path,
    time_col: str = TIME,
    target_col: str = TARGET,
    id_col: str | None = None,
    *,
    fill: Fill | None = None,
) -> pd.DataFrame:
    """Read a Parquet file into a validated long frame (see :func:`load_csv`)."""
    path = Path(path)
    frame = _read(path, pd.read_parquet)
    return from_pandas(frame, time_col, target_col, id_col, name=path.stem, fill=fill)


def _read(path: Path, reader) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    if not path.is_file():
        raise DataError(f"Data file {str(path)!r} does not exist. Check the path, or pass a shipped dataset name.")
    try:
        return reader(path)
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise DataError(f"Could not read {str(path)!r}: {exc}. Is it a valid {path.suffix or 'data'} file?") from exc


def from_pandas(
    data: pd.DataFrame | pd.Series,
    time_col: str = TIME,
    target_col: str = TARGET,
    id_col: str | None = None,
    *,
    name: str = "series",
    fill: Fill | None = None,
) -> pd.DataFrame:
    """Convert a DataFrame or Series into the validated canonical long frame.

    Parameters
    ----------
    data : DataFrame or Series
        A frame with a time column, a target column and optionally an id column; or a Series whose
        index holds the timestamps (a ``DatetimeIndex`` or integers).
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

    Returns
    -------
    DataFrame
        Columns ``unique_id, ds, y`` followed by any other columns, sorted by ``unique_id, ds``.

    Raises
    ------
    DataTypeError
        If ``data`` is not a DataFrame or Series.
    DataError
        For missing columns, unparsable timestamps, non-numeric or non-finite targets, unsorted,
        duplicate, missing or off-grid timestamps, or frequencies that differ across series.

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
    validate_params("from_pandas", {"fill": fill}, {"fill": [Options(("ffill", "zero")), NONE]})
    if isinstance(data, pd.Series):
        frame = pd.DataFrame({time_col: data.index, target_col: data.to_numpy()})
    elif isinstance(data, pd.DataFrame):
        frame = data.copy()
    else:
        raise DataTypeError(
            f"Expected a pandas DataFrame or Series, got {type(data).__name__}. "
            "Wrap arrays with pd.Series(values, index=timestamps)."
        )
    if id_col is None and ID in frame.columns:
        id_col = ID
    required = [c for c in (time_col, target_col, id_col) if c is not None]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise DataError(
            f"Missing column(s) {missing}; the data have {list(frame.columns)}. "
            "Name the right ones with time_col=, target_col= and id_col=."
        )
    if frame.empty:
        raise DataError("The data are empty: at least one row per series is needed.")
    ids = frame[id_col].astype(str) if id_col is not None else pd.Series(name, index=frame.index)
    clash = [c for c in (ID, TIME, TARGET) if c in frame.columns and c not in required]
    if clash:
        raise DataError(
            f"Column(s) {clash} would be replaced by the canonical {ID}, {TIME}, {TARGET} columns. "
            "Rename or drop them first, so no data is lost."
        )
    others = [c for c in frame.columns if c not in required]
    out = pd.DataFrame({ID: ids.to_numpy(), TIME: _parse_time(frame[time_col], time_col)})
    out[TARGET] = _parse_target(frame[target_col], target_col, out)
    for col in others:
        out[col] = frame[col].to_numpy()
    _check_order(out)
    out = out.sort_values([ID, TIME], kind="stable").reset_index(drop=True)
    return _check_regular(out, fill)


def _parse_time(col: pd.Series, time_col: str) -> pd.Series:
    if col.isna().any():
        # NOTE: checked before the dtype shortcuts: NaT in a datetime column or <NA> in a nullable
        # integer column used to escape validation and crash later with a pandas error.
        _refuse_time(col, int(np.flatnonzero(col.isna().to_numpy())[0]), time_col)
    if pd.api.types.is_float_dtype(col):
        # NOTE: pd.to_datetime would read floats as nanoseconds since 1970; whole numbers are an integer index.
        values = col.to_numpy(dtype="float64")
        fractional = np.flatnonzero(~np.isfinite(values) | (values != np.round(values)))
        if len(fractional):
            _refuse_time(col, int(fractional[0]), time_col)
        return pd.Series(values.astype(np.int64), name=col.name)
    if pd.api.types.is_integer_dtype(col):  # nullable Int64 and friends become plain int64
        return pd.Series(col.to_numpy(dtype=np.int64), name=col.name)
    if pd.api.types.is_datetime64_any_dtype(col):
        return col.reset_index(drop=True)
    parsed = pd.to_datetime(col, errors="coerce", format="mixed")
    bad = parsed.isna() & col.notna()
    if bad.any():
        _refuse_time(col, int(np.flatnonzero(bad.to_numpy())[0]), time_col)
    return parsed.reset_index(drop=True)


def _refuse_time(col: pd.Series, row: int, time_col: str) -> NoReturn:
    raise DataError(
        f"Column {time_col!r} has a value that is not a timestamp at row {row}: {col.iloc[row]!r}. "
        "Use ISO dates such as 2020-01-31, or integers for an integer time index."
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
    return values


def _check_order(frame: pd.DataFrame) -> None:
    # Fast path: rows grouped by series (file order kept within each), consecutive stamps strictly increasing.
    codes = pd.factorize(frame[ID])[0]
    order = np.argsort(codes, kind="stable")
    stamps, series = frame[TIME].to_numpy()[order], codes[order]
    if not (series[1:] == series[:-1])[stamps[1:] <= stamps[:-1]].any():
        return
    for uid, times in frame.groupby(ID, sort=False)[TIME]:
        stamps = times.to_numpy()
        duplicate = np.flatnonzero(stamps[1:] == stamps[:-1])
        if len(duplicate):
            raise DataError(
                f"Series {uid!r} has duplicate timestamp {times.iloc[duplicate[0] + 1]}. "
                "Each series needs one row per timestamp: aggregate or drop the duplicates."
            )
        backwards = np.flatnonzero(stamps[1:] < stamps[:-1])
        if len(backwards):
            pos = backwards[0] + 1
            raise DataError(
                f"Series {uid!r} is not sorted by time: {times.iloc[pos]} is listed after {times.iloc[pos - 1]}. "
                f"Sort it first, e.g. df.sort_values([{ID!r}, {TIME!r}])."
            )


def _pandas_freq(index: pd.DatetimeIndex) -> str | None:
    with warnings.catch_warnings():
        # pandas 3 announces that infer_freq will return an offset; to_offset() accepts both.
        warnings.simplefilter("ignore", DeprecationWarning)
        freq = pd.infer_freq(index)
    return None if freq is None else str(to_offset(freq).freqstr)


def _series_freq(uid: str, times: pd.Series) -> str | int | None:
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


def _grid(first: Any, last: Any, freq: str | int) -> pd.Index:
    if isinstance(freq, int):
        return pd.Index(np.arange(first, last + 1, freq))
    return pd.date_range(first, last, freq=freq)


def _longest_freq(frame: pd.DataFrame) -> tuple[str, str | int]:
    sizes = frame.groupby(ID, sort=False).size()
    if sizes.max() < 3:
        raise DataError(
            "Every series has fewer than 3 timestamps, so no frequency can be inferred. Provide longer series."
        )
    longest = str(sizes.idxmax())
    freq = _series_freq(longest, frame.loc[frame[ID] == longest, TIME])
    assert freq is not None
    return longest, freq


def _check_regular(frame: pd.DataFrame, fill: Fill | None) -> pd.DataFrame:
    longest, freq = _longest_freq(frame)
    # Fast path: every timestamp on one grid for the whole panel, consecutive within each series.
    grid = _grid(frame[TIME].min(), frame[TIME].max(), freq)
    positions = grid.get_indexer(pd.Index(frame[TIME]))
    ids = frame[ID].to_numpy()
    same_series = np.r_[False, ids[1:] == ids[:-1]]
    if (positions >= 0).all() and not (same_series & (np.diff(positions, prepend=-1) != 1)).any():
        return frame
    # Slow path, series by series: name the first problem, or insert the missing timestamps when asked to.
    parts = []
    for uid, part in frame.groupby(ID, sort=False):
        own = _series_freq(str(uid), part[TIME])
        if own is not None and own != freq:
            raise DataError(
                f"Series have different frequencies ({longest!r}: {freq}, {uid!r}: {own}). "
                "Resample them to one frequency first."
            )
        series_grid = _grid(part[TIME].iloc[0], part[TIME].iloc[-1], freq)
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
                "Insert them explicitly with fill='ffill' or fill='zero', or resample the data."
            )
        if len(absent):
            part = part.set_index(TIME).reindex(series_grid).rename_axis(TIME).reset_index()
            part[ID] = uid
            part = part.ffill() if fill == "ffill" else part.fillna({TARGET: 0.0}).ffill()
            part = part[frame.columns]
        parts.append(part)
    return pd.concat(parts, ignore_index=True) if fill is not None else frame


def infer_freq(df: pd.DataFrame) -> str | int:
    """Frequency of a validated long frame: a pandas alias, or the step of an integer time index.

    Read from the longest series (validation has checked that every series shares it).

    Raises
    ------
    DataError
        If no series has 3 timestamps.
    """
    return _longest_freq(df)[1]


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


# ------------------------------------------------------------------------------- time helpers ---- #

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


def future_times(last: Any, freq: str | int, horizon: int) -> pd.Index:
    """The ``horizon`` timestamps after ``last`` at frequency ``freq``.

    Examples
    --------
    >>> future_times(pd.Timestamp("2024-01-01"), "MS", 2).strftime("%Y-%m").tolist(), future_times(9, 1, 2).tolist()
    (['2024-02', '2024-03'], [10, 11])
    """
    if isinstance(freq, int):
        return pd.Index(int(last) + freq * np.arange(1, horizon + 1))
    return pd.date_range(last, periods=horizon + 1, freq=freq)[1:]
