"""tsforecast: leakage-safe time-series forecasting and honest walk-forward backtests.

``import tsforecast`` imports none of pandas, scikit-learn, SciPy or torch: each public name loads
its module on first access (``tsf.backtest``, ``from tsforecast import WalkForward``), so the
command line answers ``--help`` at once and torch loads only with ``SGDForecaster``,
``RegressionForecaster`` (its windows are a ``WindowDataset``'s) or the window loaders
(``WindowDataset``, ``ordered_loader``, ``OrderedSampler``, ``check_no_shuffle``).
"""

from __future__ import annotations

import importlib
import sys
import types
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # NOTE: loaded lazily by __getattr__ at run time
    from .audit import AuditResult
    from .backtest import BacktestResult, audit_leakage, backtest
    from .covariates import Covariates
    from .errors import DataError, DataTypeError, LeakageError, LeakageWarning, ShuffleError, TsforecastError
    from .frames import from_pandas
    from .frequency import infer_freq
    from .loaders import load_csv, load_dataset, load_parquet
    from .models import (
        ARIMA,
        ETS,
        AutoSelect,
        Drift,
        Forecaster,
        Mean,
        Naive,
        SeasonalNaive,
        Theta,
        WalkForwardSearch,
        make_model,
        selection_optimism,
    )
    from .models.regression import RegressionForecaster
    from .models.sgd import SGDForecaster
    from .shipped import dataset_info, list_datasets
    from .shuffle_guard import OrderedSampler, check_no_shuffle, ordered_loader
    from .split import Fold, WalkForward, check_temporal_cv, temporal_train_test_split
    from .windows import WindowDataset

__version__ = "0.1.0"

__all__ = [
    "ARIMA",
    "ETS",
    "AuditResult",
    "AutoSelect",
    "BacktestResult",
    "Covariates",
    "DataError",
    "DataTypeError",
    "Drift",
    "Fold",
    "Forecaster",
    "LeakageError",
    "LeakageWarning",
    "Mean",
    "Naive",
    "OrderedSampler",
    "RegressionForecaster",
    "SGDForecaster",
    "SeasonalNaive",
    "ShuffleError",
    "Theta",
    "TsforecastError",
    "WalkForward",
    "WalkForwardSearch",
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
    "selection_optimism",
    "temporal_train_test_split",
]

_SOURCES = {
    "audit": ("AuditResult",),
    "backtest": ("BacktestResult", "audit_leakage", "backtest"),
    "covariates": ("Covariates",),
    "frames": ("from_pandas",),
    "frequency": ("infer_freq",),
    "loaders": ("load_csv", "load_dataset", "load_parquet"),
    "shipped": ("dataset_info", "list_datasets"),
    "errors": ("DataError", "DataTypeError", "LeakageError", "LeakageWarning", "ShuffleError", "TsforecastError"),
    "models": (
        "ARIMA",
        "AutoSelect",
        "ETS",
        "Drift",
        "Forecaster",
        "Mean",
        "Naive",
        "SeasonalNaive",
        "Theta",
        "WalkForwardSearch",
        "make_model",
        "selection_optimism",
    ),
    "models.regression": ("RegressionForecaster",),
    "models.sgd": ("SGDForecaster",),
    "shuffle_guard": ("OrderedSampler", "check_no_shuffle", "ordered_loader"),
    "split": ("Fold", "WalkForward", "check_temporal_cv", "temporal_train_test_split"),
    "windows": ("WindowDataset",),
}
_LAZY = {name: module for module, names in _SOURCES.items() for name in names}
"""Public name -> the submodule that defines it."""


def _write_report(result: BacktestResult, path: Path) -> Path:
    """Render ``result``'s HTML report for :meth:`BacktestResult.save`.

    The package root composes the layers: the report imports the backtest, never the reverse, and
    it (with matplotlib and Jinja2) loads only when a result is saved.
    """
    from .report import write_report

    return write_report(result, path)


class _Package(types.ModuleType):
    """The class of the package module, which hears of every submodule loaded, however it is imported.

    The import system binds each submodule it loads to an attribute of its package
    (``setattr(tsforecast, "backtest", module)``), after running it. Here that binding

    - wires the report into :class:`~tsforecast.backtest.BacktestResult` when the backtest module
      loads, whether through ``tsf.backtest`` or ``from tsforecast.backtest import ...``;
    - keeps a public name that a submodule shares (``backtest``) bound to the public object, not
      to the module, so ``tsf.backtest`` is the function whichever was imported first.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and value.__name__ == f"{self.__name__}.{name}":
            if name == "backtest":
                value.BacktestResult._write_report = _write_report
            if _LAZY.get(name) == name:
                value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str) -> Any:
    """Load a public name's module on first access, and keep the name for later ones."""
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    """The module's names, the public ones not yet loaded included."""
    return sorted({*globals(), *__all__})
