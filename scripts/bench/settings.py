"""What the benchmark measures and how big: the datasets, the protocol sizes (full and quick), the peers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ID, TIME, TARGET = "unique_id", "ds", "y"


PEERS = ("statsforecast", "skforecast", "mlforecast", "neuralforecast")


TSF_MODELS = ("sgd", "naive", "seasonal_naive", "ets", "arima", "theta")


GROUPS = ("monthly", "quarterly", "daily", "half-hourly", "annual")


TOO_SLOW = {
    ("taylor", "AutoARIMA"): "skipped: in a trial it had not finished after 6.5 minutes (season 48, 2,000 points)",
}
"""Peer models left out of a dataset because they take far longer than the whole rest of the benchmark."""


@dataclass(frozen=True)
class Spec:
    """One accuracy dataset and its protocol."""

    name: str
    group: str
    horizon: int
    season: int
    tail: int | None = None  # keep only the last ``tail`` points of each series


@dataclass(frozen=True)
class Config:
    """Sizes of every measurement; :func:`config` gives the full and the quick ones."""

    quick: bool
    folds: int
    datasets: tuple[Spec, ...]
    sgd_params: dict[str, Any]
    panel: tuple[int, int]  # series, length
    panel_folds: int
    repeats: int
    memory_points: int
    materialised_points: int
    lookback: int
    counts: tuple[int, ...]
    count_length: int
    lengths: tuple[int, ...]
    length_series: int
    scaling_sgd: dict[str, Any] = field(default_factory=lambda: {"epochs": 2, "max_steps": 10**9})
    panel_series: tuple[int, ...] = (1_000, 10_000, 100_000)  # the panel scaling table: series of 400 points
    panel_length: int = 400
    panel_sgd_steps: int = 20  # the fixed SGD step budget of the panel scaling table's global fit
    nhits_steps: int = 300  # neuralforecast NHITS's max_steps (the accuracy peer)


SPECS = (
    Spec("air_passengers", "monthly", 12, 12),
    Spec("elnino_sst", "monthly", 12, 12),
    Spec("uk_lung_deaths", "monthly", 12, 12),
    Spec("arrivals", "quarterly", 4, 4),
    Spec("ausbeer", "quarterly", 4, 4),
    Spec("elecdaily", "daily", 7, 7),
    Spec("taylor", "half-hourly", 48, 48, tail=2000),
    Spec("lynx", "annual", 5, 1),
    Spec("nile", "annual", 5, 1),
)


def config(quick: bool) -> Config:
    """The measurement sizes: the full benchmark, or the quick smoke run."""
    if quick:
        return Config(
            quick=True,
            folds=2,
            datasets=(SPECS[0], SPECS[4]),
            sgd_params={"epochs": 5, "max_steps": 40},
            panel=(12, 120),
            panel_folds=2,
            repeats=1,
            memory_points=200_000,
            materialised_points=20_000,
            lookback=256,
            counts=(2, 4),
            count_length=100,
            lengths=(100, 300),
            length_series=1,
            scaling_sgd={"epochs": 1, "max_steps": 10**9},
            panel_series=(10, 30),
            panel_length=120,
            panel_sgd_steps=4,
            nhits_steps=5,
        )
    return Config(
        quick=False,
        folds=5,
        datasets=SPECS,
        sgd_params={},
        panel=(1000, 400),
        panel_folds=5,
        repeats=3,
        memory_points=10_000_000,
        materialised_points=1_000_000,
        lookback=256,
        counts=(10, 100, 1000),
        count_length=200,
        lengths=(100, 1000, 10_000),
        length_series=10,
    )
