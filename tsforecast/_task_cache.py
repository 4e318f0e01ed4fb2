"""Checkpoint files of backtest tasks: read back as data only, reused only for the same computation.

A checkpoint directory is untrusted input: anything in it may have been damaged, left by another
configuration or planted. So a checkpoint file is never unpickled. It is one line of JSON, then
the columns of the task's frames as ``.npy`` arrays read with ``allow_pickle=False``::

    {"format": "tsforecast-checkpoint", "version": 2, "key": KEY, "auth": {"sha256": DIGEST},
     "frames": {"forecasts": {"rows": N, "columns": [[NAME, DTYPE, KIND], ...]}, "training": null}}\\n
    ARRAY ARRAY ...

``KEY`` is the full task key (the file is named after its first 32 hex digits). ``DIGEST`` is the
SHA-256 of the header without ``auth`` (JSON, keys sorted), a newline and everything after the
newline; with a secret key (:mod:`tsforecast._secret`) ``auth`` holds ``{"hmac-sha256": CODE}``, the
HMAC-SHA256 of the same bytes under that key, instead. A digest detects damage, not a forgery; a
code does. Each column is stored by ``KIND``: ``values`` (one
array: numbers, booleans, ``datetime64``, ``timedelta64``), ``utc`` (time-zone-aware times, one
``datetime64`` array in UTC) or ``text`` (strings: ``int64`` codes, -1 for missing, the
``int64`` UTF-8 lengths of the distinct strings and their ``uint8`` bytes). ``DTYPE`` is the
pandas dtype restored on reading. A file that cannot be parsed, fails its digest or code, or
carries another key is reported and recomputed; it is never executed. A symbolic link, anything
but a regular file and a file over :data:`MAX_FILE_BYTES` are never read.

The key of a task (see :meth:`tsforecast._engine.Task.key`) covers what can change its result:
the data, the settings, the model's name and parameters (:func:`params_digest`), the model's code
(:func:`model_code`) and the versions of Python and of the packages that compute forecasts (:func:`runtime_versions`).
"""

from __future__ import annotations

import contextlib
import dis
import functools
import hashlib
import importlib.machinery
import importlib.util
import inspect
import io
import json
import os
import platform
import stat
import sys
import sysconfig
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import PackageNotFoundError, packages_distributions, version
from pathlib import Path
from types import CodeType, ModuleType
from typing import Any

import numpy as np
import pandas as pd

from ._secret import KEY_ENV, KEY_FILE_ENV, mac, matches

__all__ = [
    "FORMAT",
    "MAX_FILE_BYTES",
    "TaskCache",
    "Uncheckpointable",
    "Unstorable",
    "Unusable",
    "attributes_digest",
    "decode",
    "encode",
    "model_code",
    "params_digest",
    "runtime_versions",
]

FORMAT = "tsforecast-checkpoint"
FORMAT_VERSION = 2
SUFFIX = ".tsfc"
MAX_FILE_BYTES = 2 * 1024**3
"""The largest checkpoint file read back (2 GiB): a larger one is refused unread."""
Frames = dict[str, pd.DataFrame | None]

_RUNTIME = ("tsforecast", "numpy", "pandas", "scikit-learn", "scipy", "statsmodels", "torch")


class Unusable(Exception):
    """A checkpoint file that cannot be reused; the message says why."""


class Unstorable(Exception):
    """A result with a column no checkpoint file can hold without pickle."""


class Uncheckpointable(Exception):
    """A model whose computation has no exact digest, so its tasks are not checkpointed; the message says why."""


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


def _class_code(cls: type) -> str:
    """The code of one class: a hash of its source, or where it comes from when that is a versioned package.

    Classes of an installed package other than tsforecast are named with the package's version;
    tsforecast's own and the user's classes by a SHA-256 of their source, or, when the source
    cannot be found (a class typed into a REPL, fed through stdin or made by ``type()``), by a
    SHA-256 of its namespace: its methods' code objects and its other attributes' values
    (:func:`_namespace_digest`).

    Raises
    ------
    Uncheckpointable
        If a class without source holds an attribute that has no exact digest.
    """
    described = _described_class(cls)
    if described is not None:
        return described
    return f"{cls.__module__}.{cls.__qualname__} code sha256:{_namespace_digest(cls)}"


