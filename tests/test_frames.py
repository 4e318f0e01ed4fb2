"""Validating a frame into the canonical long frame ``unique_id, ds, y``: :func:`from_pandas`."""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from canonical import assert_canonical, daily, text_frame

import tsforecast
from tsforecast.errors import DataError, DataTypeError, spelled_as
from tsforecast.frames import from_pandas
from tsforecast.frequency import infer_freq
from tsforecast.loaders import load_csv

# --- from_pandas: canonical output -----------------------------------------------------------------------------------


def test_from_pandas_series_with_datetime_index() -> None:
    s = pd.Series([1, 2, 3, 4], index=pd.date_range("2020-01-01", periods=4, freq="W-SUN"), name="ignored")
    df = from_pandas(s, name="sales")
    assert_canonical(df)
    assert df["unique_id"].tolist() == ["sales"] * 4
    assert df["ds"].tolist() == list(s.index)
    assert df["y"].tolist() == [1.0, 2.0, 3.0, 4.0]
    assert infer_freq(df) == "W-SUN"


def test_from_pandas_series_with_integer_index_is_an_integer_time_index() -> None:
    df = from_pandas(pd.Series([5.0, 6.0, 7.0]))
    assert_canonical(df)
    assert df["ds"].tolist() == [0, 1, 2]
    assert df["ds"].dtype == np.int64
    assert df["unique_id"].tolist() == ["series"] * 3
    assert infer_freq(df) == 1


def test_from_pandas_series_with_string_dates() -> None:
    s = pd.Series([1.0, 2.0, 3.0], index=["2020-03-01", "2020-04-01", "2020-05-01"])
    df = from_pandas(s)
    assert pd.api.types.is_datetime64_any_dtype(df["ds"])
    assert infer_freq(df) == "MS"


def test_from_pandas_orders_columns_and_casts_dtypes() -> None:
    frame = pd.DataFrame(
        {
            "promo": [0, 1, 0, 1],
            "y": np.array([1, 2, 3, 4], dtype="int32"),
            "note": list("abcd"),
            "ds": ["2020-01-01", "2020-01-02", "2020-01-03", "2020-01-04"],
        }
    )
    df = from_pandas(frame)
    assert_canonical(df, ["promo", "note"])
    assert pd.api.types.is_datetime64_any_dtype(df["ds"])
    assert df["promo"].tolist() == [0, 1, 0, 1]
    assert df["note"].tolist() == list("abcd")


def test_from_pandas_panel_is_sorted_by_id_then_time_with_extras_following_their_rows() -> None:
    frame = pd.DataFrame(
        {
            "store": [2, 2, 2, 1, 1, 1, 10, 10, 10],
            "ds": [0, 1, 2, 5, 6, 7, 3, 4, 5],
            "y": [20.0, 21, 22, 10, 11, 12, 100, 101, 102],
            "x": list("abcdefghi"),
        }
    )
    df = from_pandas(frame, id_col="store")
    assert_canonical(df, ["x"])
    assert df["unique_id"].tolist() == ["1"] * 3 + ["10"] * 3 + ["2"] * 3
    assert df["ds"].tolist() == [5, 6, 7, 3, 4, 5, 0, 1, 2]
    assert df["y"].tolist() == [10.0, 11, 12, 100, 101, 102, 20, 21, 22]
    assert df["x"].tolist() == list("defghiabc")


def test_from_pandas_accepts_a_non_default_index() -> None:
    frame = daily(5)
    frame.index = [50, 40, 30, 20, 10]
    df = from_pandas(frame)
    assert_canonical(df)
    assert df["y"].tolist() == [0.0, 1, 2, 3, 4]


def test_from_pandas_allows_short_series_beside_a_long_one() -> None:
    frame = pd.concat([daily(10, unique_id="long"), daily(2, "2020-01-05", unique_id="short")], ignore_index=True)
    df = from_pandas(frame)
    assert df.groupby("unique_id").size().to_dict() == {"long": 10, "short": 2}
    assert infer_freq(df) == "D"


