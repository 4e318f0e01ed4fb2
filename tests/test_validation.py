"""Declarative parameter validation: Interval, Options, NONE and the one message template."""

from __future__ import annotations

import math
import re
from numbers import Integral, Real
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tsforecast._validation import NONE, Interval, Options, check_levels, validate_params
from tsforecast.errors import DataError, DataTypeError, spelled_as

NON_NEGATIVE_INT = Interval(Integral, 0, None, closed="left")
POSITIVE_INT = Interval(Integral, 1, None, closed="left")
UNIT_FLOAT = Interval(Real, 0, 1, closed="neither")


def _check(value: Any, *constraints: Any, name: str = "gap", owner: str = "WalkForward") -> None:
    validate_params(owner, {name: value}, {name: constraints})


@pytest.mark.parametrize(
    ("interval", "text"),
    [
        (Interval(Integral, 0, None, closed="left"), "an int in the range [0, inf)"),
        (Interval(Integral, 1, None, closed="left"), "an int in the range [1, inf)"),
        (Interval(Integral, 1, 10, closed="both"), "an int in the range [1, 10]"),
        (Interval(Real, 0, 1, closed="neither"), "a float in the range (0, 1)"),
        (Interval(Real, 0, 1, closed="right"), "a float in the range (0, 1]"),
        (Interval(Real, 0.5, 2.5, closed="left"), "a float in the range [0.5, 2.5)"),
        (Interval(Real, None, 0, closed="both"), "a float in the range (-inf, 0]"),
        (Interval(Real, None, None, closed="both"), "a float in the range (-inf, inf)"),
    ],
)
def test_interval_describes_itself_in_the_sklearn_template(interval: Interval, text: str) -> None:
    assert str(interval) == text


@pytest.mark.parametrize(
    ("interval", "inside", "outside"),
    [
        (Interval(Integral, 0, None, closed="left"), [0, 1, 10**12, np.int64(3)], [-1, -(10**9)]),
        (Interval(Integral, 1, 3, closed="both"), [1, 2, 3], [0, 4]),
        (Interval(Integral, 1, 3, closed="neither"), [2], [1, 3]),
        (Interval(Integral, 1, 3, closed="right"), [2, 3], [1, 4]),
        (Interval(Real, 0, 1, closed="neither"), [0.5, 1e-9, np.float32(0.25)], [0.0, 1.0, 1, -0.1, math.nan]),
        (Interval(Real, 0, 1, closed="both"), [0, 1, 0.0, 1.0], [1.01, math.inf]),
        (Interval(Real, None, None, closed="neither"), [-1e300, 0, 1e300], [math.nan, math.inf, -math.inf]),
    ],
)
def test_interval_contains_exactly_its_values(interval: Interval, inside: list[Any], outside: list[Any]) -> None:
    for value in inside:
        assert value in interval
    for value in outside:
        assert value not in interval


@pytest.mark.parametrize("value", [True, False, np.bool_(True)])
@pytest.mark.parametrize("kind", [Integral, Real])
def test_bool_is_not_a_number(value: Any, kind: type) -> None:
    interval = Interval(kind, None, None)
    assert not interval.accepts_type(value)
    assert value not in interval


@pytest.mark.parametrize("value", ["1", 1.0, 2.5, None, [1], b"1"])
def test_integral_interval_refuses_other_types(value: Any) -> None:
    assert not POSITIVE_INT.accepts_type(value)
    assert value not in POSITIVE_INT


def test_real_interval_accepts_ints_as_reals() -> None:
    assert UNIT_FLOAT.accepts_type(1)
    assert 1 not in UNIT_FLOAT


def test_options_describe_and_contain_their_values() -> None:
    options = Options(("expanding", "sliding"))
    assert str(options) == "one of {'expanding', 'sliding'}"
    assert "sliding" in options
    assert "rolling" not in options
    assert options.accepts_type("rolling")
    assert not options.accepts_type(1)


def test_options_compare_types_exactly() -> None:
    options = Options((False,))
    assert False in options
    assert 0 not in options
    assert not options.accepts_type(0)
    assert str(options) == "one of {False}"


def test_none_constraint() -> None:
    assert str(NONE) == "None"
    assert None in NONE
    assert 0 not in NONE
    assert NONE.accepts_type(None)
    assert not NONE.accepts_type("None")


