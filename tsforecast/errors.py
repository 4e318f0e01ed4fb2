"""Exceptions raised by tsforecast.

Every exception derives from :class:`TsforecastError` and also from the built-in
exception a caller would naturally catch, so ``except ValueError`` keeps working::

    TsforecastError
     ├── DataError(ValueError)          bad input data or parameters
     ├── DataTypeError(TypeError)       an argument of the wrong type
     └── LeakageError(ValueError)       future information could reach a forecast
          └── ShuffleError              shuffling was enabled on a time-ordered path

    LeakageWarning(UserWarning)         future information may reach a forecast (the covariate screen)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = [
    "SHUFFLE_REASON",
    "DataError",
    "DataTypeError",
    "LeakageError",
    "LeakageWarning",
    "ShuffleError",
    "TsforecastError",
    "spell",
    "spell_value",
    "spelled_as",
    "spelling",
]

SHUFFLE_REASON = (
    "Time series must not be shuffled: shuffling mixes observations from after the ones a model is checked "
    "against into its training, so validation scores and early stopping promise an accuracy no real forecast has, "
    "and the run stops being reproducible in time order."
)


_SPELLINGS: ContextVar[Mapping[str, str] | None] = ContextVar("tsforecast_spellings", default=None)


def spelling(param: str) -> str | None:
    """The name :func:`spelled_as` gives the parameter ``param`` (e.g. ``--seed``), or None for a Python caller.

    For messages whose Python wording differs in more than the name, e.g. ``The 'seed' parameter of
    SGDForecaster`` from Python and ``--seed`` on the command line.

    Examples
    --------
    >>> spelling("seed") is None
    True
    >>> with spelled_as({"seed": "--seed"}):
    ...     spelling("seed")
    '--seed'
    """
    spellings = _SPELLINGS.get()
    return None if spellings is None else spellings.get(param)


def spell(param: str) -> str:
    """How the user names the parameter ``param`` in the interface they are using.

    Messages name their remedies through this function, so that the same error reads
    ``time_col=`` to a Python caller and ``--time-col`` to a command-line user.

    Examples
    --------
    >>> spell("time_col")
    'time_col='
    >>> with spelled_as({"time_col": "--time-col"}):
    ...     spell("time_col")
    '--time-col'
    """
    return spelling(param) or f"{param}="


def spell_value(param: str, value: object) -> str:
    """A setting as the user would write it: ``n_splits=5`` from Python, ``--folds 5`` on the command line.

    Examples
    --------
    >>> spell_value("fill", "ffill")
    "fill='ffill'"
    >>> with spelled_as({"n_splits": "--folds"}):
    ...     spell_value("n_splits", 5)
    '--folds 5'
    """
    spelled = spell(param)
    return f"{spelled}{value!r}" if spelled.endswith("=") else f"{spelled} {value!r}"


@contextmanager
def spelled_as(spellings: Mapping[str, str]) -> Iterator[None]:
    """Within this block, :func:`spell` names parameters as ``spellings`` says (e.g. CLI flags)."""
    token = _SPELLINGS.set(spellings)
    try:
        yield
    finally:
        _SPELLINGS.reset(token)


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


class LeakageWarning(UserWarning):
    """Warned when a declared covariate may hold future values of the target (the covariate screen)."""
