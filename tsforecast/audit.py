"""The future-perturbation leakage audit.

A forecast made at cutoff ``c`` must be a function of observations at or before ``c`` only. The
audit checks it empirically: for every fold it replaces every value after that fold's cutoff with
adversarial values (noise, huge constants, the same values in reverse order), reruns the fold
exactly as the backtest does, and requires the fold's forecasts to be bit-for-bit identical.

With covariates, the target and every past-only covariate are perturbed after the cutoff; the
known-future covariates only after the end of the fold's horizon (inside it they are legitimately
known); static ones are left alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from . import _engine
from .covariates import Covariates
from .data import ID, TARGET, TIME, from_pandas, future_times, infer_freq, season_length
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
        The columns whose values after each cutoff were perturbed: ``y`` and the past-only
        covariates, then the known-future ones (perturbed after each fold's horizon only).
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
    covariates: Covariates | None = None,
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
    covariates : Covariates, optional
        As for :func:`~tsforecast.backtest`. Past-only columns are perturbed with ``y`` after each
        cutoff, known-future columns after the end of each fold's horizon; all are restored.

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
    freq = infer_freq(data)
    season = season_length(freq) if season is None else season
    settings = {"baselines": tuple(baselines), "season": season, "refit": refit, "covariates": covariates}
    plan = _engine.make_plan(model, data, cv, **settings)  # type: ignore[arg-type]
    baseline = _forecasts(plan, None)
    rng = np.random.default_rng(seed)
    declared = plan.covariates
    after_cutoff = [TARGET, *(declared.past_only if declared else ())]
    after_horizon = list(declared.known_future) if declared else []
    originals = {col: df[col].copy(deep=True) for col in [*after_cutoff, *after_horizon]}
    series = df[ID] if ID in df.columns else pd.Series(0, index=df.index)
    times = pd.to_datetime(df[TIME]) if _is_datetime(data) else df[TIME]
    longest = max(m.horizon for m in plan.models.values())
    rows = []
    try:
        for fold in plan.folds:
            expected = baseline[baseline["fold"] == fold.index]["y_hat"].to_numpy()
            masks = {col: times > fold.cutoff for col in after_cutoff}
            if after_horizon:
                horizon_end = future_times(fold.cutoff, freq, longest)[-1]
                masks.update({col: times > horizon_end for col in after_horizon})
            kinds = perturbations if exhaustive else [perturbations[fold.index % len(perturbations)]]
            for kind in kinds:
                for col, mask in masks.items():
                    original = originals[col]
                    perturbed = original.astype("float64")  # NOTE: a copy; integer columns get float noise
                    for _, positions in mask[mask].groupby(series[mask], sort=False):
                        index = positions.index
                        perturbed.loc[index] = _perturb(original.loc[index].to_numpy(dtype="float64"), kind, rng)
                    df[col] = perturbed
                rerun = _engine.make_plan(model, from_pandas(df), cv, **settings)  # type: ignore[arg-type]
                got = _forecasts(rerun, [fold.index])
                got = got[got["fold"] == fold.index]["y_hat"].to_numpy()
                identical = got.shape == expected.shape and bool(np.array_equal(got, expected, equal_nan=True))
                rows.append((fold.index, fold.cutoff, kind, 0.0 if identical else _max_diff(got, expected), identical))
    finally:
        for col, original in originals.items():
            df[col] = original
    table = pd.DataFrame(rows, columns=["fold", "cutoff", "perturbation", "max_abs_diff", "identical"])
    used = tuple(dict.fromkeys(table["perturbation"]))
    return AuditResult(bool(table["identical"].all()), table, (*after_cutoff, *after_horizon), used)


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
