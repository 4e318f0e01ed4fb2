"""The file format of :meth:`SGDForecaster.save <tsforecast.models.sgd.SGDForecaster.save>` and ``load``.

A saved model is one ``torch.save`` file holding only tensors and strings, a dict::

    {"format": "tsforecast.SGDForecaster/1",
     "config": JSON text: constructor parameters (without ``module``), whether a custom module
               factory was used, season, log flag, recipes, best epochs, the networks' shares, frequency, array-input
               flag, series ids, time dtype, training history, declared covariates, and the
               ``"es"`` family's per-series smoothing parameters (id, first timestamp, numbers),
     "tensors": {"data.y", "data.ds", "data.covariate.<col>", "scaler.<name>.mean|std",
                 "member<i>.<state_dict key>"},
     "sha256": digest of the config and every tensor's name, dtype, shape and bytes}

With a secret key (``TSFORECAST_KEY`` or ``TSFORECAST_KEY_FILE``, :mod:`tsforecast._secret`; a key
file must lie outside the model file's directory) ``"hmac-sha256"``, the HMAC-SHA256 of the same
bytes under the key, replaces ``"sha256"``: a digest detects damage, a code also a forgery.

The file holds exactly one :class:`~tsforecast.models.sgd.state.SGDState` and the parameters. It is
read back with ``torch.load(weights_only=True)``, so loading executes no code; a file without the
format marker, failing its digest or code, or whose contents do not fit together (a missing entry,
a value of the wrong type, tensors of the wrong shape or length, member counts that differ) is
refused with one :class:`~tsforecast.errors.DataError`, and so is a symbolic link (never followed),
anything but a regular file (a pipe, a directory ...) and a file over :data:`MAX_FILE_BYTES`.

A digest or code binds a file's contents, not its name: an older authentic file copied or renamed
over a newer one (a replay) loads, with a key too. A key proves a file was saved by someone holding
the key, not which of their files it is.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd
import torch
from torch import nn

from ..._secret import KEY_ENV, KEY_FILE_ENV, mac, matches, secret_key
from ...columns import ID, TARGET, TIME
from ...covariates import Covariates, prepare_frame
from ...errors import DataError
from ..smoothing import Smoothing
from .base_forecast import FAMILIES, Recipe
from .state import SGDState
from .training import HISTORY_COLUMNS, Member

__all__ = ["FILE_FORMAT", "MAX_FILE_BYTES", "ModuleBuilder", "Saved", "read_model", "write_model"]

FILE_FORMAT = "tsforecast.SGDForecaster/1"
"""The format marker of a saved model."""

MAX_FILE_BYTES = 2 * 1024**3
"""The largest saved model read back (2 GiB): a larger file is refused unread."""

ModuleBuilder = Callable[[Recipe, int, "Covariates | None"], nn.Module]
"""Builds member ``index``'s untrained network for a recipe and the declared covariates."""

_LOSSES = ("huber", "l1", "mse")


class _Inconsistent(Exception):
    """A saved model whose contents do not fit together; the message says where."""


def write_model(path: str | Path, params: dict[str, Any], custom_module: bool, state: SGDState) -> None:
    """Write the parameters (without ``module``) and fitted ``state`` of an ``SGDForecaster`` to ``path``.

    Raises
    ------
    DataError
        If the secret key is misconfigured (see :func:`tsforecast._secret.secret_key`).
    """
    secret = secret_key(Path(path).parent)
    config = json.dumps(_config(params, custom_module, state))
    tensors = _tensors(state)
    parts = list(_signed(config, tensors))
    seal = (
        {"sha256": hashlib.sha256(b"".join(parts)).hexdigest()}
        if secret is None
        else {"hmac-sha256": mac(secret, parts)}
    )
    torch.save({"format": FILE_FORMAT, "config": config, "tensors": tensors, **seal}, path)


def _config(params: dict[str, Any], custom_module: bool, state: SGDState) -> dict[str, Any]:
    frame = state.frame
    return {
        "params": {**params, "scales": list(params["scales"])},
        "custom_module": custom_module,
        "season": state.season,
        "log": state.log,
        "recipes": [asdict(r) for r in state.recipes],
        "best_epochs": [member.best_epoch for member in state.members],
        "shares": [member.share for member in state.members],
        "freq": state.freq,
        "array_input": state.array_input,
        "ids": frame[ID].tolist(),
        "time_dtype": str(frame[TIME].dtype),
        "history": state.history.to_dict(orient="list"),
        "covariates": None if state.covariates is None else asdict(state.covariates),
        # NOTE: JSON writes floats with repr(), so the parameters come back bit-identical
        "smoothing": [{"id": uid, "start": start, **asdict(p)} for uid, (start, p) in state.smoothing.items()],
    }


