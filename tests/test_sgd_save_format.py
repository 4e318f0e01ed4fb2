"""Saved SGD models: one state written and read back bit-identically, authenticated, refused whole when inconsistent."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tsforecast as tsf
from tsforecast.errors import DataError
from tsforecast.models.sgd import SGDForecaster, save_format
from tsforecast.models.sgd.state import SGDState

SEASON = 4


def seasonal(n: int = 72) -> np.ndarray:
    t = np.arange(n)
    return 20.0 + 0.1 * t + 3.0 * np.sin(2 * np.pi * t / SEASON) + np.random.default_rng(0).normal(0.0, 0.5, n)


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A two-member ``"drift"`` + ``"es"`` model of a two-series panel, saved once."""
    frame = pd.concat(
        [
            pd.DataFrame(
                {"unique_id": uid, "ds": pd.date_range("2000-01-01", periods=72, freq="QS"), "y": seasonal() + k}
            )
            for k, uid in enumerate(["a", "b"])
        ],
        ignore_index=True,
    )
    model = SGDForecaster(8, 4, season=SEASON, family="drift+es", scales=(1.0,), epochs=3).fit(frame)
    path = tmp_path_factory.mktemp("saved") / "model.pt"
    model.save(path)
    return path


def reseal(path: Path, payload: dict[str, Any]) -> None:
    """Write ``payload`` to ``path`` with its SHA-256 digest recomputed, as anyone can."""
    parts = save_format._signed(payload["config"], payload["tensors"])
    torch.save({**payload, "sha256": hashlib.sha256(b"".join(parts)).hexdigest()}, path)


def edited(saved: Path, target: Path, edit: Callable[[dict[str, Any], dict[str, torch.Tensor]], None]) -> Path:
    """A copy of ``saved`` at ``target`` with ``edit`` applied to its config and tensors, under a valid digest."""
    payload = torch.load(saved, weights_only=True)
    config = json.loads(payload["config"])
    edit(config, payload["tensors"])
    reseal(target, {**payload, "config": json.dumps(config)})
    return target


def _set(key: str, value: Any) -> Callable[[dict[str, Any], dict[str, torch.Tensor]], None]:
    return lambda config, tensors: config.__setitem__(key, value)


def _drop(key: str) -> Callable[[dict[str, Any], dict[str, torch.Tensor]], None]:
    return lambda config, tensors: config.pop(key)


def _tensor(key: str, change: Callable[[torch.Tensor], torch.Tensor | None]) -> Callable[..., None]:
    def edit(config: dict[str, Any], tensors: dict[str, torch.Tensor]) -> None:
        value = change(tensors.pop(key))
        if value is not None:
            tensors[key] = value

    return edit


INCONSISTENT = {
    # missing entries
    "no-season": _drop("season"),
    "no-recipes": _drop("recipes"),
    "no-ids": _drop("ids"),
    "no-y": _tensor("data.y", lambda t: None),
    "no-member-weight": _tensor("member1.linear.weight", lambda t: None),
    "no-recipe-field": lambda c, t: c["recipes"][0].pop("loss"),
    "no-smoothing-field": lambda c, t: c["smoothing"][0].pop("alpha"),
    # wrong types
    "season-text": _set("season", "4"),
    "log-number": _set("log", 1),
    "recipes-not-a-list": _set("recipes", {"family": "drift"}),
    "recipe-not-a-dict": _set("recipes", [5, 6]),
    "ids-text": _set("ids", "ab"),
    "history-list": _set("history", [1, 2]),
    "best-epoch-text": _set("best_epochs", ["1", 2]),
    "shares-text": _set("shares", ["0.5", 1.0]),
    "share-above-one": _set("shares", [1.5, 1.0]),
    "share-bool": _set("shares", [True, 1.0]),
    "smoothing-alpha-text": lambda c, t: c["smoothing"][0].__setitem__("alpha", "0.5"),
    "covariates-list": _set("covariates", [1]),
    "time-dtype": _set("time_dtype", "object"),
    "unknown-family": lambda c, t: c["recipes"][0].__setitem__("family", "magic"),
    "y-as-float32": _tensor("data.y", lambda t: t.float()),
    "ds-as-float": _tensor("data.ds", lambda t: t.double()),
    "weight-as-float64": _tensor("member0.linear.weight", lambda t: t.double()),
    "params-text": _set("params", "lookback=8"),
    # wrong shapes and lengths
    "y-shorter": _tensor("data.y", lambda t: t[:-1]),
    "ds-longer": _tensor("data.ds", lambda t: torch.cat([t, t[-1:]])),
    "ids-shorter": lambda c, t: c["ids"].pop(),
    "weight-transposed": _tensor("member0.linear.weight", lambda t: t.T.contiguous()),
    "weight-2d-as-1d": _tensor("member0.linear.weight", lambda t: t.reshape(-1)),
    "history-ragged": lambda c, t: c["history"]["epoch"].pop(),
    "history-columns": lambda c, t: c["history"].pop("lr"),
    # mismatched member counts
    "one-recipe-fewer": lambda c, t: c["recipes"].pop(),
    "one-best-epoch-more": lambda c, t: c["best_epochs"].append(0),
    "one-share-fewer": lambda c, t: c["shares"].pop(),
    "extra-member-weights": lambda c, t: t.__setitem__("member2.linear.bias", t["member0.linear.bias"].clone()),
    "stray-weight": lambda c, t: t.__setitem__("member0.extra", torch.zeros(1)),
    "no-members": lambda c, t: (c.__setitem__("recipes", []), c.__setitem__("best_epochs", [])),
}


