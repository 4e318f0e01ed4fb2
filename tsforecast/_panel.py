"""The array-native backtest core: every series of a fold forecast in one vectorised call.

A validated long frame is sorted by series, then time, and every series is regular, so it is held
as one values array with per-series offsets (:class:`Panel`). When the time grid has no holes and
every fold trains and tests on a contiguous span of it, a fold is one interval of rows per series
(:class:`PanelFold`), and the models whose ``_forecast_panel`` is vectorised (naive, seasonal naive,
mean, drift) forecast all series of a fold in one call. pandas is used at the edges only: the
result frames are built once, and the per-series means go through pandas' own groupby mean, so
the scores are the ones :mod:`tsforecast._engine`'s per-series tasks give, bit for bit.

Other models, covariates, checkpoints and the parallel engines run through those tasks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from ._engine import FORECAST_COLUMNS, _blocks, _longest_span, build_models, left_out_reason
from .covariates import Covariates, prepare_frame
from .data import ID, TARGET, TIME, _grid
from .models import Forecaster, LocalForecaster
from .split import check_temporal_cv

__all__ = [
    "Panel",
    "PanelFold",
    "PanelPlan",
    "PanelRun",
    "as_panel",
    "cut_folds",
    "make_panel_plan",
    "run_panel",
    "series_offsets",
    "vectorised",
]


def vectorised(model: Forecaster) -> bool:
    """Whether ``model`` forecasts many series in one vectorised call (it overrides ``_forecast_panel``)."""
    return isinstance(model, LocalForecaster) and type(model)._forecast_panel is not LocalForecaster._forecast_panel


@dataclass(frozen=True)
class Panel:
    """A validated long frame as arrays; series ``i`` holds rows ``offsets[i] … offsets[i+1]-1``.

    Its rows are sorted by series, then time, and series ``i`` sits on the consecutive steps
    ``first[i] …`` of ``grid``, the frequency's every timestamp from the first to the last.
    """

    frame: pd.DataFrame = field(repr=False)
    ids: np.ndarray = field(repr=False)
    offsets: np.ndarray = field(repr=False)
    values: np.ndarray = field(repr=False)
    grid: pd.Index = field(repr=False)
    first: np.ndarray = field(repr=False)

    @property
    def lengths(self) -> np.ndarray:
        """Rows of each series."""
        return np.diff(self.offsets)


def series_offsets(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The names of the series of a validated long frame and their row offsets (the row count last)."""
    ids = frame[ID].to_numpy()
    heads = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    return ids[heads], np.r_[heads, len(ids)]


def as_panel(frame: pd.DataFrame, freq: str | int, series: tuple[np.ndarray, np.ndarray]) -> Panel | None:
    """A validated long frame as a :class:`Panel`; ``None`` when its time grid has a hole or a second lattice.

    The grid has a hole when no series covers some step between the first and the last timestamp;
    a second lattice, when series of an integer step start off each other's steps. Then positions
    on the grid of distinct timestamps are not frequency steps, and the general path runs.
    """
    ids, offsets = series  # see series_offsets
    times = frame[TIME]
    grid = _grid(times.min(), times.max(), freq)
    grid = grid.astype(times.dtype) if grid.dtype != times.dtype else grid
    first = grid.get_indexer(pd.Index(times.take(offsets[:-1])))
    if (first < 0).any():
        return None
    order = np.argsort(first, kind="stable")
    reach = np.maximum.accumulate((first + np.diff(offsets) - 1)[order])
    if (first[order][1:] > reach[:-1] + 1).any():
        return None
    return Panel(frame, ids, offsets, frame[TARGET].to_numpy(dtype="float64"), grid, first)


@dataclass(frozen=True)
class PanelFold:
    """One fold of a :class:`Panel`: per series, the first row and the number of rows it trains and tests on.

    ``step`` is the cutoff's position on the grid; ``test_step`` is the forecast step (0 = the first
    after the cutoff) of each series' first test row.
    A series with test rows and no training rows is in ``skipped`` and has no test rows here.
    """

    index: int
    cutoff: Any
    step: int
    train_start: np.ndarray = field(repr=False)
    train_size: np.ndarray = field(repr=False)
    test_start: np.ndarray = field(repr=False)
    test_size: np.ndarray = field(repr=False)
    test_step: np.ndarray = field(repr=False)
    skipped: tuple[str, ...] = ()


