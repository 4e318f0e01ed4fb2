"""The machinery shared by :func:`~tsforecast.backtest` and :func:`~tsforecast.audit_leakage`.

A backtest is planned as independent *tasks*: one per model, refit block and series for local
models (fitted series by series), one per model and refit block for global models. A task only
ever receives the training rows of its folds (``ds <= cutoff``) to fit and forecast; the test rows
travel beside it solely to be paired with the forecasts. With covariates, the training rows carry
the declared columns up to the cutoff, and a separate *future frame* per fold carries only the
known-future columns over the model's horizon after the cutoff: never ``y`` or a past-only column.
Tasks run serially, with joblib or on a Dask cluster, and may be checkpointed to disk.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import sys
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from tqdm.auto import tqdm

from ._checkpoint import CheckpointStore, Unstorable, model_code, runtime_versions
from .covariates import Covariates, prepare_frame
from .data import ID, TARGET, TIME, from_pandas, future_times, infer_freq
from .errors import DataError, LeakageError, spell
from .models import Forecaster, LocalForecaster, make_model, model_name
from .models.intervals import band_columns, check_interval_method, check_levels
from .seasonality import panel_season
from .split import Fold, panel_folds

__all__ = ["ENGINES", "Plan", "Task", "TaskResult", "execute", "fingerprint", "make_plan", "make_tasks", "run_task"]

ENGINES = ("serial", "joblib", "dask")
FORECAST_COLUMNS = [ID, TIME, "cutoff", "fold", "model", TARGET, "y_hat"]


@dataclass(frozen=True)
class Task:
    """Fit one model on the training rows of a block of folds and forecast each fold."""

    model_name: str
    model: Forecaster = field(repr=False)
    folds: tuple[int, ...]
    cutoffs: tuple[Any, ...]
    trains: tuple[pd.DataFrame, ...] = field(repr=False)
    tests: tuple[pd.DataFrame, ...] = field(repr=False)
    series: tuple[str, ...] | None = None
    covariates: Covariates | None = None
    futures: tuple[pd.DataFrame | None, ...] = field(default=(), repr=False)
    level: tuple[float, ...] | None = None
    interval_method: str = "conformal"

    def key(self, context: str) -> str:
        """A digest of everything the task's result depends on, for checkpoints.

        ``context`` digests the data, the run settings and the runtime versions (see :func:`execute`);
        the task adds its model's name, parameters and code, its folds, its series and its interval settings.
        """
        params = repr(sorted(self.model.get_params(deep=False).items()))
        parts = [context, self.model_name, params, model_code(self.model), repr(self.folds), repr(self.series)]
        parts.append(repr((self.level, self.interval_method)))
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


@dataclass(frozen=True)
class Plan:
    """Everything decided before any model is fitted."""

    folds: list[Fold]
    models: dict[str, Forecaster]
    horizon: int
    season: int
    refit: bool | int
    skipped: pd.DataFrame
    covariates: Covariates | None = None
    data: pd.DataFrame | None = field(default=None, repr=False)
    level: tuple[float, ...] | None = None
    interval_method: str = "conformal"


def prepare_run(
    df: pd.DataFrame, cv: Any, *, season: int | None, level: Any, interval_method: str
) -> tuple[pd.DataFrame, str | int, int, tuple[float, ...] | None]:
    """Validate what :func:`~tsforecast.backtest` and :func:`~tsforecast.audit_leakage` share, once.

    Returns the validated frame, its frequency, the season (inferred from the first training part
    when ``None``) and the interval levels (``None`` without ``level``).
    """
    levels = None if level is None else check_levels(level)
    check_interval_method(interval_method)
    data = from_pandas(df)
    freq = infer_freq(data)
    return data, freq, panel_season(data, freq, cv=cv) if season is None else season, levels


def _blocks(n_folds: int, refit: bool | int) -> list[tuple[int, ...]]:
    every = 1 if refit is True else (n_folds if refit is False else int(refit))
    return [tuple(range(start, min(start + every, n_folds))) for start in range(0, n_folds, every)]


def _forecast_span(folds: list[Fold], grid: pd.Index) -> int:
    """Most steps from a cutoff to the last test timestamp of its fold (gap included), on the data's time grid.

    Folds without test rows (every series with test rows started after the cutoff) need no forecast.
    """
    spans = [grid.get_loc(f.test[TIME].max()) - grid.get_loc(f.cutoff) for f in folds if len(f.test)]
    return _longest_span(spans, [f.skipped for f in folds])


def _longest_span(spans: list[int], skipped_by_fold: list[tuple[str, ...]]) -> int:
    """The longest of the folds' forecast spans; an error when no fold has a series to forecast."""
    if not spans:
        skipped = sorted({uid for names in skipped_by_fold for uid in names})
        raise DataError(
            f"None of the {len(skipped_by_fold)} folds has a series with data both before its cutoff and after it "
            f"(series with test rows but no history: {', '.join(skipped)}). Use fewer folds or a shorter "
            "horizon, so that the cutoffs fall after the series start."
        )
    return int(max(spans))


