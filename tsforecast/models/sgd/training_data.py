"""The data one ensemble member of :class:`~tsforecast.models.sgd.SGDForecaster` trains on.

A frame becomes :class:`ModelSeries` (the histories in model space -- log or linear -- with their
seasonal indices and covariate arrays), then, per member, :class:`MemberWindows`: every window of
the training data at stride 1, normalised (:func:`~tsforecast.models.sgd.base_forecast.normalise`),
with scaled residual targets, recency weights and the time-ordered fitting/validation split
(:func:`temporal_split`).

Covariates: past-only columns become extra channels of the ``(N, 1 + P, L)`` input; known-future
values over each window's horizon and the static values form an extra vector, standardised with
statistics of the training frame only (:func:`fit_scalers`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch

from ...covariates import Covariates
from ...data import ID, TARGET, TIME
from ...windows import WindowDataset
from .base_forecast import Recipe, family_base_matrix, normalise, seasonal_indices

__all__ = [
    "MIN_VAL_WINDOWS",
    "MemberWindows",
    "ModelSeries",
    "Scalers",
    "adjustments",
    "covariate_arrays",
    "fit_scalers",
    "histories",
    "member_windows",
    "model_series",
    "standardise",
    "temporal_split",
]

MIN_VAL_WINDOWS = 8
"""The fewest validation windows of a member."""

Scalers = dict[str, tuple[np.ndarray, np.ndarray]]
"""Means and standard deviations of the ``"known"`` and ``"static"`` covariate inputs."""


@dataclass(frozen=True)
class ModelSeries:
    """The histories of a frame in model space (log or linear), in ``unique_id`` order."""

    z: list[np.ndarray]
    times: np.ndarray  # int64 timestamps of every row, series after series
    seasonal: list[np.ndarray]  # per series, its seasonal indices over history and horizon (n + h values)
    past: np.ndarray | None = None  # (P, T) past-only covariates, raw, series after series
    known: np.ndarray | None = None  # (K, T) known-future covariates, standardised with the fitted statistics
    static: np.ndarray | None = None  # (n_series, S) static covariates, standardised with the fitted statistics
    smoothing: np.ndarray | None = None  # (T, h) the "es" base forecast from every row as origin, series after series


@dataclass(frozen=True)
class MemberWindows:
    """Normalised windows of one member: inputs ``(N, C, L)``, scaled residual targets, weights, extra inputs."""

    inputs: torch.Tensor
    targets: torch.Tensor
    weights: torch.Tensor
    extra: torch.Tensor | None = None  # (N, K·h + S): known-future values over the horizon, then static values

    def rows(self, index: Any) -> MemberWindows:
        extra = None if self.extra is None else self.extra[index]
        return MemberWindows(self.inputs[index], self.targets[index], self.weights[index], extra)


def temporal_split(target_start: np.ndarray, target_end: np.ndarray, fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """Split windows into fitting and validation windows by time, purging the overlap.

    The validation windows are the ``max(8, ceil(fraction·N))`` windows whose targets start last
    (every window starting at or after that time ``τ``); a fitting window must have all its
    targets strictly before ``τ``. Windows in between (targets straddling ``τ``) are dropped.

    Examples
    --------
    >>> start = np.arange(20)
    >>> fit, val = temporal_split(start, start + 2, 0.1)  # horizon 3
    >>> fit.max(), val.min(), len(val)
    (np.int64(9), np.int64(12), 8)
    """
    n_val = max(MIN_VAL_WINDOWS, math.ceil(fraction * len(target_start)))
    tau = np.sort(target_start)[-n_val]
    return np.flatnonzero(target_end < tau), np.flatnonzero(target_start >= tau)


def standardise(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column means and standard deviations (1 where a column is constant) of ``values`` ``(n, k)``."""
    mean = values.mean(axis=0) if len(values) else np.zeros(values.shape[1])
    std = values.std(axis=0) if len(values) else np.ones(values.shape[1])
    return mean, np.where(std > 1e-12, std, 1.0)


def adjustments(series: ModelSeries, recipe: Recipe, horizon: int) -> list[np.ndarray]:
    """Per series, the values subtracted from the history and added to the forecast (length ``n + h``)."""
    if recipe.family != "decomposed":
        return [np.zeros(len(z) + horizon) for z in series.z]
    return series.seasonal


