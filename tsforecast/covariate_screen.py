"""The covariate leak screen: declared columns that track the target where they should not.

A covariate declared ``known_future`` is read over the whole horizon, and one declared
``past_only`` up to the cutoff, so a column that *is* the target -- a copy, a lead, a smoothing
that reads later values -- hands a model the values it forecasts. :func:`screen_covariates` looks
for such columns before any model is fitted and refuses (:class:`~tsforecast.errors.LeakageError`)
or flags (:class:`~tsforecast.errors.LeakageWarning`) each one with the evidence.

What it reads
-------------
The whole frame, every series' rows after the first cutoff included. No model is fitted before
the screen answers, so reading them leaks nothing into a forecast; it lets the screen see a column
that is honest up to the first cutoff and holds ``y`` after it (a back-fill). The leakage audit's
perturbed reruns do not screen: the screen ran on the clean data, and on perturbed data it would
take the audit's own changes for leaks.

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

The exact check
---------------
Pooled correlations dilute a copy of ``y`` in one series of a panel or in one part of a series,
and need rows the data may not have. So, per series and column, on all its rows, the rows up to
the first cutoff and the rows after it, a column is also **refused** when its values and its
one-step changes both correlate with ``y``'s at a forbidden shift by at least ``EXACT = 0.999``
in absolute value (so it is, nearly, an affine function of ``y`` there), the shifts being lags
``0 .. H-1`` and leads ``1 .. H`` for a known-future column and leads ``1 .. H`` for a past-only
one, each read where at least 8 rows align; the message names the series. A column checked in a
series shorter than ``H + 8`` rows is named in one warning: it was not (fully) screened there.
A known-future driver that determines ``y`` almost exactly at the same time looks the same as a
copy and is refused too (the message says so; ``screen="warn"`` is the way out).

Near-copies
-----------
A known-future column is **flagged** when in some series, at a lag ``0 .. H-1``, its one-step
changes correlate with ``y``'s by at least ``NEAR_CHANGES = 0.9``, more than at any lag from
``H`` to ``H + max(H, season + 1) - 1`` (``y`` lagged by a season is honest), and its values by at
least ``NEAR_VALUES = 0.95`` (also against ``log y``, and in logs, where they are positive): ``y``
plus noise, ``log y``. A static column is **flagged** when, in at least half the series where a
whole-series statistic of ``y`` (mean, sum, last, median, max, min, mean of the last ``H`` rows)
differs from the same statistic over the rows before the first cutoff by ``4 * NEAR_STATIC``
standard deviations of ``y``'s training rows or more, it lies within ``NEAR_STATIC = 0.02`` of
them of the whole-series one (a rounded mean, a median, a back-filled recent mean).

The correlation checks leave out a series with fewer than ``3 * (season + 1) + 11`` rows and
skip a column with fewer than ``2H + 21`` pooled rows; the exact check still reads them.
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

from .columns import ID, TARGET
from .covariates import Covariates
from .errors import LeakageError, LeakageWarning, spelling
from .timestamps import warn_user

__all__ = [
    "EXACT",
    "NEAR_CHANGES",
    "NEAR_STATIC",
    "NEAR_VALUES",
    "REFUSE_EXPLAINED",
    "REFUSE_GAIN",
    "WARN_GAIN",
    "WARN_LEAD",
    "Evidence",
    "screen_covariates",
]

REFUSE_EXPLAINED = 0.98
"""The share of a column's prewhitened differences that ``y`` must explain for a refusal."""
REFUSE_GAIN = 0.05
"""The share that ``y`` after ``t`` must add, beyond ``y`` up to ``t``, for a refusal."""
WARN_GAIN = 0.2
"""The share that ``y`` after ``t`` must add for a warning."""
WARN_LEAD = 0.5
"""The absolute correlation with ``y`` at some lead that a warning also needs."""

EXACT = 0.999
"""The absolute correlation, of values and of one-step differences, that makes a column (nearly) affine in ``y``."""
NEAR_CHANGES = 0.9
"""The absolute correlation of one-step changes with ``y``'s at a lag ``0 .. H-1`` that, with :data:`NEAR_VALUES`, flags
a known-future column."""
NEAR_VALUES = 0.95
"""The absolute correlation of values with ``y``'s at the same lag that a known-future column's flag also needs."""
NEAR_STATIC = 0.02
"""How close, in standard deviations of ``y``'s training rows, a static value must be to a whole-series statistic."""

