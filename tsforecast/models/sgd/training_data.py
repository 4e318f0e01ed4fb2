"""The data one ensemble member of :class:`~tsforecast.models.sgd.SGDForecaster` trains on.

A frame becomes :class:`ModelSeries` (the histories in model space -- log or linear -- with their
seasonal indices and covariate arrays), then, per member, :class:`MemberWindows`: every window of
the training data at stride 1 as views of one buffer (:class:`~tsforecast.windows.WindowDataset`),
with the time-ordered fitting/validation split (:func:`temporal_split`). Each batch is normalised
when it is drawn (:meth:`MemberWindows.batch`: inputs, scaled residual targets, recency weights),
so a member's training data takes O(T + batch) memory, never O(T · lookback).

Covariates: past-only columns become extra channels of the ``(N, 1 + P, L)`` input; known-future
values over each window's horizon and the static values form an extra vector, standardised with
statistics of the training frame only (:func:`fit_scalers`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch

from ...columns import ID, TARGET, TIME
from ...covariates import Covariates
from ...windows import WindowDataset
from ..smoothing import SmoothingStates, smoothing_states
from .base_forecast import Recipe, es_parameters, family_base_matrix, normalise, seasonal_indices

__all__ = [
    "MATERIALISED_BYTES",
    "MAX_VAL_WINDOWS",
    "MIN_VAL_WINDOWS",
    "Batch",
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
    "training_adjustments",
    "training_smoothing",
    "validation_start",
]

MIN_VAL_WINDOWS = 8
"""The fewest validation windows of a member."""

MAX_VAL_WINDOWS = 10_000
"""The most validation windows of a member: those whose targets start last."""

MATERIALISED_BYTES = 32 * 2**20
"""Fitting windows whose normalised copy takes at most this many bytes are normalised once, not per batch."""

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
    smoothing: SmoothingStates | None = None  # predict: the "es" states after every row (the base from any origin)


@dataclass(frozen=True)
class Batch:
    """Normalised windows: inputs ``(N, C, L)``, scaled residual targets ``(N, h)``, weights ``(N,)``, extra inputs."""

    inputs: torch.Tensor
    targets: torch.Tensor
    weights: torch.Tensor
    extra: torch.Tensor | None = None  # (N, K·h + S): known-future values over the horizon, then static values


@dataclass(frozen=True)
class MemberWindows:
    """Every training window of one member, as views of one buffer, normalised when drawn.

    Nothing of size ``windows × lookback`` is kept beyond :data:`MATERIALISED_BYTES`: :meth:`batch`
    normalises the windows it is given (:func:`~tsforecast.models.sgd.base_forecast.normalise`),
    so memory is O(T + batch).
    """

    dataset: WindowDataset  # the model-space series (after the member's adjustments), future block: known covariates
    base_matrix: torch.Tensor  # (L, h)
    season: int
    recency: float
    ends: np.ndarray  # the last buffer position of each series
    static: torch.Tensor | None = None  # (n_series, S) when the networks take the extra vector
    smoothing: SmoothingStates | None = None  # "es" family: its base is added to the in-window one

    def batch(self, index: np.ndarray) -> Batch:
        """The windows at positions ``index`` (ascending), normalised, weighted (see :meth:`weights`).

        For the ``"es"`` family the base forecast from each window's origin (its last input) is
        computed from :attr:`smoothing` for these windows only.
        """
        data = self.dataset
        windows, future = data.batch(index)
        inputs, base, scale = normalise(windows, self.base_matrix, self.season)
        if self.smoothing is not None:
            origins = data.start_of(index) + data.lookback - 1
            base = base + torch.as_tensor(self.smoothing.forecasts(origins), dtype=torch.float32)
        owner, age = self._owner_and_age(index)
        extra = None
        if self.static is not None:
            extra = torch.cat([data.batch_future(index).flatten(1), self.static[owner]], dim=1)
        return Batch(inputs, (future - base) / scale, self.weights(age), extra)

    def drawer(self, index: np.ndarray) -> Callable[[Sequence[int]], Batch]:
        """A function giving the batch of positions ``p`` into ``index``: ``batch(index[p])``.

        When the normalised windows of ``index`` take at most :data:`MATERIALISED_BYTES` (series of
        ordinary length), they are normalised once and each batch selects from them, which spares
        the normalisation at every step; otherwise each batch is normalised when drawn.
        """
        data = self.dataset
        known = 0 if data.future is None else data.future.shape[0]
        static = 0 if self.static is None else self.static.shape[1]
        width = data.buffer.shape[0] * data.lookback + (1 + known) * data.horizon + static  # floats per window
        if 4 * width * len(index) > MATERIALISED_BYTES:
            return lambda positions: self.batch(index[positions])
        whole, (_, age) = self.batch(index), self._owner_and_age(index)

        def draw(positions: Sequence[int]) -> Batch:
            first, last = positions[0], positions[-1]  # ascending: a range when they are as many as it holds
            rows: Any = slice(first, last + 1) if last - first + 1 == len(positions) else torch.as_tensor(positions)
            extra = None if whole.extra is None else whole.extra[rows]
            return Batch(whole.inputs[rows], whole.targets[rows], self.weights(age[positions]), extra)

        return draw

    def weights(self, age: np.ndarray) -> torch.Tensor:
        """Weights of one batch of windows ``age`` seasons old: ``exp(-recency · age)`` over that of its youngest.

        A batch's cost is a weighted mean, which the common factor leaves unchanged; it keeps the
        weights from underflowing to 0 (a cost of 0/0) on windows over ~1,000 seasons old.
        """
        return torch.as_tensor(np.exp(-self.recency * (age - age.min())), dtype=torch.float32)

    def _owner_and_age(self, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The series of each window at ``index`` and its age: seasons (horizons without a season) from its last
        target to the end of its series."""
        data, m = self.dataset, self.season
        starts = data.start_of(index)
        owner = np.searchsorted(self.ends, starts)
        age = (self.ends[owner] - (starts + data.lookback + data.horizon - 1)) / (m if m > 1 else data.horizon)
        return owner, age


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
    arrays = covariate_arrays(frame, covariates, scalers)
    return ModelSeries(
        z,
        frame[TIME].to_numpy().astype("int64"),
        indices,
        arrays.get("past"),
        arrays.get("known"),
        arrays.get("static"),
    )