@cache
def _described_class(cls: type) -> str | None:
    top = cls.__module__.partition(".")[0]
    owners = _distributions().get(top, [])
    owner = f"{owners[0]} {_version(owners[0])}" if owners else f"{top} (no installed package)"
    name = f"{cls.__module__}.{cls.__qualname__}"
    if owners and top != "tsforecast":
        return f"{name} of {owner}"
    try:
        source = inspect.getsource(cls)
    except (OSError, TypeError):  # NOTE: classes made in a REPL, from stdin or by exec() have no source file
        return None  # NOTE: not cached as a digest: such a class's methods may be replaced at run time
    return f"{name} sha256:{hashlib.sha256(source.encode()).hexdigest()}"


def _namespace_digest(cls: type) -> str:
    """A SHA-256 of a class's own namespace: functions by their code, nested classes likewise, other values exactly."""
    digest = hashlib.sha256()
    for name, value in sorted(vars(cls).items()):
        if name in ("__dict__", "__weakref__", "__doc__", "__module__", "__qualname__"):
            continue
        digest.update(name.encode() + b"\x1f")
        inner = value.__func__ if isinstance(value, (staticmethod, classmethod)) else value
        if isinstance(inner, property):
            parts = [_function_digest(f) if f is not None else "-" for f in (inner.fget, inner.fset, inner.fdel)]
            digest.update(" ".join(parts).encode())
        elif inspect.isfunction(inner):
            digest.update(_function_digest(inner).encode())
        elif inspect.isclass(inner) and inner.__module__ == cls.__module__:
            digest.update(_class_code(inner).encode())
        else:
            digest.update(_value_digest(inner, f"attribute {name!r} of class {cls.__qualname__}").encode())
    return digest.hexdigest()


def _value_digest(value: Any, what: str) -> str:
    """``joblib.hash`` of ``value``; raises :class:`Uncheckpointable` naming ``what`` if it cannot be pickled."""
    import joblib

    try:
        return str(joblib.hash(value))
    except (
        Exception
    ) as exc:  # NOTE: pickling raises PicklingError, TypeError, AttributeError ... depending on the object
        raise Uncheckpointable(f"{what} cannot be pickled, so it has no exact digest") from exc


def _function_digest(function: Any) -> str:
    """A SHA-256 of a function's code object (:func:`_code_digest`), defaults and keyword defaults."""
    digest = hashlib.sha256(_code_digest(function.__code__, []).encode())
    what = f"a default of {function.__qualname__}"
    digest.update(_value_digest((function.__defaults__, function.__kwdefaults__), what).encode())
    return digest.hexdigest()


def _code_digest(code: CodeType, names: list[str]) -> str:
    """A SHA-256 of a code object: bytecode, names, argument layout and constants (nested code recursively).

    ``co_names`` of ``code`` and of every code object nested in it are appended to ``names``.
    Frozen-set constants are hashed in sorted order, so the digest is the same in every process.
    """
    digest = hashlib.sha256()

    def const(value: Any) -> None:
        if isinstance(value, CodeType):
            digest.update(b"code(" + _code_digest(value, names).encode() + b")")
        elif isinstance(value, (tuple, frozenset)):
            items = list(value)
            digest.update(f"{type(value).__name__}[{len(items)}](".encode())
            for item in sorted(items, key=repr) if isinstance(value, frozenset) else items:
                const(item)
            digest.update(b")")
        else:
            digest.update(f"{type(value).__name__}:{value!r}\x1f".encode())

    names.extend(code.co_names)
    digest.update(code.co_code)
    layout = (code.co_argcount, code.co_posonlyargcount, code.co_kwonlyargcount, code.co_flags)
    for part in (layout, code.co_names, code.co_varnames, code.co_freevars, code.co_cellvars):
        digest.update(repr(part).encode() + b"\x1f")
    for value in code.co_consts:
        const(value)
    return digest.hexdigest()


@cache
def _package_code() -> str:
    """A SHA-256 of every module of tsforecast itself (path and bytes, in path order)."""
    root = Path(__file__).parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return f"tsforecast code sha256:{digest.hexdigest()}"


