"""Declarative parameter validation with one message template.

Each estimator or splitter declares the allowed values of its parameters once, e.g.
``{"gap": [Interval(Integral, 0, None, closed="left")]}``, and calls :func:`validate_params`
when it starts working (``fit``/``split``), never in ``__init__``.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from numbers import Integral
from typing import Any, Literal

from .errors import DataError, DataTypeError

__all__ = ["NONE", "Interval", "Options", "check_names", "validate_params"]


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
        message = f"The {name!r} parameter of {owner} must be {expected}. Got {value!r} instead."
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
