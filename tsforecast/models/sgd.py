"""A small torch network trained by decayed SGD on ordered windows: :class:`SGDForecaster`.

The forecaster is an ensemble of *members*. Each member is one explicit :class:`Recipe`: a base
forecast computed inside the input window (a fixed linear map of the window), a network that
predicts the scaled residual over that base, a loss and a window weighting. See the Notes of
:class:`SGDForecaster` for the recipe and why it is the default.

Nothing after a forecast's origin can reach it: every input window is normalised by its own
statistics, the seasonal indices of the ``"decomposed"`` family are estimated on the history the
forecast is made from, validation windows are the most recent ones (never random), and batches
are visited in time order.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from functools import partial
from numbers import Integral, Real
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from sklearn.utils.validation import check_is_fitted
from statsmodels.tsa.seasonal import seasonal_decompose
from torch import nn
from torch.utils.data import BatchSampler, SequentialSampler

from .._validation import NONE, Interval, Options
from ..covariates import Covariates, prepare_frame
from ..data import ID, TARGET, TIME, season_length
from ..errors import SHUFFLE_REASON, DataError, ShuffleError
from ..schedules import DECAYS, make_scheduler, step_scheduler
from ..windows import WindowDataset, check_no_shuffle
from .base import Forecaster
from .networks import ModuleFactory, ResidualMLP

__all__ = ["FAMILIES", "LOSSES", "Recipe", "SGDForecaster"]

logger = logging.getLogger(__name__)

FAMILIES = ("drift", "decomposed")
"""Base-forecast families of the ensemble members (see :class:`Recipe`)."""
LOSSES = ("auto", "huber", "l1", "mse")
"""Values of ``SGDForecaster(loss=...)``; ``"auto"`` uses each family's own loss."""

_FAMILY_LOSS = {"drift": "huber", "decomposed": "l1"}
_FAMILY_RECENCY = {"drift": 0.1, "decomposed": 0.0}
_HUBER_DELTA = 0.5
_DAMPING = 0.9
_MIN_VAL_WINDOWS = 8
_MIN_FIT_WINDOWS = 4
_FILE_FORMAT = "tsforecast.SGDForecaster/1"
_POSITIVE_INT = Interval(Integral, 1, None, closed="left")


@dataclass(frozen=True)
class Recipe:
    """What one ensemble member learns.

    Attributes
    ----------
    family : {"drift", "decomposed"}
        The base forecast the network corrects:

        - ``"drift"``: for step ``k``, the mean over every whole season ``j`` back that the window
          holds of (the value ``j`` seasons back at the same phase ``+ j·d``), ``d`` the window's
          mean seasonal difference -- a seasonal naive forecast with drift, averaged;
        - ``"decomposed"``: classical additive seasonal indices of the history are removed, the base
          is the last season's mean plus a damped slope ``d·(φ + … + φ^k)``, ``φ = 0.9``, ``d`` the
          change between the last two seasons' means per step; the indices are added back.
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


# --------------------------------------------------------------------------------------------- #
# base forecasts and per-window normalisation: pure functions of the window                       #
# --------------------------------------------------------------------------------------------- #


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


def _base_matrix(recipe: Recipe, horizon: int, season: int) -> torch.Tensor:
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


def _window_cost(out: torch.Tensor, target: torch.Tensor, loss: str) -> torch.Tensor:
    """The cost of each window ``(N,)``: the loss averaged over the horizon."""
    if loss == "huber":
        cost = F.huber_loss(out, target, reduction="none", delta=_HUBER_DELTA)
    elif loss == "l1":
        cost = (out - target).abs()
    else:
        cost = (out - target).square()
    return cost.mean(dim=1)


def temporal_split(target_start: np.ndarray, target_end: np.ndarray, fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """Split windows into fitting and validation windows by time, purging the overlap.

    The validation windows are the ``max(8, ceil(fraction·N))`` windows whose targets start last
    (every window starting at or after that time ``τ``); a fitting window must have all its
    targets strictly before ``τ``. Windows in between (targets straddling ``τ``) are dropped.

    Examples
    --------
    >>> start = np.arange(20)
    >>> fit, val = temporal_split(start, start + 2, 0.1)  # horizon 3
    >>> fit.max(), val.min(), len(val)
    (np.int64(9), np.int64(12), 8)
    """
    n_val = max(_MIN_VAL_WINDOWS, math.ceil(fraction * len(target_start)))
    tau = np.sort(target_start)[-n_val]
    return np.flatnonzero(target_end < tau), np.flatnonzero(target_start >= tau)


@contextmanager
def _single_thread() -> Iterator[None]:
    """Run torch on one intra-op thread, restoring the caller's setting afterwards.

    NOTE: reductions split across threads add floats in a different order, so results would
    depend on ``torch.get_num_threads()``; one thread makes forecasts bit-identical on any machine
    setting. The networks are tiny, so a second thread would barely speed them up anyway.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