def cut_folds(cv: Any, panel: Panel) -> list[PanelFold] | None:
    """The folds of any temporal splitter on the panel's grid (checked as :func:`~tsforecast.panel_folds` does).

    ``None`` when a fold trains or tests on a non-contiguous span of the grid (the general path then runs).
    """
    first, last = panel.first, panel.first + panel.lengths - 1
    heads = panel.offsets[:-1]
    folds = []
    for k, (train, test) in enumerate(check_temporal_cv(cv, np.arange(len(panel.grid)))):
        if np.ptp(train) + 1 != len(train) or np.ptp(test) + 1 != len(test):
            return None
        cut, test_first = int(train.max()), np.maximum(int(test.min()), first)
        train_first = np.maximum(int(train.min()), first)
        train_size = np.maximum(np.minimum(cut, last) - train_first + 1, 0)
        test_size = np.maximum(np.minimum(int(test.max()), last) - test_first + 1, 0)
        skipped = (test_size > 0) & (train_size == 0)
        cutoff = panel.grid[cut]
        folds.append(
            PanelFold(
                k,
                int(cutoff) if isinstance(cutoff, np.integer) else cutoff,
                cut,
                heads + train_first - first,
                train_size,
                heads + test_first - first,
                np.where(train_size > 0, test_size, 0),
                test_first - cut - 1,
                tuple(sorted(str(uid) for uid in panel.ids[skipped])),
            )
        )
    return folds


@dataclass(frozen=True)
class PanelPlan:
    """Everything decided before forecasting, when every model forecasts a fold's series in one call."""

    panel: Panel
    folds: list[PanelFold]
    models: dict[str, Forecaster]
    horizon: int
    season: int
    refit: bool | int


def make_panel_plan(
    model: Any,
    data: pd.DataFrame,
    cv: Any,
    *,
    freq: str | int,
    series: tuple[np.ndarray, np.ndarray],
    baselines: Sequence[Any],
    season: int,
    refit: bool | int,
    covariates: Covariates | None,
) -> PanelPlan | None:
    """The plan of :func:`~tsforecast._engine.make_plan`, as arrays; ``None`` when the general path must run.

    ``series`` is :func:`series_offsets` of ``data``. It makes the same checks in the same order. The
    general path runs with covariates, with a grid that :func:`as_panel` refuses, with folds that
    :func:`cut_folds` refuses, and when a model has no vectorised ``_forecast_panel``.
    """
    prepare_frame(data, covariates, "backtest")
    if covariates is not None and not covariates.empty:
        return None
    panel = as_panel(data, freq, series)
    folds = None if panel is None else cut_folds(cv, panel)
    if panel is None or folds is None:
        return None
    spans = [
        int((fold.test_step + fold.test_size)[fold.test_size > 0].max())
        for fold in folds
        if fold.test_size.any()  # the last test step of the fold, counted from 1 after the cutoff
    ]
    horizon = _longest_span(spans, [fold.skipped for fold in folds])
    models = build_models(model, baselines, horizon=horizon, season=season)
    if not all(vectorised(m) for m in models.values()):
        return None
    return PanelPlan(panel, folds, models, horizon, season, refit)


@dataclass(frozen=True)
class PanelRun:
    """Forecasts of a :class:`PanelPlan`, sorted by model, fold, series and time, as the general path sorts them.

    ``groups`` numbers the (model, fold, series) of each forecast row; ``scale`` is each row's MASE scale.
    """

    forecasts: pd.DataFrame
    groups: np.ndarray
    scale: np.ndarray
    too_short: pd.DataFrame
    folds: pd.DataFrame
    skipped: pd.DataFrame


def run_panel(plan: PanelPlan) -> PanelRun:
    """Forecast every fold of the plan with each model, one vectorised call per model and fold."""
    panel, folds = plan.panel, plan.folds
    names, rows, steps, series, models_of, predicted = [], [], [], [], [], []
    left_out: list[tuple[str, int, Any, str, str]] = []
    for m, (name, template) in enumerate(plan.models.items()):
        model = clone(template)
        assert isinstance(model, LocalForecaster)
        need = max(model.min_length(), 3)  # as the general path: 3 timestamps show a series' frequency
        names.append(name)
        for block in _blocks(len(folds), plan.refit):
            usable = folds[block[0]].train_size >= need
            if usable.any():
                model._validate_params()  # NOTE: as fit() does, once per fitted block
            for k in block:
                fold = folds[k]
                kept = fold.test_size > 0
                left_out += [
                    (name, k, fold.cutoff, panel.ids[i], left_out_reason(k, block[0], fold.train_size[i], need))
                    for i in np.flatnonzero(kept & ~usable)
                ]
                if not usable.any():
                    continue
                fitted = usable & (fold.train_size > 0)
                model._check_sizes(pd.Series(fold.train_size[fitted], index=panel.ids[fitted]))
                chosen = np.flatnonzero(usable & kept)
                counts = fold.test_size[chosen]
                within = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
                forecasts = model._forecast_panel(panel.values, fold.train_start[chosen], fold.train_size[chosen])
                step = np.repeat(fold.test_step[chosen], counts) + within
                predicted.append(forecasts[np.repeat(np.arange(len(chosen)), counts), step])
                rows.append(np.repeat(fold.test_start[chosen], counts) + within)
                steps.append(np.full(len(step), k))
                series.append(np.repeat(chosen, counts))
                models_of.append(np.full(len(step), m))
    row = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    fold_of = np.concatenate(steps) if steps else np.zeros(0, dtype=np.int64)
    series_of = np.concatenate(series) if series else np.zeros(0, dtype=np.int64)
    model_of = np.concatenate(models_of) if models_of else np.zeros(0, dtype=np.int64)
    forecasts = panel.frame[[ID, TIME, TARGET]].take(row).reset_index(drop=True)
    cutoffs = panel.grid.take([fold.step for fold in folds]).take(fold_of)
    forecasts.insert(2, "cutoff", cutoffs)
    forecasts.insert(3, "fold", fold_of.astype(np.int64))
    forecasts.insert(4, "model", np.array(names, dtype=object)[model_of])
    forecasts["y_hat"] = np.concatenate(predicted) if predicted else np.zeros(0)
    key = (model_of * len(folds) + fold_of) * len(panel.ids) + series_of
    groups = np.cumsum(np.r_[True, key[1:] != key[:-1]]) - 1 if len(key) else key
    scales = _scales(panel, folds, plan.season)
    return PanelRun(
        forecasts[FORECAST_COLUMNS],
        groups,
        scales[fold_of, series_of],
        pd.DataFrame(left_out, columns=["model", "fold", "cutoff", ID, "reason"]),
        _fold_table(panel, folds),
        pd.DataFrame(
            [(f.index, f.cutoff, uid, "no data before the cutoff") for f in folds for uid in f.skipped],
            columns=["fold", "cutoff", ID, "reason"],
        ),
    )


