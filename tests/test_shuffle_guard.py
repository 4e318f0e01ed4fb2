"""Tests of the shuffle guard (tsforecast.shuffle_guard): ordered_loader, check_no_shuffle, OrderedSampler,
and the attacks that try to get around it (subclasses, wrappers, subsets, iterable datasets, later passes)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch.utils.data import (
    BatchSampler,
    DataLoader,
    IterableDataset,
    RandomSampler,
    Sampler,
    SequentialSampler,
    Subset,
    SubsetRandomSampler,
    WeightedRandomSampler,
    random_split,
)
from torch.utils.data.distributed import DistributedSampler

import tsforecast
from tsforecast.errors import DataError, DataTypeError, LeakageError, ShuffleError
from tsforecast.shuffle_guard import OrderedSampler, check_no_shuffle, ordered_loader
from tsforecast.windows import WindowDataset

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
REFUSED = r"must not be shuffled"

# --- ordered_loader and the shuffle guard --------------------------------------------------------------------------


@pytest.fixture
def ds() -> WindowDataset:
    return WindowDataset(np.arange(40.0).reshape(2, 20), lookback=4, horizon=2)


def test_ordered_loader_yields_batches_in_time_order(ds: WindowDataset) -> None:
    loader = ordered_loader(ds, batch_size=5)
    batches = list(loader)
    assert [tuple(x.shape) for x, _ in batches] == [(5, 2, 4)] * 3
    x_all, y_all = ds.batch()
    torch.testing.assert_close(torch.cat([x for x, _ in batches]), x_all, rtol=0, atol=0)
    torch.testing.assert_close(torch.cat([y for _, y in batches]), y_all, rtol=0, atol=0)
    firsts = torch.cat([x[:, 0, 0] for x, _ in batches])
    assert torch.all(firsts[1:] > firsts[:-1])
    again = list(loader)  # re-iterable, same order
    torch.testing.assert_close(torch.cat([x for x, _ in again]), x_all, rtol=0, atol=0)


def test_ordered_loader_docstring_example() -> None:
    loader = ordered_loader(WindowDataset(np.arange(10.0), lookback=3, horizon=1), batch_size=4)
    assert [tuple(x.shape) for x, _ in loader] == [(4, 1, 3), (3, 1, 3)]


def test_ordered_loader_passes_other_arguments_through(ds: WindowDataset) -> None:
    loader = ordered_loader(ds, batch_size=4, drop_last=True, sampler=SequentialSampler(ds))
    assert len(loader) == 3
    sequential = ordered_loader(ds, batch_sampler=BatchSampler(SequentialSampler(ds), 6, drop_last=False))
    assert [len(x) for x, _ in sequential] == [6, 6, 3]


@pytest.mark.parametrize(
    "make",
    [
        lambda d: DataLoader(d, batch_size=4),
        lambda d: DataLoader(d, batch_size=4, shuffle=False),
        lambda d: DataLoader(d, sampler=SequentialSampler(d)),
        lambda d: SequentialSampler(d),
        lambda d: BatchSampler(SequentialSampler(d), 3, drop_last=True),
        lambda d: DistributedSampler(d, num_replicas=1, rank=0, shuffle=False),
        lambda d: range(len(d)),
        lambda d: ordered_loader(d),
    ],
)
def test_check_no_shuffle_passes_time_ordered_loaders_and_samplers(ds: WindowDataset, make: Any) -> None:
    check_no_shuffle(make(ds))


class _Backwards(Sampler[int]):
    """A custom sampler that visits the windows newest first."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __iter__(self) -> Iterator[int]:
        return iter(range(self.n - 1, -1, -1))

    def __len__(self) -> int:
        return self.n


