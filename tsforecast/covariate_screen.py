"""The covariate leak screen: declared columns that track the target where they should not.

A covariate declared ``known_future`` is read over the whole horizon, and one declared
``past_only`` up to the cutoff, so a column that *is* the target -- a copy, a lead, a smoothing
that reads later values -- hands a model the values it forecasts. :func:`screen_covariates` looks
for such columns before any model is fitted and refuses (:class:`~tsforecast.errors.LeakageError`)
or flags (:class:`~tsforecast.errors.LeakageWarning`) each one with the evidence.

What it reads
-------------
The correlation checks read, per series, only the rows up to the first fold's cutoff (the rows
every fold trains on), so the screen never looks at test-period data for them. The static check
compares a column with statistics of ``y`` over each whole series, rows after the first cutoff
included: it reads them only to decide whether to refuse.

The evidence
------------
Per series, the one-step differences of ``y`` are prewhitened by an autoregression of order
``season + 1`` fitted to them (:class:`statsmodels.tsa.ar_model.AutoReg`), leaving ``y``'s
innovations ``e_t``, and the same filter is applied to the column's differences, giving ``g_t``
(the Box-Jenkins prewhitening of a cross-correlation): differencing keeps two trending series
from looking alike, prewhitening two seasonal ones. Each series' values are standardised and
pooled. ``g_t`` is then regressed on ``e_{t+j}`` for ``j = -H .. H`` (``H`` the horizon plus gap):

- ``full``: the share of ``g``'s variance explained by ``y`` at ``t-H .. t+H``;
- ``past``: the share explained by ``y`` at ``t-H .. t`` only (what a column observed with the
  target may legitimately know); ``gain = full - past`` is what later values of ``y`` add;
- ``recent`` (known-future columns): the share explained by ``y`` at ``t-H+1 .. t``, values a
  known-future column cannot hold, since over the horizon they lie after the cutoff.

A column is **refused** when it is (nearly) a function of ``y`` reading later values (``full >=
0.98`` and ``gain >= 0.05``), or, declared known-future, of ``y`` at ``t-H+1 .. t`` (``recent >=
0.98``); and **flagged** with a warning when later values of ``y`` explain much of it without
settling it (``gain >= 0.2`` with a lead correlation of at least 0.5). A genuine leading indicator
(a past-only column that drives ``y`` a step later) is flagged by design: nothing in the data
tells it from a noisy copy of the future, and a warning leaves the choice to the user. Static
columns are refused when they equal, in every series, ``y``'s mean, sum or last value over the
whole series, and in some series differ from the same statistic over the rows before the cutoff.

A series with fewer than ``3 * (season + 1) + 11`` rows before the first cutoff is left out of the
correlation checks, and a column with fewer than ``2H + 21`` pooled rows is not screened by them.
``Covariates(screen="warn")`` turns refusals into warnings, ``screen="off"`` skips the screen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import signal
from statsmodels.regression.linear_model import OLS
from statsmodels.tsa.ar_model import AutoReg

from .columns import TARGET
from .covariates import Covariates
from .errors import LeakageError, LeakageWarning, spelling
from .timestamps import warn_user

__all__ = ["REFUSE_EXPLAINED", "REFUSE_GAIN", "WARN_GAIN", "WARN_LEAD", "Evidence", "screen_covariates"]

REFUSE_EXPLAINED = 0.98
"""The share of a column's prewhitened differences that ``y`` must explain for a refusal."""
REFUSE_GAIN = 0.05
"""The share that ``y`` after ``t`` must add, beyond ``y`` up to ``t``, for a refusal."""
WARN_GAIN = 0.2
"""The share that ``y`` after ``t`` must add for a warning."""
WARN_LEAD = 0.5
"""The absolute correlation with ``y`` at some lead that a warning also needs."""

_MIN_ROWS = 20
"""Pooled rows the regressions need beyond their number of regressors; with fewer the column is not screened."""
_STATISTICS = ("mean", "sum", "last")