def training_adjustments(series: ModelSeries, recipe: Recipe, season: int, before: Any) -> list[np.ndarray]:
    """Per series, the values subtracted from the history for training (length ``n``).

    For the ``"decomposed"`` family: the seasonal indices of the series' values at times before
    ``before`` (the first validation target), or of its first ``lookback`` values if they are more
    (no window has a target among them). So no validation target reaches any window's inputs,
    base or targets, and the validation cost is honest. (``predict`` uses the indices of the whole
    history it forecasts from, :func:`adjustments`.)
    """
    if recipe.family != "decomposed":
        return [np.zeros(len(z)) for z in series.z]
    parts = _fitting_parts(series, recipe.lookback, before)
    return [np.resize(seasonal_indices(part, season), len(z)) for z, part in zip(series.z, parts, strict=True)]


def training_smoothing(
    series: ModelSeries,
    recipes: Sequence[Recipe],
    season: int,
    horizon: int,
    validation: float,
    multiplicative: bool = False,
) -> SmoothingStates | None:
    """The states after every row with the parameters the ``"es"`` members train with (``None`` without one).

    One fit per series (:func:`~.base_forecast.es_parameters`), shared by every ``"es"``
    member: on the series' values at times before the earliest first validation target of those
    members (:func:`validation_start`), or, per member, on its first ``lookback`` values if they
    are more (no window of that member has a target among them); the causal recursion then runs
    over its whole history with them. So no validation target of any member reaches a fitting
    window's base, and every validation cost is honest. ``multiplicative``: the model fitted
    (:func:`~.base_forecast.es_parameters`; the ``ETS(A, Ad, M)`` model on a positive series).
    (``predict`` uses the parameters fitted on the whole training history, saved with the model.)
    """
    lookbacks = [recipe.lookback for recipe in recipes if recipe.family == "es"]
    if not lookbacks:
        return None
    per_member = [
        _fitting_parts(series, lookback, validation_start(series, lookback, horizon, validation))
        for lookback in lookbacks
    ]
    parts = [min(candidates, key=len) for candidates in zip(*per_member, strict=True)]
    return smoothing_states(series.z, es_parameters(parts, season, multiplicative), horizon, log=multiplicative)