@pytest.mark.parametrize(
    ("times", "expected"),
    [
        (pd.array([0, 1, 2, 3], dtype="Int64"), [0, 1, 2, 3]),
        (np.array([0.0, 1.0, 2.0, 3.0]), [0, 1, 2, 3]),
        (np.array([10, 20, 30, 40], dtype="int32"), [10, 20, 30, 40]),
    ],
)
def test_integer_valued_time_columns_become_an_int64_index(times: Any, expected: list[int]) -> None:
    df = from_pandas(pd.DataFrame({"ds": times, "y": [1.0, 2.0, 3.0, 4.0]}))
    assert df["ds"].dtype == np.int64
    assert df["ds"].tolist() == expected


def test_timezone_aware_timestamps_are_kept() -> None:
    frame = pd.DataFrame({"ds": pd.date_range("2020-01-01", periods=4, freq="h", tz="UTC"), "y": [1.0, 2, 3, 4]})
    df = from_pandas(frame)
    assert str(df["ds"].dt.tz) == "UTC"
    assert infer_freq(df) == "h"


def test_a_sorted_panel_and_its_shuffled_rows_give_the_same_frame() -> None:
    ds = pd.date_range("2020-01-01", periods=30, freq="D")
    df = pd.DataFrame({"unique_id": np.repeat(["a", "b", "c"], 30), "ds": np.tile(ds, 3), "y": np.arange(90.0)})
    shuffled = df.sample(frac=1.0, random_state=0)
    pd.testing.assert_frame_equal(tsforecast.from_pandas(df), tsforecast.from_pandas(shuffled), check_exact=True)
    pd.testing.assert_frame_equal(tsforecast.from_pandas(df), df, check_exact=True)


# --- fill ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("fill", "inserted"), [("ffill", [2.0, 2.0, 5.0]), ("zero", [0.0, 0.0, 0.0])])
def test_fill_inserts_the_missing_timestamps(fill: str, inserted: list[float]) -> None:
    frame = daily(10, temp=np.arange(10, dtype=float) * 10).drop(index=[3, 4, 6])
    df = from_pandas(frame, fill=fill)
    assert_canonical(df, ["temp"])
    assert df["ds"].tolist() == list(pd.date_range("2020-01-01", periods=10, freq="D"))
    assert df["y"].iloc[[3, 4, 6]].tolist() == inserted
    assert df["temp"].iloc[[3, 4, 6]].tolist() == [20.0, 20.0, 50.0]  # covariates carry their last value forward
    kept = df.drop(index=[3, 4, 6])
    assert kept["y"].tolist() == frame["y"].tolist()


@pytest.mark.parametrize("fill", ["ffill", "zero"])
def test_fill_on_a_panel_with_an_integer_index(fill: str) -> None:
    frame = pd.DataFrame(
        {"unique_id": ["a"] * 5 + ["b"] * 4, "ds": [0, 1, 2, 3, 4, 0, 1, 3, 4], "y": np.arange(1.0, 10)}
    )
    df = from_pandas(frame, fill=fill)
    assert_canonical(df)
    assert df.groupby("unique_id")["ds"].apply(list).to_dict() == {"a": [0, 1, 2, 3, 4], "b": [0, 1, 2, 3, 4]}
    b = df[df["unique_id"] == "b"]["y"].tolist()
    assert b == [6.0, 7.0, 7.0 if fill == "ffill" else 0.0, 8.0, 9.0]
    assert df["ds"].dtype == np.int64


@pytest.mark.parametrize("fill", ["ffill", "zero"])
def test_fill_without_gaps_changes_nothing(fill: str) -> None:
    frame = daily(6)
    pd.testing.assert_frame_equal(from_pandas(frame, fill=fill), from_pandas(frame))


