"""What a model is asked in a backtest: fit on some histories, then forecast from many origins.

Every forecast :mod:`tsforecast` computes -- a fold's forecasts in a backtest, the calibration
forecasts behind a prediction interval, a rerun of the leakage audit -- is one request of
:meth:`~tsforecast.models.Forecaster.fit_forecast`: *fit a fresh copy of the model on these rows
of these series, then forecast the next* ``horizon`` *values after each of these histories*.
This module holds the three plain records of that request:

- :class:`Histories`: the rows a request may read, series after series, each in time order
  (never a row after the latest origin any of its forecasts is made from);
- :class:`Fit`: one fit (which rows of which series) and the forecasts asked of it, each a
  history ``first … end - 1`` of one series;
- :class:`FitResult`: the forecasts, ``(n_requests, horizon)``, and the model's training log.

They carry positions into :attr:`Histories.frame` only, so a request is cheap to build, to ship
to a worker process and to store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..columns import ID, TARGET, TIME

if TYPE_CHECKING:
    from ..covariates import Covariates

__all__ = ["Fit", "FitResult", "Histories", "histories_of"]


@dataclass(frozen=True)
class Histories:
    """Rows a batch of forecasts may read: series after series, each in time order.

    Attributes
    ----------
    frame : DataFrame
        ``unique_id, ds, y`` and the declared covariate columns, sorted by series and time; series
        ``i`` holds rows ``offsets[i] … offsets[i+1] - 1``.
    offsets : ndarray of int
        Row offsets of the series, the row count last: shape ``(n_series + 1,)``.
    freq : str or int
        The frequency of the data.
    covariates : Covariates or None
        The declared covariates, passed to ``fit`` when there are any.
    known_future : DataFrame or None
        ``unique_id, ds`` and the known-future columns for the timestamps just *after* each
        series' last row in ``frame`` (at most a horizon of them, in time order): what a forecast
        from a series' last rows may read of its horizon. ``None`` when nothing lies past the rows.
    """

    frame: pd.DataFrame = field(repr=False)
    offsets: np.ndarray = field(repr=False)
    freq: str | int
    covariates: Covariates | None = None
    known_future: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def ids(self) -> np.ndarray:
        """The name of each series."""
        return self.frame[ID].to_numpy()[self.offsets[:-1]]

    @property
    def values(self) -> np.ndarray:
        """The target of every row, as float64."""
        return self.frame[TARGET].to_numpy(dtype="float64")

    @property
    def times(self) -> np.ndarray:
        """The timestamp of every row."""
        return self.frame[TIME].to_numpy()

    def rows(self, first: np.ndarray, end: np.ndarray) -> pd.DataFrame:
        """The long frame of the histories ``frame[first[k] : end[k]]``, one per ``k``, in that order."""
        lengths = np.asarray(end) - np.asarray(first)
        take = np.repeat(np.asarray(first) - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())
        return self.frame.take(take).reset_index(drop=True)

    def future(self, end: np.ndarray, horizon: int) -> pd.DataFrame | None:
        """The known-future columns over the ``horizon`` rows after each history ending (exclusively) at ``end``.

        ``None`` without known-future columns. Rows still inside ``frame`` come from it (columns
        ``unique_id, ds`` and the known-future ones only: never ``y`` or a past-only column); the
        rest from :attr:`known_future`.
        """
        if self.covariates is None or not self.covariates.known_future:
            return None
        columns = [ID, TIME, *self.covariates.known_future]
        end = np.asarray(end)
        series = np.searchsorted(self.offsets, end - 1, side="right") - 1
        stop = np.minimum(end + horizon, self.offsets[series + 1])
        inside = self.rows(end, stop)[columns]
        if self.known_future is None:
            return inside
        rest = horizon - (stop - end)  # the steps past the series' last readable row
        ahead = self.known_future[columns]
        heads = ahead.groupby(ID, sort=False).indices
        take = [heads[uid][:n] for uid, n in zip(self.ids[series], rest, strict=True) if n > 0 and uid in heads]
        beyond = ahead.take(np.concatenate(take)) if take else ahead.iloc[:0]
        return pd.concat([inside, beyond], ignore_index=True)


@dataclass(frozen=True)
class Fit:
    """One fit and the forecasts asked of it.

    A fresh copy of the model is fitted on rows ``first[k] … end[k] - 1`` of each fitted series
    ``k`` (rows of :attr:`Histories.frame`), whose last timestamp is at most ``cutoff``; then it
    forecasts the ``horizon`` values after each requested history ``request_first[j] …
    request_end[j] - 1``.
    """

    first: np.ndarray = field(repr=False)
    end: np.ndarray = field(repr=False)
    cutoff: Any
    request_first: np.ndarray = field(repr=False)
    request_end: np.ndarray = field(repr=False)

    @property
    def n_requests(self) -> int:
        """How many forecasts are asked."""
        return len(self.request_end)


@dataclass(frozen=True)
class FitResult:
    """What one :class:`Fit` gave.

    Attributes
    ----------
    forecasts : ndarray of shape (n_requests, horizon)
        Row ``j`` forecasts the ``horizon`` values after requested history ``j``.
    training : DataFrame or None
        The fitted model's ``history_`` (per-epoch training log), for models that keep one.
    lower, upper : ndarray of shape (n_levels, n_requests, horizon) or None
        The model's own (native) prediction-interval bands, when they were asked for.
    """

    forecasts: np.ndarray
    training: pd.DataFrame | None = None
    lower: np.ndarray | None = None
    upper: np.ndarray | None = None


def histories_of(frame: pd.DataFrame, freq: str | int, covariates: Covariates | None = None) -> Histories:
    """The :class:`Histories` of a validated (sorted) long frame: all of its rows may be read."""
    ids = frame[ID].to_numpy()
    heads = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]]) if len(ids) else np.zeros(0, dtype=np.int64)
    return Histories(frame, np.r_[heads, len(ids)].astype(np.int64), freq, covariates)