# --------------------------------------------------------------------------------------------- #
# the data one member trains on                                                                   #
# --------------------------------------------------------------------------------------------- #


@dataclass(frozen=True)
class _Series:
    """The histories of a frame in model space (log or linear), in ``unique_id`` order."""

    z: list[np.ndarray]
    times: np.ndarray  # int64 timestamps of every row, series after series
    seasonal: list[np.ndarray]  # per series, its seasonal indices over history and horizon (n + h values)
    past: np.ndarray | None = None  # (P, T) past-only covariates, raw, series after series
    known: np.ndarray | None = None  # (K, T) known-future covariates, standardised with the fitted statistics
    static: np.ndarray | None = None  # (n_series, S) static covariates, standardised with the fitted statistics


@dataclass(frozen=True)
class _Windows:
    """Normalised windows of one member: inputs ``(N, C, L)``, scaled residual targets, weights, extra inputs."""

    inputs: torch.Tensor
    targets: torch.Tensor
    weights: torch.Tensor
    extra: torch.Tensor | None = None  # (N, K·h + S): known-future values over the horizon, then static values

    def rows(self, index: Any) -> _Windows:
        extra = None if self.extra is None else self.extra[index]
        return _Windows(self.inputs[index], self.targets[index], self.weights[index], extra)


def _forward(module: nn.Module, inputs: torch.Tensor, extra: torch.Tensor | None) -> torch.Tensor:
    """Run a member's network: ``module(x)`` without extra inputs, ``module(x, extra)`` with them."""
    return module(inputs) if extra is None else module(inputs, extra)