@pytest.mark.parametrize(
    ("fill", "error", "shown"),
    [("linear", DataError, "'linear'"), ("interpolate", DataError, "'interpolate'"), (True, DataTypeError, "True")],
)
def test_unknown_fill_is_refused(fill: Any, error: type[Exception], shown: str) -> None:
    message = f"The 'fill' parameter of from_pandas must be one of {{'ffill', 'zero'}} or None. Got {shown} instead."
    with pytest.raises(error, match=re.escape(message)):
        from_pandas(daily(6).drop(index=[2]), fill=fill)


# --- from_pandas: every DataError ------------------------------------------------------------------------------------


def test_wrong_type_raises_data_type_error() -> None:
    with pytest.raises(
        DataTypeError,
        match=r"Expected a pandas DataFrame, a polars DataFrame or a pyarrow Table, or a pandas Series, "
        r"got list\. Wrap arrays with",
    ):
        from_pandas([1.0, 2.0, 3.0])  # type: ignore[arg-type]
    with pytest.raises(DataTypeError, match=r"got ndarray"):
        from_pandas(np.arange(3.0))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "missing"),
    [
        ({}, "['ds']"),
        ({"target_col": "sales"}, "['ds', 'sales']"),
        ({"time_col": "date", "id_col": "store"}, "['store']"),
    ],
)
def test_missing_columns_are_named(kwargs: dict[str, str], missing: str) -> None:
    frame = pd.DataFrame({"date": ["2020-01-01"], "y": [1.0]})
    pattern = rf"Missing column\(s\) {re.escape(missing)}; the data have \['date', 'y'\]\. Name the right ones"
    with pytest.raises(DataError, match=pattern):
        from_pandas(frame, **kwargs)


def test_a_column_that_would_be_replaced_by_a_canonical_one_is_refused() -> None:
    frame = pd.DataFrame({"date": pd.date_range("2020-01-01", periods=4, freq="D"), "sales": [1.0, 2, 3, 4]})
    frame["y"] = 0.0
    with pytest.raises(DataError, match=r"Column\(s\) \['y'\] would be replaced by the canonical"):
        from_pandas(frame, time_col="date", target_col="sales")


def test_empty_frame_is_refused() -> None:
    with pytest.raises(DataError, match=r"The data are empty: at least one row per series is needed\."):
        from_pandas(pd.DataFrame({"ds": [], "y": []}))


@pytest.mark.parametrize(
    ("times", "row", "shown"),
    [
        (["2020-01-01", "2020-01-02", "not a date", "2020-01-04"], 2, "'not a date'"),
        (["2020-01-01", None, "2020-01-03", "2020-01-04"], 1, "nan"),
        (pd.to_datetime(["2020-01-01", "2020-01-02", "2020-01-03", None]), 3, "NaT"),
        (pd.array([0, 1, None, 3], dtype="Int64"), 2, "<NA>"),
        ([0.0, 1.5, 2.0, 3.0], 1, "np.float64(1.5)"),
        ([0.0, 1.0, np.inf, 3.0], 2, "np.float64(inf)"),
    ],
)
def test_unparsable_timestamp_names_its_row(times: Any, row: int, shown: str) -> None:
    frame = pd.DataFrame({"ds": times, "y": [1.0, 2.0, 3.0, 4.0]})
    pattern = (
        rf"Column 'ds' has a value that is not a timestamp at row {row}: {re.escape(shown)}\. Use ISO dates such as "
        r"2020-01-31 \(or name another format with date_format=\), or integers for an integer time index\."
    )
    with pytest.raises(DataError, match=pattern):
        from_pandas(frame)


@pytest.mark.parametrize(
    ("values", "row", "shown"), [([1, 2, "three", 4], 2, "'three'"), (["1", "x", "3", "4"], 1, "'x'")]
)
def test_non_numeric_target_names_its_row(values: list[Any], row: int, shown: str) -> None:
    frame = pd.DataFrame({"ds": [0, 1, 2, 3], "y": values})
    pattern = rf"Column 'y' must be numeric, but row {row} holds {shown}\. Clean or convert"
    with pytest.raises(DataError, match=pattern):
        from_pandas(frame)