class _BackwardsBatches:
    """A custom batch sampler (not a BatchSampler subclass) whose batches run backwards."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __iter__(self) -> Iterator[list[int]]:
        return iter([[4, 5], [2, 3], [0, 1]])

    def __len__(self) -> int:
        return 3


@pytest.mark.parametrize(
    ("make", "named"),
    [
        (
            lambda d: DataLoader(d, batch_size=4, shuffle=True),
            "DataLoader's RandomSampler visits windows in random order (shuffle=True)",
        ),
        (lambda d: RandomSampler(d), "RandomSampler visits windows in random order (shuffle=True)"),
        (lambda d: SubsetRandomSampler(range(5)), "SubsetRandomSampler visits windows in random order (shuffle=True)"),
        (
            lambda d: WeightedRandomSampler([1.0] * len(d), num_samples=len(d)),
            "WeightedRandomSampler visits windows in random order (shuffle=True)",
        ),
        (
            lambda d: BatchSampler(RandomSampler(d), 4, drop_last=False),
            "BatchSampler's RandomSampler visits windows in random order (shuffle=True)",
        ),
        (
            lambda d: _Backwards(len(d)),
            "_Backwards visits windows out of time order: index 13 after index 14 (the 2nd index of pass 1; "
            "indices must strictly increase)",
        ),
        (
            lambda d: DataLoader(d, sampler=_Backwards(len(d))),
            "DataLoader's _Backwards visits windows out of time order: index 13 after index 14 "
            "(the 2nd index of pass 1; indices must strictly increase)",
        ),
        (
            lambda d: DataLoader(d, batch_sampler=_BackwardsBatches(len(d))),
            "DataLoader's _BackwardsBatches visits windows out of time order: index 2 after index 5 (the 3rd index of "
            "pass 1; indices must strictly increase)",
        ),
        (
            lambda d: DataLoader(d, sampler=SubsetRandomSampler(range(len(d))), batch_size=2),
            "DataLoader's SubsetRandomSampler visits windows in random order (shuffle=True)",
        ),
        (
            lambda d: DistributedSampler(d, num_replicas=1, rank=0, shuffle=True),
            "DistributedSampler visits windows in random order (shuffle=True)",
        ),
        (
            lambda d: [3, 1, 2],
            "list visits windows out of time order: index 1 after index 3 (the 2nd index of pass 1; "
            "indices must strictly increase)",
        ),
        (
            lambda d: [0, 1, 1, 2],
            "list visits windows out of time order: index 1 after index 1 (the 3rd index of pass 1; "
            "indices must strictly increase)",
        ),
    ],
)
def test_check_no_shuffle_refuses_shuffling_and_names_the_sampler(ds: WindowDataset, make: Any, named: str) -> None:
    pattern = (
        re.escape(named)
        + r"\. Time series must not be shuffled: .* Use tsforecast\.ordered_loader\(dataset, batch_size\) "
        r"or DataLoader\(\.\.\., shuffle=False\)\."
    )
    with pytest.raises(ShuffleError, match=pattern):
        check_no_shuffle(make(ds))


def test_check_no_shuffle_names_where_the_object_came_from(ds: WindowDataset) -> None:
    with pytest.raises(ShuffleError, match=r"^my_model\.loader's RandomSampler visits windows in random order"):
        check_no_shuffle(DataLoader(ds, shuffle=True), where="my_model.loader")


def test_check_no_shuffle_passes_an_iterable_dataset_that_declares_time_order() -> None:
    class Stream(IterableDataset):  # type: ignore[type-arg]
        yields_in_time_order = True

        def __iter__(self) -> Iterator[int]:
            return iter(range(5))

    check_no_shuffle(DataLoader(Stream(), batch_size=2))
    assert [b.tolist() for b in ordered_loader(Stream(), batch_size=2)] == [[0, 1], [2, 3], [4]]


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"shuffle": True}, r"ordered_loader\(shuffle=True\) was requested\. Time series must not be shuffled"),
        ({"sampler": "random"}, r"ordered_loader's RandomSampler visits windows in random order \(shuffle=True\)"),
        (
            {"sampler": "backwards"},
            r"ordered_loader's _Backwards visits windows out of time order: index 13 after index 14",
        ),
        ({"batch_sampler": "random"}, r"ordered_loader's RandomSampler visits windows in random order"),
        ({"batch_sampler": "backwards"}, r"ordered_loader's _BackwardsBatches visits windows out of time order"),
    ],
)
def test_ordered_loader_refuses_shuffling(ds: WindowDataset, kwargs: dict[str, Any], named: str) -> None:
    samplers = {
        ("sampler", "random"): RandomSampler(ds),
        ("sampler", "backwards"): _Backwards(len(ds)),
        ("batch_sampler", "random"): BatchSampler(RandomSampler(ds), 4, drop_last=False),
        ("batch_sampler", "backwards"): _BackwardsBatches(len(ds)),
    }
    kwargs = {k: samplers.get((k, v), v) for k, v in kwargs.items()}
    with pytest.raises(ShuffleError, match=named) as info:
        ordered_loader(ds, batch_size=4, **kwargs)
    assert "Time series must not be shuffled" in str(info.value)


def test_shuffle_error_from_the_loader_is_a_leakage_error(ds: WindowDataset) -> None:
    with pytest.raises(LeakageError, match=REFUSED):
        ordered_loader(ds, shuffle=True)


def test_window_names_are_exported_from_the_top_level() -> None:
    assert tsforecast.WindowDataset is tsforecast.windows.WindowDataset
    for name in ("OrderedSampler", "ordered_loader", "check_no_shuffle"):
        assert getattr(tsforecast, name) is getattr(tsforecast.shuffle_guard, name)


# --- the order actually produced: attacks on the guard ---------------------------------------------------------------

OUT_OF_ORDER = r"visits windows out of time order: index \d+ after index \d+ \(the \d+(st|nd|rd|th) index of pass \d+"


def _epochs(loader: DataLoader[Any], n: int) -> list[list[int]]:
    """The first input value of each window, per epoch (windows of ``np.arange`` data start at their own value)."""
    return [torch.cat([x[:, 0, 0] for x, _ in loader]).int().tolist() for _ in range(n)]


class _ShufflingSequential(SequentialSampler):
    """Looks sequential by type, shuffles by behaviour."""

    def __iter__(self) -> Iterator[int]:
        return iter(torch.randperm(len(self.data_source), generator=torch.Generator().manual_seed(0)).tolist())


def test_sequential_sampler_subclass_that_shuffles_raises(ds: WindowDataset) -> None:
    with pytest.raises(ShuffleError, match="^_ShufflingSequential " + OUT_OF_ORDER):
        check_no_shuffle(_ShufflingSequential(ds))
    with pytest.raises(ShuffleError, match="^DataLoader's _ShufflingSequential " + OUT_OF_ORDER):
        check_no_shuffle(DataLoader(ds, sampler=_ShufflingSequential(ds), batch_size=4))
    with pytest.raises(ShuffleError, match="^ordered_loader's _ShufflingSequential " + OUT_OF_ORDER):
        ordered_loader(ds, sampler=_ShufflingSequential(ds))


class _ShuffledBatches(BatchSampler):
    """A BatchSampler over a SequentialSampler that serves its batches newest first."""

    def __iter__(self) -> Iterator[list[int]]:
        return reversed(list(super().__iter__()))


class _ShuffledWithinBatches(BatchSampler):
    """A BatchSampler whose batches come in order but are each reversed."""

    def __iter__(self) -> Iterator[list[int]]:
        return (batch[::-1] for batch in super().__iter__())


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: _ShuffledBatches(SequentialSampler(d), 4, drop_last=False), "index 8 after index 14 (the 4th"),
        (lambda d: _ShuffledWithinBatches(SequentialSampler(d), 4, drop_last=False), "index 2 after index 3 (the 2nd"),
    ],
)
def test_batch_sampler_subclass_that_shuffles_batches_raises(ds: WindowDataset, make: Any, message: str) -> None:
    name = type(make(ds)).__name__
    with pytest.raises(ShuffleError, match=rf"^{name} visits windows out of time order: {re.escape(message)}"):
        check_no_shuffle(make(ds))
    with pytest.raises(ShuffleError, match=rf"^DataLoader's {name} visits .*{re.escape(message)}"):
        check_no_shuffle(DataLoader(ds, batch_sampler=make(ds)))
    with pytest.raises(ShuffleError, match=rf"^ordered_loader's {name} visits .*{re.escape(message)}"):
        ordered_loader(ds, batch_sampler=make(ds))


class _ShufflesOnPass(Sampler[int]):
    """Ascending on its first passes, out of order (two windows swapped) from pass ``bad`` on."""

    def __init__(self, n: int, bad: int) -> None:
        self.n, self.bad, self.passes = n, bad, 0

    def __iter__(self) -> Iterator[int]:
        self.passes += 1
        order = range(self.n) if self.passes < self.bad else [1, 0, *range(2, self.n)]
        return iter(order)

    def __len__(self) -> int:
        return self.n


def test_sampler_that_shuffles_on_third_pass_raises(ds: WindowDataset) -> None:
    sampler = _ShufflesOnPass(len(ds), bad=3)
    loader = ordered_loader(ds, batch_size=4, sampler=sampler)  # the sampler's 1st pass: the check
    assert _epochs(loader, 1) == [list(range(len(ds)))]  # its 2nd pass: the loader's first epoch
    # its 3rd pass swaps two windows, in the loader's second epoch (messages count the loader's passes)
    pattern = r"^ordered_loader's _ShufflesOnPass visits windows out of time order: index 0 after index 1 \(the 2nd"
    with pytest.raises(ShuffleError, match=pattern + r" index of pass 2;"):
        _epochs(loader, 1)
    assert sampler.passes == 3


def test_ordered_sampler_checks_every_pass_and_names_it() -> None:
    ordered = OrderedSampler(_ShufflesOnPass(30, bad=3))
    assert list(ordered) == list(range(30))
    assert list(ordered) == list(range(30))
    with pytest.raises(
        ShuffleError,
        match=r"^_ShufflesOnPass visits windows out of time order: index 0 after index 1 \(the 2nd index of pass 3;",
    ):
        list(ordered)


def test_ordered_sampler_passes_items_through_unchanged() -> None:
    batches = [[0, 2], (3, 4), np.array([7, 9]), torch.tensor([10, 11])]
    ordered = OrderedSampler(batches, dataset=range(12))
    assert all(a is b for a, b in zip(ordered, batches, strict=True))
    assert len(ordered) == 4
    assert list(OrderedSampler(BatchSampler(SequentialSampler(range(5)), 2, drop_last=False))) == [[0, 1], [2, 3], [4]]


def test_ordered_sampler_refuses_declared_shuffling_at_construction(ds: WindowDataset) -> None:
    with pytest.raises(ShuffleError, match=r"^SGDForecaster's RandomSampler visits windows in random order \(shuffle"):
        OrderedSampler(BatchSampler(RandomSampler(ds), 4, drop_last=False), where="SGDForecaster")


def _generator(n: int, reverse: bool = False) -> Iterator[int]:
    yield from (reversed(range(n)) if reverse else range(n))


def test_generator_sampler_is_not_consumed_by_the_check(ds: WindowDataset) -> None:
    refused = r"is a one-shot iterator: checking its order would use it up and leave nothing to train on"
    sampler = _generator(len(ds))
    with pytest.raises(ShuffleError, match=r"^generator " + refused):
        check_no_shuffle(sampler)
    with pytest.raises(ShuffleError, match=r"^DataLoader's generator " + refused):
        check_no_shuffle(DataLoader(ds, sampler=sampler, batch_size=4))
    loader = ordered_loader(ds, batch_size=4, sampler=sampler)
    assert _epochs(loader, 1) == [list(range(len(ds)))]  # the check left every window to train on
    backwards = ordered_loader(ds, batch_size=4, sampler=_generator(len(ds), reverse=True))
    with pytest.raises(ShuffleError, match="^ordered_loader's generator " + OUT_OF_ORDER):
        _epochs(backwards, 1)  # a one-shot sampler is checked as it is consumed


class _Endless(Sampler[int]):
    """Counts up forever; claims a length of ``n`` (or has no length)."""

    def __init__(self, n: int | None) -> None:
        self.n, self.read = n, 0

    def __iter__(self) -> Iterator[int]:
        while True:
            self.read += 1
            yield self.read - 1


class _EndlessWithLength(_Endless):
    def __len__(self) -> int:
        return self.n or 0


def test_endless_sampler_does_not_hang_the_check(ds: WindowDataset) -> None:
    sampler = _EndlessWithLength(5)
    check_no_shuffle(sampler)  # reads len() = 5 indices, all ascending
    assert sampler.read == 5
    endless = _Endless(None)
    with pytest.raises(ShuffleError, match=r"^_Endless has no len\(\), so its order cannot be checked in bounded"):
        check_no_shuffle(endless)
    assert endless.read == 0
    past = rf"yields index {len(ds)}, past the end of its dataset of {len(ds)} windows \(0\.\.{len(ds) - 1}\)"
    with pytest.raises(DataError, match=r"^DataLoader's _Endless " + past):
        check_no_shuffle(DataLoader(ds, sampler=_Endless(None)))
    loader = ordered_loader(ds, batch_size=4, sampler=_EndlessWithLength(len(ds)))
    with pytest.raises(DataError, match=r"^ordered_loader's _EndlessWithLength " + past):
        _epochs(loader, 1)


def test_negative_index_raises(ds: WindowDataset) -> None:
    pattern = r"^list yields the negative index -1 \(the 3rd index of pass 1\); negative indices count from the end"
    with pytest.raises(ShuffleError, match=pattern):
        check_no_shuffle([0, 1, -1])
    with pytest.raises(ShuffleError, match=r"^ordered_loader's list yields the negative index -5"):
        ordered_loader(ds, sampler=[-5, -4])


def test_a_non_integer_index_is_a_type_error() -> None:
    pattern = r"^list yields 'a' \(str\) where an integer window position was expected"
    with pytest.raises(DataTypeError, match=pattern):
        check_no_shuffle([0, "a"])
    with pytest.raises(DataTypeError, match=r"^list yields 1\.5 \(float\) where an integer window position"):
        check_no_shuffle([[0, 1.5]])


def test_subset_with_random_permutation_raises(ds: WindowDataset) -> None:
    shuffled = Subset(ds, torch.randperm(len(ds), generator=torch.Generator().manual_seed(0)))
    pattern = r"Subset visits windows out of time order: its position \d+ maps to window \d+ after window \d+ "
    with pytest.raises(ShuffleError, match="^ordered_loader's " + pattern + r".*random_split or Subset\(dataset"):
        ordered_loader(shuffled)
    with pytest.raises(ShuffleError, match="^DataLoader's " + pattern):
        check_no_shuffle(DataLoader(shuffled, batch_size=4))


def test_random_split_raises(ds: WindowDataset) -> None:
    train, _ = random_split(ds, [0.8, 0.2], generator=torch.Generator().manual_seed(0))
    with pytest.raises(ShuffleError, match=r"^ordered_loader's Subset visits windows out of time order"):
        ordered_loader(train, batch_size=4)


def test_nested_subsets_are_followed_to_the_underlying_dataset(ds: WindowDataset) -> None:
    inner = Subset(ds, range(2, 14))
    ordered = ordered_loader(Subset(inner, [0, 3, 4, 9]), batch_size=2)
    assert _epochs(ordered, 1) == [[2, 5, 6, 11]]
    with pytest.raises(ShuffleError, match=r"its position 1 maps to window 1 after window 7 \(the 2nd index"):
        ordered_loader(Subset(Subset(ds, [7, 1, 2]), [0, 1]))


@pytest.mark.parametrize(
    ("indices", "error", "message"),
    [
        ([0, -1], ShuffleError, "ordered_loader's Subset has the negative index -1; negative indices count"),
        ([0, 15], DataError, "ordered_loader's Subset has the index 15, past the end of its dataset of 15 windows"),
    ],
)
def test_subset_with_indices_outside_its_dataset_raises(
    ds: WindowDataset, indices: list[int], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match="^" + re.escape(message)):
        ordered_loader(Subset(ds, indices))


class _Stream(IterableDataset):  # type: ignore[type-arg]
    """Streams 0..9 in a shuffled order and declares nothing."""

    def __iter__(self) -> Iterator[int]:
        return iter(torch.randperm(10, generator=torch.Generator().manual_seed(0)).tolist())


def test_shuffling_iterable_dataset_is_refused() -> None:
    pattern = (
        r"_Stream is an IterableDataset: it yields samples in its own order, which cannot be checked\. "
        r"Time series must not be shuffled: .* declare it with the class attribute yields_in_time_order = True"
    )
    with pytest.raises(ShuffleError, match="^DataLoader's " + pattern):
        check_no_shuffle(DataLoader(_Stream(), batch_size=2))
    with pytest.raises(ShuffleError, match="^ordered_loader's " + pattern):
        ordered_loader(_Stream(), batch_size=2)


def test_a_declared_iterable_dataset_read_by_several_workers_is_refused() -> None:
    class Declared(_Stream):
        yields_in_time_order = True

    pattern = r"^DataLoader's Declared is read by num_workers=2: each worker streams its own copy"
    with pytest.raises(ShuffleError, match=pattern):
        check_no_shuffle(DataLoader(Declared(), num_workers=2))


def test_loader_that_delivers_batches_out_of_order_is_refused(ds: WindowDataset) -> None:
    pattern = r"^DataLoader has in_order=False with num_workers=2: batches arrive in the order the workers finish"
    with pytest.raises(ShuffleError, match=pattern):
        check_no_shuffle(DataLoader(ds, num_workers=2, in_order=False))
    with pytest.raises(ShuffleError, match=r"^ordered_loader has in_order=False"):
        ordered_loader(ds, num_workers=2, in_order=False)


@SETTINGS
@given(st.permutations(list(range(8))), st.integers(1, 4))
def test_any_permutation_that_is_not_sorted_raises(order: list[int], batch: int) -> None:
    batches = [order[i : i + batch] for i in range(0, len(order), batch)]
    if order == sorted(order):
        check_no_shuffle(order)
        assert list(OrderedSampler(batches, dataset=range(8))) == batches
    else:
        with pytest.raises(ShuffleError, match=OUT_OF_ORDER):
            check_no_shuffle(order)
        with pytest.raises(ShuffleError, match=OUT_OF_ORDER):
            list(OrderedSampler(batches, dataset=range(8)))


@SETTINGS
@given(st.lists(st.integers(0, 30), max_size=20))
def test_exactly_the_strictly_increasing_index_sequences_pass(indices: list[int]) -> None:
    increasing = all(a < b for a, b in itertools.pairwise(indices))
    if increasing:
        check_no_shuffle(indices)
        ordered_loader(Subset(list(range(40)), indices), batch_size=3)
    else:
        with pytest.raises(ShuffleError, match=OUT_OF_ORDER):
            check_no_shuffle(indices)
        with pytest.raises(ShuffleError, match=r"Subset visits windows out of time order"):
            ordered_loader(Subset(list(range(40)), indices), batch_size=3)


class _Ascending(Sampler[int]):
    def __init__(self, n: int) -> None:
        self.n = n

    def __iter__(self) -> Iterator[int]:
        return iter(range(self.n))

    def __len__(self) -> int:
        return self.n


def test_the_check_runs_in_constant_memory() -> None:
    import tracemalloc

    tracemalloc.start()
    check_no_shuffle(_Ascending(50_000))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 100_000  # bytes: a list of the 50 000 indices alone would take 400 000
