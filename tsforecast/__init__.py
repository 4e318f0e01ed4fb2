"""tsforecast: leakage-safe time-series forecasting and honest walk-forward backtests."""

from __future__ import annotations

from .data import dataset_info, from_pandas, infer_freq, list_datasets, load_csv, load_dataset, load_parquet
from .errors import DataError, DataTypeError, LeakageError, ShuffleError, TsforecastError

__version__ = "0.1.0"

__all__ = [
    "DataError",
    "DataTypeError",
    "LeakageError",
    "ShuffleError",
    "TsforecastError",
    "dataset_info",
    "from_pandas",
    "infer_freq",
    "list_datasets",
    "load_csv",
    "load_dataset",
    "load_parquet",
]
