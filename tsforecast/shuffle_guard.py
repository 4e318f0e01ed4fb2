"""The shuffle guard: time-ordered data must never be visited out of order.

It judges the indices a sampler actually yields: :class:`OrderedSampler` checks each one as it is
produced (strictly increasing within a pass, within and across batches, through ``Subset``
indices), :func:`ordered_loader` wraps every sampler in it, and :func:`check_no_shuffle` checks a
user's own loader or sampler once, bounded and without consuming it.
"""

from __future__ import annotations

import itertools
import operator
from collections import deque
from collections.abc import Iterable, Iterator, Sized
from numbers import Integral
from typing import Any

from torch.utils.data import BatchSampler, DataLoader, Dataset, IterableDataset, Sampler, SequentialSampler, Subset

from ._validation import NONE, Interval, validate_params
from .errors import SHUFFLE_REASON, DataError, DataTypeError, ShuffleError

__all__ = ["OrderedSampler", "check_no_shuffle", "ordered_loader"]

_POSITIVE = [Interval(Integral, 1, None, closed="left")]


_TIME_ORDERED = "yields_in_time_order"

_REMEDY = "Use tsforecast.ordered_loader(dataset, batch_size) or DataLoader(..., shuffle=False)."


def _owner(where: str, name: str) -> str:
    return f"{where}'s " if where != name else ""


def _declared_shuffle(sampler: Any, where: str) -> None:
    """Refuse a sampler that says it shuffles (a ``shuffle`` attribute, a random sampler), with its inner sampler."""
    inner = getattr(sampler, "sampler", None)
    if isinstance(sampler, BatchSampler) and inner is not None:
        _declared_shuffle(inner, where)
    name = type(sampler).__name__
    if bool(getattr(sampler, "shuffle", False)) or "Random" in name:
        raise ShuffleError(
            f"{_owner(where, name)}{name} visits windows in random order (shuffle=True). {SHUFFLE_REASON} {_REMEDY}"
        )


def _index(value: Any, sampler: str, where: str) -> int:
    try:
        return operator.index(value)
    except TypeError:
        raise DataTypeError(
            f"{_owner(where, sampler)}{sampler} yields {value!r} ({type(value).__name__}) where an integer window "
            "position was expected; only integer positions can be checked for time order. Yield ints, or lists of "
            "ints for a batch sampler."
        ) from None


def _name(sampler: Any) -> str:
    """The sampler to name in a message: the one inside torch's own BatchSampler, which only groups it."""
    return type(sampler.sampler if type(sampler) is BatchSampler else sampler).__name__


def _ordinal(k: int) -> str:
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"


