"""The training loop of one ensemble member of :class:`~tsforecast.models.sgd.SGDForecaster`.

:class:`Trainer` runs ``epochs → batches → optimizer steps`` with ``torch.optim.SGD``: batches of
windows in time order, the learning-rate decay of :mod:`tsforecast.schedules` stepped once per
epoch, the validation cost after each epoch, early stopping with the best weights restored (the
untrained base counts as epoch 0), a log line per epoch and a ``RuntimeWarning`` when the cost
diverges; :func:`network_share` then says how much of the network's correction the member keeps.
:func:`single_thread` keeps the floating-point results independent of the machine.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ...schedules import make_scheduler, step_scheduler
from ...shuffle_guard import OrderedSampler
from .base_forecast import Recipe
from .training_data import Batch

__all__ = [
    "HISTORY_COLUMNS",
    "PARTIAL_SHARE",
    "Member",
    "Trainer",
    "TrainingSettings",
    "forward",
    "network_share",
    "single_thread",
    "window_cost",
]

logger = logging.getLogger("tsforecast.models.sgd")

HISTORY_COLUMNS = ["member", "family", "lookback", "epoch", "lr", "train_cost", "val_cost"]
"""Columns of ``SGDForecaster.history_``: one row per member and epoch (the member's family and lookback)."""

PARTIAL_SHARE = 0.5
"""The share of its network's correction a member keeps when the network lowered the validation cost of its base
by less than ``min_gain`` (:func:`network_share`)."""

_HUBER_DELTA = 0.5


@dataclass(frozen=True)
class TrainingSettings:
    """The optimizer, decay and stopping parameters of ``SGDForecaster`` (see its docstring)."""

    lr: float
    momentum: float
    weight_decay: float
    decay: str
    decay_rate: float
    step_size: int
    gamma: float
    patience: int
    epochs: int
    max_steps: int
    early_stopping: int | None
    clip: float | None
    min_gain: float


@dataclass
class Member:
    """A fitted member: its recipe, its trained module, the epoch whose weights it kept and its network's share.

    The member forecasts ``base + share · scale · r``, ``r`` its network's output (:func:`network_share`;
    1.0 for a model saved before the share existed).
    """

    recipe: Recipe
    module: nn.Module
    best_epoch: int
    share: float = 1.0


def network_share(base_cost: float, best_cost: float, min_gain: float) -> float:
    """The share of its network's correction a member forecasts with: 1, or :data:`PARTIAL_SHARE`.

    ``base_cost`` is the validation cost of the untrained member (its base forecast, epoch 0),
    ``best_cost`` that of the weights kept. The network keeps its whole correction when it lowered
    the cost by at least the fraction ``min_gain`` (``best_cost <= (1 - min_gain) · base_cost``),
    half of it otherwise: a network that barely beats its base on the few validation windows of a
    short series is as likely to have fitted their noise, so its member forecasts half-way between
    the base and the network (``docs/accuracy-research.md`` §6). ``min_gain = 0`` always keeps the
    whole correction.

    Examples
    --------
    >>> network_share(1.0, 0.8, 0.125), network_share(1.0, 0.95, 0.125), network_share(1.0, 0.95, 0.0)
    (1.0, 0.5, 1.0)
    """
    if min_gain <= 0 or best_cost <= (1.0 - min_gain) * base_cost:
        return 1.0
    return PARTIAL_SHARE


def window_cost(out: torch.Tensor, target: torch.Tensor, loss: str) -> torch.Tensor:
    """The cost of each window ``(N,)``: the loss averaged over the horizon."""
    if loss == "huber":
        cost = F.huber_loss(out, target, reduction="none", delta=_HUBER_DELTA)
    elif loss == "l1":
        cost = (out - target).abs()
    else:
        cost = (out - target).square()
    return cost.mean(dim=1)


@contextmanager
def single_thread() -> Iterator[None]:
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


def forward(module: nn.Module, inputs: torch.Tensor, extra: torch.Tensor | None) -> torch.Tensor:
    """Run a member's network: ``module(x)`` without extra inputs, ``module(x, extra)`` with them."""
    return module(inputs) if extra is None else module(inputs, extra)


class Trainer:
    """Train one member: ``fit → epoch → step``, with validation, early stopping and logging.

    ``index`` is the member's position (from 0) among the ensemble's ``members``.
    """

    def __init__(self, settings: TrainingSettings, module: nn.Module, recipe: Recipe, index: int, members: int) -> None:
        self.settings, self.module, self.recipe, self.index, self.members = settings, module, recipe, index, members
        self.optimizer = torch.optim.SGD(
            module.parameters(), lr=settings.lr, momentum=settings.momentum, weight_decay=settings.weight_decay
        )
        self.scheduler = make_scheduler(
            self.optimizer,
            settings.decay,
            decay_rate=settings.decay_rate,
            step_size=settings.step_size,
            gamma=settings.gamma,
            patience=settings.patience,
        )

    def run(
        self, draw: Callable[[Sequence[int]], Batch], val: Batch, sampler: OrderedSampler
    ) -> tuple[int, float, list[tuple[Any, ...]]]:
        """Train; restore the best weights; return the best epoch, the network's share and one history row per epoch.

        ``sampler`` yields batches of positions of the fitting windows, ``draw`` turns one into
        normalised windows (:meth:`~tsforecast.models.sgd.training_data.MemberWindows.drawer`);
        ``val`` holds the validation windows, normalised once. The share is :func:`network_share` of
        the validation costs of the base (epoch 0) and of the best epoch.
        """
        settings = self.settings
        epochs = min(settings.epochs, max(1, settings.max_steps // len(sampler)))
        best_cost, best_epoch = self._cost(val), 0
        base_cost = best_cost
        best_state = {k: v.clone() for k, v in self.module.state_dict().items()}
        rows: list[tuple[Any, ...]] = []
        for epoch in range(1, epochs + 1):
            lr = float(self.optimizer.param_groups[0]["lr"])
            train_cost = self._epoch(draw, sampler)
            val_cost = self._cost(val) if math.isfinite(train_cost) else math.nan
            rows.append((self.index, self.recipe.family, self.recipe.lookback, epoch, lr, train_cost, val_cost))
            self._log(epoch, epochs, lr, train_cost, val_cost)
            if not math.isfinite(val_cost):
                self._warn_divergence(epoch, best_epoch)
                break
            if val_cost < best_cost:
                best_cost, best_epoch = val_cost, epoch
                best_state = {k: v.clone() for k, v in self.module.state_dict().items()}
            elif settings.early_stopping is not None and epoch - best_epoch >= settings.early_stopping:
                break
            step_scheduler(self.scheduler, val_cost)
        self.module.load_state_dict(best_state)
        self.module.eval()
        return best_epoch, network_share(base_cost, best_cost, settings.min_gain), rows

    def _epoch(self, draw: Callable[[Sequence[int]], Batch], sampler: OrderedSampler) -> float:
        """One pass over the fitting windows in time order; the mean weighted cost, NaN if it diverged."""
        self.module.train()
        total, count = 0.0, 0
        for positions in sampler:
            batch = draw(positions)
            self.optimizer.zero_grad()
            out = forward(self.module, batch.inputs, batch.extra)
            costs = window_cost(out, batch.targets, self.recipe.loss)
            loss = (batch.weights * costs).sum() / batch.weights.sum()
            if not torch.isfinite(loss):
                return math.nan
            loss.backward()
            if self.settings.clip is not None:
                nn.utils.clip_grad_norm_(self.module.parameters(), self.settings.clip)
            self.optimizer.step()
            total += loss.item() * len(positions)
            count += len(positions)
        return total / count

    def _cost(self, windows: Batch) -> float:
        """Unweighted mean cost on ``windows`` (the validation cost)."""
        self.module.eval()
        with torch.no_grad():
            out = forward(self.module, windows.inputs, windows.extra)
            return window_cost(out, windows.targets, self.recipe.loss).mean().item()

    def _log(self, epoch: int, epochs: int, lr: float, cost: float, val: float) -> None:
        level = logging.INFO if epoch % 10 == 0 or epoch == epochs else logging.DEBUG
        member = f"[member {self.index + 1}/{self.members}: {self.recipe.family}, lookback {self.recipe.lookback}]"
        logger.log(level, f"Epoch {epoch:4d}/{epochs} lr: {lr:.6f} Cost: {cost:.6f} Val: {val:.6f} {member}")

    def _warn_divergence(self, epoch: int, best_epoch: int) -> None:
        warnings.warn(
            f"SGDForecaster member {self.index} ({self.recipe.family}, lookback {self.recipe.lookback}) diverged at "
            f"epoch {epoch}: the cost is not finite. Its weights of epoch {best_epoch} are restored (epoch 0 is the "
            "untrained base forecast). Lower lr, or set clip= to bound the gradient.",
            RuntimeWarning,
            stacklevel=4,
        )