_EXACT_ROWS = 8
"""The fewest aligned rows the exact check reads at a shift."""
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
                what = _related(0) if lag == 0 else f"holds y {lag} step{'s' * (lag > 1)} earlier"
                what += f" (corr of prewhitened differences {self.at(-lag):.3f} at lag {lag}"
                what += f"; {_DRIVER})" if lag == 0 else ")"
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


_DRIVER = "a driver that determines y almost exactly looks the same"


def _when(shift: int) -> str:
    """``t + shift`` in words: ``at the same time``, ``2 steps earlier``, ``1 step later``."""
    steps = f"{abs(shift)} step{'s' * (abs(shift) > 1)}"
    return "at the same time" if shift == 0 else f"{steps} {'later' if shift > 0 else 'earlier'}"


def _related(shift: int) -> str:
    """``is (nearly) a linear function of y`` at ``t + shift``, in words."""
    return f"is (nearly) a linear function of y {_when(shift)}"


def _shifts(kind: str, horizon: int) -> list[int]:
    """The ``j`` where ``x_t`` must not be a function of ``y_{t+j}``, nearest first: for a known-future column
    lags ``0 .. H-1`` and leads ``1 .. H``, for a past-only one leads ``1 .. H``."""
    shifts = range(-horizon + 1, horizon + 1) if kind == "known_future" else range(1, horizon + 1)
    return sorted(shifts, key=lambda j: (abs(j), j))


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    """The correlation of ``a`` and ``b`` (0 when either is flat)."""
    a, b = a - a.mean(), b - b.mean()
    scale = float(np.sqrt((a @ a) * (b @ b)))
    return float(a @ b) / scale if scale > 0 else 0.0


def _linear_in_y(y: np.ndarray, x: np.ndarray, shifts: Sequence[int]) -> tuple[int, float, float] | None:
    """The first ``j`` of ``shifts`` where ``x_t`` is (nearly) affine in ``y_{t+j}``, with the correlations of
    their values and of their one-step differences (both at least :data:`EXACT` in absolute value), or None."""
    n = len(y)
    for j in shifts:
        a, b = x[max(0, -j) : n - max(0, j)], y[max(0, j) : n - max(0, -j)]
        if len(a) < _EXACT_ROWS:
            continue
        values = _corr(a, b)
        if abs(values) >= EXACT:
            changes = _corr(np.diff(a), np.diff(b))
            if abs(changes) >= EXACT:
                return j, values, changes
    return None


def _exact_findings(
    frame: pd.DataFrame, offsets: np.ndarray, ends: np.ndarray, covariates: Covariates, horizon: int
) -> tuple[list[str], list[str]]:
    """Per series and column, the exact check on raw values; ``(refusals, columns not screened)`` in one line each.

    Each series is read whole, up to the first cutoff and after it, so a copy of ``y`` in one series
    of a panel, or in one part of a series, is not diluted by the rest.
    """
    refusals, unscreened = [], []
    y = frame[TARGET].to_numpy(dtype="float64")
    ids = frame[ID].to_numpy()
    for column in [*covariates.known_future, *covariates.past_only]:
        kind = "known_future" if column in covariates.known_future else "past_only"
        shifts = _shifts(kind, horizon)
        need = max(map(abs, shifts)) + _EXACT_ROWS
        x = frame[column].to_numpy(dtype="float64")
        short, found = [], None
        for s in range(len(offsets) - 1):
            start, cut, end = int(offsets[s]), int(min(max(ends[s], offsets[s]), offsets[s + 1])), int(offsets[s + 1])
            if end - start < need:
                short.append(s)
            for part, lo, hi in (
                ("all its rows", start, end),
                ("its rows up to the first cutoff", start, cut),
                ("its rows after the first cutoff", cut, end),
            ):
                found = _linear_in_y(y[lo:hi], x[lo:hi], shifts)
                if found is not None:
                    j, values, changes = found
                    held = (
                        f"over the {horizon}-step horizon it holds values of y after the cutoff"
                        if kind == "known_future"
                        else "it holds future values of y"
                    )
                    driver = f" ({_DRIVER})" if j == 0 else ""
                    refusals.append(
                        f"{kind} column {column!r} {_related(j)} in series {ids[start]!r} ({part}: corr {values:.4f} "
                        f"of values, {changes:.4f} of differences): {held}{driver}; {_REMEDY[kind]}"
                    )
                    break
            if found is not None:
                break
        if short and found is None:
            s = short[0]
            unscreened.append(
                f"{kind} column {column!r} was not (fully) screened in {len(short)} of {len(offsets) - 1} series (e.g. "
                f"{ids[offsets[s]]!r}: {offsets[s + 1] - offsets[s]} rows, fewer than the {need} that the exact check "
                f"at {_span(shifts)} needs): a copy of y there would pass; check it by hand or drop it"
            )
    return refusals, unscreened