class OrderedSampler(Sampler[Any]):
    """Pass a sampler or batch sampler through unchanged, raising as soon as it leaves time order.

    The guard judges the indices actually yielded, on every pass, not the sampler's class: each one
    is checked as it is produced, before it reaches a loader, so a sampler that turns to shuffling on
    its third pass raises :class:`~tsforecast.errors.ShuffleError` on that pass. Memory is O(1): only
    the previous index is kept.

    Parameters
    ----------
    sampler : Sampler, BatchSampler or iterable
        Yields integer positions, or batches (lists, tuples, arrays, tensors) of them. It is iterated
        afresh on each pass (a one-shot iterator such as a generator therefore serves one pass).
    dataset : Sized, optional
        What the positions index, e.g. the loader's dataset, or ``range(n)`` for ``n`` windows. With
        it, positions must lie in ``[0, len(dataset))`` (an endless sampler fails at ``len(dataset)``),
        and positions into a :class:`~torch.utils.data.Subset` (nested too, as made by
        :func:`~torch.utils.data.random_split`) are followed through its ``indices`` to the underlying
        dataset, whose positions must strictly increase as well.
    where : str, optional
        Where the sampler came from, for messages.

    Raises
    ------
    ShuffleError
        At construction, if the sampler (or a batch sampler's inner ``sampler``) declares shuffling
        (``shuffle=True``, a ``Random*`` sampler). While iterating, when a position is not strictly greater
        than the one before it in the same pass (batches are checked within and across), when a position
        is negative, or when a Subset maps an increasing position to an earlier window.
    DataError
        While iterating, if a position is at or past ``len(dataset)`` (or of a Subset).
    DataTypeError
        While iterating, if an index is not an integer.

    Notes
    -----
    Rule: within one pass, positions strictly increase and are non-negative; gaps are allowed, repeats
    are not. Each pass starts afresh, so an epoch may restart at window 0.

    What it cannot see: what happens after a position is drawn (a dataset's ``__getitem__`` may return
    anything for a position; a loader's ``collate_fn`` may reorder a batch), a
    :class:`~torch.utils.data.ConcatDataset` whose parts are out of time order, and a Subset whose
    ``indices`` are not a sequence of integers.

    Examples
    --------
    >>> list(OrderedSampler(range(4)))
    [0, 1, 2, 3]
    >>> list(OrderedSampler([[0, 1], [3, 2]]))
    Traceback (most recent call last):
    ...
    tsforecast.errors.ShuffleError: list visits windows out of time order: index 2 after index 3 (the 4th index of \
pass 1; indices must strictly increase). Time series must not be shuffled: shuffling mixes observations from after \
the ones a model is checked against into its training, so validation scores and early stopping promise an accuracy \
no real forecast has, and the run stops being reproducible in time order. Use tsforecast.ordered_loader(dataset, \
batch_size) or DataLoader(..., shuffle=False).
    """

    def __init__(self, sampler: Iterable[Any], *, dataset: Sized | None = None, where: str | None = None) -> None:
        self.sampler = sampler
        self.dataset = dataset
        self.where = where or type(sampler).__name__
        self._passes = 0
        _declared_shuffle(sampler, self.where)

    def __len__(self) -> int:
        return len(self.sampler)  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[Any]:
        self._passes += 1
        return self._checked(self._passes)

    def _checked(self, passes: int) -> Iterator[Any]:
        """One pass of the sampler, each item checked before it is yielded."""
        check = _OrderCheck(self, passes)
        for item in self.sampler:
            try:
                index = operator.index(item)
            except TypeError:
                if not isinstance(item, Iterable) or isinstance(item, (str, bytes)):
                    _index(item, check.name, self.where)  # raises DataTypeError
                check.batch(item)
            else:
                check(index)
            yield item


class _OrderCheck:
    """The state of one pass: is sent each position in turn and raises when time order breaks (O(1) memory)."""

    def __init__(self, ordered: OrderedSampler, passes: int) -> None:
        self.name = _name(ordered.sampler)
        self.where, self.dataset, self.passes = ordered.where, ordered.dataset, passes
        self.size = None if self.dataset is None else len(self.dataset)
        self.previous = self.base_previous = -1
        self.count = 0

    def batch(self, values: Iterable[Any]) -> None:
        """Check a batch: within itself and after the previous one."""
        # NOTE: a fast path at C speed for the usual batch, a list of ascending ints within a plain dataset (a training
        # loop checks every batch of every epoch); anything else, or any doubt, goes index by index for the message.
        if isinstance(values, (list, tuple)) and values and not isinstance(self.dataset, Subset):
            try:
                deque(map(operator.index, values), maxlen=0)
                last = operator.index(values[-1])
                ordered = values[0] > self.previous and all(map(operator.lt, values, itertools.islice(values, 1, None)))
            except TypeError:
                ordered = False
            if ordered and (self.size is None or last < self.size):
                self.previous = self.base_previous = last
                self.count += len(values)
                return
        for value in values:
            self(value)

    def __call__(self, value: Any) -> None:
        name, where = self.name, self.where
        self.count += 1
        index = _index(value, name, where)
        at = f"the {_ordinal(self.count)} index of pass {self.passes}"
        if index < 0:
            raise ShuffleError(
                f"{_owner(where, name)}{name} yields the negative index {index} ({at}); negative indices count from "
                f"the end, so they reach the latest windows. {SHUFFLE_REASON} {_REMEDY}"
            )
        if index <= self.previous:
            raise ShuffleError(
                f"{_owner(where, name)}{name} visits windows out of time order: index {index} after index "
                f"{self.previous} ({at}; indices must strictly increase). {SHUFFLE_REASON} {_REMEDY}"
            )
        self.previous = index
        if self.dataset is None:
            return
        base = _base_position(self.dataset, index, name, where)
        if base <= self.base_previous:
            raise ShuffleError(
                f"{_owner(where, 'Subset')}Subset visits windows out of time order: its position {index} maps to "
                f"window {base} after window {self.base_previous} ({at}); a Subset's indices must strictly "
                f"increase, and random_split or Subset(dataset, torch.randperm(n)) shuffle them. {SHUFFLE_REASON} "
                "Select a time range instead: Subset(dataset, range(start, stop))."
            )
        self.base_previous = base


