"""The future-perturbation leakage audit.

A forecast made at cutoff ``c`` must be a function of observations at or before ``c`` only. The
audit checks it empirically: for every fold it replaces every value after that fold's cutoff with
adversarial values (noise, huge constants, the same values in reverse order), reruns the fold
exactly as the backtest does, and requires the fold's forecasts to be bit-for-bit identical.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from . import _engine
from .data import ID, TARGET, TIME, from_pandas, infer_freq, season_length
from .errors import DataError

__all__ = ["PERTURBATIONS", "AuditResult", "audit_leakage"]

PERTURBATIONS = ("noise", "constant", "reverse")


@dataclass(frozen=True)
class AuditResult:
    """Verdict of :func:`audit_leakage`.

    Attributes
    ----------
    passed : bool
        True when every fold's forecasts were bit-identical under every perturbation.
    folds : DataFrame
        One row per fold and perturbation: ``fold, cutoff, perturbation, max_abs_diff, identical``.
    perturbed : tuple of str
        The columns whose values after each cutoff were perturbed.
    perturbations : tuple of str
        The kinds of perturbation applied.
    """

    passed: bool
    folds: pd.DataFrame
    perturbed: tuple[str, ...]
    perturbations: tuple[str, ...]


def _perturb(values: np.ndarray, kind: str, rng: np.random.Generator) -> np.ndarray:
    if kind == "noise":
        spread = float(np.std(values)) or 1.0
        return values + rng.normal(0.0, 10.0 * spread, size=values.shape)
    if kind == "constant":
        return np.full_like(values, 1e6 * (1.0 + float(np.max(np.abs(values)))))
    return values[::-1].copy()


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
) -> AuditResult:
    """Check that perturbing the future of each fold leaves that fold's forecasts unchanged.

    Parameters
    ----------
    model, cv, baselines, season, refit
        As for :func:`~tsforecast.backtest`.
    df : DataFrame
        Long frame ``unique_id, ds, y``. While the audit runs, the values of ``y`` after each
        cutoff are perturbed *in this very frame* (so a model that kept a reference to the data
        is caught too) and restored exactly afterwards, even on error; do not use ``df``
        concurrently.
    perturbations : sequence of {"noise", "constant", "reverse"}
        Kinds of replacement values: Gaussian noise ten times the spread, a huge constant, or the
        values in reverse order (per series).
    exhaustive : bool, default=False
        Rerun every fold under every perturbation. By default each fold is rerun once, the kinds
        taken in turn (fold 0 noise, fold 1 constant, fold 2 reverse, ...): with three folds or
        more every kind is used, and the audit costs about one extra backtest.
    seed : int, default=0
        Seed of the noise.

    Returns
    -------
    AuditResult

    Examples
    --------
    >>> import tsforecast as tsf
    >>> audit = tsf.audit_leakage("seasonal_naive", tsf.load_dataset("air_passengers"), tsf.WalkForward(2, 12))
    >>> audit.passed
    True
    """
    unknown = [p for p in perturbations if p not in PERTURBATIONS]
    if unknown or not perturbations:
        raise DataError(f"perturbations must be a non-empty selection of {PERTURBATIONS}; got {tuple(perturbations)}.")
    data = from_pandas(df)
    season = season_length(infer_freq(data)) if season is None else season
    plan = _engine.make_plan(model, data, cv, baselines=tuple(baselines), season=season, refit=refit)
    baseline = _forecasts(plan, None)
    rng = np.random.default_rng(seed)
    original = df[TARGET].copy(deep=True)
    series = df[ID] if ID in df.columns else pd.Series(0, index=df.index)
    rows = []
    try:
        for fold in plan.folds:
            expected = baseline[baseline["fold"] == fold.index]["y_hat"].to_numpy()
            future = (pd.to_datetime(df[TIME]) if _is_datetime(data) else df[TIME]) > fold.cutoff
            kinds = perturbations if exhaustive else [perturbations[fold.index % len(perturbations)]]
            for kind in kinds:
                perturbed = original.copy()
                for _, positions in future[future].groupby(series[future], sort=False):
                    index = positions.index
                    perturbed.loc[index] = _perturb(original.loc[index].to_numpy(dtype="float64"), kind, rng)
                df[TARGET] = perturbed
                rerun = _engine.make_plan(
                    model, from_pandas(df), cv, baselines=tuple(baselines), season=season, refit=refit
                )
                got = _forecasts(rerun, [fold.index])
                got = got[got["fold"] == fold.index]["y_hat"].to_numpy()
                identical = got.shape == expected.shape and bool(np.array_equal(got, expected, equal_nan=True))
                rows.append((fold.index, fold.cutoff, kind, 0.0 if identical else _max_diff(got, expected), identical))
    finally:
        df[TARGET] = original
    table = pd.DataFrame(rows, columns=["fold", "cutoff", "perturbation", "max_abs_diff", "identical"])
    used = tuple(dict.fromkeys(table["perturbation"]))
    return AuditResult(bool(table["identical"].all()), table, (TARGET,), used)


def _max_diff(got: np.ndarray, expected: np.ndarray) -> float:
    if got.shape != expected.shape:
        return float("inf")
    return float(np.max(np.abs(got - expected), initial=0.0))


def _is_datetime(data: pd.DataFrame) -> bool:
    return bool(pd.api.types.is_datetime64_any_dtype(data[TIME]))


def _forecasts(plan: _engine.Plan, folds: Sequence[int] | None) -> pd.DataFrame:
    tasks, _ = _engine.make_tasks(plan, folds)
    results = [_engine.run_task(task) for task in tasks]
    frame = pd.concat([r.forecasts for r in results], ignore_index=True)
    return frame.sort_values(["model", "fold", ID, TIME], kind="stable").reset_index(drop=True)