def _tensors(state: SGDState) -> dict[str, torch.Tensor]:
    frame = state.frame
    tensors = {
        "data.y": torch.tensor(frame[TARGET].to_numpy(dtype="float64")),
        "data.ds": torch.tensor(frame[TIME].to_numpy().astype("int64")),
    }
    if state.covariates is not None:
        for col in state.covariates.data_columns:
            tensors[f"data.covariate.{col}"] = torch.tensor(frame[col].to_numpy(dtype="float64"))
        for name, (mean, std) in state.scalers.items():
            tensors[f"scaler.{name}.mean"], tensors[f"scaler.{name}.std"] = torch.tensor(mean), torch.tensor(std)
    for index, member in enumerate(state.members):
        tensors.update({f"member{index}.{k}": v.detach().clone() for k, v in member.module.state_dict().items()})
    return tensors


def _signed(config: str, tensors: dict[str, torch.Tensor]) -> Iterator[bytes]:
    """What the digest or code covers: the config, then each tensor's name, dtype, shape and bytes, by name."""
    yield config.encode()
    for key in sorted(tensors):
        value = tensors[key].detach().contiguous()
        yield f"{key}:{value.dtype}:{tuple(value.shape)}".encode()
        yield value.numpy().tobytes()


@dataclass(frozen=True)
class Saved:
    """An authenticated saved model: its parameters, and its state once the networks can be built."""

    path: Path
    params: dict[str, Any]
    custom_module: bool
    config: dict[str, Any]
    tensors: dict[str, torch.Tensor]

    def state(self, build: ModuleBuilder) -> SGDState:
        """The fitted state, each member's network made by ``build`` and given its saved weights.

        Raises
        ------
        DataError
            If the file's contents do not fit together; the message says where.
        """
        try:
            return _state(self.config, self.tensors, build)
        except _Inconsistent as exc:
            raise _refused(self.path, str(exc)) from exc
        except (TypeError, ValueError, KeyError, IndexError, AttributeError, RuntimeError) as exc:
            # NOTE: the checks below name the usual faults; this names any other a forged file may hold
            raise _refused(self.path, f"{type(exc).__name__}: {_first_line(exc)}") from exc


def read_model(path: Path) -> Saved:
    """Read the file at ``path``, after checking its marker, its digest or code and its parameters' types.

    Raises
    ------
    DataError
        If the file is missing, not a saved ``SGDForecaster``, fails its digest or code, or is
        inconsistent; or if the secret key is misconfigured.
    """
    secret = secret_key(path.parent)
    not_ours = f"{str(path)!r} is not an SGDForecaster file written by SGDForecaster.save()"
    with _open_regular(path) as file:
        try:
            payload = torch.load(file, weights_only=True)
        except Exception as exc:  # NOTE: torch.load raises many types (pickle, zip, runtime) for foreign bytes
            raise DataError(f"{not_ours}: it could not be read safely ({type(exc).__name__}).") from exc
    if not isinstance(payload, dict) or payload.get("format") != FILE_FORMAT:
        raise DataError(f"{not_ours}: its format marker is missing. Save the model again with SGDForecaster.save().")
    config, tensors = payload.get("config"), payload.get("tensors")
    if not isinstance(config, str) or not isinstance(tensors, dict):
        raise _refused(path, "its config or its tensors are missing")
    if not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in tensors.items()):
        raise _refused(path, "an entry of its tensors is not a named tensor")
    try:
        parts = list(_signed(config, tensors))
    except (TypeError, RuntimeError) as exc:  # NOTE: a tensor numpy cannot hold (sparse, bfloat16 ...)
        raise _refused(path, f"a tensor cannot be read ({_first_line(exc)})") from exc
    _authenticate(path, payload, parts, secret)
    try:
        parsed = json.loads(config)
        params = _need(parsed, "params", dict)
        custom = _need(parsed, "custom_module", bool)
    except (_Inconsistent, ValueError) as exc:
        raise _refused(path, _first_line(exc)) from exc
    return Saved(path, params, custom, parsed, tensors)


