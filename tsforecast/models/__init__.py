"""Forecasting models: the torch SGD forecaster, the baselines and the selectors, behind one interface.

The selectors (:mod:`~tsforecast.models.selection`) choose among models on inner walk-forward folds
of each fit's data: ``WalkForwardSearch`` tunes one model, ``AutoSelect`` (``"auto"``) picks per series.

The SGD forecaster is loaded on first use (``SGDForecaster``, ``MODELS["sgd"]``,
``make_model("sgd")``), so importing the models does not import torch.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator, Mapping, MutableMapping
from typing import TYPE_CHECKING, Any

from .._validation import check_names
from ..errors import DataTypeError
from .baselines import ARIMA, BASELINES, ETS, Drift, Mean, Naive, SeasonalNaive, Theta, make_baseline
from .forecaster import Forecaster, LocalForecaster
from .selection import AutoSelect, WalkForwardSearch, selection_optimism

if TYPE_CHECKING:  # NOTE: loaded lazily by __getattr__ at run time, so that torch loads only when used
    from .sgd import SGDForecaster

__all__ = [
    "ARIMA",
    "ETS",
    "MODELS",
    "AutoSelect",
    "Drift",
    "Forecaster",
    "LocalForecaster",
    "Mean",
    "Naive",
    "SGDForecaster",
    "SeasonalNaive",
    "Theta",
    "WalkForwardSearch",
    "make_model",
    "model_name",
    "registry_name",
    "selection_optimism",
]


def __getattr__(name: str) -> Any:
    """Load ``SGDForecaster`` (and torch) on first access."""
    if name == "SGDForecaster":
        return importlib.import_module(f"{__name__}.sgd").SGDForecaster
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _Registry(MutableMapping[str, "type[Forecaster]"]):
    """Model classes by name, like a dict; ``"sgd"`` is imported (with torch) only when it is looked up."""

    def __init__(self, baselines: Mapping[str, type[Forecaster]]) -> None:
        self._classes: dict[str, type[Forecaster] | None] = {"sgd": None, **baselines}  # None: not imported yet

    def __getitem__(self, name: str) -> type[Forecaster]:
        cls = self._classes[name]
        if cls is None:
            cls = self._classes[name] = __getattr__("SGDForecaster")
        return cls

    def __setitem__(self, name: str, cls: type[Forecaster]) -> None:
        self._classes[name] = cls

    def __delitem__(self, name: str) -> None:
        del self._classes[name]

    def __contains__(self, name: object) -> bool:
        return name in self._classes

    def __iter__(self) -> Iterator[str]:
        return iter(self._classes)

    def __len__(self) -> int:
        return len(self._classes)

    def loaded(self) -> Iterator[tuple[str, type[Forecaster]]]:
        """The ``(name, class)`` pairs whose class is already imported (never imports torch)."""
        imported = f"{__name__}.sgd" in sys.modules  # NOTE: an SGDForecaster may exist without a registry lookup
        return ((name, self[name]) for name, cls in self._classes.items() if cls is not None or imported)


MODELS = _Registry({**BASELINES, "auto": AutoSelect})
"""Every model by the name ``backtest`` and the CLI accept (a read-only mapping name -> class)."""


def make_model(name: str, *, horizon: int, season: int = 1) -> Forecaster:
    """Build the model called ``name`` with its default settings for ``horizon`` and ``season``.

    ``"sgd"`` gets a lookback of two seasons (at least 8 steps); ``"auto"`` is
    :class:`~tsforecast.models.selection.AutoSelect` among seasonal naive, ETS and Theta.

    Raises
    ------
    DataError
        If ``name`` is unknown; the message suggests the closest name.
    """
    if not isinstance(name, str):
        raise DataTypeError(f"A model name must be a string, got {type(name).__name__} {name!r}.")
    check_names("model", [name], MODELS)
    if name == "sgd":
        return MODELS["sgd"](lookback=max(2 * season, 8), horizon=horizon, season=season)  # type: ignore[call-arg]
    if name == "auto":
        return AutoSelect(horizon=horizon, season=season)
    return make_baseline(name, horizon=horizon, season=season)


def model_name(model: Forecaster) -> str:
    """The registry name of a model's class (e.g. ``"ets"``), or, for any other class (a subclass
    included), its class name as written (``"MyNaive"``). A class written in lower case like a
    registry name (``class ets(Naive)``) keeps it; a run then tells the two apart with ``#2``.
    A :class:`WalkForwardSearch` is named after the model it tunes: ``"search(seasonal_naive)"``."""
    if type(model) is WalkForwardSearch:
        return f"search({model_name(model.model)})"
    return registry_name(model) or type(model).__name__


def registry_name(model: Forecaster) -> str | None:
    """The name a model's exact class is registered under in :data:`MODELS`, or None."""
    for name, cls in MODELS.loaded():
        if type(model) is cls:
            return name
    return None