def test_numeric_strings_are_accepted_as_target() -> None:
    df = from_pandas(pd.DataFrame({"ds": [0, 1, 2], "y": ["1", "2.5", "-3"]}))
    assert df["y"].tolist() == [1.0, 2.5, -3.0]


@pytest.mark.parametrize(
    ("values", "count", "first"),
    [
        ([1.0, 2.0, np.nan, 4.0, np.nan], 2, "2020-01-03 00:00:00"),
        ([np.inf, 2.0, 3.0, 4.0, 5.0], 1, "2020-01-01 00:00:00"),
        ([1.0, 2.0, 3.0, 4.0, -np.inf], 1, "2020-01-05 00:00:00"),
        ([1.0, None, 3.0, np.nan, np.inf], 3, "2020-01-02 00:00:00"),
    ],
)
def test_nan_or_inf_target_reports_the_count_and_the_first_timestamp(
    values: list[float], count: int, first: str
) -> None:
    frame = daily(5).assign(y=values)
    pattern = (
        rf"Column 'y' has {count} NaN or infinite value\(s\); the first is in series 'series' at {first}\. "
        r"Drop or impute them"
    )
    with pytest.raises(DataError, match=pattern):
        from_pandas(frame)


def test_nan_target_in_a_panel_names_the_series() -> None:
    frame = pd.DataFrame(
        {"unique_id": ["a", "a", "a", "b", "b", "b"], "ds": [0, 1, 2] * 2, "y": [1, 2, 3, 4, np.nan, 6]}
    )
    with pytest.raises(DataError, match=r"has 1 NaN or infinite value\(s\); the first is in series 'b' at 1\."):
        from_pandas(frame)


@pytest.mark.parametrize(
    ("times", "shown"),
    [([0, 1, 1, 2], "1"), (["2020-01-01", "2020-01-02", "2020-01-03", "2020-01-03"], "2020-01-03 00:00:00")],
)
def test_duplicate_timestamps_are_refused(times: list[Any], shown: str) -> None:
    frame = pd.DataFrame({"ds": times, "y": [1.0, 2.0, 3.0, 4.0]})
    with pytest.raises(
        DataError, match=rf"Series 'series' has duplicate timestamp {shown}\. Each series needs one row"
    ):
        from_pandas(frame)


@pytest.mark.parametrize(
    ("times", "expected"),
    [
        ([0, 2, 1, 3], [0, 1, 2, 3]),
        (["2020-01-02", "2020-01-01", "2020-01-03"], list(pd.date_range("2020-01-01", periods=3, freq="D"))),
    ],
)
def test_unsorted_series_is_sorted_losslessly(times: list[Any], expected: list[Any]) -> None:
    frame = pd.DataFrame({"unique_id": "s1", "ds": times, "y": np.arange(len(times), dtype=float)})
    frame["x"] = [f"row{i}" for i in range(len(times))]
    df = from_pandas(frame)
    assert_canonical(df, ["x"])
    assert df["ds"].tolist() == expected
    by_time = frame.sort_values("ds", kind="stable")  # ISO strings sort like their dates
    assert df["y"].tolist() == by_time["y"].tolist()  # the same rows, each value still on its own timestamp
    assert df["x"].tolist() == by_time["x"].tolist()


def test_missing_timestamps_are_listed() -> None:
    frame = daily(10).drop(index=[2, 5])
    pattern = (
        r"Series 'series' has 2 missing timestamp\(s\) at frequency D: 2020-01-03 00:00:00, 2020-01-06 00:00:00\. "
        r"Insert them explicitly with fill='ffill' or fill='zero', or resample the data\."
    )
    with pytest.raises(DataError, match=pattern):
        from_pandas(frame)