def make_plan(
    model: Any,
    df: pd.DataFrame,
    cv: Any,
    *,
    baselines: Sequence[Any],
    season: int,
    refit: bool | int,
    covariates: Covariates | None = None,
    level: tuple[float, ...] | None = None,
    interval_method: str = "conformal",
) -> Plan:
    """Cut the folds and build the models, checking everything that can be checked before fitting.

    The covariate declaration is checked against the whole frame first (an undeclared extra
    column, or a bad declared one, fails before anything is fitted).
    """
    prepare_frame(df, covariates, "backtest")
    folds = list(panel_folds(cv, df))
    grid = pd.Index(df[TIME].unique()).sort_values()
    horizon = _forecast_span(folds, grid)
    models = build_models(model, baselines, horizon=horizon, season=season)
    skipped = pd.DataFrame(
        [(f.index, f.cutoff, uid, "no data before the cutoff") for f in folds for uid in f.skipped],
        columns=["fold", "cutoff", ID, "reason"],
    )
    covariates = covariates if covariates is not None and not covariates.empty else None
    return Plan(folds, models, horizon, season, refit, skipped, covariates, df, level, interval_method)


def build_models(model: Any, baselines: Sequence[Any], *, horizon: int, season: int) -> dict[str, Forecaster]:
    """The models under test and the baselines by name, each checked to reach ``horizon`` steps."""
    models: dict[str, Forecaster] = {}
    members = list(model) if isinstance(model, (list, tuple)) else [model]
    for spec in [*members, *baselines]:
        estimator = make_model(spec, horizon=horizon, season=season) if isinstance(spec, str) else spec
        if not isinstance(estimator, Forecaster):
            raise DataError(
                f"Expected a model name or a tsforecast Forecaster, got {type(spec).__name__}. "
                "Wrap other models in a Forecaster subclass (fit/predict on long frames)."
            )
        if estimator.horizon < horizon:
            raise DataError(
                f"{type(estimator).__name__}(horizon={estimator.horizon}) cannot reach the folds' last test "
                f"step, {horizon} steps after the cutoff (horizon plus gap). Set horizon={horizon}."
            )
        name = model_name(estimator)
        models.setdefault(name, estimator)  # naming a baseline twice is harmless
    return models


def _future_frame(plan: Plan, cutoff: Any, horizon: int, usable: pd.Index) -> pd.DataFrame | None:
    """The known-future columns over the ``horizon`` steps after ``cutoff``: all a model may read past it."""
    if plan.covariates is None or not plan.covariates.known_future or plan.data is None:
        return None
    data = plan.data
    times = future_times(cutoff, infer_freq(data), horizon)
    rows = data[TIME].isin(times) & data[ID].isin(usable)
    # NOTE: only unique_id, ds and the known-future columns: y and past-only columns never leave the cutoff.
    return data.loc[rows, [ID, TIME, *plan.covariates.known_future]].reset_index(drop=True)


