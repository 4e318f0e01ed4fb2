"""The fitted state of :class:`~tsforecast.models.sgd.SGDForecaster`: everything ``fit`` learns, in one object.

``fit`` builds one :class:`SGDState` and ``predict`` reads only it (and the parameters);
:mod:`~tsforecast.models.sgd.save_format` writes it and reads it back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ...columns import TIME
from ...covariates import Covariates
from ..smoothing import Smoothing
from .base_forecast import Recipe
from .training import Member

__all__ = ["SGDState"]


@dataclass(frozen=True)
class SGDState:
    """What a fitted ``SGDForecaster`` knows.

    Attributes
    ----------
    season : int
        The seasonal period used.
    log : bool
        Whether the model works on the log of the series.
    members : tuple of Member
        The trained members: recipe, network and the epoch whose weights were kept.
    history : DataFrame
        The training log, one row per member and epoch (``SGDForecaster.history_``).
    smoothing : mapping of str to (int, Smoothing)
        Per series id (as text), the first timestamp (as int64) of its training history and the
        ``"es"`` base's parameters fitted on it; empty without an ``"es"`` member.
    scalers : mapping of str to (ndarray, ndarray)
        The means and deviations of the known-future (``"known"``) and static (``"static"``)
        covariate inputs; empty without covariates.
    frame : DataFrame
        The training frame ``predict()`` forecasts after by default.
    freq : str or int
        The frequency of the training data.
    array_input : bool
        Whether the model was fitted on a plain array (``predict()`` then returns one).
    covariates : Covariates or None
        The covariates declared at fit.
    """

    season: int
    log: bool
    members: tuple[Member, ...]
    history: pd.DataFrame
    smoothing: Mapping[str, tuple[int, Smoothing]]
    scalers: dict[str, tuple[np.ndarray, np.ndarray]]
    frame: pd.DataFrame
    freq: str | int
    array_input: bool
    covariates: Covariates | None

    @property
    def recipes(self) -> tuple[Recipe, ...]:
        """The members' recipes."""
        return tuple(member.recipe for member in self.members)

    @property
    def last_seen(self) -> Any:
        """The last timestamp of the training frame."""
        return self.frame[TIME].max()
