"""Zero-copy ordered windows (tsforecast.windows.WindowDataset): one series, panels, frames, parameter errors."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tsforecast
from tsforecast.errors import DataError, DataTypeError
from tsforecast.shuffle_guard import ordered_loader
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