def _span(shifts: Sequence[int]) -> str:
    """The shifts checked, in words."""
    lags, leads = [-j for j in shifts if j <= 0], [j for j in shifts if j > 0]
    words = [f"lags 0..{max(lags)}"] if lags else []
    return " and ".join([*words, f"leads 1..{max(leads)}"])


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
    y_all: np.ndarray,
    x_all: np.ndarray,
    columns: Sequence[str],
    covariates: Covariates,
    bounds: Sequence[tuple[int, int]],
    horizon: int,
    season: int,
) -> list[Evidence]:
    """The evidence for the ``columns`` (of ``x_all``) against ``y_all``, pooled over the series."""
    if not columns:
        return []
    h, order = horizon, season + 1
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


def _near_copies(
    frame: pd.DataFrame, offsets: np.ndarray, covariates: Covariates, horizon: int, season: int
) -> dict[str, str]:
    """Per known-future column, a warning when in some series its one-step changes correlate with ``y``'s at a lag
    ``0 .. H-1`` by :data:`NEAR_CHANGES` or more, and more than at any lag ``H .. H + max(H, season + 1) - 1`` (a
    seasonal lag of ``y`` is honest), and its values with ``y``'s by :data:`NEAR_VALUES` or more (also against
    ``log y``, and in logs, where positive)."""
    y_all = frame[TARGET].to_numpy(dtype="float64")
    ids = frame[ID].to_numpy()
    found = {}
    for column in covariates.known_future:
        x_all = frame[column].to_numpy(dtype="float64")
        for s in range(len(offsets) - 1):
            start, end = int(offsets[s]), int(offsets[s + 1])
            y, x = y_all[start:end], x_all[start:end]
            pairs = [("", y, x)]
            if (y > 0).all():
                pairs.append((" against log y", np.log(y), x))
                if (x > 0).all():
                    pairs.append((" in logs", np.log(y), np.log(x)))
            hit = _near(pairs, horizon, horizon + max(horizon, season + 1))
            if hit is not None:
                rd, rl, lag, against = hit
                found[column] = (
                    f"known_future column {column!r} nearly tracks y {_when(-lag)} in series {ids[start]!r} (corr "
                    f"{rd:.3f} of one-step changes and {rl:.3f} of values{against}, at lag {lag}): over the {horizon}-"
                    f"step horizon it may hold values of y after the cutoff{f' ({_DRIVER})' if lag == 0 else ''}; "
                    f"{_REMEDY['known_future']}"
                )
                break
    return found


def _near(
    pairs: Sequence[tuple[str, np.ndarray, np.ndarray]], horizon: int, allowed: int
) -> tuple[float, float, int, str] | None:
    """The first lag ``0 .. H-1`` and pair ``(label, y, x)`` where ``x_t`` nearly tracks ``y_{t-lag}``, closer than
    at any lag ``H .. allowed - 1``, or None."""
    for against, y, x in pairs:
        changes = [
            _corr(np.diff(x[lag:]), np.diff(y[: len(y) - lag])) for lag in range(allowed) if len(y) - lag > _MIN_ROWS
        ]
        if len(changes) < horizon:
            return None
        honest = max(map(abs, changes[horizon:]), default=0.0)
        for lag, r in enumerate(changes[:horizon]):
            if abs(r) >= NEAR_CHANGES and abs(r) > honest:
                values = _corr(x[lag:], y[: len(y) - lag])
                if abs(values) >= NEAR_VALUES:
                    return r, values, lag, against
    return None


