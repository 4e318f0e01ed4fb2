r"""Holt-Winters exponential smoothing in one place: the model space, the recursion and a fast estimator.

The ETS baseline (:class:`~tsforecast.models.statistical.ETS`) and the ``"es"`` base family of
:class:`~tsforecast.models.sgd.SGDForecaster` both use this module.

**The model space** (:class:`Spec`) is statsmodels' Holt-Winters space without multiplicative
trends: an additive trend or none, damped or not, and no season, an additive or a multiplicative
one (period ``m``). The fitted parameters of one series are a :class:`Smoothing`.

**The recursion** (:func:`smoothing_states`), from the initial states ``ℓ₀, b₀, s_{1-m} … s₀``,
in the error-correction form of statsmodels' ``ExponentialSmoothing`` (additive season; ``φ = 1``
without damping, ``b = 0`` without a trend, ``s = 0`` without a season)::

    ŷ_t = ℓ_{t-1} + φ b_{t-1} + s_{t-m}         e_t = y_t − ŷ_t
    ℓ_t = ℓ_{t-1} + φ b_{t-1} + α e_t
    b_t = φ b_{t-1} + α β e_t
    s_t = s_{t-m} + γ e_t

and with a multiplicative season ``ŷ_t = (ℓ_{t-1} + φ b_{t-1}) s_{t-m}``, ``e_t / s_{t-m}`` in
place of ``e_t`` in the level and trend updates, and ``s_t = s_{t-m} + γ e_t / (ℓ_{t-1} + φ b_{t-1})``.
The ``h``-step forecast from the state after ``y_t`` is

.. math:: \hat y_{t+h} = (\ell_t + (\phi + \dots + \phi^h) b_t) \oplus s_{t+h-m(k+1)},
          \qquad k = \lfloor (h - 1) / m \rfloor

(``⊕`` a sum or a product), so it reads ``y[: t + 1]`` only. Many histories run at once: a loop
over time whose steps are vector operations over the series (and, while estimating, over the
trial parameters of each series). The states after every value take O(T) memory;
:meth:`SmoothingStates.forecasts` computes the forecasts of any origins from them.

**The estimator** (:func:`estimate_smoothing`) minimises, per series, the sum of squared one-step
errors ``Σ e_t²`` over the smoothing parameters and the initial states, as statsmodels'
``ExponentialSmoothing(initialization_method="estimated")`` does, within statsmodels' bounds
``0 ≤ β ≤ α ≤ 1``, ``0 ≤ γ ≤ 1 − α``, ``0.8 ≤ φ ≤ 0.995``:

1. each series is scaled (additive: ``(y − mean) / std``; multiplicative: ``y / mean``), so
   every quantity below is of order one (the fitted states are scaled back at the end);
2. statsmodels' initial states: from ``10 + 2⌊m/2⌋`` values on its heuristic (Hyndman et al.,
   2008: seasonal indices from a centred moving average of the first seasons, level and trend
   from a straight line through its first 10 values), before that its simple one (level the mean
   of the first season, trend the mean change to the second season per step, indices the first
   season's deviations from, or ratios to, that level; without a season ``ℓ₀ = y₀``,
   ``b₀ = y₁ − y₀``);
3. statsmodels' brute-force start, on a coarser grid: the squared one-step error of 63 points
   ``(α, β/α, γ/(1−α))`` with ``φ`` = :data:`PHI_START` and those initial states; the best one
   starts step 4;
4. Levenberg-Marquardt on the one-step errors, over the parameters made unbounded (``α = σ(u₁)``,
   ``β = α σ(u₂)``, ``γ = (1 − α) σ(u₃)``, ``φ = 0.8 + 0.195 σ(u₄)``, ``σ`` the logistic function)
   and the initial states (the seasonal indices move by deviations summing to zero: moving the
   level against every index, by a shift or for factors a scaling, leaves every forecast
   unchanged, so that direction is left out). The Jacobian is a forward difference: the
   ``p + 1`` parameter vectors of a series (its point and one perturbed vector per parameter)
   run through the recursion as ``p + 1`` columns, so one pass over time gives every series'
   errors and Jacobian at once (on a large panel a step is first tried with one column per
   series, and the Jacobian computed only where it is taken). Each series has its own damping
   ``λ`` (Marquardt's, scaling the diagonal of ``JᵀJ``, from 1 so that the first steps stay near
   the start, then updated by Nielsen's rule), takes a step only when it lowers its squared
   error, and stops on its own: when a step lowers it by less than :data:`TOLERANCE`, when ``λ``
   exceeds :data:`MAX_DAMPING`, or after :data:`MAX_ITERATIONS` steps.

One local search from statsmodels' kind of start, as statsmodels does: on the tune set, searches
from more starts found lower squared errors whose forecasts were worse out of sample
(``docs/sgd-design.md``).

Every operation is element-wise or per series (the sums over time run in fixed blocks of
:data:`BLOCK` steps from each series' first value), so a series' estimate is bit-identical whether
it is fitted alone or inside a panel of any other series.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

__all__ = [
    "BLOCK",
    "MAX_DAMPING",
    "MAX_ITERATIONS",
    "PHI_BOUNDS",
    "PHI_START",
    "TOLERANCE",
    "Smoothing",
    "SmoothingStates",
    "Spec",
    "estimate_chains",
    "estimate_smoothing",
    "smoothing_forecasts",
    "smoothing_paths",
    "smoothing_states",
]

SeasonKind = Literal["none", "add", "mul"]

PHI_BOUNDS = (0.8, 0.995)
"""statsmodels' bounds of the damping ``φ``."""

MAX_ITERATIONS = 60
"""The most Levenberg-Marquardt steps tried per series."""

TOLERANCE = 1e-6
"""A series stops when an accepted step lowers its squared error by less than this fraction."""

MAX_DAMPING = 1e10
"""A series stops when its Marquardt damping ``λ`` exceeds this (no step lowers its error)."""

