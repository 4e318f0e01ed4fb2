"""The checkpoint format of :class:`~tsforecast.models.sgd.SGDForecaster`: ``save`` and ``load``.

A checkpoint is one ``torch.save`` file holding only tensors and strings, a dict::

    {"format": "tsforecast.SGDForecaster/1",
     "config": JSON text: constructor parameters (without ``module``), whether a custom module
               factory was used, season, log flag, recipes, best epochs, frequency, array-input
               flag, series ids, time dtype, training history, declared covariates, and the
               ``"es"`` family's per-series smoothing parameters (id, first timestamp, numbers),
     "tensors": {"data.y", "data.ds", "data.covariate.<col>", "scaler.<name>.mean|std",
                 "member<i>.<state_dict key>"},
     "sha256": digest of the config and every tensor's name, dtype, shape and bytes}

It is read back with ``torch.load(weights_only=True)``, so loading executes no code; a file
without the format marker, or whose digest does not match, is refused.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from ...columns import ID, TARGET, TIME
from ...covariates import Covariates, prepare_frame
from ...errors import DataError
from ..smoothing import Smoothing
from .base_forecast import Recipe
from .training import Member

__all__ = ["FILE_FORMAT", "read_checkpoint", "restore", "write_checkpoint"]

FILE_FORMAT = "tsforecast.SGDForecaster/1"
"""The format marker of a checkpoint."""


def write_checkpoint(model: Any, path: str | Path) -> None:
    """Write the fitted ``SGDForecaster`` ``model`` to ``path``."""
    config = json.dumps(_config(model))
    tensors = _tensors(model)
    torch.save({"format": FILE_FORMAT, "config": config, "tensors": tensors, "sha256": _digest(config, tensors)}, path)


def read_checkpoint(path: Path) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """The config and tensors of the checkpoint at ``path``, after checking its marker and digest."""
    payload = _read_payload(path)
    return json.loads(payload["config"]), payload["tensors"]


def _config(model: Any) -> dict[str, Any]:
    params = {k: v for k, v in model.get_params(deep=False).items() if k != "module"}
    frame = model._train_frame
    return {
        "params": {**params, "scales": list(params["scales"])},
        "custom_module": model.module is not None,
        "season": model.season_,
        "log": model.log_,
        "recipes": [asdict(r) for r in model.recipes_],
        "best_epochs": model.best_epochs_,
        "freq": model.freq_,
        "array_input": model._array_input,
        "ids": frame[ID].tolist(),
        "time_dtype": str(frame[TIME].dtype),
        "history": model.history_.to_dict(orient="list"),
        "covariates": None if model.covariates_ is None else asdict(model.covariates_),
        # NOTE: JSON writes floats with repr(), so the parameters come back bit-identical
        "smoothing": [{"id": uid, "start": start, **asdict(p)} for uid, (start, p) in model._smoothing.items()],
    }


def _tensors(model: Any) -> dict[str, torch.Tensor]:
    frame = model._train_frame
    tensors = {
        "data.y": torch.tensor(frame[TARGET].to_numpy(dtype="float64")),
        "data.ds": torch.tensor(frame[TIME].to_numpy().astype("int64")),
    }
    if model.covariates_ is not None:
        for col in model.covariates_.data_columns:
            tensors[f"data.covariate.{col}"] = torch.tensor(frame[col].to_numpy(dtype="float64"))
        for name, (mean, std) in model._scalers.items():
            tensors[f"scaler.{name}.mean"], tensors[f"scaler.{name}.std"] = torch.tensor(mean), torch.tensor(std)
    for index, member in enumerate(model._members):
        tensors.update({f"member{index}.{k}": v.detach().clone() for k, v in member.module.state_dict().items()})
    return tensors


def _digest(config: str, tensors: dict[str, torch.Tensor]) -> str:
    sha = hashlib.sha256(config.encode())
    for key in sorted(tensors):
        value = tensors[key].detach().contiguous()
        sha.update(f"{key}:{value.dtype}:{tuple(value.shape)}".encode())
        sha.update(value.numpy().tobytes())
    return sha.hexdigest()


def _read_payload(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise DataError(f"Model file {str(path)!r} does not exist. Check the path, or save a model with m.save(path).")
    not_ours = f"{str(path)!r} is not an SGDForecaster file written by SGDForecaster.save()"
    try:
        payload = torch.load(path, weights_only=True)
    except Exception as exc:  # NOTE: torch.load raises many types (pickle, zip, runtime) for foreign bytes
        raise DataError(f"{not_ours}: it could not be read safely ({type(exc).__name__}).") from exc
    if not isinstance(payload, dict) or payload.get("format") != FILE_FORMAT:
        raise DataError(f"{not_ours}: its format marker is missing. Save the model again with SGDForecaster.save().")
    if _digest(payload["config"], payload["tensors"]) != payload.get("sha256"):
        raise DataError(
            f"{str(path)!r} was modified after it was saved: its SHA-256 digest does not match its contents. "
            "Use an unmodified file, or fit and save the model again."
        )
    return payload


def restore(model: Any, config: dict[str, Any], tensors: dict[str, torch.Tensor]) -> None:
    """Set the fitted attributes of ``model`` from a saved config and tensors."""
    model.season_, model.log_ = config["season"], config["log"]
    model.recipes_ = [Recipe(**r) for r in config["recipes"]]
    model.best_epochs_ = config["best_epochs"]
    model.history_ = pd.DataFrame(config["history"])
    model.freq_, model._array_input = config["freq"], config["array_input"]
    ds = tensors["data.ds"].numpy()
    times = ds.view(config["time_dtype"]) if config["time_dtype"].startswith("datetime64") else ds
    frame = pd.DataFrame({ID: config["ids"], TIME: times, TARGET: tensors["data.y"].numpy()})
    declared = config.get("covariates")
    model.covariates_ = None if declared is None else Covariates(**declared)
    model._scalers = {}
    if model.covariates_ is not None:
        for col in model.covariates_.data_columns:
            frame[col] = tensors[f"data.covariate.{col}"].numpy()
        frame = prepare_frame(frame, model.covariates_, "SGDForecaster.load")
        model._scalers = {
            name: (tensors[f"scaler.{name}.mean"].numpy(), tensors[f"scaler.{name}.std"].numpy())
            for name in ("known", "static")
        }
    model._train_frame = frame
    model._smoothing = {}
    for entry in config.get("smoothing", []):  # absent in files written before the "es" family
        numbers = {k: v for k, v in entry.items() if k not in ("id", "start", "seasons")}
        model._smoothing[entry["id"]] = (entry["start"], Smoothing(**numbers, seasons=tuple(entry["seasons"])))
    model.last_seen_ = model._train_frame[TIME].max()
    model._members = []
    for index, recipe in enumerate(model.recipes_):
        module = model._build_module(recipe, index)
        prefix = f"member{index}."
        module.load_state_dict({k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)})
        module.eval()
        model._members.append(Member(recipe, module, model.best_epochs_[index]))
