"""Forecasting models: the torch SGD forecaster and the baselines, behind one interface."""

from __future__ import annotations

from .._validation import check_names
from ..errors import DataTypeError
from .base import Forecaster, LocalForecaster
from .baselines import ARIMA, BASELINES, ETS, Drift, Mean, Naive, SeasonalNaive, Theta, make_baseline
from .sgd import SGDForecaster

__all__ = [
    "ARIMA",
    "ETS",
    "MODELS",
    "Drift",
    "Forecaster",
    "LocalForecaster",
    "Mean",
    "Naive",
    "SGDForecaster",
    "SeasonalNaive",
    "Theta",
    "make_model",
    "model_name",
]

MODELS: dict[str, type[Forecaster]] = {"sgd": SGDForecaster, **BASELINES}
"""Every model by the name ``backtest`` and the CLI accept."""


def make_model(name: str, *, horizon: int, season: int = 1) -> Forecaster:
    """Build the model called ``name`` with its default settings for ``horizon`` and ``season``.

    ``"sgd"`` gets a lookback of two seasons (at least 8 steps).

    Raises
    ------
    DataError
        If ``name`` is unknown; the message suggests the closest name.
    """
    if not isinstance(name, str):
        raise DataTypeError(f"A model name must be a string, got {type(name).__name__} {name!r}.")
    check_names("model", [name], MODELS)
    if name == "sgd":
        return SGDForecaster(lookback=max(2 * season, 8), horizon=horizon, season=season)
    return make_baseline(name, horizon=horizon, season=season)


def model_name(model: Forecaster) -> str:
    """The registry name of a model's class (e.g. ``"ets"``), or its class name in lower case."""
    for name, cls in MODELS.items():
        if type(model) is cls:
            return name
    return type(model).__name__.lower()
