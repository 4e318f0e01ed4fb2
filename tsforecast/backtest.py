"""Walk-forward backtests: fit every model on each fold's past, score it on that fold's future.

:func:`backtest` checks the splitter before anything is fitted, plans independent tasks (see
:mod:`tsforecast._engine`), runs them serially, with joblib or on a Dask cluster, optionally
checkpoints them, scores them, and can audit the whole run for leakage.
"""

from __future__ import annotations

import json
import math
import os
import platform
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import version
from numbers import Integral
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from . import _engine, _panel
from ._validation import NONE, Interval, Options, validate_params
from .audit import AuditResult, audit_leakage
from .covariates import Covariates
from .data import ID, TARGET, TIME
from .errors import DataError, spell
from .metrics import INTERVAL_METRICS, METRICS, aggregate, error_terms, interval_columns, interval_terms
from .models.intervals import band_columns, band_levels

__all__ = ["BacktestResult", "backtest"]

_REFERENCE = "seasonal_naive"


@dataclass(frozen=True)
class BacktestResult:
    """Forecasts and scores of a backtest.

    Attributes
    ----------
    forecasts : DataFrame
        One row per forecast point: ``unique_id, ds, cutoff, fold, model, y, y_hat``.
    metrics : DataFrame
        One row per model, fold and series: ``model, fold, cutoff, unique_id, mae, rmse, smape, mase``,
        with ``level``: ``coverage_L, width_L, msis_L`` per level ``L`` (see :func:`interval_scores`),
        and ``scale``, the MASE denominator.
    folds : DataFrame
        One row per fold: ``fold, train_start, cutoff, test_start, test_end, series``.
    skipped : DataFrame
        Series left out of a fold (no data before the cutoff, too short for a model, or not in the
        model fitted at an earlier fold of its refit block), with the reason.
    training : DataFrame
        Per-epoch training log (``lr, train_cost, val_cost`` ...) of models that keep one, by model and fold.
    audit : AuditResult or None
        The leakage audit, when it ran.
    settings : dict
        What is needed to reproduce the run: data, splitter, models and their parameters, versions.
    """

    forecasts: pd.DataFrame
    metrics: pd.DataFrame
    folds: pd.DataFrame
    skipped: pd.DataFrame
    training: pd.DataFrame
    audit: AuditResult | None
    settings: dict[str, Any]
    data: pd.DataFrame = field(repr=False)

    _write_report: ClassVar[Callable[[BacktestResult, Path], Path]]
    """Renders ``report.html``: :func:`tsforecast.report.write_report`, wired in by the package root
    (``tsforecast/__init__.py``), because the report layer sits above the backtest, which never imports it."""

    def summary(self) -> pd.DataFrame:
        """Mean of each metric over folds and series, by model, best (lowest MASE) first.

        Columns: MASE and MASE relative to seasonal naive first, then the other point metrics, then,
        with ``level``, the interval scores of each level, then ``failed`` and ``folds``.

        NaN scores are not skipped: a model with any NaN score gets a NaN mean, and ``failed``
        counts its missing forecasts.
        """
        scores = [*METRICS, *interval_columns(band_levels(self.forecasts.columns))]
        grouped = self.metrics.groupby("model", sort=False)
        table = grouped[scores].agg(lambda s: s.mean(skipna=False))
        table["failed"] = self.forecasts.groupby("model", sort=False)["y_hat"].agg(lambda s: int(s.isna().sum()))
        if _REFERENCE in table.index:
            table["mase_vs_seasonal_naive"] = table["mase"] / table.loc[_REFERENCE, "mase"]
        table["folds"] = grouped["fold"].nunique()
        first = [c for c in ("mase", "mase_vs_seasonal_naive") if c in table]
        table = table[[*first, *(c for c in table if c not in first)]]
        return table.sort_values(["mase", "mae"], na_position="last").rename_axis("model")

    def metrics_by_horizon(self) -> pd.DataFrame:
        """MAE, RMSE, sMAPE and MASE (and, with ``level``, the interval scores) by model and forecast step.

        Step 1 is the first test step.
        """
        step = self.forecasts.groupby(["model", "fold", ID], sort=False).cumcount() + 1
        scales = self.metrics.drop_duplicates(["fold", ID]).set_index(["fold", ID])["scale"]
        by_step = aggregate(
            _error_terms(self.forecasts, _row_scales(self.forecasts, scales)),
            [self.forecasts["model"], step.rename("step")],
        )
        return by_step.reset_index()

    def to_json(self) -> dict[str, Any]:
        """The machine-readable summary written to ``summary.json``."""
        summary = self.summary()
        scores = {*METRICS, *interval_columns(band_levels(self.forecasts.columns)), "failed"}
        models = {
            str(name): {k: _finite_or_none(row[k]) for k in summary.columns if k in scores}
            for name, row in summary.iterrows()
        }
        audit: dict[str, Any] = {"passed": None if self.audit is None else bool(self.audit.passed)}
        if self.audit is not None:
            audit["perturbations"] = list(self.audit.perturbations)
        return {
            "models": models,
            "best": str(summary.index[0]),
            "folds": int(self.forecasts["fold"].nunique()),
            "audit": audit,
            "skipped": self.skipped.astype(str).to_dict(orient="records"),
            "settings": self.settings,
        }

    def save(self, directory: str | os.PathLike[str], *, columns: dict[str, str] | None = None) -> Path:
        """Write ``forecasts.csv``, ``metrics.csv``, ``summary.json`` and ``report.html`` to ``directory``.

        Parameters
        ----------
        directory : path
            Created if missing.
        columns : dict, optional
            Names for the CSVs' columns, e.g. ``{"unique_id": "store"}`` to keep the data's own names.

        Returns
        -------
        Path
            The directory.
        """
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        self.forecasts.rename(columns=columns or {}).to_csv(out / "forecasts.csv", index=False)
        self.metrics.rename(columns=columns or {}).to_csv(out / "metrics.csv", index=False)
        (out / "summary.json").write_text(json.dumps(self.to_json(), indent=2, default=str) + "\n")
        type(self)._write_report(self, out / "report.html")
        return out