def test_many_missing_timestamps_show_the_first_five_and_a_count() -> None:
    frame = pd.DataFrame({"ds": [0, 1, 2, 3, 4, 5, 13, 14, 15], "y": np.arange(9.0)})
    pattern = r"Series 'series' has 7 missing timestamp\(s\) at frequency 1: 6, 7, 8, 9, 10 and 2 more\. Insert them"
    with pytest.raises(DataError, match=pattern):
        from_pandas(frame)


@pytest.mark.parametrize(
    ("times", "freq", "first"),
    [
        (["2020-01-01", "2020-01-02", "2020-01-03", "2020-01-03 12:00", "2020-01-04"], "D", "2020-01-03 12:00:00"),
        ([0, 2, 4, 6, 7, 8, 10], "2", "7"),
    ],
)
def test_off_grid_timestamps_are_refused(times: list[Any], freq: str, first: str) -> None:
    frame = pd.DataFrame({"ds": times, "y": np.arange(len(times), dtype=float)})
    pattern = rf"Series 'series' has timestamps off its {freq} grid, first {first}\. Resample the data"
    with pytest.raises(DataError, match=pattern):
        from_pandas(frame)


def test_irregular_series_without_a_frequency_is_refused() -> None:
    frame = pd.DataFrame({"ds": pd.to_datetime(["2020-01-01", "2020-01-02", "2020-01-04", "2020-01-08"]), "y": 1.0})
    with pytest.raises(
        DataError, match=r"Could not infer a frequency for series 'series': its timestamps are irregular"
    ):
        from_pandas(frame)


def test_frequencies_differing_across_a_panel_are_refused() -> None:
    frame = pd.concat(
        [
            daily(4, unique_id="a"),
            pd.DataFrame({"unique_id": "b", "ds": pd.date_range("2020-01-01", periods=4, freq="MS"), "y": 1.0}),
        ],
        ignore_index=True,
    )
    with pytest.raises(DataError, match=r"Series have different frequencies \('a': D, 'b': MS\)\. Resample them"):
        from_pandas(frame)


def test_a_panel_with_two_frequencies_is_refused_naming_both() -> None:
    frame = pd.DataFrame({"unique_id": ["a"] * 4 + ["b"] * 3, "ds": [0, 1, 2, 3, 0, 2, 4], "y": 1.0})
    with pytest.raises(DataError, match=r"Series have different frequencies \('a': 1, 'b': 2\)\. Resample them"):
        from_pandas(frame)


@pytest.mark.parametrize("lengths", [[1], [2], [2, 1, 2]])
def test_every_series_shorter_than_three_points_is_refused(lengths: list[int]) -> None:
    frame = pd.concat([daily(n, unique_id=f"s{i}") for i, n in enumerate(lengths)], ignore_index=True)
    with pytest.raises(DataError, match=r"Every series has fewer than 3 timestamps, so no frequency can be inferred\."):
        from_pandas(frame)


# --- text timestamps: offsets, formats, day-first dates --------------------------------------------------------------


@pytest.mark.parametrize(
    ("local_start", "utc_start"),
    [("2024-03-31 00:00", "2024-03-30 23:00"), ("2024-10-27 00:00", "2024-10-26 22:00")],  # spring, autumn
)
def test_a_local_time_export_across_a_dst_change_is_converted_to_utc(
    tmp_path: Path, local_start: str, utc_start: str
) -> None:
    stamps = pd.date_range(local_start, periods=6, freq="h", tz="Europe/Berlin")
    path = tmp_path / "meter.csv"
    path.write_text("ds,y\n" + "".join(f"{t.isoformat()},{i}\n" for i, t in enumerate(stamps)))
    assert len({t.isoformat()[-6:] for t in stamps}) == 2  # two offsets in one column
    with pytest.warns(
        UserWarning,
        match=r"Column 'ds' has timestamps with UTC offsets \(e\.g\. '2024-.*'\); they were converted to UTC",
    ):
        df = load_csv(path)
    assert str(df["ds"].dt.tz) == "UTC"
    assert df["ds"].tolist() == list(pd.date_range(utc_start, periods=6, freq="h", tz="UTC"))
    assert df["y"].tolist() == [0.0, 1, 2, 3, 4, 5]
    assert infer_freq(df) == "h"


