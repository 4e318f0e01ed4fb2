"""The catalogue of the datasets shipped with tsforecast: their names, descriptions and files.

Nine real series (monthly, quarterly, yearly, daily and half-hourly, two of them panels) ship as
CSV files, with their provenance in ``datasets/README.md``. This module says which exist and
where their files are; :func:`tsforecast.loaders.load_dataset` reads one into a validated frame.
It imports no pandas, so the command line checks a dataset name before pandas loads.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ._validation import check_names

__all__ = ["DatasetInfo", "dataset_file", "dataset_info", "list_datasets"]


@dataclass(frozen=True)
class DatasetInfo:
    """Description of a shipped dataset."""

    name: str
    description: str
    source: str
    freq: str
    season: int


_DATASETS = {
    info.name: info
    for info in (
        DatasetInfo("air_passengers", "Monthly airline passengers, 1949-1960", "R datasets::AirPassengers", "MS", 12),
        DatasetInfo("elnino_sst", "Monthly El Nino sea-surface temperature, 1950-2010", "statsmodels elnino", "MS", 12),
        DatasetInfo("ausbeer", "Quarterly Australian beer production", "fpp2::ausbeer", "QS-JAN", 4),
        DatasetInfo("lynx", "Annual Canadian lynx trappings, 1821-1934", "R datasets::lynx", "YS-JAN", 1),
        DatasetInfo("nile", "Annual flow of the river Nile, 1871-1970", "R datasets::Nile", "YS-JAN", 1),
        DatasetInfo(
            "elecdaily",
            "Daily electricity demand in Victoria, 2014, with WorkDay and Temperature",
            "fpp2::elecdaily",
            "D",
            7,
        ),
        DatasetInfo(
            "taylor", "Half-hourly electricity demand, England and Wales, 2000", "forecast::taylor", "30min", 48
        ),
        DatasetInfo(
            "arrivals", "Quarterly arrivals to Australia from 4 countries (panel)", "fpp2::arrivals", "QS-JAN", 4
        ),
        DatasetInfo(
            "uk_lung_deaths", "Monthly UK lung-disease deaths, male and female (panel)", "R mdeaths/fdeaths", "MS", 12
        ),
    )
}


def _dataset_dir() -> Path:
    # NOTE: an installed wheel carries the CSVs as package data (tsforecast/datasets/); a source
    # checkout (tests run from the repository) reads the repository's top-level datasets/ folder.
    packaged = Path(str(resources.files("tsforecast"))) / "datasets"
    return packaged if packaged.is_dir() else Path(__file__).resolve().parents[1] / "datasets"


def list_datasets() -> list[str]:
    """Names of the shipped datasets, for :func:`~tsforecast.loaders.load_dataset`.

    Examples
    --------
    >>> "air_passengers" in list_datasets()
    True
    """
    return sorted(_DATASETS)


def dataset_info(name: str) -> DatasetInfo:
    """Return the description, source, frequency and season of a shipped dataset.

    Raises
    ------
    DataError
        If ``name`` is not a shipped dataset (the message suggests the closest name).
    """
    check_names("dataset", [name], list_datasets())
    return _DATASETS[name]


def dataset_file(name: str) -> Path:
    """The CSV file of a shipped dataset.

    Raises
    ------
    DataError
        If ``name`` is not a shipped dataset (the message suggests the closest name).
    """
    dataset_info(name)
    return _dataset_dir() / f"{name}.csv"