def _static_findings(
    frame: pd.DataFrame, offsets: np.ndarray, ends: np.ndarray, covariates: Covariates, horizon: int
) -> list[tuple[str, str]]:
    """Per static column, a refusal when it equals a whole-series statistic of ``y`` in every series that the
    training rows do not give, else a warning when it is within :data:`NEAR_STATIC` standard deviations of
    ``y`` of one in at least half the series where that one is at least four times as far from the same
    statistic over the training rows."""
    findings: list[tuple[str, str]] = []
    y = frame[TARGET].to_numpy(dtype="float64")
    ids = frame[ID].to_numpy()
    spans = [
        (int(offsets[s]), int(min(max(ends[s], offsets[s]), offsets[s + 1])), int(offsets[s + 1]))
        for s in range(len(offsets) - 1)
        if offsets[s + 1] > offsets[s]
    ]
    scale = np.array([np.std(y[a:c] if c - a > 1 else y[a:b]) for a, c, b in spans])
    for column in covariates.static:
        x = frame[column].to_numpy(dtype="float64")
        values = np.array([x[a] for a, _, _ in spans])
        near: tuple[str, np.ndarray, int, np.ndarray, np.ndarray] | None = None
        for name in (*_STATISTICS, "median", "max", "min", f"mean of the last {horizon} rows"):
            whole = np.array([_statistic(name, y[a:b], horizon) for a, _, b in spans])
            before = np.array([_statistic(name, y[a:c], horizon) for a, c, _ in spans])
            if name in _STATISTICS and (
                np.isclose(values, whole, rtol=1e-6, atol=0).all()
                and not np.isclose(values, before, rtol=1e-6, atol=0).all()
            ):
                message = (
                    f"static column {column!r} equals each series' {name} of y over the whole series, rows after "
                    f"the first cutoff included (e.g. {values[0]:.6g}; over the rows before it {before[0]:.6g}): it "
                    f"holds future values of y; {_REMEDY['static']}"
                )
                findings.append(("refuse", message))
                break
            with np.errstate(invalid="ignore"):
                informative = np.abs(whole - before) >= 4 * NEAR_STATIC * scale
                close = informative & (np.abs(values - whole) <= NEAR_STATIC * scale)
            if close.any() and close.sum() * 2 >= informative.sum() and close.sum() > (near[1].sum() if near else 0):
                near = (name, close, int(informative.sum()), whole, before)
        else:
            if near is not None:
                name, close, informative_count, whole, before = near
                s = int(np.argmax(close))
                message = (
                    f"static column {column!r} is within {NEAR_STATIC:g} sd of y of the series' {name} of y over "
                    f"the whole series, rows after the first cutoff included, in {int(close.sum())} of the "
                    f"{informative_count} series where that differs from the one over the rows before it (e.g. "
                    f"{ids[spans[s][0]]!r}: "
                    f"{values[s]:.6g}, whole series {whole[s]:.6g}, before the cutoff {before[s]:.6g}): it may hold "
                    f"future values of y; {_REMEDY['static']}"
                )
                findings.append(("warn", message))
    return findings


def _statistic(name: str, values: np.ndarray, horizon: int) -> float:
    """``values``' mean, sum, last value, median, max, min or mean of the last ``horizon`` (NaN for none)."""
    if not len(values):
        return float("nan")
    if name == "last":
        return float(values[-1])
    if name.startswith("mean of the last"):
        return float(values[-horizon:].mean())
    return float(getattr(np, name)(values))


def _column(message: str) -> str:
    """The column a finding names (quoted first in each message)."""
    return message.split("'")[1]


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
    columns = [*covariates.known_future, *covariates.past_only]
    bounds = [(int(offsets[s]), int(offsets[s + 1])) for s in range(len(offsets) - 1)]
    y, x = frame[TARGET].to_numpy(dtype="float64"), frame[columns].to_numpy(dtype="float64")
    evidence = _correlation_evidence(y, x, columns, covariates, bounds, horizon, season)
    findings = [found for found in map(Evidence.finding, evidence) if found is not None]
    exact, unscreened = _exact_findings(frame, offsets, ends, covariates, horizon)
    refused = {_column(message) for verdict, message in findings if verdict == "refuse"}
    exact = [message for message in exact if _column(message) not in refused]
    refused |= {_column(message) for message in exact}
    findings = [
        (verdict, message) for verdict, message in findings if verdict == "refuse" or _column(message) not in refused
    ]
    findings += [("refuse", message) for message in exact]
    near = _near_copies(frame, offsets, covariates, horizon, season)
    findings += [("warn", message) for column, message in near.items() if column not in refused]
    findings += _static_findings(frame, offsets, ends, covariates, horizon)
    refusals = [message for verdict, message in findings if verdict == "refuse"]
    if refusals and covariates.screen == "refuse":
        raise LeakageError(f"Covariate screen: {refusals[0]} (or, if it is truly available, {_escape()}).")
    for _, message in findings:
        warn_user(f"Covariate screen: {message}.", LeakageWarning)
    for message in unscreened:
        warn_user(f"Covariate screen: {message}.", LeakageWarning)
    return evidence
