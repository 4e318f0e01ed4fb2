"""The training loop of one ensemble member of :class:`~tsforecast.models.sgd.SGDForecaster`.

:class:`Trainer` runs ``epochs → batches → optimizer steps`` with ``torch.optim.SGD``: batches of
windows in time order, the learning-rate decay of :mod:`tsforecast.schedules` stepped once per
epoch, the validation cost after each epoch, early stopping with the best weights restored (the
untrained base counts as epoch 0), a log line per epoch and a ``RuntimeWarning`` when the cost
diverges. :func:`single_thread` keeps the floating-point results independent of the machine.
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

__all__ = ["HISTORY_COLUMNS", "Member", "Trainer", "TrainingSettings", "forward", "single_thread", "window_cost"]

logger = logging.getLogger("tsforecast.models.sgd")

HISTORY_COLUMNS = ["member", "family", "lookback", "epoch", "lr", "train_cost", "val_cost"]
"""Columns of ``SGDForecaster.history_``: one row per member and epoch (the member's family and lookback)."""

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


@dataclass
class Member:
    """A fitted member: its recipe, its trained module and the epoch whose weights it kept."""

    recipe: Recipe
    module: nn.Module
    best_epoch: int


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
    ) -> tuple[int, list[tuple[Any, ...]]]:
        """Train; restore the best weights; return the best epoch and one history row per epoch.

        ``sampler`` yields batches of positions of the fitting windows, ``draw`` turns one into
        normalised windows (:meth:`~tsforecast.models.sgd.training_data.MemberWindows.drawer`);
        ``val`` holds the validation windows, normalised once.
        """
        settings = self.settings
        epochs = min(settings.epochs, max(1, settings.max_steps // len(sampler)))
        best_cost, best_epoch = self._cost(val), 0
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
        return best_epoch, rows

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