def params_digest(params: Mapping[str, Any]) -> str | None:
    """An exact digest of a model's parameters (``joblib.hash``: arrays by their bytes), ``None`` if unhashable.

    A parameter that cannot be pickled (a lambda, an open file ...) has no exact digest; its task is
    then not checkpointed rather than given a key another value could share.
    """
    import joblib

    try:
        return str(joblib.hash(dict(params)))
    except Exception:  # NOTE: pickling raises PicklingError, TypeError, AttributeError ... depending on the object
        return None


def attributes_digest(model: Any) -> str:
    """An exact digest (``joblib.hash``) of a model's instance attributes, fitted ones (names ending in ``_``) left out.

    This covers what was set on a model after construction (``m.extra = 2``), not only its
    constructor parameters.

    Raises
    ------
    Uncheckpointable
        If an attribute cannot be pickled; the message names it.
    """
    attributes = {name: value for name, value in getattr(model, "__dict__", {}).items() if not name.endswith("_")}
    for name, value in sorted(attributes.items()):
        _value_digest(value, f"the attribute {name!r} of the model")
    return _value_digest(attributes, "the model's attributes")


def model_code(model: Any) -> str:
    """Describe the code that computes a model's forecasts, for a checkpoint key.

    The model's class and each of its bases, and the classes of its parameters (a network
    module, a schedule ...), each as described by :func:`_class_code`; builtins are left out;
    then the source files of the user's modules the model reaches (:func:`_user_modules`), so that
    editing a helper function the model calls invalidates its checkpoints; then what the code of
    the user's classes and functions reads (:class:`_Reach`): the modules it imports, inside a
    method too, and the exact values of the plain-data globals and class attributes it names, so
    that a global set at run time counts; then the hash of all of tsforecast's own modules.
    Helper functions of installed packages are covered by their version only.

    Raises
    ------
    Uncheckpointable
        If a class or function without source holds a value that has no exact digest.
    """
    params = model.get_params(deep=False) if hasattr(model, "get_params") else {}
    attributes = [value for name, value in getattr(model, "__dict__", {}).items() if not name.endswith("_")]
    classes = [c for obj in (model, *params.values()) for c in type(obj).__mro__ if c.__module__ != "builtins"]
    reach = _Reach()
    reach.run([*classes, *params.values(), *attributes])
    roots = [*classes, *(_code_object(value) for value in params.values()), *reach.modules.values()]
    files = [_file_code(module) for module in _user_modules([r for r in roots if r is not None])]
    unimported = [f"{name} file sha256:{digest}" for name, digest in sorted(reach.files.items())]
    read = [f"{label} {digest}" for label, digest in sorted(reach.parts.items())]
    described = [*(_class_code(c) for c in classes), *files, *unimported, *read, _package_code()]
    return "; ".join(dict.fromkeys(described))


def _code_object(value: Any) -> Any:
    """The function or class a parameter value is (a ``functools.partial``'s function), else ``None``."""
    value = getattr(value, "func", value)  # NOTE: functools.partial
    return value if inspect.isfunction(value) or inspect.isclass(value) else None


@cache
def _installed_roots() -> tuple[Path, ...]:
    paths = sysconfig.get_paths()
    return tuple(Path(paths[name]).resolve() for name in ("stdlib", "platstdlib", "purelib", "platlib"))


def _user_path(path: Path) -> bool:
    """Whether ``path`` (resolved) lies outside the standard library and every installed package."""
    installed = {"site-packages", "dist-packages"} & set(path.parts)
    return not installed and not any(path.is_relative_to(root) for root in _installed_roots())


def _user_file(module: ModuleType | None) -> Path | None:
    """The source file of ``module`` if it is the user's: not tsforecast's, not of the standard library or installed."""
    if module is None or module.__name__.partition(".")[0] == "tsforecast":
        return None
    name = getattr(module, "__file__", None)
    if not isinstance(name, str) or not name.endswith(".py"):
        return None
    path = Path(name).resolve()
    return path if _user_path(path) else None