def _finite_or_none(value: Any) -> float | int | None:
    value = float(value)
    if not math.isfinite(value):
        return None
    return int(value) if value.is_integer() and abs(value) < 2**53 and value == int(value) else value


def _scales(plan: _engine.Plan) -> pd.Series:
    """MASE scale of every (fold, series): the in-sample seasonal-naive MAE of that fold's training part."""
    parts = []
    for fold in plan.folds:
        series = fold.train[ID]
        errors = fold.train[TARGET].groupby(series, sort=False).diff(plan.season).abs()
        scale = errors.groupby(series, sort=False).mean()  # NaN when a series has no seasonal difference
        parts.append(scale.set_axis(pd.MultiIndex.from_product([[fold.index], scale.index], names=["fold", ID])))
    return pd.concat(parts).rename("scale")


def _row_scales(forecasts: pd.DataFrame, scales: pd.Series) -> np.ndarray:
    """The MASE scale of each forecast row, from the scales by (fold, series)."""
    return scales.reindex(pd.MultiIndex.from_frame(forecasts[["fold", ID]])).to_numpy()


def _error_terms(forecasts: pd.DataFrame, scale: np.ndarray) -> pd.DataFrame:
    """Per forecast point, the :func:`~tsforecast.metrics.error_terms` and whether the forecast is missing."""
    terms = pd.DataFrame(error_terms(forecasts[TARGET], forecasts["y_hat"], scale), index=forecasts.index)
    terms = terms.join(_band_terms(forecasts, scale))  # prediction-interval scores, when there are bands
    return terms.assign(missing=forecasts["y_hat"].isna())


