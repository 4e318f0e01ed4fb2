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

:class:`LocalForecaster` specialises this for models fitted series by series (the baselines).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from .._validation import validate_params
from ..covariates import Covariates, prepare_frame, prepare_future
from ..data import ID, TARGET, TIME, from_pandas, future_times, infer_freq, season_length
from ..errors import DataError, spell_value
from .intervals import (
    band_columns,
    calibrate,
    check_interval_method,
    check_levels,
    conformal_half_widths,
    series_scales,
)

__all__ = ["Forecaster", "LocalForecaster", "as_long_frame", "has_native_intervals"]


def as_long_frame(y: Any) -> tuple[pd.DataFrame, bool]:
    """Convert model input to a validated long frame; the flag says whether it was a plain array."""
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
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {}
    uses_covariates: ClassVar[bool] = False
    """Whether the model reads covariates (then ``_predict`` takes the future inputs too)."""
    horizon: int

    def min_length(self) -> int:
        """The fewest observations a series needs to be forecast by this model."""
        return 1

    def fit(self, y: Any, covariates: Covariates | None = None) -> Forecaster:
        """Fit the model on the history ``y`` and return ``self``.

        Parameters
        ----------
        y : array-like, Series or DataFrame
            The history (see the module docstring).
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
        frame, self._array_input = as_long_frame(y)
        frame = prepare_frame(frame, covariates, f"{type(self).__name__}.fit")
        self.covariates_ = covariates if covariates is not None and not covariates.empty else None
        self.freq_ = infer_freq(frame)
        self.last_seen_ = frame[TIME].max()
        self.__dict__.pop("conformal_", None)  # a refit drops the interval calibration of the previous fit
        self._fit(frame)
        self._train_frame = frame
        return self

    def predict(
        self,
        y_new: Any = None,
        future: pd.DataFrame | None = None,
        *,
        level: Any = None,
        interval_method: str = "conformal",
    ) -> np.ndarray | pd.DataFrame:
        """Forecast the next ``horizon`` values after the fitted history, or after ``y_new``.

        Parameters
        ----------
        y_new : array-like, Series or DataFrame, optional
            A new history, with the covariate columns declared at fit.
        future : DataFrame, optional
            With known-future covariates: ``unique_id, ds`` and the known-future columns covering
            the ``horizon`` timestamps after each series' last one (calendar features need none).
            Never ``y`` or past-only columns.
        level : float or sequence of float, optional
            Coverage levels in percent, each strictly between 0 and 100 (e.g. ``(80, 95)``): adds
            the columns ``y_lo_L, y_hi_L`` per level ``L``, nested around ``y_hat``.
        interval_method : {"conformal", "native"}, default="conformal"
            ``"conformal"``: split-conformal bands from forecasts made at earlier origins inside the
            fitted data (:mod:`tsforecast.models.intervals`; computed on the first call and cached in
            ``conformal_``). ``"native"``: the model's own intervals (ETS, ARIMA, Theta).

        Returns
        -------
        ndarray of shape (horizon,) for array input without ``level``, else a DataFrame
        ``unique_id, ds, y_hat`` (and the interval columns).

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If the model has not been fitted.
        DataError
            If the future frame is needed but missing, or lacks values for some horizon step; for a
            ``level`` out of (0, 100) or repeated, an unknown ``interval_method``, a model without
            native intervals, or data too short to calibrate.
        DataTypeError
            If a ``level`` is not a number.
        LeakageError
            If the future frame holds ``y`` or a past-only column.
        """
        check_is_fitted(self)
        levels = None if level is None else check_levels(level)
        method = check_interval_method(interval_method)
        covariates = getattr(self, "covariates_", None)
        if y_new is None:
            frame, as_array = self._train_frame, self._array_input
        else:
            frame, as_array = as_long_frame(y_new)
            frame = prepare_frame(frame, covariates, f"{type(self).__name__}.predict")
        last = frame.groupby(ID, sort=True)[TIME].max()
        # NOTE: future timestamps are computed once per distinct last timestamp (in a panel usually one).
        futures = {t: future_times(t, self.freq_, self.horizon) for t in last.unique()}
        reads = self.uses_covariates and covariates is not None
        inputs = None
        if reads or future is not None:  # NOTE: a univariate model still validates a future frame it is given
            times = {str(uid): futures[t] for uid, t in last.items()}
            inputs = prepare_future(future, frame, covariates or Covariates(), times, type(self).__name__)
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
            return forecasts[0]
        out = pd.DataFrame(
            {
                ID: np.repeat(last.index.to_numpy(), self.horizon),
                TIME: np.concatenate([futures[t] for t in last]),
                "y_hat": forecasts.reshape(-1),
            }
        )
        if levels is not None:
            lo, hi = self._bands(frame, forecasts, levels, method)
            for k, (lo_col, hi_col) in enumerate(zip(*[iter(band_columns(levels))] * 2, strict=True)):
                out[lo_col], out[hi_col] = lo[k].reshape(-1), hi[k].reshape(-1)
        return out

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
            season = getattr(self, "season", None)
            season = season if isinstance(season, int) and not isinstance(season, bool) else season_length(self.freq_)
            if getattr(self, "conformal_", None) is None:
                self.conformal_ = calibrate(self, self._train_frame, season=season)
            series = pd.Index(sorted(frame[ID].unique()))
            q = conformal_half_widths(self.conformal_, levels, series, series_scales(frame, season), forecasts)
            lo, hi = forecasts - q, forecasts + q
        if not (np.isfinite(lo).all() and np.isfinite(hi).all()):
            raise DataError(
                f"{type(self).__name__} produced a non-finite prediction interval ({method}). "
                f"Try {spell_value('interval_method', 'conformal')}, or check the series for extreme values."
            )
        return lo, hi

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


class LocalForecaster(Forecaster):
    """A forecaster estimated separately on each series (naive, seasonal naive, ETS, ...).

    Subclasses implement ``_forecast(y)``: the next ``horizon`` values after the 1-D history ``y``.
    Fitting stores nothing learned across series; ``predict(y_new)`` re-estimates each series on
    its new history. A subclass may also override ``_forecast_panel(values, starts, lengths)``
    with one vectorised computation over many histories (the closed-form baselines do): a
    backtest then forecasts every series of a fold in one call.
    """

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
    >>> from tsforecast.models import ETS, Naive
    >>> has_native_intervals(ETS(horizon=2)), has_native_intervals(Naive(horizon=2))
    (True, False)
    """
    kind = type(model)
    if isinstance(model, LocalForecaster) and kind._native_intervals is LocalForecaster._native_intervals:
        return kind._forecast_interval is not LocalForecaster._forecast_interval
    return kind._native_intervals is not Forecaster._native_intervals