PHI_START = 0.99
"""The damping of the grid (statsmodels' start), and where the search of ``φ`` starts."""

BLOCK = 128
"""Time steps summed by one product in the normal equations (fixed blocks, so sums do not depend on the panel)."""

_GRID_ALPHA = np.linspace(0.05, 0.95, 7)
_GRID_BETA = (0.0, 0.1, 0.5)  # fractions of alpha
_GRID_GAMMA = (0.0, 0.2, 0.6)  # fractions of 1 - alpha
_EDGE = 1e-3  # grid values at a bound start this close to it (the logistic map never reaches it)
_STEP = 1e-7  # relative step of the forward differences
_TOGETHER = 4096  # up to this many columns, a trial's pass computes its Jacobian too (cheaper than a second pass)
_LAMBDA = 1.0  # initial Marquardt damping: the first steps stay near the start
_LOGIT_LIMIT = 18.0  # the logistic function is within 2e-8 of its bound there
_FLOOR = 1e-12  # relative floor of the damped diagonal (a parameter without effect stays put)


@dataclass(frozen=True)
class Spec:
    """One model of the Holt-Winters space.

    Attributes
    ----------
    trend : bool
        An additive trend.
    damped : bool
        The trend is damped (``φ`` estimated); only with a trend.
    season : {"none", "add", "mul"}
        No season, an additive one or a multiplicative one.

    Raises
    ------
    ValueError
        For another ``season``, or ``damped`` without ``trend``.

    Examples
    --------
    >>> str(Spec(trend=True, damped=True, season="mul"))
    'damped additive trend, multiplicative season'
    >>> Spec.named("no trend, additive season")
    Spec(trend=False, damped=False, season='add')
    """

    trend: bool
    damped: bool
    season: SeasonKind = "none"

    def __post_init__(self) -> None:
        if self.season not in ("none", "add", "mul"):
            raise ValueError(f"season={self.season!r} is not one of 'none', 'add', 'mul'.")
        if self.damped and not self.trend:
            raise ValueError("A damped specification needs a trend: pass trend=True or damped=False.")

    @property
    def seasonal(self) -> bool:
        """Whether the model has a season."""
        return self.season != "none"

    def n_params(self, season: int) -> int:
        """Smoothing parameters plus initial states, counted as R's ``forecast::ets`` counts them.

        2 (``α``, ``ℓ₀``), +2 with a trend (``β``, ``b₀``), +1 damped (``φ``), +``m`` with a
        season (``γ`` and ``m − 1`` free indices).
        """
        return 2 + 2 * self.trend + int(self.damped) + (season if self.seasonal else 0)

    def __str__(self) -> str:
        trend = ("damped additive" if self.damped else "additive") + " trend" if self.trend else "no trend"
        season = {"none": "no season", "add": "additive season", "mul": "multiplicative season"}[self.season]
        return f"{trend}, {season}"

    @classmethod
    def named(cls, name: str) -> Spec | None:
        """The specification whose ``str`` is ``name``; ``None`` for any other name."""
        return _NAMED.get(name)


_NAMED = {
    str(spec): spec
    for spec in (
        Spec(trend, damped, season)  # type: ignore[arg-type]
        for trend in (True, False)
        for damped in (True, False)
        for season in ("none", "add", "mul")
        if trend or not damped
    )
}


@dataclass(frozen=True)
class Smoothing:
    """Fitted Holt-Winters parameters of one series: a point of the model space.

    Attributes
    ----------
    alpha, beta, gamma : float
        Smoothing parameters of the level, trend and seasonal indices (statsmodels'
        ``smoothing_level``, ``smoothing_trend``, ``smoothing_seasonal``); ``beta = 0`` without a
        trend, ``gamma = 0`` without a season.
    phi : float
        Trend damping; 1 without damping.
    level, trend : float
        Initial level ``ℓ₀`` and trend ``b₀`` (0 without a trend).
    seasons : tuple of float
        Initial seasonal indices ``s_{1-m} … s₀``, the first one that of the first value (``m``
        their number); ``(0.0,)`` without a season, ``(1.0,)`` for a multiplicative model whose
        only factor is 1.
    spec : str
        Which model was fitted: ``str`` of its :class:`Spec` for an estimate of
        :func:`estimate_smoothing`; a user of this module may name its own fallbacks otherwise
        (``"naive"``, ...).
    multiplicative : bool
        The seasonal indices are factors (a multiplicative season), else offsets.
    """

    alpha: float
    beta: float
    gamma: float
    phi: float
    level: float
    trend: float
    seasons: tuple[float, ...]
    spec: str
    multiplicative: bool = False


