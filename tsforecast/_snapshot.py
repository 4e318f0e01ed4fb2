"""The leakage audit's snapshot of the models: taken before the clean run, restored with perturbed data.

A model may hold the caller's data in several forms: the frame itself, a column of it (a Series,
``df["y"]``), or an array or tensor viewing a column (``df["y"].to_numpy()``, ``y[:-1]``,
``y[::-1]``, ``y.reshape(-1, 12)``, ``sliding_window_view(y, 13)``, ``torch.from_numpy(y)``).
:func:`snapshot` serialises the models with :mod:`cloudpickle` and records each such reference as
a placeholder with its *geometry*: which elements of which column it views (start, shape and
strides, in elements), and, for a Series, whether its index is the frame's index or its time
column. :func:`restore` rebuilds every reference on the data a rerun gives: the same view of the
perturbed column, so a model reads the perturbed future wherever it keeps it. A reference to a
whole column (or the frame) is rebuilt whole, with the perturbation's extra row.

What cannot be rebuilt -- a Series viewing a column under some other index, a view that
reinterprets the column's bytes as another type -- is recorded in :attr:`Snapshot.unswappable`:
the audit then says it could not check those references, instead of passing them.

When the models cannot be serialised (an unpicklable attribute), the snapshot keeps deep copies
of them that still hold the caller's own frame, columns and views (found by walking the models'
attributes and containers), and :func:`restore` swaps those; when even a deep copy fails, shallow
copies with the references among their attributes swapped.
"""

from __future__ import annotations

import copy
import io
import pickle
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import cloudpickle
import numpy as np
import pandas as pd

from .columns import TARGET, TIME
from .frames import as_pandas

__all__ = ["Snapshot", "restore", "snapshot"]

_FRAME, _VIEW = "tsforecast-audit-frame", "tsforecast-audit-view"


@dataclass(frozen=True)
class _View:
    """Where a held object sits in one of the caller's columns, so that it can be rebuilt on another column."""

    column: str
    kind: Literal["series", "array", "tensor"]
    start: int
    shape: tuple[int, ...]
    strides: tuple[int, ...]  # in elements
    full: bool  # the whole column, in order: rebuilt as the whole new column (which has one more row)
    index: Literal["frame", "time"] | None = None  # a Series: its index is the frame's index, or its time column