@pytest.mark.parametrize("edit", INCONSISTENT.values(), ids=INCONSISTENT.keys())
def test_an_inconsistent_file_is_refused_with_one_clear_line(saved: Path, tmp_path: Path, edit: Any) -> None:
    path = edited(saved, tmp_path / "edited.pt", edit)
    with pytest.raises(DataError, match=r"is not a consistent SGDForecaster file \(.+\)\. Fit and save") as caught:
        SGDForecaster.load(path)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("params", [{"lookback": -1}, {"bogus": 1}, {"scales": "big"}, {"shuffle": True}], ids=str)
def test_invalid_saved_parameters_are_refused_with_one_clear_line(saved: Path, tmp_path: Path, params: Any) -> None:
    path = edited(saved, tmp_path / "edited.pt", lambda c, t: c["params"].update(params))
    with pytest.raises(DataError, match="holds invalid SGDForecaster parameters: ") as caught:
        SGDForecaster.load(path)
    assert "\n" not in str(caught.value)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.floats(allow_nan=False) | st.text(max_size=3),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=6,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_value_in_place_of_a_config_entry_loads_or_is_one_data_error(
    saved: Path, tmp_path: Path, data: Any
) -> None:
    config = json.loads(torch.load(saved, weights_only=True)["config"])
    key = data.draw(st.sampled_from(sorted(config)))
    path = edited(saved, tmp_path / "edited.pt", _set(key, data.draw(JSON)))
    try:
        SGDForecaster.load(path)
        message = ""
    except DataError as exc:  # NOTE: anything else (a KeyError, an IndexError ...) fails the test
        message = str(exc)
    assert "\n" not in message


@pytest.mark.parametrize("covariates", [None, tsf.Covariates(calendar=("month",))], ids=["plain", "covariates"])
def test_a_loaded_model_forecasts_bit_identically_to_the_saved_one(tmp_path: Path, covariates: Any) -> None:
    df = tsf.load_dataset("uk_lung_deaths")
    model = SGDForecaster(24, 12, family="drift+es", scales=(1.0, 1.5), epochs=3).fit(df, covariates=covariates)
    model.save(tmp_path / "m.pt")
    loaded = SGDForecaster.load(tmp_path / "m.pt")
    assert isinstance(loaded.state_, SGDState)
    history = df.groupby("unique_id").head(60)
    for a, b in ((model.predict(), loaded.predict()), (model.predict(history), loaded.predict(history))):
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    pd.testing.assert_frame_equal(loaded.history_, model.history_, check_exact=True)
    assert (loaded.best_epochs_, loaded.recipes_, loaded.season_) == (model.best_epochs_, model.recipes_, model.season_)
    assert loaded.shares_ == model.shares_
    for mine, theirs in zip(model.state_.members, loaded.state_.members, strict=True):
        for (name, w), (other, v) in zip(
            mine.module.state_dict().items(), theirs.module.state_dict().items(), strict=True
        ):
            assert name == other
            assert torch.equal(w, v)


