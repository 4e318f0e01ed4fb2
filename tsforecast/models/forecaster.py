"""The one interface every forecaster implements.

A forecaster is a scikit-learn estimator: the constructor only stores its arguments, ``fit``
validates them and learns, ``predict`` forecasts the next ``horizon`` values after each series.

``fit`` and ``predict`` accept a 1-D array-like (one series on an integer time index), a
``pd.Series`` (its index holds the timestamps) or a long frame ``unique_id, ds, y``. Array input
gives an array back; Series and frame input give a frame ``unique_id, ds, y_hat``.

Subclasses implement two hooks on the validated long frame:

- ``_fit(frame)`` learns what the model needs;
- ``_predict(frame)`` returns an array ``(n_series, horizon)`` for the series of ``frame`` in
  their sorted order, forecasting after each series' last row.

**One engine.** Every forecast a backtest, a prediction interval or the leakage audit needs goes
through one method, :meth:`Forecaster.fit_forecast`: fit a fresh copy on some rows, then forecast
from many histories (:mod:`tsforecast.models.batch`). Its default is built on ``fit`` and
``predict`` and is right for every subclass. Built-in models override it with a faster
computation of the same thing (all histories of all series in one vectorised call), and a
property test shows each override equal to the default. An override never hides a subclass's
own code: a class that overrides a hook a faster inherited method would bypass (``fit``,
``_fit``, ``predict``, ``_predict``, ``_native_intervals`` for ``fit_forecast``; ``_forecast``
for ``_forecast_panel``) gets the default back automatically, unless it overrides the faster
method too (:meth:`Forecaster.__init_subclass__`).

Covariates (:class:`~tsforecast.covariates.Covariates`) are declared at ``fit(y, covariates=...)``;
an undeclared extra column is refused. The frame the hooks see holds ``unique_id, ds, y`` and the
declared (and calendar) columns. A model that reads covariates sets ``uses_covariates = True`` and
implements ``_predict(frame, future)``, where ``future`` holds the known-future inputs over each
series' horizon (:func:`~tsforecast.covariates.prepare_future`). The other models are univariate:
they ignore covariates, but a declaration is still required so nothing is used silently.

Prediction intervals: ``predict(level=(80, 95))`` adds ``y_lo_80, y_hi_80, y_lo_95, y_hi_95``.
The default ``interval_method="conformal"`` works for every subclass without extra code (see
:mod:`tsforecast.models.intervals`); ``"native"`` uses the model's own intervals, for subclasses that
implement ``_native_intervals(frame, levels)`` (``LocalForecaster``: ``_forecast_interval(y, levels)``).

:class:`LocalForecaster` specialises this for models estimated series by series on each history
(naive, seasonal naive, mean, drift, ARIMA, Theta).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from numbers import Integral
from typing import Any, ClassVar

import joblib
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.utils.validation import check_is_fitted

from .._validation import validate_params
from ..columns import ID, TARGET, TIME
from ..covariates import Covariates, prepare_frame, prepare_future
from ..errors import DataError, LeakageError, spell, spell_value
from ..frames import FrameKind, as_pandas, from_pandas, to_kind
from ..frequency import future_times, infer_freq
from ..seasonality import panel_season
from .batch import Fit, FitResult, Histories
from .intervals import band_columns, calibrate, check_interval_method, check_levels, conformal_bands

__all__ = ["Forecaster", "LocalForecaster", "as_long_frame", "check_provenance", "has_native_intervals", "with_season"]


def as_long_frame(y: Any) -> tuple[pd.DataFrame, bool]:
    """Convert model input to a validated long (pandas) frame; the flag says whether it was a plain array.

    A polars DataFrame or pyarrow Table is read as its pandas copy (:func:`~tsforecast.frames.as_pandas`).
    """
    y, _ = as_pandas(y)
    if isinstance(y, pd.DataFrame):
        return from_pandas(y), False
    if isinstance(y, pd.Series):
        return from_pandas(y, name=str(y.name) if y.name is not None else "series"), False
    values = np.asarray(y)
    if values.ndim != 1:
        raise DataError(
            f"Expected a 1-D array (one series) or a long DataFrame, got an array of shape {values.shape}. "
            "Pass panels as a DataFrame with columns unique_id, ds, y."
        )
    return from_pandas(pd.Series(values, index=pd.RangeIndex(len(values)))), True


class Forecaster(BaseEstimator):  # type: ignore[misc]
    """Base class of all forecasters (see the module docstring for the contract).

    Attributes set by ``fit``
    -------------------------
    freq_ : str or int
        Frequency of the training data.
    last_seen_ : Timestamp or int
        The last timestamp the model saw while fitting, target and covariates alike (fit-scope
        provenance: a backtest checks it is at or before the fold's cutoff).
    covariates_ : Covariates or None
        The covariates declared at fit.
    season_ : int
        Models with a ``season`` parameter: the season used. A ``season`` left ``None`` takes the
        season of the data the model is fitted on (:func:`~tsforecast.seasonality.panel_season`:
        12 monthly, 4 quarterly, 7 daily, ...; inferred from the values for integer timestamps), as
        the model names (``"seasonal_naive"``, ``"ets"``) do.
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {}
    uses_covariates: ClassVar[bool] = False
    """Whether the model reads covariates (then ``_predict`` takes the future inputs too)."""
    per_series: ClassVar[bool] = False
    """Whether a series' forecasts depend on that series' rows only (models estimated series by series);
    a backtest may then split the series of a model among workers."""
    calibration_refits: ClassVar[bool] = True
    """Whether conformal calibration refits the model at the start of each block of ``horizon`` calibration
    origins (``True``), or fits it once, at the start of the calibration span, for every origin (``False``:
    one extra fit per fitted model, for models whose fit is costly)."""
    _SLOWER_HOOKS: ClassVar[dict[str, tuple[str, ...]]] = {
        "fit_forecast": ("fit", "_fit", "predict", "_predict", "_native_intervals")
    }
    """Per faster method defined on this class, the hooks it bypasses (see :meth:`__init_subclass__`)."""
    horizon: int

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Give a subclass the default of a faster method when it overrides a hook that method bypasses.

        A built-in model computes ``fit_forecast`` (or ``_forecast_panel``) without calling the
        hooks a subclass may override. If one of those hooks (``_SLOWER_HOOKS``) resolves, in the
        method resolution order, to a class more derived than the one the faster method comes
        from (the subclass itself, or a mixin before the built-in class), the faster method is
        reset to the default built on the hooks, so the subclass is always scored by its own
        code. A class that overrides the faster method itself takes responsibility for it.
        """
        super().__init_subclass__(**kwargs)
        mro = cls.__mro__

        def resolves(name: str) -> int:
            """Where ``name`` is found in the method resolution order (a mixin's override counts too)."""
            return next((k for k, klass in enumerate(mro) if name in klass.__dict__), len(mro))

        for owner in mro[1:]:
            for fast, slower in owner.__dict__.get("_SLOWER_HOOKS", {}).items():
                if any(resolves(name) < resolves(fast) for name in slower):
                    setattr(cls, fast, owner.__dict__[fast])

    def min_length(self) -> int:
        """The fewest observations a series needs to be forecast by this model."""
        return 1

    def calibration_length(self) -> int:
        """The fewest observations a calibration fit needs to be the same model as the one it calibrates.

        Conformal intervals are calibrated on forecasts made at origins inside the training data
        (:mod:`tsforecast.models.intervals`); a fit on a history too short for the model's full form
        (e.g. ETS without its season, through its fallback chain) is another model, whose larger
        errors would widen the bands. Default: ``max(min_length(), 3)``.
        """
        return max(self.min_length(), 3)

    def fit(self, y: Any, covariates: Covariates | None = None) -> Forecaster:
        """Fit the model on the history ``y`` and return ``self``.

        Parameters
        ----------
        y : array-like, Series or DataFrame
            The history (see the module docstring): a pandas or polars DataFrame or a pyarrow Table.
        covariates : Covariates, optional
            Declares every extra column of ``y`` as known-future, past-only or static, and the
            calendar features to generate.

        Raises
        ------
        DataError
            For invalid data, an undeclared extra column, or a declared column that is missing,
            non-numeric, has missing values, or is static but varies within a series.
        """
        self._validate_params()
        y, self._frame_kind = as_pandas(y)  # NOTE: predict answers in the caller's frame type
        frame, self._array_input = as_long_frame(y)
        frame = prepare_frame(frame, covariates, f"{type(self).__name__}.fit")
        self.covariates_ = covariates if covariates is not None and not covariates.empty else None
        self.freq_ = infer_freq(frame)
        self.last_seen_ = frame[TIME].max()
        if "season" in self.get_params(deep=False):  # NOTE: a model may refine it in _fit (SGDForecaster does)
            self.season_ = self.season if self.season is not None else panel_season(frame, self.freq_)
        self.__dict__.pop("conformal_", None)  # a refit drops the interval calibration of the previous fit
        self._fit(frame)
        self._train_frame = frame
        self._fitted_settings = _settings_digest(self)
        return self

    def predict(
        self,
        y_new: Any = None,
        future: Any = None,
        *,
        h: int | None = None,
        level: Any = None,
        interval_method: str = "conformal",
    ) -> Any:
        """Forecast the next ``horizon`` values after the fitted history, or after ``y_new``.

        Parameters
        ----------
        y_new : array-like, Series or DataFrame, optional
            A new history, with the covariate columns declared at fit (pandas, polars or pyarrow).
        future : DataFrame, optional
            With known-future covariates: ``unique_id, ds`` and the known-future columns covering
            the ``horizon`` timestamps after each series' last one (calendar features need none).
            Never ``y`` or past-only columns.
        h : int, optional
            Forecast only the first ``h`` steps, ``1 <= h <= horizon`` (default: all ``horizon``).
        level : float or sequence of float, optional
            Coverage levels in percent, each strictly between 0 and 100 (e.g. ``(80, 95)``): adds
            the columns ``y_lo_L, y_hi_L`` per level ``L``, nested around ``y_hat``.
        interval_method : {"conformal", "native"}, default="conformal"
            ``"conformal"``: split-conformal bands from forecasts made at earlier origins inside the
            fitted data (:mod:`tsforecast.models.intervals`; computed on the first call and cached in
            ``conformal_``). ``"native"``: the model's own intervals (ETS, ARIMA, Theta).

        Returns
        -------
        ndarray of shape (h,) for array input without ``level``, else a DataFrame
        ``unique_id, ds, y_hat`` (and the interval columns), in the frame type of the history it
        forecasts from (``y_new``, else the one given to ``fit``): pandas, polars or pyarrow.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If the model has not been fitted.
        DataError
            If ``h`` is not between 1 and ``horizon``; if the future frame is needed but missing, or
            lacks values for some horizon step; for a ``level`` out of (0, 100), a fraction such as
            0.8 or repeated, an unknown ``interval_method``, a model without native intervals, or
            data too short to calibrate.
        DataTypeError
            If a ``level`` is not a number.
        LeakageError
            If the future frame holds ``y`` or a past-only column.
        """
        check_is_fitted(self)
        self._check_settings_unchanged()
        steps = self._steps(h)
        levels = None if level is None else check_levels(level)
        method = check_interval_method(interval_method)
        covariates = getattr(self, "covariates_", None)
        if y_new is None:
            frame, as_array = self._train_frame, self._array_input
            kind: FrameKind = getattr(self, "_frame_kind", "pandas")  # NOTE: absent from a model saved before it
        else:
            y_new, kind = as_pandas(y_new)
            frame, as_array = as_long_frame(y_new)
            frame = prepare_frame(frame, covariates, f"{type(self).__name__}.predict")
        last = frame.groupby(ID, sort=True)[TIME].max()
        # NOTE: future timestamps are computed once per distinct last timestamp (in a panel usually one).
        futures = {t: future_times(t, self.freq_, self.horizon) for t in last.unique()}
        reads = self.uses_covariates and covariates is not None
        inputs = None
        if reads or future is not None:  # NOTE: a univariate model still validates a future frame it is given
            times = {str(uid): futures[t] for uid, t in last.items()}
            inputs = prepare_future(as_pandas(future)[0], frame, covariates or Covariates(), times, type(self).__name__)
        if reads:
            forecasts = np.asarray(self._predict(frame, inputs), dtype="float64")  # type: ignore[call-arg]
        else:
            forecasts = np.asarray(self._predict(frame), dtype="float64")
        if not np.isfinite(forecasts).all():
            raise DataError(
                f"{type(self).__name__} produced a non-finite forecast (NaN or inf): its fit diverged. "
                "Check the series for extreme values (for SGDForecaster, also try a lower lr)."
            )
        if as_array and levels is None:
            return forecasts[0, :steps]
        out = pd.DataFrame(
            {
                ID: np.repeat(last.index.to_numpy(), steps),
                TIME: np.concatenate([futures[t][:steps] for t in last]),
                "y_hat": forecasts[:, :steps].reshape(-1),
            }
        )
        if levels is not None:
            lo, hi = self._bands(frame, forecasts, levels, method)
            for k, (lo_col, hi_col) in enumerate(zip(*[iter(band_columns(levels))] * 2, strict=True)):
                out[lo_col], out[hi_col] = lo[k, :, :steps].reshape(-1), hi[k, :, :steps].reshape(-1)
        return to_kind(out, kind)

    def _check_settings_unchanged(self) -> None:
        """Refuse to predict after a parameter changed since fit: the fitted state no longer matches it."""
        fitted = getattr(self, "_fitted_settings", None)  # NOTE: absent from a model saved or restored without it
        if fitted is None:
            return
        changed = [name for name, digest in _settings_digest(self).items() if fitted.get(name) != digest]
        if changed:
            raise DataError(
                f"The parameter(s) {', '.join(map(repr, changed))} of {type(self).__name__} changed after it was "
                "fitted (set_params or assignment), so its fitted state no longer matches them and its forecasts "
                "would not be those of these parameters. Fit it again before predicting."
            )

    def _steps(self, h: Any) -> int:
        """The number of steps ``predict(h=...)`` returns: ``h`` checked against ``horizon``."""
        if h is None:
            return int(self.horizon)
        if isinstance(h, bool) or not isinstance(h, Integral) or not 1 <= int(h) <= self.horizon:
            raise DataError(
                f"{spell_value('h', h)} must be a whole number of steps from 1 to the horizon the model was "
                f"fitted for ({spell_value('horizon', self.horizon)}). Refit with a longer horizon to forecast "
                "further."
            )
        return int(h)

    def _bands(
        self, frame: pd.DataFrame, forecasts: np.ndarray, levels: tuple[float, ...], method: str
    ) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper bands ``(n_levels, n_series, horizon)``, nested around ``forecasts``."""
        if method == "native":
            lo, hi = (np.asarray(b, dtype="float64") for b in self._native_intervals(frame, levels))
            # NOTE: a native interval need not contain the point forecast or nest exactly (simulated quantiles);
            # widening to the nearest nested band keeps the contract lo_95 <= lo_80 <= y_hat <= hi_80 <= hi_95.
            lo = np.minimum.accumulate(np.minimum(lo, forecasts), axis=0)
            hi = np.maximum.accumulate(np.maximum(hi, forecasts), axis=0)
        else:
            if getattr(self, "conformal_", None) is None:
                self.conformal_ = calibrate(
                    self._calibration_template(),
                    self._train_frame,
                    self.freq_,
                    covariates=self.covariates_,
                    last_seen=self.last_seen_,
                )
            lo, hi = conformal_bands(self.conformal_, frame, forecasts, levels)
        if not (np.isfinite(lo).all() and np.isfinite(hi).all()):
            raise DataError(
                f"{type(self).__name__} produced a non-finite prediction interval ({method}). "
                f"Try {spell_value('interval_method', 'conformal')}, or check the series for extreme values."
            )
        return lo, hi

    def _season(self) -> int:
        """The seasonal period in use: the parameter, or the one inferred at fit."""
        season = self.season if self.season is not None else getattr(self, "season_", None)
        if season is None:
            raise DataError(
                f"{type(self).__name__}(season=None) takes its season from the data at fit; fit it first, or "
                f"pass {spell('season')} explicitly."
            )
        return int(season)

    def _calibration_template(self) -> Forecaster:
        """An unfitted copy for the calibration fits, with a season inferred at fit written in.

        So the calibration fits use the season the fitted model uses, even where the season is
        inferred from the values (integer timestamps) and a shorter history might suggest another.
        """
        fitted = getattr(self, "season_", None)
        return with_season(self, fitted) if fitted else clone(self)

    def _native_intervals(self, frame: pd.DataFrame, levels: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
        """The model's own bands ``(n_levels, n_series, horizon)``; models without them refuse."""
        raise DataError(
            f"{type(self).__name__} has no native prediction intervals (ETS, ARIMA and Theta have). "
            f"Use {spell_value('interval_method', 'conformal')}, the default."
        )

    def _validate_params(self) -> None:
        """Check the constructor parameters before any data is prepared; a subclass may add checks."""
        validate_params(type(self).__name__, self.get_params(deep=False), self._parameter_constraints)

    def _fit(self, frame: pd.DataFrame) -> None:
        raise NotImplementedError

    def _predict(self, frame: pd.DataFrame) -> np.ndarray:
        raise NotImplementedError

    # ------------------------------------------------------------------------- the one engine ---- #

    def fit_forecast(
        self, data: Histories, fits: Sequence[Fit], *, native: tuple[float, ...] | None = None
    ) -> list[FitResult]:
        """For each fit: fit a fresh copy of this (unfitted) model on its rows, then forecast its requests.

        This default is the model's own ``fit`` and ``predict``: for each :class:`~.batch.Fit`, a
        :func:`sklearn.base.clone` is fitted on the fit's rows (with ``data.covariates``), its
        ``last_seen_`` is checked against the fit's cutoff, and each requested history is
        forecast with ``predict(history, future=...)`` (histories ending at the same timestamp
        in one call; ``predict()`` without a history when the histories are exactly the fitted
        rows). Subclasses may override it with a faster computation of the same forecasts (see
        the module docstring). An override is trusted with ``data``: with ``refit`` above 1 it holds
        the rows up to the last fold of a refit block, and the fit-scope check on ``last_seen_``
        covers only fits made through ``fit``; the leakage audit checks an override's forecasts
        like any other.

        Parameters
        ----------
        data : Histories
            The rows the fits and forecasts may read.
        fits : sequence of Fit
            What to fit and forecast.
        native : tuple of float, optional
            Also return the model's own interval bands at these levels
            (``predict(level=native, interval_method="native")``).

        Returns
        -------
        list of FitResult
            One per fit, in order.

        Raises
        ------
        LeakageError
            If a fitted copy records a ``last_seen_`` after its fit's cutoff.
        DataError
            If ``predict`` does not return the next ``horizon`` timestamps of every series it was given.
        """
        results = []
        for fit in fits:
            model = clone(self)
            train = data.rows(fit.first, fit.end)
            model.fit(train) if data.covariates is None else model.fit(train, covariates=data.covariates)
            check_provenance(model, fit.cutoff)
            results.append(_forecast_requests(model, data, fit, native))
        return results


def with_season(model: Forecaster, season: int) -> Forecaster:
    """An unfitted copy of ``model``, its ``season`` set to ``season`` where it was left ``None``."""
    copy: Forecaster = clone(model)
    params = copy.get_params(deep=False)
    if "season" in params and params["season"] is None:
        copy.set_params(season=season)
    return copy


def _settings_digest(model: Forecaster) -> dict[str, str]:
    """A digest of each constructor parameter's value (an estimator's with its own parameters)."""
    return {name: _digest(value) for name, value in model.get_params(deep=False).items()}


def _digest(value: Any) -> str:
    """``joblib.hash`` of ``value``; for one that cannot be pickled (a lambda inside), an estimator's digest is that of
    its nested parameters, each digested so, and anything else's its ``repr``."""
    try:
        return str(joblib.hash(value))
    except Exception:  # NOTE: pickling failed: read what can be read
        if hasattr(value, "get_params") and not isinstance(value, type):
            params = value.get_params(deep=True)
            return str(joblib.hash([(key, _digest(params[key])) for key in sorted(params)]))
        return repr(value)


def check_provenance(model: Forecaster, cutoff: Any) -> None:
    """Refuse a fitted model whose ``last_seen_`` lies after ``cutoff`` (fit-scope provenance)."""
    seen = getattr(model, "last_seen_", None)
    if seen is None:
        raise DataError(
            f"{type(model).__name__}.fit did not record last_seen_, the last timestamp it read: call "
            "Forecaster.fit (super().fit(...)) or set last_seen_ in your fit."
        )
    if seen > cutoff:
        raise LeakageError(
            f"{type(model).__name__} was fitted on data up to {seen}, after the cutoff {cutoff} of its fit: "
            "it read rows it was not given. Fit only on the frame passed to fit()."
        )


def _forecast_requests(model: Forecaster, data: Histories, fit: Fit, native: tuple[float, ...] | None) -> FitResult:
    """A fitted model's forecasts of a fit's requests: one ``predict`` per distinct end timestamp."""
    horizon = int(model.horizon)
    forecasts = np.full((fit.n_requests, horizon), np.nan)
    bands = None if native is None else np.full((2, len(native), fit.n_requests, horizon), np.nan)
    ends = data.times[fit.request_end - 1]
    owners = data.frame[ID].to_numpy()[fit.request_end - 1]
    given: dict[str, Any] = {} if native is None else {"level": native, "interval_method": "native"}
    fitted = set(zip(fit.first.tolist(), fit.end.tolist(), strict=True))
    # NOTE: one predict() per end timestamp, and per repeat of a series among those (histories with other starts)
    when = pd.factorize(ends)[0]
    repeat = pd.Series(owners).groupby([when, owners], sort=False).cumcount().to_numpy()
    for end, again in dict.fromkeys(zip(when.tolist(), repeat.tolist(), strict=True)):
        chosen = np.flatnonzero((when == end) & (repeat == again))
        history = data.rows(fit.request_first[chosen], fit.request_end[chosen])
        future = data.future(fit.request_end[chosen], horizon)
        asked = set(zip(fit.request_first[chosen].tolist(), fit.request_end[chosen].tolist(), strict=True))
        # NOTE: forecasting after exactly the fitted rows is the model's own ``fit(train).predict()``
        predicted = model.predict(None if asked == fitted else history, future, **given)
        rows = _check_predicted(model, predicted, history, horizon)
        order = np.argsort(owners[chosen], kind="stable")  # predict returns the series in sorted order
        forecasts[chosen[order]] = rows["y_hat"].to_numpy(dtype="float64").reshape(-1, horizon)
        if bands is not None and native is not None:
            for side, prefix in enumerate(("y_lo", "y_hi")):
                for k, level in enumerate(native):
                    column = rows[f"{prefix}_{level:g}"].to_numpy(dtype="float64")
                    bands[side, k, chosen[order]] = column.reshape(-1, horizon)
    training = getattr(model, "history_", None)
    return FitResult(
        forecasts,
        training if isinstance(training, pd.DataFrame) else None,
        None if bands is None else bands[0],
        None if bands is None else bands[1],
    )


def _check_predicted(model: Forecaster, predicted: Any, history: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """``predicted`` if it holds the next ``horizon`` timestamps of every series of ``history``, in order."""
    last = history.groupby(ID, sort=True)[TIME].max()
    expected = np.repeat(last.index.to_numpy(), horizon)
    ok = (
        isinstance(predicted, pd.DataFrame)
        and {ID, TIME, "y_hat"} <= set(predicted.columns)
        and len(predicted) == len(expected)
        and bool((predicted[ID].astype(str).to_numpy() == expected.astype(str)).all())
        and bool((predicted[TIME].to_numpy() > np.repeat(last.to_numpy(), horizon)).all())
    )
    if not ok:
        raise DataError(
            f"{type(model).__name__}.predict must return a frame unique_id, ds, y_hat with the next "
            f"{spell('horizon').rstrip('=')}={horizon} timestamps of every series it was given, in sorted order; "
            f"given {len(last)} series, it returned "
            f"{len(predicted) if isinstance(predicted, pd.DataFrame) else type(predicted).__name__} rows."
        )
    return predicted


class LocalForecaster(Forecaster):
    """A forecaster estimated separately on each history (naive, seasonal naive, ARIMA, Theta, ...).

    Subclasses implement ``_forecast(y)``: the next ``horizon`` values after the 1-D history ``y``.
    Fitting stores nothing learned across series; ``predict(y_new)`` re-estimates each series on
    its new history. A subclass may also override ``_forecast_panel(values, starts, lengths)``
    with one vectorised computation over many histories (the closed-form baselines do); it is
    then the model's one computation, used by ``predict`` and by backtests alike.

    """

    per_series: ClassVar[bool] = True
    _SLOWER_HOOKS: ClassVar[dict[str, tuple[str, ...]]] = {"_forecast_panel": ("_forecast",)}

    def _fit(self, frame: pd.DataFrame) -> None:
        self._check_lengths(frame)

    def _predict(self, frame: pd.DataFrame) -> np.ndarray:
        self._check_lengths(frame)
        codes, _ = pd.factorize(frame[ID], sort=True)
        order = np.argsort(codes, kind="stable")  # series by series, in sorted order, each in time order
        lengths = np.bincount(codes)
        starts = np.cumsum(lengths) - lengths
        return self._forecast_panel(frame[TARGET].to_numpy(dtype="float64")[order], starts, lengths)

    def _forecast_panel(self, values: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """Forecasts ``(n_series, horizon)`` of the histories ``values[start : start + length]``, one per series.

        This default calls ``_forecast`` on each history. An override must return exactly what that
        gives (the closed-form baselines compute it for all series at once).
        """
        return np.stack(
            [self._forecast(values[start : start + n].copy()) for start, n in zip(starts, lengths, strict=True)]
        )

    def fit_forecast(
        self, data: Histories, fits: Sequence[Fit], *, native: tuple[float, ...] | None = None
    ) -> list[FitResult]:
        """Every requested history of every fit forecast in one :meth:`_forecast_panel` call.

        A local model is estimated on each history it forecasts, so fitting copies first changes
        nothing: this computes exactly what :meth:`Forecaster.fit_forecast` computes (a property
        test checks it). With ``native`` bands, that default runs.
        """
        if native is not None:
            return Forecaster.fit_forecast(self, data, fits, native=native)
        self._validate_params()
        first = np.concatenate([fit.request_first for fit in fits]) if fits else np.zeros(0, dtype=np.int64)
        end = np.concatenate([fit.request_end for fit in fits]) if fits else np.zeros(0, dtype=np.int64)
        self._check_sizes(pd.Series(end - first, index=data.frame[ID].to_numpy()[end - 1]))
        forecasts = (
            np.asarray(self._forecast_panel(data.values, first, end - first), dtype="float64")
            if len(end)
            else np.zeros((0, int(self.horizon)))
        )
        if not np.isfinite(forecasts).all():
            raise DataError(
                f"{type(self).__name__} produced a non-finite forecast (NaN or inf). "
                "Check the series for extreme values."
            )
        bounds = np.cumsum([0, *(fit.n_requests for fit in fits)])
        return [FitResult(forecasts[a:b]) for a, b in itertools.pairwise(bounds)]

    def _check_lengths(self, frame: pd.DataFrame) -> None:
        self._check_sizes(frame.groupby(ID, sort=True).size())

    def _check_sizes(self, sizes: pd.Series) -> None:
        """Refuse a series (``sizes``: observations by series name) shorter than :meth:`min_length`."""
        short = sizes[sizes < self.min_length()]
        if len(short):
            raise DataError(
                f"Series {short.index[0]!r} has {short.iloc[0]} observations; {type(self).__name__} needs at least "
                f"{self.min_length()}. Provide a longer history or choose a simpler model."
            )

    def _forecast(self, y: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _native_intervals(self, frame: pd.DataFrame, levels: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
        self._check_lengths(frame)
        if type(self)._forecast_interval is LocalForecaster._forecast_interval:
            return super()._native_intervals(frame, levels)
        bands = [
            self._forecast_interval(part.to_numpy(dtype="float64"), levels)
            for _, part in frame.groupby(ID, sort=True)[TARGET]
        ]
        return np.stack([lo for lo, _ in bands], axis=1), np.stack([hi for _, hi in bands], axis=1)

    def _forecast_interval(self, y: np.ndarray, levels: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
        """Native bands ``(n_levels, horizon)`` after the history ``y``; overridden by models that have them."""
        raise NotImplementedError


def has_native_intervals(model: Forecaster) -> bool:
    """Whether ``model`` has prediction intervals of its own (``interval_method="native"``).

    Examples
    --------
    >>> from tsforecast.models import ETS, Mean
    >>> has_native_intervals(ETS(horizon=2)), has_native_intervals(Mean(horizon=2))
    (True, False)
    """
    kind = type(model)
    if isinstance(model, LocalForecaster) and kind._native_intervals is LocalForecaster._native_intervals:
        return kind._forecast_interval is not LocalForecaster._forecast_interval
    return kind._native_intervals is not Forecaster._native_intervals
