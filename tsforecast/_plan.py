"""The plan of a backtest: everything decided before any model is fitted, built once.

:func:`make_plan` validates the data, the splitter, the models and the interval settings, cuts
the folds (one global cutoff per fold, :func:`~tsforecast.split.fold_spans`), names the models
and decides, per model and refit block, which series are fitted on which rows, which histories
are forecast and, with prediction intervals, which calibration forecasts are made
(:func:`~tsforecast.models.intervals.plan_calibration`). The backtest, the leakage audit, the
interval bands, the task cache and the report all read this one plan.

Everything in the plan is positions into the validated frame (``Plan.frame``), sorted by series
and time; :func:`tasks` turns it into the independent units of work the engine runs
(:mod:`tsforecast._engine`), each holding only the rows its model may read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .columns import ID, TARGET, TIME
from .covariate_screen import screen_covariates
from .covariates import Covariates, prepare_frame
from .errors import DataError, DataTypeError, spell, spell_value
from .frames import as_pandas, from_pandas
from .frequency import infer_freq
from .metrics import seasonal_scales
from .models import Forecaster, SeasonalNaive, WalkForwardSearch, make_model, model_name, registry_name
from .models.batch import Fit, Histories, histories_of
from .models.forecaster import with_season
from .models.intervals import (
    MIN_ORIGINS,
    N_WINDOWS,
    CalibrationPlan,
    check_interval_method,
    check_levels,
    fewest_residuals,
    plan_model_calibration,
)
from .seasonality import panel_season
from .split import FoldSpans, fold_spans

__all__ = ["REFERENCE", "BlockPlan", "Entry", "Plan", "Task", "make_plan", "tasks"]

REFERENCE = "seasonal_naive"
"""The name of the reference model of ``mase_vs_seasonal_naive``: the seasonal naive forecast at the data's season."""


@dataclass(frozen=True)
class Entry:
    """One model of a run, under its name.

    Attributes
    ----------
    name : str
        Unique within the run: given (a dict key), or derived from the class and the parameters
        that differ from the defaults (:func:`entry_name`).
    model : Forecaster
        The unfitted model, its ``horizon`` and ``season`` resolved for the run.
    need : int
        Rows a series needs to be fitted: ``max(model.min_length(), 3)`` (3 show a frequency).
    reference : bool
        Whether it is the true seasonal naive forecast at the data's season.
    """

    name: str
    model: Forecaster = field(repr=False)
    need: int
    reference: bool = False


@dataclass(frozen=True)
class BlockPlan:
    """One model's work on one refit block of folds, in rows of the plan's frame.

    ``fit`` fits the model on the block's first fold (the series ``fitted``, those with enough
    rows) and forecasts every fold of the block: request ``j`` is series ``series[j]`` at fold
    ``fold[j]``, its history that fold's training rows. ``calibration`` (conformal intervals only)
    is the calibration of that fit.
    """

    entry: int
    folds: tuple[int, ...]
    fit: Fit = field(repr=False)
    fitted: np.ndarray = field(repr=False)
    fold: np.ndarray = field(repr=False)
    series: np.ndarray = field(repr=False)
    calibration: CalibrationPlan | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Plan:
    """Everything decided before any model is fitted (see the module docstring).

    Attributes
    ----------
    frame : DataFrame
        The validated frame, sorted by series and time: ``unique_id, ds, y`` and the declared covariate
        columns as given (each model prepares the rows it is given, calendar features included).
    data : Histories
        The same rows as histories (every row; tasks read subsets).
    folds : list of FoldSpans
        Where each fold cuts each series.
    entries : list of Entry
        The models, uniquely named; the reference seasonal naive among them.
    horizon : int
        The most steps from a cutoff to its fold's last test row (horizon plus gap).
    season : int
        The season of the MASE scales and of the models that take the data's season.
    refit : bool or int
        The refit policy.
    blocks : list of BlockPlan
        Per model and refit block, the fit, the forecasts asked and the calibration.
    skipped : DataFrame
        ``model, fold, cutoff, unique_id, reason``: every series-fold with test rows that a model
        does not forecast, and why (``model`` is ``"all"`` for a series with no data before the cutoff).
    levels : tuple of float or None
        Prediction-interval levels.
    interval_method : str
        ``"conformal"`` or ``"native"``.
    covariates : Covariates or None
        The declared covariates, when any.
    """

    frame: pd.DataFrame = field(repr=False)
    data: Histories = field(repr=False)
    folds: list[FoldSpans] = field(repr=False)
    entries: list[Entry]
    horizon: int
    season: int
    refit: bool | int
    blocks: list[BlockPlan] = field(repr=False)
    skipped: pd.DataFrame = field(repr=False)
    levels: tuple[float, ...] | None = None
    interval_method: str = "conformal"
    covariates: Covariates | None = None

    @property
    def freq(self) -> str | int:
        """The data's frequency."""
        return self.data.freq

    @property
    def ids(self) -> np.ndarray:
        """The series names, in order."""
        return self.data.ids

    def scales(self) -> np.ndarray:
        """MASE scale by fold and series, ``(n_folds, n_series)``: the in-sample seasonal-naive MAE of training rows."""
        starts = np.concatenate([f.train_start for f in self.folds])
        lengths = np.concatenate([f.train_end - f.train_start for f in self.folds])
        values = self.data.values
        return seasonal_scales(values, starts, lengths, self.season).reshape(len(self.folds), -1)


