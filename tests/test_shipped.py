"""The shipped datasets: their catalogue, and each one loaded as a canonical frame."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from canonical import assert_canonical

from tsforecast.errors import DataError
from tsforecast.frequency import infer_freq, season_length
from tsforecast.loaders import load_dataset
from tsforecast.shipped import DatasetInfo, dataset_info, list_datasets

DATASETS = list_datasets()
PANELS = {"arrivals": 4, "uk_lung_deaths": 2}


def test_list_datasets_is_sorted_and_names_every_shipped_file() -> None:
    assert sorted(DATASETS) == DATASETS
    assert len(DATASETS) == len(set(DATASETS)) >= 9
    assert "air_passengers" in DATASETS
    shipped = {p.stem for p in (Path(__file__).resolve().parents[1] / "datasets").glob("*.csv")}
    assert set(DATASETS) <= shipped


@pytest.mark.parametrize("name", DATASETS)
def test_load_dataset_returns_a_canonical_frame_at_its_declared_frequency(name: str) -> None:
    info = dataset_info(name)
    df = load_dataset(name)
    extras = [c for c in df.columns if c not in ("unique_id", "ds", "y")]
    assert_canonical(df, extras)
    assert pd.api.types.is_datetime64_any_dtype(df["ds"])
    assert infer_freq(df) == info.freq
    assert season_length(info.freq) == info.season
    assert df["unique_id"].nunique() == PANELS.get(name, 1)
    if name not in PANELS:
        assert set(df["unique_id"]) == {name}
    for _, part in df.groupby("unique_id"):
        grid = pd.date_range(part["ds"].iloc[0], part["ds"].iloc[-1], freq=info.freq)
        assert len(grid) == len(part)
        assert (pd.DatetimeIndex(part["ds"]) == grid).all()


@pytest.mark.parametrize("name", DATASETS)
def test_dataset_info_describes_the_dataset(name: str) -> None:
    info = dataset_info(name)
    assert isinstance(info, DatasetInfo)
    assert info.name == name
    assert info.description
    assert info.source
    assert info.season >= 1


def test_air_passengers_is_the_classic_series() -> None:
    df = load_dataset("air_passengers")
    assert df.shape == (144, 3)
    assert df["ds"].iloc[0] == pd.Timestamp("1949-01-01")
    assert df["ds"].iloc[-1] == pd.Timestamp("1960-12-01")
    assert df["y"].iloc[0] == 112.0


def test_elecdaily_keeps_its_covariates_after_the_target() -> None:
    df = load_dataset("elecdaily")
    assert list(df.columns) == ["unique_id", "ds", "y", "WorkDay", "Temperature"]
    assert len(df) == 365


@pytest.mark.parametrize(
    ("name", "suggestion"),
    [("air_pasengers", "air_passengers"), ("Nile", "nile"), ("taylr", "taylor"), ("arrival", "arrivals")],
)
def test_unknown_dataset_suggests_the_close_name(name: str, suggestion: str) -> None:
    pattern = rf"Unknown dataset {name!r}\. Did you mean {suggestion!r}\? Available: air_passengers, "
    with pytest.raises(DataError, match=pattern):
        load_dataset(name)
    with pytest.raises(DataError, match=pattern):
        dataset_info(name)


def test_unknown_dataset_without_a_close_name_lists_the_available_ones() -> None:
    with pytest.raises(DataError, match=r"Unknown dataset 'zzzzzz'\. Available: ") as info:
        load_dataset("zzzzzz")
    assert "Did you mean" not in str(info.value)
    assert str(info.value).endswith(", ".join(DATASETS) + ".")


def test_the_catalogue_loads_no_pandas() -> None:
    # NOTE: the command line checks a dataset name with it before pandas loads
    code = (
        "import sys; from tsforecast.shipped import dataset_file, dataset_info, list_datasets; "
        "assert dataset_info('nile').season == 1 and dataset_file('nile').is_file() and 'nile' in list_datasets(); "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'numpy', 'pandas'}))"
    )
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root, check=True)
    assert out.stdout.strip() == "[]"