def _is_users(name: str) -> bool:
    """Whether the module called ``name`` is the user's code, with a source file or not (``__main__`` from stdin)."""
    top = name.partition(".")[0]
    if top in ("tsforecast", "builtins") or top in sys.builtin_module_names or top in sys.stdlib_module_names:
        return False
    if top in _distributions():
        return False
    module = sys.modules.get(name)
    if module is None or getattr(module, "__file__", None) is None:
        return True  # NOTE: a REPL's or stdin's __main__, or exec() under a made-up module name
    return _user_file(module) is not None


_MISSING = object()
_PLAIN = (int, float, complex, str, bytes, bool, type(None), np.generic)


def _is_plain(value: Any, depth: int = 0) -> bool:
    """Whether ``value`` is plain data keyed by value: numbers, text, bytes, ``None``, arrays, tuples of them.

    Lists, dicts and sets are not: a module-level one is most often state the model writes (a log,
    a cache, a registry), and keying on it would make every rerun in the same process miss.
    """
    if isinstance(value, _PLAIN):
        return True
    if isinstance(value, np.ndarray):
        return value.dtype != object
    if depth < 8 and isinstance(value, (tuple, frozenset)):
        return all(_is_plain(item, depth + 1) for item in value)
    return False


class _Reach:
    """What the user's code reachable from some roots reads, found by following the names its code uses.

    From a user's class: its module, its attributes (plain data by value) and functions; from a
    user's function: its module, its defaults and closure, each name of its code object (and the
    code objects nested in it) that its globals hold (plain data by value, anything else
    followed), each module it imports, even inside the function (one already imported is
    followed, one not yet imported is covered by its source file), and those names as attributes
    of the user's modules it reaches; from an instance of a user's class: its class. Functions
    without a source file are covered by their code objects. Every object is visited once.
    """

    def __init__(self) -> None:
        self.modules: dict[str, ModuleType] = {}
        self.parts: dict[str, str] = {}
        self.files: dict[str, str] = {}
        self._seen: set[int] = set()
        self._alive: list[Any] = []  # NOTE: keeps every visited object alive, so no id is reused during the walk
        self._todo: list[Any] = []

    def run(self, roots: list[Any]) -> None:
        self._todo.extend(roots)
        while self._todo:
            value = self._todo.pop()
            if id(value) in self._seen:
                continue
            self._seen.add(id(value))
            self._alive.append(value)
            self._visit(value)

    def _bind(self, label: str, value: Any) -> None:
        if _is_plain(value):
            self.parts[label] = f"= {_value_digest(value, label)}"
        else:
            self._todo.append(value)

    def _visit(self, value: Any) -> None:
        if isinstance(value, ModuleType):
            if _is_users(value.__name__):
                self.modules[value.__name__] = value
        elif isinstance(value, (staticmethod, classmethod)) or inspect.ismethod(value):
            self._todo.append(value.__func__)
        elif isinstance(value, property):
            self._todo.extend(f for f in (value.fget, value.fset, value.fdel) if f is not None)
        elif isinstance(value, functools.partial):
            self._todo.extend([value.func, *value.args, *value.keywords.values()])
        elif inspect.isfunction(value):
            if _is_users(value.__module__):
                self._function(value)
        elif inspect.isclass(value):
            if _is_users(value.__module__):
                self._todo.extend([sys.modules.get(value.__module__), *value.__bases__])
                for name, attribute in vars(value).items():
                    if not (name.startswith("__") and name.endswith("__")):
                        self._bind(f"{value.__module__}.{value.__qualname__}.{name}", attribute)
        elif _is_users(type(value).__module__):
            self._todo.append(type(value))

    def _function(self, function: Any) -> None:
        module = sys.modules.get(function.__module__)
        self._todo.append(module)
        if _user_file(module) is None:  # NOTE: no source file covers it (stdin, a REPL, exec()): its code objects do
            self.parts[f"{function.__module__}.{function.__qualname__}"] = f"code sha256:{_function_digest(function)}"
        self._todo.extend([*(function.__defaults__ or ()), *(function.__kwdefaults__ or {}).values()])
        names: list[str] = []
        _code_digest(function.__code__, names)
        for variable, cell in zip(function.__code__.co_freevars, function.__closure__ or (), strict=False):
            with contextlib.suppress(ValueError):  # NOTE: an empty cell
                self._bind(f"{function.__module__}.{function.__qualname__} closure {variable}", cell.cell_contents)
        namespace = function.__globals__
        owner = namespace.get("__name__", function.__module__)
        reached = [self._import(name, namespace.get("__package__")) for name in _imports(function.__code__)]
        for name in dict.fromkeys(names):
            value = namespace.get(name, _MISSING)
            if value is not _MISSING:
                self._bind(f"{owner}.{name}", value)
                reached.append(value)
        for held in reached:
            if isinstance(held, ModuleType) and _is_users(held.__name__):
                self._todo.append(held)
                for name in dict.fromkeys(names):
                    value = getattr(held, name, _MISSING)
                    if value is not _MISSING:
                        self._bind(f"{held.__name__}.{name}", value)

    def _import(self, name: str, package: str | None) -> ModuleType | None:
        """The module an import statement names, if imported; if not, its source file is recorded instead."""
        with contextlib.suppress(ImportError, ValueError):
            name = importlib.util.resolve_name(name, package)
        if name.startswith(".") or not _is_users(name):
            return None
        module = sys.modules.get(name)
        if module is not None:
            return module
        spec = importlib.machinery.PathFinder.find_spec(name.partition(".")[0])  # NOTE: finds, never imports
        if spec is None or not spec.origin or not spec.origin.endswith(".py"):
            return None
        origin = Path(spec.origin).resolve()
        if not _user_path(origin):
            return None
        sources = sorted(origin.parent.rglob("*.py")) if spec.submodule_search_locations else [origin]
        digest = hashlib.sha256()
        for path in sources:
            with contextlib.suppress(OSError):
                digest.update(path.name.encode() + b"\x1f" + path.read_bytes())
        self.files[name] = digest.hexdigest()
        return None