def _blocks(n_folds: int, refit: bool | int) -> list[tuple[int, ...]]:
    every = 1 if refit is True else (n_folds if refit is False else int(refit))
    return [tuple(range(start, min(start + every, n_folds))) for start in range(0, n_folds, every)]


# ------------------------------------------------------------------------------------ models ---- #


def _as_entries(model: Any, baselines: Sequence[Any] | Mapping[str, Any]) -> list[tuple[str | None, Any]]:
    """``(given name or None, spec)`` of every model asked for, models first."""
    given: list[tuple[str | None, Any]] = []
    for group in (model, baselines):
        if isinstance(group, Mapping):
            for name, spec in group.items():
                if not isinstance(name, str) or not name.strip():
                    raise DataTypeError(f"Model names must be non-empty strings; got {name!r} for {spec!r}.")
                if name in (taken for taken, _ in given):
                    raise DataError(
                        f"The name {name!r} is given to two models (in model and in baselines): every model keeps "
                        "its own name. Rename one of them."
                    )
                given.append((name, spec))
        elif isinstance(group, (list, tuple)):
            given += [(None, spec) for spec in group]
        else:
            given.append((None, group))
    return given


def _resolve(spec: Any, *, horizon: int, season: int) -> Forecaster:
    """The unfitted model a spec stands for, with the run's horizon and (when left ``None``) season."""
    if isinstance(spec, str):
        return make_model(spec, horizon=horizon, season=season)
    if not isinstance(spec, Forecaster):
        raise DataTypeError(
            f"Expected a model name or a tsforecast Forecaster, got {type(spec).__name__}. "
            "Wrap other models in a Forecaster subclass (fit/predict on long frames)."
        )
    if int(spec.horizon) != horizon:
        raise DataError(
            f"{type(spec).__name__}({spell_value('horizon', spec.horizon).replace(' ', '=')}) forecasts "
            f"{spec.horizon} step(s), but the folds test up to {horizon} step(s) after each cutoff (the splitter's "
            f"horizon plus gap). Set horizon={horizon} on the model, or pass it by name (e.g. "
            f"{model_name(spec)!r}) to take the folds' horizon."
        )
    return with_season(spec, season)


def _defaults(model: Forecaster, *, horizon: int, season: int) -> dict[str, Any] | None:
    """The parameters the model would have by default in this run (its name's), or None if unknown."""
    name = registry_name(model)
    if name is not None:
        return make_model(name, horizon=horizon, season=season).get_params(deep=False)
    try:
        fresh = type(model)()
    except TypeError:  # NOTE: a user's class whose constructor needs arguments: every parameter is shown
        return None
    return _resolve(fresh.set_params(horizon=horizon), horizon=horizon, season=season).get_params(deep=False)


_SIMPLE = (bool, int, float, str, type(None))