@dataclass(frozen=True)
class Evidence:
    """What the screen found for one time-varying column (shares of variance, correlations of prewhitened differences).

    Attributes
    ----------
    column, kind : str
        The column and its declaration (``known_future`` or ``past_only``).
    horizon : int
        ``H``: the regressions read ``y`` at ``t-H .. t+H``.
    corr : ndarray
        Correlations with ``y`` at ``t+j`` for ``j = -H .. H``.
    full, past, recent : float
        Explained shares: by ``y`` at ``t-H .. t+H``, at ``t-H .. t``, and at ``t-H+1 .. t``.
    rows : int
        Pooled rows the statistics rest on.
    """

    column: str
    kind: str
    horizon: int
    corr: np.ndarray
    full: float
    past: float
    recent: float
    rows: int

    @property
    def gain(self) -> float:
        """The share that ``y`` after ``t`` adds to ``y`` up to ``t``."""
        return self.full - self.past

    def at(self, shift: int) -> float:
        """The correlation with ``y`` at ``t + shift``."""
        return float(self.corr[shift + self.horizon])

    def best(self, shifts: range) -> int:
        """The shift of ``shifts`` with the largest absolute correlation."""
        return max(shifts, key=lambda j: abs(self.at(j)))

    def finding(self) -> tuple[str, str] | None:
        """``("refuse" | "warn", one line naming the column, the evidence and the remedy)``, or None when it passes."""
        h, head = self.horizon, f"{self.kind} column {self.column!r}"
        lead = self.best(range(1, h + 1))
        if self.full >= REFUSE_EXPLAINED and self.gain >= REFUSE_GAIN:
            verdict, holds = "refuse", "holds"
        elif self.kind == "known_future" and self.recent >= REFUSE_EXPLAINED:
            lag = -self.best(range(-h + 1, 1))
            if self.at(-lag) ** 2 >= 0.9 * self.recent:
                what = "is a copy of y" if lag == 0 else f"holds y {lag} step{'s' * (lag > 1)} earlier"
                what += f" (corr of prewhitened differences {self.at(-lag):.3f} at lag {lag})"
            else:
                what = (
                    f"is a function of y at t-{h - 1}..t (it explains {self.recent:.1%} of its prewhitened differences)"
                )
            return "refuse", (
                f"{head} {what}: over the {h}-step horizon it holds values of y after the cutoff; {_REMEDY[self.kind]}"
            )
        elif self.gain >= WARN_GAIN and abs(self.at(lead)) >= WARN_LEAD:
            verdict, holds = "warn", "may hold"
        else:
            return None
        if self.at(lead) ** 2 >= 0.9 * self.full:
            steps = "one step" if lead == 1 else f"{lead} steps"
            what = (
                f"tracks y {steps} ahead (corr of prewhitened differences {self.at(lead):.3f} at lead {lead}, "
                f"{self.at(0):.2f} at lag 0)"
            )
        else:
            what = (
                f"is a function of y that reads values after t (y at t-{h}..t+{h} explains {self.full:.1%} of its "
                f"prewhitened differences, y at t-{h}..t only {self.past:.1%}; best lead {lead}: "
                f"corr {self.at(lead):.3f})"
            )
        return verdict, f"{head} {what}: it {holds} future values of y; {_REMEDY[self.kind]}"


_REMEDY = {
    "known_future": "declare it past_only or drop it",
    "past_only": "drop it, or shift it so that row t holds only what is known at t",
    "static": "drop it, or compute it from the training rows only",
}


def _escape() -> str:
    """How the user turns a refusal into a warning, in the interface they use."""
    flag = spelling("screen")
    return f"{flag} warn" if flag else "tsf.Covariates(..., screen='warn')"


def _prewhitened(y: np.ndarray, xs: np.ndarray, order: int) -> tuple[np.ndarray, np.ndarray] | None:
    """``y``'s innovations and the columns' differences through the same filter, or None when too short or flat."""
    dy, dx = np.diff(y), np.diff(xs, axis=0)
    if len(dy) < 3 * order + 10 or np.ptp(dy) == 0:
        return None
    fitted = AutoReg(dy, lags=order, trend="c").fit()
    taps = np.r_[1.0, -np.asarray(fitted.params)[1:]]
    return signal.lfilter(taps, [1.0], dy)[order:], signal.lfilter(taps, [1.0], dx, axis=0)[order:]


def _standardised(values: np.ndarray) -> np.ndarray:
    """Each column centred and scaled to unit variance (a flat column stays zero)."""
    centred = values - values.mean(axis=0)
    spread = centred.std(axis=0)
    return np.divide(centred, spread, out=np.zeros_like(centred), where=spread > 0)


def _explained(target: np.ndarray, regressors: np.ndarray) -> float:
    """The share of ``target``'s variance a least-squares fit on ``regressors`` explains (both centred)."""
    return float(OLS(target, regressors).fit().rsquared)


