"""Walk-forward backtests: fit every model on each fold's past, score it on that fold's future.

:func:`backtest` checks the splitter before anything is fitted, plans independent tasks (see
:mod:`tsforecast._engine`), runs them serially, with joblib or on a Dask cluster, optionally
checkpoints them, scores them, and can audit the whole run for leakage.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from numbers import Integral
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from . import _engine
from ._plan import Plan, make_plan
from ._snapshot import snapshot
from ._task_cache import runtime_versions
from ._validation import NONE, Interval, Options, validate_params
from .audit import PERTURBATIONS, AuditOptions, AuditResult, perturbed_columns, start_audit
from .columns import ID, TARGET, TIME
from .covariates import Covariates
from .errors import DataError, spell
from .metrics import (
    INTERVAL_METRICS,
    METRICS,
    Metric,
    aggregate,
    custom_metrics,
    error_terms,
    interval_columns,
    interval_terms,
    metric_value,
)
from .models.intervals import band_columns, band_levels
from .models.selection import Selector

__all__ = ["BacktestResult", "audit_leakage", "backtest"]


@dataclass(frozen=True)
class BacktestResult:
    """Forecasts and scores of a backtest.

    Attributes
    ----------
    forecasts : DataFrame
        One row per forecast point: ``unique_id, ds, cutoff, fold, model, y, y_hat`` (with ``level``,
        ``y_lo_L, y_hi_L`` per level).
    metrics : DataFrame
        One row per model, fold and series: ``model, fold, cutoff, unique_id, mae, rmse, smape, mase``,
        with ``level``: ``coverage_L, width_L, msis_L`` per level ``L`` (see :func:`interval_scores`),
        ``scale``, the MASE denominator, then one column per custom metric (``metrics=``).
    folds : DataFrame
        One row per fold: ``fold, train_start, cutoff, test_start, test_end, series``.
    skipped : DataFrame
        ``model, fold, cutoff, unique_id, reason``: every series-fold with test data that a model
        did not forecast, and why (``model`` is ``"all"`` for a series with no data before the cutoff).
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

    @property
    def models(self) -> list[str]:
        """The models' names, in the order they were given (the reference seasonal naive last if added)."""
        return list(self.settings["models"])

    def compared(self) -> pd.DataFrame:
        """The series-folds every model forecast: the ground the leaderboard compares them on.

        One row per ``fold, unique_id``. A model that forecast nothing at all is left out of the
        comparison (and ranked last); see :meth:`summary` for the counts.
        """
        keys = self.metrics[["model", "fold", ID]]
        ranked = [m for m in self.models if (keys["model"] == m).any()]
        if not ranked:
            return keys.iloc[:0][["fold", ID]]
        counts = keys.drop_duplicates().groupby(["fold", ID], sort=True).size()
        return counts[counts == len(ranked)].index.to_frame(index=False)

    @property
    def custom_metrics(self) -> list[str]:
        """The names of the custom metrics (``backtest(..., metrics=...)``), in the order given."""
        return [name for name in self.settings.get("metrics", ()) if name not in METRICS]

    def summary(self, on: str = "common", sort_by: str = "mase") -> pd.DataFrame:
        """Mean of each metric over folds and series, by model, best (lowest ``sort_by``, MASE by default) first.

        Parameters
        ----------
        on : {"common", "own"}, default="common"
            ``"common"``: every model is scored on the series-folds all of them forecast
            (:meth:`compared`), so a model that skips hard series cannot look better for it.
            ``"own"``: each model on every series-fold it forecast.
        sort_by : str, default="mase"
            The metric to rank by, lowest first (ties by MAE): a built-in one, an interval score
            such as ``"msis_95"``, or a custom metric's name.

        Returns
        -------
        DataFrame
            Indexed by model: MASE and MASE relative to the reference seasonal naive (on the same
            series-folds) first, then the other point metrics, then, with ``level``, the interval
            scores of each level; then ``compared`` (series-folds in the means), ``forecast``
            (series-folds the model forecast), ``left_out`` (series-folds with test data it did not
            forecast; reasons in :attr:`skipped`) and ``folds``. MASE and the scaled interval
            scores leave out series-folds whose MASE scale is undefined (fewer than ``season + 1``
            training values), for every model alike; NaN scores are not skipped otherwise. The
            custom metrics come last.

        Raises
        ------
        DataError
            For an unknown ``on`` or ``sort_by``.
        """
        if on not in ("common", "own"):
            raise DataError(f"summary(on={on!r}): choose 'common' (the same series-folds for every model) or 'own'.")
        scores = [*METRICS, *interval_columns(band_levels(self.forecasts.columns)), *self.custom_metrics]
        if sort_by not in scores:
            raise DataError(
                f"Cannot sort by {sort_by!r}, which is not a metric of this run. "
                f"Set {spell('sort_by')} to one of: {', '.join(scores)}."
            )
        rows = self.metrics
        if on == "common":
            ground = self.compared().assign(_in=True)
            rows = rows.merge(ground, on=["fold", ID], how="left")
            rows = rows[rows["_in"].fillna(False).astype(bool)].drop(columns="_in")
        scaled = [c for c in scores if c == "mase" or c.startswith(("width_", "msis_"))]
        table = pd.DataFrame(index=pd.Index(self.models, name="model"))
        grouped = rows.groupby("model", sort=False)
        for column in scores:
            usable = rows if column not in scaled else rows[rows["scale"].notna()]
            table[column] = usable.groupby("model", sort=False)[column].agg(lambda s: s.mean(skipna=False))
        reference = self.settings.get("reference")
        if reference in table.index:
            table["mase_vs_seasonal_naive"] = table["mase"] / table.loc[reference, "mase"]
        own = self.metrics.groupby("model", sort=False)
        table["compared"] = grouped.size().reindex(table.index).fillna(0).astype(int)
        table["forecast"] = own.size().reindex(table.index).fillna(0).astype(int)
        gaps = self.skipped[self.skipped["model"] != "all"].groupby("model", sort=False).size()
        table["left_out"] = gaps.reindex(table.index).fillna(0).astype(int)
        table["folds"] = own["fold"].nunique().reindex(table.index).fillna(0).astype(int)
        first = [c for c in ("mase", "mase_vs_seasonal_naive") if c in table]
        table = table[[*first, *(c for c in table if c not in first)]]
        table = table[[*(c for c in table if c not in self.custom_metrics), *self.custom_metrics]]
        return table.sort_values(list(dict.fromkeys([sort_by, "mae"])), na_position="last")

    def metrics_by_horizon(self) -> pd.DataFrame:
        """MAE, RMSE, sMAPE and MASE (and, with ``level``, the interval scores) by model and forecast step.

        Step 1 is the first test step. Computed on the series-folds every model forecast (:meth:`compared`).
        """
        ground = self.compared().assign(_in=True)
        forecasts = self.forecasts.merge(ground, on=["fold", ID], how="left")
        forecasts = forecasts[forecasts["_in"].fillna(False).astype(bool)].drop(columns="_in").reset_index(drop=True)
        step = forecasts.groupby(["model", "fold", ID], sort=False).cumcount() + 1
        scales = self.metrics.drop_duplicates(["fold", ID]).set_index(["fold", ID])["scale"]
        by_step = aggregate(
            _error_terms(forecasts, _row_scales(forecasts, scales)),
            [forecasts["model"], step.rename("step")],
        )
        return by_step.reset_index()

    def to_wide(self) -> pd.DataFrame:
        """The forecasts in statsforecast's ``cross_validation`` layout: one column per model.

        Returns
        -------
        DataFrame
            One row per ``unique_id, ds, cutoff`` (by series, then cutoff, then time) with ``y`` and
            a column per model, in :attr:`models` order, holding its ``y_hat``; with ``level``, each
            model's column is followed by ``{model}-lo-{L}`` (levels descending), then
            ``{model}-hi-{L}`` (ascending), statsforecast's names and order. A series-fold a model
            did not forecast (see :attr:`skipped`) is NaN in that model's columns.

        Examples
        --------
        >>> import tsforecast as tsf
        >>> res = tsf.backtest("naive", tsf.load_dataset("air_passengers"), tsf.WalkForward(2, 12), level=95)
        >>> res.to_wide().columns.tolist()  # doctest: +NORMALIZE_WHITESPACE
        ['unique_id', 'ds', 'cutoff', 'y', 'naive', 'naive-lo-95', 'naive-hi-95',
         'seasonal_naive', 'seasonal_naive-lo-95', 'seasonal_naive-hi-95']
        """
        keys = [ID, "cutoff", TIME]
        levels = band_levels(self.forecasts.columns)
        sources = {"y_hat": "", **{f"y_lo_{level:g}": f"-lo-{level:g}" for level in reversed(levels)}}
        sources.update({f"y_hi_{level:g}": f"-hi-{level:g}" for level in levels})
        wide = self.forecasts.pivot(index=keys, columns="model", values=list(sources))
        table = self.forecasts.drop_duplicates(keys).set_index(keys)[[TARGET]].reindex(wide.index)
        for model in self.models:
            for source, suffix in sources.items():
                table[f"{model}{suffix}"] = wide.get((source, model), np.nan)
        return table.reset_index()[[ID, TIME, "cutoff", *table.columns]]

    def selection_note(self) -> str:
        """What the leaderboard's best score is worth as an estimate, when it ranks more than one model.

        Ranking several models on the same folds and keeping the best is a selection made on the
        folds that score it, so the best score flatters the choice; a nested selector
        (:class:`~tsforecast.WalkForwardSearch`, :class:`~tsforecast.AutoSelect`) chooses on each
        fold's own past and its score is honest. The note says how many models were compared on how
        many series-folds (:meth:`compared`) and names the nested selectors in the run with their
        mean MASE, or says none was run.

        Returns
        -------
        str
            One line; empty when at most one model is ranked.
        """
        summary = self.summary()
        ranked = summary[summary["forecast"] > 0]
        if len(ranked) < 2:
            return ""
        note = (
            f"{len(ranked)} models compared on the same {len(self.compared())} series-folds: the best of them "
            "on these folds is an optimistic estimate of a choice made by this comparison; nested selection "
            "(tsf.WalkForwardSearch / tsf.AutoSelect, --model auto) gives an honest one"
        )
        nested = set(self.settings.get("nested_selectors", ()))
        selectors = [name for name in ranked.index if name in nested]
        if not selectors:
            return note + "; nested selection was not run"
        runs = ", ".join(f"{name} (mean MASE {_number(ranked.loc[name, 'mase'])})" for name in selectors)
        return f"{note}; nested selection was run: {runs}"

    def to_json(self) -> dict[str, Any]:
        """The machine-readable summary written to ``summary.json``."""
        summary = self.summary()
        counts = {"compared", "forecast", "left_out", "folds"}
        levels = band_levels(self.forecasts.columns)
        scores = {*METRICS, *interval_columns(levels), *self.custom_metrics, "mase_vs_seasonal_naive", *counts}
        models = {
            str(name): {k: _finite_or_none(row[k]) for k in summary.columns if k in scores}
            for name, row in summary.iterrows()
        }
        audit: dict[str, Any] = {"passed": None, "status": "not run"} if self.audit is None else self.audit.to_json()
        return {
            "models": models,
            "best": str(summary.index[0]),
            "compared_on": {"series_folds": len(self.compared()), "rule": "the series-folds every model forecast"},
            "folds": int(self.folds["fold"].nunique()),
            "audit": audit,
            "skipped": self.skipped.astype(str).to_dict(orient="records"),
            "settings": self.settings,
        }

    def save(
        self, directory: str | os.PathLike[str], *, columns: dict[str, str] | None = None, wide: bool = False
    ) -> Path:
        """Write ``forecasts.csv``, ``metrics.csv``, ``summary.json`` and ``report.html`` to ``directory``.

        Parameters
        ----------
        directory : path
            Created if missing.
        columns : dict, optional
            Names for the CSVs' columns, e.g. ``{"unique_id": "store"}`` to keep the data's own names.
        wide : bool, default=False
            Write ``forecasts.csv`` in the layout of :meth:`to_wide` (one column per model) instead
            of :attr:`forecasts`' one row per model and point.

        Returns
        -------
        Path
            The directory.
        """
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        forecasts = self.to_wide() if wide else self.forecasts
        forecasts.rename(columns=columns or {}).to_csv(out / "forecasts.csv", index=False)
        self.metrics.rename(columns=columns or {}).to_csv(out / "metrics.csv", index=False)
        (out / "summary.json").write_text(json.dumps(self.to_json(), indent=2, default=str) + "\n")
        type(self)._write_report(self, out / "report.html")
        return out

    def __repr__(self) -> str:
        summary = self.summary()
        best = summary.index[0]
        audit = "not run" if self.audit is None else ("passed" if self.audit.passed else "FAILED")
        return (
            f"BacktestResult(models={self.models}, folds={int(self.folds['fold'].nunique())}, "
            f"series={int(self.settings['series'])}, best={best!r} (MASE {summary.loc[best, 'mase']:.4g} on "
            f"{int(summary.loc[best, 'compared'])} series-folds), audit={audit})"
        )


