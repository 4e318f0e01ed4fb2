"""The future-perturbation leakage audit.

A forecast made at cutoff ``c`` must be a function of observations at or before ``c`` only. The
audit checks it empirically: it runs the backtest once on the data as they are, then reruns every
fold with the future after that fold's cutoff replaced by adversarial values *and a different
shape* (one more row per series, so the number of rows and the last timestamp after the cutoff
change too), and requires the fold's forecasts (and, with ``level``, their prediction-interval
bands) to be bit-for-bit identical.

The reruns see the perturbed data twice: the backtest pipeline is planned again on it (a split or
a task that let a future row through would show), and every reference the model holds to the
caller's frame is swapped for the perturbed one (a model that kept the frame to peek at is caught).
By default the reruns happen in a fresh Python process, so nothing memoised during the clean run
(``functools.lru_cache``, a module-level feature cache) can answer them.

With covariates, the target and every past-only covariate are perturbed after the cutoff; the
known-future covariates only after the end of the fold's horizon (inside it they are legitimately
known); static ones are left alone.
"""

from __future__ import annotations

import copy
import pickle
from collections.abc import Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

import cloudpickle
import numpy as np
import pandas as pd
from loky import ProcessPoolExecutor

from . import _engine
from .covariates import Covariates
from .data import ID, TARGET, TIME, future_times
from .errors import DataError, spell
from .models.intervals import band_columns

__all__ = ["PERTURBATIONS", "AuditResult", "audit_leakage"]

PERTURBATIONS = ("noise", "constant", "reverse")


@dataclass(frozen=True)
class AuditResult:
    """Verdict of :func:`audit_leakage`.

    Attributes
    ----------
    passed : bool
        True when every fold's forecasts (and bands, with ``level``) were bit-identical under every
        perturbation.
    folds : DataFrame
        One row per fold and perturbation: ``fold, cutoff, perturbation, max_abs_diff, identical``.
    perturbed : tuple of str
        The columns whose values after each cutoff were perturbed: ``y`` and the past-only
        covariates, then the known-future ones (perturbed after each fold's horizon only).
    perturbations : tuple of str
        The kinds of perturbation applied.
    """

    passed: bool
    folds: pd.DataFrame
    perturbed: tuple[str, ...]
    perturbations: tuple[str, ...]


@dataclass(frozen=True)
class _Reruns:
    """Everything a rerun needs besides the model and the data; picklable for a fresh process."""

    cv: Any
    baselines: tuple[Any, ...]
    season: int
    refit: bool | int
    covariates: Covariates | None
    freq: str | int
    columns: tuple[Any, ...]
    after_cutoff: tuple[str, ...]
    after_horizon: tuple[str, ...]
    horizon: int
    jobs: tuple[tuple[int, Any, str], ...]  # (fold, cutoff, perturbation)
    seed: int
    level: tuple[float, ...] | None = None
    interval_method: str = "conformal"


def _scale(values: np.ndarray) -> float:
    """A positive spread computed without overflow (no squares): half the range, at least 1e-3 of the magnitude."""
    finite = values[np.isfinite(values)]
    if not finite.size:
        return 1.0
    low, high = float(finite.min()), float(finite.max())
    return max(high / 2 - low / 2, max(abs(low), abs(high)) / 1000, 1.0)


def _perturb(values: np.ndarray, kind: str, rng: np.random.Generator) -> np.ndarray:
    """Replacement for one series' ``m`` future values: ``m + 1`` values (one row more), finite where the data are.

    ``noise`` raises every value by at least the scale, ``constant`` puts them all far above the
    maximum, ``reverse`` reverses them and adds one above the maximum. Where that would overflow,
    the values go down instead; where neither fits in float64, they are halved.
    """
    scale = _scale(values)
    finite = values[np.isfinite(values)]
    high, low = (float(finite.max()), float(finite.min())) if finite.size else (0.0, 0.0)
    with np.errstate(over="ignore", invalid="ignore"):
        if kind == "noise":
            base = np.append(values, values[-1])
            offsets = scale * (1.0 + 10.0 * np.abs(rng.normal(size=base.shape)))
            candidates = (base + offsets, base - offsets)
        elif kind == "constant":
            base = np.full(len(values) + 1, 1.0)
            candidates = (base * (high + 1e6 * scale), base * (low - 1e6 * scale))
        else:
            base = np.append(values[::-1], 1.0)
            candidates = (np.append(values[::-1], high + scale), np.append(values[::-1], low - scale))
        kept = np.isfinite(base)
        for candidate in candidates:
            if np.isfinite(candidate[kept]).all():
                return candidate
    return np.append(values, values[-1]) / 2