def make_tasks(
    plan: Plan, fold_indices: Sequence[int] | None = None, *, chunks: int = 1
) -> tuple[list[Task], pd.DataFrame]:
    """Split the plan into independent tasks; also return the (model, fold, series) left out as too short.

    A global model gets one task per refit block. A local model's series are split into at most
    ``chunks`` groups, one task each: one group when running serially (one fit call per fold,
    whatever the number of series), several to keep parallel workers busy. Local models forecast
    every series on its own, so the grouping never changes a forecast.
    """
    wanted = set(range(len(plan.folds)) if fold_indices is None else fold_indices)
    tasks: list[Task] = []
    left_out: list[tuple[str, Fold, str, Any]] = []
    for name, model in plan.models.items():
        need = max(model.min_length(), 3)  # a fitted series needs 3 timestamps to show its frequency
        for block in _blocks(len(plan.folds), plan.refit):
            block = tuple(k for k in block if k <= max(wanted & set(block), default=-1))
            if not block:
                continue
            folds = [plan.folds[k] for k in block]
            sizes = folds[0].train.groupby(ID, sort=True).size()
            usable = sizes.index[sizes >= need]
            left_out += [
                (name, fold, reason, uid) for fold in folds for uid, reason in _left_out(fold, usable, need, block[0])
            ]
            columns = [ID, TIME, TARGET, *(plan.covariates.data_columns if plan.covariates else ())]
            trains = [f.train[f.train[ID].isin(usable)][columns] for f in folds]
            tests = [f.test[f.test[ID].isin(usable)][[ID, TIME, TARGET]] for f in folds]
            futures = [_future_frame(plan, f.cutoff, model.horizon, usable) for f in folds]
            common = dict(
                model_name=name,
                model=model,
                folds=block,
                cutoffs=tuple(f.cutoff for f in folds),
                covariates=plan.covariates,
                level=plan.level,
                interval_method=plan.interval_method,
            )
            if isinstance(model, LocalForecaster) and len(usable):  # no usable series: no task
                for group in np.array_split(np.asarray(usable, dtype=object), min(chunks, len(usable))):
                    tasks.append(
                        Task(
                            **common,  # type: ignore[arg-type]
                            trains=tuple(t[t[ID].isin(group)] for t in trains),
                            tests=tuple(t[t[ID].isin(group)] for t in tests),
                            series=tuple(str(uid) for uid in group),
                            futures=tuple(None if f is None else f[f[ID].isin(group)] for f in futures),
                        )
                    )
            elif len(usable):
                tasks.append(
                    Task(**common, trains=tuple(trains), tests=tuple(tests), futures=tuple(futures))  # type: ignore[arg-type]
                )
    skipped = pd.DataFrame(
        [(name, fold.index, fold.cutoff, uid, reason) for name, fold, reason, uid in left_out],
        columns=["model", "fold", "cutoff", ID, "reason"],
    )
    return tasks, skipped


def _left_out(fold: Fold, fitted: pd.Index, need: int, fitted_at: int) -> list[tuple[str, str]]:
    """The series with test rows in ``fold`` that a model fitted at fold ``fitted_at`` on ``fitted`` cannot forecast.

    Each comes with the reason: too short for the model, or (after a later start) not among the
    series of the model fitted at an earlier fold of the refit block.
    """
    sizes = fold.train[ID].value_counts()
    missing = pd.Index(fold.test[ID].unique()).difference(fitted)
    return [(uid, left_out_reason(fold.index, fitted_at, sizes[uid], need)) for uid in missing]


def left_out_reason(fold: int, fitted_at: int, size: int, need: int) -> str:
    """Why a series with ``size`` training rows in ``fold`` has no forecast from the model fitted at ``fitted_at``."""
    if fold == fitted_at or size < need:
        return "too short for the model"
    return f"not in the model fitted at fold {fitted_at}; use refit=True"


@dataclass(frozen=True)
class TaskResult:
    """Forecasts of a task, and the training log of models that keep one."""

    forecasts: pd.DataFrame
    training: pd.DataFrame | None


