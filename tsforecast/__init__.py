"""tsforecast: leakage-safe time-series forecasting and honest walk-forward backtests.

``import tsforecast`` does not import torch: ``SGDForecaster`` and the window loaders
(``WindowDataset``, ``ordered_loader``, ``OrderedSampler``, ``check_no_shuffle``) load it on first access.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .audit import AuditResult, audit_leakage
from .backtest import BacktestResult, backtest
from .covariates import Covariates
from .data import dataset_info, from_pandas, infer_freq, list_datasets, load_csv, load_dataset, load_parquet
from .errors import DataError, DataTypeError, LeakageError, ShuffleError, TsforecastError
from .models import ARIMA, ETS, Drift, Forecaster, Mean, Naive, SeasonalNaive, Theta, make_model
from .split import Fold, WalkForward, check_temporal_cv, temporal_train_test_split

if TYPE_CHECKING:  # NOTE: loaded lazily by __getattr__ at run time, so that torch loads only when used
    from .models.sgd import SGDForecaster
    from .shuffle_guard import OrderedSampler, check_no_shuffle, ordered_loader
    from .windows import WindowDataset

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
    "OrderedSampler",
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


def _write_report(result: BacktestResult, path: Path) -> Path:
    """Render ``result``'s HTML report for :meth:`BacktestResult.save`.

    The package root composes the layers: the report imports the backtest, never the reverse, and
    it (with matplotlib and Jinja2) loads only when a result is saved.
    """
    from .report import write_report

    return write_report(result, path)


BacktestResult._write_report = _write_report

_LAZY = {
    "SGDForecaster": ".models.sgd",
    "OrderedSampler": ".shuffle_guard",
    "WindowDataset": ".windows",
    "check_no_shuffle": ".shuffle_guard",
    "ordered_loader": ".shuffle_guard",
}


def __getattr__(name: str) -> Any:
    """Load the torch-backed public names on first access."""
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