def _base_position(dataset: Sized, index: int, sampler: str, where: str) -> int:
    """Follow ``index`` through nested Subsets down to a position of the underlying dataset."""
    size = len(dataset)
    if index >= size:
        raise DataError(
            f"{_owner(where, sampler)}{sampler} yields index {index}, past the end of its dataset of {size} windows "
            f"(0..{size - 1}). An endless or oversized sampler cannot be used; yield each position at most once "
            "per pass."
        )
    data: Any = dataset
    while isinstance(data, Subset):
        index = _index(data.indices[index], "Subset", where)
        inner = _length(data.dataset)
        if index < 0:
            raise ShuffleError(
                f"{_owner(where, 'Subset')}Subset has the negative index {index}; negative indices count from the "
                f"end, so they reach the latest windows. {SHUFFLE_REASON} Select a time range instead: "
                "Subset(dataset, range(start, stop))."
            )
        if inner is not None and index >= inner:
            raise DataError(
                f"{_owner(where, 'Subset')}Subset has the index {index}, past the end of its dataset of {inner} "
                f"windows (0..{inner - 1}). Subset indices must be positions of the dataset it selects from."
            )
        data = data.dataset
    return index


def _length(obj: Any) -> int | None:
    try:
        return len(obj)
    except TypeError:
        return None


def _one_shot(sampler: Any) -> bool:
    """Whether iterating ``sampler`` uses it up (a generator, or a sampler wrapping one)."""
    while not isinstance(sampler, Iterator):
        if not hasattr(sampler, "sampler"):
            return False
        sampler = sampler.sampler
    return True


def _sequential(sampler: Any, dataset: Sized | None) -> bool:
    """Whether ``sampler`` is torch's own SequentialSampler (or a BatchSampler of one) within ``dataset``."""
    # NOTE: exact types only (a subclass may override __iter__), so the common case costs O(1) instead of a scan.
    if type(sampler) is BatchSampler:
        sampler = sampler.sampler
    if type(sampler) is not SequentialSampler:
        return False
    return dataset is None or (not isinstance(dataset, Subset) and len(sampler) <= len(dataset))


def _scan(ordered: OrderedSampler, *, consume: bool = False) -> None:
    """Check one pass of ``ordered``, reading at most ``len()`` items, never a one-shot iterator unless asked."""
    sampler, dataset = ordered.sampler, ordered.dataset
    if _one_shot(sampler):
        if consume:
            return  # NOTE: ordered_loader: the wrapper checks a one-shot sampler as the loader consumes it.
        name = _name(sampler)
        raise ShuffleError(
            f"{_owner(ordered.where, name)}{name} is a one-shot iterator: "
            "checking its order would use it up and leave nothing to train on, so it cannot be checked. Pass a "
            "re-iterable sampler (a list, a range, a Sampler), or let tsforecast.ordered_loader(dataset, "
            "sampler=...) check it as it is consumed."
        )
    if _sequential(sampler, dataset):
        return
    limit = _length(sampler)
    if limit is None and dataset is not None:
        limit = len(dataset) + 1  # strictly increasing positions below len(dataset): one more read must fail
    if limit is None:
        name = _name(sampler)
        raise ShuffleError(
            f"{_owner(ordered.where, name)}{name} has no len(), so its order "
            "cannot be checked in bounded time. Give it a __len__, or check it with its dataset: "
            "check_no_shuffle(DataLoader(dataset, sampler=...))."
        )
    for _ in itertools.islice(ordered._checked(1), limit):
        pass


