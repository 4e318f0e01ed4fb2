"""The one engine: run a plan's tasks and turn their forecasts into a backtest's forecast frame.

Every task (:class:`~tsforecast._plan.Task`) is one call of its model's
:meth:`~tsforecast.models.Forecaster.fit_forecast` on the rows it may read; tasks run serially,
with joblib or on a Dask cluster, and may be stored in a task cache (``checkpoint=DIR``) to be
reused by a rerun. Whatever ran them, the results are assembled here, by this process alone:
conformal bands from the calibration forecasts of each fit (pooled over every series of the
fit, whichever task computed them), then each fold's forecasts at its test rows. Actuals and
timestamps always come from the plan's frame, never from a task or a stored file.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._plan import BlockPlan, Plan, Task
from ._progress import Progress
from ._secret import secret_key
from ._task_cache import (
    TaskCache,
    Uncheckpointable,
    Unstorable,
    attributes_digest,
    model_code,
    params_digest,
    runtime_versions,
)
from .columns import ID, TARGET, TIME
from .errors import DataError, spell
from .models.batch import FitResult
from .models.intervals import band_columns, collect_calibration, conformal_half_widths, history_scales

__all__ = ["ENGINES", "Forecasts", "execute", "run_plan", "run_task"]

ENGINES = ("serial", "joblib", "dask")
FORECAST_COLUMNS = [ID, TIME, "cutoff", "fold", "model", TARGET, "y_hat"]


@dataclass(frozen=True)
class TaskResult:
    """What a task gave: per fit, its :class:`~tsforecast.models.batch.FitResult`."""

    fits: tuple[FitResult, ...]


def run_task(task: Task) -> TaskResult:
    """Run one task: its model's ``fit_forecast`` on its rows; each result checked against what was asked."""
    results = task.model.fit_forecast(task.data, list(task.fits), native=task.native)
    horizon = int(task.model.horizon)
    for fit, result in zip(task.fits, results, strict=True):
        _check_shape(task, result.forecasts, (fit.n_requests, horizon), "forecasts")
    return TaskResult(tuple(results))


def _check_shape(task: Task, array: np.ndarray, shape: tuple[int, ...], what: str) -> None:
    if np.shape(array) != shape:
        raise DataError(
            f"{task.name}.fit_forecast returned {what} of shape {np.shape(array)} where {shape} was asked: one row "
            "per requested history, one column per horizon step."
        )


# --------------------------------------------------------------------------------- running ---- #


def _indexed(position: int, task: Task) -> tuple[int, TaskResult]:
    return position, run_task(task)


@contextlib.contextmanager
def _dask_client(n_jobs: int, scheduler: str | None) -> Iterator[Any]:
    """The client to run tasks on: of ``scheduler``, else the user's current one, else of a quiet local cluster."""
    from distributed import Client, LocalCluster, get_client

    if scheduler is not None:
        try:
            connected = Client(scheduler, set_as_default=False)
        except (OSError, ValueError) as exc:  # NOTE: a refused or timed-out connection, or a malformed address
            raise DataError(
                f"No Dask scheduler answered at {scheduler!r} ({exc}). Start one (`dask scheduler`) and pass "
                f"the address it prints as {spell('scheduler')}."
            ) from exc
        with connected as client:
            yield client
        return
    try:
        current = get_client()  # the user's client: their cluster runs the tasks
    except ValueError:
        current = None
    # NOTE: yield outside the try: an error of a task (a DataError is a ValueError) must surface as it is.
    if current is not None:
        yield current
        return
    workers = max(1, n_jobs if n_jobs > 0 else os.cpu_count() or 1)
    with (
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster, set_as_default=False) as client,
    ):
        yield client