def _number(value: Any) -> str:
    """A score to three decimals, ``n/a`` when it is not finite."""
    return f"{float(value):.3f}" if np.isfinite(float(value)) else "n/a"


def _finite_or_none(value: Any) -> float | int | None:
    value = float(value)
    if not math.isfinite(value):
        return None
    return int(value) if value.is_integer() and abs(value) < 2**53 and value == int(value) else value


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


def _heads(groups: np.ndarray) -> np.ndarray:
    """The first row of each group numbered by :func:`_groups`."""
    return np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]]) if len(groups) else groups


def _score(forecasts: pd.DataFrame, groups: np.ndarray, scale: np.ndarray) -> pd.DataFrame:
    """Every metric by (model, fold, series): ``groups`` numbers them row by row, ``scale`` is each row's MASE scale."""
    table = aggregate(_error_terms(forecasts, scale), [pd.Series(groups, index=forecasts.index)])
    heads = _heads(groups)
    scores = forecasts.iloc[heads][["model", "fold", "cutoff", ID]].reset_index(drop=True)
    columns = [*METRICS, *interval_columns(band_levels(forecasts.columns))]
    scores[columns] = table[columns].to_numpy()
    scores["scale"] = scale[heads]
    return scores


def _custom_scores(
    forecasts: pd.DataFrame, groups: np.ndarray, plan: Plan, series: np.ndarray, metrics: Mapping[str, Metric]
) -> dict[str, np.ndarray]:
    """Each custom metric by (model, fold, series), in :func:`_score`'s row order.

    A metric gets read-only views: the test values, the forecasts, the series' training values
    at that fold and the run's season.
    """
    y = _read_only(forecasts[TARGET].to_numpy(dtype=float))
    y_hat = _read_only(forecasts["y_hat"].to_numpy(dtype=float))
    folds, history = forecasts["fold"].to_numpy(), _read_only(np.asarray(plan.data.values, dtype=float))
    heads = _heads(groups)
    scores = {name: np.empty(len(heads)) for name in metrics}
    for k, (start, stop) in enumerate(zip(heads, [*heads[1:], len(forecasts)], strict=True)):
        span, s = plan.folds[folds[start]], series[start]
        train = history[span.train_start[s] : span.train_end[s]]
        for name, metric in metrics.items():
            scores[name][k] = metric_value(name, metric(y[start:stop], y_hat[start:stop], train, plan.season))
    return scores