def run_task(task: Task) -> TaskResult:
    """Fit the task's model on its first fold's training rows; forecast every fold of the block."""
    model = clone(task.model)
    frames, logs = [], []
    futures = task.futures or (None,) * len(task.folds)
    for i, (fold, cutoff, train, test, future) in enumerate(
        zip(task.folds, task.cutoffs, task.trains, task.tests, futures, strict=True)
    ):
        if i == 0:
            # NOTE: covariates/future are passed only when declared, so a user's model with the older
            # fit(y)/predict(y_new) signature keeps working on univariate data.
            model.fit(train) if task.covariates is None else model.fit(train, covariates=task.covariates)
            if model.last_seen_ > cutoff:
                raise LeakageError(
                    f"{task.model_name} was fitted on data up to {model.last_seen_}, after the cutoff {cutoff} "
                    f"of fold {fold}."
                )
            if isinstance(getattr(model, "history_", None), pd.DataFrame):
                logs.append(model.history_.assign(model=task.model_name, fold=fold))
        given: dict[str, Any] = {} if future is None else {"future": future}
        if task.level is not None:  # NOTE: only then, so a user's predict(y_new) without level= keeps working
            given.update(level=task.level, interval_method=task.interval_method)
        predicted = model.predict(**given) if i == 0 else model.predict(train, **given)
        frame = test.merge(predicted, on=[ID, TIME], how="left", validate="one_to_one")
        if frame["y_hat"].isna().any():
            missing = frame[frame["y_hat"].isna()].iloc[0]
            raise DataError(
                f"{task.model_name} gave no forecast for {missing[ID]!r} at {missing[TIME]} in fold {fold}: "
                "its predict() must return the next `horizon` timestamps of every series it was given."
            )
        bands = band_columns(task.level) if task.level is not None else []
        frames.append(frame.assign(cutoff=cutoff, fold=fold, model=task.model_name)[FORECAST_COLUMNS + bands])
    return TaskResult(pd.concat(frames, ignore_index=True), pd.concat(logs, ignore_index=True) if logs else None)


def fingerprint(df: pd.DataFrame, *settings: Any) -> str:
    """Digest of the data and the run settings; a checkpoint is reused only under the same digest."""
    digest = hashlib.sha256(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())
    for setting in settings:
        digest.update(repr(setting).encode())
    return digest.hexdigest()


def _show_progress(progress: bool | None) -> bool:
    return sys.stderr.isatty() if progress is None else bool(progress)


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


def execute(
    tasks: list[Task],
    *,
    engine: str,
    n_jobs: int,
    checkpoint: str | os.PathLike[str] | None,
    fingerprint: str,
    progress: bool | None,
    scheduler: str | None = None,
) -> list[TaskResult]:
    """Run tasks with the chosen engine; results come back in task order whatever the engine.

    With ``checkpoint``, results are read and written by this process alone (never by a worker,
    which may not share its disk): stored results whose key matches are reused, every other task
    runs and its result is stored as soon as it arrives. Files that cannot be reused are
    recomputed, with one warning naming them.
    """
    results: list[TaskResult | None] = [None] * len(tasks)
    store, keys = None, [""] * len(tasks)
    if checkpoint is not None:
        store = CheckpointStore(Path(checkpoint) / fingerprint[:16])
        store.directory.mkdir(parents=True, exist_ok=True)
        context = hashlib.sha256(f"{fingerprint}\x1f{sorted(runtime_versions().items())!r}".encode()).hexdigest()
        keys = [task.key(context) for task in tasks]
        for position, key in enumerate(keys):
            stored = store.load(key, ("forecasts", "training"))
            if stored is not None and stored["forecasts"] is not None:
                results[position] = TaskResult(stored["forecasts"], stored["training"])
        if store.problems:
            warnings.warn(
                f"{len(store.problems)} checkpoint file(s) in {store.directory} could not be reused and are "
                f"recomputed: {'; '.join(store.problems)}.",
                stacklevel=3,
            )
    todo = [position for position, result in enumerate(results) if result is None]
    unstorable: list[str] = []
    done = len(tasks) - len(todo)
    with tqdm(
        total=len(tasks), initial=done, desc="backtest", unit="task", disable=not _show_progress(progress)
    ) as bar:
        for i, result in _completed([tasks[p] for p in todo], engine=engine, n_jobs=n_jobs, scheduler=scheduler):
            position = todo[i]
            results[position] = result
            if store is not None:
                try:
                    store.save(keys[position], {"forecasts": result.forecasts, "training": result.training})
                except Unstorable as exc:
                    unstorable.append(f"{tasks[position].model_name} folds {list(tasks[position].folds)} ({exc})")
            bar.update()
    if unstorable:
        warnings.warn(
            f"{len(unstorable)} task result(s) were not checkpointed, and will be recomputed on a rerun: "
            f"{'; '.join(unstorable)}.",
            stacklevel=3,
        )
    return results  # type: ignore[return-value]