def _groups(forecasts: pd.DataFrame) -> np.ndarray:
    """Number of the (model, fold, series) of each forecast row, the rows sorted by them."""
    keys = [forecasts[column].to_numpy() for column in ("model", "fold", ID)]
    changes = np.zeros(len(forecasts), dtype=bool)
    for key in keys:
        changes[1:] |= key[1:] != key[:-1]
    return np.cumsum(changes)


def _score(forecasts: pd.DataFrame, groups: np.ndarray, scale: np.ndarray) -> pd.DataFrame:
    """Every metric by (model, fold, series): ``groups`` numbers them row by row, ``scale`` is each row's MASE scale."""
    table = aggregate(_error_terms(forecasts, scale), [pd.Series(groups, index=forecasts.index)])
    heads = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]]) if len(groups) else groups
    scores = forecasts.iloc[heads][["model", "fold", "cutoff", ID]].reset_index(drop=True)
    columns = [*METRICS, *interval_columns(band_levels(forecasts.columns))]
    scores[columns] = table[columns].to_numpy()
    scores["scale"] = scale[heads]
    return scores


# --- prediction-interval scores: present only when the forecasts carry band columns ----------------


def _band_terms(forecasts: pd.DataFrame, scale: Any) -> pd.DataFrame:
    """Per forecast point, the :func:`~tsforecast.metrics.interval_terms` of every level with band columns."""
    columns = {}
    for level in band_levels(forecasts.columns):
        lo, hi = band_columns((level,))
        terms = interval_terms(forecasts[TARGET], forecasts[lo], forecasts[hi], scale, level=level)
        names = zip(interval_columns((level,)), INTERVAL_METRICS, strict=True)
        columns.update({column: terms[name] for column, name in names})
    return pd.DataFrame(columns, index=forecasts.index)


def _full_repr(obj: Any) -> str:
    """``Class(param=value, ...)`` with every parameter, defaults included, so a run can be rebuilt from it."""
    if not hasattr(obj, "get_params"):
        return repr(obj)
    params = ", ".join(f"{k}={v!r}" for k, v in obj.get_params(deep=False).items())
    return f"{type(obj).__name__}({params})"


def _versions() -> dict[str, str]:
    packages = ["tsforecast", "numpy", "pandas", "torch", "scikit-learn", "statsmodels"]
    return {"python": platform.python_version(), **{p: version(p) for p in packages}}