def _simple(value: Any) -> bool:
    """Whether a parameter value is a plain setting (shown by its repr), not data or an object."""
    if isinstance(value, tuple):
        return all(_simple(v) for v in value)
    return isinstance(value, _SIMPLE)


def _shown(value: Any) -> str:
    """A parameter value as a name shows it: its repr when plain, its type otherwise (never a frame's repr)."""
    return repr(value) if _simple(value) else f"<{type(value).__name__}>"


def _same(a: Any, b: Any) -> bool:
    return a is b or (_simple(a) and _simple(b) and type(a) is type(b) and a == b)


def entry_name(model: Forecaster, *, horizon: int, season: int) -> str:
    """The derived name of a resolved model: its registry name (or its class name), then the
    parameters that differ from that name's defaults in this run, e.g. ``sgd(lookback=48)``.

    A parameter that is not a plain setting (a frame, a callable) is shown by its type.

    Examples
    --------
    >>> from tsforecast.models import SeasonalNaive
    >>> entry_name(SeasonalNaive(horizon=12, season=12), horizon=12, season=12)
    'seasonal_naive'
    >>> entry_name(SeasonalNaive(horizon=12, season=6), horizon=12, season=12)
    'seasonal_naive(season=6)'
    """
    if isinstance(model, WalkForwardSearch):  # NOTE: its parameters are objects and grids: the tuned model names it
        return model_name(model)
    defaults = _defaults(model, horizon=horizon, season=season)
    params = model.get_params(deep=False)
    shown = [
        f"{key}={_shown(value)}"
        for key, value in params.items()
        if key != "horizon" and (defaults is None or key not in defaults or not _same(value, defaults[key]))
    ]
    base = model_name(model)
    return f"{base}({', '.join(shown)})" if shown else base


def _identity(spec: Any, resolved: Forecaster) -> tuple[Any, ...]:
    """What makes two models the same: the class, and per parameter its value when plain, else the object
    passed (two models holding different frames are different models, whatever their reprs)."""
    given = spec.get_params(deep=False) if isinstance(spec, Forecaster) else {}
    params = resolved.get_params(deep=False)
    return (
        type(resolved),
        tuple(
            (key, repr(value) if _simple(value) else id(given.get(key, value))) for key, value in sorted(params.items())
        ),
    )


def resolve_entries(
    model: Any, baselines: Sequence[Any] | Mapping[str, Any], *, horizon: int, season: int
) -> list[Entry]:
    """The models of a run, uniquely named, the reference seasonal naive among them.

    Naming rule: a name given as a dict key is kept; any other model is named by
    :func:`entry_name`. Models without a given name that are identical (same class, same
    parameters once resolved) are one model. Distinct models whose derived names collide get
    ``#2``, ``#3`` ... in order. The reference, ``SeasonalNaive(season=<the data's season>)``, is
    added as ``"seasonal_naive"`` unless an identical model is already there (that one is the
    reference); the name ``"seasonal_naive"`` is reserved for it.

    Raises
    ------
    DataError
        For an unknown model name, a model whose horizon differs from the folds', or a given name
        ``"seasonal_naive"`` on a model that is not the reference.
    DataTypeError
        For a spec that is neither a name nor a Forecaster, or a name that is not a string.
    """
    reference = SeasonalNaive(horizon=horizon, season=season)
    seen: dict[tuple[Any, ...], int] = {}
    chosen: list[tuple[str | None, Forecaster]] = []
    for given, spec in _as_entries(model, baselines):
        resolved = _resolve(spec, horizon=horizon, season=season)
        key = _identity(spec, resolved)
        if given is None and key in seen:
            continue  # NOTE: naming the same model twice (e.g. as a model and a baseline) runs it once
        seen.setdefault(key, len(chosen))
        chosen.append((given, resolved))
    mark = _identity(reference, reference)
    if mark not in seen:
        seen[mark] = len(chosen)
        chosen.append((REFERENCE, reference))
    is_reference = seen[mark]
    entries: list[Entry] = []
    taken: set[str] = {given for given, _ in chosen if given is not None}
    for k, (given, resolved) in enumerate(chosen):
        if given == REFERENCE and k != is_reference:
            raise DataError(
                f"The name {REFERENCE!r} is reserved for the reference seasonal naive forecast at the data's season "
                f"({season}); {resolved!r} is another model. Give it another name."
            )
        name = given
        if name is None:
            name = REFERENCE if k == is_reference else entry_name(resolved, horizon=horizon, season=season)
            derived, n = name, 1
            while name in taken:
                n += 1
                name = f"{derived} #{n}"
            taken.add(name)
        entries.append(Entry(name, resolved, max(resolved.min_length(), 3), k == is_reference))
    return entries


