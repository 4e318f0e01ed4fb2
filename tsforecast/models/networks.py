"""Small torch networks for :class:`~tsforecast.models.sgd.SGDForecaster`.

Every network maps a batch of input windows of shape ``(N, C, L)`` -- batch, channels, time, the
1-D analogue of PyTorch's NCHW; ``C = 1`` for a univariate series -- to ``(N, horizon)``: the
next ``horizon`` values in one shot. A *module factory* is any callable
``factory(lookback, horizon, channels) -> torch.nn.Module`` that builds such a network; pass one
as ``SGDForecaster(module=...)`` to swap the architecture.

With known-future or static covariates, the network also takes an *extra* vector per window
(known-future values over the horizon, then static values): the factory is then called as
``factory(lookback, horizon, channels, extra=E)`` and the module as ``module(x, extra)`` with
``extra`` of shape ``(N, E)``. Without them, both calls are exactly as above.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

__all__ = ["ModuleFactory", "ResidualMLP"]

ModuleFactory = Callable[[int, int, int], nn.Module]
"""``factory(lookback, horizon, channels)`` returning a module ``(N, C, lookback) -> (N, horizon)``."""


class ResidualMLP(nn.Module):
    """A linear map plus a one-hidden-layer MLP, both starting at zero output.

    Parameters
    ----------
    lookback : int
        Length ``L`` of the input windows.
    horizon : int
        Number of outputs ``h`` per window.
    channels : int, default=1
        Number of input channels ``C``.
    hidden : int, default=32
        Width of the hidden ReLU layer.
    extra : int, default=0
        Length ``E`` of an extra input vector (known-future and static covariates), concatenated
        to the flattened window; ``forward(x, extra)`` then requires it.

    Notes
    -----
    For an input ``x`` of shape ``(N, C, L)`` flattened to ``(N, C·L)`` (and the extra vector
    appended, ``(N, C·L + E)``):

    .. math:: f(x) = W_0 x + b_0 + W_2 \\, \\mathrm{ReLU}(W_1 x + b_1) + b_2

    ``W_1, b_1`` keep PyTorch's default initialisation (Kaiming-uniform, signed, scaled by the fan-in).
    The two output layers ``W_0, b_0`` and ``W_2, b_2`` start at zero, so an untrained network
    outputs exactly 0: when it predicts a residual over a base forecast, training starts at the
    base. Gradients still reach every layer from the first step (``W_2`` sees the non-zero hidden
    activations, and ``W_1`` the updated ``W_2`` from the second step on).

    Examples
    --------
    >>> net = ResidualMLP(lookback=24, horizon=12)
    >>> net(torch.ones(5, 1, 24)).shape
    torch.Size([5, 12])
    >>> float(net(torch.randn(3, 1, 24)).detach().abs().max())
    0.0
    """

    def __init__(self, lookback: int, horizon: int, channels: int = 1, hidden: int = 32, extra: int = 0) -> None:
        super().__init__()
        self.extra = extra
        inputs = channels * lookback + extra
        self.linear = nn.Linear(inputs, horizon)
        self.hidden = nn.Linear(inputs, hidden)
        self.output = nn.Linear(hidden, horizon)
        for layer in (self.linear, self.output):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, x: torch.Tensor, extra: torch.Tensor | None = None) -> torch.Tensor:
        """Map windows ``(N, C, L)`` (and extra inputs ``(N, E)``) to forecasts ``(N, horizon)``."""
        flat = x.flatten(1)
        if self.extra:
            if extra is None or extra.shape[1:] != (self.extra,):
                got = None if extra is None else tuple(extra.shape)
                raise ValueError(
                    f"ResidualMLP(extra={self.extra}) needs an extra input of shape (N, {self.extra}); got {got}."
                )
            flat = torch.cat([flat, extra], dim=1)
        return self.linear(flat) + self.output(torch.relu(self.hidden(flat)))