def _completed(
    tasks: list[Task], *, engine: str, n_jobs: int, scheduler: str | None
) -> Iterator[tuple[int, TaskResult]]:
    """Run tasks with the chosen engine; yield each result with its task's position as soon as it is done."""
    if engine == "serial":
        for position, task in enumerate(tasks):
            yield position, run_task(task)
    elif engine == "joblib":
        from joblib import Parallel, delayed

        yield from Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
            delayed(_indexed)(position, task) for position, task in enumerate(tasks)
        )
    else:
        from distributed import as_completed

        with _dask_client(n_jobs, scheduler) as client:
            futures = client.map(_indexed, range(len(tasks)), tasks, pure=False)
            try:
                for future in as_completed(futures, loop=client.loop):
                    yield future.result()  # re-raises a task's own exception
            finally:
                client.cancel(futures)


def fingerprint(plan: Plan, cv: Any) -> str:
    """Digest of the data and the run settings; the task cache is reused only under the same digest."""
    digest = hashlib.sha256(pd.util.hash_pandas_object(plan.frame, index=False).to_numpy().tobytes())
    settings = (cv, plan.season, plan.refit, plan.covariates, plan.levels, plan.interval_method, plan.horizon)
    digest.update(repr(settings).encode())
    digest.update(repr(sorted(runtime_versions().items())).encode())
    return digest.hexdigest()


def task_key(task: Task, context: str) -> str:
    """A digest of everything a task's result depends on: the run (``context``), its model's name,
    parameters (exactly: :func:`~tsforecast._task_cache.params_digest`), other instance attributes
    (:func:`~tsforecast._task_cache.attributes_digest`) and code, its series and the rows of every
    fit and request.

    Raises
    ------
    Uncheckpointable
        If a parameter, attribute or code the model reads has no exact digest (never checkpointed).
    """
    params = params_digest(task.model.get_params(deep=False))
    if params is None:
        raise Uncheckpointable("a parameter that cannot be pickled has no exact digest")
    digest = hashlib.sha256(context.encode())
    parts = (task.name, params, attributes_digest(task.model), model_code(task.model), repr(task.series))
    for part in (*parts, repr(task.native)):
        digest.update(part.encode() + b"\x1f")
    for fit in task.fits:
        for array in (fit.first, fit.end, fit.request_first, fit.request_end):
            digest.update(np.ascontiguousarray(array, dtype=np.int64).tobytes() + b"\x1f")
        digest.update(repr(fit.cutoff).encode())
    return digest.hexdigest()


def _checkpoint_key(task: Task, context: str, unstorable: list[str]) -> str | None:
    """:func:`task_key`, or ``None`` with the reason added to ``unstorable`` when the task cannot be checkpointed."""
    try:
        return task_key(task, context)
    except Uncheckpointable as exc:
        unstorable.append(f"{task.name} ({exc})")
        return None


def _encode(result: TaskResult) -> dict[str, pd.DataFrame | None]:
    """A task result as the task cache's frames: each fit's forecasts (and native bands) flattened."""
    parts = []
    for k, fit in enumerate(result.fits):
        part = {"fit": np.full(fit.forecasts.size, k), "y_hat": fit.forecasts.reshape(-1)}
        for side, bands in (("lo", fit.lower), ("hi", fit.upper)):
            if bands is not None:
                part.update({f"{side}{j}": band.reshape(-1) for j, band in enumerate(bands)})
        parts.append(pd.DataFrame(part))
    trainings = [fit.training.assign(fit=k) for k, fit in enumerate(result.fits) if fit.training is not None]
    forecasts = (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame({"fit": np.zeros(0, dtype=np.int64), "y_hat": np.zeros(0)})
    )
    return {"forecasts": forecasts, "training": pd.concat(trainings, ignore_index=True) if trainings else None}


