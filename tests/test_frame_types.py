"""Any data frame in: a polars DataFrame and a pyarrow Table give exactly what their pandas copy gives."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import tsforecast as tsf
from tsforecast.audit import AuditOptions
from tsforecast.errors import DataError, DataTypeError, LeakageError
from tsforecast.frames import as_pandas, from_pandas
from tsforecast.models import LocalForecaster

pl = pytest.importorskip("polars")  # NOTE: installed by the test extra; skipped only where it is absent


def _panel() -> pd.DataFrame:
    """Two monthly series whose ids read as one integer ("007" and "7"), the later one listed first."""
    ds = pd.date_range("2015-01-01", periods=40, freq="MS")
    t = np.arange(40)
    return pd.DataFrame(
        {
            "unique_id": ["7"] * 40 + ["007"] * 40,
            "ds": np.concatenate([ds, ds]),
            "y": np.concatenate([100 + 10 * np.sin(t / 2) + t, 50 + 5 * np.cos(t / 3) + 0.5 * t]),
        }
    )


def _tz_panel() -> pd.DataFrame:
    """Integer ids and hourly time-zone-aware timestamps."""
    ds = pd.date_range("2024-03-30", periods=72, freq="h", tz="Europe/Paris")  # NOTE: across a DST change
    y = np.sin(np.arange(144) / 4) + np.arange(144) / 50
    return pd.DataFrame({"unique_id": [7] * 72 + [8] * 72, "ds": [*ds, *ds], "y": y})


FRAMES = {
    "air_passengers": lambda: tsf.load_dataset("air_passengers"),
    "panel": _panel,
    "tz_panel": _tz_panel,
}
CONVERT: dict[str, Callable[[pd.DataFrame], Any]] = {
    "polars": lambda df: pl.from_pandas(df),
    "pyarrow": lambda df: pa.Table.from_pandas(df, preserve_index=False),
}
NATIVE = {"polars": "polars.dataframe.frame.DataFrame", "pyarrow": "pyarrow.lib.Table"}


def _pandas(frame: Any) -> pd.DataFrame:
    return frame.to_pandas()  # type: ignore[no-any-return]


def _kind(frame: Any) -> str:
    return f"{type(frame).__module__}.{type(frame).__name__}"


@pytest.mark.parametrize("kind", list(CONVERT))
@pytest.mark.parametrize("data", list(FRAMES))
def test_from_pandas_gives_the_pandas_result_in_the_callers_type(data: str, kind: str) -> None:
    df = FRAMES[data]()
    expected = from_pandas(df)
    got = from_pandas(CONVERT[kind](df))
    assert _kind(got) == NATIVE[kind]
    pd.testing.assert_frame_equal(_pandas(got), expected)


def test_ids_stay_labels_as_written() -> None:
    assert sorted(from_pandas(pl.from_pandas(_panel()))["unique_id"].unique().to_list()) == ["007", "7"]
    assert set(from_pandas(pa.Table.from_pandas(_tz_panel()))["unique_id"].to_pylist()) == {"7", "8"}


@pytest.mark.parametrize("kind", list(CONVERT))
@pytest.mark.parametrize("data", ["air_passengers", "panel"])
def test_backtest_is_identical(data: str, kind: str) -> None:
    df = FRAMES[data]()
    expected = tsf.backtest("ets", df, tsf.WalkForward(2, 12))
    got = tsf.backtest("ets", CONVERT[kind](df), tsf.WalkForward(2, 12))
    assert isinstance(got.forecasts, pd.DataFrame)  # NOTE: a BacktestResult's frames stay pandas
    pd.testing.assert_frame_equal(got.forecasts, expected.forecasts)
    pd.testing.assert_frame_equal(got.metrics, expected.metrics)


@pytest.mark.parametrize("kind", list(CONVERT))
@pytest.mark.parametrize("data", ["air_passengers", "panel", "tz_panel"])
def test_fit_predict_is_identical_and_answers_in_the_callers_type(data: str, kind: str) -> None:
    df = FRAMES[data]()
    native = CONVERT[kind](df)
    expected = tsf.SeasonalNaive(horizon=6).fit(df).predict(level=80)
    model = tsf.SeasonalNaive(horizon=6).fit(native)
    for got in (model.predict(level=80), model.predict(native, level=80)):
        assert _kind(got) == NATIVE[kind]
        pd.testing.assert_frame_equal(_pandas(got), expected)
    # NOTE: a pandas y_new gets a pandas answer, whatever the fit was given
    pd.testing.assert_frame_equal(model.predict(df, level=80), expected)


@pytest.mark.parametrize("kind", list(CONVERT))
def test_future_frame_may_be_polars_or_pyarrow(kind: str) -> None:
    df = _panel()
    df["promo"] = np.arange(len(df)) % 3 == 0
    df["promo"] = df["promo"].astype(float)
    model = tsf.SeasonalNaive(horizon=3).fit(df, covariates=tsf.Covariates(known_future=["promo"]))
    last = df.groupby("unique_id")["ds"].max()
    future = pd.DataFrame(
        [(uid, t + pd.DateOffset(months=k), 1.0) for uid, t in last.items() for k in (1, 2, 3)],
        columns=["unique_id", "ds", "promo"],
    )
    pd.testing.assert_frame_equal(model.predict(future=CONVERT[kind](future)), model.predict(future=future))
    future["y"] = 0.0  # NOTE: y in the future frame is refused the same way
    with pytest.raises(LeakageError) as expected:
        model.predict(future=future)
    with pytest.raises(LeakageError) as got:
        model.predict(future=CONVERT[kind](future))
    assert str(got.value) == str(expected.value)


@pytest.mark.parametrize("kind", list(CONVERT))
def test_bad_input_gives_the_pandas_message(kind: str) -> None:
    df = _panel()
    df.loc[5, "ds"] = df.loc[4, "ds"]  # a duplicate timestamp in series "7"
    with pytest.raises(DataError) as expected:
        from_pandas(df)
    for call in (
        from_pandas,
        tsf.SeasonalNaive(horizon=2).fit,
        lambda d: tsf.backtest("naive", d, tsf.WalkForward(2, 2)),
    ):
        with pytest.raises(DataError) as got:
            call(CONVERT[kind](df))
        assert str(got.value) == str(expected.value)


@pytest.mark.parametrize("data", [[1.0, 2.0], {"y": [1.0]}, np.ones((3, 3))])
def test_other_types_keep_their_errors(data: Any) -> None:
    converted, kind = as_pandas(data)
    assert converted is data
    assert kind == "pandas"
    with pytest.raises(DataTypeError, match=r"^Expected a pandas DataFrame, a polars DataFrame or a pyarrow Table"):
        from_pandas(data)
    with pytest.raises(DataTypeError, match=r"polars DataFrame or a pyarrow Table"):
        tsf.backtest("naive", data, tsf.WalkForward(2, 2))


class _FramePeeker(LocalForecaster):
    """Holds the caller's frame (or a column of it) and reads the values after the history: a leak."""

    def __init__(self, horizon: int = 1, data: Any = None) -> None:
        self.horizon, self.data = horizon, data

    def _forecast(self, y: np.ndarray) -> np.ndarray:
        held = self.data
        if isinstance(held, np.ndarray):
            values = held
        else:
            values = held.column("y").to_numpy() if isinstance(held, pa.Table) else held["y"].to_numpy()
        return np.asarray(values[len(y) : len(y) + self.horizon], dtype=float)


