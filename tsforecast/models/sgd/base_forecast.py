"""The base forecasts of :class:`~tsforecast.models.sgd.SGDForecaster` and the per-window normalisation.

Every member of the ensemble forecasts ``base + scale · r``: ``base`` is a fixed linear map of the
input window, ``r`` the network's scaled residual. The families of base:

- ``"drift"`` (:func:`drift_base_matrix`): seasonal naive with drift, averaged over the seasons
  the window holds;
- ``"decomposed"`` (:func:`damped_base_matrix` on a window whose :func:`seasonal_indices` were
  removed): the last season's level plus a damped slope;
- ``"es"``: not a function of the window but of its origin, the damped Holt-Winters forecast made
  there (:mod:`tsforecast.models.smoothing`), with the parameters of :func:`es_parameters`.

:func:`normalise` turns windows into network inputs, base forecasts and scales. Everything here is
a pure function of one window (or, for the seasonal indices and the ``"es"`` parameters, of the
history a forecast is made from), so nothing can leak across windows or from the future.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import torch
from statsmodels.tsa.seasonal import seasonal_decompose

from ..smoothing import SeasonKind, Smoothing, Spec, estimate_chains

__all__ = [
    "FAMILIES",
    "FIT_POINTS",
    "Recipe",
    "damped_base_matrix",
    "drift_base_matrix",
    "es_parameters",
    "family_base_matrix",
    "normalise",
    "seasonal_indices",
]

FAMILIES = ("drift", "decomposed", "es")
"""Base-forecast families of the ensemble members (see :class:`Recipe`)."""

FIT_POINTS = 10_000
"""The most values of a history the ``"es"`` parameters are fitted on: its first ones (the fit time grows with them)."""

_DAMPING = 0.9


@dataclass(frozen=True)
class Recipe:
    """What one ensemble member learns.

    Attributes
    ----------
    family : {"drift", "decomposed", "es"}
        The base forecast the network corrects:

        - ``"drift"``: for step ``k``, the mean over every whole season ``j`` back that the window
          holds of (the value ``j`` seasons back at the same phase ``+ j·d``), ``d`` the window's
          mean seasonal difference -- a seasonal naive forecast with drift, averaged;
        - ``"decomposed"``: classical additive seasonal indices of the history are removed, the base
          is the last season's mean plus a damped slope ``d·(φ + … + φ^k)``, ``φ = 0.9``, ``d`` the
          change between the last two seasons' means per step; the indices are added back;
        - ``"es"``: damped Holt-Winters from the window's origin, its parameters fitted on the
          training history (:mod:`~tsforecast.models.sgd.smoothing`; for the training windows,
          on the values before the first validation target); not a map of the window, so
          its base matrix is zero and the base is added per origin.
    lookback : int
        Input window length ``L``.
    loss : {"huber", "l1", "mse"}
        Cost on the scaled residuals (Huber with ``δ = 0.5``).
    recency : float
        Windows are weighted by ``exp(-recency · age)``, age of a window's last target before the
        end of its series in seasons (in horizons for non-seasonal data); 0 weighs all alike.
    """

    family: str
    lookback: int
    loss: str
    recency: float


def _seasonal_difference_weights(lookback: int, season: int) -> np.ndarray:
    """Weights ``g`` with ``g @ w`` = the mean of ``w[i] - w[i - season]`` over the window ``w``."""
    count = lookback - season
    weights = np.zeros(lookback)
    weights[season:] += 1.0 / count
    weights[:count] -= 1.0 / count
    return weights


def drift_base_matrix(lookback: int, horizon: int, season: int) -> np.ndarray:
    """The ``"drift"`` base as a matrix ``B`` of shape ``(L, h)``: ``base = window @ B``.

    Step ``k`` averages, over every ``j >= ceil(k / season)`` whose value ``j`` seasons before
    ``T + k`` lies in the window, ``w[T + k - j·season] + j·d`` with ``d`` the mean seasonal
    difference of the window. Needs ``lookback > season``.

    Examples
    --------
    >>> window = np.array([1.0, 2.0, 3.0, 4.0])  # a line: the base continues it
    >>> window @ drift_base_matrix(4, 2, 1)
    array([5., 6.])
    """
    slope = _seasonal_difference_weights(lookback, season)
    matrix = np.zeros((lookback, horizon))
    last = lookback - 1
    for k in range(1, horizon + 1):
        seasons_back = [j for j in range(-(-k // season), (last + k) // season + 1) if last + k - j * season >= 0]
        for j in seasons_back:
            matrix[last + k - j * season, k - 1] += 1.0 / len(seasons_back)
            matrix[:, k - 1] += j * slope / len(seasons_back)
    return matrix


def damped_base_matrix(lookback: int, horizon: int, season: int) -> np.ndarray:
    """The ``"decomposed"`` base (on a seasonally adjusted window) as a matrix of shape ``(L, h)``.

    ``base_k = mean(last block) + d·(φ + … + φ^k)`` with ``d = (mean(last block) - mean(block
    before)) / block``, ``φ = 0.9`` and ``block = season`` (``min(horizon, L // 2)`` without a
    season). Needs ``lookback >= 2·block``.

    Examples
    --------
    >>> window = np.array([1.0, 1.0, 1.0, 1.0])  # a constant stays constant
    >>> window @ damped_base_matrix(4, 2, 1)
    array([1., 1.])
    """
    block = season if season > 1 else max(1, min(horizon, lookback // 2))
    level = np.zeros(lookback)
    level[-block:] = 1.0 / block
    before = np.zeros(lookback)
    before[lookback - 2 * block : lookback - block] = 1.0 / block
    damping = np.cumsum(_DAMPING ** np.arange(1, horizon + 1))
    return level[:, None] + ((level - before) / block)[:, None] * damping[None, :]


def family_base_matrix(recipe: Recipe, horizon: int, season: int) -> torch.Tensor:
    """The base of ``recipe``'s family as a float32 matrix of shape ``(L, h)``: ``base = window @ matrix``.

    Zero for ``"es"``, whose base is not a function of the window (it is added per origin).
    """
    if recipe.family == "es":
        return torch.zeros(recipe.lookback, horizon)
    build = drift_base_matrix if recipe.family == "drift" else damped_base_matrix
    return torch.as_tensor(build(recipe.lookback, horizon, season), dtype=torch.float32)


def seasonal_indices(z: np.ndarray, season: int) -> np.ndarray:
    """Classical additive seasonal indices of one history, phase-aligned to its first position.

    Returns the ``season`` values of ``statsmodels.tsa.seasonal.seasonal_decompose`` (centred moving
    average trend); zeros when ``season == 1``. Needs ``len(z) >= 2·season``.
    """
    if season == 1:
        return np.zeros(1)
    return np.asarray(seasonal_decompose(z, period=season, model="additive").seasonal[:season])


def normalise(
    windows: torch.Tensor, base_matrix: torch.Tensor, season: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-window normalisation: network inputs, base forecasts and scales of windows ``(N, C, L)``.

    With ``w`` the target channel of a window, ``scale = mean |w[i] - w[i - season]|`` (floored at
    ``1e-6·(1 + mean |w|)``), target inputs ``(w - mean(w)) / scale`` and ``base = w @ base_matrix``.
    Every other channel ``x`` (a past-only covariate) is normalised by its own statistics in the
    window: ``(x - mean(x)) / std(x)``, the standard deviation floored at ``1e-6·(1 + mean |x|)``.
    Each statistic uses the input window only, so normalisation cannot leak across windows or
    from the future.

    Returns
    -------
    inputs : Tensor of shape (N, C, L)
    base : Tensor of shape (N, h)
    scale : Tensor of shape (N, 1)
    """
    w = windows[:, 0, :]
    floor = 1e-6 * (1.0 + w.abs().mean(dim=1, keepdim=True))
    scale = (w[:, season:] - w[:, :-season]).abs().mean(dim=1, keepdim=True).maximum(floor)
    if windows.shape[1] == 1:  # NOTE: the univariate path, kept exactly as it always was (bit-identical forecasts)
        inputs = (windows - w.mean(dim=1, keepdim=True)[:, :, None]) / scale[:, :, None]
        return inputs, w @ base_matrix, scale
    target = (windows[:, :1] - w.mean(dim=1, keepdim=True)[:, :, None]) / scale[:, :, None]
    others = windows[:, 1:]
    spread = others.std(dim=2, keepdim=True).maximum(1e-6 * (1.0 + others.abs().mean(dim=2, keepdim=True)))
    return torch.cat([target, (others - others.mean(dim=2, keepdim=True)) / spread], dim=1), w @ base_matrix, scale


def es_parameters(histories: Sequence[np.ndarray], season: int, multiplicative: bool = False) -> list[Smoothing]:
    """The ``"es"`` base's damped Holt-Winters parameters of each model-space history ``z``.

    ``multiplicative``: the histories are the logs of positive series, and the model is fitted on
    the values ``exp(z)`` with a multiplicative season (``ETS(A, Ad, M)``; a model without a
    season is then stored with the single factor ``(1.0,)``, so that every parameter set says it
    runs on ``exp(z)``, :attr:`Smoothing.multiplicative`); otherwise on ``z`` with an additive
    season. Each history is fitted on its first :data:`FIT_POINTS` values (so the initial states
    stay aligned with its first value and the fit takes bounded time) by
    :func:`~tsforecast.models.smoothing.estimate_smoothing`, all histories at once: damped trend
    with a season (``season > 1`` and two whole seasons only), then damped trend, Holt's linear
    trend (two values or more) and simple exponential smoothing, the first finite estimate kept;
    the naive forecast (``α = 1``) when none is. A history's parameters depend on its own values only.

    Examples
    --------
    >>> t = np.arange(48)
    >>> es_parameters([10 + 0.1 * t + np.sin(2 * np.pi * t / 12)], 12)[0].spec
    'damped additive trend, additive season'
    """
    values = [np.asarray(z[:FIT_POINTS], dtype="float64") for z in histories]
    values = [np.exp(z) for z in values] if multiplicative else values
    kind: SeasonKind = "mul" if multiplicative else "add"
    chains = [
        [
            *([Spec(True, True, kind)] if season > 1 and len(y) >= 2 * season else []),
            *([Spec(True, True), Spec(True, False)] if len(y) >= 2 else []),
            Spec(False, False),
        ]
        for y in values
    ]
    flat = (1.0,) if multiplicative else (0.0,)
    fitted = []
    for y, p in zip(values, estimate_chains(values, chains, season), strict=True):
        if p is None:
            p = Smoothing(1.0, 0.0, 0.0, 1.0, float(y[0]), 0.0, flat, "naive", multiplicative)
        fitted.append(replace(p, seasons=flat, multiplicative=multiplicative) if len(p.seasons) == 1 else p)
    return fitted
