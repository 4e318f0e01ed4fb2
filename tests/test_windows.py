"""Zero-copy ordered windows, ordered_loader and the shuffle guard."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
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


def _expected_count(usable: int, lookback: int, horizon: int, stride: int) -> int:
    span = lookback + horizon
    return 0 if usable < span else (usable - span) // stride + 1


def _same_storage(t: torch.Tensor, ds: WindowDataset) -> bool:
    return t.untyped_storage().data_ptr() == ds.buffer.untyped_storage().data_ptr()


# --- one series ----------------------------------------------------------------------------------------------------


@SETTINGS
@given(
    T=st.integers(1, 60),
    C=st.integers(1, 3),
    lookback=st.integers(1, 12),
    horizon=st.integers(1, 6),
    stride=st.integers(1, 5),
    end=st.none() | st.integers(-2, 70),
    seed=st.integers(0, 2**16),
)
def test_windows_equal_naive_slicing_and_share_the_buffer(
    T: int, C: int, lookback: int, horizon: int, stride: int, end: int | None, seed: int
) -> None:
    values = np.random.default_rng(seed).normal(size=(C, T))
    ds = WindowDataset(values, lookback, horizon, stride=stride, end=end)
    reference = torch.as_tensor(values, dtype=torch.float32)
    last = T - 1 if end is None else min(end, T - 1)
    assert len(ds) == _expected_count(last + 1, lookback, horizon, stride)
    assert ds.buffer.shape == (C, T)
    starts = ds.starts
    assert np.all(np.diff(starts) == stride)  # ascending, stride apart
    for i, s in enumerate(starts):
        x, y = ds[i]
        assert x.shape == (C, lookback)
        assert y.shape == (horizon,)
        torch.testing.assert_close(x, reference[:, s : s + lookback], rtol=0, atol=0)
        torch.testing.assert_close(y, reference[0, s + lookback : s + lookback + horizon], rtol=0, atol=0)
        assert _same_storage(x, ds)
        assert _same_storage(y, ds)
        assert s + lookback + horizon - 1 <= last  # no target beyond end
    if len(ds):
        assert starts[-1] + lookback + horizon - 1 == last  # the most recent window ends exactly at end
        assert starts[0] < stride or starts[0] - stride < 0
        assert starts[0] >= 0
        x, y = ds.batch()
        assert x.shape == (len(ds), C, lookback)
        assert y.shape == (len(ds), horizon)
        for i in range(len(ds)):
            torch.testing.assert_close(x[i], ds[i][0], rtol=0, atol=0)
            torch.testing.assert_close(y[i], ds[i][1], rtol=0, atol=0)


def test_docstring_example() -> None:
    ds = WindowDataset(np.arange(6.0), lookback=3, horizon=2)
    assert len(ds) == 2
    x, y = ds[1]
    assert x.tolist() == [[1.0, 2.0, 3.0]]
    assert y.tolist() == [4.0, 5.0]
    x, y = ds[-1]
    assert y.tolist() == [4.0, 5.0]


@pytest.mark.parametrize(
    ("end", "starts"),
    [(None, [1, 3, 5]), (9, [1, 3, 5]), (100, [1, 3, 5]), (8, [0, 2, 4]), (7, [1, 3]), (4, [0]), (3, []), (-1, [])],
)
def test_end_drops_windows_whose_targets_pass_it(end: int | None, starts: list[int]) -> None:
    ds = WindowDataset(np.arange(10.0), lookback=3, horizon=2, stride=2, end=end)
    assert ds.starts.tolist() == starts
    for _, y in ds:
        assert y.max().item() <= (9 if end is None else end)


def test_end_accepts_numpy_integers() -> None:
    assert WindowDataset(np.arange(20.0), 3, 2, end=np.int64(10)).starts.tolist() == list(range(7))


def test_a_float32_tensor_is_used_without_a_copy() -> None:
    values = torch.arange(50, dtype=torch.float32).reshape(2, 25)
    ds = WindowDataset(values, lookback=5, horizon=3)
    assert ds.buffer.data_ptr() == values.data_ptr()
    x, _ = ds[0]
    assert x.untyped_storage().data_ptr() == values.untyped_storage().data_ptr()


def test_too_short_data_gives_no_windows_with_the_right_batch_shape() -> None:
    ds = WindowDataset(np.zeros((2, 3)), lookback=5, horizon=4)
    assert len(ds) == 0
    x, y = ds.batch()
    assert x.shape == (0, 2, 5)
    assert y.shape == (0, 4)


def test_batch_of_selected_windows() -> None:
    ds = WindowDataset(np.arange(30.0).reshape(2, 15), lookback=4, horizon=2)
    for index in ([0, 3, 5], slice(2, 6), 4, np.array([1, 2])):
        x, y = ds.batch(index)
        chosen = np.atleast_1d(np.arange(len(ds))[index])
        assert x.shape == (len(chosen), 2, 4)
        for row, i in enumerate(chosen):
            torch.testing.assert_close(x[row], ds[int(i)][0], rtol=0, atol=0)
            torch.testing.assert_close(y[row], ds[int(i)][1], rtol=0, atol=0)


def test_a_million_point_series_allocates_only_the_buffer() -> None:
    values = np.arange(1_000_000, dtype=np.float32)
    ds = WindowDataset(values, lookback=256, horizon=1)
    assert len(ds) == 1_000_000 - 256
    assert ds.buffer.untyped_storage().nbytes() == 4 * 1_000_000
    assert ds._inputs.shape == (1, 1_000_000 - 255, 256)
    assert ds._inputs.untyped_storage().data_ptr() == ds.buffer.untyped_storage().data_ptr()
    assert ds._inputs.untyped_storage().nbytes() == ds.buffer.untyped_storage().nbytes()
    assert ds._targets.untyped_storage().data_ptr() == ds.buffer.untyped_storage().data_ptr()
    x, y = ds[len(ds) - 1]
    assert x[0, -1].item() == 999_998.0
    assert y.item() == 999_999.0
    assert _same_storage(x, ds)


# --- panels --------------------------------------------------------------------------------------------------------


@SETTINGS
@given(
    lengths=st.lists(st.integers(0, 30), min_size=1, max_size=5),
    lookback=st.integers(1, 8),
    horizon=st.integers(1, 4),
    stride=st.integers(1, 4),
    data=st.data(),
)
def test_panel_windows_never_cross_series(
    lengths: list[int], lookback: int, horizon: int, stride: int, data: st.DataObject
) -> None:
    ends = data.draw(st.none() | st.lists(st.integers(-1, 35), min_size=len(lengths), max_size=len(lengths)))
    # series i holds 10_000 * i + its own position, so every value says which series and position it came from
    values = np.concatenate([10_000.0 * i + np.arange(n) for i, n in enumerate(lengths)])
    ds = WindowDataset(values, lookback, horizon, stride=stride, lengths=lengths, end=ends)
    lasts = [n - 1 if ends is None else min(e, n - 1) for n, e in zip(lengths, ends or lengths, strict=True)]
    assert len(ds) == sum(_expected_count(last + 1, lookback, horizon, stride) for last in lasts)
    assert np.all(np.diff(ds.starts) > 0)
    for x, y in ds:
        series = int(x[0, 0].item()) // 10_000
        window = torch.cat([x[0], y]) - 10_000.0 * series
        assert torch.equal(window, torch.arange(window[0].item(), window[0].item() + lookback + horizon))
        assert window[-1].item() <= lasts[series]
    if len(ds):
        assert ds.batch()[0].shape == (len(ds), 1, lookback)


def _frame(starts: list[int], lengths: list[int]) -> pd.DataFrame:
    parts = []
    for i, (s, n) in enumerate(zip(starts, lengths, strict=True)):
        ds = np.arange(s, s + n)
        parts.append(pd.DataFrame({"unique_id": f"s{i}", "ds": ds, "y": 10_000.0 * i + ds, "x": -(10_000.0 * i + ds)}))
    return pd.concat(parts, ignore_index=True)


@SETTINGS
@given(
    starts=st.lists(st.integers(0, 20), min_size=1, max_size=4),
    lookback=st.integers(1, 6),
    horizon=st.integers(1, 4),
    stride=st.integers(1, 3),
    cutoff=st.none() | st.integers(-1, 50),
    data=st.data(),
)
def test_from_frame_windows_stay_in_their_series_and_before_the_cutoff(
    starts: list[int], lookback: int, horizon: int, stride: int, cutoff: int | None, data: st.DataObject
) -> None:
    lengths = data.draw(st.lists(st.integers(1, 30), min_size=len(starts), max_size=len(starts)))
    df = _frame(starts, lengths)
    ds = WindowDataset.from_frame(df, lookback, horizon, stride=stride, cutoff=cutoff, channels=["x"])
    seen = [n if cutoff is None else int(np.clip(cutoff - s + 1, 0, n)) for s, n in zip(starts, lengths, strict=True)]
    assert len(ds) == sum(_expected_count(k, lookback, horizon, stride) for k in seen)
    for x, y in ds:
        assert x.shape == (2, lookback)
        torch.testing.assert_close(x[1], -x[0], rtol=0, atol=0)
        series = int(x[0, 0].item()) // 10_000
        stamps = torch.cat([x[0], y]) - 10_000.0 * series
        assert stamps[0].item() >= starts[series]
        assert stamps[-1].item() <= starts[series] + lengths[series] - 1
        if cutoff is not None:
            assert stamps[-1].item() <= cutoff
    x, _ = ds.batch()
    assert x.shape == (len(ds), 2, lookback)


def test_from_frame_on_a_shipped_panel_with_a_timestamp_cutoff() -> None:
    df = tsforecast.load_dataset("arrivals")
    cutoff = pd.Timestamp("2000-01-01")
    ds = WindowDataset.from_frame(df, lookback=8, horizon=4, cutoff=cutoff)
    seen = df[df["ds"] <= cutoff].groupby("unique_id", sort=False).size()
    assert len(ds) == sum(_expected_count(int(k), 8, 4, 1) for k in seen)
    # the last window of every series has its final target exactly at the cutoff
    last_targets = {float(ds[i][1][-1]) for i in range(len(ds))}
    as_float32 = lambda v: {float(np.float32(x)) for x in v}  # noqa: E731 - the buffer holds float32
    assert as_float32(df.loc[df["ds"] == cutoff, "y"]) <= last_targets
    after = as_float32(df.loc[df["ds"] > cutoff, "y"]) - as_float32(df.loc[df["ds"] <= cutoff, "y"])
    assert after
    assert not set(ds.batch()[1].flatten().tolist()) & after


@pytest.mark.parametrize(
    "df",
    [
        pd.DataFrame({"unique_id": list("abab"), "ds": [0, 0, 1, 1], "y": [1.0, 2.0, 3.0, 4.0]}),
        pd.DataFrame({"unique_id": list("aabb"), "ds": [1, 0, 0, 1], "y": [1.0, 2.0, 3.0, 4.0]}),
        pd.DataFrame({"unique_id": list("aab"), "ds": [0, 0, 0], "y": [1.0, 2.0, 3.0]}),
    ],
)
def test_from_frame_refuses_interleaved_or_unsorted_series(df: pd.DataFrame) -> None:
    pattern = (
        r"WindowDataset\.from_frame needs each series' rows together and in increasing time order\. "
        r"Sort the frame first: df\.sort_values\(\['unique_id', 'ds'\]\)"
    )
    with pytest.raises(DataError, match=pattern):
        WindowDataset.from_frame(df, lookback=1, horizon=1)


def test_from_frame_of_an_empty_frame_has_no_windows() -> None:
    ds = WindowDataset.from_frame(pd.DataFrame({"unique_id": [], "ds": [], "y": []}), lookback=2, horizon=1)
    assert len(ds) == 0


def test_from_frame_does_not_modify_the_frame() -> None:
    df = _frame([0, 3], [10, 12])
    original = df.copy(deep=True)
    ds = WindowDataset.from_frame(df, 3, 2, cutoff=8)
    ds.buffer.zero_()
    pd.testing.assert_frame_equal(df, original)


# --- parameter errors ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"lookback": 0},
            DataError,
            "The 'lookback' parameter of WindowDataset must be an int in the range [1, inf). Got 0 instead.",
        ),
        (
            {"horizon": 0},
            DataError,
            "The 'horizon' parameter of WindowDataset must be an int in the range [1, inf). Got 0 instead.",
        ),
        (
            {"stride": -2},
            DataError,
            "The 'stride' parameter of WindowDataset must be an int in the range [1, inf). Got -2 instead.",
        ),
        (
            {"lookback": "3"},
            DataTypeError,
            "The 'lookback' parameter of WindowDataset must be an int in the range [1, inf). Got '3' instead.",
        ),
        (
            {"horizon": 1.5},
            DataTypeError,
            "The 'horizon' parameter of WindowDataset must be an int in the range [1, inf). Got 1.5 instead.",
        ),
        (
            {"stride": True},
            DataTypeError,
            "The 'stride' parameter of WindowDataset must be an int in the range [1, inf). Got True instead.",
        ),
        ({"values": np.zeros((2, 3, 4))}, DataError, "values must have shape (T,) or (C, T); got (2, 3, 4)."),
        ({"values": np.float64(1.0)}, DataError, "values must have shape (T,) or (C, T); got ()."),
        ({"lengths": [4, 4]}, DataError, "lengths add up to 8 but values have 10 positions."),
        ({"lengths": [5, 5], "end": [3]}, DataError, "end has 1 entries for 2 series."),
        ({"lengths": [5, 5], "end": 3}, DataError, "end has 1 entries for 2 series."),
    ],
)
def test_invalid_window_parameters(kwargs: dict[str, Any], error: type[Exception], message: str) -> None:
    args = {"values": np.arange(10.0), "lookback": 3, "horizon": 2, **kwargs}
    with pytest.raises(error, match=re.escape(message)):
        WindowDataset(args.pop("values"), args.pop("lookback"), args.pop("horizon"), **args)


@pytest.mark.parametrize(
    ("batch_size", "error", "message"),
    [
        (
            0,
            DataError,
            "The 'batch_size' parameter of ordered_loader must be an int in the range [1, inf) or None. Got 0 instead.",
        ),
        (
            "8",
            DataTypeError,
            "The 'batch_size' parameter of ordered_loader must be an int in the range [1, inf) or None. "
            "Got '8' instead.",
        ),
    ],
)
def test_invalid_batch_size(batch_size: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=re.escape(message)):
        ordered_loader(WindowDataset(np.arange(10.0), 2, 1), batch_size=batch_size)


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