def _check_loader(loader: DataLoader[Any], where: str) -> None:
    """Refuse loader options that reorder batches, and iterable datasets that do not declare time order."""
    workers = loader.num_workers
    if workers > 0 and not getattr(loader, "in_order", True):
        raise ShuffleError(
            f"{where} has in_order=False with num_workers={workers}: batches arrive in the order the workers "
            f"finish them. {SHUFFLE_REASON} Leave in_order=True (the default)."
        )
    dataset = loader.dataset
    if not isinstance(dataset, IterableDataset):
        return
    name = type(dataset).__name__
    if getattr(dataset, _TIME_ORDERED, False) is not True:
        raise ShuffleError(
            f"{_owner(where, name)}{name} is an IterableDataset: it yields samples in its own order, which "
            f"cannot be checked. {SHUFFLE_REASON} If it yields in time order, declare it with the class "
            f"attribute {_TIME_ORDERED} = True; otherwise use a map-style dataset such as tsforecast.WindowDataset."
        )
    if workers > 1:
        raise ShuffleError(
            f"{_owner(where, name)}{name} is read by num_workers={workers}: each worker streams its own copy and "
            f"the loader interleaves them, so time order is lost. {SHUFFLE_REASON} Use num_workers=0 or 1."
        )


def check_no_shuffle(obj: DataLoader[Any] | Sampler[Any] | Iterable[Any], *, where: str | None = None) -> None:
    """Raise :class:`ShuffleError` if a loader or sampler would visit windows out of time order.

    Parameters
    ----------
    obj : DataLoader, Sampler, BatchSampler or re-iterable of int
        What to check:

        - a sampler that declares shuffling is refused by its type or attributes (``shuffle=True``,
          ``RandomSampler``, ``SubsetRandomSampler``, ``WeightedRandomSampler``, a ``BatchSampler``
          over one of them), naming where shuffling was enabled;
        - then one pass of the indices it actually yields is checked with :class:`OrderedSampler`'s
          rule (non-negative, strictly increasing, within and across batches), reading at most
          ``len(sampler)`` items (an endless sampler cannot hang the check) in O(1) memory. torch's own
          ``SequentialSampler`` (exact type, or a ``BatchSampler`` of one) is ordered by construction
          and is not read;
        - for a loader, its ``batch_sampler`` (else its ``sampler``) is read that way, positions must lie
          within its dataset, and positions into a ``Subset`` (nested too, e.g. from ``random_split``)
          are followed to the underlying dataset, which must be visited in increasing order too;
          ``in_order=False`` with workers is refused;
        - a loader over an ``IterableDataset`` is refused unless the dataset declares
          ``yields_in_time_order = True`` (class or instance attribute), and then refused with more
          than one worker;
        - a one-shot iterator (a generator, ``iter(...)``) is refused: checking it would use it up.
    where : str, optional
        Where the object came from, for the message.

    Raises
    ------
    ShuffleError
        Naming the sampler, loader option or dataset that shuffles or cannot be checked.
    DataError
        If a loader's sampler yields a position past the end of its dataset.
    DataTypeError
        If a sampler yields something other than integer positions.

    Notes
    -----
    This is a check *before* training: it reads one pass. A sampler that yields a different order on
    a later pass, or a one-shot iterator, is only caught while it is used, by :class:`OrderedSampler`
    (which :func:`ordered_loader` puts around every sampler). It cannot see the order of the samples
    an ``IterableDataset`` streams (hence the declaration), what a dataset's ``__getitem__``
    returns for a position, nor a ``collate_fn`` that reorders a batch.

    Examples
    --------
    >>> from torch.utils.data import DataLoader
    >>> check_no_shuffle(DataLoader(list(range(4)), shuffle=True))
    Traceback (most recent call last):
    ...
    tsforecast.errors.ShuffleError: DataLoader's RandomSampler visits windows in random order (shuffle=True). \
Time series must not be shuffled: shuffling mixes observations from after the ones a model is checked against into \
its training, so validation scores and early stopping promise an accuracy no real forecast has, and the run stops \
being reproducible in time order. Use tsforecast.ordered_loader(dataset, batch_size) or DataLoader(..., shuffle=False).
    """
    where = where or type(obj).__name__
    if not isinstance(obj, DataLoader):
        _scan(OrderedSampler(obj, where=where))
        return
    _check_loader(obj, where)
    if isinstance(obj.dataset, IterableDataset):
        return  # NOTE: DataLoader refuses a sampler for an iterable dataset; its placeholder yields None forever.
    _declared_shuffle(obj.sampler, where)
    sampler = obj.batch_sampler if obj.batch_sampler is not None else obj.sampler
    dataset = obj.dataset if isinstance(obj.dataset, Sized) else None
    _scan(OrderedSampler(sampler, dataset=dataset, where=where))