def _imports(code: CodeType) -> list[str]:
    """The module names of the import statements in ``code`` and its nested code, with dots for relative imports."""
    found = []
    instructions = list(dis.get_instructions(code))
    for position, instruction in enumerate(instructions):
        if instruction.opname == "IMPORT_NAME":
            level = instructions[position - 2].argval if position >= 2 else 0
            found.append("." * (level if isinstance(level, int) else 0) + str(instruction.argval))
    for const in code.co_consts:
        if isinstance(const, CodeType):
            found.extend(_imports(const))
    return found


def _user_modules(roots: list[Any]) -> list[ModuleType]:
    """The user's modules that define ``roots`` or are reachable from them, by name, in the order reached.

    From a module, every module, function and class its namespace holds, and the class of every
    other value, leads on (a method reads its module's namespace as its globals), so a helper
    imported by the model's module, or by a module that one imports, is reached; modules of
    tsforecast, the standard library and installed packages are not followed.
    """
    todo = [sys.modules.get(getattr(root, "__module__", "") or "") for root in roots]
    todo.extend(root for root in roots if isinstance(root, ModuleType))
    found: dict[str, ModuleType] = {}
    while todo:
        module = todo.pop()
        if module is None or module.__name__ in found or _user_file(module) is None:
            continue
        found[module.__name__] = module
        for value in list(vars(module).values()):
            if isinstance(value, ModuleType):
                todo.append(value)
            elif inspect.isfunction(value) or inspect.isclass(value):
                todo.append(sys.modules.get(value.__module__))
            else:  # NOTE: an instance of a helper class (a scaler ...) leads to the helper's module
                todo.append(sys.modules.get(type(value).__module__))
    return sorted(found.values(), key=lambda module: module.__name__)


def _file_code(module: ModuleType) -> str:
    """A SHA-256 of the source file of one user module, as it is on disk now."""
    path = _user_file(module)
    assert path is not None
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return f"{module.__name__} file {path} unreadable"
    return f"{module.__name__} file sha256:{digest}"


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


def _signed(header: Mapping[str, Any], payload: bytes) -> tuple[bytes, bytes, bytes]:
    """What a file's digest or code covers: its header without ``auth`` (canonical JSON), a newline, its payload."""
    rest = {name: value for name, value in header.items() if name != "auth"}
    return json.dumps(rest, separators=(",", ":"), sort_keys=True).encode(), b"\n", payload


