"""tsforecast: leakage-safe time-series forecasting and honest walk-forward backtests."""

from __future__ import annotations

from .audit import AuditResult, audit_leakage
from .backtest import BacktestResult, backtest
from .covariates import Covariates
from .data import dataset_info, from_pandas, infer_freq, list_datasets, load_csv, load_dataset, load_parquet
from .errors import DataError, DataTypeError, LeakageError, ShuffleError, TsforecastError
from .models import ARIMA, ETS, Drift, Forecaster, Mean, Naive, SeasonalNaive, SGDForecaster, Theta, make_model
from .split import Fold, WalkForward, check_temporal_cv, temporal_train_test_split
from .windows import WindowDataset, check_no_shuffle, ordered_loader

__version__ = "0.1.0"

__all__ = [
    "ARIMA",
    "ETS",
    "AuditResult",
    "BacktestResult",
    "Covariates",
    "DataError",
    "DataTypeError",
    "Drift",
    "Fold",
    "Forecaster",
    "LeakageError",
    "Mean",
    "Naive",
    "SGDForecaster",
    "SeasonalNaive",
    "ShuffleError",
    "Theta",
    "TsforecastError",
    "WalkForward",
    "WindowDataset",
    "audit_leakage",
    "backtest",
    "check_no_shuffle",
    "check_temporal_cv",
    "dataset_info",
    "from_pandas",
    "infer_freq",
    "list_datasets",
    "load_csv",
    "load_dataset",
    "load_parquet",
    "make_model",
    "ordered_loader",
    "temporal_train_test_split",
]