def ordered_loader(dataset: Dataset[Any], batch_size: int | None = 64, **kwargs: Any) -> DataLoader[Any]:
    """A :class:`~torch.utils.data.DataLoader` that yields windows in time order, and checks that it does.

    Parameters
    ----------
    dataset : Dataset
        Usually a :class:`WindowDataset`; a ``Subset`` of one must keep its indices increasing. An
        ``IterableDataset`` must declare ``yields_in_time_order = True``.
    batch_size : int or None, default=64
        Windows per batch.
    **kwargs
        Passed to ``DataLoader``. ``shuffle=True`` or a random ``sampler``/``batch_sampler`` is refused
        at once; any ``sampler``/``batch_sampler`` (default: a ``SequentialSampler``) is wrapped in
        :class:`OrderedSampler`, which checks one pass now (unless it is a one-shot iterator, which is
        not used up) and every index of every later pass as the loader draws it.

    Raises
    ------
    ShuffleError
        If shuffling is requested in any form, now or while iterating (see :class:`OrderedSampler`).

    Examples
    --------
    >>> import numpy as np
    >>> from tsforecast.windows import WindowDataset
    >>> loader = ordered_loader(WindowDataset(np.arange(10.0), lookback=3, horizon=1), batch_size=4)
    >>> [tuple(x.shape) for x, _ in loader]
    [(4, 1, 3), (3, 1, 3)]
    """
    validate_params("ordered_loader", {"batch_size": batch_size}, {"batch_size": [*_POSITIVE, NONE]})
    if kwargs.pop("shuffle", False):
        raise ShuffleError(f"ordered_loader(shuffle=True) was requested. {SHUFFLE_REASON} Leave shuffle=False.")
    where = "ordered_loader"
    if isinstance(dataset, IterableDataset):
        loader = DataLoader(dataset, batch_size=batch_size, **kwargs)
        _check_loader(loader, where)
        return loader
    sized = dataset if isinstance(dataset, Sized) else None
    if kwargs.get("batch_sampler") is not None:  # DataLoader forbids batch_size beside a batch_sampler
        ordered = OrderedSampler(kwargs.pop("batch_sampler"), dataset=sized, where=where)
        loader = DataLoader(dataset, batch_sampler=ordered, **kwargs)
    else:
        sampler = kwargs.pop("sampler", None)
        if sampler is None:
            sampler = SequentialSampler(dataset)  # type: ignore[arg-type]  # DataLoader's own default
        ordered = OrderedSampler(sampler, dataset=sized, where=where)
        loader = DataLoader(dataset, batch_size=batch_size, sampler=ordered, **kwargs)
    _check_loader(loader, where)
    _scan(ordered, consume=True)
    return loader
