"""Declarative parameter validation with one message template, and the checks the command line runs first.

Each estimator or splitter declares the allowed values of its parameters once, e.g.
``{"gap": [Interval(Integral, 0, None, closed="left")]}``, and calls :func:`validate_params`
when it starts working (``fit``/``split``), never in ``__init__``. This module imports nothing
heavy (no numpy, pandas or scikit-learn), so the command line checks its flags with it at once.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any, Literal

from .errors import DataError, DataTypeError, spell_value, spelling

__all__ = ["NONE", "Interval", "Options", "check_levels", "check_names", "validate_params"]


@dataclass(frozen=True)
class Interval:
    """Numbers of ``kind`` (``Integral`` or ``Real``) between ``left`` and ``right`` (``None``: unbounded)."""

    kind: type
    left: float | None
    right: float | None
    closed: Literal["left", "right", "both", "neither"] = "both"

    def accepts_type(self, value: Any) -> bool:
        if isinstance(value, bool):
            return False
        return isinstance(value, self.kind)

    def __contains__(self, value: Any) -> bool:
        if not self.accepts_type(value) or not math.isfinite(value):
            return False
        lo_ok = self.left is None or (value >= self.left if self.closed in ("left", "both") else value > self.left)
        hi_ok = self.right is None or (value <= self.right if self.closed in ("right", "both") else value < self.right)
        return lo_ok and hi_ok

    def __str__(self) -> str:
        kind = "an int" if self.kind is Integral else "a float"
        left = "-inf" if self.left is None else f"{self.left:g}"
        right = "inf" if self.right is None else f"{self.right:g}"
        lb = "[" if self.closed in ("left", "both") and self.left is not None else "("
        rb = "]" if self.closed in ("right", "both") and self.right is not None else ")"
        return f"{kind} in the range {lb}{left}, {right}{rb}"


@dataclass(frozen=True)
class Options:
    """One of a fixed set of values (strings, booleans, ...)."""

    values: tuple[Any, ...]

    def accepts_type(self, value: Any) -> bool:
        return any(type(value) is type(v) for v in self.values)

    def __contains__(self, value: Any) -> bool:
        return any(type(value) is type(v) and value == v for v in self.values)

    def __str__(self) -> str:
        return "one of {" + ", ".join(repr(v) for v in self.values) + "}"


class _NoneType:
    def accepts_type(self, value: Any) -> bool:
        return value is None

    def __contains__(self, value: Any) -> bool:
        return value is None

    def __str__(self) -> str:
        return "None"


NONE = _NoneType()
Constraint = Interval | Options | _NoneType | type


def _describe(constraint: Constraint) -> str:
    if isinstance(constraint, type):
        return f"an instance of {constraint.__name__}"
    return str(constraint)


def _satisfies(value: Any, constraint: Constraint) -> tuple[bool, bool]:
    """Return (type accepted, value accepted)."""
    if isinstance(constraint, type):
        ok = isinstance(value, constraint)
        return ok, ok
    return constraint.accepts_type(value), value in constraint


def validate_params(owner: str, params: Mapping[str, Any], constraints: Mapping[str, Iterable[Constraint]]) -> None:
    """Check every parameter in ``constraints`` against its allowed values.

    The message names the parameter as the user does: ``The 'gap' parameter of WalkForward`` from
    Python, ``--gap`` under :func:`~tsforecast.errors.spelled_as` (the command line).

    Raises
    ------
    DataTypeError
        If a value's type matches none of the constraints.
    DataError
        If its type is right but its value is out of range.

    Examples
    --------
    >>> validate_params("Fold", {"gap": -1}, {"gap": [Interval(Integral, 0, None, closed="left")]})
    Traceback (most recent call last):
    ...
    tsforecast.errors.DataError: The 'gap' parameter of Fold must be an int in the range [0, inf). Got -1 instead.
    """
    for name, allowed in constraints.items():
        value = params[name]
        allowed = list(allowed)
        results = [_satisfies(value, c) for c in allowed]
        if any(ok for _, ok in results):
            continue
        described = [_describe(c) for c in allowed]
        expected = described[0] if len(described) == 1 else ", ".join(described[:-1]) + " or " + described[-1]
        subject = spelling(name) or f"The {name!r} parameter of {owner}"
        message = f"{subject} must be {expected}. Got {value!r} instead."
        if any(type_ok for type_ok, _ in results):
            raise DataError(message)
        raise DataTypeError(message)


def check_names(kind: str, names: Sequence[str], choices: Iterable[str]) -> None:
    """Raise one :class:`DataError` naming every unknown name, each with the closest valid one.

    Examples
    --------
    >>> check_names("model", ["etz"], ["ets", "naive"])
    Traceback (most recent call last):
    ...
    tsforecast.errors.DataError: Unknown model 'etz'. Did you mean 'ets'? Available: ets, naive.
    """
    known = list(choices)
    unknown = [name for name in names if name not in known]
    if not unknown:
        return
    hints = [difflib.get_close_matches(name, known, n=1) for name in unknown]
    if len(unknown) == 1:
        listed = f"{kind} {unknown[0]!r}." + (f" Did you mean {hints[0][0]!r}?" if hints[0] else "")
    else:
        named = (f"{n!r}" + (f" (did you mean {h[0]!r}?)" if h else "") for n, h in zip(unknown, hints, strict=True))
        listed = f"{kind}s {', '.join(named)}."
    raise DataError(f"Unknown {listed} Available: {', '.join(known)}.")


def _number(value: float) -> float | int:
    """``80.0`` as ``80``, ``99.5`` as it is: a level as the user wrote it."""
    return int(value) if float(value).is_integer() else value


def check_levels(level: Any) -> tuple[float, ...]:
    """Validate ``level``: one number or a sequence of distinct coverage percentages, each in [1, 100).

    Parameters
    ----------
    level : number or sequence of numbers
        A number, or a list, tuple, set or one-dimensional array of them (``(80, 95)``).

    Returns
    -------
    tuple of float
        The levels, ascending.

    Raises
    ------
    DataTypeError
        If a level is not a real number (a string such as ``"80"``, a bool, None).
    DataError
        If no level is given, or a level is not strictly between 0 and 100 (NaN included), is below 1
        (a fraction such as ``0.8`` written where the percentage ``80`` is meant), repeats, or has more
        than 6 significant digits (the band columns ``y_lo_<level>`` could not name it apart).

    Examples
    --------
    >>> check_levels((95, 80))
    (80.0, 95.0)
    >>> check_levels(90)
    (90.0,)
    >>> check_levels(0.8)
    Traceback (most recent call last):
    ...
    tsforecast.errors.DataError: level=0.8 is a fraction, but levels are coverage percentages: did you mean 80? ...
    """
    is_array = getattr(level, "ndim", None) == 1 and hasattr(level, "__array__")
    values = list(level) if isinstance(level, (list, tuple, set, frozenset)) or is_array else [level]
    # NOTE: the example is written as the caller writes it: level=(80, 95) in Python, --level 80,95 on the CLI.
    flag = spelling("level")
    remedy = f"Pass coverage percentages such as {f'{flag} 80,95' if flag else 'level=(80, 95)'}."
    if not values:
        raise DataError(f"{spell_value('level', level)} holds no level. {remedy}")
    for value in values:
        if isinstance(value, bool) or not isinstance(value, Real):
            raise DataTypeError(f"{spell_value('level', value)} is not a number ({type(value).__name__}). {remedy}")
        if not (math.isfinite(value) and 0 < float(value) < 100):
            raise DataError(f"{spell_value('level', value)} is not strictly between 0 and 100. {remedy}")
        if value < 1:
            percentage = _number(float(f"{float(value) * 100:.10g}"))
            raise DataError(
                f"{spell_value('level', value)} is a fraction, but levels are coverage percentages: "
                f"did you mean {percentage}? {remedy}"
            )
    floats = [float(v) for v in values]
    if len(set(floats)) != len(floats):
        written = f"{flag} {','.join(str(v) for v in values)}" if flag else spell_value("level", tuple(values))
        raise DataError(f"{written} repeats a level. {remedy}")
    for value in floats:
        if float(f"{value:g}") != value:  # NOTE: the band columns name a level with 6 significant digits
            raise DataError(
                f"{spell_value('level', value)} has more than 6 significant digits, which the band columns "
                f"(y_lo_<level>) cannot name apart. Round it, e.g. to {_number(float(f'{value:.4g}'))}."
            )
    return tuple(sorted(floats))