def _standardise(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column means and standard deviations (1 where a column is constant) of ``values`` ``(n, k)``."""
    mean = values.mean(axis=0) if len(values) else np.zeros(values.shape[1])
    std = values.std(axis=0) if len(values) else np.ones(values.shape[1])
    return mean, np.where(std > 1e-12, std, 1.0)


@dataclass
class _Member:
    """A fitted member: its recipe, its trained module and the epoch whose weights it kept."""

    recipe: Recipe
    module: nn.Module
    best_epoch: int


def _adjustments(series: _Series, recipe: Recipe, horizon: int) -> list[np.ndarray]:
    """Per series, the values subtracted from the history and added to the forecast (length ``n + h``)."""
    if recipe.family == "drift":
        return [np.zeros(len(z) + horizon) for z in series.z]
    return series.seasonal


# --------------------------------------------------------------------------------------------- #
# the estimator                                                                                   #
# --------------------------------------------------------------------------------------------- #


class SGDForecaster(Forecaster):
    """Ensemble of small torch networks trained by decayed SGD to correct in-window base forecasts.

    Parameters
    ----------
    lookback : int, default=24
        Base input window length ``L``, at least two seasons (two seasons is a good choice: 24 for
        monthly data). Members use ``scales`` multiples of it, shortened for short histories but
        never below ``L``; :meth:`min_length` is computed from ``L``.
    horizon : int, default=12
        Number of steps forecast in one shot.
    season : int, optional
        Seasonal period ``m``; ``None`` infers it from the data frequency
        (:func:`tsforecast.data.season_length`: 12 monthly, 4 quarterly, 7 daily, ...; 1 for a
        plain array, so pass ``season=`` with arrays of seasonal data).
    family : {"both", "drift", "decomposed"}, default="both"
        Base-forecast families of the members (see :class:`Recipe`).
    scales : tuple of float, default=(1.5, 2.0, 3.0)
        Member lookbacks are ``round(scale · lookback)``, each capped so that at least 4 fitting
        and 8 validation windows remain in the shortest series; with ``lookback`` = 2 seasons
        they span 3, 4 and 6 seasons. One member per family and scale. Measured: these beat
        ``(1.0, 1.5, 2.5)`` on monthly and daily data and tie on quarterly data.
    hidden : int, default=32
        Hidden width of the default network :class:`~tsforecast.models.networks.ResidualMLP`.
    module : callable, optional
        A factory ``module(lookback, horizon, channels) -> torch.nn.Module`` mapping inputs of
        shape ``(N, C, L)`` to ``(N, horizon)``; it replaces the default network. Its output is
        read as the scaled residual over the base, so zero-initialised output layers start
        training at the base forecast.
    loss : {"auto", "huber", "l1", "mse"}, default="auto"
        Training cost on scaled residuals. ``"auto"`` uses each family's measured best:
        Huber (δ = 0.5) for ``"drift"``, L1 for ``"decomposed"``.
    lr : float, default=0.01
        Initial learning rate of :class:`torch.optim.SGD`.
    momentum : float, default=0.9
        SGD momentum.
    weight_decay : float, default=0.0
        SGD L2 penalty.
    decay : {"plateau", "step", "inverse_time", "exponential", "none"}, default="plateau"
        Learning-rate decay (:mod:`tsforecast.schedules`), stepped once per epoch; ``"plateau"``
        steps on the validation cost.
    decay_rate : float, default=0.01
        ``k`` of the ``"inverse_time"`` and ``"exponential"`` decays.
    step_size : int, default=50
        Epochs between reductions of the ``"step"`` decay.
    gamma : float, default=0.5
        Reduction factor of ``"step"`` and ``"plateau"``.
    patience : int, default=10
        Epochs without validation improvement before ``"plateau"`` reduces the rate.
    epochs : int, default=300
        Most epochs per member.
    max_steps : int, default=1200
        Most optimizer steps per member: the epoch budget is ``min(epochs, max_steps // steps per
        epoch)`` (at least one epoch).
    batch_size : int, default=32
        Windows per series per step: a panel of ``n`` series trains on batches of
        ``batch_size · n`` windows, so its step count does not grow with the number of series.
    validation : float, default=0.15
        Fraction of the windows held out for validation (at least 8), the most recent ones.
    early_stopping : int or None, default=40
        Stop a member after this many epochs without a lower validation cost and restore its best
        weights; ``None`` trains every epoch of the budget (the best weights are still restored).
    clip : float, optional
        Clip the gradient norm at this value before each step.
    seed : int, default=0
        Seeds the networks' initialisation (member ``i`` uses ``seed + i``); the global torch
        random state is left untouched.
    shuffle : bool, default=False
        Present only to be refused: ``shuffle=True`` raises :class:`~tsforecast.errors.ShuffleError`.

    Attributes
    ----------
    season_ : int
        Seasonal period used.
    log_ : bool
        Whether the model works on the log of the series (every training value is > 0).
    recipes_ : list of Recipe
        The members' recipes, lookbacks after capping.
    best_epochs_ : list of int
        Per member, the epoch whose weights were kept (0: the untrained base forecast).
    history_ : DataFrame
        One row per member and epoch: ``member, epoch, lr, train_cost, val_cost``; ``lr`` is the
        rate the optimizer used in that epoch.
    freq_, last_seen_, covariates_
        See :class:`~tsforecast.models.base.Forecaster`.

    Raises
    ------
    ShuffleError
        From ``fit`` if ``shuffle=True``.
    DataError
        From ``fit``/``predict`` for a parameter out of range, a series shorter than
        :meth:`min_length` (``predict``: than the longest member lookback), or, on the log scale,
        a history with a value <= 0.

    Notes
    -----
    **Recipe of one member** (``z`` = log of the series when every training value is > 0, else
    the series itself; window ``w`` = the last ``L`` values of ``z``, after removing seasonal
    indices for the ``"decomposed"`` family):

    1. ``base`` = the family's base forecast, a fixed linear map of ``w``;
    2. ``scale`` = mean absolute seasonal difference of ``w``; network input ``(w - mean(w)) / scale``,
       shape ``(N, C, L)``;
    3. the network predicts ``r = (future - base) / scale``; its output layers start at zero, so
       the untrained member forecasts the base;
    4. forecast ``= base + scale · r`` (plus the seasonal indices; ``exp`` back from log space).

    **Training**: every window of the training data at stride 1, each inside one series; the last
    15 % (≥ 8) by target time are validation windows, and fitting windows whose targets overlap
    theirs are purged. ``torch.optim.SGD`` (lr 0.01, momentum 0.9), batches of 32 windows in time
    order, ``ReduceLROnPlateau`` (factor 0.5, patience 10) on the validation cost, at most 300
    epochs / 1,200 steps, early stopping after 40 epochs without improvement with the best
    weights restored, the untrained base counting as epoch 0 -- so training can never make a
    member worse than its base on the validation windows.

    **Covariates** (``fit(df, covariates=tsf.Covariates(...))``): they feed only the network that
    predicts the residual, never the base, and the network's output layers start at zero, so an
    untrained member still forecasts its base. Past-only columns are extra channels of the
    ``(N, 1 + P, L)`` input, each normalised by its own statistics in the window; known-future
    values over the window's horizon (``K·h`` numbers) and the static values (``S``) form an extra
    vector into the network, standardised with means and deviations of the training frame (fitted
    per fit, on data up to ``last_seen_``). ``predict(future=...)`` takes the known-future values
    for the horizon (calendar features are computed from the timestamps).

    **Ensemble**: 2 families × 3 lookbacks = 6 members; the forecast is their mean. The research
    notes (``shared/research-notes.md``) measured each ingredient: predicting the window directly
    loses to seasonal naive; the residual over an in-window base, log space, the seasonal scale,
    L1/Huber losses and the two-family ensemble each brought MASE closer to ETS.

    **Divergence**: a non-finite training or validation cost stops the member with a
    ``RuntimeWarning`` and restores its best weights (at worst the base forecast), so a NaN never
    reaches a forecast silently.

    **Determinism**: no randomness besides the networks' initialisation, drawn inside
    ``torch.random.fork_rng``; training runs on one torch thread (restored afterwards), so the same
    data and seed give bit-identical forecasts in any process.

    **Save format**: :meth:`save` writes one ``torch.save`` file holding only tensors and strings
    (the JSON config, the members' ``state_dict`` tensors, the training data needed by
    ``predict()``, and a SHA-256 digest of all of them); :meth:`load` reads it with
    ``weights_only=True``.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(96)
    >>> y = 10 + np.sin(2 * np.pi * t / 12) + 0.01 * t
    >>> model = SGDForecaster(lookback=24, horizon=12, season=12, epochs=3).fit(y)
    >>> model.predict().shape
    (12,)
    >>> list(model.history_.columns)
    ['member', 'epoch', 'lr', 'train_cost', 'val_cost']
    """

    uses_covariates: ClassVar[bool] = True
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "lookback": [_POSITIVE_INT],
        "horizon": [_POSITIVE_INT],
        "season": [_POSITIVE_INT, NONE],
        "family": [Options(("both", *FAMILIES))],
        "scales": [tuple],
        "hidden": [_POSITIVE_INT],
        "loss": [Options(LOSSES)],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "decay": [Options(DECAYS)],
        "decay_rate": [Interval(Real, 0, None, closed="left")],
        "step_size": [_POSITIVE_INT],
        "gamma": [Interval(Real, 0, 1, closed="right")],
        "patience": [Interval(Integral, 0, None, closed="left")],
        "epochs": [_POSITIVE_INT],
        "max_steps": [_POSITIVE_INT],
        "batch_size": [_POSITIVE_INT],
        "validation": [Interval(Real, 0, 0.5, closed="neither")],
        "early_stopping": [_POSITIVE_INT, NONE],
        "clip": [Interval(Real, 0, None, closed="neither"), NONE],
        "seed": [Interval(Integral, 0, None, closed="left")],
        "shuffle": [Options((False, True))],
    }

    def __init__(
        self,
        lookback: int = 24,
        horizon: int = 12,
        *,
        season: int | None = None,
        family: str = "both",
        scales: tuple[float, ...] = (1.5, 2.0, 3.0),
        hidden: int = 32,
        module: ModuleFactory | None = None,
        loss: str = "auto",
        lr: float = 0.01,
        momentum: float = 0.9,
        weight_decay: float = 0.0,
        decay: str = "plateau",
        decay_rate: float = 0.01,
        step_size: int = 50,
        gamma: float = 0.5,
        patience: int = 10,
        epochs: int = 300,
        max_steps: int = 1200,
        batch_size: int = 32,
        validation: float = 0.15,
        early_stopping: int | None = 40,
        clip: float | None = None,
        seed: int = 0,
        shuffle: bool = False,
    ) -> None:
        self.lookback = lookback
        self.horizon = horizon
        self.season = season
        self.family = family
        self.scales = scales
        self.hidden = hidden
        self.module = module
        self.loss = loss
        self.lr = lr
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.decay = decay
        self.decay_rate = decay_rate
        self.step_size = step_size
        self.gamma = gamma
        self.patience = patience
        self.epochs = epochs
        self.max_steps = max_steps
        self.batch_size = batch_size
        self.validation = validation
        self.early_stopping = early_stopping
        self.clip = clip
        self.seed = seed
        self.shuffle = shuffle

    # ---------------------------------------------------------------- sizes and parameters ---- #

    def _min_length(self, lookback: int) -> int:
        # lookback + horizon for one window, then 8 validation + (horizon - 1) purged + 4 fitting windows
        return lookback + 2 * self.horizon + _MIN_VAL_WINDOWS + _MIN_FIT_WINDOWS - 2

    def min_length(self) -> int:
        """Fewest observations a series needs to be fitted: ``lookback + 2·horizon + 10``.

        One window needs ``lookback + horizon`` values; training needs 8 validation windows, the
        ``horizon - 1`` windows purged before them, and 4 fitting windows (the untrained base is
        always a candidate, so few fitting windows cannot make a member worse on validation).
        """
        return self._min_length(self.lookback)

    def _check_params(self, season: int) -> None:
        if self.shuffle:
            raise ShuffleError(
                f"SGDForecaster(shuffle=True) was requested. {SHUFFLE_REASON} "
                "Leave shuffle=False: the windows are visited in time order."
            )
        bad_scale = not self.scales or any(isinstance(s, bool) or not isinstance(s, Real) or s < 1 for s in self.scales)
        if bad_scale:
            raise DataError(
                f"The 'scales' parameter of SGDForecaster must be a non-empty tuple of numbers >= 1. "
                f"Got {self.scales!r} instead."
            )
        if self.lookback < 2 * season:
            raise DataError(
                f"The 'lookback' parameter of SGDForecaster must be at least two seasons (2 x season={season} = "
                f"{2 * season}) so the base forecasts can estimate a seasonal slope. Got {self.lookback} instead."
            )

    def _recipes(self, shortest: int) -> list[Recipe]:
        cap = shortest - self._min_length(0)  # the longest lookback the shortest series can train
        families = FAMILIES if self.family == "both" else (self.family,)
        return [
            Recipe(
                family=family,
                lookback=min(round(scale * self.lookback), cap),
                loss=_FAMILY_LOSS[family] if self.loss == "auto" else self.loss,
                recency=_FAMILY_RECENCY[family],
            )
            for family in families
            for scale in self.scales
        ]

    # ------------------------------------------------------------------------- data to series ---- #

    def _series(self, frame: pd.DataFrame, *, minimum: int, log: bool) -> _Series:
        """The frame's histories in model space, after checking their lengths (and signs on the log scale)."""
        values = [part.to_numpy(dtype="float64") for _, part in frame.groupby(ID, sort=True)[TARGET]]
        for uid, y in zip(sorted(frame[ID].unique()), values, strict=True):
            self._check_history(uid, y, minimum=minimum, log=log)
        z = [np.log(y) if log else y for y in values]
        seasonal = (
            [np.resize(seasonal_indices(series, self.season_), len(series) + self.horizon) for series in z]
            if self.family != "drift"
            else []
        )
        return _Series(z, frame[TIME].to_numpy().astype("int64"), seasonal, **self._covariate_arrays(frame))

    def _check_history(self, uid: str, y: np.ndarray, *, minimum: int, log: bool) -> None:
        if len(y) < minimum:
            raise DataError(
                f"Series {uid!r} has {len(y)} observations; SGDForecaster(lookback={self.lookback}, "
                f"horizon={self.horizon}) needs at least {minimum}. Provide a longer history or reduce "
                "lookback or horizon."
            )
        if log and y.min() <= 0:
            raise DataError(
                f"Series {uid!r} has a value <= 0 ({y.min():g}), but the model was fitted on the log of strictly "
                "positive series. Forecast positive histories with it, or refit on data including such values."
            )

    def _windows(self, series: _Series, recipe: Recipe) -> tuple[_Windows, np.ndarray, np.ndarray]:
        """All training windows of one member, normalised, with the fitting and validation indices."""
        m, h, lookback = self.season_, self.horizon, recipe.lookback
        shifts = _adjustments(series, recipe, h)
        lengths = [len(z) for z in series.z]
        adjusted = np.concatenate([z - s[: len(z)] for z, s in zip(series.z, shifts, strict=True)])
        values = adjusted if series.past is None or not len(series.past) else np.vstack([adjusted, series.past])
        dataset = WindowDataset(values, lookback, h, lengths=lengths, future=series.known)
        windows, future = dataset.batch()
        inputs, base, scale = normalise(windows, _base_matrix(recipe, h, m), m)
        starts = dataset.starts
        extra = None
        if self._layout()[1]:
            assert series.static is not None
            owner = np.searchsorted(np.cumsum(lengths), starts, side="right")  # the series of each window
            blocks = dataset.batch_future().flatten(1)
            extra = torch.cat([blocks, torch.as_tensor(series.static[owner], dtype=torch.float32)], dim=1)
        series_end = np.repeat(np.cumsum(lengths) - 1, lengths)[starts]
        age = (series_end - (starts + lookback + h - 1)) / (m if m > 1 else h)
        weights = torch.as_tensor(np.exp(-recipe.recency * age), dtype=torch.float32)
        fit, val = temporal_split(
            series.times[starts + lookback], series.times[starts + lookback + h - 1], self.validation
        )
        return _Windows(inputs, (future - base) / scale, weights, extra), fit, val

    # ------------------------------------------------------------------------------- training ---- #

    def _build_module(self, recipe: Recipe, index: int) -> nn.Module:
        factory = self.module if self.module is not None else partial(ResidualMLP, hidden=self.hidden)
        channels, extra = self._layout()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed + index)
            if extra:
                return factory(recipe.lookback, self.horizon, channels, extra=extra)  # type: ignore[call-arg]
            return factory(recipe.lookback, self.horizon, channels)

    def _layout(self) -> tuple[int, int]:
        """Input channels ``1 + P`` and the extra-input length ``K·h + S`` of the networks."""
        cov = getattr(self, "covariates_", None)
        if cov is None:
            return 1, 0
        return 1 + len(cov.past_only), len(cov.future_columns) * self.horizon + len(cov.static)

    def _fit_scalers(self, frame: pd.DataFrame) -> None:
        """Standardisation statistics of the known-future and static inputs, from the training frame only."""
        cov = self.covariates_
        if cov is None:
            self._scalers: dict[str, tuple[np.ndarray, np.ndarray]] = {}
            return
        per_series = frame.groupby(ID, sort=True)[list(cov.static)].first().to_numpy(dtype="float64")
        self._scalers = {
            "known": _standardise(frame[list(cov.future_columns)].to_numpy(dtype="float64")),
            "static": _standardise(per_series),
        }

    def _covariate_arrays(self, frame: pd.DataFrame) -> dict[str, np.ndarray]:
        """Past-only ``(P, T)``, standardised known-future ``(K, T)`` and static ``(n, S)`` arrays of a frame."""
        cov = getattr(self, "covariates_", None)
        if cov is None:
            return {}
        known_mean, known_std = self._scalers["known"]
        static_mean, static_std = self._scalers["static"]
        static = frame.groupby(ID, sort=True)[list(cov.static)].first().to_numpy(dtype="float64")
        return {
            "past": frame[list(cov.past_only)].to_numpy(dtype="float64").T,
            "known": ((frame[list(cov.future_columns)].to_numpy(dtype="float64") - known_mean) / known_std).T,
            "static": (static - static_mean) / static_std,
        }

    def _fit(self, frame: pd.DataFrame) -> None:
        season = self.season if self.season is not None else season_length(self.freq_)
        self._check_params(season)
        self.season_ = season
        self.log_ = bool(frame[TARGET].min() > 0)
        self._fit_scalers(frame)
        series = self._series(frame, minimum=self.min_length(), log=self.log_)
        self.recipes_ = self._recipes(min(len(z) for z in series.z))
        members, histories = [], []
        with _single_thread():
            for index, recipe in enumerate(self.recipes_):
                member, history = self._fit_member(index, recipe, series)
                members.append(member)
                histories.append(history)
        self._members = members
        self.best_epochs_ = [member.best_epoch for member in members]
        self.history_ = pd.concat(histories, ignore_index=True)

    def _fit_member(self, index: int, recipe: Recipe, series: _Series) -> tuple[_Member, pd.DataFrame]:
        windows, fit, val = self._windows(series, recipe)
        module = self._build_module(recipe, index)
        sampler = BatchSampler(SequentialSampler(range(len(fit))), self.batch_size * len(series.z), drop_last=False)
        check_no_shuffle(sampler, where="SGDForecaster")
        best_epoch, rows = _Trainer(self, module, recipe, index).run(windows.rows(fit), windows.rows(val), sampler)
        return _Member(recipe, module, best_epoch), pd.DataFrame(
            rows, columns=["member", "epoch", "lr", "train_cost", "val_cost"]
        )

    # ----------------------------------------------------------------------------- predicting ---- #

    def _predict(self, frame: pd.DataFrame, future: pd.DataFrame | None = None) -> np.ndarray:
        longest = max(recipe.lookback for recipe in self.recipes_)
        series = self._series(frame, minimum=longest, log=self.log_)
        extra = None
        cov = self.covariates_
        if cov is not None and self._layout()[1]:
            mean, std = self._scalers["known"]
            assert future is not None  # the base class always builds it for a model with covariates
            known = (future[list(cov.future_columns)].to_numpy(dtype="float64") - mean) / std  # (n·h, K)
            n = len(series.z)
            blocks = known.reshape(n, self.horizon, -1).transpose(0, 2, 1).reshape(n, -1)  # (n, K·h), like training
            assert series.static is not None
            extra = torch.as_tensor(np.hstack([blocks, series.static]), dtype=torch.float32)
        with _single_thread(), torch.no_grad():
            forecasts = [self._member_forecast(member, series, extra) for member in self._members]
        stacked = np.stack(forecasts)
        return np.mean(np.exp(stacked) if self.log_ else stacked, axis=0)

    def _member_forecast(self, member: _Member, series: _Series, extra: torch.Tensor | None = None) -> np.ndarray:
        """One member's forecasts ``(n_series, horizon)`` in model space."""
        m, h, lookback = self.season_, self.horizon, member.recipe.lookback
        shifts = _adjustments(series, member.recipe, h)
        last = np.stack([(z - s[: len(z)])[-lookback:] for z, s in zip(series.z, shifts, strict=True)])
        windows = torch.as_tensor(last[:, None, :], dtype=torch.float32)
        if series.past is not None and len(series.past):
            ends = np.cumsum([len(z) for z in series.z])
            past = np.stack([series.past[:, end - lookback : end] for end in ends])  # (n, P, L)
            windows = torch.cat([windows, torch.as_tensor(past, dtype=torch.float32)], dim=1)
        inputs, base, scale = normalise(windows, _base_matrix(member.recipe, h, m), m)
        adjusted = (base + scale * _forward(member.module, inputs, extra)).double().numpy()
        return adjusted + np.stack([s[len(z) :] for z, s in zip(series.z, shifts, strict=True)])

    # ---------------------------------------------------------------------------- persistence ---- #

    def save(self, path: str | Path) -> None:
        """Write the fitted model to one file (see Notes: *Save format*).

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If the model has not been fitted.
        """
        check_is_fitted(self)
        config = json.dumps(_config(self))
        tensors = _tensors(self)
        torch.save(
            {"format": _FILE_FORMAT, "config": config, "tensors": tensors, "sha256": _digest(config, tensors)}, path
        )

    @classmethod
    def load(cls, path: str | Path, *, module: ModuleFactory | None = None) -> SGDForecaster:
        """Restore a model written by :meth:`save`; its forecasts are identical.

        Parameters
        ----------
        path : str or Path
            The file.
        module : callable, optional
            The module factory, required if the model was fitted with a custom ``module``
            (a factory is code, which the file deliberately does not hold).

        Raises
        ------
        DataError
            If the file is missing, not a file written by :meth:`save`, or was modified since.
        """
        payload = _read_payload(Path(path))
        config = json.loads(payload["config"])
        if config["custom_module"] and module is None:
            raise DataError(
                f"{str(path)!r} was fitted with a custom module factory; pass it as load(path, module=...)."
            )
        params = config["params"]
        model = cls(**{**params, "scales": tuple(params["scales"])}, module=module)
        _restore(model, config, payload["tensors"])
        return model