def _read_only(values: np.ndarray) -> np.ndarray:
    view = values.view()
    view.flags.writeable = False
    return view


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


def _fold_table(plan: Plan) -> pd.DataFrame:
    """One row per fold: ``fold, train_start, cutoff, test_start, test_end, series`` (series forecast in it)."""
    times = plan.frame[TIME]
    none = times.iloc[:0].min()  # what an empty part's first and last timestamps are
    rows = []
    for fold in plan.folds:
        trained = fold.train_end > fold.train_start
        tested = fold.test_end > fold.test_start
        rows.append(
            (
                fold.index,
                times.iloc[fold.train_start[trained]].min() if trained.any() else none,
                fold.cutoff,
                times.iloc[fold.test_start[tested]].min() if tested.any() else none,
                times.iloc[fold.test_end[tested] - 1].max() if tested.any() else none,
                int(tested.sum()),
            )
        )
    return pd.DataFrame(rows, columns=["fold", "train_start", "cutoff", "test_start", "test_end", "series"])


def _settings(plan: Plan, cv: Any, *, source: str | None, engine: str, metrics: Mapping[str, Metric]) -> dict[str, Any]:
    """What is needed to reproduce the run, for ``summary.json`` and the report."""
    lengths = np.diff(plan.data.offsets)
    times = plan.frame[TIME]
    return {
        "source": source,
        "series": len(lengths),
        "length": {"min": int(lengths.min()), "max": int(lengths.max())},
        "start": str(times.min()),
        "end": str(times.max()),
        "freq": str(plan.freq),
        "season": plan.season,
        "horizon": plan.horizon,
        "cv": _full_repr(cv),
        "refit": plan.refit,
        "covariates": None if plan.covariates is None else repr(plan.covariates),
        "engine": engine,
        "temporal_check": "passed: no shuffling, every fold trains strictly before it tests",
        "models": {entry.name: _full_repr(entry.model) for entry in plan.entries},
        "nested_selectors": [entry.name for entry in plan.entries if isinstance(entry.model, Selector)],
        "reference": next(entry.name for entry in plan.entries if entry.reference),
        "intervals": None if plan.levels is None else {"level": list(plan.levels), "method": plan.interval_method},
        "metrics": {
            **dict.fromkeys(METRICS, "built-in"),
            **{
                name: f"{getattr(f, '__module__', '?')}.{getattr(f, '__qualname__', repr(f))}"
                for name, f in metrics.items()
            },
        },
        "versions": runtime_versions(),
    }