@pytest.mark.parametrize("start", ["2024-03-29", "2024-03-29 10:00"])
def test_daily_local_times_across_a_dst_change_are_kept_in_local_time(start: str) -> None:
    stamps = pd.date_range(start, periods=5, freq="D", tz="Europe/Berlin")
    frame = text_frame([t.isoformat() for t in stamps])
    assert frame["ds"].str[-6:].nunique() == 2  # +01:00, then +02:00
    with pytest.warns(
        UserWarning, match=r"all at one local time of day, written with UTC offsets .* the local times were kept"
    ):
        df = from_pandas(frame)
    assert df["ds"].tolist() == list(pd.date_range(start, periods=5, freq="D"))
    assert infer_freq(df) == "D"


def test_a_single_utc_offset_is_converted_to_utc_and_z_is_kept_silently() -> None:
    with pytest.warns(UserWarning, match="converted to UTC"):
        df = from_pandas(text_frame([f"2024-01-01T0{h}:00+05:30" for h in range(4)]))
    assert df["ds"].iloc[0] == pd.Timestamp("2023-12-31 18:30", tz="UTC")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        df = from_pandas(text_frame([f"2024-01-01T0{h}:00Z" for h in range(4)]))
    assert df["ds"].iloc[0] == pd.Timestamp("2024-01-01 00:00", tz="UTC")


def test_timestamps_with_and_without_an_offset_are_refused() -> None:
    frame = text_frame(["2024-01-01 00:00+01:00", "2024-01-01 01:00+01:00", "2024-01-01 02:00", "2024-01-01 03:00"])
    pattern = (
        r"Column 'ds' mixes timestamps with and without a UTC offset: row 0 is '2024-01-01 00:00\+01:00' but row 2 "
        r"is '2024-01-01 02:00', so they cannot be placed on one clock\. Write every timestamp with its offset"
    )
    with pytest.raises(DataError, match=pattern):
        from_pandas(frame)


@pytest.mark.parametrize(
    ("times", "row", "first_format"),
    [
        (["2024-01-01", "2024-01-02", "01/03/2024", "2024-01-04"], 2, "ISO 8601"),
        (["01/13/2024", "01/14/2024", "2024-01-15", "01/16/2024"], 2, "'%m/%d/%Y'"),
    ],
)
def test_mixed_date_formats_are_refused_at_load(tmp_path: Path, times: list[str], row: int, first_format: str) -> None:
    path = tmp_path / "mixed.csv"
    path.write_text("ds,y\n" + "".join(f"{t},{i}\n" for i, t in enumerate(times)))
    pattern = (
        rf"Column 'ds' mixes date formats: row 0 is {re.escape(repr(times[0]))} \({re.escape(first_format)}\) but "
        rf"row {row} is {re.escape(repr(times[row]))}\. Write every timestamp in one format .* name it with "
        r"date_format= \(e\.g\. date_format='%d/%m/%Y'\)\."
    )
    with pytest.raises(DataError, match=pattern):
        load_csv(path)