def backtest(
    model: Any,
    df: pd.DataFrame,
    cv: Any,
    *,
    baselines: tuple[Any, ...] | list[Any] = ("naive", "seasonal_naive"),
    season: int | None = None,
    refit: bool | int = True,
    engine: str = "serial",
    n_jobs: int = 1,
    checkpoint: str | os.PathLike[str] | None = None,
    audit: bool = False,
    progress: bool | None = None,
    source: str | None = None,
    covariates: Covariates | None = None,
    scheduler: str | None = None,
    level: Any = None,
    interval_method: str = "conformal",
) -> BacktestResult:
    """Walk-forward backtest of a model and baselines; honest by construction, and checked.

    Parameters
    ----------
    model : Forecaster, str or list of them
        The model(s) under test: an estimator (e.g. ``SGDForecaster(...)``) or a name
        (``"sgd"``, ``"ets"``, ``"arima"``, ``"theta"``, ``"naive"`` ...).
    df : DataFrame
        Long frame ``unique_id, ds, y`` (validated with :func:`~tsforecast.from_pandas`).
    cv : splitter
        :class:`~tsforecast.WalkForward`, scikit-learn's ``TimeSeriesSplit``, or any object with
        ``split``; it runs on the positions of the global time axis. Shuffling or overlapping
        splitters are refused before anything is fitted.
    baselines : sequence of str or Forecaster, default=("naive", "seasonal_naive")
        Reference models fitted on the same folds.
    season : int, optional
        Seasonal period for the baselines and MASE; inferred from the frequency when ``None``
        (12 monthly, 4 quarterly, 52 weekly, 7 daily, 24 hourly, 48 half-hourly, 1 otherwise); for
        integer timestamps, from the values up to the first fold's cutoff
        (:func:`tsforecast.seasonality.panel_season`).
    refit : bool or int, default=True
        ``True`` refits every fold; an int ``k`` refits every ``k`` folds and in between applies the
        last fitted model to the longer history; ``False`` fits on the first fold only. A series
        that starts after a fit is listed in ``skipped`` until the next refit.
    engine : {"serial", "joblib", "dask"}, default="serial"
        Where tasks run. ``"dask"`` uses the current ``distributed`` client if there is one, or a
        ``LocalCluster`` on 127.0.0.1 with ``n_jobs`` workers, or the cluster at ``scheduler``.
        Results are identical across engines. When every model is a closed-form baseline (naive,
        seasonal naive, mean, drift) and there are no covariates and no ``checkpoint``, the serial
        and joblib engines run no tasks: each model forecasts all series of a fold in one
        vectorised call, in this process.
    n_jobs : int, default=1
        Parallel workers for ``joblib``/``dask`` (``-1``: all cores).
    checkpoint : path, optional
        Directory where each finished task is stored, by this process (never by a worker); a
        rerun with the same data, settings, model parameters and code and package versions
        reuses them, so a run killed half-way keeps its finished folds. Files are read as data,
        never unpickled; one that is damaged or written for another configuration is recomputed
        with a warning.
    audit : bool, default=False
        Run :func:`~tsforecast.audit_leakage` on the same settings (``level`` included, so the
        bands are audited too) and record its verdict.
    progress : bool, optional
        Show a progress bar (default: only when stderr is a terminal).
    source : str, optional
        Where the data came from, recorded in the settings and the report.
    covariates : Covariates, optional
        Declares every extra column of ``df`` (an undeclared one is an error). At each cutoff a
        model is fitted on the rows up to the cutoff (target, past-only, known-future and static
        columns) and forecasts with a future frame holding only the known-future columns over its
        horizon. The baselines are univariate and ignore covariates.
    scheduler : str, optional
        Address of a running ``dask.distributed`` scheduler (e.g. ``"tcp://127.0.0.1:8786"``) to
        run the tasks on, with ``engine="dask"``. Its workers need tsforecast and the model's code.
    level : float or sequence of float, optional
        Prediction-interval levels in percent (e.g. ``(80, 95)``): ``.forecasts`` gets the columns
        ``y_lo_L, y_hi_L`` of every model, calibrated inside each fold's training data.
    interval_method : {"conformal", "native"}, default="conformal"
        How the intervals are made (see ``Forecaster.predict``).

    Returns
    -------
    BacktestResult

    Raises
    ------
    ShuffleError, LeakageError
        If the splitter shuffles or a fold trains on or after its test data, or a fitted model
        saw data after its cutoff.
    DataError
        For bad data, unknown model names, a bad ``season``/``refit``/``engine``, folds the data
        cannot hold, or a ``scheduler`` without ``engine="dask"``.

    Examples
    --------
    >>> import tsforecast as tsf
    >>> res = tsf.backtest("ets", tsf.load_dataset("air_passengers"), tsf.WalkForward(n_splits=2, horizon=12))
    >>> res.summary().index.tolist()
    ['ets', 'seasonal_naive', 'naive']
    """
    validate_params(
        "backtest",
        {"season": season, "refit": refit, "engine": engine, "n_jobs": n_jobs, "audit": audit, "scheduler": scheduler},
        {
            "season": [Interval(Integral, 1, None, closed="left"), NONE],
            "refit": [Options((True, False)), Interval(Integral, 1, None, closed="left")],
            "engine": [Options(_engine.ENGINES)],
            "n_jobs": [Interval(Integral, -1, None, closed="left")],
            "audit": [Options((True, False))],
            "scheduler": [str, NONE],
        },
    )
    if scheduler is not None and engine != "dask":
        raise DataError(
            f"A scheduler ({scheduler!r}) runs tasks on a Dask cluster, but the engine is {engine!r}. "
            f"Set {spell('engine')} to 'dask', or leave out {spell('scheduler')}."
        )
    data, freq, season, levels = _engine.prepare_run(
        df, cv, season=season, level=level, interval_method=interval_method
    )
    ids, offsets = _panel.series_offsets(data)
    fast = (
        _panel.make_panel_plan(
            model,
            data,
            cv,
            freq=freq,
            series=(ids, offsets),
            baselines=tuple(baselines),
            season=season,
            refit=refit,
            covariates=covariates,
        )
        # NOTE: one vectorised call beats any pool of local workers; intervals need the task path's refits
        if engine != "dask" and checkpoint is None and levels is None
        else None
    )
    if fast is not None:
        run = _panel.run_panel(fast)
        forecasts, models, horizon, folds = run.forecasts, fast.models, fast.horizon, run.folds
        skipped = pd.concat([run.skipped.assign(model="all"), run.too_short], ignore_index=True)
        metrics = _score(forecasts, run.groups, run.scale)
        logs: list[pd.DataFrame] = []
    else:
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
        workers = 1 if engine == "serial" else (n_jobs if n_jobs > 0 else os.cpu_count() or 1)
        tasks, too_short = _engine.make_tasks(plan, chunks=4 * workers)
        fingerprint = _engine.fingerprint(data, cv, season, refit, plan.covariates)
        results = _engine.execute(
            tasks,
            engine=engine,
            n_jobs=n_jobs,
            checkpoint=checkpoint,
            fingerprint=fingerprint,
            progress=progress,
            scheduler=scheduler,
        )
        forecasts = pd.concat([r.forecasts for r in results], ignore_index=True)
        order = {name: i for i, name in enumerate(plan.models)}
        forecasts = forecasts.sort_values(["fold", ID, TIME], kind="stable")
        forecasts = forecasts.sort_values("model", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)
        logs = [r.training for r in results if r.training is not None]
        metrics = _score(forecasts, _groups(forecasts), _row_scales(forecasts, _scales(plan)))
        models, horizon = plan.models, plan.horizon
        folds = pd.DataFrame(
            [
                (f.index, f.train[TIME].min(), f.cutoff, f.test[TIME].min(), f.test[TIME].max(), f.test[ID].nunique())
                for f in plan.folds
            ],
            columns=["fold", "train_start", "cutoff", "test_start", "test_end", "series"],
        )
        skipped = pd.concat([plan.skipped.assign(model="all"), too_short], ignore_index=True)
    verdict = (
        audit_leakage(
            model,
            df,
            cv,
            baselines=baselines,
            season=season,
            refit=refit,
            covariates=covariates,
            level=levels,
            interval_method=interval_method,
        )
        if audit
        else None
    )
    lengths = np.diff(offsets)
    settings = {
        "source": source,
        "series": len(ids),
        "length": {"min": int(lengths.min()), "max": int(lengths.max())},
        "start": str(data[TIME].min()),
        "end": str(data[TIME].max()),
        "freq": str(freq),
        "season": season,
        "horizon": horizon,
        "cv": _full_repr(cv),
        "refit": refit,
        "covariates": None if covariates is None or covariates.empty else repr(covariates),
        "engine": engine,
        "temporal_check": "passed: no shuffling, every fold trains strictly before it tests",
        "models": {name: _full_repr(m) for name, m in models.items()},
        "intervals": None if levels is None else {"level": list(levels), "method": interval_method},
        "versions": _versions(),
    }
    return BacktestResult(
        forecasts=forecasts,
        metrics=metrics,
        folds=folds,
        skipped=skipped,
        training=pd.concat(logs, ignore_index=True) if logs else pd.DataFrame(),
        audit=verdict,
        settings=settings,
        data=data,
    )