def _correlation_evidence(
    frame: pd.DataFrame, bounds: Sequence[tuple[int, int]], covariates: Covariates, horizon: int, season: int
) -> list[Evidence]:
    """The evidence for every known-future and past-only column, pooled over the series."""
    columns = [*covariates.known_future, *covariates.past_only]
    if not columns:
        return []
    h, order = horizon, season + 1
    y_all = frame[TARGET].to_numpy(dtype="float64")
    x_all = frame[columns].to_numpy(dtype="float64")
    targets: list[np.ndarray] = []
    lagged: list[np.ndarray] = []
    for start, end in bounds:
        whitened = _prewhitened(y_all[start:end], x_all[start:end], order)
        if whitened is None or len(whitened[0]) <= 2 * h:
            continue
        e, g = whitened
        rows = len(e) - 2 * h
        shifted = np.stack([e[h + j : h + j + rows] for j in range(-h, h + 1)], axis=1)
        targets.append(_standardised(g[h : h + rows]))
        lagged.append(_standardised(shifted))
    found: list[Evidence] = []
    if not targets:
        return found
    pooled_x, pooled_e = np.concatenate(targets), np.concatenate(lagged)
    if len(pooled_e) < 2 * h + 1 + _MIN_ROWS:
        return found
    past = slice(0, h + 1)
    for c, column in enumerate(columns):
        g = pooled_x[:, c]
        if not g.any():
            continue
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = np.array([np.corrcoef(g, pooled_e[:, k])[0, 1] for k in range(2 * h + 1)])
        kind = "known_future" if column in covariates.known_future else "past_only"
        found.append(
            Evidence(
                column,
                kind,
                h,
                np.nan_to_num(corr),
                _explained(g, pooled_e),
                _explained(g, pooled_e[:, past]),
                _explained(g, pooled_e[:, 1 : h + 1]),
                len(g),
            )
        )
    return found


def _static_findings(frame: pd.DataFrame, offsets: np.ndarray, ends: np.ndarray, covariates: Covariates) -> list[str]:
    """One message per static column equal to a whole-series statistic of ``y`` that the training rows do not give."""
    messages = []
    y = frame[TARGET].to_numpy(dtype="float64")
    series = range(len(offsets) - 1)
    for column in covariates.static:
        x = frame[column].to_numpy(dtype="float64")
        values = np.array([x[offsets[s]] for s in series if offsets[s + 1] > offsets[s]])
        for name in _STATISTICS:
            whole = np.array([_statistic(name, y[offsets[s] : offsets[s + 1]]) for s in series])
            before = np.array([_statistic(name, y[offsets[s] : max(ends[s], offsets[s])]) for s in series])
            if (
                np.isclose(values, whole, rtol=1e-6, atol=0).all()
                and not np.isclose(values, before, rtol=1e-6, atol=0).all()
            ):
                messages.append(
                    f"static column {column!r} equals each series' {name} of y over the whole series, rows after the "
                    f"first cutoff included (e.g. {values[0]:.6g}; over the rows before it {before[0]:.6g}): it holds "
                    f"future values of y; {_REMEDY['static']}"
                )
                break
    return messages


def _statistic(name: str, values: np.ndarray) -> float:
    """``values``' mean, sum or last value (NaN for none)."""
    if not len(values):
        return float("nan")
    if name == "last":
        return float(values[-1])
    return float(values.mean() if name == "mean" else values.sum())


def screen_covariates(
    frame: pd.DataFrame,
    offsets: np.ndarray,
    ends: np.ndarray,
    covariates: Covariates | None,
    *,
    horizon: int,
    season: int,
) -> list[Evidence]:
    """Refuse or flag declared covariates that track the target where they should not (see the module docstring).

    Parameters
    ----------
    frame : DataFrame
        The validated frame, sorted by series and time, with the declared columns.
    offsets : ndarray of int
        Row offsets of the series, the row count last.
    ends : ndarray of int
        Per series, the end (exclusive) of its rows up to the first fold's cutoff.
    covariates : Covariates or None
        The declaration; its ``screen`` says whether to refuse, only warn, or skip.
    horizon : int
        The most steps from a cutoff to a forecast (horizon plus gap).
    season : int
        The data's season: the prewhitening autoregression has order ``season + 1``.

    Returns
    -------
    list of Evidence
        The evidence for every known-future and past-only column screened.

    Raises
    ------
    LeakageError
        For the first column the screen refuses, in one line naming it and the evidence (with
        ``screen="refuse"``, the default).

    Warns
    -----
    LeakageWarning
        For each column flagged (and each refused one with ``screen="warn"``), in one line.
    """
    if covariates is None or covariates.screen == "off":
        return []
    bounds = [(int(offsets[s]), int(max(ends[s], offsets[s]))) for s in range(len(offsets) - 1)]
    evidence = _correlation_evidence(frame, bounds, covariates, horizon, season)
    findings = [found for found in map(Evidence.finding, evidence) if found is not None]
    findings += [("refuse", message) for message in _static_findings(frame, offsets, ends, covariates)]
    refused = [message for verdict, message in findings if verdict == "refuse"]
    if refused and covariates.screen == "refuse":
        raise LeakageError(f"Covariate screen: {refused[0]} (or, if it is truly available, {_escape()}).")
    for _, message in findings:
        warn_user(f"Covariate screen: {message}.", LeakageWarning)
    return evidence