def _open_regular(path: Path) -> BinaryIO:
    """``path`` opened for reading if it is a regular file of at most :data:`MAX_FILE_BYTES`, never following a link.

    Raises
    ------
    DataError
        If nothing is there, or it is a symbolic link, not a regular file (a pipe, a directory ...) or too large.
    """
    if path.is_symlink():
        raise DataError(f"Model file {str(path)!r} is a symbolic link, never followed; load the file it points to.")
    # NOTE: O_NOFOLLOW closes the race with a link made after the check; O_NONBLOCK keeps a pipe from blocking open()
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        handle = os.open(path, flags)
    except FileNotFoundError as exc:
        raise DataError(
            f"Model file {str(path)!r} does not exist. Check the path, or save a model with m.save(path)."
        ) from exc
    except OSError as exc:
        raise DataError(f"Model file {str(path)!r} cannot be opened ({exc.strerror}).") from exc
    status = os.fstat(handle)
    if not stat.S_ISREG(status.st_mode) or status.st_size > MAX_FILE_BYTES:
        os.close(handle)
        what = "not a regular file" if not stat.S_ISREG(status.st_mode) else f"larger than {MAX_FILE_BYTES} bytes"
        raise DataError(f"Model file {str(path)!r} is {what}; it is never read. Load a file saved with m.save(path).")
    return os.fdopen(handle, "rb")


def _authenticate(path: Path, payload: dict[str, Any], parts: list[bytes], secret: bytes | None) -> None:
    if secret is not None:
        if not matches(payload.get("hmac-sha256"), mac(secret, parts)):
            raise DataError(
                f"{str(path)!r} fails its HMAC-SHA256 under the key ({KEY_ENV} or {KEY_FILE_ENV}): it was saved "
                "without that key, or modified since. Use a file saved with the key, or fit and save the model again."
            )
    elif "sha256" not in payload and "hmac-sha256" in payload:
        raise DataError(f"{str(path)!r} was saved with a secret key; set {KEY_ENV} or {KEY_FILE_ENV} to load it.")
    elif not matches(payload.get("sha256"), hashlib.sha256(b"".join(parts)).hexdigest()):
        raise DataError(
            f"{str(path)!r} was modified after it was saved: its SHA-256 digest does not match its contents. "
            "Use an unmodified file, or fit and save the model again."
        )


