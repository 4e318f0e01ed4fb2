"""Honest model selection: candidates scored on inner walk-forward folds cut inside the training data.

:class:`WalkForwardSearch` tunes one model over a parameter grid, :class:`AutoSelect` picks a model
per series. Both are forecasters like any other: every ``fit`` cuts the inner folds of ``inner_cv``
(:func:`~tsforecast.split.fold_spans`, the package's own folds) inside the rows it is given, scores
every candidate on them through its :meth:`~tsforecast.models.Forecaster.fit_forecast`, and refits
the winner on all of those rows. Inside :func:`~tsforecast.backtest`, each outer fold is fitted on
its own past only, so the selection is nested by construction: the outer score of a search is the
score of a selection rule, not of a candidate chosen by looking at the outer folds.

The selection rule: the lowest mean MASE over the inner series-folds every candidate forecast (a
series-fold whose training span is shorter than ``season + 1`` or than a candidate needs is left out
for all of them), ties to the earlier candidate in grid (or list) order. The MASE scale is the
in-sample seasonal-naive MAE of each inner training span (:func:`~tsforecast.metrics.seasonal_scales`).

:func:`selection_optimism` shows the price of selecting: per outer fold, the inner-best score next to
the outer score of the candidate it chose.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from numbers import Integral
from typing import Any, ClassVar, cast

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import ParameterGrid, ParameterSampler

from .._validation import NONE, Interval, Options
from ..columns import ID, TARGET, TIME
from ..covariates import Covariates
from ..errors import DataError, DataTypeError
from ..metrics import seasonal_scales
from ..split import WalkForward, fold_spans, panel_folds
from .batch import Fit, histories_of
from .forecaster import Forecaster, as_long_frame, with_season
from .statistical import _POSITIVE_INT

__all__ = ["AutoSelect", "Selector", "WalkForwardSearch", "selection_optimism"]

AUTO_MODELS = ("seasonal_naive", "ets", "theta")
"""The default candidates of :class:`AutoSelect` (the model name ``"auto"``): cheap and complementary."""


def _models_module() -> Any:
    """The :mod:`tsforecast.models` package (imported at call time: it imports this module)."""
    return importlib.import_module(__package__ or "tsforecast.models")


def inner_scores(
    candidates: Sequence[Forecaster],
    frame: pd.DataFrame,
    freq: str | int,
    covariates: Covariates | None,
    inner_cv: Any,
    season: int,
) -> pd.DataFrame:
    """The MASE of every candidate on every inner series-fold of ``frame``.

    Parameters
    ----------
    candidates : sequence of Forecaster
        Unfitted models with one horizon.
    frame : DataFrame
        A validated long frame (sorted by series and time): the only rows read.
    freq : str or int
        Its frequency.
    covariates : Covariates or None
        The declared covariates, passed to the candidates' fits.
    inner_cv : splitter
        Cuts ``frame`` into the inner folds (:func:`~tsforecast.split.fold_spans`).
    season : int
        The MASE season.

    Returns
    -------
    DataFrame
        ``candidate, fold, cutoff, unique_id, mase``, one row per candidate and scored series-fold.

    Raises
    ------
    DataError
        If an inner fold tests further ahead than the candidates forecast, or no series-fold can be scored.
    """
    horizon = int(candidates[0].horizon)
    data = histories_of(frame, freq, covariates)
    values, ids = data.values, data.ids
    need = max(season + 1, *(c.min_length() for c in candidates))
    fits, parts = [], []
    for fold in fold_spans(inner_cv, frame):
        length = fold.train_end - fold.train_start
        used = np.flatnonzero((fold.test_end > fold.test_start) & (length >= need))
        if not len(used):
            continue
        if (fold.test_end[used] - fold.train_end[used] > horizon).any():
            raise DataError(
                f"The inner folds of {inner_cv!r} test more than the {horizon} step(s) the candidates forecast. "
                f"Give inner_cv a horizon plus gap of at most {horizon}."
            )
        start, end = fold.train_start[used], fold.train_end[used]
        fits.append(Fit(start, end, fold.cutoff, start, end))
        parts.append((fold, used, seasonal_scales(values, start, end - start, season)))
    if not fits:
        raise DataError(
            f"The inner folds of {inner_cv!r} leave no series with {need} training values to score the candidates "
            "on. Use fewer inner folds (n_splits), a shorter inner horizon, or longer series."
        )
    rows = []
    for k, candidate in enumerate(candidates):
        for (fold, used, scales), result in zip(parts, candidate.fit_forecast(data, fits), strict=True):
            for j, s in enumerate(used):
                tested = np.arange(fold.test_start[s], fold.test_end[s])
                error = np.abs(values[tested] - result.forecasts[j, tested - fold.train_end[s]]).mean()
                with np.errstate(divide="ignore", invalid="ignore"):  # NOTE: a zero scale is left out below
                    rows.append((k, fold.index, fold.cutoff, str(ids[s]), error / scales[j]))
    table = pd.DataFrame(rows, columns=["candidate", "fold", "cutoff", ID, "mase"])
    return table[np.isfinite(table["mase"].to_numpy(dtype="float64"))].reset_index(drop=True)


class Selector(Forecaster):
    """The base of the nested selectors (:class:`WalkForwardSearch`, :class:`AutoSelect`): the MASE season, the inner
    folds; a backtest names its entries of this class as nested selection.

    A selector's fit runs a whole selection, so conformal calibration fits it once per calibration span.
    """

    calibration_refits: ClassVar[bool] = False
    season: int | None
    inner_cv: Any

    def min_length(self) -> int:
        """The most observations any candidate needs (a ``season`` left ``None`` taken as the selector's)."""
        season = self.season if self.season is not None else getattr(self, "season_", 1)
        return max(with_season(model, season).min_length() for model in self._models(season))

    def _models(self, season: int) -> list[Forecaster]:
        """The unfitted candidates, named models built with ``season``."""
        raise NotImplementedError

    def _inner_cv(self) -> Any:
        return WalkForward(3, int(self.horizon)) if self.inner_cv is None else self.inner_cv

    def _scores(self, candidates: Sequence[Forecaster], frame: pd.DataFrame) -> pd.DataFrame:
        """:func:`inner_scores` of the candidates (their ``season`` left ``None`` set to the selector's)."""
        for candidate in candidates:
            if candidate.uses_covariates and self.covariates_ is not None:
                raise DataError(
                    f"{type(self).__name__} cannot select {type(candidate).__name__}, which reads the declared "
                    "covariates: choose among univariate models, or select without covariates."
                )
        seasoned = [with_season(c, self.season_) for c in candidates]
        return inner_scores(seasoned, frame, self.freq_, self.covariates_, self._inner_cv(), self.season_)

    def _refit(self, model: Forecaster, frame: pd.DataFrame) -> Forecaster:
        """``model`` (season filled in) fitted on all of ``frame``."""
        fitted = with_season(model, self.season_)
        return fitted.fit(frame) if self.covariates_ is None else fitted.fit(frame, covariates=self.covariates_)


class WalkForwardSearch(Selector):
    """Tune a model on inner walk-forward folds cut inside each fit's training data.

    On ``fit``, every candidate (the model with one setting of the grid) is scored on the inner folds
    of ``inner_cv`` cut inside the data given to ``fit``; the best by mean inner MASE (ties to the
    earlier candidate in grid order) is refitted on all of the data and forecasts. Used in
    :func:`~tsforecast.backtest`, every outer fold selects on its own past: nested by construction.
    A run names it ``search(<model name>)``.

    Parameters
    ----------
    model : Forecaster
        The model to tune; its ``horizon`` is the search's.
    param_grid : dict or list of dict, optional
        Settings to try, as scikit-learn's ``ParameterGrid`` takes them (e.g. ``{"season": [4, 12]}``).
    inner_cv : splitter, optional
        The inner folds (default ``WalkForward(3, horizon)``); each must test at most ``horizon`` steps.
    param_distributions : dict or list of dict, optional
        Instead of ``param_grid``: distributions to draw ``n_iter`` settings from (``ParameterSampler``).
    n_iter : int, default=10
        Settings drawn from ``param_distributions``.
    random_state : int, optional
        Seed of the draws from ``param_distributions``.
    season : int, optional
        The MASE season of the inner scores, also given to candidates whose ``season`` is ``None``;
        ``None``: the data's (a backtest sets the run's).

    Attributes
    ----------
    best_params_ : dict
        The chosen setting.
    best_index_ : int
        Its position in grid order.
    best_score_ : float
        Its mean inner MASE: an optimistic estimate of its accuracy (it won on these folds).
    best_estimator_ : Forecaster
        The chosen candidate, fitted on all the data.
    cv_results_ : DataFrame
        One row per candidate in grid order: ``params``, ``mean_mase``, ``series_folds`` (how many
        were scored), ``rank`` (1 is chosen), and ``mase_fold_<k>`` per inner fold.

    Examples
    --------
    >>> import numpy as np
    >>> from tsforecast.models import SeasonalNaive
    >>> y = np.tile([1.0, 5.0, 3.0, 2.0], 10) + np.arange(40) % 3  # a period of 12
    >>> search = WalkForwardSearch(SeasonalNaive(horizon=4), {"season": [4, 12]}).fit(y)
    >>> search.best_params_, search.predict()
    ({'season': 12}, array([2., 7., 3., 3.]))
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "n_iter": [_POSITIVE_INT],
        "random_state": [Interval(Integral, 0, None, closed="left"), NONE],
        "season": [_POSITIVE_INT, NONE],
    }

    def __init__(
        self,
        model: Forecaster,
        param_grid: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
        *,
        inner_cv: Any = None,
        param_distributions: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
        n_iter: int = 10,
        random_state: int | None = None,
        season: int | None = None,
    ) -> None:
        self.model = model
        self.param_grid = param_grid
        self.inner_cv = inner_cv
        self.param_distributions = param_distributions
        self.n_iter = n_iter
        self.random_state = random_state
        self.season = season

    @property
    def horizon(self) -> int:  # type: ignore[override]
        """The tuned model's horizon."""
        return int(self._tuned().horizon)

    def _models(self, season: int) -> list[Forecaster]:
        return [clone(self._tuned()).set_params(**setting) for setting in self.candidates()]

    def _tuned(self) -> Forecaster:
        """The model to tune, checked to be a Forecaster."""
        if not isinstance(self.model, Forecaster):
            raise DataTypeError(
                f"WalkForwardSearch tunes a tsforecast Forecaster, got {type(self.model).__name__}: pass e.g. ETS()."
            )
        return self.model

    def candidates(self) -> list[dict[str, Any]]:
        """The settings tried, in grid (or draw) order.

        Raises
        ------
        DataError
            Unless exactly one of ``param_grid`` and ``param_distributions`` is given, or if a setting
            changes the horizon.
        """
        if (self.param_grid is None) == (self.param_distributions is None):
            raise DataError(
                "WalkForwardSearch needs exactly one of param_grid and param_distributions; pass one of them."
            )
        if self.param_grid is not None:
            settings = list(ParameterGrid(self.param_grid))
        else:
            settings = list(ParameterSampler(self.param_distributions, self.n_iter, random_state=self.random_state))
        if any("horizon" in s for s in settings):
            raise DataError("WalkForwardSearch cannot tune horizon: set it on the model and drop it from the grid.")
        return settings

    def _fit(self, frame: pd.DataFrame) -> None:
        settings, models = self.candidates(), self._models(self.season_)
        table = self._scores(models, frame)
        scores = table.pivot_table(index="candidate", columns="fold", values="mase", aggfunc="mean")
        results = pd.DataFrame({"params": settings})
        grouped = table.groupby("candidate")["mase"]
        results["mean_mase"] = grouped.mean().reindex(results.index)
        results["series_folds"] = grouped.size().reindex(results.index).fillna(0).astype(int)
        results["rank"] = results["mean_mase"].rank(method="first").astype("Int64")
        for fold in scores.columns:
            results[f"mase_fold_{fold}"] = scores[fold].reindex(results.index)
        if results["mean_mase"].isna().all():
            raise DataError(
                "No candidate of WalkForwardSearch has an inner score (every scale is zero or undefined): use longer "
                "or less constant series, or fewer inner folds."
            )
        self.cv_results_ = results
        self.best_index_ = int(np.nanargmin(results["mean_mase"].to_numpy(dtype="float64")))
        self.best_params_ = settings[self.best_index_]
        self.best_score_ = float(results["mean_mase"].iloc[self.best_index_])
        self.best_estimator_ = self._refit(models[self.best_index_], frame)

    def _predict(self, frame: pd.DataFrame) -> np.ndarray:
        return _forecasts(self.best_estimator_, frame, self.horizon)


def _forecasts(model: Forecaster, frame: pd.DataFrame, horizon: int) -> np.ndarray:
    """A fitted model's forecasts ``(n_series, horizon)`` after each series of ``frame``, in sorted order."""
    predicted = cast(pd.DataFrame, model.predict(frame))  # NOTE: frame input gives a frame
    return predicted["y_hat"].to_numpy(dtype="float64").reshape(-1, horizon)


class AutoSelect(Selector):
    """Choose a model per series on inner walk-forward folds cut inside each fit's training data.

    On ``fit``, every candidate is scored on the inner folds of ``inner_cv`` cut inside the data
    given to ``fit``; each series is then forecast by the candidate with its lowest mean inner MASE
    (ties to the earlier candidate), or by the mean of its ``k`` best with ``combine="mean_k"``. A
    series without an inner score (too short), or new at ``predict``, takes the candidate(s) with the
    lowest mean inner MASE over all series. Registered as the model name ``"auto"``.

    Parameters
    ----------
    models : sequence of str or Forecaster, default=("seasonal_naive", "ets", "theta")
        The candidates: model names (built for ``horizon`` and ``season``) or unfitted forecasters
        with this ``horizon``.
    horizon : int, default=1
        Number of future steps to forecast.
    season : int, optional
        The season of the candidates named or left ``None``, and of the inner MASE; ``None``: the data's.
    inner_cv : splitter, optional
        The inner folds (default ``WalkForward(3, horizon)``); each must test at most ``horizon`` steps.
    combine : {None, "mean_k"}, default=None
        ``None``: the best candidate forecasts; ``"mean_k"``: the mean of the ``k`` best.
    k : int, default=2
        How many candidates ``"mean_k"`` averages.

    Attributes
    ----------
    names_ : list of str
        The candidates' names (a model's registry or class name, ``#2`` on a repeat).
    choice_ : Series
        Per series, the chosen candidate's name (with ``"mean_k"``: the best of the ``k``).
    inner_scores_ : DataFrame
        Mean inner MASE, one row per series, one column per candidate.
    estimators_ : dict
        The candidates that forecast some series, by name, fitted on all the data.
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "horizon": [_POSITIVE_INT],
        "season": [_POSITIVE_INT, NONE],
        "combine": [Options((None, "mean_k"))],
        "k": [_POSITIVE_INT],
    }

    def __init__(
        self,
        models: Sequence[str | Forecaster] = AUTO_MODELS,
        horizon: int = 1,
        season: int | None = None,
        inner_cv: Any = None,
        combine: str | None = None,
        k: int = 2,
    ) -> None:
        self.models = models
        self.horizon = horizon
        self.season = season
        self.inner_cv = inner_cv
        self.combine = combine
        self.k = k

    def _models(self, season: int) -> list[Forecaster]:
        return self._candidates(season)[1]

    def _candidates(self, season: int) -> tuple[list[str], list[Forecaster]]:
        """The candidates' names and unfitted models."""
        if not self.models:
            raise DataError("AutoSelect needs at least one candidate in models, e.g. models=('naive', 'ets').")
        models = _models_module()
        names: list[str] = []
        built: list[Forecaster] = []
        for spec in self.models:
            if isinstance(spec, str):
                model = models.make_model(spec, horizon=self.horizon, season=season)
            elif isinstance(spec, Forecaster):
                model = clone(spec)
            else:
                raise DataTypeError(f"AutoSelect candidates are model names or Forecasters, got {spec!r}.")
            if int(model.horizon) != int(self.horizon):
                raise DataError(
                    f"AutoSelect(horizon={self.horizon}) got the candidate {spec!r} with horizon={model.horizon}: "
                    "give every candidate the selector's horizon."
                )
            base = name = models.model_name(model)
            n = 1
            while name in names:
                n += 1
                name = f"{base} #{n}"
            names.append(name)
            built.append(model)
        return names, built

    def _fit(self, frame: pd.DataFrame) -> None:
        self.names_, built = self._candidates(self.season_)
        keep = 1 if self.combine is None else int(self.k)
        if not 1 <= keep <= len(self.models):
            raise DataError(f"AutoSelect(k={self.k}) must be between 1 and the {len(self.models)} candidates.")
        table = self._scores(built, frame)
        means = table.pivot_table(index=ID, columns="candidate", values="mase", aggfunc="mean")
        means = means.reindex(columns=range(len(built))).rename(columns=dict(enumerate(self.names_)))
        means.columns.name = "model"
        series = pd.Index(sorted(frame[ID].astype(str).unique()), name=ID)
        self.inner_scores_ = means.reindex(series)
        overall = self.inner_scores_.mean().to_numpy(dtype="float64")
        fallback = tuple(np.argsort(np.where(np.isnan(overall), np.inf, overall), kind="stable")[:keep].tolist())
        self._ranked = {}
        for uid, row in self.inner_scores_.iterrows():
            scores = row.to_numpy(dtype="float64")
            ranked = np.argsort(np.where(np.isnan(scores), np.inf, scores), kind="stable")[:keep]
            self._ranked[str(uid)] = fallback if np.isnan(scores).all() else tuple(ranked.tolist())
        self._fallback = fallback
        self.choice_ = pd.Series({uid: self.names_[r[0]] for uid, r in self._ranked.items()}, name="model")
        self.choice_.index.name = ID
        used = sorted({i for ranked in self._ranked.values() for i in ranked} | set(fallback))
        self.estimators_ = {self.names_[i]: self._refit(built[i], frame) for i in used}

    def _predict(self, frame: pd.DataFrame) -> np.ndarray:
        ids = np.asarray(sorted(frame[ID].astype(str).unique()))
        ranked = [self._ranked.get(uid, self._fallback) for uid in ids]
        out = np.zeros((len(ids), int(self.horizon)))
        for i, name in enumerate(self.names_):
            for place in range(len(self._fallback)):
                rows = np.flatnonzero([r[place] == i if place < len(r) else False for r in ranked])
                if len(rows):
                    part = frame[frame[ID].astype(str).isin(ids[rows])]
                    out[rows] += _forecasts(self.estimators_[name], part, int(self.horizon))
        return out / len(self._fallback)


def selection_optimism(search: WalkForwardSearch, df: pd.DataFrame, cv: Any) -> pd.DataFrame:
    """Per outer fold, a search's inner-best score next to the outer score of the candidate it chose.

    Each outer fold of ``cv`` (:func:`~tsforecast.split.panel_folds`) fits a copy of ``search`` on
    its training rows and forecasts its test rows; the outer MASE is the mean over the fold's
    series of the mean absolute error scaled by each training span's seasonal-naive MAE (the
    search's season), as a backtest scores it. The inner-best score is the winner's score on the
    folds it was chosen on, so it is optimistic: ``optimism`` (outer minus inner) is the price.

    Parameters
    ----------
    search : WalkForwardSearch
        The (unfitted) search.
    df : DataFrame
        Long frame ``unique_id, ds, y``.
    cv : splitter
        The outer folds; each must test at most the search's horizon.

    Returns
    -------
    DataFrame
        ``fold, cutoff, best_params, inner_best_mase, outer_mase, optimism``, one row per fold.
    """
    frame, _ = as_long_frame(df)
    rows = []
    for fold in panel_folds(cv, frame):
        fitted = clone(search).fit(fold.train)
        predicted = fitted.predict(fold.train)
        test = fold.test.merge(predicted, on=[ID, TIME], how="inner")
        lengths = fold.train.groupby(ID, sort=True).size()  # NOTE: the rows are sorted by series and time
        starts = (np.cumsum(lengths) - lengths).to_numpy()
        values = fold.train[TARGET].to_numpy(dtype="float64")
        scales = pd.Series(seasonal_scales(values, starts, lengths.to_numpy(), fitted.season_), index=lengths.index)
        errors = (test[TARGET] - test["y_hat"]).abs().groupby(test[ID]).mean()
        outer = errors / scales.reindex(errors.index)
        outer = outer[np.isfinite(outer.to_numpy(dtype="float64"))]
        rows.append((fold.index, fold.cutoff, fitted.best_params_, fitted.best_score_, float(outer.mean())))
    table = pd.DataFrame(rows, columns=["fold", "cutoff", "best_params", "inner_best_mase", "outer_mase"])
    return table.assign(optimism=table["outer_mase"] - table["inner_best_mase"])
