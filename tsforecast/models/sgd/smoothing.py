"""The ``"es"`` base family of :class:`~tsforecast.models.sgd.SGDForecaster`: exponential smoothing.

Per series, damped additive-trend Holt-Winters: on a positive series (model space ``z`` its log)
fitted on the values ``y = exp(z)`` themselves with a multiplicative season -- the ``ETS(A, Ad, M)``
model, a damped *linear* trend on ``y`` -- its forecast's log being the base; on any other series
on ``z = y`` with an additive season. Its smoothing parameters and initial states (:class:`Smoothing`) are fitted on the
training history by :mod:`~tsforecast.models.sgd.smoothing_fit` (those of the training windows on
the values before the first validation target); with those fixed parameters the recursion then
runs forward over a history
(:func:`smoothing_states`), so the base forecast from origin ``t`` -- the ES forecast made from the
state after ``z[t]`` -- reads ``z[: t + 1]`` only. The states after every value take O(T) memory;
:meth:`SmoothingStates.forecasts` computes the ``(N, h)`` base forecasts of any ``N`` origins from
them (a training batch's), so the ``(T, h)`` forecasts of every origin are never stored. A
member of this family learns the scaled residual over that base, exactly as the window-based
families do.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Smoothing", "SmoothingStates", "smoothing_forecasts", "smoothing_states"]


@dataclass(frozen=True)
class Smoothing:
    """Fitted damped Holt-Winters parameters of one series (additive trend and season, model space).

    Attributes
    ----------
    alpha, beta, gamma : float
        Smoothing parameters of the level, trend and seasonal indices (statsmodels' ``smoothing_*``).
    phi : float
        Trend damping; 1 for an undamped fallback.
    level, trend : float
        Initial level ``ℓ₀`` and trend ``b₀``.
    seasons : tuple of float
        Initial seasonal indices ``s₀ … s_{m-1}``, aligned to the first observation; ``(0.0,)``
        without a season.
    spec : str
        Which model was fitted: of statsmodels' fallback chain ``"damped seasonal"``, ``"damped"``,
        ``"holt"``, ``"simple"``, or ``"naive"`` when every statsmodels fit failed; of the joint fit
        of many series ``"damped seasonal, joint"`` or ``"damped, joint"``.
    multiplicative : bool
        Fitted on the values ``y = exp(z)`` of a positive series, with a multiplicative season (the
        ``ETS(A, Ad, M)`` model): level and trend in units of ``y``, seasonal indices are factors
        (``(1.0,)`` without a season). Otherwise on ``z``, with an additive season.
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
    """The damped Holt-Winters states after every value of some histories, series after series.

    Attributes
    ----------
    level, trend : numpy.ndarray
        ``ℓ_t`` and ``b_t`` after each of the ``T`` values, shape ``(T,)``.
    seasons : numpy.ndarray
        Per series, its ``m`` initial seasonal indices, then ``s_t`` of each of its values:
        shape ``(T + n·m,)``.
    damping : numpy.ndarray
        ``φ + … + φᵏ`` of each series for ``k = 1 … h``, shape ``(n, h)``.
    ends : numpy.ndarray
        One past the last row of each series, shape ``(n,)``.
    values : numpy.ndarray or None
        Multiplicative states only: the values ``y_t``, shape ``(T,)`` (a forecast is floored at a
        tenth of its origin's value before its log is taken).
    """

    level: np.ndarray
    trend: np.ndarray
    seasons: np.ndarray
    damping: np.ndarray
    ends: np.ndarray
    values: np.ndarray | None = None

    def forecasts(self, rows: np.ndarray) -> np.ndarray:
        """The forecasts from origins ``rows`` (rows of the concatenated histories): ``(len(rows), h)``.

        Row ``i`` forecasts the ``h`` values after row ``rows[i]`` from the states after it;
        ``F[t, k] = ℓ_t + (φ + … + φ^k) b_t + s_{t + k − m(⌊(k−1)/m⌋ + 1)}``; with multiplicative
        states, ``log max((ℓ_t + (φ + … + φ^k) b_t) · s_{…}, y_t / 10)`` (model space).
        """
        rows = np.asarray(rows)
        owner = np.searchsorted(self.ends, rows, side="right")
        m = (len(self.seasons) - len(self.level)) // len(self.ends)
        k = np.arange(1, self.damping.shape[1] + 1)
        lag = k - m * ((k - 1) // m + 1)  # the seasonal index of step k is that of time t + lag (lag <= 0)
        phase = (rows + m * (owner + 1))[:, None] + lag[None, :]  # positions in ``seasons``
        trended = self.level[rows, None] + self.trend[rows, None] * self.damping[owner]
        if self.values is None:
            return trended + self.seasons[phase]
        forecast = trended * self.seasons[phase]
        floor = self.values[rows, None] / 10  # NOTE: a trend extrapolated below zero (or broken states) stays finite
        with np.errstate(invalid="ignore"):
            return np.log(np.where(np.isfinite(forecast) & (forecast > floor), forecast, floor))


def smoothing_states(histories: list[np.ndarray], params: list[Smoothing], horizon: int) -> SmoothingStates:
    """The states after every value of each history, from its parameters: the recursion.

    With fixed parameters, from the initial states (``s`` the seasonal indices, ``m`` their
    number)::

        ℓ_t = α (z_t − s_{t−m}) + (1 − α)(ℓ_{t−1} + φ b_{t−1})
        b_t = β (ℓ_t − ℓ_{t−1}) + (1 − β) φ b_{t−1}
        s_t = γ (z_t − ℓ_{t−1} − φ b_{t−1}) + (1 − γ) s_{t−m}

    or, for :attr:`Smoothing.multiplicative` parameters, on ``y = exp(z)`` with ``y_t / s_{t−m}``
    and ``y_t / (ℓ_{t−1} + φ b_{t−1})`` in place of the differences (statsmodels' recursion). The
    states after ``z[t]`` depend on ``z[: t + 1]`` and the parameters only. The series are
    processed together (a loop over time whose steps are vector operations over the series); each
    must have as many initial seasonal indices as the others, and all are multiplicative or none.
    """
    lengths = np.array([len(z) for z in histories])
    longest, m = int(lengths.max()), len(params[0].seasons)
    multiplicative = params[0].multiplicative
    values = np.ones((len(histories), longest))  # NOTE: padded after each series' end; those rows are dropped
    for row, z in enumerate(histories):
        values[row, : len(z)] = np.exp(z) if multiplicative else z
    alpha, beta, gamma, phi = (
        np.array([getattr(p, name) for p in params]) for name in ("alpha", "beta", "gamma", "phi")
    )
    level = np.array([p.level for p in params])
    trend = np.array([p.trend for p in params])
    seasons = np.empty((len(histories), longest + m))  # seasons[:, j + m] is the index of time j
    seasons[:, :m] = np.array([p.seasons for p in params])
    levels, trends = np.empty((len(histories), longest)), np.empty((len(histories), longest))
    for t in range(longest):  # NOTE: the recursion is sequential in time; each step is vectorised over series
        previous, damped = level, phi * trend
        if multiplicative:
            with np.errstate(divide="ignore", invalid="ignore"):  # broken states give floored forecasts
                level = alpha * values[:, t] / seasons[:, t] + (1 - alpha) * (previous + damped)
                seasons[:, t + m] = gamma * values[:, t] / (previous + damped) + (1 - gamma) * seasons[:, t]
        else:
            level = alpha * (values[:, t] - seasons[:, t]) + (1 - alpha) * (previous + damped)
            seasons[:, t + m] = gamma * (values[:, t] - previous - damped) + (1 - gamma) * seasons[:, t]
        trend = beta * (level - previous) + (1 - beta) * damped
        levels[:, t], trends[:, t] = level, trend
    held = np.arange(longest)[None, :] < lengths[:, None]  # the rows of each series, series after series
    return SmoothingStates(
        level=levels[held],
        trend=trends[held],
        seasons=seasons[np.c_[np.ones((len(histories), m), dtype=bool), held]],
        damping=np.cumsum(phi[:, None] ** np.arange(1, horizon + 1)[None, :], axis=1),
        ends=np.cumsum(lengths),
        values=values[held] if multiplicative else None,
    )


def smoothing_forecasts(histories: list[np.ndarray], params: list[Smoothing], horizon: int) -> list[np.ndarray]:
    """Per series, the ES forecasts from every origin: ``F[t, k-1]`` forecasts ``z[t + k]``, shape ``(n, h)``.

    :func:`smoothing_states`, then :meth:`SmoothingStates.forecasts` of every row. Row ``t``
    depends on ``z[: t + 1]`` and the parameters only. Its ``k = 1`` column equals statsmodels'
    ``fittedvalues[t + 1]``.

    Examples
    --------
    >>> p = Smoothing(1.0, 0.0, 0.0, 1.0, 0.0, 0.0, (0.0,), "naive")
    >>> smoothing_forecasts([np.array([1.0, 2.0, 3.0])], [p], 2)[0]
    array([[1., 1.],
           [2., 2.],
           [3., 3.]])
    """
    states = smoothing_states(histories, params, horizon)
    return [states.forecasts(np.arange(end - len(z), end)) for z, end in zip(histories, states.ends, strict=True)]