@pytest.mark.parametrize(("kind", "fresh_process"), [("polars", True), ("polars", False), ("pyarrow", False)])
def test_the_audit_rebuilds_a_polars_or_pyarrow_frame_a_model_holds(kind: str, fresh_process: bool) -> None:
    air = tsf.load_dataset("air_passengers")
    df = pl.from_pandas(air) if kind == "polars" else pa.Table.from_pandas(air, preserve_index=False)
    options = AuditOptions(fresh_process=fresh_process)
    honest = tsf.backtest("naive", df, tsf.WalkForward(2, 12), audit=options).audit
    assert honest is not None
    assert honest.status == "passed"
    assert any(f"The data came as a {kind} frame" in note for note in honest.notes)
    leaked = tsf.backtest(_FramePeeker(12, df), df, tsf.WalkForward(2, 12), baselines=(), audit=options).audit
    assert leaked is not None
    assert leaked.status == "leak"


def test_a_column_taken_from_a_polars_frame_makes_the_audit_incomplete() -> None:
    df = pl.from_pandas(tsf.load_dataset("air_passengers"))
    model = _FramePeeker(12, df.select("y"))  # a frame of its own, taken from the caller's: never rebuilt
    audit = tsf.audit_leakage(model, df, tsf.WalkForward(2, 12), fresh_process=False)
    assert audit.status == "incomplete"
    assert "a polars DataFrame beside the caller's DataFrame" in audit.notes[-1]


@pytest.mark.parametrize("taken", ["numpy", "pandas"])
def test_values_taken_from_a_polars_frame_make_the_audit_incomplete_never_passed(taken: str) -> None:
    df = pl.from_pandas(tsf.load_dataset("air_passengers"))
    held = df["y"].to_numpy() if taken == "numpy" else df.to_pandas()  # as a user's script takes them
    model = _FramePeeker(12, held)
    audit = tsf.audit_leakage(model, df, tsf.WalkForward(2, 12), fresh_process=False)
    assert audit.status == "incomplete"
    assert "holding values of the caller's DataFrame" in audit.notes[-1]
