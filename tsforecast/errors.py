"""Exceptions raised by tsforecast.

Every exception derives from :class:`TsforecastError` and also from the built-in
exception a caller would naturally catch, so ``except ValueError`` keeps working::

    TsforecastError
     ├── DataError(ValueError)          bad input data or parameters
     ├── DataTypeError(TypeError)       an argument of the wrong type
     └── LeakageError(ValueError)       future information could reach a forecast
          └── ShuffleError              shuffling was enabled on a time-ordered path
"""

from __future__ import annotations

__all__ = ["SHUFFLE_REASON", "DataError", "DataTypeError", "LeakageError", "ShuffleError", "TsforecastError"]

SHUFFLE_REASON = (
    "Time series must not be shuffled: shuffling mixes observations from after the ones a model is checked "
    "against into its training, so validation scores and early stopping promise an accuracy no real forecast has, "
    "and the run stops being reproducible in time order."
)


class TsforecastError(Exception):
    """Base class of every exception raised by tsforecast."""


class DataError(TsforecastError, ValueError):
    """Raised when data or a parameter value is invalid (NaN, unsorted, too short, ...)."""


class DataTypeError(TsforecastError, TypeError):
    """Raised when an argument has the wrong type (a string where a number is expected, ...)."""


class LeakageError(TsforecastError, ValueError):
    """Raised when a split, a model or a covariate would let data after a cutoff reach a forecast."""


class ShuffleError(LeakageError):
    """Raised when shuffling is enabled on a loader, sampler, splitter or estimator.

    Time series must not be shuffled: a shuffled split trains on the future of its test data.
    """
