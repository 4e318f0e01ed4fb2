"""Checkpoints are untrusted input: never executed, verified by digest, keyed on everything a result depends on."""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import pickle
import sys
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import tsforecast as tsf
from tsforecast import _task_cache
from tsforecast.models import LocalForecaster

FITS: list[str] = []


class LastValue(LocalForecaster):
    """Forecasts the last value plus ``offset``; records every fit."""

    def __init__(self, horizon: int = 1, offset: float = 0.0) -> None:
        self.horizon = horizon
        self.offset = offset

    def _fit(self, frame: pd.DataFrame) -> None:
        FITS.append(str(frame["ds"].max()))

    def _forecast(self, y: np.ndarray) -> np.ndarray:
        return np.repeat(y[-1] + self.offset, self.horizon)


class Annotated(LastValue):
    """Keeps a training log with a column of lists, which no checkpoint file can hold without pickle."""

    def _fit(self, frame: pd.DataFrame) -> None:
        super()._fit(frame)
        self.history_ = pd.DataFrame({"epoch": [1], "note": [[1, 2]]})


class Mapped(LastValue):
    """Forecasts ``transform`` of the last value."""

    def __init__(self, horizon: int = 1, transform: Callable[[float], float] = float) -> None:
        super().__init__(horizon)
        self.transform = transform

    def _forecast(self, y: np.ndarray) -> np.ndarray:
        return np.repeat(self.transform(y[-1]), self.horizon)


class Planted:
    """A pickle payload: unpickling it creates ``marker`` (as a real attack would run any command)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[Path]]:
        return Path.touch, (self.marker,)


@pytest.fixture
def air() -> pd.DataFrame:
    return tsf.load_dataset("air_passengers")


@pytest.fixture(autouse=True)
def _clear_fits() -> None:
    FITS.clear()


def run(df: pd.DataFrame, directory: Path, model: LocalForecaster | None = None) -> tsf.BacktestResult:
    model = LastValue(horizon=12) if model is None else model
    return tsf.backtest(model, df, tsf.WalkForward(2, 12), baselines=(), checkpoint=directory)


def model_files(df: pd.DataFrame, directory: Path) -> list[Path]:
    """The checkpoint files of the model under test: all but those of the reference seasonal naive."""
    reference = directory.parent / f"{directory.name}-reference"
    tsf.backtest("seasonal_naive", df, tsf.WalkForward(2, 12), baselines=(), checkpoint=reference)
    theirs = {path.name for path in reference.rglob("*.tsfc")}
    return sorted(path for path in directory.rglob("*.tsfc") if path.name not in theirs)


def rerun_recording_warnings(df: pd.DataFrame, directory: Path) -> tuple[tsf.BacktestResult, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run(df, directory)
    return result, [str(w.message) for w in caught]


def test_planted_pickle_in_checkpoint_dir_never_runs(air: pd.DataFrame, tmp_path: Path) -> None:
    first = run(air, tmp_path / "ckpt")
    files = model_files(air, tmp_path / "ckpt")  # the exact names the tasks read
    assert len(files) == 2
    payload = pickle.dumps(Planted(tmp_path / "ran"))
    pickle.loads(pickle.dumps(Planted(tmp_path / "proof")))
    assert (tmp_path / "proof").exists()  # the payload is live: unpickling it would run it
    for path in files:
        path.write_bytes(payload)
    FITS.clear()
    with pytest.warns(UserWarning, match=r"2 checkpoint file\(s\) .* recomputed: .*not a tsforecast checkpoint"):
        second = run(air, tmp_path / "ckpt")
    assert not (tmp_path / "ran").exists()
    assert len(FITS) == 2  # both tasks recomputed
    pd.testing.assert_frame_equal(first.forecasts, second.forecasts)
    assert all(not path.read_bytes().startswith(payload[:2]) for path in files)  # replaced by real checkpoints


@pytest.mark.parametrize("keep", [0, 10, 0.5, -1], ids=["empty", "in-header", "half", "last-byte-lost"])
def test_truncated_checkpoint_is_recomputed_with_one_warning(air: pd.DataFrame, tmp_path: Path, keep: float) -> None:
    first = run(air, tmp_path / "ckpt")
    path = model_files(air, tmp_path / "ckpt")[0]
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep) if isinstance(keep, float) else keep])
    FITS.clear()
    second, messages = rerun_recording_warnings(air, tmp_path / "ckpt")
    assert len(messages) == 1
    assert f"{path.name} (" in messages[0]
    assert len(FITS) == 1
    pd.testing.assert_frame_equal(first.forecasts, second.forecasts)
    FITS.clear()
    _, messages = rerun_recording_warnings(air, tmp_path / "ckpt")  # the recomputed file was stored again
    assert (FITS, messages) == ([], [])


def test_checkpoint_failing_its_digest_is_recomputed(air: pd.DataFrame, tmp_path: Path) -> None:
    first = run(air, tmp_path / "ckpt")
    path = model_files(air, tmp_path / "ckpt")[0]
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF  # one flipped byte in the last column: still well-formed, but not what was written
    path.write_bytes(bytes(data))
    FITS.clear()
    second, messages = rerun_recording_warnings(air, tmp_path / "ckpt")
    assert len(messages) == 1
    assert "fails its sha256 digest" in messages[0]
    assert len(FITS) == 1
    pd.testing.assert_frame_equal(first.forecasts, second.forecasts)


def test_checkpoint_of_another_configuration_is_recomputed(air: pd.DataFrame, tmp_path: Path) -> None:
    first = run(air, tmp_path / "ckpt")
    one, other = model_files(air, tmp_path / "ckpt")
    other.write_bytes(one.read_bytes())  # a valid file, under the name of another task
    FITS.clear()
    second, messages = rerun_recording_warnings(air, tmp_path / "ckpt")
    assert len(messages) == 1
    assert f"{other.name} (written for another configuration)" in messages[0]
    assert len(FITS) == 1
    pd.testing.assert_frame_equal(first.forecasts, second.forecasts)


MODEL_SOURCE = """
import numpy as np
from tsforecast.models import LocalForecaster


