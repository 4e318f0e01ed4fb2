"""Checkpoint files of backtest tasks: read back as data only, reused only for the same computation.

A checkpoint directory is untrusted input: anything in it may have been damaged, left by another
configuration or planted. So a checkpoint file is never unpickled. It is one line of JSON, then
the columns of the task's frames as ``.npy`` arrays read with ``allow_pickle=False``::

    {"format": "tsforecast-checkpoint", "version": 1, "key": KEY, "sha256": DIGEST,
     "frames": {"forecasts": {"rows": N, "columns": [[NAME, DTYPE, KIND], ...]}, "training": null}}\\n
    ARRAY ARRAY ...

``KEY`` is the full task key (the file is named after its first 32 hex digits), ``DIGEST`` the
SHA-256 of everything after the newline. Each column is stored by ``KIND``: ``values`` (one
array: numbers, booleans, ``datetime64``, ``timedelta64``), ``utc`` (time-zone-aware times, one
``datetime64`` array in UTC) or ``text`` (strings: ``int64`` codes, -1 for missing, the
``int64`` UTF-8 lengths of the distinct strings and their ``uint8`` bytes). ``DTYPE`` is the
pandas dtype restored on reading. A file that cannot be parsed, fails its digest or carries
another key is reported and recomputed; it is never executed.

The key of a task (see :meth:`tsforecast._engine.Task.key`) covers what can change its result:
the data, the settings, the model's name and parameters, the model's code (:func:`model_code`)
and the versions of Python and of the packages that compute forecasts (:func:`runtime_versions`).
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import io
import json
import os
import platform
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import PackageNotFoundError, packages_distributions, version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["FORMAT", "TaskCache", "Unstorable", "Unusable", "decode", "encode", "model_code", "runtime_versions"]

FORMAT = "tsforecast-checkpoint"
FORMAT_VERSION = 1
SUFFIX = ".tsfc"
Frames = dict[str, pd.DataFrame | None]

_RUNTIME = ("tsforecast", "numpy", "pandas", "scikit-learn", "scipy", "statsmodels", "torch")


class Unusable(Exception):
    """A checkpoint file that cannot be reused; the message says why."""


class Unstorable(Exception):
    """A result with a column no checkpoint file can hold without pickle."""


def _version(distribution: str) -> str:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return "not installed"


def runtime_versions() -> dict[str, str]:
    """Versions of Python and of the packages whose code computes forecasts (tsforecast first)."""
    return {"python": platform.python_version(), **{name: _version(name) for name in _RUNTIME}}


@cache
def _distributions() -> Mapping[str, list[str]]:
    return packages_distributions()


@cache
def _class_code(cls: type) -> str:
    """The code of one class: a hash of its source, or where it comes from when that is a versioned package.

    Classes of an installed package other than tsforecast are named with the package's version;
    tsforecast's own and the user's classes by a SHA-256 of their source, or, when the source
    cannot be found, by their module, qualified name and owning package's version.
    """
    top = cls.__module__.partition(".")[0]
    owners = _distributions().get(top, [])
    owner = f"{owners[0]} {_version(owners[0])}" if owners else f"{top} (no installed package)"
    name = f"{cls.__module__}.{cls.__qualname__}"
    if owners and top != "tsforecast":
        return f"{name} of {owner}"
    try:
        source = inspect.getsource(cls)
    except (OSError, TypeError):  # NOTE: classes made in a REPL or by exec() have no source file
        return f"{name} of {owner}, source unavailable"
    return f"{name} sha256:{hashlib.sha256(source.encode()).hexdigest()}"


@cache
def _package_code() -> str:
    """A SHA-256 of every module of tsforecast itself (path and bytes, in path order)."""
    root = Path(__file__).parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return f"tsforecast code sha256:{digest.hexdigest()}"


def model_code(model: Any) -> str:
    """Describe the code that computes a model's forecasts, for a checkpoint key.

    The model's class and each of its bases, and the classes of its parameters (a network
    module, a schedule ...), each as described by :func:`_class_code`; builtins are left out;
    then the hash of all of tsforecast's own modules, so that a change to any helper a
    tsforecast model calls (its training data, its base forecasts ...) invalidates its
    checkpoints. Helper functions of other packages are covered by their version only.
    """
    params = model.get_params(deep=False) if hasattr(model, "get_params") else {}
    classes = [c for obj in (model, *params.values()) for c in type(obj).__mro__ if c.__module__ != "builtins"]
    return "; ".join(dict.fromkeys([*(_class_code(c) for c in classes), _package_code()]))


def _encode_column(series: pd.Series) -> tuple[str, list[np.ndarray]]:
    dtype = series.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "biufcmM":
        return "values", [series.to_numpy()]
    if isinstance(dtype, pd.DatetimeTZDtype):
        return "utc", [series.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy()]
    if pd.api.types.is_string_dtype(dtype) and pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty"):
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        encoded = [str(t).encode("utf-8", "surrogatepass") for t in uniques]
        lengths = np.array([len(b) for b in encoded], dtype=np.int64)
        return "text", [codes.astype(np.int64), lengths, np.frombuffer(b"".join(encoded), dtype=np.uint8)]
    raise Unstorable(f"column {series.name!r} of dtype {dtype} holds values that are not numbers, times or text")


def _decode_column(kind: str, dtype: str, stream: io.BytesIO) -> pd.Series:
    def read() -> np.ndarray:
        return np.lib.format.read_array(stream, allow_pickle=False)

    if kind == "values":
        values = read()
        if values.dtype != np.dtype(dtype):
            raise Unusable(f"unreadable: a column of dtype {values.dtype} where {dtype} was declared")
        return pd.Series(values)
    if kind == "utc":
        target = pd.api.types.pandas_dtype(dtype)
        if not isinstance(target, pd.DatetimeTZDtype):
            raise Unusable(f"unreadable: a time-zone column declared as {dtype}")
        return pd.Series(read()).dt.tz_localize("UTC").dt.tz_convert(target.tz)
    if kind == "text":
        codes, lengths, blob = read(), read(), read().tobytes()
        ends = np.cumsum(lengths)
        texts = [blob[end - n : end].decode("utf-8", "surrogatepass") for n, end in zip(lengths, ends, strict=True)]
        if (ends.size and ends[-1] != len(blob)) or (codes.size and not -1 <= codes.min() <= codes.max() < len(texts)):
            raise Unusable("unreadable: text codes or lengths out of range")
        values = np.array([*texts, None], dtype=object)[codes]  # code -1 picks the trailing None
        return pd.Series(values, dtype=pd.api.types.pandas_dtype(dtype))
    raise Unusable(f"unreadable: unknown column kind {kind!r}")


def encode(key: str, frames: Frames) -> bytes:
    """The checkpoint file of a task's frames (see the module docstring for the format).

    Raises
    ------
    Unstorable
        If a column holds values other than numbers, times or text, or a column name is not text.
    """
    body = io.BytesIO()
    layout: dict[str, Any] = {}
    for name, frame in frames.items():
        if frame is None:
            layout[name] = None
            continue
        columns = []
        for column in frame.columns:
            if not isinstance(column, str):
                raise Unstorable(f"column name {column!r} is not text")
            kind, arrays = _encode_column(frame[column])
            columns.append([column, str(frame[column].dtype), kind])
            for array in arrays:
                np.lib.format.write_array(body, array, allow_pickle=False)
        layout[name] = {"rows": len(frame), "columns": columns}
    payload = body.getvalue()
    header = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "key": key,
        "sha256": hashlib.sha256(payload).hexdigest(),
        "frames": layout,
    }
    return json.dumps(header, separators=(",", ":")).encode() + b"\n" + payload


def decode(data: bytes, key: str, names: tuple[str, ...]) -> Frames:
    """Read the frames ``names`` of a checkpoint file written by :func:`encode` for ``key``.

    Raises
    ------
    Unusable
        If the file is not a checkpoint, belongs to another key, fails its digest or cannot be
        parsed; the message says which.
    """
    head, _, payload = data.partition(b"\n")
    try:
        header = json.loads(head)
        known = isinstance(header, dict) and header.get("format") == FORMAT
    except ValueError:  # NOTE: json.JSONDecodeError and UnicodeDecodeError are both ValueErrors
        known = False
    if not known:
        raise Unusable("not a tsforecast checkpoint")
    if header.get("version") != FORMAT_VERSION:
        raise Unusable(f"checkpoint format version {header.get('version')!r}, expected {FORMAT_VERSION}")
    if header.get("key") != key:
        raise Unusable("written for another configuration")
    if header.get("sha256") != hashlib.sha256(payload).hexdigest():
        raise Unusable("fails its sha256 digest: damaged or truncated")
    stream = io.BytesIO(payload)
    frames: Frames = {}
    try:
        if tuple(header["frames"]) != names:
            raise Unusable(f"unreadable: frames {list(header['frames'])}, expected {list(names)}")
        for name, layout in header["frames"].items():
            if layout is None:
                frames[name] = None
                continue
            columns = {column: _decode_column(kind, dtype, stream) for column, dtype, kind in layout["columns"]}
            if any(len(series) != layout["rows"] for series in columns.values()):
                raise Unusable("unreadable: columns of unequal length")
            frames[name] = pd.DataFrame(columns, index=pd.RangeIndex(layout["rows"]))
    except Unusable:
        raise
    except Exception as exc:  # NOTE: numpy, pandas and json raise many types on foreign bytes; none may escape
        raise Unusable(f"unreadable: {type(exc).__name__}: {exc}") from exc
    if stream.tell() != len(payload):
        raise Unusable("unreadable: trailing bytes after the last column")
    return frames


@dataclass
class TaskCache:
    """Task results stored as files under ``directory``, one per task key.

    Files are written to a temporary name and moved into place with :func:`os.replace`, so a
    killed run never leaves half a file and concurrent runs writing the same task are safe.
    Files that cannot be reused are collected in :attr:`problems` as ``"NAME (REASON)"``.
    """

    directory: Path
    problems: list[str] = field(default_factory=list)

    def path(self, key: str) -> Path:
        """Where the result of the task with ``key`` is stored."""
        return self.directory / f"{key[:32]}{SUFFIX}"

    def load(self, key: str, names: tuple[str, ...]) -> Frames | None:
        """The stored frames ``names`` of ``key``, or ``None`` without a usable file (recorded in ``problems``)."""
        path = self.path(key)
        try:
            return decode(path.read_bytes(), key, names)
        except FileNotFoundError:
            return None
        except (OSError, Unusable) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else str(exc)
            self.problems.append(f"{path.name} ({reason})")
            return None

    def save(self, key: str, frames: Frames) -> None:
        """Store the frames of ``key`` atomically.

        Raises
        ------
        Unstorable
            If a frame has a column no checkpoint can hold (see :func:`encode`).
        """
        data = encode(key, frames)
        handle, partial = tempfile.mkstemp(dir=self.directory, prefix=f".{key[:32]}.", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
            os.replace(partial, self.path(key))  # atomic: readers see the old file or the whole new one
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(partial)
            raise
