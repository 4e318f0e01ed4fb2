"""Walk-forward splitting: positions, panels by global cutoff, sklearn compatibility, leakage checks."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.linear_model import Ridge
from sklearn.model_selection import (
    GridSearchCV,
    GroupShuffleSplit,
    KFold,
    RepeatedKFold,
    ShuffleSplit,
    StratifiedKFold,
    StratifiedShuffleSplit,
    TimeSeriesSplit,
    cross_val_score,
)

import tsforecast
from tsforecast.errors import DataError, DataTypeError, LeakageError, ShuffleError
from tsforecast.split import Fold, WalkForward, check_temporal_cv, temporal_train_test_split

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def walk_forwards(draw: st.DrawFn) -> WalkForward:
    window = draw(st.sampled_from(["expanding", "sliding"]))
    return WalkForward(
        n_splits=draw(st.integers(1, 6)),
        horizon=draw(st.integers(1, 5)),
        step=draw(st.none() | st.integers(1, 6)),
        gap=draw(st.integers(0, 3)),
        window=window,
        train_size=draw(st.integers(1, 8)) if window == "sliding" else None,
        min_train_size=draw(st.none() | st.integers(1, 5)) if window == "expanding" else None,
    )


def _step(cv: WalkForward) -> int:
    return cv.horizon if cv.step is None else cv.step


# --- positions on one series ---------------------------------------------------------------------------------------


@SETTINGS
@given(cv=walk_forwards(), extra=st.integers(0, 25))
def test_split_positions_satisfy_the_walk_forward_contract(cv: WalkForward, extra: int) -> None:
    n = cv.min_length() + extra
    folds = list(cv.split(np.zeros((n, 2))))
    cutoffs = cv.cutoffs(n)
    assert len(folds) == cv.n_splits == cv.get_n_splits() == len(cutoffs)
    for c, (train, test) in zip(cutoffs, folds, strict=True):
        assert train.dtype.kind == "i"
        assert test.dtype.kind == "i"
        np.testing.assert_array_equal(test, np.arange(c + cv.gap + 1, c + cv.gap + cv.horizon + 1))
        assert train.max() == c < test.min()
        assert np.all(np.diff(train) == 1)
        assert train.min() >= 0
        if cv.window == "expanding":
            assert train[0] == 0
        else:
            assert len(train) == cv.train_size
    assert np.all(np.diff(cutoffs) == _step(cv))
    assert folds[-1][1][-1] == n - 1


@SETTINGS
@given(cv=walk_forwards())
def test_min_length_is_exactly_the_shortest_length_that_works(cv: WalkForward) -> None:
    needed = cv.min_length()
    folds = list(cv.split(np.arange(needed)))
    assert len(folds) == cv.n_splits
    first_train = folds[0][0]
    assert first_train[0] == 0
    if cv.window == "expanding":
        assert len(first_train) == (cv.min_train_size or 1)
    sliding = f", train_size={cv.train_size}" if cv.window == "sliding" else ""
    pattern = (
        rf"Too few positions: {needed - 1} for n_splits={cv.n_splits}, horizon={cv.horizon}, step={_step(cv)}, "
        rf"gap={cv.gap}{sliding}; at least {needed} are required\. Reduce the number of folds \(n_splits=\), "
        r"the horizon \(horizon=\) or the step \(step=\)"
    )
    with pytest.raises(DataError, match=pattern):
        list(cv.split(np.arange(needed - 1)))
    with pytest.raises(DataError, match=pattern):
        cv.cutoffs(needed - 1)


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"n_splits": 2, "horizon": 3}, 7),
        ({"n_splits": 3, "horizon": 2, "step": 1}, 5),
        ({"n_splits": 1, "horizon": 4, "gap": 2}, 7),
        ({"n_splits": 3, "horizon": 2, "gap": 1, "window": "sliding", "train_size": 4}, 11),
        ({"n_splits": 2, "horizon": 1, "min_train_size": 10}, 12),
    ],
)
def test_min_length_formula(kwargs: dict[str, Any], expected: int) -> None:
    assert WalkForward(**kwargs).min_length() == expected


@SETTINGS
@given(
    n_splits=st.integers(2, 6),
    horizon=st.integers(1, 5),
    gap=st.integers(0, 3),
    train_size=st.none() | st.integers(1, 10),
    extra=st.integers(0, 20),
)
def test_split_equals_sklearn_time_series_split_when_step_is_horizon(
    n_splits: int, horizon: int, gap: int, train_size: int | None, extra: int
) -> None:
    window = "expanding" if train_size is None else "sliding"
    cv = WalkForward(n_splits, horizon, gap=gap, window=window, train_size=train_size)
    X = np.zeros((cv.min_length() + extra, 1))
    reference = TimeSeriesSplit(n_splits, test_size=horizon, gap=gap, max_train_size=train_size)
    ours, theirs = list(cv.split(X)), list(reference.split(X))
    assert len(ours) == len(theirs)
    for (train, test), (train_ref, test_ref) in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(train, train_ref)
        np.testing.assert_array_equal(test, test_ref)


def test_docstring_example_positions() -> None:
    folds = [(tr.tolist(), te.tolist()) for tr, te in WalkForward(n_splits=2, horizon=2).split(np.arange(8))]
    assert folds == [([0, 1, 2, 3], [4, 5]), ([0, 1, 2, 3, 4, 5], [6, 7])]


def test_sliding_window_example_positions() -> None:
    cv = WalkForward(3, 2, gap=1, window="sliding", train_size=4)
    folds = [(tr.tolist(), te.tolist()) for tr, te in cv.split(np.arange(11))]
    assert folds == [([0, 1, 2, 3], [5, 6]), ([2, 3, 4, 5], [7, 8]), ([4, 5, 6, 7], [9, 10])]


@pytest.mark.parametrize(
    "X",
    [np.arange(10), list(range(10)), pd.Series(range(10)), pd.DataFrame({"a": range(10), "b": range(10)})],
)
def test_split_accepts_arrays_lists_series_and_frames(X: Any) -> None:
    folds = list(WalkForward(2, 3).split(X))
    assert [te.tolist() for _, te in folds] == [[4, 5, 6], [7, 8, 9]]


def test_split_accepts_a_single_series_long_frame() -> None:
    df = tsforecast.load_dataset("air_passengers")
    folds = list(WalkForward(3, 12).split(df))
    assert folds[-1][1][-1] == len(df) - 1


def test_split_on_a_panel_frame_raises() -> None:
    df = tsforecast.load_dataset("uk_lung_deaths")
    with pytest.raises(DataError, match=r"X is a panel of 2 series; split\(\) works on the positions of one series\."):
        list(WalkForward(2, 6).split(df))


def test_split_does_not_mutate_the_splitter() -> None:
    cv = WalkForward(3, 2)
    before = cv.get_params()
    list(cv.split(np.arange(20)))
    assert cv.get_params() == before
    assert cv.step is None


def test_defaults_are_step_horizon_and_expanding() -> None:
    cv = WalkForward()
    assert cv.get_params() == {
        "n_splits": 5,
        "horizon": 1,
        "step": None,
        "gap": 0,
        "window": "expanding",
        "train_size": None,
        "min_train_size": None,
        "shuffle": False,
    }
    np.testing.assert_array_equal(WalkForward(3, 4).cutoffs(20), [7, 11, 15])


# --- parameter errors ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"n_splits": 0},
            DataError,
            "The 'n_splits' parameter of WalkForward must be an int in the range [1, inf). Got 0 instead.",
        ),
        (
            {"horizon": 0},
            DataError,
            "The 'horizon' parameter of WalkForward must be an int in the range [1, inf). Got 0 instead.",
        ),
        (
            {"step": 0},
            DataError,
            "The 'step' parameter of WalkForward must be an int in the range [1, inf) or None. Got 0 instead.",
        ),
        (
            {"gap": -1},
            DataError,
            "The 'gap' parameter of WalkForward must be an int in the range [0, inf). Got -1 instead.",
        ),
        (
            {"window": "rolling"},
            DataError,
            "The 'window' parameter of WalkForward must be one of {'expanding', 'sliding'}. Got 'rolling' instead.",
        ),
        (
            {"min_train_size": 0},
            DataError,
            "The 'min_train_size' parameter of WalkForward must be an int in the range [1, inf) or None. "
            "Got 0 instead.",
        ),
        (
            {"window": "sliding", "train_size": 0},
            DataError,
            "The 'train_size' parameter of WalkForward must be an int in the range [1, inf) or None. Got 0 instead.",
        ),
        (
            {"window": "sliding"},
            DataError,
            "WalkForward(window='sliding') needs train_size, the length of the training window.",
        ),
        (
            {"train_size": 3},
            DataError,
            "train_size=3 is only used with window='sliding'; drop it, or set window='sliding'.",
        ),
        (
            {"horizon": "3"},
            DataTypeError,
            "The 'horizon' parameter of WalkForward must be an int in the range [1, inf). Got '3' instead.",
        ),
        (
            {"n_splits": 2.0},
            DataTypeError,
            "The 'n_splits' parameter of WalkForward must be an int in the range [1, inf). Got 2.0 instead.",
        ),
        (
            {"gap": True},
            DataTypeError,
            "The 'gap' parameter of WalkForward must be an int in the range [0, inf). Got True instead.",
        ),
        (
            {"window": 1},
            DataTypeError,
            "The 'window' parameter of WalkForward must be one of {'expanding', 'sliding'}. Got 1 instead.",
        ),
    ],
)
def test_invalid_parameters_raise_at_split_time_with_the_template(
    kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    cv = WalkForward(**kwargs)  # constructors only store
    for call in (lambda: list(cv.split(np.arange(100))), cv.min_length, lambda: list(cv.folds(_panel()))):
        with pytest.raises(error, match=re.escape(message)):
            call()


def test_set_params_with_an_unknown_name_raises() -> None:
    with pytest.raises(DataError, match=r"WalkForward has no parameter 'folds'; valid: \['gap', 'horizon', "):
        WalkForward().set_params(folds=3)


def test_set_params_sets_and_returns_self() -> None:
    cv = WalkForward()
    assert cv.set_params(n_splits=2, horizon=3, window="sliding", train_size=5) is cv
    assert (cv.n_splits, cv.horizon, cv.window, cv.train_size) == (2, 3, "sliding", 5)


# --- shuffle is refused ----------------------------------------------------------------------------------------------

SHUFFLE_MESSAGE = (
    r"WalkForward\(shuffle=True\) was requested\. Time series must not be shuffled: .* Leave shuffle=False"
)


def test_shuffle_true_raises_at_construction() -> None:
    with pytest.raises(ShuffleError, match=SHUFFLE_MESSAGE):
        WalkForward(n_splits=3, horizon=2, shuffle=True)


def test_set_params_shuffle_true_raises() -> None:
    with pytest.raises(ShuffleError, match=SHUFFLE_MESSAGE):
        WalkForward().set_params(shuffle=True)


def test_shuffle_set_behind_the_splitters_back_is_refused_at_split_time() -> None:
    cv = WalkForward(2, 2)
    cv.shuffle = True
    with pytest.raises(ShuffleError, match=SHUFFLE_MESSAGE):
        list(cv.split(np.arange(10)))


def test_shuffle_error_is_a_leakage_error_and_a_value_error() -> None:
    with pytest.raises(LeakageError, match="must not be shuffled"):
        WalkForward(shuffle=True)
    with pytest.raises(ValueError, match="must not be shuffled"):
        WalkForward(shuffle=True)


# --- repr, clone, sklearn ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cv", "text"),
    [
        (WalkForward(), "WalkForward()"),
        (WalkForward(3, 12), "WalkForward(n_splits=3, horizon=12)"),
        (WalkForward(5, 1, gap=2), "WalkForward(gap=2)"),
        (WalkForward(step=4, min_train_size=10), "WalkForward(step=4, min_train_size=10)"),
        (
            WalkForward(2, 6, window="sliding", train_size=24),
            "WalkForward(n_splits=2, horizon=6, window='sliding', train_size=24)",
        ),
    ],
)
def test_repr_shows_only_non_defaults_and_round_trips(cv: WalkForward, text: str) -> None:
    assert repr(cv) == text
    again = eval(repr(cv), {"WalkForward": WalkForward})
    assert isinstance(again, WalkForward)
    assert again.get_params() == cv.get_params()


@pytest.mark.parametrize("cv", [WalkForward(), WalkForward(3, 2, step=1, gap=1, window="sliding", train_size=5)])
def test_sklearn_clone_gives_an_equal_independent_splitter(cv: WalkForward) -> None:
    copy = clone(cv)
    assert copy is not cv
    assert copy.get_params() == cv.get_params()
    assert repr(copy) == repr(cv)
    X = np.arange(40)
    for (a, b), (c, d) in zip(cv.split(X), copy.split(X), strict=True):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)


def _regression(n: int = 60) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 3))
    return X, X @ np.array([1.0, -2.0, 0.5]) + rng.normal(scale=0.1, size=n)


@pytest.mark.parametrize("cv", [WalkForward(4, 5), WalkForward(3, 6, step=3, gap=2, window="sliding", train_size=20)])
def test_cross_val_score_runs_with_walk_forward(cv: WalkForward) -> None:
    X, y = _regression()
    scores = cross_val_score(Ridge(), X, y, cv=cv)
    assert scores.shape == (cv.n_splits,)
    assert np.all(np.isfinite(scores))


def test_grid_search_runs_with_walk_forward() -> None:
    X, y = _regression()
    search = GridSearchCV(Ridge(), {"alpha": [0.1, 1.0, 10.0]}, cv=WalkForward(3, 5)).fit(X, y)
    assert search.best_params_["alpha"] in (0.1, 1.0, 10.0)
    assert search.n_splits_ == 3
    assert len(search.cv_results_["split2_test_score"]) == 3


def test_splitting_names_are_exported_from_the_top_level() -> None:
    for name in ("WalkForward", "Fold", "check_temporal_cv", "temporal_train_test_split"):
        assert getattr(tsforecast, name) is getattr(tsforecast.split, name)


# --- panels: one global cutoff per fold ----------------------------------------------------------------------------


def _panel(starts: tuple[int, ...] = (0, 5, 12), length: int = 20, dates: bool = False) -> pd.DataFrame:
    parts = []
    for i, start in enumerate(starts):
        ds = np.arange(start, start + length)
        parts.append(pd.DataFrame({"unique_id": f"s{i}", "ds": ds, "y": 100.0 * i + ds}))
    df = pd.concat(parts, ignore_index=True)
    if dates:
        df["ds"] = pd.Timestamp("2020-01-01") + pd.to_timedelta(df["ds"], unit="D")
    return df


@st.composite
def panels(draw: st.DrawFn) -> pd.DataFrame:
    n_series = draw(st.integers(1, 4))
    starts = draw(st.lists(st.integers(0, 15), min_size=n_series, max_size=n_series))
    lengths = draw(st.lists(st.integers(1, 40), min_size=n_series, max_size=n_series))
    parts = [
        pd.DataFrame({"unique_id": f"s{i}", "ds": np.arange(s, s + n), "y": 1000.0 * i + np.arange(s, s + n)})
        for i, (s, n) in enumerate(zip(starts, lengths, strict=True))
    ]
    df = pd.concat(parts, ignore_index=True)
    if draw(st.booleans()):
        df["ds"] = pd.Timestamp("2021-03-01") + pd.to_timedelta(df["ds"], unit="h")
    if draw(st.booleans()):  # positions must index the frame as given, whatever its row order and index labels
        order = draw(st.permutations(range(len(df))))
        df = df.iloc[list(order)]
        df.index = np.arange(len(df))[::-1] * 7
    return df


@SETTINGS
@given(df=panels(), cv=walk_forwards())
def test_panel_folds_cut_every_series_at_one_global_timestamp(df: pd.DataFrame, cv: WalkForward) -> None:
    grid = np.sort(df["ds"].unique())
    if len(grid) < cv.min_length():
        with pytest.raises(DataError, match=rf"Too few positions: {len(grid)} .* at least {cv.min_length()} are"):
            list(cv.folds(df))
        return
    folds = list(cv.folds(df))
    cutoffs = cv.cutoffs(len(grid))
    assert [f.index for f in folds] == list(range(cv.n_splits))
    assert len(folds) == len(cutoffs)
    for fold, c in zip(folds, cutoffs, strict=True):
        assert isinstance(fold, Fold)
        cutoff = grid[c]
        if isinstance(cutoff, np.datetime64):
            assert isinstance(fold.cutoff, pd.Timestamp)
            assert fold.cutoff == pd.Timestamp(cutoff)
        else:
            assert type(fold.cutoff) is int
            assert fold.cutoff == int(cutoff)
        start = grid[cv._train_start(c)]
        first, last = grid[c + cv.gap + 1], grid[c + cv.gap + cv.horizon]
        # train rows: every row in [start, cutoff], all at or before the cutoff
        in_train = (df["ds"] >= start) & (df["ds"] <= cutoff)
        assert (fold.train["ds"] <= cutoff).all()
        trained = set(df.loc[in_train, "unique_id"])
        np.testing.assert_array_equal(fold.train_positions, np.flatnonzero(in_train.to_numpy()))
        # test rows: the horizon window after the gap, only for series that have training rows
        in_window = (df["ds"] >= first) & (df["ds"] <= last)
        assert (fold.test["ds"] > cutoff).all()
        expected_test = in_window & df["unique_id"].isin(trained)
        np.testing.assert_array_equal(fold.test_positions, np.flatnonzero(expected_test.to_numpy()))
        # series with test rows but nothing to train on are left out and listed
        assert fold.skipped == tuple(sorted(set(df.loc[in_window, "unique_id"]) - trained))
        assert not set(fold.skipped) & set(fold.test["unique_id"])
        # positions index the original frame
        pd.testing.assert_frame_equal(fold.train, df.iloc[fold.train_positions])
        pd.testing.assert_frame_equal(fold.test, df.iloc[fold.test_positions])
        assert np.all(np.diff(fold.train_positions) > 0)
        assert np.all(np.diff(fold.test_positions) > 0)


def test_panel_series_without_data_before_the_cutoff_is_skipped() -> None:
    s2 = pd.DataFrame({"unique_id": "s2", "ds": np.arange(21, 30), "y": 1.0})  # starts after fold 0's cutoff
    df = pd.concat([_panel(starts=(0, 0), length=30), s2], ignore_index=True)
    folds = list(WalkForward(n_splits=3, horizon=3).folds(df))
    assert [f.cutoff for f in folds] == [20, 23, 26]
    assert folds[0].skipped == ("s2",)
    assert set(folds[0].test["unique_id"]) == {"s0", "s1"}
    assert folds[1].skipped == ()
    assert set(folds[1].test["unique_id"]) == {"s0", "s1", "s2"}
    assert folds[1].train.groupby("unique_id")["ds"].max().to_dict() == {"s0": 23, "s1": 23, "s2": 23}


def test_panel_folds_with_dates_share_one_timestamp_cutoff() -> None:
    df = tsforecast.load_dataset("arrivals")
    folds = list(WalkForward(n_splits=3, horizon=4).folds(df))
    stamps = np.sort(df["ds"].unique())
    assert [f.cutoff for f in folds] == [pd.Timestamp(stamps[i]) for i in (-13, -9, -5)]
    for fold in folds:
        assert isinstance(fold.cutoff, pd.Timestamp)
        assert fold.train.groupby("unique_id")["ds"].max().eq(fold.cutoff).all()
        assert fold.test.groupby("unique_id").size().eq(4).all()
        assert fold.skipped == ()


def test_panel_fold_cutoff_of_an_integer_index_is_a_python_int() -> None:
    fold = next(iter(WalkForward(2, 2).folds(_panel())))
    assert type(fold.cutoff) is int


def test_panel_folds_need_the_long_columns() -> None:
    with pytest.raises(DataError, match=r"needs? a long frame with columns 'unique_id', 'ds'; missing \['unique_id'\]"):
        list(WalkForward(2, 2).folds(pd.DataFrame({"ds": range(10), "y": range(10)})))


def test_panel_folds_never_modify_the_frame() -> None:
    df = _panel(dates=True)
    original = df.copy(deep=True)
    for fold in WalkForward(3, 2, gap=1).folds(df):
        assert len(fold.train)
        assert len(fold.test)
    pd.testing.assert_frame_equal(df, original)


# --- temporal_train_test_split -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "test_size", "train", "test"),
    [
        (np.arange(10), 3, list(range(7)), [7, 8, 9]),
        (np.arange(10), 0.25, list(range(7)), [7, 8, 9]),  # ceil(2.5) = 3 test positions
        (np.arange(10), np.float32(0.5), list(range(5)), [5, 6, 7, 8, 9]),
        (np.arange(10), np.int64(1), list(range(9)), [9]),
        (list(range(5)), 2, [0, 1, 2], [3, 4]),
    ],
)
def test_temporal_train_test_split_on_arrays(data: Any, test_size: Any, train: list[int], test: list[int]) -> None:
    a, b = temporal_train_test_split(data, test_size=test_size)
    assert list(a) == train
    assert list(b) == test
    assert type(a) is type(data)


def test_temporal_train_test_split_of_a_2d_array_splits_rows() -> None:
    X = np.arange(20).reshape(10, 2)
    a, b = temporal_train_test_split(X, test_size=4)
    np.testing.assert_array_equal(a, X[:6])
    np.testing.assert_array_equal(b, X[6:])


def test_temporal_train_test_split_on_a_series_keeps_its_index() -> None:
    s = pd.Series(np.arange(6.0), index=pd.date_range("2020-01-01", periods=6, freq="D"))
    a, b = temporal_train_test_split(s, test_size=2)
    pd.testing.assert_series_equal(a, s.iloc[:4])
    pd.testing.assert_series_equal(b, s.iloc[4:])


def test_temporal_train_test_split_on_a_frame_without_ds_splits_by_position() -> None:
    frame = pd.DataFrame({"a": range(8)}, index=list("hgfedcba"))
    a, b = temporal_train_test_split(frame, test_size=0.25)
    assert a.index.tolist() == list("hgfedc")
    assert b.index.tolist() == list("ba")


@pytest.mark.parametrize("test_size", [3, 0.5])
def test_temporal_train_test_split_on_a_long_frame_cuts_at_one_global_timestamp(test_size: Any) -> None:
    df = _panel(starts=(0, 2, 4), length=6, dates=True)  # timestamps day 0 … day 9
    train, test = temporal_train_test_split(df, test_size=test_size)
    n_test = 3 if test_size == 3 else 5
    cut = pd.Timestamp("2020-01-01") + pd.Timedelta(days=9 - n_test)
    assert (train["ds"] <= cut).all()
    assert (test["ds"] > cut).all()
    assert len(train) + len(test) == len(df)
    assert test["ds"].nunique() == n_test
    pd.testing.assert_frame_equal(pd.concat([train, test]).sort_index(), df)


@pytest.mark.parametrize(
    ("test_size", "error", "message"),
    [
        (10, DataError, "test_size=10 leaves 0 of 10 timestamps for training; choose test_size below 10"),
        (25, DataError, "test_size=25 leaves -15 of 10 timestamps for training; choose test_size below 10"),
        (0.99, DataError, "test_size=0.99 leaves 0 of 10 timestamps for training; choose test_size below 10"),
        (
            0,
            DataError,
            "The 'test_size' parameter of temporal_train_test_split must be an int in the range [1, inf) or a float "
            "in the range (0, 1). Got 0 instead.",
        ),
        (1.0, DataError, "or a float in the range (0, 1). Got 1.0 instead."),
        (-0.5, DataError, "or a float in the range (0, 1). Got -0.5 instead."),
        ("2", DataTypeError, "or a float in the range (0, 1). Got '2' instead."),
        (True, DataTypeError, "or a float in the range (0, 1). Got True instead."),
        (None, DataTypeError, "or a float in the range (0, 1). Got None instead."),
    ],
)
def test_temporal_train_test_split_errors(test_size: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=re.escape(message)):
        temporal_train_test_split(np.arange(10), test_size=test_size)


def test_temporal_train_test_split_error_on_a_long_frame_counts_timestamps() -> None:
    df = _panel(starts=(0, 0), length=4)
    with pytest.raises(DataError, match=r"test_size=4 leaves 0 of 4 timestamps for training"):
        temporal_train_test_split(df, test_size=4)


# --- check_temporal_cv ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cv", "how"),
    [
        (KFold(n_splits=3, shuffle=True, random_state=0), r"KFold shuffles \(shuffle=True\)\."),
        (StratifiedKFold(n_splits=3, shuffle=True, random_state=0), r"StratifiedKFold shuffles \(shuffle=True\)\."),
        (ShuffleSplit(n_splits=3, random_state=0), r"ShuffleSplit shuffles by design\."),
        (StratifiedShuffleSplit(n_splits=3, random_state=0), r"StratifiedShuffleSplit shuffles by design\."),
        (GroupShuffleSplit(n_splits=3, random_state=0), r"GroupShuffleSplit shuffles by design\."),
    ],
)
def test_check_temporal_cv_refuses_shuffling_splitters(cv: Any, how: str) -> None:
    pattern = how + r" Time series must not be shuffled: .* Use tsforecast\.WalkForward instead\."
    with pytest.raises(ShuffleError, match=pattern):
        check_temporal_cv(cv, np.arange(30))


@pytest.mark.parametrize(
    ("cv", "fold", "first", "shown"),
    [
        (KFold(n_splits=3), 0, 0, "10, 11, 12"),
        (KFold(n_splits=5), 0, 0, "6, 7, 8"),
        (RepeatedKFold(n_splits=2, n_repeats=1, random_state=0), 0, None, None),
    ],
)
def test_check_temporal_cv_refuses_folds_that_train_after_testing(
    cv: Any, fold: int, first: int | None, shown: str | None
) -> None:
    if first is None:
        pattern = r"Fold 0 of RepeatedKFold trains on positions at or after its first test position \d+"
    else:
        pattern = (
            rf"Fold {fold} of {type(cv).__name__} trains on positions at or after its first test position {first} "
            rf"\(e\.g\. {shown}\): its model would see the future of its test data\. Use tsforecast\.WalkForward"
        )
    with pytest.raises(LeakageError, match=pattern) as info:
        check_temporal_cv(cv, np.arange(30))
    assert not isinstance(info.value, ShuffleError)


def test_check_temporal_cv_names_the_first_leaky_fold() -> None:
    class LateLeak:
        def split(self, X: Any, y: Any = None, groups: Any = None) -> Any:
            yield np.arange(0, 5), np.arange(5, 8)
            yield np.array([0, 1, 2, 10]), np.arange(8, 10)

    pattern = r"Fold 1 of LateLeak trains on positions at or after its first test position 8 \(e\.g\. 10\)"
    with pytest.raises(LeakageError, match=pattern):
        check_temporal_cv(LateLeak(), np.arange(11))


@pytest.mark.parametrize(
    "cv",
    [
        TimeSeriesSplit(n_splits=4),
        TimeSeriesSplit(n_splits=3, test_size=5, gap=2, max_train_size=10),
        WalkForward(4, 3),
        WalkForward(3, 2, gap=1, window="sliding", train_size=6),
    ],
)
def test_check_temporal_cv_passes_temporal_splitters_and_returns_their_folds(cv: Any) -> None:
    X = np.arange(40)
    folds = check_temporal_cv(cv, X)
    expected = list(cv.split(X))
    assert len(folds) == len(expected)
    for (train, test), (train_ref, test_ref) in zip(folds, expected, strict=True):
        assert train.dtype == np.int64
        np.testing.assert_array_equal(train, train_ref)
        np.testing.assert_array_equal(test, test_ref)
        assert train.max() < test.min()


def test_check_temporal_cv_accepts_boolean_masks() -> None:
    class Masks:
        def split(self, X: Any, y: Any = None, groups: Any = None) -> Any:
            train = np.zeros(6, dtype=bool)
            train[:4] = True
            yield train, ~train

    ((train, test),) = check_temporal_cv(Masks(), np.arange(6))
    assert train.tolist() == [0, 1, 2, 3]
    assert test.tolist() == [4, 5]


@pytest.mark.parametrize(
    ("folds", "message"),
    [
        (
            [(np.array([], dtype=int), np.arange(3))],
            "Fold 0 of Fixed has an empty training part; every fold needs both.",
        ),
        (
            [(np.arange(3), np.arange(3, 5)), (np.arange(4), np.array([], dtype=int))],
            "Fold 1 of Fixed has an empty test part; every fold needs both.",
        ),
        ([], "Fixed yielded no folds for 10 samples."),
    ],
)
def test_check_temporal_cv_refuses_empty_folds(folds: list[tuple[np.ndarray, np.ndarray]], message: str) -> None:
    class Fixed:
        def split(self, X: Any, y: Any = None, groups: Any = None) -> Any:
            yield from folds

    with pytest.raises(DataError, match=re.escape(message)):
        check_temporal_cv(Fixed(), np.arange(10))


def test_check_temporal_cv_propagates_a_too_short_error() -> None:
    with pytest.raises(DataError, match=r"Too few positions: 5 .* at least 7 are required"):
        check_temporal_cv(WalkForward(2, 3), np.arange(5))


def test_refused_set_params_leaves_the_splitter_unchanged() -> None:
    cv = WalkForward(3, 4)
    with pytest.raises(ShuffleError, match="must not be shuffled"):
        cv.set_params(shuffle=True, n_splits=9)
    assert cv.get_params()["shuffle"] is False
    assert cv.n_splits == 3


def test_a_non_boolean_shuffle_is_a_type_error_not_a_shuffle() -> None:
    cv = WalkForward(2, 3, shuffle=0)  # type: ignore[arg-type]
    with pytest.raises(DataTypeError, match="The 'shuffle' parameter of WalkForward must be one of"):
        list(cv.split(np.arange(20)))


class _Fixed:
    """A splitter that yields the folds it was given."""

    def __init__(self, *folds: tuple[Any, Any]) -> None:
        self.folds = folds

    def split(self, X: Any, y: Any = None, groups: Any = None) -> Any:
        yield from self.folds


@pytest.mark.parametrize(
    ("train", "test", "message"),
    [
        (
            np.r_[0:20, -5:0],
            np.arange(20, 25),
            "Fold 0 of _Fixed has negative positions in its training part (e.g. -5, -4, -3): negative indices count "
            "from the end, so they select the latest samples",
        ),
        (
            np.arange(10),
            np.array([10, -1]),
            "Fold 0 of _Fixed has negative positions in its test part (e.g. -1)",
        ),
    ],
)
def test_check_temporal_cv_refuses_negative_indices(train: np.ndarray, test: np.ndarray, message: str) -> None:
    with pytest.raises(LeakageError, match=re.escape(message) + r".* Give positions 0\.\.24 of X"):
        check_temporal_cv(_Fixed((train, test)), np.arange(25))


@pytest.mark.parametrize(
    ("train", "test", "part", "shown"),
    [
        (np.arange(10), np.array([10, 25, 26, 30, 31]), "test", "25, 26, 30"),
        (np.array([0, 1, 99]), np.arange(100, 101), "training", "99"),
    ],
)
def test_check_temporal_cv_refuses_indices_past_the_end(
    train: np.ndarray, test: np.ndarray, part: str, shown: str
) -> None:
    message = (
        f"Fold 1 of _Fixed has positions past the end of X's 25 samples in its {part} part (e.g. {shown}). "
        "Positions run 0..24; pass check_temporal_cv the X the splitter splits."
    )
    with pytest.raises(DataError, match=re.escape(message)):
        check_temporal_cv(_Fixed((np.arange(5), np.arange(5, 8)), (train, test)), np.arange(25))


@pytest.mark.parametrize(
    ("train", "test", "part", "shown"),
    [
        (np.array([0, 1, 1, 2, 3, 3]), np.arange(4, 6), "training", "1, 3"),
        (np.arange(4), np.array([5, 6, 5]), "test", "5"),
    ],
)
def test_check_temporal_cv_refuses_duplicated_indices(
    train: np.ndarray, test: np.ndarray, part: str, shown: str
) -> None:
    message = f"Fold 0 of _Fixed repeats positions in its {part} part (e.g. {shown}): each position may appear once"
    with pytest.raises(DataError, match=re.escape(message)):
        check_temporal_cv(_Fixed((train, test)), np.arange(10))


def test_check_temporal_cv_refuses_train_test_overlap() -> None:
    message = (
        "Fold 0 of _Fixed both trains and tests on positions 5, 6, 7: its model would be checked on data it was "
        "trained on. Use tsforecast.WalkForward"
    )
    with pytest.raises(LeakageError, match=re.escape(message)) as info:
        check_temporal_cv(_Fixed((np.arange(10), np.arange(5, 12))), np.arange(20))
    assert not isinstance(info.value, ShuffleError)


@SETTINGS
@given(
    st.lists(st.integers(0, 29), min_size=1, max_size=10, unique=True),
    st.lists(st.integers(0, 29), min_size=1, max_size=10, unique=True),
)
def test_check_temporal_cv_passes_exactly_the_folds_that_train_before_they_test(
    train: list[int], test: list[int]
) -> None:
    cv = _Fixed((np.array(train), np.array(test)))
    if max(train) < min(test):
        ((got_train, got_test),) = check_temporal_cv(cv, np.arange(30))
        assert got_train.tolist() == train
        assert got_test.tolist() == test
    else:
        with pytest.raises(LeakageError, match=r"^Fold 0 of _Fixed (both trains and tests|trains on positions at)"):
            check_temporal_cv(cv, np.arange(30))