@pytest.mark.parametrize(
    ("value", "constraints", "message"),
    [
        (
            -1,
            [NON_NEGATIVE_INT],
            "The 'gap' parameter of WalkForward must be an int in the range [0, inf). Got -1 instead.",
        ),
        (
            0,
            [POSITIVE_INT, NONE],
            "The 'gap' parameter of WalkForward must be an int in the range [1, inf) or None. Got 0 instead.",
        ),
        (
            "rolling",
            [Options(("expanding", "sliding"))],
            "The 'gap' parameter of WalkForward must be one of {'expanding', 'sliding'}. Got 'rolling' instead.",
        ),
        (
            1.5,
            [POSITIVE_INT, UNIT_FLOAT],
            "The 'gap' parameter of WalkForward must be an int in the range [1, inf) or a float in the range (0, 1). "
            "Got 1.5 instead.",
        ),
        (
            0,
            [Interval(Integral, 5, 9), Options(("auto",)), NONE],
            "The 'gap' parameter of WalkForward must be an int in the range [5, 9], one of {'auto'} or None. "
            "Got 0 instead.",
        ),
        (
            math.nan,
            [UNIT_FLOAT],
            "The 'gap' parameter of WalkForward must be a float in the range (0, 1). Got nan instead.",
        ),
    ],
)
def test_out_of_range_value_raises_data_error_with_the_template(
    value: Any, constraints: list[Any], message: str
) -> None:
    with pytest.raises(DataError, match=re.escape(message)) as info:
        _check(value, *constraints)
    assert not isinstance(info.value, DataTypeError)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("value", "constraints", "message"),
    [
        (
            "3",
            [POSITIVE_INT],
            "The 'gap' parameter of WalkForward must be an int in the range [1, inf). Got '3' instead.",
        ),
        (
            2.0,
            [POSITIVE_INT],
            "The 'gap' parameter of WalkForward must be an int in the range [1, inf). Got 2.0 instead.",
        ),
        (
            None,
            [POSITIVE_INT],
            "The 'gap' parameter of WalkForward must be an int in the range [1, inf). Got None instead.",
        ),
        (
            True,
            [NON_NEGATIVE_INT],
            "The 'gap' parameter of WalkForward must be an int in the range [0, inf). Got True instead.",
        ),
        (
            1,
            [Options(("expanding", "sliding"))],
            "The 'gap' parameter of WalkForward must be one of {'expanding', 'sliding'}. Got 1 instead.",
        ),
        (
            "x",
            [POSITIVE_INT, NONE],
            "The 'gap' parameter of WalkForward must be an int in the range [1, inf) or None. Got 'x' instead.",
        ),
        (
            [1],
            [dict],
            "The 'gap' parameter of WalkForward must be an instance of dict. Got [1] instead.",
        ),
    ],
)
def test_wrong_type_raises_data_type_error(value: Any, constraints: list[Any], message: str) -> None:
    with pytest.raises(DataTypeError, match=re.escape(message)):
        _check(value, *constraints)


def test_data_type_error_is_a_type_error_not_a_value_error() -> None:
    with pytest.raises(TypeError, match="Got '1' instead"):
        _check("1", POSITIVE_INT)
    try:
        _check("1", POSITIVE_INT)
    except ValueError:  # pragma: no cover - the assertion is that this branch is not taken
        pytest.fail("DataTypeError must not be a ValueError")
    except TypeError:
        pass


@pytest.mark.parametrize(
    ("value", "constraints"),
    [
        (0, [NON_NEGATIVE_INT]),
        (np.int64(7), [POSITIVE_INT]),
        (None, [POSITIVE_INT, NONE]),
        ("sliding", [Options(("expanding", "sliding"))]),
        (0.5, [POSITIVE_INT, UNIT_FLOAT]),
        (3, [POSITIVE_INT, UNIT_FLOAT]),
        ({}, [dict]),
    ],
)
def test_valid_values_pass(value: Any, constraints: list[Any]) -> None:
    _check(value, *constraints)


def test_owner_and_parameter_names_appear_in_the_message() -> None:
    with pytest.raises(DataError, match=r"^The 'lookback' parameter of WindowDataset must be"):
        _check(0, POSITIVE_INT, name="lookback", owner="WindowDataset")


def test_every_parameter_is_checked_and_the_first_failure_is_reported() -> None:
    params = {"a": 1, "b": -1, "c": "x"}
    constraints = {"a": [POSITIVE_INT], "b": [NON_NEGATIVE_INT], "c": [POSITIVE_INT]}
    with pytest.raises(DataError, match=r"'b' parameter .* Got -1 instead\."):
        validate_params("Owner", params, constraints)
    with pytest.raises(DataTypeError, match=r"'c' parameter .* Got 'x' instead\."):
        validate_params("Owner", {**params, "b": 0}, constraints)


