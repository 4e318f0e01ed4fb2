"""Series ids are labels: read as text exactly as written from every source, never merged, never numbers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tsforecast import cli
from tsforecast.errors import DataError
from tsforecast.frames import from_pandas
from tsforecast.loaders import load_csv, load_parquet, read_raw_csv

N = 24
DATES = pd.date_range("2020-01-01", periods=N, freq="MS").strftime("%Y-%m-%d")


def _stores_csv(path: Path, stores: list[str], header: str = "store,date,units") -> Path:
    """One monthly series of ``N`` rows per store, written with the ids exactly as given; store k holds k*100 + t."""
    lines = [header] + [f"{s},{d},{k * 100 + t}" for k, s in enumerate(stores) for t, d in enumerate(DATES)]
    path.write_text("\n".join(lines) + "\n")
    return path


def _frame(ids: list[Any], dtype: Any = None) -> pd.DataFrame:
    """One monthly series of ``N`` rows per id, with the id column built from ``ids`` (and ``dtype``)."""
    column = pd.Series(np.repeat(np.array(ids, dtype=object), N), dtype=dtype if dtype is not None else object)
    return pd.DataFrame(
        {"store": column, "ds": np.tile(pd.date_range("2020-01-01", periods=N, freq="MS"), len(ids)), "y": 1.0}
    )


# --- CSV --------------------------------------------------------------------------------------------------------


def test_csv_ids_007_and_7_are_two_series_of_24_rows(tmp_path: Path) -> None:
    df = load_csv(_stores_csv(tmp_path / "sales.csv", ["007", "7"]), "date", "units", "store")
    assert df.groupby("unique_id").size().to_dict() == {"007": N, "7": N}
    assert df.loc[df["unique_id"] == "007", "y"].tolist() == [float(t) for t in range(N)]
    assert df.loc[df["unique_id"] == "7", "y"].tolist() == [100.0 + t for t in range(N)]


def test_csv_ids_are_text_also_in_a_unique_id_column(tmp_path: Path) -> None:
    df = load_csv(_stores_csv(tmp_path / "p.csv", ["01", "1", "1.0"], "unique_id,ds,y"))
    assert sorted(df["unique_id"].unique()) == ["01", "1", "1.0"]


@pytest.mark.parametrize("label", ["NA", "null", "N/A", "None", "NaN", "nan", "NULL", "#N/A", "<NA>", "n/a"])
def test_csv_ids_that_pandas_reads_as_missing_are_kept_as_written(tmp_path: Path, label: str) -> None:
    df = load_csv(_stores_csv(tmp_path / "s.csv", [label, "b"]), "date", "units", "store")
    assert df.groupby("unique_id").size().to_dict() == {label: N, "b": N}


def test_csv_other_columns_keep_pandas_missing_values(tmp_path: Path) -> None:
    path = _stores_csv(tmp_path / "s.csv", ["NA", "b"])
    path.write_text(path.read_text().replace("2020-05-01,4\n", "2020-05-01,NA\n"))
    with pytest.raises(
        DataError, match=r"'units' has 1 NaN or infinite value\(s\); the first is in series 'NA' at 2020"
    ):
        load_csv(path, "date", "units", "store")


def test_read_raw_csv_reads_only_the_id_column_as_text(tmp_path: Path) -> None:
    path = tmp_path / "raw.csv"
    path.write_text("store,ds,y,temp\nNA,2020-01-01,NA,null\n007,2020-01-02,,1.5\n")
    raw = read_raw_csv(path, "store")
    assert raw["store"].tolist() == ["NA", "007"]
    plain = pd.read_csv(path)
    pd.testing.assert_frame_equal(raw.drop(columns="store"), plain.drop(columns="store"))
    pd.testing.assert_frame_equal(read_raw_csv(path, "no such column"), plain)


@pytest.mark.parametrize(("empty", "shown"), [("", "''"), ('""', "''")])
def test_csv_empty_ids_are_refused_naming_the_rows(tmp_path: Path, empty: str, shown: str) -> None:
    path = _stores_csv(tmp_path / "s.csv", ["007", "7"])
    lines = path.read_text().splitlines()
    for row in (3, 30):
        lines[row + 1] = empty + lines[row + 1][lines[row + 1].index(",") :]
    path.write_text("\n".join(lines) + "\n")
    pattern = (
        rf"^Column 'store' has 2 row\(s\) with an empty or missing series id: rows 3, 30 \(row 3 holds {shown}\)\. "
        r"Every row needs the label of its series: fill in the ids, or drop those rows\.$"
    )
    with pytest.raises(DataError, match=pattern):
        load_csv(path, "date", "units", "store")


def test_cli_backtest_keeps_the_ids_as_written_in_its_outputs(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = _stores_csv(tmp_path / "sales.csv", ["007", "7", "NA"])
    out = tmp_path / "d"
    argv = ["backtest", str(path), "--id-col", "store", "--time-col", "date", "--target-col", "units"]
    status = cli.main([*argv, "--horizon", "3", "--folds", "1", "--model", "naive", "--no-audit", "--out", str(out)])
    assert status == 0, capsys.readouterr().err
    written = pd.read_csv(out / "forecasts.csv", dtype={"store": str}, keep_default_na=False)
    assert sorted(written["store"].unique()) == ["007", "7", "NA"]
    assert written.groupby("store").size().nunique() == 1


def test_cli_forecast_keeps_the_ids_as_written(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = _stores_csv(tmp_path / "sales.csv", ["007", "7"])
    out = tmp_path / "f.csv"
    argv = ["forecast", str(path), "--id-col", "store", "--time-col", "date", "--target-col", "units"]
    assert cli.main([*argv, "--horizon", "2", "--model", "naive", "--out", str(out)]) == 0, capsys.readouterr().err
    written = pd.read_csv(out, dtype={"store": str})
    assert written["store"].tolist() == ["007", "007", "7", "7"]
    assert written["y_hat"].tolist() == [23.0, 23.0, 123.0, 123.0]


def test_cli_refuses_an_empty_id_in_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = _stores_csv(tmp_path / "sales.csv", ["a", ""])
    argv = ["forecast", str(path), "--id-col", "store", "--time-col", "date", "--target-col", "units"]
    assert cli.main([*argv, "--horizon", "2", "--model", "naive", "--out", str(tmp_path / "f.csv")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("tsforecast forecast: error: Column 'store' has 24 row(s) with an empty or missing series")
    assert "rows 24, 25, 26, 27, 28 and 19 more (row 24 holds '')" in err
    assert len(err.splitlines()) == 1


# --- Parquet ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ids", "expected"),
    [
        ([7, 70], ["7", "70"]),
        (["007", "7"], ["007", "7"]),
        ([7.0, 7.5], ["7.0", "7.5"]),
    ],
)
def test_parquet_ids_become_text_as_written(tmp_path: Path, ids: list[Any], expected: list[str]) -> None:
    pytest.importorskip("pyarrow")
    path = tmp_path / "s.parquet"
    _frame(ids, dtype=type(ids[0])).to_parquet(path)
    df = load_parquet(path, id_col="store")
    assert df.groupby("unique_id").size().to_dict() == dict.fromkeys(expected, N)


def test_parquet_missing_ids_are_refused_naming_the_rows(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    frame = _frame(["a", "b"])
    frame.loc[[5, 40], "store"] = None
    path = tmp_path / "s.parquet"
    frame.to_parquet(path)
    with pytest.raises(DataError, match=r"'store' has 2 row\(s\) with an empty or missing series id: rows 5, 40 \("):
        load_parquet(path, id_col="store")


# --- pandas -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ids", "dtype", "expected"),
    [
        ([7, 70], "int64", ["7", "70"]),
        ([7, 70], "Int64", ["7", "70"]),
        ([7.0, 7.5], "float64", ["7.0", "7.5"]),
        (["007", "7"], object, ["007", "7"]),
        (["007", "7"], "string", ["007", "7"]),
        (["007", "7"], "category", ["007", "7"]),
        ([7, 7.0], object, ["7", "7.0"]),
        ([True, "x"], object, ["True", "x"]),
        (["NA", "null"], object, ["NA", "null"]),
    ],
)
def test_pandas_ids_of_any_dtype_become_text_as_written(ids: list[Any], dtype: Any, expected: list[str]) -> None:
    df = from_pandas(_frame(ids, dtype), id_col="store")
    assert df.groupby("unique_id").size().to_dict() == dict.fromkeys(expected, N)
    assert all(type(u) is str for u in df["unique_id"])


@pytest.mark.parametrize(
    ("missing", "dtype", "shown"),
    [
        (None, object, "None"),
        (np.nan, object, "nan"),
        (pd.NA, object, "<NA>"),
        ("", object, "''"),
        (np.nan, "float64", "nan"),
        (pd.NA, "Int64", "<NA>"),
        (None, "string", "<NA>"),
        (None, "category", "nan"),
    ],
)
def test_pandas_missing_or_empty_ids_are_refused_naming_the_rows(missing: Any, dtype: Any, shown: str) -> None:
    frame = _frame([1, 2] if dtype in ("float64", "Int64") else ["a", "b"], dtype)
    frame.loc[[2, 30, 31], "store"] = missing
    pattern = (
        rf"^Column 'store' has 3 row\(s\) with an empty or missing series id: rows 2, 30, 31 "
        rf"\(row 2 holds {shown}\)\. Every row needs the label of its series"
    )
    with pytest.raises(DataError, match=pattern):
        from_pandas(frame, id_col="store")


def test_many_missing_ids_show_the_first_five_rows_and_a_count() -> None:
    frame = _frame(["a", "b"])
    frame.loc[3:12, "store"] = None
    with pytest.raises(DataError, match=r"has 10 row\(s\) .*: rows 3, 4, 5, 6, 7 and 5 more \(row 3 holds None\)"):
        from_pandas(frame, id_col="store")


@pytest.mark.parametrize(
    ("ids", "pattern"),
    [
        (
            [7, "7"],
            r"^Column 'store' spells the series id '7' both as text \(row 24: '7'\) and as int \(row 0: 7\)",
        ),
        (
            ["x", "True", True],
            r"^Column 'store' spells the series id 'True' both as text \(row 24: 'True'\) and as bool \(row 48: True\)",
        ),
    ],
)
@pytest.mark.parametrize("dtype", [object, "category"])
def test_one_label_spelled_as_text_and_as_a_number_is_refused(ids: list[Any], pattern: str, dtype: Any) -> None:
    with pytest.raises(DataError, match=pattern + r": one label in two types\. Give the column one type first"):
        from_pandas(_frame(ids, dtype), id_col="store")


def test_ids_that_differ_as_text_are_never_merged() -> None:
    df = from_pandas(_frame(["007", "7", "7 ", "07"]), id_col="store")
    assert df.groupby("unique_id").size().to_dict() == {"007": N, "07": N, "7": N, "7 ": N}


def test_one_missing_id_is_named_with_its_value() -> None:
    frame = _frame(["a", "b"])
    frame.loc[4, "store"] = None
    with pytest.raises(DataError, match=r"has 1 row\(s\) with an empty or missing series id: row 4 \(holds None\)\. "):
        from_pandas(frame, id_col="store")