def _perturbed_frames(
    data: pd.DataFrame, spec: _Reruns, cutoff: Any, kind: str, rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The canonical frame with the future's values perturbed, and the reshaped frame a model sees.

    The first has the same shape as ``data`` (the pipeline is planned on it again). The second
    also has one more row per series after the cutoff, a step after the series' last timestamp,
    and the caller's columns: it replaces the caller's frame wherever the model refers to it.
    """
    times = data[TIME].to_numpy()
    horizon_end = future_times(cutoff, spec.freq, spec.horizon)[-1] if spec.after_horizon else None
    perturbed = data.copy()
    future = np.flatnonzero((data[TIME] > cutoff).to_numpy())
    if not future.size:
        return perturbed, perturbed[list(spec.columns)]
    series = list(pd.Series(future).groupby(data[ID].to_numpy()[future], sort=False).indices.values())
    extra = data.iloc[[future[positions[-1]] for positions in series]].copy()
    steps: dict[Any, Any] = {}
    extra[TIME] = [steps.setdefault(t, future_times(t, spec.freq, 1)[0]) for t in extra[TIME]]
    for col in (*spec.after_cutoff, *spec.after_horizon):
        values = data[col].to_numpy(dtype="float64", copy=True)
        added = extra[col].to_numpy(dtype="float64", copy=True)
        for k, positions in enumerate(series):
            rows = future[positions]
            if col in spec.after_horizon:
                rows = rows[times[rows] > horizon_end]  # inside the horizon they are legitimately known
            if rows.size:
                new = _perturb(values[rows], kind, rng)
                values[rows], added[k] = new[:-1], new[-1]
        perturbed[col], extra[col] = values, added
    reshaped = pd.concat([perturbed, extra], ignore_index=True)
    reshaped = reshaped.sort_values([ID, TIME], kind="stable").reset_index(drop=True)
    return perturbed, reshaped[list(spec.columns)]


def _rerun(model: Any, baselines: tuple[Any, ...], df: pd.DataFrame, data: pd.DataFrame, spec: _Reruns) -> list[Any]:
    """Forecasts of each job's fold, rerun on its perturbed data; the model sees the reshaped frame for ``df``."""
    results = []
    for number, (fold, cutoff, kind) in enumerate(spec.jobs):
        rng = np.random.default_rng([spec.seed, number])
        perturbed, reshaped = _perturbed_frames(data, spec, cutoff, kind, rng)
        # NOTE: deepcopy's memo swaps every reference to the caller's frame for the reshaped one;
        # the caller's frame itself is never modified.
        members, others = copy.deepcopy((model, baselines), {id(df): reshaped})
        plan = _engine.make_plan(
            members,
            perturbed,
            spec.cv,
            baselines=others,
            season=spec.season,
            refit=spec.refit,
            covariates=spec.covariates,
            level=spec.level,
            interval_method=spec.interval_method,
        )
        got = _forecasts(plan, [fold])
        results.append(got[got["fold"] == fold][_compared(spec.level)].to_numpy())
    return results


def _rerun_pickled(payload: bytes) -> list[Any]:
    """The fresh process's side: the model and the frame arrive pickled together, so references hold."""
    return _rerun(*pickle.loads(payload))


def _rerun_in_fresh_process(
    model: Any, baselines: tuple[Any, ...], df: pd.DataFrame, data: pd.DataFrame, spec: _Reruns
) -> list[Any]:
    # NOTE: loky starts a fresh interpreter that does not rerun the caller's main script (so an
    # unguarded script works), and cloudpickle sends classes defined in that script by value. The
    # model, the baselines and the frames travel in one payload, so references between them hold.
    try:
        payload = cloudpickle.dumps((model, baselines, df, data, spec))
    except (pickle.PicklingError, TypeError, AttributeError) as error:
        raise DataError(
            f"The audit reruns the folds in a fresh process, but the model, the data or the splitter cannot be "
            f"pickled ({error}). Make them picklable, or pass {spell('fresh_process')}False "
            "(the reruns then share this process's caches, so a peek memoised during the clean run goes unseen)."
        ) from error
    try:
        with ProcessPoolExecutor(max_workers=1) as pool:
            results: list[Any] = pool.submit(_rerun_pickled, payload).result()
    except BrokenProcessPool as error:
        raise DataError(
            "The fresh process running the audit's reruns stopped abruptly (killed, out of memory, or the model "
            f"exited it). Look for a model that ends the process, or pass {spell('fresh_process')}False."
        ) from error
    return results


def audit_leakage(
    model: Any,
    df: pd.DataFrame,
    cv: Any,
    *,
    baselines: Sequence[Any] = (),
    season: int | None = None,
    refit: bool | int = True,
    perturbations: Sequence[str] = PERTURBATIONS,
    exhaustive: bool = False,
    seed: int = 0,
    covariates: Covariates | None = None,
    fresh_process: bool = True,
    level: Any = None,
    interval_method: str = "conformal",
) -> AuditResult:
    """Check that changing the future of each fold, values and shape, leaves that fold's forecasts unchanged.

    What is perturbed, for each fold with cutoff ``c`` and each series with rows after ``c``:

    - the values of ``y`` (and past-only covariates) after ``c``, by the kind of perturbation;
    - the shape: one more row after the series' last one, a step later, so the number of rows
      after ``c`` and the series' and the frame's last timestamp change.

    The backtest pipeline is planned again on the perturbed values, and every reference the model
    (and the baselines) hold to ``df`` is replaced by the perturbed, reshaped frame (sorted by
    series and time, same columns, parsed timestamps). ``df`` itself is never modified.

    What the tests show it catching: a model holding a reference to ``df`` that reads the values
    after the cutoff, their mean, sum, minimum, maximum, median or standard deviation, the number
    of rows after the cutoff, or the frame's last timestamp; and, with ``fresh_process=True``
    (the default), one that reads the future's mean through ``functools.lru_cache`` or a
    module-level feature cache keyed by the cutoff and filled during the clean run.

    What no in-process check can see: a model that took its own copy of the data before the
    backtest (the copy is not ``df``, so it is never perturbed), or that reads the data from a file
    or a database. Against those, never hand the model the full data: it gets the training rows
    through ``fit``/``predict``, and that is all it needs. With ``fresh_process=False``, a peek
    memoised during the clean run goes unseen too.

    Parameters
    ----------
    model, cv, baselines, season, refit
        As for :func:`~tsforecast.backtest`.
    df : DataFrame
        Long frame ``unique_id, ds, y``. Left untouched; a model holding a reference to it is
        rerun with the reference pointing at the perturbed frame.
    perturbations : sequence of {"noise", "constant", "reverse"}
        Kinds of replacement values, per series: ``"noise"`` raises every value by at least the
        series' scale plus ten times that scale times ``|N(0, 1)|`` (so the sum, mean, minimum,
        maximum and every quantile change; the standard deviation with probability one);
        ``"constant"`` sets every value a million scales above the maximum; ``"reverse"`` reverses
        the values. The added row takes one more such value (for ``"reverse"``: one scale above
        the maximum, so the mean and maximum change too). The scale is half the range, at least
        a thousandth of the largest magnitude and at least 1, computed without squaring;
        replacements stay finite (they go down instead of up where up would overflow).
    exhaustive : bool, default=False
        Rerun every fold under every perturbation. By default each fold is rerun once, the kinds
        taken in turn (fold 0 noise, fold 1 constant, fold 2 reverse, ...): with three folds or
        more every kind is used, and the audit costs about one extra backtest (plus starting a
        process).
    seed : int, default=0
        Seed of the noise.
    covariates : Covariates, optional
        As for :func:`~tsforecast.backtest`. Past-only columns are perturbed with ``y`` after each
        cutoff, known-future columns after the end of each fold's horizon.
    fresh_process : bool, default=True
        Run the perturbed reruns in a fresh Python interpreter (a ``loky`` worker, which does not
        rerun the caller's script) that receives the model, baselines and ``df`` pickled together
        (``cloudpickle``), so references between them hold and no cache of the clean run is
        shared. They must be picklable. ``False`` reruns in this process: faster, but a peek
        memoised during the clean run goes unseen.
    level : float or sequence of float, optional
        Prediction-interval levels, as for :func:`~tsforecast.backtest`: the band columns
        ``y_lo_L, y_hi_L`` are compared bit for bit too, so a band whose width reads the future is
        caught even when the point forecast is honest.
    interval_method : {"conformal", "native"}, default="conformal"
        How the bands are made, as for :func:`~tsforecast.backtest`.

    Returns
    -------
    AuditResult

    Raises
    ------
    DataError
        For an unknown perturbation, a bad ``level`` or ``interval_method``, or, with
        ``fresh_process=True``, a model, data or splitter that cannot be pickled.

    Examples
    --------
    >>> import tsforecast as tsf
    >>> air = tsf.load_dataset("air_passengers")
    >>> audit = tsf.audit_leakage("seasonal_naive", air, tsf.WalkForward(2, 12), fresh_process=False)
    >>> audit.passed
    True
    """
    unknown = [p for p in perturbations if p not in PERTURBATIONS]
    if unknown or not perturbations:
        raise DataError(f"perturbations must be a non-empty selection of {PERTURBATIONS}; got {tuple(perturbations)}.")
    data, freq, season, levels = _engine.prepare_run(
        df, cv, season=season, level=level, interval_method=interval_method
    )
    plan = _engine.make_plan(
        model,
        data,
        cv,
        baselines=tuple(baselines),
        season=season,
        refit=refit,
        covariates=covariates,
        level=levels,
        interval_method=interval_method,
    )
    baseline = _forecasts(plan, None)
    declared = plan.covariates
    after_cutoff = (TARGET, *(declared.past_only if declared else ()))
    after_horizon = tuple(declared.known_future) if declared else ()
    jobs = tuple(
        (fold.index, fold.cutoff, kind)
        for fold in plan.folds
        for kind in (perturbations if exhaustive else [perturbations[fold.index % len(perturbations)]])
    )
    spec = _Reruns(
        cv=cv,
        baselines=tuple(baselines),
        season=season,
        refit=refit,
        covariates=covariates,
        freq=freq,
        columns=tuple(df.columns),
        after_cutoff=after_cutoff,
        after_horizon=after_horizon,
        horizon=max(m.horizon for m in plan.models.values()),
        jobs=jobs,
        seed=seed,
        level=levels,
        interval_method=interval_method,
    )
    rerun = _rerun_in_fresh_process if fresh_process else _rerun
    results = rerun(model, tuple(baselines), df, data, spec)
    rows = []
    for (fold, cutoff, kind), got in zip(jobs, results, strict=True):
        expected = baseline[baseline["fold"] == fold][_compared(levels)].to_numpy()
        identical = got.shape == expected.shape and bool(np.array_equal(got, expected, equal_nan=True))
        rows.append((fold, cutoff, kind, 0.0 if identical else _max_diff(got, expected), identical))
    table = pd.DataFrame(rows, columns=["fold", "cutoff", "perturbation", "max_abs_diff", "identical"])
    used = tuple(dict.fromkeys(table["perturbation"]))
    return AuditResult(bool(table["identical"].all()), table, (*after_cutoff, *after_horizon), used)


def _compared(levels: tuple[float, ...] | None) -> list[str]:
    """The forecast columns that must stay bit-identical: ``y_hat``, and the bands when levels are given."""
    return ["y_hat", *(band_columns(levels) if levels is not None else ())]


def _max_diff(got: np.ndarray, expected: np.ndarray) -> float:
    if got.shape != expected.shape:
        return float("inf")
    with np.errstate(over="ignore", invalid="ignore"):
        return float(np.max(np.abs(got - expected), initial=0.0))


def _forecasts(plan: _engine.Plan, folds: Sequence[int] | None) -> pd.DataFrame:
    tasks, _ = _engine.make_tasks(plan, folds)
    results = [_engine.run_task(task) for task in tasks]
    frame = pd.concat([r.forecasts for r in results], ignore_index=True)
    return frame.sort_values(["model", "fold", ID, TIME], kind="stable").reset_index(drop=True)
