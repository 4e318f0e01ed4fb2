"""The torch forecaster :class:`SGDForecaster`: small networks trained by decayed SGD on ordered windows.

Where things live:

- :mod:`.estimator` -- the public estimator, its parameters and their checks, fit and predict;
- :mod:`.base_forecast` -- the base forecasts, the seasonal indices, the ``"es"`` base's
  parameters and the per-window normalisation (the ``"es"`` recursion and estimator are
  :mod:`tsforecast.models.smoothing`);
- :mod:`.training_data` -- windows, covariate inputs and the time-ordered validation split;
- :mod:`.training` -- the training loop (epochs, early stopping, logging, divergence) and the
  networks' shares of the forecasts;
- :mod:`.state` -- the fitted state, :class:`~.state.SGDState`, one object in ``state_``;
- :mod:`.save_format` -- the ``save``/``load`` file format.

``docs/sgd-design.md`` explains the design and the measurements behind the defaults.
"""

from __future__ import annotations

from .base_forecast import FAMILIES, Recipe, damped_base_matrix, drift_base_matrix, normalise, seasonal_indices
from .estimator import LOSSES, PARTIAL_SHARE, SGDForecaster
from .training_data import temporal_split

__all__ = [
    "FAMILIES",
    "LOSSES",
    "PARTIAL_SHARE",
    "Recipe",
    "SGDForecaster",
    "damped_base_matrix",
    "drift_base_matrix",
    "normalise",
    "seasonal_indices",
    "temporal_split",
]