# --------------------------------------------------------------------------------------------- #
# the training loop of one member                                                                 #
# --------------------------------------------------------------------------------------------- #


class _Trainer:
    """Train one member: ``fit → epoch → step``, with validation, early stopping and logging."""

    def __init__(self, model: SGDForecaster, module: nn.Module, recipe: Recipe, index: int) -> None:
        self.model, self.module, self.recipe, self.index = model, module, recipe, index
        self.optimizer = torch.optim.SGD(
            module.parameters(), lr=model.lr, momentum=model.momentum, weight_decay=model.weight_decay
        )
        self.scheduler = make_scheduler(
            self.optimizer,
            model.decay,
            decay_rate=model.decay_rate,
            step_size=model.step_size,
            gamma=model.gamma,
            patience=model.patience,
        )

    def run(self, fit: _Windows, val: _Windows, sampler: BatchSampler) -> tuple[int, list[tuple[Any, ...]]]:
        """Train; restore the best weights; return the best epoch and one history row per epoch."""
        model = self.model
        epochs = min(model.epochs, max(1, model.max_steps // len(sampler)))
        best_cost, best_epoch = self._cost(val), 0
        best_state = {k: v.clone() for k, v in self.module.state_dict().items()}
        rows: list[tuple[Any, ...]] = []
        for epoch in range(1, epochs + 1):
            lr = float(self.optimizer.param_groups[0]["lr"])
            train_cost = self._epoch(fit, sampler)
            val_cost = self._cost(val) if math.isfinite(train_cost) else math.nan
            rows.append((self.index, epoch, lr, train_cost, val_cost))
            self._log(epoch, epochs, lr, train_cost, val_cost)
            if not math.isfinite(val_cost):
                self._warn_divergence(epoch, best_epoch)
                break
            if val_cost < best_cost:
                best_cost, best_epoch = val_cost, epoch
                best_state = {k: v.clone() for k, v in self.module.state_dict().items()}
            elif model.early_stopping is not None and epoch - best_epoch >= model.early_stopping:
                break
            step_scheduler(self.scheduler, val_cost)
        self.module.load_state_dict(best_state)
        self.module.eval()
        return best_epoch, rows

    def _epoch(self, fit: _Windows, sampler: BatchSampler) -> float:
        """One pass over the fitting windows in time order; the mean weighted cost, NaN if it diverged."""
        self.module.train()
        total, count = 0.0, 0
        for batch in sampler:
            rows = slice(batch[0], batch[-1] + 1)  # NOTE: sequential batches are contiguous ranges
            weights = fit.weights[rows]
            extra = None if fit.extra is None else fit.extra[rows]
            self.optimizer.zero_grad()
            costs = _window_cost(_forward(self.module, fit.inputs[rows], extra), fit.targets[rows], self.recipe.loss)
            loss = (weights * costs).sum() / weights.sum()
            if not torch.isfinite(loss):
                return math.nan
            loss.backward()
            if self.model.clip is not None:
                nn.utils.clip_grad_norm_(self.module.parameters(), self.model.clip)
            self.optimizer.step()
            total += loss.item() * len(batch)
            count += len(batch)
        return total / count

    def _cost(self, windows: _Windows) -> float:
        """Unweighted mean cost on ``windows`` (the validation cost)."""
        self.module.eval()
        with torch.no_grad():
            out = _forward(self.module, windows.inputs, windows.extra)
            return _window_cost(out, windows.targets, self.recipe.loss).mean().item()

    def _log(self, epoch: int, epochs: int, lr: float, cost: float, val: float) -> None:
        level = logging.INFO if epoch % 10 == 0 or epoch == epochs else logging.DEBUG
        logger.log(level, f"Epoch {epoch:4d}/{epochs} lr: {lr:.6f} Cost: {cost:.6f} Val: {val:.6f}")

    def _warn_divergence(self, epoch: int, best_epoch: int) -> None:
        warnings.warn(
            f"SGDForecaster member {self.index} ({self.recipe.family}, lookback {self.recipe.lookback}) diverged at "
            f"epoch {epoch}: the cost is not finite. Its weights of epoch {best_epoch} are restored (epoch 0 is the "
            "untrained base forecast). Lower lr, or set clip= to bound the gradient.",
            RuntimeWarning,
            stacklevel=4,
        )


# --------------------------------------------------------------------------------------------- #
# persistence helpers                                                                             #
# --------------------------------------------------------------------------------------------- #


def _config(model: SGDForecaster) -> dict[str, Any]:
    params = {k: v for k, v in model.get_params(deep=False).items() if k != "module"}
    frame = model._train_frame
    return {
        "params": {**params, "scales": list(params["scales"])},
        "custom_module": model.module is not None,
        "season": model.season_,
        "log": model.log_,
        "recipes": [asdict(r) for r in model.recipes_],
        "best_epochs": model.best_epochs_,
        "freq": model.freq_,
        "array_input": model._array_input,
        "ids": frame[ID].tolist(),
        "time_dtype": str(frame[TIME].dtype),
        "history": model.history_.to_dict(orient="list"),
        "covariates": None if model.covariates_ is None else asdict(model.covariates_),
    }


def _tensors(model: SGDForecaster) -> dict[str, torch.Tensor]:
    frame = model._train_frame
    tensors = {
        "data.y": torch.tensor(frame[TARGET].to_numpy(dtype="float64")),
        "data.ds": torch.tensor(frame[TIME].to_numpy().astype("int64")),
    }
    if model.covariates_ is not None:
        for col in model.covariates_.data_columns:
            tensors[f"data.covariate.{col}"] = torch.tensor(frame[col].to_numpy(dtype="float64"))
        for name, (mean, std) in model._scalers.items():
            tensors[f"scaler.{name}.mean"], tensors[f"scaler.{name}.std"] = torch.tensor(mean), torch.tensor(std)
    for index, member in enumerate(model._members):
        tensors.update({f"member{index}.{k}": v.detach().clone() for k, v in member.module.state_dict().items()})
    return tensors


def _digest(config: str, tensors: dict[str, torch.Tensor]) -> str:
    sha = hashlib.sha256(config.encode())
    for key in sorted(tensors):
        value = tensors[key].detach().contiguous()
        sha.update(f"{key}:{value.dtype}:{tuple(value.shape)}".encode())
        sha.update(value.numpy().tobytes())
    return sha.hexdigest()


def _read_payload(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise DataError(f"Model file {str(path)!r} does not exist. Check the path, or save a model with m.save(path).")
    not_ours = f"{str(path)!r} is not an SGDForecaster file written by SGDForecaster.save()"
    try:
        payload = torch.load(path, weights_only=True)
    except Exception as exc:  # NOTE: torch.load raises many types (pickle, zip, runtime) for foreign bytes
        raise DataError(f"{not_ours}: it could not be read safely ({type(exc).__name__}).") from exc
    if not isinstance(payload, dict) or payload.get("format") != _FILE_FORMAT:
        raise DataError(f"{not_ours}: its format marker is missing. Save the model again with SGDForecaster.save().")
    if _digest(payload["config"], payload["tensors"]) != payload.get("sha256"):
        raise DataError(
            f"{str(path)!r} was modified after it was saved: its SHA-256 digest does not match its contents. "
            "Use an unmodified file, or fit and save the model again."
        )
    return payload


def _restore(model: SGDForecaster, config: dict[str, Any], tensors: dict[str, torch.Tensor]) -> None:
    """Set the fitted attributes of ``model`` from a saved config and tensors."""
    model.season_, model.log_ = config["season"], config["log"]
    model.recipes_ = [Recipe(**r) for r in config["recipes"]]
    model.best_epochs_ = config["best_epochs"]
    model.history_ = pd.DataFrame(config["history"])
    model.freq_, model._array_input = config["freq"], config["array_input"]
    ds = tensors["data.ds"].numpy()
    times = ds.view(config["time_dtype"]) if config["time_dtype"].startswith("datetime64") else ds
    frame = pd.DataFrame({ID: config["ids"], TIME: times, TARGET: tensors["data.y"].numpy()})
    declared = config.get("covariates")
    model.covariates_ = None if declared is None else Covariates(**declared)
    model._scalers = {}
    if model.covariates_ is not None:
        for col in model.covariates_.data_columns:
            frame[col] = tensors[f"data.covariate.{col}"].numpy()
        frame = prepare_frame(frame, model.covariates_, "SGDForecaster.load")
        model._scalers = {
            name: (tensors[f"scaler.{name}.mean"].numpy(), tensors[f"scaler.{name}.std"].numpy())
            for name in ("known", "static")
        }
    model._train_frame = frame
    model.last_seen_ = model._train_frame[TIME].max()
    model._members = []
    for index, recipe in enumerate(model.recipes_):
        module = model._build_module(recipe, index)
        prefix = f"member{index}."
        module.load_state_dict({k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)})
        module.eval()
        model._members.append(_Member(recipe, module, model.best_epochs_[index]))