def _scales(panel: Panel, folds: list[PanelFold], season: int) -> np.ndarray:
    """MASE scale by fold and series: the in-sample seasonal-naive MAE of the fold's training rows (NaN: none)."""
    starts = np.concatenate([fold.train_start + season for fold in folds])
    lengths = np.concatenate([np.maximum(fold.train_size - season, 0) for fold in folds])
    return _seasonal_error_means(panel.values, season, starts, lengths).reshape(len(folds), len(panel.ids))


def _seasonal_error_means(values: np.ndarray, season: int, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Mean of ``|y[r] - y[r - season]|`` over the rows ``start … start + length - 1`` of each segment (NaN: none).

    Each sum runs in row order with Kahan compensation, the arithmetic of pandas' groupby mean on
    data with NaN (the general path's scores: a seasonal difference starts with NaN), so the
    scales are the same bit for bit; the terms here are finite, never needing its non-finite
    handling. The loop runs over the rows of the longest segment, each step vectorised across
    segments; segments with one start (one series' expanding windows) share one running sum, read
    at each segment's end.
    """
    heads, which = np.unique(starts, return_inverse=True)
    reach = np.zeros(len(heads), dtype=np.int64)
    np.maximum.at(reach, which, lengths)
    order = np.argsort(-reach, kind="stable")  # longest first: the sums still running are a prefix
    heads, reach = heads[order], reach[order]
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    which = rank[which]
    by_length = np.argsort(lengths, kind="stable")
    ends = lengths[by_length]
    total, compensation = np.zeros(len(heads)), np.zeros(len(heads))
    means = np.full(len(starts), np.nan)  # an empty segment: no seasonal difference, no scale
    done = int(np.searchsorted(ends, 0, side="right"))
    for step in range(int(reach[0]) if len(reach) else 0):
        live = int(np.searchsorted(-reach, -step, side="left"))  # the sums longer than `step`
        row = heads[:live] + step
        y = np.abs(values[row] - values[row - season]) - compensation[:live]
        t = total[:live] + y
        compensation[:live] = t - total[:live] - y
        total[:live] = t
        stop = int(np.searchsorted(ends, step + 1, side="right"))
        finished = by_length[done:stop]
        means[finished] = total[which[finished]] / (step + 1)
        done = stop
    return means


def _fold_table(panel: Panel, folds: list[PanelFold]) -> pd.DataFrame:
    """One row per fold: ``fold, train_start, cutoff, test_start, test_end, series``."""
    none = panel.frame[TIME].iloc[:0].min()  # what an empty test part's first and last timestamps are
    table = []
    for fold in folds:
        trained, tested = fold.train_size > 0, fold.test_size > 0
        start = panel.first + fold.train_start - panel.offsets[:-1]
        test_first = fold.test_step + fold.step + 1
        table.append(
            (
                fold.index,
                panel.grid[int(start[trained].min())],
                fold.cutoff,
                panel.grid[int(test_first[tested].min())] if tested.any() else none,
                panel.grid[int((test_first + fold.test_size - 1)[tested].max())] if tested.any() else none,
                int(tested.sum()),
            )
        )
    return pd.DataFrame(table, columns=["fold", "train_start", "cutoff", "test_start", "test_end", "series"])