def _nothing_forecast(plan: Plan) -> DataError:
    """The error of a run in which no model forecast any series-fold, with the reasons."""
    reasons = plan.skipped.groupby("reason", sort=False).size()
    listed = "; ".join(f"{reason} ({count} series-folds)" for reason, count in reasons.items())
    return DataError(
        f"No model forecast any series in any fold: {listed or 'no series has test data'}. Use fewer folds, a "
        f"shorter horizon, a longer training window ({spell('train_size')}) or longer series."
    )


def backtest(
    model: Any,
    df: pd.DataFrame,
    cv: Any,
    *,
    baselines: Sequence[Any] | Mapping[str, Any] = ("naive", "seasonal_naive"),
    season: int | None = None,
    refit: bool | int = True,
    engine: str = "serial",
    n_jobs: int = 1,
    checkpoint: str | os.PathLike[str] | None = None,
    audit: bool | AuditOptions = False,
    progress: bool | None = None,
    source: str | None = None,
    covariates: Covariates | None = None,
    scheduler: str | None = None,
    level: Any = None,
    interval_method: str = "conformal",
    metrics: Sequence[str | Metric] | Mapping[str, Metric] | None = None,
) -> BacktestResult:
    """Walk-forward backtest of a model and baselines; honest by construction, and checked.

    Parameters
    ----------
    model : Forecaster, str, list of them, or dict of name to them
        The model(s) under test: an estimator (e.g. ``SGDForecaster(...)``) or a name
        (``"sgd"``, ``"ets"``, ``"arima"``, ``"theta"``, ``"naive"`` ...); a dict names them.
        Each entry keeps its identity in every output: its dict key, or a name derived from its
        class and the parameters that differ from the defaults (``"sgd(lookback=48)"``,
        ``"seasonal_naive(season=6)"``); identical entries without a given name are run once;
        distinct entries whose derived names collide get ``#2``, ``#3``. A model's ``horizon``
        must equal the folds' (horizon plus gap: a name takes it); a ``season`` left ``None`` takes
        the run's ``season``.
    df : DataFrame
        Long frame ``unique_id, ds, y`` (validated with :func:`~tsforecast.from_pandas`): pandas, polars or
        pyarrow; the result's frames are pandas.
    cv : splitter
        :class:`~tsforecast.WalkForward`, scikit-learn's ``TimeSeriesSplit``, or any object with
        ``split``; it runs on the positions of the global time axis, and each fold must train and
        test on one contiguous span of it. Shuffling or overlapping splitters are refused before
        anything is fitted.
    baselines : sequence or dict of str or Forecaster, default=("naive", "seasonal_naive")
        Reference models fitted on the same folds, named as ``model``. The reference of
        ``mase_vs_seasonal_naive``, the seasonal naive forecast at the run's ``season``, is always
        run, as ``"seasonal_naive"`` (a name reserved for it).
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
        Results are identical across engines: every model computes its forecasts through its one
        :meth:`~tsforecast.models.Forecaster.fit_forecast` method, whichever engine runs it.
    n_jobs : int, default=1
        Parallel workers for ``joblib``/``dask`` (``-1``: all cores).
    checkpoint : path, optional
        Directory where each finished task is stored, by this process (never by a worker); a
        rerun with the same data, settings, model parameters and code and package versions
        reuses them, so a run killed half-way keeps its finished folds. Files are read as data,
        never unpickled; one that is damaged or written for another configuration is recomputed
        with a warning.
    audit : bool or AuditOptions, default=False
        Audit the run for leakage on the same plan, ``level`` included, and record the verdict in
        ``.audit`` (:func:`~tsforecast.audit_leakage` says what it checks);
        :class:`tsforecast.audit.AuditOptions` chooses the perturbations and where the reruns run.
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
        Prediction-interval levels in percent (e.g. ``(80, 95)``; a fraction such as 0.8 is refused):
        ``.forecasts`` gets the columns ``y_lo_L, y_hi_L`` of every model, calibrated inside the
        training data of each fit, from forecasts made in the same ``fit_forecast`` call.
    interval_method : {"conformal", "native"}, default="conformal"
        How the intervals are made (see ``Forecaster.predict``).
    metrics : sequence of str or callable, or dict of str to callable, optional
        Custom metrics besides the built-in MAE, RMSE, sMAPE and MASE, which are always computed
        (their names are accepted here too): callables ``f(y, y_hat, y_train, season) -> float``
        given a series-fold's test values, forecasts, training values (NumPy arrays, read-only)
        and the run's season, named by their ``__name__`` or by a dict's keys. Each becomes a
        column of ``.metrics`` and ``.summary()`` (averaged like the others, NaN not skipped),
        and an entry of ``summary.json``; ``summary(sort_by=name)`` ranks by it, lowest first.
        Every callable is tried on a small forecast first, so a bad one is refused before any fit.

    Returns
    -------
    BacktestResult

    Raises
    ------
    ShuffleError, LeakageError
        If the splitter shuffles or a fold trains on or after its test data, or a fitted model
        saw data after its cutoff.
    DataError
        For bad data, unknown model or metric names, a metric that fails or does not return a
        number, a model horizon that differs from the folds', a bad ``season``/``refit``/``engine``,
        folds the data cannot hold, a level no calibration could reach, a run in which no model
        can forecast anything, or a ``scheduler`` without ``engine="dask"``.

    Examples
    --------
    >>> import tsforecast as tsf
    >>> res = tsf.backtest("ets", tsf.load_dataset("air_passengers"), tsf.WalkForward(n_splits=2, horizon=12))
    >>> res.summary().index.tolist()
    ['ets', 'seasonal_naive', 'naive']
    >>> int(res.summary().loc["ets", "compared"])
    2
    """
    validate_params(
        "backtest",
        {"season": season, "refit": refit, "engine": engine, "n_jobs": n_jobs, "audit": audit, "scheduler": scheduler},
        {
            "season": [Interval(Integral, 1, None, closed="left"), NONE],
            "refit": [Options((True, False)), Interval(Integral, 1, None, closed="left")],
            "engine": [Options(_engine.ENGINES)],
            "n_jobs": [Interval(Integral, -1, None, closed="left")],
            "audit": [Options((True, False)), AuditOptions],
            "scheduler": [str, NONE],
        },
    )
    if scheduler is not None and engine != "dask":
        raise DataError(
            f"A scheduler ({scheduler!r}) runs tasks on a Dask cluster, but the engine is {engine!r}. "
            f"Set {spell('engine')} to 'dask', or leave out {spell('scheduler')}."
        )
    custom = custom_metrics(metrics)
    plan = make_plan(
        model,
        df,
        cv,
        baselines=baselines,
        season=season,
        refit=refit,
        covariates=covariates,
        level=level,
        interval_method=interval_method,
    )
    if not plan.blocks:
        raise _nothing_forecast(plan)
    # NOTE: the audit's snapshot of the models is taken before the clean run (caches it fills are not in it), and
    # its reruns start in fresh processes now, running while the clean run does
    options = audit if isinstance(audit, AuditOptions) else AuditOptions() if audit else None
    pending = (
        None
        if options is None
        else start_audit(
            plan, df, cv, snapshot(model, baselines, df, perturbed_columns(plan)), options, progress=progress
        )
    )
    try:
        run = _engine.run_plan(
            plan,
            engine=engine,
            n_jobs=n_jobs,
            checkpoint=checkpoint,
            context=_engine.fingerprint(plan, cv),
            progress=progress,
            scheduler=scheduler,
        )
    except BaseException:
        if pending is not None:
            pending.cancel()
        raise
    forecasts = run.frame
    scales = plan.scales()[forecasts["fold"].to_numpy(), run.series]
    groups = _groups(forecasts)
    scores = _score(forecasts, groups, scales).assign(**_custom_scores(forecasts, groups, plan, run.series, custom))
    return BacktestResult(
        forecasts=forecasts,
        metrics=scores,
        folds=_fold_table(plan),
        skipped=plan.skipped,
        training=run.training,
        audit=None if pending is None else pending.finish(run),
        settings=_settings(plan, cv, source=source, engine=engine, metrics=custom),
        data=plan.frame,
    )


