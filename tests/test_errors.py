"""The exception hierarchy of tsforecast.errors."""

from __future__ import annotations

import pytest

import tsforecast
from tsforecast.errors import (
    SHUFFLE_REASON,
    DataError,
    DataTypeError,
    LeakageError,
    ShuffleError,
    TsforecastError,
    spell,
    spelled_as,
    spelling,
)


@pytest.mark.parametrize(
    ("cls", "bases"),
    [
        (DataError, (TsforecastError, ValueError)),
        (DataTypeError, (TsforecastError, TypeError)),
        (LeakageError, (TsforecastError, ValueError)),
        (ShuffleError, (LeakageError, TsforecastError, ValueError)),
        (TsforecastError, (Exception,)),
    ],
)
def test_exception_subclasses_its_builtin_and_the_package_base(cls: type, bases: tuple[type, ...]) -> None:
    for base in bases:
        assert issubclass(cls, base)


@pytest.mark.parametrize(
    ("cls", "not_a"),
    [
        (DataError, TypeError),
        (DataTypeError, ValueError),
        (LeakageError, DataError),
        (ShuffleError, DataError),
        (DataError, LeakageError),
    ],
)
def test_exception_branches_do_not_overlap(cls: type, not_a: type) -> None:
    assert not issubclass(cls, not_a)


@pytest.mark.parametrize(
    ("cls", "builtin"),
    [(DataError, ValueError), (DataTypeError, TypeError), (LeakageError, ValueError), (ShuffleError, ValueError)],
)
def test_exception_is_caught_by_an_ordinary_except_clause(cls: type[Exception], builtin: type[Exception]) -> None:
    with pytest.raises(builtin, match="the message"):
        raise cls("the message")


def test_shuffle_error_is_caught_as_leakage_error() -> None:
    with pytest.raises(LeakageError, match="shuffled"):
        raise ShuffleError("shuffled")


@pytest.mark.parametrize("name", ["TsforecastError", "DataError", "DataTypeError", "LeakageError", "ShuffleError"])
def test_exception_is_exported_from_the_top_level(name: str) -> None:
    assert name in tsforecast.__all__
    assert getattr(tsforecast, name) is getattr(tsforecast.errors, name)


@pytest.mark.parametrize("cls", [TsforecastError, DataError, DataTypeError, LeakageError, ShuffleError])
def test_exception_has_a_docstring_saying_when_it_is_raised(cls: type) -> None:
    assert cls.__doc__
    assert "raise" in cls.__doc__.lower() or "base class" in cls.__doc__.lower()


def test_shuffle_reason_says_time_series_must_not_be_shuffled() -> None:
    assert "must not be shuffled" in SHUFFLE_REASON
    assert SHUFFLE_REASON.startswith("Time series")


def test_spelling_is_none_for_a_python_caller_and_the_flag_under_spelled_as() -> None:
    assert spelling("seed") is None
    assert spell("seed") == "seed="
    with spelled_as({"seed": "--seed"}):
        assert spelling("seed") == "--seed"
        assert spelling("gap") is None  # a parameter the interface does not rename
        assert spell("gap") == "gap="
    assert spelling("seed") is None