def encode(key: str, frames: Frames, secret: bytes | None = None) -> bytes:
    """The checkpoint file of a task's frames (see the module docstring for the format).

    With ``secret``, the file carries the HMAC-SHA256 of its contents under it instead of a digest.

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
    header: dict[str, Any] = {"format": FORMAT, "version": FORMAT_VERSION, "key": key, "frames": layout}
    signed = _signed(header, payload)
    if secret is None:
        header["auth"] = {"sha256": hashlib.sha256(b"".join(signed)).hexdigest()}
    else:
        header["auth"] = {"hmac-sha256": mac(secret, signed)}
    return json.dumps(header, separators=(",", ":")).encode() + b"\n" + payload


def decode(data: bytes, key: str, names: tuple[str, ...], secret: bytes | None = None) -> Frames:
    """Read the frames ``names`` of a checkpoint file written by :func:`encode` for ``key``.

    With ``secret``, only a file carrying the right HMAC-SHA256 under it is read; without, only a
    file carrying the right digest (one authenticated with a key cannot be checked).

    Raises
    ------
    Unusable
        If the file is not a checkpoint, belongs to another key, fails its digest or code, or
        cannot be parsed; the message says which.
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
    _authenticate(header, payload, secret)
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


def _authenticate(header: dict[str, Any], payload: bytes, secret: bytes | None) -> None:
    """Check a file's code under ``secret``, or without one its digest (see the module docstring)."""
    stored = header.get("auth")
    auth: dict[str, Any] = stored if isinstance(stored, dict) else {}
    signed = _signed(header, payload)
    if secret is not None:
        if not matches(auth.get("hmac-sha256"), mac(secret, signed)):
            raise Unusable(
                f"fails its HMAC-SHA256 under the key ({KEY_ENV}): forged, damaged, or written without that key"
            )
    elif "sha256" not in auth and "hmac-sha256" in auth:
        raise Unusable(f"authenticated with a key; set {KEY_ENV} or {KEY_FILE_ENV} to reuse it")
    elif not matches(auth.get("sha256"), hashlib.sha256(b"".join(signed)).hexdigest()):
        raise Unusable("fails its sha256 digest: damaged or truncated")


@dataclass
class TaskCache:
    """Task results stored as files under ``directory``, one per task key.

    Files are written to a temporary name and moved into place with :func:`os.replace`, so a
    killed run never leaves half a file and concurrent runs writing the same task are safe.
    With ``secret`` they are authenticated by HMAC-SHA256 under it (see :func:`encode`). Files that
    cannot be reused are collected in :attr:`problems` as ``"NAME (REASON)"``.
    """

    directory: Path
    secret: bytes | None = None
    problems: list[str] = field(default_factory=list)

    def path(self, key: str) -> Path:
        """Where the result of the task with ``key`` is stored."""
        return self.directory / f"{key[:32]}{SUFFIX}"

    def load(self, key: str, names: tuple[str, ...]) -> Frames | None:
        """The stored frames ``names`` of ``key``, or ``None`` without a usable file (recorded in ``problems``)."""
        path = self.path(key)
        try:
            return decode(_read_regular(path), key, names, self.secret)
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
        data = encode(key, frames, self.secret)
        handle, partial = tempfile.mkstemp(dir=self.directory, prefix=f".{key[:32]}.", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
            os.replace(partial, self.path(key))  # atomic: readers see the old file or the whole new one
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(partial)
            raise


def _read_regular(path: Path) -> bytes:
    """The bytes of the regular file at ``path``; a symbolic link, a pipe, a directory ... is never read.

    Raises
    ------
    Unusable
        If ``path`` is a symbolic link, not a regular file or larger than :data:`MAX_FILE_BYTES`.
    FileNotFoundError
        If nothing is there.
    """
    if path.is_symlink():
        raise Unusable("a symbolic link, never followed")
    # NOTE: O_NOFOLLOW closes the race with a link made after the check; O_NONBLOCK keeps a pipe from blocking open()
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    handle = os.open(path, flags)
    status = os.fstat(handle)
    if not stat.S_ISREG(status.st_mode):
        os.close(handle)
        raise Unusable("not a regular file, never read")
    if status.st_size > MAX_FILE_BYTES:
        os.close(handle)
        raise Unusable(f"larger than {MAX_FILE_BYTES} bytes, never read")
    with os.fdopen(handle, "rb") as file:
        return file.read()
