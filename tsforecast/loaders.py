"""Read files into the canonical long frame: CSV, Parquet and the shipped datasets.

Each loader reads its source and hands the frame to :func:`~tsforecast.frames.from_pandas`, which
validates it; the file is never modified. A CSV file's id column is read as text exactly as written
(:func:`read_raw_csv`), so stores ``007`` and ``7`` stay two series; a missing or unreadable file is
refused with a :class:`~tsforecast.errors.DataError` naming it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
from pandas._libs.parsers import STR_NA_VALUES

from .columns import ID, TARGET, TIME, Fill
from .errors import DataError
from .frames import from_pandas
from .shipped import dataset_file

__all__ = ["load_csv", "load_dataset", "load_parquet", "read_raw_csv"]


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
    return from_pandas(read_raw_csv(dataset_file(name), ID), name=name)


def load_csv(
    path: str | Path,
    time_col: str = TIME,
    target_col: str = TARGET,
    id_col: str | None = None,
    *,
    fill: Fill | None = None,
    date_format: str | None = None,
) -> pd.DataFrame:
    """Read a CSV file into a validated long frame (see :func:`~tsforecast.frames.from_pandas`).

    The id column (``id_col``, else a ``unique_id`` column) is read as text exactly as written, with
    no conversion to numbers or to missing values (see :func:`read_raw_csv`): stores ``007`` and ``7``
    are two series, and ``NA``, ``null``, ``N/A`` and ``None`` are ids like any other, kept as
    written, since an id is a label. An empty id field is refused. The other columns are read as
    pandas reads them, missing values included, so a missing target is refused as such. A single
    series (no ``id_col`` and no ``unique_id`` column) is named after the file's stem. ``fill`` and
    ``date_format`` are passed on to :func:`~tsforecast.frames.from_pandas`.

    Raises
    ------
    DataError
        If the file does not exist, cannot be parsed, has an empty id, or its data are invalid.
    """
    path = Path(path)
    frame = read_raw_csv(path, id_col if id_col is not None else ID)
    return from_pandas(frame, time_col, target_col, id_col, name=path.stem, fill=fill, date_format=date_format)


def load_parquet(
    path: str | Path,
    time_col: str = TIME,
    target_col: str = TARGET,
    id_col: str | None = None,
    *,
    fill: Fill | None = None,
    date_format: str | None = None,
) -> pd.DataFrame:
    """Read a Parquet file into a validated long frame (see :func:`load_csv`).

    Ids become text as :func:`~tsforecast.frames.from_pandas` says: stored integers ``7`` become ``"7"``, stored text
    ``"007"`` stays ``"007"``, and a missing id is refused. ``date_format`` applies when the time
    column is stored as text (or integers such as 20240131).
    """
    path = Path(path)
    frame = _read(path, pd.read_parquet)
    return from_pandas(frame, time_col, target_col, id_col, name=path.stem, fill=fill, date_format=date_format)


def read_raw_csv(path: str | Path, id_col: str = ID) -> pd.DataFrame:
    """Read a CSV file as pandas does, except its id column, which is read as text exactly as written.

    Nothing is validated: this is the reading :func:`load_csv` validates. Column ``id_col`` (when
    the file has it) holds strings, with no conversion to numbers (``007`` stays ``"007"``) or to
    missing values (``NA``, ``null`` or ``None`` stay as written; an empty field is ``""``). The
    other columns get pandas' usual types and missing values.

    Parameters
    ----------
    path : str or Path
        The CSV file.
    id_col : str
        The column of series ids.

    Returns
    -------
    DataFrame
        The file's columns, in its order.

    Raises
    ------
    DataError
        If the file does not exist or cannot be parsed.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "stores.csv"
    >>> _ = path.write_text("store,y\\n007,1\\nNA,\\n")
    >>> read_raw_csv(path, "store").to_dict("list")
    {'store': ['007', 'NA'], 'y': [1.0, nan]}
    """
    path = Path(path)
    header = _read(path, lambda p: pd.read_csv(p, nrows=0)).columns
    if id_col not in header:
        return _read(path, pd.read_csv)
    # NOTE: keep_default_na=False reads the id column verbatim; the other columns get pandas' default missing values.
    others = dict.fromkeys((c for c in header if c != id_col), STR_NA_VALUES)
    return _read(path, lambda p: pd.read_csv(p, dtype={id_col: str}, keep_default_na=False, na_values=others))


def _read(path: Path, reader: Callable[[Path], pd.DataFrame]) -> pd.DataFrame:
    if not path.is_file():
        raise DataError(f"Data file {str(path)!r} does not exist. Check the path, or pass a shipped dataset name.")
    try:
        return reader(path)
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise DataError(f"Could not read {str(path)!r}: {exc}. Is it a valid {path.suffix or 'data'} file?") from exc