@pytest.mark.parametrize(
    "times",
    [
        ["12/01/2024", "13/01/2024", "14/01/2024", "15/01/2024"],  # the first row alone is ambiguous
        ["13/01/2024", "14/01/2024", "15/01/2024", "16/01/2024"],
        ["11.01.2024 10:00", "12.01.2024 10:00", "13.01.2024 10:00", "14.01.2024 10:00"],
    ],
)
def test_day_first_dates_are_detected(times: list[str]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        df = from_pandas(text_frame(times))
    assert [t.day for t in df["ds"]] == [int(t[:2]) for t in times]
    assert {t.month for t in df["ds"]} == {1}
    assert infer_freq(df) == "D"


def test_ambiguous_dates_take_the_only_reading_that_gives_a_regular_series() -> None:
    times = ["05/03/2024", "06/03/2024", "07/03/2024", "08/03/2024"]  # month-first: the 3rd of each month
    with pytest.warns(UserWarning, match=r"read as '%d/%m/%Y', the only reading that gives a regular series"):
        df = from_pandas(text_frame(times))
    assert df["ds"].tolist() == list(pd.date_range("2024-03-05", periods=4, freq="D"))


@pytest.mark.parametrize(
    ("times", "outcome"),
    [
        (["01/01/2024", "01/02/2024", "01/03/2024", "01/04/2024"], "both readings give"),  # daily or monthly
        (["01/02/2024", "03/04/2024", "05/06/2024", "07/08/2024"], "neither reading gives"),
    ],
)
def test_ambiguous_dates_are_refused_when_both_or_neither_reading_fits(times: list[str], outcome: str) -> None:
    pattern = (
        rf"Column 'ds' has dates such as {re.escape(repr(times[0]))} that read both day-first and month-first, and "
        rf"{outcome} a regular series without duplicates\. Say which with date_format='%m/%d/%Y' or "
        r"date_format='%d/%m/%Y'\."
    )
    with pytest.raises(DataError, match=pattern):
        from_pandas(text_frame(times))


def test_a_row_that_does_not_match_date_format_is_named() -> None:
    frame = text_frame(["01/02/2024", "01/03/2024", "2024-04-01", "01/05/2024"])
    pattern = (
        r"Column 'ds' row 2 holds '2024-04-01', which does not match date_format='%d/%m/%Y'\. Fix that row, or pass "
        r"the format the column is written in\."
    )
    with pytest.raises(DataError, match=pattern):
        from_pandas(frame, date_format="%d/%m/%Y")


def test_an_unusable_date_format_is_refused() -> None:
    with pytest.raises(DataError, match=r"date_format='%Q' is not a usable strftime format: .*'Q' is a bad directive"):
        from_pandas(text_frame(["2024-01-01", "2024-01-02", "2024-01-03"]), date_format="%Q")
    message = "The 'date_format' parameter of from_pandas must be an instance of str or None. Got 1 instead."
    with pytest.raises(DataTypeError, match=re.escape(message)):
        from_pandas(daily(3), date_format=1)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("stores", "how"),
    [
        ({"a": "2020-01-01", "b": "2020-01-01"}, r"each of its timestamps appears 2 times"),
        (
            {"a": "2020-01-01", "b": "2020-01-03"},
            r"its timestamps restart \(2020-01-03 00:00:00 is listed after 2020-01-05 00:00:00\)",
        ),
    ],
)
def test_duplicates_from_stacked_series_suggest_an_id_column(tmp_path: Path, stores: dict[str, str], how: str) -> None:
    path = tmp_path / "sales.csv"
    rows = [
        f"{store},{t.date()},{i}"
        for store, start in stores.items()
        for i, t in enumerate(pd.date_range(start, periods=5))
    ]
    path.write_text("store,ds,y\n" + "\n".join(rows) + "\n")
    pattern = (
        rf"Series 'sales' has duplicate timestamp 2020-01-0\d 00:00:00 and {how}: it looks like several series stacked "
        r"in one\. Name the column that tells them apart with id_col=, or aggregate the duplicates\."
    )
    with pytest.raises(DataError, match=pattern):
        load_csv(path)
    assert load_csv(path, id_col="store")["unique_id"].tolist() == ["a"] * 5 + ["b"] * 5


CLI_FLAGS = {p: "--" + p.replace("_", "-") for p in ("time_col", "target_col", "id_col", "fill", "date_format")}


