"""Fitting the ``"es"`` family's damped Holt-Winters parameters (:class:`~.smoothing.Smoothing`).

Two ways, one model (additive damped trend; a multiplicative season on ``y = exp(z)`` when
``multiplicative``, else an additive season on the model-space values ``z``; smoothing parameters
and initial states estimated by least squares on the one-step-ahead errors):

- a few series (fewer than :data:`JOINT_FIT_SERIES`): statsmodels ``ExponentialSmoothing``, one
  series at a time, with a fallback chain (:func:`fit_smoothing`);
- a panel of many series: every series at once (:func:`fit_panel_smoothing`), because one
  statsmodels fit takes about 0.1 s, so a global model on thousands of series would spend most of
  its fit there. The one-step errors of all series are computed by one recursion whose steps are
  vector operations over the series, and each series' parameters are fitted to its own squared
  errors by Adam (:class:`torch.optim.Adam`, per-parameter steps; the series do not interact), from
  the best point of a coarse grid of smoothing parameters -- the way statsmodels starts its own
  optimiser (a multiplicative series is divided by its mean first, as the model is scale-free,
  and its level and trend are multiplied back). statsmodels' bounds are kept:
  ``0 ≤ β ≤ α ≤ 1``, ``0 ≤ γ ≤ 1 − α``, ``0.8 ≤ φ ≤ 0.995``. On the series of
  ``tests/test_sgd_smoothing.py`` the joint fit's squared error is within a few percent of
  statsmodels' (the test bounds it).

Both read at most the first :data:`FIT_POINTS` values of a history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from .smoothing import Smoothing

__all__ = ["FIT_POINTS", "JOINT_FIT_SERIES", "fit_panel_smoothing", "fit_smoothing"]

FIT_POINTS = 10_000
"""The most values of a history the parameters are fitted on: its first ones (the fit time grows with them)."""

JOINT_FIT_SERIES = 64
"""Panels of at least this many series are fitted jointly (:func:`fit_panel_smoothing`); smaller ones by statsmodels."""

_CHUNK = 4_096  # series fitted together at most (the recursion's autograd graph takes ~T · 15 floats per series)
_STEPS = 150  # Adam steps of the joint fit
_RATE = 0.05  # Adam's learning rate (parameters are on a logit scale, initial states in units of the series' spread)
_PHI_LOW, _PHI_HIGH = 0.8, 0.995  # statsmodels' bounds of the damping
_TINY = 1e-6  # the least denominator of the multiplicative recursion (values divided by their mean)
_GRID = [  # (alpha, beta / alpha, gamma / (1 - alpha)): the starting points tried
    (a, b, g) for a in np.linspace(0.05, 0.95, 7) for b in (0.0, 0.1, 0.5) for g in (0.0, 0.2, 0.6)
]

# (name, trend, damped, seasonal): tried in this order until a fit succeeds with finite parameters
_CHAIN = (
    ("damped seasonal", True, True, True),
    ("damped", True, True, False),
    ("holt", True, False, False),
    ("simple", False, False, False),
)


def _statsmodels_fit(
    values: np.ndarray, season: int, trend: bool, damped: bool, seasonal: bool, multiplicative: bool
) -> Smoothing | None:
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    from ..statistical import _fitting

    with _fitting():
        try:
            params: dict[str, Any] = (
                ExponentialSmoothing(
                    values,
                    trend="add" if trend else None,
                    damped_trend=damped,
                    seasonal=("mul" if multiplicative else "add") if seasonal else None,
                    seasonal_periods=season if seasonal else None,
                    initialization_method="estimated",
                )
                .fit()
                .params
            )
        except Exception:  # NOTE: statsmodels raises many types (linalg, value, optimizer) on degenerate data
            return None
    flat = (1.0,) if multiplicative else (0.0,)
    seasons = tuple(float(s) for s in np.asarray(params["initial_seasons"])) if seasonal else flat
    fitted = Smoothing(
        alpha=float(params["smoothing_level"]),
        beta=float(params["smoothing_trend"]) if trend else 0.0,
        gamma=float(params["smoothing_seasonal"]) if seasonal else 0.0,
        phi=float(params["damping_trend"]) if damped else 1.0,
        level=float(params["initial_level"]),
        trend=float(params["initial_trend"]) if trend else 0.0,
        seasons=seasons,
        spec="",
        multiplicative=multiplicative,
    )
    return fitted if _finite(fitted) else None


def _finite(p: Smoothing) -> bool:
    return bool(np.isfinite([p.alpha, p.beta, p.gamma, p.phi, p.level, p.trend, *p.seasons]).all())


def fit_smoothing(z: np.ndarray, season: int, multiplicative: bool = False) -> Smoothing:
    """Damped Holt-Winters parameters of one training history ``z`` (model space), by statsmodels.

    ``multiplicative``: fitted on ``exp(z)`` with a multiplicative season (``z`` the log of a
    positive series; :attr:`~.smoothing.Smoothing.multiplicative`), else on ``z`` with an additive one.

    They are fitted on the first :data:`FIT_POINTS` values of ``z`` (all of an ordinary history),
    so the initial states stay aligned with its first value and the fit takes bounded time on a
    long series (on one, those values also precede every validation target).
    Tries, in order, damped trend with a season (``season > 1`` only), damped trend,
    Holt's linear trend and simple exponential smoothing; the first statsmodels fit that succeeds
    with finite parameters is kept. When all fail, the parameters of the naive forecast (the last
    value) are returned, which cannot fail.

    Examples
    --------
    >>> t = np.arange(48)
    >>> fit_smoothing(10 + 0.1 * t + np.sin(2 * np.pi * t / 12), 12).spec
    'damped seasonal'
    """
    values = np.asarray(z[:FIT_POINTS], dtype="float64")
    values = np.exp(values) if multiplicative else values
    for name, trend, damped, seasonal in _CHAIN:
        if seasonal and season < 2:
            continue
        fitted = _statsmodels_fit(values, season, trend, damped, seasonal, multiplicative)
        if fitted is not None:
            return replace(fitted, spec=name)
    flat = (1.0,) if multiplicative else (0.0,)
    return Smoothing(1.0, 0.0, 0.0, 1.0, float(values[0]), 0.0, flat, "naive", multiplicative)


def fit_panel_smoothing(histories: Sequence[np.ndarray], season: int, multiplicative: bool = False) -> list[Smoothing]:
    """Damped Holt-Winters parameters of each history: statsmodels one by one, or all jointly on a panel.

    Fewer than :data:`JOINT_FIT_SERIES` histories: :func:`fit_smoothing` each. More: the joint fit
    (module docstring), in chunks of at most 4,096 series; a series' parameters depend on its own
    values only, not on the other series of the panel. A series whose joint fit is not finite is
    fitted by :func:`fit_smoothing`. ``multiplicative`` as in :func:`fit_smoothing`.

    Examples
    --------
    >>> t = np.arange(36)
    >>> panel = [10 + 0.1 * t + np.sin(2 * np.pi * (t + k) / 12) for k in range(64)]
    >>> {p.spec for p in fit_panel_smoothing(panel, 12)}
    {'damped seasonal, joint'}
    """
    if len(histories) < JOINT_FIT_SERIES:
        return [fit_smoothing(z, season, multiplicative) for z in histories]
    fitted: list[Smoothing] = []
    for first in range(0, len(histories), _CHUNK):
        fitted.extend(_fit_jointly([z[:FIT_POINTS] for z in histories[first : first + _CHUNK]], season, multiplicative))
    return [
        p if _finite(p) else fit_smoothing(z, season, multiplicative) for p, z in zip(fitted, histories, strict=True)
    ]


def _initial_states(values: np.ndarray, mask: np.ndarray, m: int, multiplicative: bool) -> tuple[np.ndarray, ...]:
    """statsmodels' simple initialisation per series: level the mean of the first season, trend the change of
    that mean to the second season per step (0 if shorter), seasons the first season's deviations from it
    (ratios to it when multiplicative; padding, after a series' end, is never read)."""
    first = (values[:, :m] * mask[:, :m]).sum(axis=1) / mask[:, :m].sum(axis=1)
    whole = mask[:, : 2 * m].sum(axis=1) == 2 * m  # the series holds two seasons
    second = values[:, m : 2 * m].sum(axis=1) / m if values.shape[1] >= 2 * m else first
    trend = np.where(whole, (second - first) / m, 0.0)
    flat = 1.0 if multiplicative else 0.0
    if m == 1:
        return first, trend, np.full((len(values), 1), flat)
    seasons = values[:, :m] / first[:, None] if multiplicative else values[:, :m] - first[:, None]
    return first, trend, np.where(mask[:, :m] > 0, seasons, flat)


def _step(
    y: Any, weight: Any, level: Any, trend: Any, season: Any, params: tuple[Any, ...], multiplicative: bool
) -> tuple:
    """One step of the recursion (:func:`~.smoothing.smoothing_states`, in error-correction form), element-wise on
    numpy arrays or tensors: the one-step error (times ``weight``: 0 on padding) and the level, trend and seasonal
    index after it. ``params`` are ``(alpha, alpha · beta, gamma, phi)``."""
    alpha, alpha_beta, gamma, phi = params
    damped = phi * trend
    base = level + damped
    if multiplicative:  # NOTE: denominators clipped, so padding and wild trial parameters stay finite
        error = (y - base * season) * weight
        relative = error / season.clip(min=_TINY)
        return (
            error,
            base + alpha * relative,
            damped + alpha_beta * relative,
            season + gamma * error / base.clip(min=_TINY),
        )
    error = (y - base - season) * weight
    return error, base + alpha * error, damped + alpha_beta * error, season + gamma * error


def _grid_start(
    values: np.ndarray, mask: np.ndarray, m: int, states: tuple[np.ndarray, ...], multiplicative: bool
) -> np.ndarray:
    """Per series, the grid point ``(alpha, beta/alpha, gamma/(1-alpha))`` with the least squared one-step error."""
    grid = np.array(_GRID if m > 1 else [p for p in _GRID if p[2] == 0.0])
    params = (grid[:, 0], grid[:, 0] ** 2 * grid[:, 1], (1 - grid[:, 0]) * grid[:, 2], 0.98)
    level = np.repeat(states[0][:, None], len(grid), axis=1)
    trend = np.repeat(states[1][:, None], len(grid), axis=1)
    seasons = [np.repeat(states[2][:, j, None], len(grid), axis=1) for j in range(m)]
    sse = np.zeros_like(level)
    for t in range(values.shape[1]):  # NOTE: sequential in time; each step is vectorised over series and grid points
        error, level, trend, seasons[t % m] = _step(
            values[:, t, None], mask[:, t, None], level, trend, seasons[t % m], params, multiplicative
        )
        sse += error * error
    return grid[np.argmin(sse, axis=1)]


def _fit_jointly(histories: Sequence[np.ndarray], season: int, multiplicative: bool) -> list[Smoothing]:
    """The joint fit of one chunk of series (module docstring); multiplicative: on ``exp(z)`` divided by its mean,
    the level and trend multiplied back."""
    import torch

    m = max(season, 1)
    ys = [np.exp(z) for z in histories] if multiplicative else list(histories)
    unit = np.array([y.mean() for y in ys]) if multiplicative else np.ones(len(ys))
    lengths = np.array([len(y) for y in ys])
    values = np.full((len(ys), lengths.max()), 1.0 if multiplicative else 0.0)
    mask = np.zeros((len(ys), lengths.max()))
    for row, y in enumerate(ys):  # NOTE: padded after each series' end, where errors are masked out
        values[row, : len(y)], mask[row, : len(y)] = y / unit[row], 1.0
    states = _initial_states(values, mask, m, multiplicative)
    start = _grid_start(values, mask, m, states, multiplicative)
    spread = np.array([np.std(row[:n]) for row, n in zip(values, lengths, strict=True)])
    spread = np.where(spread > 0, spread, 1.0)

    def logit(p: np.ndarray) -> np.ndarray:
        p = np.clip(p, 1e-3, 1 - 1e-3)
        return np.log(p / (1 - p))

    phi0 = (0.98 - _PHI_LOW) / (_PHI_HIGH - _PHI_LOW)
    raw = torch.tensor(
        np.c_[logit(start[:, 0]), logit(start[:, 1]), logit(start[:, 2]), np.full(len(start), logit(np.array(phi0)))],
        requires_grad=True,
    )
    shift = torch.zeros((len(ys), 2 + m), dtype=torch.float64, requires_grad=True)
    y_all, weight, scale = torch.as_tensor(values), torch.as_tensor(mask), torch.as_tensor(spread)
    level0, trend0, seasons0 = (torch.as_tensor(a) for a in states)
    points = torch.as_tensor(lengths, dtype=torch.float64)
    season_unit = torch.ones_like(scale) if multiplicative else scale  # factors move in their own unit

    def parameters() -> tuple[torch.Tensor, ...]:
        alpha = torch.sigmoid(raw[:, 0])
        beta = alpha * torch.sigmoid(raw[:, 1])
        gamma = (1 - alpha) * torch.sigmoid(raw[:, 2]) if m > 1 else torch.zeros_like(alpha)
        phi = _PHI_LOW + (_PHI_HIGH - _PHI_LOW) * torch.sigmoid(raw[:, 3])
        level = level0 + scale * shift[:, 0]
        trend = trend0 + scale * shift[:, 1] / m
        # NOTE: element-wise operations only (no reduction over series or seasons), so the result does not
        # depend on torch's thread count
        seasons = seasons0 + season_unit[:, None] * shift[:, 2:] if m > 1 else seasons0
        return alpha, beta, gamma, phi, level, trend, seasons

    def cost() -> torch.Tensor:
        alpha, beta, gamma, phi, level, trend, initial = parameters()
        seasons, sse = list(initial.unbind(dim=1)), torch.zeros_like(level)
        params = (alpha, alpha * beta, gamma, phi)
        for t in range(values.shape[1]):
            error, level, trend, seasons[t % m] = _step(
                y_all[:, t], weight[:, t], level, trend, seasons[t % m], params, multiplicative
            )
            sse = sse + error * error
        return sse / (scale * scale * points)  # each series' mean squared error in units of its spread

    optimiser = torch.optim.Adam([raw, shift], lr=_RATE)
    for _ in range(_STEPS):
        optimiser.zero_grad()
        cost().sum().backward()  # the series' costs are independent: each gets its own gradient (exactly 1 · ∂cost)
        optimiser.step()
    with torch.no_grad():
        alpha, beta, gamma, phi, level, trend, seasons = (p.numpy() for p in parameters())
    spec = "damped seasonal, joint" if m > 1 else "damped, joint"
    flat = (1.0,) if multiplicative else (0.0,)
    return [
        Smoothing(
            alpha=float(alpha[i]),
            beta=float(beta[i]),
            gamma=float(gamma[i]),
            phi=float(phi[i]),
            level=float(level[i] * unit[i]),
            trend=float(trend[i] * unit[i]),
            seasons=tuple(float(s) for s in seasons[i]) if m > 1 else flat,
            spec=spec,
            multiplicative=multiplicative,
        )
        for i in range(len(ys))
    ]
