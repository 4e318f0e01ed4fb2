"""Ordered sliding windows over one contiguous buffer.

A window is a view ``x`` of shape ``(C, lookback)`` (channels, then time) and a target view ``y``
of shape ``(horizon,)`` taken from channel 0 right after ``x``. Batched, inputs have PyTorch's
``(N, C, L)`` layout, the 1-D analogue of NCHW. Windows are views of one tensor made with
``Tensor.unfold``: memory stays O(T) whatever the lookback.

Batches of windows are drawn in time order by :func:`tsforecast.shuffle_guard.ordered_loader`.
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset

from ._validation import Interval, validate_params
from .columns import ID, TARGET, TIME
from .errors import DataError

__all__ = ["WindowDataset"]

_POSITIVE = [Interval(Integral, 1, None, closed="left")]


class WindowDataset(Dataset[tuple[torch.Tensor, torch.Tensor]]):
    """Time-ordered sliding windows ``(x, y)`` of one series or of consecutive series in one buffer.

    Parameters
    ----------
    values : array-like or Tensor of shape (T,) or (C, T)
        The series; channel 0 is the target, other channels are inputs only.
    lookback : int
        Length ``L`` of each input window.
    horizon : int
        Length of each target window.
    stride : int, default=1
        Distance between consecutive window starts. Windows are aligned to the end of the usable
        data, so the most recent window is always included.
    end : int or sequence of int, optional
        Last position (per series, relative to its start) whose value may be a target: windows
        whose targets reach beyond it are dropped. ``None`` uses every position.
    lengths : sequence of int, optional
        Lengths of consecutive series in ``values`` (a panel); windows never cross from one
        series into the next. ``None`` means one series.
    future : array-like or Tensor of shape (T,) or (K, T), optional
        Known-future covariates aligned with ``values``: each window also has a block of their
        values over its *target* span (:meth:`future_at`, :meth:`batch_future`), the inputs a
        model may read for the horizon. Windows are still cut by the target's positions.

    Notes
    -----
    Item ``i`` is ``(x, y)`` with ``x = values[:, s:s+L]`` of shape ``(C, L)`` and
    ``y = values[0, s+L:s+L+horizon]``; both are views sharing storage with the buffer. With
    ``future``, ``future_at(i) = future[:, s+L:s+L+horizon]`` of shape ``(K, horizon)`` is a view too.

    Examples
    --------
    >>> ds = WindowDataset(np.arange(6.0), lookback=3, horizon=2)
    >>> len(ds)
    2
    >>> x, y = ds[1]
    >>> x, y
    (tensor([[1., 2., 3.]]), tensor([4., 5.]))
    """

    def __init__(
        self,
        values: Any,
        lookback: int,
        horizon: int,
        *,
        stride: int = 1,
        end: int | Sequence[int] | None = None,
        lengths: Sequence[int] | None = None,
        future: Any = None,
    ) -> None:
        validate_params(
            "WindowDataset",
            {"lookback": lookback, "horizon": horizon, "stride": stride},
            {"lookback": _POSITIVE, "horizon": _POSITIVE, "stride": _POSITIVE},
        )
        buffer = torch.as_tensor(values, dtype=torch.float32)
        if buffer.ndim == 1:
            buffer = buffer.unsqueeze(0)
        if buffer.ndim != 2:
            raise DataError(f"values must have shape (T,) or (C, T); got {tuple(buffer.shape)}.")
        self.buffer = buffer.contiguous()
        self.lookback, self.horizon, self.stride = lookback, horizon, stride
        total = self.buffer.shape[1]
        lengths = [total] if lengths is None else [int(n) for n in lengths]
        if sum(lengths) != total:
            raise DataError(f"lengths add up to {sum(lengths)} but values have {total} positions.")
        if end is None:
            ends = [n - 1 for n in lengths]
        else:  # NOTE: numpy integers count as one end, like ints
            ends = [int(end)] if isinstance(end, (int, np.integer)) else [int(e) for e in end]
        if len(ends) != len(lengths):
            raise DataError(f"end has {len(ends)} entries for {len(lengths)} series.")
        offsets = np.cumsum([0, *lengths])[:-1].astype(np.int64)
        # NOTE: window starts are an arithmetic progression per series, so only each series' first start and
        # the running count of windows are stored (O(number of series)); starts are computed on demand.
        span = lookback + horizon
        usable = np.array([min(e, n - 1) + 1 for n, e in zip(lengths, ends, strict=True)], dtype=np.int64)
        counts = np.where(usable >= span, (usable - span) // stride + 1, 0)
        self._first = offsets + np.where(usable >= span, (usable - span) % stride, 0)
        self._cumulative = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        # NOTE: unfold returns views: (C, T-L+1, L) inputs and (T-h+1, h) targets share the buffer's storage.
        # Too-short data: empty views that still have the (C, 0, L) / (0, h) shapes, so batch() is (0, C, L).
        empty = self.buffer[:, :0, None]
        self._inputs = self.buffer.unfold(1, lookback, 1) if total >= lookback else empty.expand(-1, -1, lookback)
        self._targets = self.buffer[0].unfold(0, horizon, 1) if total >= horizon else empty[0].expand(-1, horizon)
        self.future: torch.Tensor | None = None
        self._future: torch.Tensor | None = None
        if future is not None:
            block = torch.as_tensor(future, dtype=torch.float32)
            block = block.unsqueeze(0) if block.ndim == 1 else block
            if block.ndim != 2 or block.shape[1] != total:
                raise DataError(
                    f"future must have shape (T,) or (K, T) with T={total} positions like values; "
                    f"got {tuple(block.shape)}."
                )
            self.future = block.contiguous()
            # NOTE: a view (K, T-h+1, h), like the targets: the block of the window starting at s is at s + L.
            self._future = (
                self.future.unfold(1, horizon, 1)
                if total >= horizon
                else self.future[:, :0, None].expand(-1, -1, horizon)
            )

    def start_of(self, index: Any = slice(None)) -> np.ndarray:
        """Buffer positions where the windows selected by ``index`` (an int, slice or array) start."""
        if isinstance(index, (slice, int, np.integer)):
            positions = np.atleast_1d(np.asarray(range(len(self))[index], dtype=np.int64))
        else:
            positions = np.asarray(index, dtype=np.int64)
        series = np.searchsorted(self._cumulative, positions, side="right") - 1
        return self._first[series] + (positions - self._cumulative[series]) * self.stride

    @property
    def starts(self) -> np.ndarray:
        """Start position of every window, ascending (computed on demand: O(number of windows))."""
        return self.start_of()

    @classmethod
    def from_frame(
        cls,
        df: pd.DataFrame,
        lookback: int,
        horizon: int,
        *,
        stride: int = 1,
        cutoff: Any = None,
        channels: Sequence[str] = (),
        future: Sequence[str] = (),
    ) -> WindowDataset:
        """Windows of every series of a long frame, with targets at or before ``cutoff``.

        ``channels`` names extra columns used as input channels after the target (past-only
        covariates); ``future`` names known-future columns whose values over each window's target
        span form its future block.
        """
        ids, times = df[ID].to_numpy(), df[TIME].to_numpy()
        same = ids[1:] == ids[:-1]
        if len(ids) and ((~same).sum() + 1 != df[ID].nunique() or np.any(same & ~(times[1:] > times[:-1]))):
            # NOTE: windows are cut by row position, so interleaved or unsorted series would cross series
            # and a cutoff count would keep rows after the cutoff.
            raise DataError(
                "WindowDataset.from_frame needs each series' rows together and in increasing time order. "
                f"Sort the frame first: df.sort_values([{ID!r}, {TIME!r}]) (tsforecast loaders already do)."
            )
        columns = [TARGET, *channels]
        lengths = df.groupby(ID, sort=False).size().tolist()
        values = df[columns].to_numpy(dtype="float32", copy=True).T  # writable: torch warns on read-only arrays
        end = None
        if cutoff is not None:
            seen = (df[TIME] <= cutoff).groupby(df[ID], sort=False).sum().to_numpy()
            end = [int(n) - 1 for n in seen]
        block = df[list(future)].to_numpy(dtype="float32", copy=True).T if future else None
        return cls(values, lookback, horizon, stride=stride, end=end, lengths=lengths, future=block)

    def __len__(self) -> int:
        return int(self._cumulative[-1])

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        start = int(self.start_of(index)[0])
        return self._inputs[:, start], self._targets[start + self.lookback]

    def batch(self, index: Any = slice(None)) -> tuple[torch.Tensor, torch.Tensor]:
        """Inputs ``(N, C, L)`` and targets ``(N, horizon)`` of the windows selected by ``index``.

        Unlike items, a batch is a copy (of the selected windows only).
        """
        starts = torch.from_numpy(self.start_of(index))
        return self._inputs[:, starts].permute(1, 0, 2), self._targets[starts + self.lookback]

    def future_at(self, index: int) -> torch.Tensor:
        """The future block ``(K, horizon)`` of window ``index``: a view of the known-future values over its targets.

        Raises
        ------
        DataError
            If the dataset was built without ``future``.
        """
        return self._future_block()[:, int(self.start_of(index)[0]) + self.lookback]

    def batch_future(self, index: Any = slice(None)) -> torch.Tensor:
        """Future blocks ``(N, K, horizon)`` of the windows selected by ``index`` (a copy, like :meth:`batch`)."""
        starts = torch.from_numpy(self.start_of(index))
        return self._future_block()[:, starts + self.lookback].permute(1, 0, 2)

    def _future_block(self) -> torch.Tensor:
        if self._future is None:
            raise DataError("This WindowDataset has no future block; build it with future= (known-future values).")
        return self._future


# NOTE: what "time order" means for windows. Ordered training today (ordered_loader's default sampler and
# SGDForecaster's BatchSampler(SequentialSampler(...))) visits every window once per pass, oldest first. The guard
# demands exactly that shape, the strictest one those paths use: within a pass, indices STRICTLY increase (across
# batches too) and are never negative. So a repeated index is refused too, not only a descending one: visiting a
# window twice in one pass is a with-replacement draw (WeightedRandomSampler's kind), not an ordered pass. Gaps are
# allowed (a sampler may skip windows, e.g. every other one). SGDForecaster's training loop further assumes each
# batch is a contiguous range; that is its sampler's construction, not part of this rule.
