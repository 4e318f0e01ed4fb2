"""Walk-forward splitting: ordered folds whose training data end at or before each cutoff.

Positions run ``0 … T-1``. Fold ``k`` has cutoff ``c_k``; it tests positions
``c_k+gap+1 … c_k+gap+horizon`` and trains on positions at or before ``c_k`` (from 0 for an
expanding window, the last ``train_size`` for a sliding one). Folds sit at the end of the data,
``step`` apart (default: ``horizon``, so test spans do not overlap). Panels share one global
timestamp cutoff per fold.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
from sklearn.model_selection import BaseCrossValidator

from ._validation import NONE, Interval, Options, validate_params
from .columns import ID, TIME
from .errors import SHUFFLE_REASON, DataError, LeakageError, ShuffleError, spell, spell_value, spelling

__all__ = [
    "Fold",
    "FoldSpans",
    "WalkForward",
    "check_temporal_cv",
    "fold_spans",
    "panel_folds",
    "temporal_train_test_split",
]


@dataclass(frozen=True)
class Fold:
    """One walk-forward fold of a long frame.

    Attributes
    ----------
    index : int
        Fold number, 0 for the earliest.
    cutoff : Timestamp or int
        Last timestamp whose observations may be used for training.
    train, test : DataFrame
        Rows of the frame in the training span (``ds <= cutoff``) and the test span.
    train_positions, test_positions : ndarray of int
        Row positions of ``train`` and ``test`` in the frame passed to :meth:`WalkForward.folds`.
    skipped : tuple of str
        Series with test rows but no training rows before the cutoff, left out of this fold.
    """

    index: int
    cutoff: Any
    train: pd.DataFrame = field(repr=False)
    test: pd.DataFrame = field(repr=False)
    train_positions: np.ndarray = field(repr=False)
    test_positions: np.ndarray = field(repr=False)
    skipped: tuple[str, ...] = ()


def _refuse_shuffle(shuffle: Any) -> None:
    if shuffle is True or (isinstance(shuffle, (bool, np.bool_)) and shuffle):
        raise ShuffleError(
            f"WalkForward(shuffle={shuffle!r}) was requested. {SHUFFLE_REASON} "
            "Leave shuffle=False; to vary the training data, use window='sliding' or a different step."
        )


class WalkForward(BaseCrossValidator):  # type: ignore[misc]
    """Walk-forward (time-ordered) cross-validation with an expanding or sliding training window.

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds.
    horizon : int, default=1
        Number of test positions per fold.
    step : int, optional
        Distance between consecutive cutoffs. Defaults to ``horizon`` (non-overlapping test spans).
    gap : int, default=0
        Positions left out between the cutoff and the first test position.
    window : {"expanding", "sliding"}, default="expanding"
        Train from the start of the data, or on the last ``train_size`` positions before the cutoff.
    train_size : int, optional
        Training length of a sliding window (required for, and only used with, ``window="sliding"``).
    min_train_size : int, optional
        Fewest training positions the first fold may have with an expanding window (default 1).
    shuffle : bool, default=False
        Present only to be refused: ``shuffle=True`` raises :class:`~tsforecast.errors.ShuffleError`.

    Raises
    ------
    ShuffleError
        At construction when ``shuffle=True``.

    Notes
    -----
    With ``c_last = T - 1 - gap - horizon`` and ``c_k = c_last - (n_splits - 1 - k) * step``, fold ``k``
    tests ``c_k+gap+1 … c_k+gap+horizon`` and trains on ``0 … c_k`` (expanding) or
    ``c_k-train_size+1 … c_k`` (sliding). For ``step == horizon`` this is exactly scikit-learn's
    ``TimeSeriesSplit(n_splits, test_size=horizon, gap=gap, max_train_size=train_size)``, except that a
    sliding window that does not fit is refused instead of silently shortened.

    Examples
    --------
    >>> cv = WalkForward(n_splits=2, horizon=2)
    >>> for train, test in cv.split(np.arange(8)):
    ...     print(train, test)
    [0 1 2 3] [4 5]
    [0 1 2 3 4 5] [6 7]
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "n_splits": [Interval(Integral, 1, None, closed="left")],
        "horizon": [Interval(Integral, 1, None, closed="left")],
        "step": [Interval(Integral, 1, None, closed="left"), NONE],
        "gap": [Interval(Integral, 0, None, closed="left")],
        "window": [Options(("expanding", "sliding"))],
        "train_size": [Interval(Integral, 1, None, closed="left"), NONE],
        "min_train_size": [Interval(Integral, 1, None, closed="left"), NONE],
        "shuffle": [Options((False,))],
    }

    def __init__(
        self,
        n_splits: int = 5,
        horizon: int = 1,
        *,
        step: int | None = None,
        gap: int = 0,
        window: Literal["expanding", "sliding"] = "expanding",
        train_size: int | None = None,
        min_train_size: int | None = None,
        shuffle: bool = False,
    ) -> None:
        self.n_splits = n_splits
        self.horizon = horizon
        self.step = step
        self.gap = gap
        self.window = window
        self.train_size = train_size
        self.min_train_size = min_train_size
        self.shuffle = shuffle
        _refuse_shuffle(shuffle)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Constructor parameters, as scikit-learn's ``clone`` expects."""
        return {name: getattr(self, name) for name in inspect.signature(type(self)).parameters}

    def set_params(self, **params: Any) -> WalkForward:
        """Set constructor parameters; ``shuffle=True`` is refused."""
        unknown = [name for name in params if name not in self.get_params()]
        if unknown:
            raise DataError(f"WalkForward has no parameter {unknown[0]!r}; valid: {sorted(self.get_params())}.")
        _refuse_shuffle(params.get("shuffle", False))
        for name, value in params.items():
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        defaults = {n: p.default for n, p in inspect.signature(type(self)).parameters.items()}
        args = ", ".join(f"{n}={v!r}" for n, v in self.get_params().items() if v != defaults[n])
        return f"WalkForward({args})"

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        """Number of folds (``n_splits``)."""
        return int(self.n_splits)

    def _validate(self) -> tuple[int, int]:
        """Check the parameters; return the effective step and minimum training length."""
        _refuse_shuffle(self.shuffle)
        validate_params("WalkForward", self.get_params(), self._parameter_constraints)
        sliding = spell_value("window", "sliding")
        if self.window == "sliding" and self.train_size is None:
            setting = sliding if spelling("window") else f"WalkForward({sliding})"
            raise DataError(
                f"{setting} needs {spelling('train_size') or 'train_size'}, the length of the training window."
            )
        if self.window == "expanding" and self.train_size is not None:
            raise DataError(
                f"{spell_value('train_size', self.train_size)} is only used with {sliding}; drop it, or set {sliding}."
            )
        step = self.horizon if self.step is None else self.step
        min_train = self.train_size if self.window == "sliding" else self.min_train_size
        return step, min_train or 1

    def min_length(self) -> int:
        """Fewest positions the data need for these settings."""
        step, min_train = self._validate()
        return min_train + self.gap + self.horizon + (self.n_splits - 1) * step

    def cutoffs(self, n_samples: int) -> np.ndarray:
        """Cutoff positions of the folds for data of ``n_samples`` positions, ascending.

        Raises
        ------
        DataError
            If the data are shorter than :meth:`min_length`.
        """
        step, _ = self._validate()
        needed = self.min_length()
        if n_samples < needed:
            settings: list[tuple[str, object]] = [
                ("n_splits", self.n_splits),
                ("horizon", self.horizon),
                ("step", step),
                ("gap", self.gap),
            ]
            settings += [("train_size", self.train_size)] if self.window == "sliding" else []
            raise DataError(
                f"Too few positions: {n_samples} for {', '.join(spell_value(k, v) for k, v in settings)}; at least "
                f"{needed} are required. Reduce the number of folds ({spell('n_splits')}), the horizon "
                f"({spell('horizon')}) or the step ({spell('step')}), or provide a longer series."
            )
        last = n_samples - 1 - self.gap - self.horizon
        return last - step * np.arange(self.n_splits - 1, -1, -1)

    def _train_start(self, cutoff: int) -> int:
        return 0 if self.window == "expanding" else cutoff - int(self.train_size or 0) + 1

    def split(self, X: Any, y: Any = None, groups: Any = None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(train, test)`` integer positions, ascending, one pair per fold.

        ``X`` is one series (or its feature matrix) in time order; for panels use :meth:`folds`.

        Raises
        ------
        DataError
            If ``X`` is a panel frame or too short for the settings.
        """
        if isinstance(X, pd.DataFrame) and ID in X.columns and X[ID].nunique() > 1:
            raise DataError(
                f"X is a panel of {X[ID].nunique()} series; split() works on the positions of one series. "
                "Use WalkForward.folds(df) for one global cutoff per fold."
            )
        n_samples = X.shape[0] if hasattr(X, "shape") else len(X)
        for cutoff in self.cutoffs(n_samples):
            test_start = cutoff + self.gap + 1
            yield (
                np.arange(self._train_start(cutoff), cutoff + 1),
                np.arange(test_start, test_start + self.horizon),
            )

    def folds(self, df: pd.DataFrame) -> Iterator[Fold]:
        """Yield the folds of a long frame ``unique_id, ds, y`` with one global cutoff per fold.

        See :func:`panel_folds`.
        """
        return panel_folds(self, df)


@dataclass(frozen=True)
class FoldSpans:
    """Where one fold cuts each series of a long frame sorted by series and time.

    Series ``i`` trains on rows ``train_start[i] … train_end[i] - 1`` and tests on rows
    ``test_start[i] … test_end[i] - 1`` (empty spans where it has none); a series with test rows
    but no training rows tests on none and is listed in ``skipped``.
    """

    index: int
    cutoff: Any
    train_start: np.ndarray = field(repr=False)
    train_end: np.ndarray = field(repr=False)
    test_start: np.ndarray = field(repr=False)
    test_end: np.ndarray = field(repr=False)
    skipped: tuple[str, ...] = ()


def _check_columns(df: pd.DataFrame) -> None:
    missing = [c for c in (ID, TIME) if c not in df.columns]
    if missing:
        raise DataError(f"Folds need a long frame with columns {ID!r}, {TIME!r}; missing {missing}.")


def _span(positions: np.ndarray, fold: str, part: str) -> tuple[int, int]:
    """The first and last of ``positions``, which must be one contiguous run."""
    first, last = int(positions.min()), int(positions.max())
    if last - first + 1 != len(positions):
        raise DataError(
            f"{fold} {part} on positions that are not one contiguous span ({first}..{last} with "
            f"{last - first + 1 - len(positions)} left out): tsforecast fits and scores each fold on one span of "
            "time. Use a splitter whose folds are contiguous, such as tsforecast.WalkForward."
        )
    return first, last


def fold_spans(cv: Any, df: pd.DataFrame) -> list[FoldSpans]:
    """Cut a long frame sorted by series and time into the folds of any temporal splitter.

    The time axis is the sorted union of all timestamps; the splitter runs on its positions
    (checked by :func:`check_temporal_cv`), and every series is cut at the same timestamps: one
    global cutoff per fold, the last training timestamp. Each fold's training and test positions
    must each be one contiguous span.

    Raises
    ------
    DataError
        If ``df`` lacks the ``unique_id``/``ds`` columns, its time axis is too short, or a fold's
        positions are not contiguous.
    ShuffleError, LeakageError
        If the splitter is not temporal.
    """
    _check_columns(df)
    ids, times = df[ID].to_numpy(), df[TIME].to_numpy()
    heads = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]]) if len(ids) else np.zeros(0, dtype=np.int64)
    grid = np.unique(times)
    width = len(grid) + 1
    key = np.repeat(np.arange(len(heads), dtype=np.int64), np.diff(np.r_[heads, len(ids)])) * width
    key += np.searchsorted(grid, times)  # series-major, then time: sorted, as the frame is
    base = np.arange(len(heads), dtype=np.int64) * width
    spans = []
    for k, (train, test) in enumerate(check_temporal_cv(cv, np.arange(len(grid)))):
        fold = f"Fold {k} of {type(cv).__name__}"
        (first, cut), (test_first, test_last) = _span(train, fold, "trains"), _span(test, fold, "tests")
        train_start = np.searchsorted(key, base + first, side="left")
        train_end = np.searchsorted(key, base + cut, side="right")
        test_start = np.searchsorted(key, base + test_first, side="left")
        test_end = np.searchsorted(key, base + test_last, side="right")
        trained = train_end > train_start
        skipped = (test_end > test_start) & ~trained
        cutoff = grid[cut]
        spans.append(
            FoldSpans(
                k,
                int(cutoff)
                if isinstance(cutoff, np.integer)
                else pd.Timestamp(cutoff)
                if times.dtype.kind == "M"
                else cutoff,
                train_start,
                train_end,
                test_start,
                np.where(trained, test_end, test_start),
                tuple(sorted(str(u) for u in ids[heads[skipped]])),
            )
        )
    return spans


def panel_folds(cv: Any, df: pd.DataFrame) -> Iterator[Fold]:
    """Cut a long frame into the folds of any temporal splitter, one global timestamp cutoff per fold.

    The folds of :func:`fold_spans` (rows in any order are read sorted by series and time, and the
    same errors raised), as frames. A series with test rows but no training rows is left out of that
    fold and listed in :attr:`Fold.skipped`.
    """
    _check_columns(df)
    order = np.lexsort((df[TIME].to_numpy(), pd.factorize(df[ID], sort=True)[0]))
    ordered = df.take(order)
    for spans in fold_spans(cv, ordered):
        train = np.concatenate([np.arange(a, b) for a, b in zip(spans.train_start, spans.train_end, strict=True)])
        test = np.concatenate([np.arange(a, b) for a, b in zip(spans.test_start, spans.test_end, strict=True)])
        train_pos, test_pos = np.sort(order[train.astype(np.int64)]), np.sort(order[test.astype(np.int64)])
        yield Fold(spans.index, spans.cutoff, df.iloc[train_pos], df.iloc[test_pos], train_pos, test_pos, spans.skipped)


def temporal_train_test_split(data: Any, test_size: int | float) -> tuple[Any, Any]:
    """Split data into an earlier training part and a later test part, never shuffled.

    Parameters
    ----------
    data : long DataFrame, Series or array-like
        A long frame is split at one global timestamp: its last ``test_size`` timestamps form the
        test part. Other inputs are split by position.
    test_size : int or float
        Number of test timestamps, or a fraction in (0, 1) of them.

    Returns
    -------
    train, test
        Same type as ``data``.

    Raises
    ------
    DataError
        If ``test_size`` leaves no training or no test data.

    Examples
    --------
    >>> temporal_train_test_split(np.arange(5), test_size=2)
    (array([0, 1, 2]), array([3, 4]))
    """
    is_frame = isinstance(data, pd.DataFrame) and TIME in data.columns
    grid = np.sort(data[TIME].unique()) if is_frame else None
    n = len(grid) if grid is not None else len(data)
    validate_params(
        "temporal_train_test_split",
        {"test_size": test_size},
        {"test_size": [Interval(Integral, 1, None, closed="left"), Interval(Real, 0, 1, closed="neither")]},
    )
    n_test = int(test_size) if isinstance(test_size, Integral) else int(np.ceil(test_size * n))
    if not 0 < n_test < n:
        raise DataError(
            f"test_size={test_size} leaves {n - n_test} of {n} timestamps for training; "
            f"choose test_size below {n} (at least one training timestamp is needed)."
        )
    if grid is not None:
        is_test = (data[TIME] > grid[n - n_test - 1]).to_numpy()
        return data[~is_test], data[is_test]
    if isinstance(data, (pd.Series, pd.DataFrame)):
        return data.iloc[: n - n_test], data.iloc[n - n_test :]
    return data[: n - n_test], data[n - n_test :]


def _positions(indices: Sequence[int] | np.ndarray) -> np.ndarray:
    positions = np.asarray(indices)
    if positions.dtype == bool:
        positions = np.flatnonzero(positions)
    return positions.astype(np.int64)


def _shown(positions: np.ndarray) -> str:
    """Up to three of ``positions``, smallest first, for a message."""
    return ", ".join(str(int(p)) for p in np.sort(positions)[:3])


def _check_fold_positions(positions: np.ndarray, fold: str, part: str, n_samples: int) -> None:
    """Refuse negative, out-of-range and repeated positions in one part of a fold."""
    negative = positions[positions < 0]
    if len(negative):
        raise LeakageError(
            f"{fold} has negative positions in its {part} part (e.g. {_shown(negative)}): negative indices count "
            "from the end, so they select the latest samples and hide where in time the fold reaches. "
            f"Give positions 0..{n_samples - 1} of X (or a boolean mask)."
        )
    past = positions[positions >= n_samples]
    if len(past):
        raise DataError(
            f"{fold} has positions past the end of X's {n_samples} samples in its {part} part (e.g. {_shown(past)}). "
            f"Positions run 0..{n_samples - 1}; pass check_temporal_cv the X the splitter splits."
        )
    values, counts = np.unique(positions, return_counts=True)
    repeated = values[counts > 1]
    if len(repeated):
        raise DataError(
            f"{fold} repeats positions in its {part} part (e.g. {_shown(repeated)}): each position may appear "
            "once per part. Yield each sample's position once."
        )


def check_temporal_cv(cv: Any, X: Any, y: Any = None, groups: Any = None) -> list[tuple[np.ndarray, np.ndarray]]:
    """Check that any splitter is temporal: no shuffling, every fold trains strictly before it tests.

    Use it before scikit-learn's ``cross_val_score(..., cv=cv)`` with a splitter that is not
    :class:`WalkForward`, e.g. ``TimeSeriesSplit``.

    Parameters
    ----------
    cv : splitter
        Any object with ``split(X, y, groups)`` (scikit-learn splitters, :class:`WalkForward`, ...).
    X : array-like
        The data in time order.

    Returns
    -------
    list of (train, test)
        The validated folds, as integer positions.

    Raises
    ------
    ShuffleError
        If the splitter has ``shuffle=True`` or is a shuffling splitter (``ShuffleSplit`` ...).
    LeakageError
        If a fold has a negative position (it counts from the end, so it selects the latest samples),
        trains and tests on the same position, or trains on a position at or after its first test position.
    DataError
        If a fold has an empty training or test part, a position past the end of ``X``, or a position
        repeated within its training or its test part.

    Notes
    -----
    Each fold is checked in this order, and the first problem found is reported with the fold's number
    and up to three offending positions: empty parts, negative positions, positions past the end,
    repeated positions, positions both trained and tested on, training positions at or after the first
    test position. A splitter is judged by the folds it yields, plus its ``shuffle`` attribute or name.

    Examples
    --------
    >>> from sklearn.model_selection import KFold
    >>> check_temporal_cv(KFold(3), np.arange(9))
    Traceback (most recent call last):
    ...
    tsforecast.errors.LeakageError: Fold 0 of KFold trains on positions at or after its first test position 0 \
(e.g. 3, 4, 5): its model would see the future of its test data. Use tsforecast.WalkForward or \
sklearn.model_selection.TimeSeriesSplit.
    """
    name = type(cv).__name__
    if getattr(cv, "shuffle", False) or "Shuffle" in name:
        raise ShuffleError(
            f"{name} shuffles {'(shuffle=True)' if getattr(cv, 'shuffle', False) else 'by design'}. "
            f"{SHUFFLE_REASON} Use tsforecast.WalkForward instead."
        )
    n_samples = X.shape[0] if hasattr(X, "shape") else len(X)
    folds = []
    for k, (train, test) in enumerate(cv.split(X, y, groups)):
        train, test = _positions(train), _positions(test)
        if len(test) == 0 or len(train) == 0:
            part = "test" if len(test) == 0 else "training"
            raise DataError(f"Fold {k} of {name} has an empty {part} part; every fold needs both.")
        for part, positions in (("training", train), ("test", test)):
            _check_fold_positions(positions, f"Fold {k} of {name}", part, n_samples)
        both = np.intersect1d(train, test)
        if len(both):
            raise LeakageError(
                f"Fold {k} of {name} both trains and tests on positions {_shown(both)}: its model would be checked "
                "on data it was trained on. Use tsforecast.WalkForward or sklearn.model_selection.TimeSeriesSplit."
            )
        first_test = int(test.min())
        late = train[train >= first_test]
        if len(late):
            raise LeakageError(
                f"Fold {k} of {name} trains on positions at or after its first test position {first_test} "
                f"(e.g. {_shown(late)}): its model would see the future of its test data. "
                "Use tsforecast.WalkForward or sklearn.model_selection.TimeSeriesSplit."
            )
        folds.append((train, test))
    if not folds:
        raise DataError(f"{name} yielded no folds for {n_samples} samples.")
    return folds