class Edited(LocalForecaster):
    def __init__(self, horizon=1):
        self.horizon = horizon

    def _forecast(self, y):
        return np.repeat({expression}, self.horizon)
"""


def _import_edited(directory: Path, expression: str) -> type[LocalForecaster]:
    (directory / "edited_model.py").write_text(MODEL_SOURCE.format(expression=expression))
    sys.modules.pop("edited_model", None)
    importlib.invalidate_caches()
    module = importlib.import_module("edited_model")
    return module.Edited  # type: ignore[no-any-return]


def test_editing_model_code_invalidates_checkpoint(
    air: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    monkeypatch.delitem(sys.modules, "edited_model", raising=False)
    before = run(air, tmp_path / "ckpt", _import_edited(tmp_path, "y[-1]")(horizon=12))
    after = run(air, tmp_path / "ckpt", _import_edited(tmp_path, "y[-1] + 1.0")(horizon=12))
    mine, again = (r.forecasts[r.forecasts["model"] == "Edited"]["y_hat"] for r in (before, after))
    np.testing.assert_array_equal(again, mine + 1.0)
    sys.modules.pop("edited_model")


def test_changing_a_model_parameter_invalidates_checkpoint(air: pd.DataFrame, tmp_path: Path) -> None:
    before = run(air, tmp_path, LastValue(horizon=12))
    after = run(air, tmp_path, LastValue(horizon=12, offset=1.0))
    mine = before.forecasts[before.forecasts["model"] == "LastValue"]["y_hat"]
    again = after.forecasts[after.forecasts["model"] == "LastValue(offset=1.0)"]["y_hat"]
    np.testing.assert_array_equal(again, mine + 1.0)


def test_package_version_is_part_of_the_key(air: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run(air, tmp_path)
    real = _task_cache._version
    monkeypatch.setattr(_task_cache, "_version", lambda name: "99.0" if name == "tsforecast" else real(name))
    FITS.clear()
    _, messages = rerun_recording_warnings(air, tmp_path)
    assert len(FITS) == 2  # nothing reused from the other version, and nothing to warn about
    assert messages == []


def test_resume_reuses_every_intact_checkpoint_and_gives_the_same_result(tmp_path: Path) -> None:
    panel = tsf.load_dataset("uk_lung_deaths")
    late = panel[(panel["unique_id"] == "fdeaths") & (panel["ds"] >= "1978-06-01")]
    df = pd.concat([panel[panel["unique_id"] == "mdeaths"], late], ignore_index=True)
    cv = tsf.WalkForward(3, 6)
    fresh = tsf.backtest(LastValue(horizon=6), df, cv, baselines=("seasonal_naive",))
    tsf.backtest(LastValue(horizon=6), df, cv, baselines=("seasonal_naive",), checkpoint=tmp_path)
    FITS.clear()
    resumed = tsf.backtest(LastValue(horizon=6), df, cv, baselines=("seasonal_naive",), checkpoint=tmp_path)
    assert FITS == []
    pd.testing.assert_frame_equal(resumed.forecasts, fresh.forecasts, check_exact=True)
    pd.testing.assert_frame_equal(resumed.skipped, fresh.skipped, check_exact=True)
    assert len(fresh.skipped)  # the comparison covers skipped series


def test_sgd_training_log_round_trips_exactly(air: pd.DataFrame, tmp_path: Path) -> None:
    model = tsf.SGDForecaster(lookback=24, horizon=12, epochs=2, seed=0)
    first = tsf.backtest(model, air, tsf.WalkForward(2, 12), baselines=(), checkpoint=tmp_path)
    second = tsf.backtest(model, air, tsf.WalkForward(2, 12), baselines=(), checkpoint=tmp_path)
    assert len(first.training)
    pd.testing.assert_frame_equal(second.training, first.training, check_exact=True)
    pd.testing.assert_frame_equal(second.forecasts, first.forecasts, check_exact=True)


def test_frames_round_trip_exactly_through_a_checkpoint_file() -> None:
    frame = pd.DataFrame(
        {
            "unique_id": pd.Series(["a", "é\x00", "", None], dtype="str"),
            "ds": pd.to_datetime(["2020-01-01", None, "2020-03-01", "1677-09-22"]).as_unit("us"),
            "local": pd.date_range("2020-03-29", periods=4, freq="h", tz="Europe/Paris"),
            "fold": np.array([0, 1, -(2**62), 3], dtype=np.int64),
            "y": [np.nan, -0.0, np.inf, 1e-300],
            "flag": [True, False, True, False],
            "text": pd.Series(["x", None, "y", "x"], dtype=object),
            "step": pd.to_timedelta([1, 2, None, 4], unit="D"),
        }
    )
    empty = frame.iloc[:0]
    frames = {"forecasts": frame, "training": None, "skipped": empty}
    restored = _task_cache.decode(_task_cache.encode("k" * 64, frames), "k" * 64, tuple(frames))
    assert restored["training"] is None
    for name in ("forecasts", "skipped"):
        pd.testing.assert_frame_equal(restored[name], frames[name].reset_index(drop=True), check_exact=True)


def test_unstorable_training_log_is_not_checkpointed_with_one_warning(air: pd.DataFrame, tmp_path: Path) -> None:
    with pytest.warns(UserWarning, match=r"2 task result\(s\) were not checkpointed.*'note' of dtype object"):
        run(air, tmp_path / "ckpt", Annotated(horizon=12))
    assert model_files(air, tmp_path / "ckpt") == []  # only the reference seasonal naive's were stored


def test_concurrent_runs_sharing_a_checkpoint_directory_agree(air: pd.DataFrame, tmp_path: Path) -> None:
    fresh = tsf.backtest(LastValue(horizon=12), air, tsf.WalkForward(4, 12), baselines=())
    with ThreadPoolExecutor(2) as pool:
        runs = list(
            pool.map(
                lambda _: tsf.backtest(
                    LastValue(horizon=12), air, tsf.WalkForward(4, 12), baselines=(), checkpoint=tmp_path
                ),
                range(2),
            )
        )
    for result in runs:
        pd.testing.assert_frame_equal(result.forecasts, fresh.forecasts)
    assert [p.name for p in tmp_path.rglob("*") if p.is_file() and p.suffix != ".tsfc"] == []  # no temp files left
    FITS.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every stored file is intact
        again = tsf.backtest(LastValue(horizon=12), air, tsf.WalkForward(4, 12), baselines=(), checkpoint=tmp_path)
    assert FITS == []
    pd.testing.assert_frame_equal(again.forecasts, fresh.forecasts)


def test_model_code_hashes_source_and_names_versioned_packages() -> None:
    dynamic = type("Dynamic", (LastValue,), {})  # no source file holds its definition
    described = _task_cache.model_code(dynamic(horizon=12)).split("; ")
    assert described[0].startswith(f"{__name__}.Dynamic code sha256:")  # its namespace's code objects and values
    other = type("Dynamic", (LastValue,), {"_forecast": lambda self, y: y[-self.horizon :]})
    assert _task_cache.model_code(other(horizon=12)).split("; ")[0] != described[0]
    assert described[1].startswith(f"{__name__}.LastValue sha256:")
    assert any(d.startswith("tsforecast.models.forecaster.LocalForecaster sha256:") for d in described)
    sklearn = f"sklearn.base.BaseEstimator of scikit-learn {_task_cache._version('scikit-learn')}"
    assert sklearn in described


def test_model_code_covers_every_module_of_tsforecast() -> None:
    # A change to a helper a model calls (not only to the model's class) must invalidate its checkpoints.
    root = Path(_task_cache.__file__).parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    assert {"models/sgd/training_data.py", "models/smoothing.py", "metrics.py"} <= {
        path.relative_to(root).as_posix() for path in root.rglob("*.py")
    }
    for model in (LastValue(horizon=12), tsf.SGDForecaster(horizon=12)):
        assert _task_cache.model_code(model).endswith(f"; tsforecast code sha256:{digest.hexdigest()}")


# ------------------------------------------------------------------------ forgeries and keys ---- #


def forge(path: Path, *, secret: bytes | None = None, change: float = 100.0) -> None:
    """Rewrite the checkpoint at ``path`` with its forecasts moved by ``change``, sealed as ``encode`` seals files."""
    data = path.read_bytes()
    header = json.loads(data.partition(b"\n")[0])
    frames = _task_cache.decode(data, header["key"], tuple(header["frames"]), secret)
    assert frames["forecasts"] is not None
    frames["forecasts"]["y_hat"] += change
    path.write_bytes(_task_cache.encode(header["key"], frames, secret))


def test_without_a_key_a_forged_file_with_a_recomputed_digest_is_used_but_not_its_actuals(
    air: pd.DataFrame, tmp_path: Path
) -> None:
    # Documented: a digest stops damage, not a deliberate forgery. Only forecasts come from the file.
    first = run(air, tmp_path / "ckpt")
    path = model_files(air, tmp_path / "ckpt")[0]
    forge(path)
    FITS.clear()
    second, messages = rerun_recording_warnings(air, tmp_path / "ckpt")
    assert (FITS, messages) == ([], [])
    moved = (second.forecasts["y_hat"] - first.forecasts["y_hat"]).to_numpy()
    assert sorted(set(moved)) == [0.0, 100.0]  # one task's forecasts are the forged ones
    for column in ("unique_id", "ds", "cutoff", "fold", "model", "y"):  # from the data, never from the file
        pd.testing.assert_series_equal(second.forecasts[column], first.forecasts[column])


@pytest.mark.parametrize("sealed_with", [None, b"another key"], ids=["plain-digest", "other-key"])
def test_with_a_key_a_forged_file_is_refused_and_recomputed(
    air: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sealed_with: bytes | None
) -> None:
    monkeypatch.setenv("TSFORECAST_KEY", "s3cret")
    first = run(air, tmp_path / "ckpt")
    path = model_files(air, tmp_path / "ckpt")[0]
    assert b'"hmac-sha256"' in path.read_bytes().partition(b"\n")[0]
    header = json.loads(path.read_bytes().partition(b"\n")[0])
    frames = _task_cache.decode(path.read_bytes(), header["key"], tuple(header["frames"]), b"s3cret")
    assert frames["forecasts"] is not None
    frames["forecasts"]["y_hat"] += 100.0
    path.write_bytes(_task_cache.encode(header["key"], frames, sealed_with))  # a well-formed file, digest recomputed
    FITS.clear()
    second, messages = rerun_recording_warnings(air, tmp_path / "ckpt")
    assert len(messages) == 1
    assert f"{path.name} (fails its HMAC-SHA256 under the key (TSFORECAST_KEY)" in messages[0]
    assert len(FITS) == 1
    pd.testing.assert_frame_equal(second.forecasts, first.forecasts)


def test_without_a_key_a_file_sealed_with_one_is_recomputed(
    air: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TSFORECAST_KEY", "s3cret")
    first = run(air, tmp_path)
    monkeypatch.delenv("TSFORECAST_KEY")
    FITS.clear()
    second, messages = rerun_recording_warnings(air, tmp_path)
    assert len(messages) == 1
    assert "authenticated with a key; set TSFORECAST_KEY or TSFORECAST_KEY_FILE to reuse it" in messages[0]
    assert len(FITS) == 2
    pd.testing.assert_frame_equal(second.forecasts, first.forecasts)


def test_a_key_file_outside_the_directory_authenticates_and_one_inside_is_refused(
    air: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "key").write_text("s3cret\n")
    monkeypatch.setenv("TSFORECAST_KEY_FILE", str(tmp_path / "key"))
    run(air, tmp_path / "ckpt")
    path = model_files(air, tmp_path / "ckpt")[0]
    header = json.loads(path.read_bytes().partition(b"\n")[0])
    assert _task_cache.decode(path.read_bytes(), header["key"], tuple(header["frames"]), b"s3cret")  # the file's text
    (tmp_path / "ckpt" / "key").write_text("s3cret\n")
    monkeypatch.setenv("TSFORECAST_KEY_FILE", str(tmp_path / "ckpt" / "key"))
    with pytest.raises(
        tsf.DataError, match=r"^The key file .* lies inside .*ckpt'.*; move it outside that directory\.$"
    ):
        run(air, tmp_path / "ckpt")
    monkeypatch.setenv("TSFORECAST_KEY", "s3cret")
    with pytest.raises(tsf.DataError, match="Both TSFORECAST_KEY and TSFORECAST_KEY_FILE are set"):
        run(air, tmp_path / "ckpt")


def test_a_symlink_to_a_forged_file_is_never_read(air: pd.DataFrame, tmp_path: Path) -> None:
    first = run(air, tmp_path / "ckpt")
    path = model_files(air, tmp_path / "ckpt")[0]
    forged = tmp_path / "forged.tsfc"
    forged.write_bytes(path.read_bytes())
    forge(forged)  # a valid file with a recomputed digest, which would be used in place
    path.unlink()
    path.symlink_to(forged)
    FITS.clear()
    second, messages = rerun_recording_warnings(air, tmp_path / "ckpt")
    assert len(messages) == 1
    assert f"{path.name} (a symbolic link, never followed)" in messages[0]
    assert len(FITS) == 1
    pd.testing.assert_frame_equal(second.forecasts, first.forecasts)
    assert not path.is_symlink()  # replaced by the recomputed file; the link's target is untouched
    FITS.clear()
    assert rerun_recording_warnings(air, tmp_path / "ckpt")[1] == []
    assert FITS == []


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_pipe_or_a_directory_in_place_of_a_file_is_never_read(air: pd.DataFrame, tmp_path: Path) -> None:
    first = run(air, tmp_path / "ckpt")
    pipe, folder = model_files(air, tmp_path / "ckpt")
    pipe.unlink()
    os.mkfifo(pipe)  # opening it for reading the ordinary way would block forever
    folder.unlink()
    folder.mkdir()
    FITS.clear()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        second = run(air, tmp_path / "ckpt")
    messages = [str(w.message) for w in caught]
    assert f"{pipe.name} (not a regular file, never read)" in messages[0]
    assert f"{folder.name} (not a regular file, never read)" in messages[0]
    assert "1 task result(s) were not checkpointed" in messages[1]  # the directory cannot be replaced by a file
    assert len(FITS) == 2
    pd.testing.assert_frame_equal(second.forecasts, first.forecasts)


def _rewritten(path: Path, edit: Callable[[pd.DataFrame], pd.DataFrame]) -> None:
    """Rewrite the checkpoint at ``path`` with ``edit`` applied to its forecasts, under a valid digest."""
    data = path.read_bytes()
    header = json.loads(data.partition(b"\n")[0])
    frames = _task_cache.decode(data, header["key"], tuple(header["frames"]))
    assert frames["forecasts"] is not None
    path.write_bytes(_task_cache.encode(header["key"], {**frames, "forecasts": edit(frames["forecasts"])}))


@pytest.mark.parametrize(
    "edit",
    [
        lambda f: f.iloc[:-1],
        lambda f: pd.concat([f, f.tail(1).assign(fit=7)], ignore_index=True),
        lambda f: f.assign(fit=f["fit"].astype("float64")),
        lambda f: f.assign(y_hat=f["y_hat"].astype("str")),
        lambda f: f.drop(columns="fit"),
    ],
    ids=["row-missing", "row-of-another-fit", "fit-not-integer", "forecasts-as-text", "no-fit-column"],
)
def test_a_file_whose_rows_do_not_match_the_plan_is_recomputed(
    air: pd.DataFrame, tmp_path: Path, edit: Callable[[pd.DataFrame], pd.DataFrame]
) -> None:
    first = run(air, tmp_path / "ckpt")
    path = model_files(air, tmp_path / "ckpt")[0]
    _rewritten(path, edit)
    FITS.clear()
    second, messages = rerun_recording_warnings(air, tmp_path / "ckpt")
    assert len(messages) == 1
    assert f"{path.name} (its forecasts do not match the task's requests)" in messages[0]
    assert len(FITS) == 1
    pd.testing.assert_frame_equal(second.forecasts, first.forecasts)


def test_a_model_with_a_parameter_that_cannot_be_pickled_is_not_checkpointed(air: pd.DataFrame, tmp_path: Path) -> None:
    model = Mapped(horizon=12, transform=lambda y: y + 1.0)
    with pytest.warns(UserWarning, match=r"2 task result\(s\) were not checkpointed.*cannot be pickled"):
        tsf.backtest(model, air, tsf.WalkForward(2, 12), baselines=(), checkpoint=tmp_path / "ckpt")
    assert model_files(air, tmp_path / "ckpt") == []


def test_a_key_file_with_a_hard_link_or_not_a_regular_file_is_refused(
    air: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "ckpt").mkdir()
    (tmp_path / "ckpt" / "planted").write_text("s3cret\n")
    os.link(tmp_path / "ckpt" / "planted", tmp_path / "key")  # outside by name, the same file as one inside
    monkeypatch.setenv("TSFORECAST_KEY_FILE", str(tmp_path / "key"))
    with pytest.raises(tsf.DataError, match=r"^The key file .* has 2 hard links; one could lie inside .*ckpt'"):
        run(air, tmp_path / "ckpt")
    monkeypatch.setenv("TSFORECAST_KEY_FILE", str(tmp_path))
    with pytest.raises(tsf.DataError, match=r"^The key file .* is not a regular file"):
        run(air, tmp_path / "ckpt")


def test_a_checkpoint_file_over_the_size_bound_is_recomputed_unread(
    air: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = run(air, tmp_path / "ckpt")
    FITS.clear()
    monkeypatch.setattr(_task_cache, "MAX_FILE_BYTES", 10)
    with pytest.warns(UserWarning, match=r"could not be reused.*\(larger than 10 bytes, never read\)"):
        second = run(air, tmp_path / "ckpt")
    assert len(FITS) == 2
    pd.testing.assert_frame_equal(second.forecasts, first.forecasts)


USERS_RUN = """
import json, sys, warnings
import tsforecast as tsf
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    res = tsf.backtest("naive", tsf.load_dataset("air_passengers"), tsf.WalkForward(2, 12), baselines=(),
                       checkpoint=sys.argv[1])