def audit_leakage(
    model: Any,
    df: Any,
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
    """Backtest the models, then audit those forecasts: does changing the future change them?

    ``backtest(..., audit=AuditOptions(...)).audit``: the backtest's run gives the *reported*
    forecasts; the perturbed (and, where needed, control) reruns of :mod:`tsforecast.audit` are
    compared with them, fold by fold, bit for bit (``y_hat``, and with ``level`` the band columns).

    What is perturbed, for each fold with cutoff ``c`` and each series with rows after ``c``:

    - the values of ``y`` (and past-only covariates) after ``c``, by the kind of perturbation;
    - the shape: one more row after the series' last one, a step later, so the number of rows
      after ``c`` and the series' and the frame's last timestamp change.

    The backtest is planned again on the perturbed values, and every reference the models hold to
    ``df`` -- the frame itself, or a column or array taken from its perturbed columns -- points at
    the perturbed data, wherever it sits (an attribute, a global of the user's script). ``df``
    itself is never modified.

    What the tests show it catching: a model reading values after the cutoff through a reference
    to ``df`` or to ``df["y"]`` (their mean, sum, minimum, maximum, median or standard deviation,
    the number of rows after the cutoff, the frame's last timestamp), through the script's own
    global ``df``, through ``functools.lru_cache`` or a module-level feature cache filled during
    the clean run; a model that peeks on its first calls only (the reported forecasts are the
    ones compared); and it tells unseeded randomness (*not reproducible*) from a leak.

    What no in-process check can see: a model that took its own copy of the data before the
    backtest (the copy is not ``df``, so it is never perturbed), that reads the data from a file,
    a database or an environment variable, or that detects the audit and behaves. Against those,
    never hand the model the full data: it gets the training rows through ``fit``/``predict``, and
    that is all it needs.

    Parameters
    ----------
    model, cv, baselines, season, refit, covariates, level, interval_method
        As for :func:`~tsforecast.backtest`.
    df : DataFrame or Series
        The data. Left untouched.
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
        more every kind is used.
    seed : int, default=0
        Seed of the noise.
    fresh_process : bool, default=True
        Run the reruns in fresh Python interpreters (``loky`` workers, which do not rerun the
        caller's script). ``False`` reruns in this process: faster, but a peek memoised during
        the clean run goes unseen.

    Returns
    -------
    AuditResult

    Raises
    ------
    DataError
        For an unknown perturbation, or anything :func:`~tsforecast.backtest` refuses (the reference
        seasonal naive is backtested and audited too, as ever).

    Examples
    --------
    >>> import tsforecast as tsf
    >>> air = tsf.load_dataset("air_passengers")
    >>> audit = tsf.audit_leakage("seasonal_naive", air, tsf.WalkForward(2, 12), fresh_process=False)
    >>> audit.status
    'passed'
    """
    options = AuditOptions(tuple(perturbations), exhaustive, seed, fresh_process)
    result = backtest(
        model,
        df,
        cv,
        baselines=baselines,
        season=season,
        refit=refit,
        covariates=covariates,
        level=level,
        interval_method=interval_method,
        audit=options,
        progress=False,
    )
    assert result.audit is not None
    return result.audit