def _decode(task: Task, frames: dict[str, pd.DataFrame | None]) -> TaskResult | None:
    """The stored result of ``task``, or None unless it holds exactly the task's forecasts (never trusted).

    Each fit must have one number per requested history and horizon step (and per level of its
    native bands), and no row may belong to another fit. Only forecasts, bands and training logs
    come from the file; what they are assembled with (timestamps, actuals) comes from the data.
    """
    forecasts, training = frames["forecasts"], frames["training"]
    horizon = int(task.model.horizon)
    levels = 0 if task.native is None else len(task.native)
    numbers = ["y_hat", *(f"{side}{j}" for side in ("lo", "hi") for j in range(levels))]
    if forecasts is None or not _integers(forecasts, "fit") or not all(_reals(forecasts, c) for c in numbers):
        return None
    if training is not None and not _integers(training, "fit"):
        return None
    if len(forecasts) != sum(fit.n_requests for fit in task.fits) * horizon:
        return None
    fits = []
    for k, fit in enumerate(task.fits):
        rows = forecasts[forecasts["fit"] == k]
        if len(rows) != fit.n_requests * horizon:
            return None
        shape = (fit.n_requests, horizon)
        bands = [
            np.stack([rows[f"{side}{j}"].to_numpy(dtype="float64").reshape(shape) for j in range(levels)])
            if levels
            else None
            for side in ("lo", "hi")
        ]
        log = None if training is None else training[training["fit"] == k].drop(columns="fit").reset_index(drop=True)
        fits.append(FitResult(rows["y_hat"].to_numpy(dtype="float64").reshape(shape), log, bands[0], bands[1]))
    return TaskResult(tuple(fits))


def _integers(frame: pd.DataFrame, column: str) -> bool:
    return column in frame and pd.api.types.is_integer_dtype(frame[column].dtype)


def _reals(frame: pd.DataFrame, column: str) -> bool:
    dtype = frame[column].dtype if column in frame else None
    return dtype is not None and pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)


def execute(
    tasks: list[Task],
    *,
    engine: str,
    n_jobs: int,
    checkpoint: str | os.PathLike[str] | None,
    context: str,
    progress: bool | None,
    scheduler: str | None = None,
) -> list[TaskResult]:
    """Run tasks with the chosen engine; results come back in task order whatever the engine.

    With ``checkpoint``, results are read and written by this process alone (never by a worker,
    which may not share its disk): stored results whose key matches and whose shapes match what
    the task asks are reused, every other task runs and its result is stored as soon as it
    arrives. Files that cannot be reused are recomputed, with one warning naming them.
    """
    results: list[TaskResult | None] = [None] * len(tasks)
    store, keys = None, list[str | None]([None] * len(tasks))
    unstorable: list[str] = []
    if checkpoint is not None:
        store = TaskCache(Path(checkpoint) / context[:16], secret_key(Path(checkpoint)))
        store.directory.mkdir(parents=True, exist_ok=True)
        keys = [_checkpoint_key(task, context, unstorable) for task in tasks]
        for position, (task, key) in enumerate(zip(tasks, keys, strict=True)):
            if key is None:
                continue
            stored = store.load(key, ("forecasts", "training"))
            if stored is not None:
                results[position] = _decode(task, stored)
                if results[position] is None:
                    store.problems.append(f"{store.path(key).name} (its forecasts do not match the task's requests)")
        if store.problems:
            warnings.warn(
                f"{len(store.problems)} checkpoint file(s) in {store.directory} could not be reused and are "
                f"recomputed: {'; '.join(store.problems)}.",
                stacklevel=3,
            )
    todo = [position for position, result in enumerate(results) if result is None]
    with Progress(len(tasks), desc="backtest", initial=len(tasks) - len(todo), enabled=progress) as bar:
        for i, result in _completed([tasks[p] for p in todo], engine=engine, n_jobs=n_jobs, scheduler=scheduler):
            position = todo[i]
            results[position] = result
            key = keys[position]
            if store is not None and key is not None:
                try:
                    store.save(key, _encode(result))
                except Unstorable as exc:
                    unstorable.append(f"{tasks[position].name} ({exc})")
                except OSError as exc:  # NOTE: e.g. a directory planted under the file's name; the result stands
                    unstorable.append(f"{tasks[position].name} (writing {store.path(key).name}: {exc.strerror})")
            bar.update()
    if unstorable:
        warnings.warn(
            f"{len(unstorable)} task result(s) were not checkpointed, and will be recomputed on a rerun: "
            f"{'; '.join(unstorable)}.",
            stacklevel=3,
        )
    return results  # type: ignore[return-value]