def test_a_file_saved_before_the_networks_shares_forecasts_with_whole_corrections(saved: Path, tmp_path: Path) -> None:
    def legacy(config: dict[str, Any], tensors: dict[str, torch.Tensor]) -> None:
        config.pop("shares")
        config["params"].pop("min_gain")

    loaded = SGDForecaster.load(edited(saved, tmp_path / "legacy.pt", legacy))
    assert loaded.shares_ == [1.0, 1.0]
    assert loaded.min_gain == SGDForecaster().min_gain  # the parameter is a training setting: its default
    whole = SGDForecaster.load(saved)
    for member in whole.state_.members:
        member.share = 1.0
    np.testing.assert_array_equal(loaded.predict()["y_hat"], whole.predict()["y_hat"])


# ----------------------------------------------------------------------------- the secret key ---- #


def test_with_a_key_only_a_file_saved_under_it_loads(
    saved: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TSFORECAST_KEY", "s3cret")
    with pytest.raises(DataError, match=r"fails its HMAC-SHA256 under the key .*saved without that key, or modified"):
        SGDForecaster.load(saved)  # saved without the key: its digest anyone could have recomputed
    monkeypatch.delenv("TSFORECAST_KEY")
    plain = SGDForecaster.load(saved)
    monkeypatch.setenv("TSFORECAST_KEY", "s3cret")
    plain.save(tmp_path / "keyed.pt")
    loaded = SGDForecaster.load(tmp_path / "keyed.pt")
    np.testing.assert_array_equal(loaded.predict()["y_hat"], plain.predict()["y_hat"])
    payload = torch.load(tmp_path / "keyed.pt", weights_only=True)
    assert "sha256" not in payload
    assert len(payload["hmac-sha256"]) == 64
    payload["tensors"]["member0.linear.bias"] += 1.0
    reseal(tmp_path / "forged.pt", payload)  # a forgery with a recomputed plain digest
    with pytest.raises(DataError, match="fails its HMAC-SHA256"):
        SGDForecaster.load(tmp_path / "forged.pt")
    monkeypatch.setenv("TSFORECAST_KEY", "another")
    with pytest.raises(DataError, match="fails its HMAC-SHA256"):
        SGDForecaster.load(tmp_path / "keyed.pt")
    monkeypatch.delenv("TSFORECAST_KEY")
    with pytest.raises(DataError, match=r"was saved with a secret key; set TSFORECAST_KEY or TSFORECAST_KEY_FILE"):
        SGDForecaster.load(tmp_path / "keyed.pt")


def test_a_key_file_authenticates_unless_it_lies_in_the_models_directory(
    saved: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = SGDForecaster.load(saved)
    (tmp_path / "keys").mkdir()
    (tmp_path / "models").mkdir()
    (tmp_path / "keys" / "key").write_text("s3cret\n")
    monkeypatch.setenv("TSFORECAST_KEY_FILE", str(tmp_path / "keys" / "key"))
    model.save(tmp_path / "models" / "m.pt")
    loaded = SGDForecaster.load(tmp_path / "models" / "m.pt")
    np.testing.assert_array_equal(loaded.predict()["y_hat"], model.predict()["y_hat"])
    monkeypatch.setenv("TSFORECAST_KEY_FILE", str(tmp_path / "models" / "key"))
    (tmp_path / "models" / "key").write_text("s3cret\n")
    inside = r"^The key file .* lies inside .*models', the directory it protects; move it outside that directory\.$"
    with pytest.raises(DataError, match=inside):
        SGDForecaster.load(tmp_path / "models" / "m.pt")
    with pytest.raises(DataError, match=inside):
        model.save(tmp_path / "models" / "other.pt")


def test_a_link_a_pipe_a_directory_or_an_oversized_file_is_refused_unread(
    saved: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "link.pt").symlink_to(saved)
    os.mkfifo(tmp_path / "pipe.pt")  # NOTE: opening it to read would block before the fix
    (tmp_path / "dir.pt").mkdir()
    with pytest.raises(DataError, match=r"^Model file .*link\.pt' is a symbolic link, never followed"):
        SGDForecaster.load(tmp_path / "link.pt")
    for name in ("pipe.pt", "dir.pt"):
        with pytest.raises(DataError, match=rf"^Model file .*{name}' is not a regular file; it is never read\."):
            SGDForecaster.load(tmp_path / name)
    with pytest.raises(DataError, match=r"^Model file .*none\.pt' does not exist\."):
        SGDForecaster.load(tmp_path / "none.pt")
    monkeypatch.setattr(save_format, "MAX_FILE_BYTES", saved.stat().st_size - 1)
    with pytest.raises(DataError, match=rf"is larger than {saved.stat().st_size - 1} bytes; it is never read\."):
        SGDForecaster.load(saved)