@pytest.mark.parametrize(
    ("frame", "in_python", "on_the_command_line"),
    [
        (
            pd.DataFrame({"date": ["2020-01-01"], "y": [1.0]}),
            "Name the right ones with time_col=, target_col= and id_col=.",
            "Name the right ones with --time-col, --target-col and --id-col.",
        ),
        (
            daily(6).drop(index=[2]),
            "Insert them explicitly with fill='ffill' or fill='zero', or resample",
            "Insert them explicitly with --fill 'ffill' or --fill 'zero', or resample",
        ),
        (
            text_frame(["2024-01-01", "01/02/2024", "2024-01-03"]),
            "name it with date_format= (e.g. date_format='%d/%m/%Y').",
            "name it with --date-format (e.g. --date-format '%d/%m/%Y').",
        ),
        (
            text_frame(["01/01/2024", "01/02/2024", "01/03/2024", "01/04/2024"]),
            "Say which with date_format='%m/%d/%Y' or date_format='%d/%m/%Y'.",
            "Say which with --date-format '%m/%d/%Y' or --date-format '%d/%m/%Y'.",
        ),
        (
            pd.concat([daily(4), daily(4)]),
            "tells them apart with id_col=, or aggregate",
            "tells them apart with --id-col, or aggregate",
        ),
    ],
)
def test_remedies_name_parameters_in_the_callers_vocabulary(
    frame: pd.DataFrame, in_python: str, on_the_command_line: str
) -> None:
    with pytest.raises(DataError, match=re.escape(in_python)):
        from_pandas(frame)
    with spelled_as(CLI_FLAGS), pytest.raises(DataError, match=re.escape(on_the_command_line)):
        from_pandas(frame)


@pytest.mark.parametrize("huge", [1e200, -1e151])
def test_targets_whose_squares_overflow_are_refused(huge: float) -> None:
    frame = daily(5).assign(y=[1.0, 2.0, huge, 4.0, huge])
    pattern = (
        rf"Column 'y' has 2 value\(s\) beyond \+-1e\+150, the first {re.escape(f'{huge:g}')} in series 'series' at "
        r"2020-01-03 00:00:00: their squares overflow float64, so errors and spreads would be inf or NaN\. Rescale"
    )
    with pytest.raises(DataError, match=pattern):
        from_pandas(frame)
    assert from_pandas(frame.assign(y=[1.0, 2.0, 1e150, 4.0, -1e150]))["y"].max() == 1e150


# --- inputs are never modified ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "frame",
    [
        pd.DataFrame(
            {"unique_id": ["b"] * 4 + ["a"] * 4, "ds": [0, 1, 2, 3] * 2, "y": np.arange(8), "x": list("abcdefgh")}
        ),
        pd.DataFrame({"ds": ["2020-01-01", "2020-01-02", "2020-01-04", "2020-01-05"], "y": [1, 2, 3, 4]}),
        pd.DataFrame({"ds": [3, 2, 1, 0], "y": [1.0, 2, 3, 4]}),
        pd.DataFrame({"ds": [0, 1, 2, 3], "y": [1.0, np.nan, 3, 4]}, index=[9, 8, 7, 6]),
    ],
)
@pytest.mark.parametrize("fill", [None, "ffill", "zero"])
def test_from_pandas_never_modifies_the_input_frame(frame: pd.DataFrame, fill: str | None) -> None:
    original = frame.copy(deep=True)
    try:
        out = from_pandas(frame, fill=fill)
    except DataError:
        out = None
    pd.testing.assert_frame_equal(frame, original)
    assert list(frame.dtypes) == list(original.dtypes)
    if out is not None:
        assert not np.shares_memory(out["y"].to_numpy(), frame["y"].to_numpy())


def test_from_pandas_never_modifies_the_input_series() -> None:
    s = pd.Series([3, 1, 2], index=pd.date_range("2020-01-01", periods=3, freq="D"))
    original = s.copy(deep=True)
    out = from_pandas(s)
    out.loc[0, "y"] = -1.0
    pd.testing.assert_series_equal(s, original)


def test_the_output_is_a_new_frame() -> None:
    frame = pd.DataFrame({"unique_id": "a", "ds": [0, 1, 2], "y": [1.0, 2.0, 3.0]})
    out = from_pandas(frame)
    out.loc[0, "y"] = 100.0
    assert frame.loc[0, "y"] == 1.0