# -------------------------------------------------------------------------------- assembling ---- #


@dataclass(frozen=True)
class Forecasts:
    """A run's forecasts, one row per model, fold, series and test timestamp, in that order.

    ``frame`` has ``unique_id, ds, cutoff, fold, model, y, y_hat`` (and ``y_lo_L, y_hi_L`` with
    levels); ``series`` is each row's series position in the plan; ``training`` the per-epoch logs
    of the fits of models that keep one (``model``, ``fold`` of the fit).
    """

    frame: pd.DataFrame
    series: np.ndarray
    training: pd.DataFrame


@dataclass
class _Part:
    """The forecasts (and native bands) of one fit of a block, filled in by the tasks that computed a share."""

    forecasts: np.ndarray
    lower: np.ndarray | None = None
    upper: np.ndarray | None = None


def _gather(plan: Plan, results: list[TaskResult], tasks: list[Task]) -> dict[tuple[int, int], _Part]:
    """Per (block, part), the full arrays of forecasts (and native bands) from every task that computed a share."""
    full: dict[tuple[int, int], _Part] = {}
    for task, result in zip(tasks, results, strict=True):
        for (b, part, keep), fit in zip(task.targets, result.fits, strict=True):
            block = plan.blocks[b]
            n = len(block.series) if part < 0 else len(block.calibration.series[part])  # type: ignore[union-attr]
            into = full.setdefault((b, part), _Part(np.full((n, plan.horizon), np.nan)))
            into.forecasts[keep] = fit.forecasts
            if fit.lower is not None and fit.upper is not None:
                if into.lower is None or into.upper is None:
                    into.lower, into.upper = np.full((2, len(fit.lower), n, plan.horizon), np.nan)
                into.lower[:, keep], into.upper[:, keep] = fit.lower, fit.upper
    return full


def _conformal(
    plan: Plan, b: int, block: BlockPlan, full: dict[tuple[int, int], _Part]
) -> tuple[np.ndarray, np.ndarray]:
    """The conformal bands ``(n_levels, n_requests, horizon)`` of a block's fold forecasts.

    Per fold, as the fitted model's ``predict(history, level=...)`` makes them for every series of
    that fold at once: the block's calibration, pooled over all its series.
    """
    assert block.calibration is not None
    assert plan.levels is not None
    calibration = collect_calibration(
        block.calibration,
        plan.data,
        [full[(b, k)].forecasts for k in range(len(block.calibration.fits))],
        freq=plan.freq,
        owner=plan.entries[block.entry].name,
    )
    forecasts = full[(b, -1)].forecasts
    fit = block.fit
    scales = history_scales(
        plan.data.values, fit.request_first, fit.request_end - fit.request_first, calibration.season
    )
    lower = np.empty((len(plan.levels), *forecasts.shape))
    upper = np.empty_like(lower)
    for k in np.unique(block.fold):
        rows = np.flatnonzero(block.fold == k)
        q = conformal_half_widths(calibration, plan.levels, block.series[rows], scales[rows], forecasts[rows])
        lower[:, rows], upper[:, rows] = forecasts[rows] - q, forecasts[rows] + q
    if not (np.isfinite(lower).all() and np.isfinite(upper).all()):
        raise DataError(
            f"{plan.entries[block.entry].name} produced a non-finite prediction interval (conformal). "
            "Check the series for extreme values."
        )
    return lower, upper