def _fitting_parts(series: ModelSeries, lookback: int, before: Any) -> list[np.ndarray]:
    """Per series, the values a training statistic may use: those at times before ``before`` (the
    first validation target), or its first ``lookback`` values if they are more (no window has a
    target among them)."""
    ends = np.cumsum([len(z) for z in series.z])
    parts = []
    for z, end in zip(series.z, ends, strict=True):
        seen = int(np.count_nonzero(series.times[end - len(z) : end] < before))
        parts.append(z[: max(seen, lookback)])
    return parts


def _most_recent(index: np.ndarray, owner: np.ndarray, limit: int) -> np.ndarray:
    """The last ``limit`` entries of each series in ``index`` (ascending; ``owner`` its series, ascending)."""
    past_last = np.cumsum(np.bincount(owner))[owner]  # one past the last entry of the same series
    return index[past_last - np.arange(len(index)) <= limit]


def _windows(
    series: ModelSeries, lookback: int, horizon: int, validation: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every window at stride 1, each inside one series (those WindowDataset cuts): its start rows and
    target-start times, with the positions of the fitting and validation windows (:func:`temporal_split`)."""
    lengths = [len(z) for z in series.z]
    ends = np.cumsum(lengths) - 1
    starts = np.concatenate(
        [np.arange(e - n + 1, e - lookback - horizon + 2) for n, e in zip(lengths, ends, strict=True)]
    )
    target_start = series.times[starts + lookback]
    fit, val = temporal_split(target_start, series.times[starts + lookback + horizon - 1], validation)
    return starts, target_start, fit, val


def validation_start(series: ModelSeries, lookback: int, horizon: int, validation: float) -> Any:
    """The time of the first validation target of a member with this ``lookback``."""
    _, target_start, _, val = _windows(series, lookback, horizon, validation)
    return target_start[val].min()


def member_windows(
    series: ModelSeries,
    recipe: Recipe,
    *,
    season: int,
    horizon: int,
    validation: float,
    extra: bool,
    budget: int,
    smoothing: SmoothingStates | None,
) -> tuple[MemberWindows, np.ndarray, np.ndarray]:
    """The training windows of one member, with the positions of its fitting and validation windows.

    Every window at stride 1, each inside one series, is split by :func:`temporal_split`. Fitting
    windows: each series' most recent ``budget`` ones (all of them unless a pass over them would
    exceed the step budget). Validation windows: the :data:`MAX_VAL_WINDOWS` whose targets start
    last (all of them unless the data is long). The member's adjustments are
    :func:`training_adjustments`; an ``"es"`` member's base reads ``smoothing``, the states of
    :func:`training_smoothing`. ``extra`` says whether the networks take the extra vector
    (known-future and static inputs).
    """
    m, h, lookback = season, horizon, recipe.lookback
    lengths = [len(z) for z in series.z]
    ends = np.cumsum(lengths) - 1
    starts, target_start, fit, val = _windows(series, lookback, h, validation)
    shifts = training_adjustments(series, recipe, m, before=target_start[val].min())
    adjusted = np.concatenate([z - s for z, s in zip(series.z, shifts, strict=True)])
    values = adjusted if series.past is None or not len(series.past) else np.vstack([adjusted, series.past])
    dataset = WindowDataset(values, lookback, h, lengths=lengths, future=series.known)
    static = None
    if extra:
        assert series.static is not None
        static = torch.as_tensor(series.static, dtype=torch.float32)
    states = smoothing if recipe.family == "es" else None
    windows = MemberWindows(dataset, family_base_matrix(recipe, h, m), m, recipe.recency, ends, static, states)
    fit = _most_recent(fit, np.searchsorted(ends, starts[fit]), budget)
    val = np.sort(val[np.argsort(target_start[val], kind="stable")[-MAX_VAL_WINDOWS:]])
    return windows, fit, val