@dataclass(frozen=True)
class SmoothingStates:
    """The Holt-Winters states after every value of some histories, series after series.

    Attributes
    ----------
    level, trend : numpy.ndarray
        ``ℓ_t`` and ``b_t`` after each of the ``T`` values, shape ``(T,)``.
    seasons : numpy.ndarray
        Per series, its ``m`` initial seasonal indices, then ``s_t`` of each of its values: shape
        ``(T + Σ m,)``.
    errors : numpy.ndarray
        The one-step error ``e_t = y_t − ŷ_t`` of each value, shape ``(T,)`` (of the values
        ``exp(z)`` with ``log=True``).
    damping : numpy.ndarray
        ``φ + … + φᵏ`` of each series for ``k = 1 … h``, shape ``(n, h)``.
    periods : numpy.ndarray
        ``m`` of each series, shape ``(n,)``.
    multiplicative : numpy.ndarray
        Whether each series' season is multiplicative, shape ``(n,)``.
    ends : numpy.ndarray
        One past the last row of each series, shape ``(n,)``.
    values : numpy.ndarray or None
        With ``log=True`` only: the values ``y_t = exp(z_t)``, shape ``(T,)`` (a forecast is
        floored at a tenth of its origin's value before its log is taken).
    """

    level: np.ndarray
    trend: np.ndarray
    seasons: np.ndarray
    errors: np.ndarray
    damping: np.ndarray
    periods: np.ndarray
    multiplicative: np.ndarray
    ends: np.ndarray
    values: np.ndarray | None = None

    def forecasts(self, rows: np.ndarray) -> np.ndarray:
        """The forecasts from origins ``rows`` (rows of the concatenated histories): ``(len(rows), h)``.

        Row ``i`` forecasts the ``h`` values after row ``rows[i]`` from the states after it:
        ``(ℓ_t + (φ + … + φ^k) b_t) ⊕ s_{t + k − m(⌊(k−1)/m⌋ + 1)}``; with ``log=True``, the log of
        that forecast floored at a tenth of the origin's value ``y_t``.
        """
        rows = np.asarray(rows, dtype="int64")
        owner = np.searchsorted(self.ends, rows, side="right")
        m = self.periods[owner][:, None]
        k = np.arange(1, self.damping.shape[1] + 1)[None, :]
        lag = k - m * ((k - 1) // m + 1)  # the seasonal index of step k is that of time t + lag (lag <= 0)
        phase = (rows + np.cumsum(self.periods)[owner])[:, None] + lag  # positions in ``seasons``
        trended = self.level[rows, None] + self.trend[rows, None] * self.damping[owner]
        season = self.seasons[phase]
        forecast = np.where(self.multiplicative[owner][:, None], trended * season, trended + season)
        if self.values is None:
            return forecast
        floor = self.values[rows, None] / 10  # NOTE: a trend extrapolated below zero (or broken states) stays finite
        with np.errstate(invalid="ignore"):
            return np.log(np.where(np.isfinite(forecast) & (forecast > floor), forecast, floor))


# ------------------------------------------------------------------------------- recursion ---- #


def _recursion(
    values: np.ndarray,
    errors: np.ndarray,
    level: np.ndarray,
    trend: np.ndarray,
    seasons: np.ndarray,
    coefficients: tuple[np.ndarray, ...],
    multiplicative: bool,
    *,
    simulate: bool = False,
    states: np.ndarray | None = None,
) -> None:
    """The recursion of ``c`` columns over ``T`` time steps (the one implementation: fitting, filtering, simulating).

    Parameters
    ----------
    values, errors : numpy.ndarray
        ``(T, c)``. The error of step ``t`` is written to ``errors[t]`` (``values[t]`` minus the
        one-step forecast); with ``simulate``, ``errors`` are given and ``values[t]`` is written
        (the forecast plus the error).
    level, trend : numpy.ndarray
        ``ℓ`` and ``b`` before the first step, ``(c,)``.
    seasons : numpy.ndarray
        ``(m, c)``: the seasonal indices read by the first ``m`` steps, in order.
    coefficients : tuple of numpy.ndarray
        ``(α, αβ, γ, φ)``, each ``(c,)``.
    multiplicative : bool
        A multiplicative season.
    states : numpy.ndarray, optional
        ``(3, T, c)``: filled with the level, trend and seasonal index after each step.

    Every operation is element-wise over the columns, so a column's numbers do not depend on the
    others. After a column's last value its padding runs on: its errors are there for the caller
    to ignore.
    """
    alpha, alpha_beta, gamma, phi = coefficients
    level, trend, seasons = level.copy(), trend.copy(), seasons.copy()
    m = len(seasons)
    damped, base, forecast, relative, scaled = (np.empty_like(level) for _ in range(5))
    for t in range(len(values)):  # NOTE: sequential in time; each step is a few vector operations over the columns
        season = seasons[t % m]
        np.multiply(phi, trend, out=damped)
        np.add(level, damped, out=base)
        (np.multiply if multiplicative else np.add)(base, season, out=forecast)
        if simulate:
            np.add(forecast, errors[t], out=values[t])
        else:
            np.subtract(values[t], forecast, out=errors[t])
        error = errors[t]
        if multiplicative:  # ℓ = base + α e / s, b = φ b + αβ e / s, s = s + γ e / base
            np.divide(error, season, out=relative)
            np.divide(error, base, out=scaled)
        else:  # ℓ = base + α e, b = φ b + αβ e, s = s + γ e
            relative = scaled = error
        np.multiply(alpha, relative, out=level)
        level += base
        np.multiply(alpha_beta, relative, out=trend)
        trend += damped
        np.multiply(gamma, scaled, out=forecast)  # NOTE: the forecast is not needed any more: its buffer is reused
        season += forecast
        if states is not None:
            states[0, t], states[1, t], states[2, t] = level, trend, season


def _coefficients(params: Sequence[Smoothing]) -> tuple[np.ndarray, ...]:
    """``(α, αβ, γ, φ)`` of each series."""
    alpha, beta, gamma, phi = (
        np.array([getattr(p, name) for p in params]) for name in ("alpha", "beta", "gamma", "phi")
    )
    return alpha, alpha * beta, gamma, phi


def _kinds(params: Sequence[Smoothing]) -> dict[tuple[int, bool], np.ndarray]:
    """The series of each kind (number of seasonal indices, multiplicative): they run through one recursion each."""
    kinds: dict[tuple[int, bool], list[int]] = {}
    for i, p in enumerate(params):
        kinds.setdefault((len(p.seasons), p.multiplicative), []).append(i)
    return {kind: np.array(members) for kind, members in kinds.items()}


def smoothing_states(
    histories: Sequence[np.ndarray], params: Sequence[Smoothing], horizon: int, log: bool = False
) -> SmoothingStates:
    """The states after every value of each history, from its parameters: the recursion.

    Parameters
    ----------
    histories : sequence of numpy.ndarray
        The 1-D histories.
    params : sequence of Smoothing
        One per history.
    horizon : int
        The forecasts' length (:meth:`SmoothingStates.forecasts`).
    log : bool, default=False
        The histories are the logs ``z`` of the values the parameters were fitted on: the
        recursion runs on ``exp(z)`` and the forecasts are logs (floored, see
        :meth:`SmoothingStates.forecasts`).

    Returns
    -------
    SmoothingStates
        The states after ``y[t]`` depend on ``y[: t + 1]`` and the parameters only. Series of
        different kinds (number of seasonal indices, multiplicative or not) may be mixed.

    Raises
    ------
    ValueError
        If ``histories`` and ``params`` differ in length, or a history is empty.
    """
    if len(histories) != len(params):
        raise ValueError(f"{len(histories)} histories but {len(params)} parameter sets: pass one per history.")
    lengths = np.array([len(y) for y in histories], dtype="int64")
    if not len(lengths) or lengths.min() < 1:
        raise ValueError("Every history needs at least one value, and at least one history is needed.")
    ends = np.cumsum(lengths)
    periods = np.array([len(p.seasons) for p in params], dtype="int64")
    values = np.concatenate([np.exp(y) if log else np.asarray(y, dtype="float64") for y in histories])
    total = int(ends[-1])
    level, trend, errors = np.empty(total), np.empty(total), np.empty(total)
    seasons = np.empty(total + int(periods.sum()))
    firsts = ends - lengths  # first row of each series
    season_firsts = firsts + np.cumsum(periods) - periods  # position of each series' first initial index
    for (m, multiplicative), members in _kinds(params).items():
        longest = int(lengths[members].max())
        valid = np.arange(longest)[:, None] < lengths[members][None, :]  # (T, n)
        rows = firsts[members][None, :] + np.minimum(np.arange(longest)[:, None], lengths[members][None, :] - 1)
        chosen = [params[i] for i in members]
        initial = np.array([p.seasons for p in chosen]).T  # (m, n)
        out, errors_out = np.empty((3, longest, len(members))), np.empty((longest, len(members)))
        with np.errstate(all="ignore"):  # broken states give non-finite forecasts, which their users handle
            _recursion(
                values[rows],  # NOTE: padded with each series' last value; the padding's states are never read
                errors_out,
                np.array([p.level for p in chosen]),
                np.array([p.trend for p in chosen]),
                initial,
                _coefficients(chosen),
                multiplicative,
                states=out,
            )
        target = rows.T[valid.T]  # the rows of these series, series after series
        errors[target], level[target], trend[target] = errors_out.T[valid.T], out[0].T[valid.T], out[1].T[valid.T]
        seasons[target + (season_firsts - firsts)[members].repeat(lengths[members]) + m] = out[2].T[valid.T]
        heads = season_firsts[members][:, None] + np.arange(m)[None, :]
        seasons[heads] = initial.T
    phi = _coefficients(params)[3]
    return SmoothingStates(
        level=level,
        trend=trend,
        seasons=seasons,
        errors=errors,
        damping=np.cumsum(phi[:, None] ** np.arange(1, horizon + 1)[None, :], axis=1),
        periods=periods,
        multiplicative=np.array([p.multiplicative for p in params], dtype=bool),
        ends=ends,
        values=values if log else None,
    )


def smoothing_forecasts(
    histories: Sequence[np.ndarray], params: Sequence[Smoothing], horizon: int, log: bool = False
) -> list[np.ndarray]:
    """Per series, the forecasts from every origin: ``F[t, k-1]`` forecasts ``y[t + k]``, shape ``(n, h)``.

    :func:`smoothing_states`, then :meth:`SmoothingStates.forecasts` of every row. Row ``t``
    depends on ``y[: t + 1]`` and the parameters only; its ``k = 1`` column equals statsmodels'
    ``fittedvalues[t + 1]``.

    Examples
    --------
    >>> p = Smoothing(1.0, 0.0, 0.0, 1.0, 0.0, 0.0, (0.0,), "naive")
    >>> smoothing_forecasts([np.array([1.0, 2.0, 3.0])], [p], 2)[0]
    array([[1., 1.],
           [2., 2.],
           [3., 3.]])
    """
    states = smoothing_states(histories, params, horizon, log)
    return [states.forecasts(np.arange(end - len(y), end)) for y, end in zip(histories, states.ends, strict=True)]


def smoothing_paths(
    histories: Sequence[np.ndarray], params: Sequence[Smoothing], shocks: np.ndarray, sigma: np.ndarray
) -> np.ndarray:
    """Sample paths after each history's last value, with additive errors ``sigma · shocks``.

    Parameters
    ----------
    histories, params : sequence
        As in :func:`smoothing_states`.
    shocks : numpy.ndarray
        Standard errors, shape ``(h, n_paths)``; every series uses the same ones.
    sigma : numpy.ndarray
        The error scale of each series, shape ``(n,)``.

    Returns
    -------
    numpy.ndarray
        Shape ``(n, h, n_paths)``: ``y_{T+k} = ŷ_{T+k} + σ ε_k`` along each path, the states
        updated by the same recursion (statsmodels' ``simulate(error="add")``).
    """
    horizon, n_paths = shocks.shape
    states = smoothing_states(histories, params, 1)
    last = states.ends - 1
    out = np.empty((len(histories), horizon, n_paths))
    for (m, multiplicative), members in _kinds(params).items():
        position = last[members] + np.cumsum(states.periods)[members]  # of s_T in ``seasons``
        seasons = states.seasons[position[None, :] + np.arange(1 - m, 1)[:, None]]  # (m, n): s_{T-m+1} ... s_T
        paths = np.empty((horizon, len(members) * n_paths))  # column i·P + j: path j of series i
        with np.errstate(all="ignore"):
            _recursion(
                paths,
                (shocks[:, None, :] * sigma[members][None, :, None]).reshape(horizon, -1),
                np.repeat(states.level[last[members]], n_paths),
                np.repeat(states.trend[last[members]], n_paths),
                np.repeat(seasons, n_paths, axis=1),
                tuple(np.repeat(c, n_paths) for c in _coefficients([params[i] for i in members])),
                multiplicative,
                simulate=True,
            )
        out[members] = paths.reshape(horizon, len(members), n_paths).transpose(1, 0, 2)
    return out


# ------------------------------------------------------------------------------- estimator ---- #


@dataclass(frozen=True)
class _Layout:
    """Where each quantity sits in a series' unbounded parameter vector ``θ`` (Levenberg-Marquardt's unknowns)."""

    spec: Spec
    m: int

    @property
    def logits(self) -> int:
        """The number of smoothing parameters (the logits first in ``θ``)."""
        return 1 + int(self.spec.trend) + int(self.spec.seasonal) + int(self.spec.damped)

    @property
    def size(self) -> int:
        """``p``: ``u_α [u_β] [u_γ] [u_φ] ℓ₀ [b₀] [d₀ … d_{m-2}]``, as many as :meth:`Spec.n_params` counts."""
        return self.spec.n_params(self.m)

    def unpack(self, theta: np.ndarray, seasons: np.ndarray) -> tuple[np.ndarray, ...]:
        """``α, β, γ, φ, ℓ₀, b₀`` ``(c,)`` and the initial indices ``(m, c)`` of ``θ`` ``(c, p)``.

        ``seasons`` ``(c, m)`` are the initial indices the deviations ``d`` move from.
        """
        spec, zero, column = self.spec, np.zeros(len(theta)), iter(range(self.size))
        alpha = _logistic(theta[:, next(column)])
        beta = alpha * _logistic(theta[:, next(column)]) if spec.trend else zero
        gamma = (1 - alpha) * _logistic(theta[:, next(column)]) if spec.seasonal else zero
        low, high = PHI_BOUNDS
        phi = low + (high - low) * _logistic(theta[:, next(column)]) if spec.damped else np.ones(len(theta))
        level = theta[:, next(column)].copy()
        trend = theta[:, next(column)].copy() if spec.trend else zero
        if not spec.seasonal:
            return alpha, beta, gamma, phi, level, trend, np.zeros((1, len(theta)))
        moves = theta[:, -(self.m - 1) :]
        shifted = seasons + np.concatenate([moves, -moves.sum(axis=1, keepdims=True)], axis=1)
        return alpha, beta, gamma, phi, level, trend, np.ascontiguousarray(shifted.T)


def _logistic(u: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(−u))``; always on a contiguous copy, so every element takes the same code path."""
    with np.errstate(over="ignore"):  # exp(-u) = inf for u << 0 gives 0, the limit
        return 1.0 / (1.0 + np.exp(-np.ascontiguousarray(u)))


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, _EDGE, 1 - _EDGE)
    return np.log(p / (1 - p))


def _check_histories(histories: Sequence[np.ndarray], spec: Spec, m: int) -> None:
    need = 2 * m if spec.seasonal else 2 if spec.trend else 1
    for i, y in enumerate(histories):
        if len(y) < need:
            raise ValueError(
                f"History {i} has {len(y)} values; a model with {spec} needs at least {need}"
                + (" (two whole seasons)." if spec.seasonal else ".")
            )
        if not np.isfinite(y).all():
            raise ValueError(f"History {i} holds a value that is not finite (NaN or inf).")
        if spec.season == "mul" and y.min() <= 0:
            raise ValueError(f"History {i} has a value <= 0 ({y.min():g}); a multiplicative season needs y > 0.")


def estimate_smoothing(histories: Sequence[np.ndarray], spec: Spec, season: int = 1) -> list[Smoothing | None]:
    """Least-squares Holt-Winters parameters of each history (the module docstring says how).

    Parameters
    ----------
    histories : sequence of numpy.ndarray
        The 1-D histories, of any lengths.
    spec : Spec
        The model fitted to every history.
    season : int, default=1
        The period ``m`` of a seasonal ``spec`` (ignored without a season).

    Returns
    -------
    list of Smoothing or None
        Per history, its parameters (``spec`` named by ``str(spec)``); ``None`` where no start
        gave a finite squared error. A history's result depends on its own values only.

    Raises
    ------
    ValueError
        If a seasonal ``spec`` has ``season < 2``, a history is shorter than two seasons (seasonal
        ``spec``), two values (trend) or one value, holds a non-finite value, or is not positive
        under a multiplicative season.

    Examples
    --------
    >>> t = np.arange(48)
    >>> y = 10 + 0.1 * t + np.sin(2 * np.pi * t / 12)
    >>> fitted = estimate_smoothing([y], Spec(trend=True, damped=True, season="add"), 12)[0]
    >>> fitted.spec, len(fitted.seasons), bool(0.8 <= fitted.phi <= 0.995)
    ('damped additive trend, additive season', 12, True)
    """
    if spec.seasonal and season < 2:
        raise ValueError(f"A seasonal specification needs season >= 2, got {season}.")
    m = season if spec.seasonal else 1
    histories = [np.asarray(y, dtype="float64") for y in histories]
    _check_histories(histories, spec, m)
    if not histories:
        return []
    multiplicative = spec.season == "mul"
    # NOTE: per series, on its own values (never on a padded panel), so the results do not depend on the panel
    shift = np.array([0.0 if multiplicative else float(y.mean()) for y in histories])
    scale = np.array([float(y.mean()) if multiplicative else float(y.std()) for y in histories])
    scale = np.where(scale > 0, scale, 1.0)  # a constant series: any parameters fit it exactly
    lengths = np.array([len(y) for y in histories], dtype="int64")
    values = np.empty((int(lengths.max()), len(histories)))  # (T, n), padded with each series' last value
    for i, y in enumerate(histories):
        values[: len(y), i] = (y - shift[i]) / scale[i]
        values[len(y) :, i] = values[len(y) - 1, i]
    layout = _Layout(spec, m)
    with np.errstate(all="ignore"):  # NOTE: degenerate values give non-finite states, hence no estimate
        level, trend, seasons = _initial_states(values, lengths, spec, m)
    search = _Search.start(
        _grid_start(values, lengths, layout, level, trend, seasons), values, lengths, layout, seasons
    )
    search.run(MAX_ITERATIONS)
    sse = search.sse
    alpha, beta, gamma, phi, level0, trend0, initial = layout.unpack(search.theta, seasons)
    out: list[Smoothing | None] = []
    for i in range(len(histories)):
        if not np.isfinite(sse[i]):
            out.append(None)
            continue
        indices = initial[:, i] * (1.0 if multiplicative else scale[i])
        out.append(
            Smoothing(
                alpha=float(alpha[i]),
                beta=float(beta[i]),
                gamma=float(gamma[i]),
                phi=float(phi[i]),
                level=float(shift[i] + level0[i] * scale[i]),
                trend=float(trend0[i] * scale[i]),
                seasons=tuple(float(s) for s in indices) if spec.seasonal else (0.0,),
                spec=str(spec),
                multiplicative=multiplicative,
            )
        )
    return out


def estimate_chains(
    histories: Sequence[np.ndarray],
    chains: Sequence[Sequence[Spec]],
    season: int,
    accept: Callable[[Spec, list[int], list[Smoothing | None]], np.ndarray] | None = None,
) -> list[Smoothing | None]:
    """Per history, the estimate of the first specification of its chain that is finite (and accepted).

    Parameters
    ----------
    histories : sequence of numpy.ndarray
        The 1-D histories.
    chains : sequence of sequence of Spec
        Per history, the specifications to try, in order (each must suit the history, see
        :func:`estimate_smoothing`).
    season : int
        The period of the seasonal specifications.
    accept : callable, optional
        ``accept(spec, indices, estimates)`` says which estimates of ``spec`` (of the histories
        ``indices``, ``None`` where not finite) to keep, as a boolean array; by default every
        finite one.

    Returns
    -------
    list of Smoothing or None
        ``None`` where no specification of the chain was kept. The histories that try the same
        specification at the same link are estimated in one call; a history's result depends on
        its own values only.
    """
    found: list[Smoothing | None] = [None] * len(histories)
    for link in range(max((len(chain) for chain in chains), default=0)):
        tried: dict[Spec, list[int]] = {}
        for i, chain in enumerate(chains):
            if found[i] is None and link < len(chain):
                tried.setdefault(chain[link], []).append(i)
        for spec, members in tried.items():
            estimates = estimate_smoothing([histories[i] for i in members], spec, season)
            kept = np.array([p is not None for p in estimates])
            if accept is not None:
                kept &= np.asarray(accept(spec, members, estimates), dtype=bool)
            for i, p, keep in zip(members, estimates, kept, strict=True):
                found[i] = p if keep else None
    return found


def _initial_states(
    values: np.ndarray, lengths: np.ndarray, spec: Spec, m: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """statsmodels' initial states of the scaled series ``values`` ``(T, n)``: ``ℓ₀, b₀`` ``(n,)``, indices ``(n, m)``.

    Its heuristic (:func:`_heuristic_states`) from ``10 + 2⌊m/2⌋`` values on, its simple one before
    (the module docstring). Every sum runs along one series' own values.
    """
    rows = np.ascontiguousarray(values.T)  # (n, T)
    n = len(rows)
    if spec.seasonal:
        level = rows[:, :m].mean(axis=1)
        trend = ((rows[:, m : 2 * m] - rows[:, :m]) / m).mean(axis=1) if spec.trend else np.zeros(n)
        seasons = rows[:, :m] / level[:, None] if spec.season == "mul" else rows[:, :m] - level[:, None]
    else:
        level, seasons = rows[:, 0].copy(), np.zeros((n, 1))
        trend = rows[:, 1] - rows[:, 0] if spec.trend else np.zeros(n)
    heuristic = lengths >= 10 + 2 * (m // 2)
    cycles = np.maximum(np.minimum(5, lengths // m), -(-(10 + 2 * (m // 2)) // m))  # of the seasonal heuristic
    for k in np.unique(cycles[heuristic]):  # NOTE: without a season (m = 1), ``cycles`` is unused
        chosen = np.flatnonzero(heuristic & (cycles == k))
        level[chosen], trend[chosen], seasons[chosen] = _heuristic_states(
            rows[chosen], lengths[chosen], spec, m, int(k)
        )
    return level, trend, seasons


def _heuristic_states(
    rows: np.ndarray, lengths: np.ndarray, spec: Spec, m: int, cycles: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """statsmodels' heuristic initial states of series ``rows`` ``(n, T)`` (Hyndman et al., 2008, section 2.6.1).

    With a season: the centred moving average of the first ``cycles`` seasons is the trend-cycle;
    the seasonal indices are the mean deviation from (ratio to) it per phase, normalised to mean 0
    (1). Level and trend: intercept and slope of the straight line through the first 10 values of
    the trend-cycle (of the series, without a season).
    """
    seasons = np.zeros((len(rows), 1))
    if spec.seasonal:
        part = np.full((len(rows), cycles * m), np.nan)  # NaN past each series' end
        covered = min(cycles * m, rows.shape[1])
        part[:, :covered] = np.where(np.arange(covered) < lengths[:, None], rows[:, :covered], np.nan)
        means = np.lib.stride_tricks.sliding_window_view(part, m, axis=1).mean(axis=2)
        centred = (means[:, :-1] + means[:, 1:]) / 2 if m % 2 == 0 else means
        covered = part[:, m // 2 : m // 2 + centred.shape[1]]
        detrended = np.full(part.shape, np.nan)
        detrended[:, m // 2 : m // 2 + centred.shape[1]] = (
            covered / centred if spec.season == "mul" else covered - centred
        )
        seasons = np.nanmean(detrended.reshape(len(rows), cycles, m), axis=1)
        mean = seasons.mean(axis=1, keepdims=True)
        seasons = seasons / mean if spec.season == "mul" else seasons - mean
        rows = centred
    x = np.arange(1.0, 11.0) - 5.5
    head = rows[:, :10]
    slope = (x * (head - head.mean(axis=1, keepdims=True))).sum(axis=1) / (x * x).sum()
    level = head.mean(axis=1) - slope * 5.5
    return level, slope if spec.trend else np.zeros(len(rows)), seasons


def _grid(spec: Spec) -> np.ndarray:
    """The grid of ``(α, β/α, γ/(1-α))`` points tried for ``spec``."""
    return np.array(
        [
            (a, b, g)
            for a in _GRID_ALPHA
            for b in (_GRID_BETA if spec.trend else (0.0,))
            for g in (_GRID_GAMMA if spec.seasonal else (0.0,))
        ]
    )


def _grid_start(
    values: np.ndarray, lengths: np.ndarray, layout: _Layout, level: np.ndarray, trend: np.ndarray, seasons: np.ndarray
) -> np.ndarray:
    """Per series, ``θ`` ``(n, p)`` at the grid point of least squared one-step error (the first on ties).

    Every grid point runs from the initial states ``level``, ``trend``, ``seasons`` ``(n, m)``
    with ``φ`` = :data:`PHI_START`, as statsmodels' brute-force start does.
    """
    spec, n = layout.spec, len(level)
    grid = _grid(spec)
    size = len(grid)
    alpha, beta, gamma = (grid[:, j, None] for j in range(3))  # (G, 1): grid point g of every series
    phi = np.full((size, 1), PHI_START if spec.damped else 1.0)
    errors = np.empty((len(values), size, n))
    with np.errstate(all="ignore"):
        _recursion(
            values[:, None, :],
            errors,
            np.repeat(level[None, :], size, axis=0),
            np.repeat(trend[None, :], size, axis=0),
            np.repeat(seasons.T[:, None, :], size, axis=1),
            (alpha, alpha * alpha * beta, (1 - alpha) * gamma, phi),
            spec.season == "mul",
        )
        sse = np.zeros((size, n))
        for t, error in enumerate(errors):  # NOTE: summed in time order, padding excluded
            sse += np.where(t < lengths, error * error, 0.0)
    sse = np.where(np.isfinite(sse), sse, np.inf).T  # (n, G)
    chosen = grid[np.argmin(sse, axis=1)]  # (n, 3)
    low, high = PHI_BOUNDS
    columns = [_logit(chosen[:, 0])]
    columns += [_logit(chosen[:, 1])] if spec.trend else []
    columns += [_logit(chosen[:, 2])] if spec.seasonal else []
    columns += [np.full(n, float(_logit(np.array((PHI_START - low) / (high - low)))))] if spec.damped else []
    columns += [level] + ([trend] if spec.trend else [])
    theta = np.column_stack(columns)
    return np.column_stack([theta, np.zeros((n, layout.m - 1))]) if spec.seasonal else theta


class _Buffers(dict[str, np.ndarray]):
    """Scratch arrays reused from one pass to the next (a fresh 100 MB array per pass costs its page faults)."""

    def take(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """An uninitialised array of ``shape``, a view of the buffer ``name`` (grown when too small)."""
        size = int(np.prod(shape))
        if name not in self or self[name].size < size:
            self[name] = np.empty(size)
        return self[name][:size].reshape(shape)


def _pass(
    theta: np.ndarray,
    values: np.ndarray,
    lengths: np.ndarray,
    layout: _Layout,
    seasons: np.ndarray,
    buffers: _Buffers,
    jacobian: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Squared error ``(k,)``, ``JᵀJ`` ``(k, p, p)`` and ``Jᵀe`` ``(k, p)`` at ``θ`` ``(k, p)``: one pass over time.

    ``values`` ``(T, k)`` and ``seasons`` ``(k, m)`` belong to the ``k`` rows of ``θ``. With
    ``jacobian``, the pass runs ``(p + 1, k)`` columns: ``[0, i]`` runs ``θ_i``, ``[1 + j, i]`` runs
    ``θ_i`` with parameter ``j`` moved by its forward-difference step; without, only ``θ`` (and
    ``JᵀJ``, ``Jᵀe`` are empty). The squared error is the same either way (the same column, summed
    the same way). A row whose ``JᵀJ`` or ``Jᵀe`` is not finite gets an infinite error.
    """
    k, p = theta.shape
    columns = p + 1 if jacobian else 1
    step = _STEP * np.maximum(1.0, np.abs(theta))
    step = (theta + step) - theta  # exactly representable steps
    trials = np.repeat(theta[None, :, :], columns, axis=0)  # (columns, k, p)
    trials[1:] += np.eye(p)[: columns - 1, None, :] * step[None, :, :]
    *coefficients, level, trend, initial = layout.unpack(trials.reshape(-1, p), np.tile(seasons, (columns, 1)))
    alpha, beta, gamma, phi = (c.reshape(columns, k) for c in coefficients)
    longest = int(lengths.max())
    padded = BLOCK * -(-longest // BLOCK)
    errors = buffers.take("errors", (longest, columns, k))
    with np.errstate(all="ignore"):
        _recursion(
            values[:longest, None, :],
            errors,
            level.reshape(columns, k),
            trend.reshape(columns, k),
            initial.reshape(-1, columns, k),
            (alpha, alpha * beta, gamma, phi),
            layout.spec.season == "mul",
        )
        rows = buffers.take("rows", (columns * k, padded))  # (column, series) by time
        rows[:, :longest] = errors.reshape(longest, -1).T
        rows = rows.reshape(columns, k, padded)
        np.copyto(rows, 0.0, where=(np.arange(padded)[None, :] >= lengths[:, None])[None])  # the padding
        rows[1:] -= rows[:1]  # [e, e_1 - e, ..., e_p - e]
        sse, gram = np.zeros(k), np.zeros((k, columns, columns))
        series = rows.transpose(1, 0, 2)  # (k, columns, T)
        for first in range(0, padded, BLOCK):  # NOTE: fixed blocks from each series' first value: the sums do
            error = rows[0, :, first : first + BLOCK]  # not depend on the other series' lengths
            sse += (error * error).sum(axis=1)
            if jacobian:
                block = series[:, :, first : first + BLOCK]
                gram += block @ block.transpose(0, 2, 1)
        gradient = gram[:, 1:, 0] / step[:, : columns - 1]
        normal = gram[:, 1:, 1:] / (step[:, : columns - 1, None] * step[:, None, : columns - 1])
    sse[~np.isfinite(sse)] = np.inf
    if jacobian:
        bad = ~(np.isfinite(normal).all(axis=(1, 2)) & np.isfinite(gradient).all(axis=1))
        sse[bad] = np.inf
        normal[bad], gradient[bad] = np.eye(p), 0.0
    return sse, normal, gradient


@dataclass
class _Search:
    """Levenberg-Marquardt searches, one per row: ``θ`` ``(k, p)`` and what each row's next step needs.

    Marquardt's damped Gauss-Newton step (the damping ``λ`` scales the diagonal of ``JᵀJ``), with
    Nielsen's update of ``λ`` from the gain ratio (actual over predicted decrease); the logits stay
    within ``±``:data:`_LOGIT_LIMIT`. A row stops when an accepted step lowers its error by less than
    :data:`TOLERANCE` of it, or ``λ`` exceeds :data:`MAX_DAMPING`.
    """

    theta: np.ndarray
    sse: np.ndarray
    normal: np.ndarray
    gradient: np.ndarray
    damping: np.ndarray
    growth: np.ndarray
    active: np.ndarray
    values: np.ndarray  # (T, k)
    lengths: np.ndarray
    seasons: np.ndarray
    layout: _Layout
    buffers: _Buffers

    @classmethod
    def start(
        cls, theta: np.ndarray, values: np.ndarray, lengths: np.ndarray, layout: _Layout, seasons: np.ndarray
    ) -> _Search:
        """Searches from the rows of ``theta`` (their error and normal equations computed)."""
        buffers = _Buffers()
        sse, normal, gradient = _pass(theta, values, lengths, layout, seasons, buffers)
        k = len(theta)
        active = np.isfinite(sse) & (sse > 0)
        return cls(
            theta.copy(),
            sse,
            normal,
            gradient,
            np.full(k, _LAMBDA),
            np.full(k, 2.0),
            active,
            values,
            lengths,
            seasons,
            layout,
            buffers,
        )

    def run(self, iterations: int) -> None:
        """At most ``iterations`` more steps of every active row."""
        diagonal = np.eye(self.theta.shape[1], dtype=bool)
        logits = self.layout.logits
        for _ in range(iterations):
            rows = np.flatnonzero(self.active)
            if not len(rows):
                break
            a, g = self.normal[rows], self.gradient[rows]
            damped = a.copy()
            scale = a[:, diagonal]  # (k, p): Marquardt's scaling, floored so that a parameter without effect stays put
            damped[:, diagonal] += self.damping[rows, None] * (
                scale + _FLOOR * (1.0 + scale.max(axis=1, keepdims=True))
            )
            trial = self.theta[rows] - np.linalg.solve(damped, g[:, :, None])[:, :, 0]
            trial[:, :logits] = np.clip(trial[:, :logits], -_LOGIT_LIMIT, _LOGIT_LIMIT)
            step = trial - self.theta[rows]
            predicted = -2.0 * (step * g).sum(axis=1) - (step * (a @ step[:, :, None])[:, :, 0]).sum(axis=1)
            values, lengths, seasons = self.values[:, rows], self.lengths[rows], self.seasons[rows]
            if len(rows) * (trial.shape[1] + 1) <= _TOGETHER:  # NOTE: the same numbers either way, only faster
                trial_sse, trial_normal, trial_gradient = _pass(
                    trial, values, lengths, self.layout, seasons, self.buffers
                )
                better = np.flatnonzero(trial_sse < self.sse[rows])
                trial_normal, trial_gradient = trial_normal[better], trial_gradient[better]
            else:  # the normal equations only where the step is taken
                trial_sse = _pass(trial, values, lengths, self.layout, seasons, self.buffers, jacobian=False)[0]
                better = np.flatnonzero(trial_sse < self.sse[rows])
                trial_normal, trial_gradient = a[:0], g[:0]
                if len(better):
                    trial_sse[better], trial_normal, trial_gradient = _pass(
                        trial[better], values[:, better], lengths[better], self.layout, seasons[better], self.buffers
                    )
                    usable = np.isfinite(trial_sse[better])  # a Jacobian that is not finite: no step
                    better, trial_normal, trial_gradient = better[usable], trial_normal[usable], trial_gradient[usable]
            won, lost = rows[better], np.setdiff1d(rows, rows[better])
            decrease = self.sse[won] - trial_sse[better]
            with np.errstate(over="ignore"):
                gain = decrease / np.maximum(predicted[better], np.finfo(float).tiny)
            settled = decrease <= TOLERANCE * self.sse[won]
            self.theta[won], self.sse[won] = trial[better], trial_sse[better]
            self.normal[won], self.gradient[won] = trial_normal, trial_gradient
            self.damping[won] *= np.maximum(1 / 3, 1 - (2 * np.minimum(gain, 1.0) - 1) ** 3)
            self.growth[won] = 2.0
            self.damping[lost] *= self.growth[lost]
            self.growth[lost] *= 2.0
            self.active[won[settled | (self.sse[won] == 0)]] = False
            self.active[lost[self.damping[lost] > MAX_DAMPING]] = False