def assemble(plan: Plan, tasks: list[Task], results: list[TaskResult]) -> Forecasts:
    """The forecast frame of a run (see :class:`Forecasts`): bands made, forecasts placed at the test rows."""
    full = _gather(plan, results, tasks)
    rows, folds, models, series, values, bands = [], [], [], [], [], []
    for b, block in enumerate(plan.blocks):
        if (b, -1) not in full:
            continue  # NOTE: a block that was not run (a rerun of some folds only)
        forecasts, lower, upper = full[(b, -1)].forecasts, full[(b, -1)].lower, full[(b, -1)].upper
        if plan.levels is not None and plan.interval_method == "conformal":
            lower, upper = _conformal(plan, b, block, full)
        spans = [plan.folds[k] for k in block.fold]
        test_start = np.array([f.test_start[s] for f, s in zip(spans, block.series, strict=True)], dtype=np.int64)
        test_end = np.array([f.test_end[s] for f, s in zip(spans, block.series, strict=True)], dtype=np.int64)
        counts = test_end - test_start
        request = np.repeat(np.arange(len(counts)), counts)
        row = np.repeat(test_start, counts) + np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        step = row - block.fit.request_end[request]  # 0 for the first step after the cutoff
        rows.append(row)
        folds.append(block.fold[request])
        models.append(np.full(len(row), block.entry))
        series.append(block.series[request])
        values.append(forecasts[request, step])
        if lower is not None and upper is not None:  # native bands come nested around the forecasts from predict()
            bands.append(np.stack([lower[:, request, step], upper[:, request, step]], axis=1))
    row, fold, model = (np.concatenate(a) if a else np.zeros(0, dtype=np.int64) for a in (rows, folds, models))
    owner = np.concatenate(series) if series else np.zeros(0, dtype=np.int64)
    order = np.lexsort((row, fold, model))  # model (plan order), fold, then series and time (row order)
    frame = plan.frame[[ID, TIME, TARGET]].take(row[order]).reset_index(drop=True)
    cutoffs = pd.Series([f.cutoff for f in plan.folds], dtype=frame[TIME].dtype if len(plan.folds) else object)
    frame.insert(2, "cutoff", cutoffs.take(fold[order]).to_numpy())
    frame.insert(3, "fold", fold[order].astype(np.int64))
    frame.insert(4, "model", np.array([e.name for e in plan.entries], dtype=object)[model[order]])
    frame["y_hat"] = np.concatenate(values)[order] if values else np.zeros(0)
    if plan.levels is not None:
        stacked = np.concatenate(bands, axis=2)[:, :, order] if bands else np.zeros((len(plan.levels), 2, 0))
        for k, (lo, hi) in enumerate(zip(*[iter(band_columns(plan.levels))] * 2, strict=True)):
            frame[lo], frame[hi] = stacked[k, 0], stacked[k, 1]
    return Forecasts(frame, owner[order], _training(plan, tasks, results))


def _training(plan: Plan, tasks: list[Task], results: list[TaskResult]) -> pd.DataFrame:
    """The per-epoch logs of every block's fit, by model and fold of the fit."""
    logs = []
    for task, result in zip(tasks, results, strict=True):
        for (b, part, _), fit in zip(task.targets, result.fits, strict=True):
            if part < 0 and fit.training is not None:
                logs.append(fit.training.assign(model=task.name, fold=plan.blocks[b].folds[0]))
    return pd.concat(logs, ignore_index=True) if logs else pd.DataFrame()


def run_plan(
    plan: Plan,
    *,
    engine: str = "serial",
    n_jobs: int = 1,
    checkpoint: str | os.PathLike[str] | None = None,
    context: str = "",
    progress: bool | None = False,
    scheduler: str | None = None,
    folds: list[int] | None = None,
) -> Forecasts:
    """Run a plan (or the blocks of some of its folds) and assemble its forecasts.

    Tasks are split for ``engine``: one group of series per model when serial (each vectorised
    model computes all its forecasts in one call), four per worker otherwise.
    """
    workers = 1 if engine == "serial" else (n_jobs if n_jobs > 0 else os.cpu_count() or 1)
    from ._plan import tasks as make_tasks

    work = make_tasks(plan, chunks=1 if engine == "serial" else 4 * workers, folds=folds)
    results = execute(
        work,
        engine=engine,
        n_jobs=n_jobs,
        checkpoint=checkpoint,
        context=context,
        progress=progress,
        scheduler=scheduler,
    )
    return assemble(plan, work, results)