def _refused(path: Path, reason: str) -> DataError:
    return DataError(
        f"{str(path)!r} is not a consistent SGDForecaster file ({reason}). Fit and save the model again with "
        "SGDForecaster.save()."
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _need(mapping: Any, key: str, kind: type | tuple[type, ...]) -> Any:
    """``mapping[key]``, checked to be of ``kind`` (see :func:`_typed`)."""
    if not isinstance(mapping, dict) or key not in mapping:
        raise _Inconsistent(f"{key!r} is missing")
    return _typed(mapping[key], repr(key), kind)


def _typed(value: Any, what: str, kind: type | tuple[type, ...]) -> Any:
    """``value``, checked to be of ``kind`` (a bool is no number)."""
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        names = " or ".join(k.__name__ for k in kinds)
        raise _Inconsistent(f"{what} is {type(value).__name__}, not {names}")
    return value


def _tensor(tensors: dict[str, torch.Tensor], key: str, dtype: torch.dtype, shape: tuple[int, ...]) -> np.ndarray:
    """The saved tensor ``key`` as an array, checked to have ``dtype`` and ``shape`` (-1: any length)."""
    if key not in tensors:
        raise _Inconsistent(f"tensor {key!r} is missing")
    value = tensors[key]
    if (
        value.dtype != dtype
        or len(value.shape) != len(shape)
        or any(s not in (-1, n) for s, n in zip(shape, value.shape, strict=True))
    ):
        raise _Inconsistent(f"tensor {key!r} is {value.dtype} of shape {tuple(value.shape)}, not {dtype} of {shape}")
    return value.numpy()


def _recipe(entry: Any) -> Recipe:
    family, loss = _need(entry, "family", str), _need(entry, "loss", str)
    lookback, recency = _need(entry, "lookback", int), _need(entry, "recency", (int, float))
    if family not in FAMILIES or loss not in _LOSSES or lookback < 2:
        raise _Inconsistent(f"a recipe of family {family!r}, loss {loss!r} and lookback {lookback}")
    return Recipe(family=family, lookback=lookback, loss=loss, recency=float(recency))


def _smoothing(entry: Any) -> tuple[str, int, Smoothing]:
    numbers = {f.name: _need(entry, f.name, (int, float)) for f in fields(Smoothing) if f.type in ("float", float)}
    seasons = _need(entry, "seasons", list)
    if not seasons or not all(isinstance(s, int | float) and not isinstance(s, bool) for s in seasons):
        raise _Inconsistent("the seasonal factors of a series' smoothing parameters")
    spec = _need(entry, "spec", str)
    # NOTE: files saved before the multiplicative "es" base hold additive parameters without the flag
    multiplicative = _need(entry, "multiplicative", bool) if "multiplicative" in entry else False
    smoothing = Smoothing(**numbers, seasons=tuple(seasons), spec=spec, multiplicative=multiplicative)
    return _need(entry, "id", str), _need(entry, "start", int), smoothing


def _frame(config: dict[str, Any], tensors: dict[str, torch.Tensor], covariates: Covariates | None) -> pd.DataFrame:
    ids = _need(config, "ids", list)
    y = _tensor(tensors, "data.y", torch.float64, (len(ids),))
    ds = _tensor(tensors, "data.ds", torch.int64, (len(ids),))
    time_dtype = _need(config, "time_dtype", str)
    if time_dtype != "int64" and not time_dtype.startswith("datetime64["):
        raise _Inconsistent(f"time dtype {time_dtype!r}")
    frame = pd.DataFrame({ID: ids, TIME: ds if time_dtype == "int64" else ds.view(time_dtype), TARGET: y})
    if covariates is None:
        return frame
    for col in covariates.data_columns:
        frame[col] = _tensor(tensors, f"data.covariate.{col}", torch.float64, (len(ids),))
    return prepare_frame(frame, covariates, "SGDForecaster.load")


def _state(config: dict[str, Any], tensors: dict[str, torch.Tensor], build: ModuleBuilder) -> SGDState:
    season = _need(config, "season", int)
    if season < 1:
        raise _Inconsistent(f"season {season}")
    declared = _need(config, "covariates", (dict, type(None)))
    covariates = None if declared is None else Covariates(**declared)
    frame = _frame(config, tensors, covariates)
    scalers = {}
    if covariates is not None:
        widths = {"known": len(covariates.future_columns), "static": len(covariates.static)}
        for name, width in widths.items():
            mean = _tensor(tensors, f"scaler.{name}.mean", torch.float64, (width,))
            scalers[name] = (mean, _tensor(tensors, f"scaler.{name}.std", torch.float64, (width,)))
    recipes = [_recipe(entry) for entry in _need(config, "recipes", list)]
    best_epochs = _need(config, "best_epochs", list)
    saved = {key.partition(".")[0] for key in tensors if key.startswith("member")}
    if not recipes or len(best_epochs) != len(recipes) or saved != {f"member{i}" for i in range(len(recipes))}:
        raise _Inconsistent(f"{len(recipes)} recipes, {len(best_epochs)} best epochs and {len(saved)} members' weights")
    # NOTE: files saved before the networks' shares (SGDForecaster's min_gain) forecast with whole corrections
    shares = _need(config, "shares", list) if "shares" in config else [1.0] * len(recipes)
    if len(shares) != len(recipes) or not all(
        isinstance(share, int | float) and not isinstance(share, bool) and 0 <= share <= 1 for share in shares
    ):
        raise _Inconsistent(f"{len(recipes)} recipes and the networks' shares {shares!r}")
    members = tuple(
        _member(index, recipe, _typed(epoch, "a best epoch", int), tensors, build(recipe, index, covariates))
        for index, (recipe, epoch) in enumerate(zip(recipes, best_epochs, strict=True))
    )
    members = tuple(replace(member, share=float(share)) for member, share in zip(members, shares, strict=True))
    history = pd.DataFrame(_need(config, "history", dict))
    if list(history.columns) != HISTORY_COLUMNS:
        raise _Inconsistent(f"training history columns {list(history.columns)}")
    entries = _need(config, "smoothing", list) if "smoothing" in config else []  # NOTE: none before the "es" family
    smoothing = {uid: (start, p) for uid, start, p in map(_smoothing, entries)}
    freq = _need(config, "freq", (str, int))
    return SGDState(
        season=season,
        log=_need(config, "log", bool),
        members=members,
        history=history,
        smoothing=smoothing,
        scalers=scalers,
        frame=frame,
        freq=freq,
        array_input=_need(config, "array_input", bool),
        covariates=covariates,
    )


def _member(index: int, recipe: Recipe, best_epoch: int, tensors: dict[str, torch.Tensor], module: nn.Module) -> Member:
    prefix = f"member{index}."
    weights = {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
    expected = module.state_dict()
    if set(weights) != set(expected):
        raise _Inconsistent(f"member {index} holds weights {sorted(weights)}, its network {sorted(expected)}")
    for key, value in expected.items():
        _tensor(weights, key, value.dtype, tuple(value.shape))
    module.load_state_dict(weights)
    module.eval()
    return Member(recipe, module, best_epoch)