def histories(frame: pd.DataFrame) -> list[np.ndarray]:
    """The target values of each series of ``frame``, in ``unique_id`` order."""
    return [part.to_numpy(dtype="float64") for _, part in frame.groupby(ID, sort=True)[TARGET]]


def fit_scalers(frame: pd.DataFrame, covariates: Covariates | None) -> Scalers:
    """Standardisation statistics of the known-future and static inputs, from the training frame only."""
    if covariates is None:
        return {}
    per_series = frame.groupby(ID, sort=True)[list(covariates.static)].first().to_numpy(dtype="float64")
    return {
        "known": standardise(frame[list(covariates.future_columns)].to_numpy(dtype="float64")),
        "static": standardise(per_series),
    }


def covariate_arrays(frame: pd.DataFrame, covariates: Covariates | None, scalers: Scalers) -> dict[str, np.ndarray]:
    """Past-only ``(P, T)``, standardised known-future ``(K, T)`` and static ``(n, S)`` arrays of a frame."""
    if covariates is None:
        return {}
    known_mean, known_std = scalers["known"]
    static_mean, static_std = scalers["static"]
    static = frame.groupby(ID, sort=True)[list(covariates.static)].first().to_numpy(dtype="float64")
    return {
        "past": frame[list(covariates.past_only)].to_numpy(dtype="float64").T,
        "known": ((frame[list(covariates.future_columns)].to_numpy(dtype="float64") - known_mean) / known_std).T,
        "static": (static - static_mean) / static_std,
    }


def model_series(
    frame: pd.DataFrame,
    values: list[np.ndarray],
    *,
    log: bool,
    season: int,
    horizon: int,
    seasonal: bool,
    covariates: Covariates | None,
    scalers: Scalers,
) -> ModelSeries:
    """The histories ``values`` of ``frame`` in model space; seasonal indices only if ``seasonal``."""
    z = [np.log(y) if log else y for y in values]
    indices = [np.resize(seasonal_indices(series, season), len(series) + horizon) for series in z] if seasonal else []
    return ModelSeries(
        z, frame[TIME].to_numpy().astype("int64"), indices, **covariate_arrays(frame, covariates, scalers)
    )


def member_windows(
    series: ModelSeries, recipe: Recipe, *, season: int, horizon: int, validation: float, extra: bool
) -> tuple[MemberWindows, np.ndarray, np.ndarray]:
    """All training windows of one member, normalised, with the fitting and validation indices.

    ``extra`` says whether the networks take the extra vector (known-future and static inputs).
    """
    m, h, lookback = season, horizon, recipe.lookback
    shifts = adjustments(series, recipe, h)
    lengths = [len(z) for z in series.z]
    adjusted = np.concatenate([z - s[: len(z)] for z, s in zip(series.z, shifts, strict=True)])
    values = adjusted if series.past is None or not len(series.past) else np.vstack([adjusted, series.past])
    dataset = WindowDataset(values, lookback, h, lengths=lengths, future=series.known)
    windows, future = dataset.batch()
    inputs, base, scale = normalise(windows, family_base_matrix(recipe, h, m), m)
    starts = dataset.starts
    if recipe.family == "es":
        assert series.smoothing is not None
        base = base + torch.as_tensor(series.smoothing[starts + lookback - 1], dtype=torch.float32)
    extra_inputs = None
    if extra:
        assert series.static is not None
        owner = np.searchsorted(np.cumsum(lengths), starts, side="right")  # the series of each window
        blocks = dataset.batch_future().flatten(1)
        extra_inputs = torch.cat([blocks, torch.as_tensor(series.static[owner], dtype=torch.float32)], dim=1)
    series_end = np.repeat(np.cumsum(lengths) - 1, lengths)[starts]
    age = (series_end - (starts + lookback + h - 1)) / (m if m > 1 else h)
    weights = torch.as_tensor(np.exp(-recipe.recency * age), dtype=torch.float32)
    fit, val = temporal_split(series.times[starts + lookback], series.times[starts + lookback + h - 1], validation)
    return MemberWindows(inputs, (future - base) / scale, weights, extra_inputs), fit, val