def test_parameters_without_constraints_are_ignored() -> None:
    validate_params("Owner", {"a": 1, "free": object()}, {"a": [POSITIVE_INT]})


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        (-1, DataError, "--seed must be an int in the range [0, inf). Got -1 instead."),
        ("x", DataTypeError, "--seed must be an int in the range [0, inf). Got 'x' instead."),
    ],
)
def test_under_spelled_as_the_message_names_the_flag(value: Any, error: type[Exception], message: str) -> None:
    with spelled_as({"seed": "--seed"}), pytest.raises(error, match=f"^{re.escape(message)}$"):
        _check(value, NON_NEGATIVE_INT, name="seed", owner="SGDForecaster")


def test_a_parameter_the_interface_does_not_rename_keeps_the_python_words() -> None:
    message = "The 'gap' parameter of WalkForward must be an int in the range [0, inf). Got -1 instead."
    with spelled_as({"seed": "--seed"}), pytest.raises(DataError, match=f"^{re.escape(message)}$"):
        _check(-1, NON_NEGATIVE_INT)


# --- levels ---------------------------------------------------------------------------------------

PYTHON_REMEDY = "Pass coverage percentages such as level=(80, 95)."


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        ((95, 80), (80.0, 95.0)),
        (90, (90.0,)),
        ([50, 99.5], (50.0, 99.5)),
        ({95, 80}, (80.0, 95.0)),
        (np.array([80, 95]), (80.0, 95.0)),
        (pd.Index([95.0, 80.0]), (80.0, 95.0)),
        (np.float64(80), (80.0,)),
        (1, (1.0,)),
        (99.9999, (99.9999,)),
    ],
)
def test_good_levels_come_back_ascending_as_floats(level: Any, expected: tuple[float, ...]) -> None:
    assert check_levels(level) == expected


@pytest.mark.parametrize(
    ("level", "error", "message"),
    [
        (
            0.8,
            DataError,
            f"level=0.8 is a fraction, but levels are coverage percentages: did you mean 80? {PYTHON_REMEDY}",
        ),
        ((80, 0.95), DataError, "level=0.95 is a fraction, but levels are coverage percentages: did you mean 95?"),
        (0.999, DataError, "level=0.999 is a fraction, but levels are coverage percentages: did you mean 99.9?"),
        (0, DataError, f"level=0 is not strictly between 0 and 100. {PYTHON_REMEDY}"),
        (100, DataError, "level=100 is not strictly between 0 and 100."),
        (-5, DataError, "level=-5 is not strictly between 0 and 100."),
        ((80, math.nan), DataError, "level=nan is not strictly between 0 and 100."),
        (math.inf, DataError, "level=inf is not strictly between 0 and 100."),
        ("80", DataTypeError, f"level='80' is not a number (str). {PYTHON_REMEDY}"),
        ((80, None), DataTypeError, "level=None is not a number (NoneType)."),
        (True, DataTypeError, "level=True is not a number (bool)."),
        (np.array(80), DataTypeError, "level=array(80) is not a number (ndarray)."),
        ((80, 80.0), DataError, f"level=(80, 80.0) repeats a level. {PYTHON_REMEDY}"),
        ((), DataError, f"level=() holds no level. {PYTHON_REMEDY}"),
        (
            99.99999,
            DataError,
            "level=99.99999 has more than 6 significant digits, which the band columns (y_lo_<level>) cannot name "
            "apart. Round it, e.g. to 100.",
        ),
        ((80, 80.0000001), DataError, "level=80.0000001 has more than 6 significant digits, which"),
    ],
)
def test_bad_levels_are_refused_with_one_clear_line(level: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=f"^{re.escape(message)}"):
        check_levels(level)


@pytest.mark.parametrize(
    ("level", "message"),
    [
        ([0.8], "--level 0.8 is a fraction, but levels are coverage percentages: did you mean 80? "),
        ([80, 80], "--level 80,80 repeats a level. "),
        ([150], "--level 150 is not strictly between 0 and 100. "),
    ],
)
def test_level_messages_name_the_flag_under_spelled_as(level: list[float], message: str) -> None:
    with spelled_as({"level": "--level"}), pytest.raises(DataError, match=f"^{re.escape(message)}"):
        check_levels(level)
    with spelled_as({"level": "--level"}), pytest.raises(DataError, match=r"such as --level 80,95\.$"):
        check_levels(level)