def _columns(caller: Any, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """The caller's columns a rerun perturbs, as the arrays the models' views may share memory with."""
    frame = caller.to_frame(TARGET) if isinstance(caller, pd.Series) else caller
    if not isinstance(frame, pd.DataFrame):
        return {}
    return {name: np.asarray(frame[name]) for name in names if name in frame.columns}


def _values(obj: Any) -> np.ndarray | None:
    """The array an object's data sit in, when it is a Series, an array or a CPU tensor; else None."""
    if isinstance(obj, pd.Index):
        return None
    if isinstance(obj, (pd.Series, np.ndarray)):
        try:
            return np.asarray(obj)
        except (TypeError, ValueError):
            return None
    if type(obj).__module__.partition(".")[0] == "torch" and hasattr(obj, "numpy"):
        try:
            return np.asarray(obj.detach().numpy())
        except (TypeError, RuntimeError, ValueError):  # NOTE: a tensor on a device, or needing a copy
            return None
    return None


def _locate(obj: Any, caller: Any, columns: dict[str, np.ndarray]) -> _View | str | None:
    """The :class:`_View` of a held object, a description when it views a column but cannot be rebuilt, or None."""
    values = _values(obj)
    if values is None:
        return None
    for name, column in columns.items():
        if not np.shares_memory(values, column):
            continue
        kind: Literal["series", "array", "tensor"] = (
            "series" if isinstance(obj, pd.Series) else "array" if isinstance(obj, np.ndarray) else "tensor"
        )
        described = f"a {type(obj).__name__} of shape {values.shape} viewing column {name!r}"
        size = column.itemsize
        if column.ndim != 1 or column.strides[0] != size or values.dtype != column.dtype:
            return f"{described} as {values.dtype}"
        offset = values.__array_interface__["data"][0] - column.__array_interface__["data"][0]
        if offset % size or any(s % size for s in values.strides):
            return described
        start, strides = offset // size, tuple(s // size for s in values.strides)
        full = values.shape == column.shape and start == 0 and strides == (1,)
        index: Literal["frame", "time"] | None = None
        if kind == "series":
            positions = start + np.arange(values.shape[0]) * strides[0] if values.ndim == 1 else None
            frame = caller.to_frame(TARGET) if isinstance(caller, pd.Series) else caller
            if positions is not None and obj.index.equals(frame.index[positions]):
                index = "frame"
            elif (
                positions is not None
                and TIME in frame
                and obj.index.equals(pd.Index(frame[TIME].to_numpy()[positions]))
            ):
                index = "time"
            else:
                return f"{described} under an index that is neither the frame's nor its time column"
        return _View(name, kind, int(start), tuple(values.shape), strides, full, index)
    return None


def _foreign(obj: Any, caller: Any, known: np.ndarray | None) -> str | None:
    """Beside a caller's polars or pyarrow frame, whose views the reruns cannot rebuild: a description of a held
    polars or pyarrow object, or of an array or Series holding values of a perturbed column (``known``, sorted;
    perhaps taken from that frame); else None."""
    if known is None or obj is caller:
        return None
    library, name = type(obj).__module__.partition(".")[0], type(obj).__name__
    if library in ("polars", "pyarrow"):
        held = name in ("DataFrame", "LazyFrame", "Series", "Table", "RecordBatch") or name.endswith("Array")
        described = f"a {library} {name} beside the caller's {type(caller).__name__} (perhaps taken from it)"
        return described if held else None
    values = _values(obj)
    if values is None or values.dtype.kind not in "fiu" or values.size < 2:
        return None
    flat = values.reshape(-1)
    hits = np.isin(flat, known).mean() if flat.size else 0.0
    if hits >= 0.5:
        return f"a {name} of shape {values.shape} holding values of the caller's {type(caller).__name__}"
    return None


def _known_values(caller: Any, names: tuple[str, ...]) -> np.ndarray | None:
    """The sorted distinct values of the perturbed columns of a caller's polars or pyarrow frame; else None."""
    frame, kind = as_pandas(caller)
    if kind == "pandas":
        return None
    present = [name for name in names if name in frame.columns]
    return np.unique(frame[present].to_numpy(dtype="float64", na_value=np.nan).reshape(-1)) if present else None


def _rebuild(view: _View, data: Any) -> Any:
    """The object ``view`` describes, on the data a rerun gives (the same elements of its column)."""
    frame = data.to_frame(TARGET) if isinstance(data, pd.Series) else data
    column = np.ascontiguousarray(frame[view.column].to_numpy())
    if view.full:
        values = column
        positions = np.arange(len(column))
    else:
        values = np.lib.stride_tricks.as_strided(
            column[view.start :], shape=view.shape, strides=tuple(s * column.itemsize for s in view.strides)
        ).copy()  # NOTE: a copy: the view stays within the column, as the original did, and is then independent
        positions = view.start + np.arange(view.shape[0]) * view.strides[0]
    if view.kind == "array":
        return values
    if view.kind == "tensor":
        import torch

        return torch.from_numpy(np.ascontiguousarray(values))
    index = frame.index[positions] if view.index == "frame" else pd.Index(frame[TIME].to_numpy()[positions])
    return pd.Series(values, index=index, name=view.column)


class _Pickler(cloudpickle.Pickler):  # type: ignore[misc]
    """cloudpickle, with the caller's frame and every rebuildable view of its perturbed columns as placeholders."""

    def __init__(self, file: io.BytesIO, caller: Any, columns: dict[str, np.ndarray], known: np.ndarray | None) -> None:
        super().__init__(file)
        self._caller, self._columns, self._known = caller, columns, known
        self.unswappable: list[str] = []

    def persistent_id(self, obj: Any) -> Any:
        if obj is self._caller:
            return (_FRAME,)
        found = _foreign(obj, self._caller, self._known) or _locate(obj, self._caller, self._columns)
        if isinstance(found, _View):
            return (_VIEW, found)
        if found is not None:
            self.unswappable.append(found)
        return None


class _Unpickler(pickle.Unpickler):
    """Resolves the placeholders of :class:`_Pickler` on the data a rerun gives the models."""

    def __init__(self, file: io.BytesIO, data: Any) -> None:
        super().__init__(file)
        self._data = data

    def persistent_load(self, pid: Any) -> Any:
        return self._data if pid[0] == _FRAME else _rebuild(pid[1], self._data)


@dataclass(frozen=True)
class Snapshot:
    """The models and the caller's data as they were before a backtest's clean run.

    Attributes
    ----------
    payload : bytes or None
        The :mod:`cloudpickle` of ``(model, baselines)`` with placeholders; None when it could not
        be taken (``problem`` says why): then ``copies`` holds deep copies still referring to the
        caller's frame and views (``views``: their ids and geometry), or the objects themselves.
    unswappable : tuple of str
        The objects viewing a perturbed column that a rerun cannot rebuild on the perturbed data.
    """

    payload: bytes | None = field(repr=False)
    problem: str | None
    copies: tuple[Any, Any] | None = field(default=None, repr=False)
    views: dict[int, _View] = field(default_factory=dict, repr=False)
    unswappable: tuple[str, ...] = ()


def _walk(obj: Any, seen: set[int]) -> Iterator[Any]:
    """The objects reachable from ``obj`` through attributes and containers (what a deep copy copies)."""
    if id(obj) in seen or isinstance(obj, (str, bytes, int, float, bool, type(None), type)):
        return
    seen.add(id(obj))
    yield obj
    if isinstance(obj, (pd.DataFrame, pd.Series, np.ndarray, pd.Index)):
        return
    if isinstance(obj, dict):
        children = [*obj.keys(), *obj.values()]
    elif isinstance(obj, (list, tuple, set, frozenset)):
        children = list(obj)
    else:
        children = list(getattr(obj, "__dict__", {}).values())
    for child in children:
        yield from _walk(child, seen)


def snapshot(model: Any, baselines: Any, caller: Any, columns: tuple[str, ...]) -> Snapshot:
    """Take the :class:`Snapshot` of the models before a clean run (``columns``: those a rerun perturbs)."""
    arrays, known = _columns(caller, columns), _known_values(caller, columns)
    buffer = io.BytesIO()
    pickler = _Pickler(buffer, caller, arrays, known)
    try:
        pickler.dump((model, baselines))
        return Snapshot(buffer.getvalue(), None, unswappable=tuple(dict.fromkeys(pickler.unswappable)))
    except Exception as exc:  # NOTE: pickling runs arbitrary __reduce__ code; any failure means "in process"
        problem = f"{type(exc).__name__}: {exc}"
    views: dict[int, _View] = {}
    keep: dict[int, Any] = {id(caller): caller}
    unswappable = []
    for obj in _walk((model, baselines), set()):
        found = _foreign(obj, caller, known) or _locate(obj, caller, arrays)
        if isinstance(found, _View):
            views[id(obj)], keep[id(obj)] = found, obj
        elif found is not None:
            unswappable.append(found)
    try:  # NOTE: the memo keeps the caller's frame and the views themselves in the copies, so a rerun can swap them
        copies = copy.deepcopy((model, baselines), dict(keep))
    except Exception:  # NOTE: what cannot be pickled often cannot be deep-copied either
        copies = (model, baselines)
    return Snapshot(None, problem, copies, views, tuple(dict.fromkeys(unswappable)))


def restore(snap: Snapshot, caller: Any, data: Any) -> tuple[Any, Any]:
    """The models of a snapshot, every reference to the caller's frame (or a view of its columns) on ``data``."""
    if snap.payload is not None:
        return _Unpickler(io.BytesIO(snap.payload), data).load()  # type: ignore[no-any-return]
    assert snap.copies is not None
    swaps: dict[int, Any] = {id(caller): data, **{k: _rebuild(v, data) for k, v in snap.views.items()}}
    try:
        return copy.deepcopy(snap.copies, dict(swaps))  # type: ignore[no-any-return]
    except Exception:  # NOTE: models that cannot even be deep-copied: shallow copies, their references swapped
        return tuple(_swapped(group, swaps, set()) for group in snap.copies)  # type: ignore[return-value]


def _swapped(obj: Any, swaps: dict[int, Any], seen: set[int]) -> Any:
    """A shallow copy of ``obj`` (and of the objects and containers it holds) with every swapped reference replaced."""
    if id(obj) in swaps:
        return swaps[id(obj)]
    if id(obj) in seen or isinstance(obj, (str, bytes, int, float, bool, type(None), type)):
        return obj
    seen.add(id(obj))
    if isinstance(obj, (pd.DataFrame, pd.Series, np.ndarray, pd.Index)):
        return obj
    if isinstance(obj, (list, tuple)):
        return type(obj)(_swapped(item, swaps, seen) for item in obj)
    if isinstance(obj, dict):
        return {key: _swapped(item, swaps, seen) for key, item in obj.items()}
    if not hasattr(obj, "__dict__"):
        return obj
    try:
        shallow = copy.copy(obj)
    except Exception:  # NOTE: an object that cannot be copied at all is kept as it is
        return obj
    for key, value in list(vars(shallow).items()):
        setattr(shallow, key, _swapped(value, swaps, seen))
    return shallow