# -------------------------------------------------------------------------------------- plan ---- #


def _forecast_span(folds: list[FoldSpans]) -> int:
    """The most steps from a cutoff to its fold's last test row; an error when no fold has a series to forecast."""
    spans = [
        int((f.test_end - f.train_end)[f.test_end > f.test_start].max())
        for f in folds
        if (f.test_end > f.test_start).any()
    ]
    if not spans:
        skipped = sorted({uid for f in folds for uid in f.skipped})
        raise DataError(
            f"None of the {len(folds)} folds has a series with data both before its cutoff and after it "
            f"(series with test rows but no history: {', '.join(skipped)}). Use fewer folds or a shorter "
            "horizon, so that the cutoffs fall after the series start."
        )
    return max(spans)


def _check_levels_reachable(levels: tuple[float, ...], horizon: int, n_series: int) -> None:
    """Refuse, before any fit, a level no calibration of this run could give enough residuals for."""
    origins = max(N_WINDOWS, -(-MIN_ORIGINS // horizon)) * horizon
    most = 3 * origins * n_series  # every origin of every series, a step and its two neighbours pooled
    for level in levels:
        if fewest_residuals(level) > most:
            raise DataError(
                f"{spell_value('level', float(f'{level:g}') if not level.is_integer() else int(level))} needs at "
                f"least {fewest_residuals(level):,} calibration residuals per horizon step; this run can give at most "
                f"{most:,} ({origins} origins x {n_series} series x 3 neighbouring steps). Lower the level."
            )


def make_plan(
    model: Any,
    df: Any,
    cv: Any,
    *,
    baselines: Sequence[Any] | Mapping[str, Any] = (),
    season: int | None = None,
    refit: bool | int = True,
    covariates: Covariates | None = None,
    level: Any = None,
    interval_method: str = "conformal",
) -> Plan:
    """Validate everything and decide every fit and forecast of a backtest (see the module docstring).

    Raises
    ------
    DataError, DataTypeError, ShuffleError, LeakageError
        For bad data, covariates, splitters, models or interval settings: before any model is fitted
        (a covariate holding future values of ``y`` included: :func:`~tsforecast.covariate_screen.screen_covariates`).

    Warns
    -----
    LeakageWarning
        For a covariate that may hold future values of ``y``.
    """
    levels = None if level is None else check_levels(level)
    check_interval_method(interval_method)
    frame = from_pandas(as_pandas(df)[0])  # NOTE: polars and pyarrow frames too; the result's frames stay pandas
    freq = infer_freq(frame)
    prepare_frame(frame, covariates, "backtest")  # NOTE: checks the declaration; models prepare their own rows
    declared = covariates if covariates is not None and not covariates.empty else None
    frame = frame[[ID, TIME, TARGET, *(declared.data_columns if declared else ())]]
    folds = fold_spans(cv, frame)
    season = panel_season(frame, freq, cv=cv) if season is None else season
    horizon = _forecast_span(folds)
    entries = resolve_entries(model, baselines, horizon=horizon, season=season)
    data = histories_of(frame, freq, declared)
    first = np.min([f.train_end for f in folds], axis=0)  # NOTE: each series' rows up to the earliest cutoff
    screen_covariates(frame, data.offsets, first, declared, horizon=horizon, season=season)
    if levels is not None and interval_method == "conformal":
        _check_levels_reachable(levels, horizon, len(data.ids))
    blocks, left_out = [], []
    for e, entry in enumerate(entries):
        for block in _blocks(len(folds), refit):
            plan, gaps = _block_plan(e, entry, block, folds, data, levels, interval_method)
            left_out += gaps
            if plan is not None:
                blocks.append(plan)
    skipped = pd.DataFrame(
        [("all", f.index, f.cutoff, uid, "no data before the cutoff") for f in folds for uid in f.skipped] + left_out,
        columns=["model", "fold", "cutoff", ID, "reason"],
    )
    return Plan(frame, data, folds, entries, horizon, season, refit, blocks, skipped, levels, interval_method, declared)


def _block_plan(
    e: int,
    entry: Entry,
    block: tuple[int, ...],
    folds: list[FoldSpans],
    data: Histories,
    levels: tuple[float, ...] | None,
    interval_method: str,
) -> tuple[BlockPlan | None, list[tuple[str, int, Any, str, str]]]:
    """One model's fit on a refit block, the forecasts it makes, and the series-folds it leaves out (with why)."""
    first = folds[block[0]]
    size = first.train_end - first.train_start
    fitted = np.flatnonzero(size >= entry.need)
    gaps, fold_of, series_of = [], [], []
    for k in block:
        fold = folds[k]
        tested = (fold.test_end > fold.test_start) & (fold.train_end > fold.train_start)
        forecast = tested & (size >= entry.need)
        for s in np.flatnonzero(tested & ~forecast):
            rows = int(fold.train_end[s] - fold.train_start[s])
            reason = (
                f"too short for the model ({rows} row{'' if rows == 1 else 's'}, needs {entry.need})"
                if k == block[0] or rows < entry.need
                else f"not in the model fitted at fold {block[0]}; use {spell('refit')}True"
            )
            gaps.append((entry.name, fold.index, fold.cutoff, str(data.ids[s]), reason))
        chosen = np.flatnonzero(forecast)
        fold_of.append(np.full(len(chosen), k))
        series_of.append(chosen)
    if not len(fitted):
        return None, gaps
    fold_idx, series = np.concatenate(fold_of), np.concatenate(series_of)
    spans = [folds[k] for k in fold_idx]
    fit = Fit(
        first=first.train_start[fitted],
        end=first.train_end[fitted],
        cutoff=first.cutoff,
        request_first=np.array([f.train_start[s] for f, s in zip(spans, series, strict=True)], dtype=np.int64),
        request_end=np.array([f.train_end[s] for f, s in zip(spans, series, strict=True)], dtype=np.int64),
    )
    calibration = None
    if levels is not None and interval_method == "conformal":
        start, end = first.train_start.copy(), first.train_start.copy()
        end[fitted] = first.train_end[fitted]
        horizon = int(entry.model.horizon)
        calibration = plan_model_calibration(data, end, entry.model, fitted_start=start)
        if not calibration.fits:  # NOTE: refused before any fit, not after the work of the other folds
            raise DataError(
                f"{entry.name} cannot calibrate prediction intervals at fold {block[0]}: its training data have "
                f"{len(calibration.times)} timestamps, and calibrating needs at least {entry.need + 2 * horizon - 1} "
                f"({entry.need} to fit it, then {horizon} origins whose {horizon}-step horizons lie inside the "
                f"data). Use fewer folds ({spell('n_splits')}) or a shorter horizon, or leave out "
                f"{spell('level').rstrip('=')}."
            )
    return BlockPlan(e, block, fit, fitted, fold_idx, series, calibration), gaps


# ------------------------------------------------------------------------------------- tasks ---- #


@dataclass(frozen=True)
class Task:
    """An independent unit of work: one model's ``fit_forecast`` on the rows it may read.

    ``targets[i]`` says where the forecasts of ``fits[i]`` belong: ``(block, part, requests)``,
    ``block`` an index into ``Plan.blocks``, ``part`` -1 for the block's fit and ``k`` for its
    ``k``-th calibration fit, ``requests`` the positions of the fit's requests among that part's.
    """

    name: str
    model: Forecaster = field(repr=False)
    data: Histories = field(repr=False)
    fits: tuple[Fit, ...] = field(repr=False)
    targets: tuple[tuple[int, int, np.ndarray], ...] = field(repr=False)
    native: tuple[float, ...] | None = None

    @property
    def series(self) -> tuple[str, ...]:
        """The names of the series the task reads."""
        return tuple(str(uid) for uid in self.data.ids)


def _parts(block: BlockPlan) -> list[tuple[int, Fit, np.ndarray, np.ndarray]]:
    """``(part, fit, fitted series, request series)`` of a block: its fit, then its calibration fits."""
    parts = [(-1, block.fit, block.fitted, block.series)]
    if block.calibration is not None:
        calibration = block.calibration
        parts += [
            (k, fit, fitted, series)
            for k, (fit, fitted, series) in enumerate(
                zip(calibration.fits, calibration.fitted, calibration.series, strict=True)
            )
        ]
    return parts


def tasks(plan: Plan, *, chunks: int = 1, folds: Sequence[int] | None = None) -> list[Task]:
    """The plan's work as independent tasks, in plan order: one per model, refit block and group of series.

    A model whose forecasts of a series depend on that series alone (``per_series``) gets the
    series of each block split into at most ``chunks`` groups (a vectorised model computes a
    group's forecasts in one call); any other model one task per block. ``folds`` restricts the
    work to the blocks containing those folds.
    """
    native = plan.levels if plan.levels is not None and plan.interval_method == "native" else None
    out = []
    for b, block in enumerate(plan.blocks):
        if folds is not None and not any(k in folds for k in block.folds):
            continue
        entry = plan.entries[block.entry]
        groups = np.array_split(block.fitted, min(chunks, len(block.fitted))) if entry.model.per_series else [None]
        out += [_task(plan, entry, b, block, group, native) for group in groups if group is None or len(group)]
    return out


def _task(
    plan: Plan, entry: Entry, b: int, block: BlockPlan, group: np.ndarray | None, native: tuple[float, ...] | None
) -> Task:
    """One task: the parts of block ``b`` for the series of ``group`` (all when ``None``), in the task's own rows."""
    selected = []
    for part, fit, fitted, requested in _parts(block):
        keep_fit = np.ones(len(fitted), bool) if group is None else np.isin(fitted, group)
        keep = np.flatnonzero(np.ones(len(requested), bool) if group is None else np.isin(requested, group))
        if keep_fit.any():
            selected.append((b, part, fit, keep_fit, fitted[keep_fit], keep, requested[keep]))
    series = np.unique(np.concatenate([np.r_[fitted, requested] for *_, fitted, _, requested in selected]))
    offsets = plan.data.offsets
    readable = offsets[series].copy()  # NOTE: each series' rows from its first up to the latest any part reads
    for _, _, fit, keep_fit, fitted, keep, requested in selected:
        for rows, owner in ((fit.end[keep_fit], fitted), (fit.request_end[keep], requested)):
            np.maximum.at(readable, np.searchsorted(series, owner), rows)
    lengths = readable - offsets[series]
    local = np.r_[0, np.cumsum(lengths)]
    shift = np.zeros(len(offsets) - 1, dtype=np.int64)
    shift[series] = local[:-1] - offsets[series]
    take = np.concatenate([np.arange(a, b) for a, b in zip(offsets[series], readable, strict=True)])
    frame = plan.frame.take(take).reset_index(drop=True)
    fits, targets = [], []
    for b, part, fit, keep_fit, fitted, keep, requested in selected:
        fits.append(
            Fit(
                first=fit.first[keep_fit] + shift[fitted],
                end=fit.end[keep_fit] + shift[fitted],
                cutoff=fit.cutoff,
                request_first=fit.request_first[keep] + shift[requested],
                request_end=fit.request_end[keep] + shift[requested],
            )
        )
        targets.append((b, part, keep))
    data = Histories(frame, local.astype(np.int64), plan.freq, plan.covariates, _ahead(plan, series, readable))
    return Task(entry.name, entry.model, data, tuple(fits), tuple(targets), native)


def _ahead(plan: Plan, series: np.ndarray, readable: np.ndarray) -> pd.DataFrame | None:
    """The known-future columns over the horizon after each series' readable rows (never ``y`` or past-only)."""
    if plan.covariates is None or not plan.covariates.known_future:
        return None
    ends = np.minimum(readable + plan.horizon, plan.data.offsets[series + 1])
    take = np.concatenate([np.arange(a, b) for a, b in zip(readable, ends, strict=True)])
    return plan.frame[[ID, TIME, *plan.covariates.known_future]].take(take).reset_index(drop=True)
