"""Reading CSV and Parquet files into the canonical long frame ``unique_id, ds, y``."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from canonical import assert_canonical, daily, text_frame

import tsforecast
from tsforecast.errors import DataError
from tsforecast.frames import from_pandas
from tsforecast.frequency import infer_freq
from tsforecast.loaders import load_csv, load_parquet


def test_data_functions_are_exported_from_the_top_level() -> None:
    homes = {
        "load_csv": "loaders",
        "load_parquet": "loaders",
        "load_dataset": "loaders",
        "from_pandas": "frames",
        "infer_freq": "frequency",
        "list_datasets": "shipped",
        "dataset_info": "shipped",
    }
    for name, module in homes.items():
        assert getattr(tsforecast, name) is getattr(importlib.import_module(f"tsforecast.{module}"), name)


def test_load_csv_reads_a_single_series_named_after_the_file(tmp_path: Path) -> None:
    path = tmp_path / "sales.csv"
    path.write_text("ds,y\n2021-01-01,1\n2021-02-01,2\n2021-03-01,3.5\n2021-04-01,4\n")
    df = load_csv(path)
    assert_canonical(df)
    assert set(df["unique_id"]) == {"sales"}
    assert df["ds"].tolist() == list(pd.date_range("2021-01-01", periods=4, freq="MS"))
    assert df["y"].tolist() == [1.0, 2.0, 3.5, 4.0]
    assert infer_freq(df) == "MS"
    pd.testing.assert_frame_equal(load_csv(str(path)), df)


def test_load_csv_with_custom_column_names_and_an_id_column(tmp_path: Path) -> None:
    path = tmp_path / "shops.csv"
    rows = ["store,date,value,price"]
    for store in ("b", "a"):
        rows += [f"{store},2022-01-0{d},{d * 10 if store == 'a' else d},{d / 2}" for d in range(1, 6)]
    path.write_text("\n".join(rows) + "\n")
    df = load_csv(path, time_col="date", target_col="value", id_col="store")
    assert_canonical(df, ["price"])
    assert df["unique_id"].tolist() == ["a"] * 5 + ["b"] * 5
    assert df.loc[df["unique_id"] == "a", "y"].tolist() == [10.0, 20.0, 30.0, 40.0, 50.0]
    assert df["price"].tolist() == [d / 2 for d in range(1, 6)] * 2
    assert infer_freq(df) == "D"


def test_load_csv_uses_a_unique_id_column_without_id_col(tmp_path: Path) -> None:
    path = tmp_path / "panel.csv"
    path.write_text("unique_id,ds,y\n" + "".join(f"{u},{t},{t}\n" for u in ("x", "y") for t in range(4)))
    df = load_csv(path)
    assert df["unique_id"].tolist() == ["x"] * 4 + ["y"] * 4
    assert df["ds"].dtype == np.int64


def test_load_csv_integer_time_index(tmp_path: Path) -> None:
    path = tmp_path / "steps.csv"
    path.write_text("t,v\n0,5\n2,6\n4,7\n6,8\n")
    df = load_csv(path, time_col="t", target_col="v")
    assert_canonical(df)
    assert df["ds"].dtype == np.int64
    assert df["ds"].tolist() == [0, 2, 4, 6]
    assert infer_freq(df) == 2


def test_load_parquet_equals_from_pandas(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    frame = pd.DataFrame(
        {
            "id": np.repeat(["s1", "s2"], 6),
            "when": np.tile(pd.date_range("2020-01-01", periods=6, freq="h"), 2),
            "target": np.arange(12, dtype="int64"),
            "temp": np.linspace(0, 1, 12),
        }
    )
    path = tmp_path / "hourly.parquet"
    frame.to_parquet(path)
    df = load_parquet(path, time_col="when", target_col="target", id_col="id")
    assert_canonical(df, ["temp"])
    pd.testing.assert_frame_equal(df, from_pandas(frame, "when", "target", "id"))
    assert infer_freq(df) == "h"


def test_load_parquet_fills_missing_timestamps(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    frame = daily(8).drop(index=[3])
    path = tmp_path / "gappy.parquet"
    frame.to_parquet(path)
    with pytest.raises(DataError, match=r"Series 'gappy' has 1 missing timestamp\(s\) at frequency D: 2020-01-04"):
        load_parquet(path)
    df = load_parquet(path, fill="zero")
    assert len(df) == 8
    assert df["y"].iloc[3] == 0.0


@pytest.mark.parametrize(("loader", "suffix"), [(load_csv, ".csv"), (load_parquet, ".parquet")])
def test_missing_file_raises_data_error(tmp_path: Path, loader: Any, suffix: str) -> None:
    path = tmp_path / f"nope{suffix}"
    with pytest.raises(DataError, match=rf"Data file {re.escape(repr(str(path)))} does not exist\. Check the path"):
        loader(path)


def test_a_directory_is_not_a_data_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"does not exist\. Check the path"):
        load_csv(tmp_path)


@pytest.mark.parametrize(
    ("loader", "name", "content", "detail"),
    [
        (load_csv, "empty.csv", "", r"No columns to parse"),
        (load_csv, "broken.csv", 'ds,y\n1,2,3,4\n"x', r"C error"),
        (load_parquet, "broken.parquet", "not a parquet file at all", r""),
    ],
)
def test_unreadable_file_raises_data_error(tmp_path: Path, loader: Any, name: str, content: str, detail: str) -> None:
    if loader is load_parquet:
        pytest.importorskip("pyarrow")
    path = tmp_path / name
    path.write_text(content)
    suffix = re.escape(Path(name).suffix)
    with pytest.raises(DataError, match=rf"Could not read .*{detail}.*\. Is it a valid {suffix} file\?"):
        loader(path)


def test_load_csv_unparsable_date_names_the_row(tmp_path: Path) -> None:
    path = tmp_path / "bad_dates.csv"
    path.write_text("ds,y\n2020-01-01,1\n2020-01-02,2\nsoon,3\n2020-01-04,4\n")
    with pytest.raises(DataError, match=r"Column 'ds' has a value that is not a timestamp at row 2: 'soon'\. Use ISO"):
        load_csv(path)


def test_load_csv_never_modifies_the_file(tmp_path: Path) -> None:
    path = tmp_path / "gaps.csv"
    days = [1, 2, 3, 5, 6, 7]
    path.write_text("unique_id,ds,y\n" + "".join(f"b,2020-01-0{d},{d}\n" for d in days) + "a,2020-01-01,3\n")
    before, mtime = path.read_bytes(), path.stat().st_mtime_ns
    load_csv(path, fill="ffill")
    with pytest.raises(DataError, match="missing timestamp"):
        load_csv(path)
    assert path.read_bytes() == before
    assert path.stat().st_mtime_ns == mtime
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gaps.csv"]


def test_load_parquet_never_modifies_the_file(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    path = tmp_path / "s.parquet"
    daily(5).iloc[[0, 1, 1, 2]].to_parquet(path)
    before = path.read_bytes()
    with pytest.raises(DataError, match="has duplicate timestamp"):
        load_parquet(path)
    daily(5).iloc[::-1].to_parquet(path)
    before = path.read_bytes()
    assert load_parquet(path)["y"].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert path.read_bytes() == before


# --- date_format -----------------------------------------------------------------------------------------------------


def test_date_format_is_honoured_by_every_loader(tmp_path: Path) -> None:
    times = ["01/02/2024", "01/03/2024", "01/04/2024", "01/05/2024"]
    expected = list(pd.date_range("2024-02-01", periods=4, freq="MS"))
    assert from_pandas(text_frame(times), date_format="%d/%m/%Y")["ds"].tolist() == expected
    path = tmp_path / "monthly.csv"
    path.write_text("ds,y\n" + "".join(f"{t},{i}\n" for i, t in enumerate(times)))
    assert load_csv(path, date_format="%d/%m/%Y")["ds"].tolist() == expected
    assert load_csv(path, date_format="%m/%d/%Y")["ds"].tolist() == list(pd.date_range("2024-01-02", periods=4))
    pytest.importorskip("pyarrow")
    text_frame(times).to_parquet(tmp_path / "monthly.parquet")
    assert load_parquet(tmp_path / "monthly.parquet", date_format="%d/%m/%Y")["ds"].tolist() == expected


def test_date_format_reads_integer_dates(tmp_path: Path) -> None:
    path = tmp_path / "compact.csv"
    path.write_text("ds,y\n20240129,1\n20240130,2\n20240131,3\n")
    assert load_csv(path, date_format="%Y%m%d")["ds"].tolist() == list(pd.date_range("2024-01-29", periods=3))
    assert load_csv(path)["ds"].tolist() == [20240129, 20240130, 20240131]  # without it: an integer index
    datetimes = daily(4)
    pd.testing.assert_frame_equal(from_pandas(datetimes, date_format="%d/%m/%Y"), from_pandas(datetimes))