print(json.dumps({"y_hat": res.forecasts.query("model == 'naive'")["y_hat"].tolist(),
                  "warnings": [str(w.message) for w in caught]}))
"""


def test_a_file_forged_between_two_runs_of_a_users_script_is_refused_under_the_key(tmp_path: Path) -> None:
    import subprocess

    script = tmp_path / "run.py"
    script.write_text(USERS_RUN)
    env = {**os.environ, "TSFORECAST_KEY": "s3cret", "PYTHONPATH": str(Path(tsf.__file__).resolve().parents[1])}
    env.pop("TSFORECAST_KEY_FILE", None)

    def run_script() -> dict[str, Any]:
        done = subprocess.run(
            [sys.executable, str(script), str(tmp_path / "ckpt")], capture_output=True, text=True, env=env, timeout=300
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]

    clean = run_script()
    files = sorted((tmp_path / "ckpt").rglob("*.tsfc"))
    assert files
    for path in files:  # the forger has no key: a plain digest, recomputed
        header = json.loads(path.read_bytes().partition(b"\n")[0])
        frames = _task_cache.decode(path.read_bytes(), header["key"], tuple(header["frames"]), b"s3cret")
        assert frames["forecasts"] is not None
        frames["forecasts"]["y_hat"] += 100.0
        path.write_bytes(_task_cache.encode(header["key"], frames))
    again = run_script()
    assert again["y_hat"] == clean["y_hat"]  # recomputed, never the forged forecasts
    assert any("HMAC" in message for message in again["warnings"]), again["warnings"]
