"""A checkpoint is reused only for the same computation: a user's script edits its helper or an array parameter."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tsforecast import _task_cache

ROOT = Path(__file__).resolve().parents[1]

HELPERS = """
def offset(weights):
    return float(weights.sum())
"""

MODEL = """
import numpy as np
from tsforecast.models import LocalForecaster

import helpers

FITS = []


class Shifted(LocalForecaster):
    def __init__(self, horizon=1, weights=None):
        self.horizon = horizon
        self.weights = weights

    def _fit(self, frame):
        FITS.append(1)

    def _forecast(self, y):
        return np.repeat(y[-1] + helpers.offset(self.weights), self.horizon)
"""

SCRIPT = """
import json
import sys
import warnings

import numpy as np
import tsforecast as tsf

import model

weights = np.zeros(2000)
weights[1000] = float(sys.argv[2])  # NOTE: in the middle, where numpy's repr elides it: [0., 0., ..., 0.]
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    result = tsf.backtest(
        model.Shifted(horizon=12, weights=weights),
        tsf.load_dataset("air_passengers"),
        tsf.WalkForward(2, 12),
        baselines=(),
        checkpoint=sys.argv[1],
    )
print(json.dumps({
    "fits": len(model.FITS),
    "y_hat": result.forecasts.query("model != 'seasonal_naive'")["y_hat"].tolist(),
    "warnings": [str(w.message) for w in caught],
}))
"""


def _python(args: list[str], directory: Path, path: list[Path], source: str | None = None) -> dict[str, Any]:
    """Run ``python args`` (a script, or ``-`` reading ``source``) as a user would, keyless; its last line as JSON."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(map(str, path)), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("TSFORECAST_KEY", None)
    env.pop("TSFORECAST_KEY_FILE", None)
    done = subprocess.run(
        [sys.executable, *args], input=source, capture_output=True, text=True, env=env, cwd=directory, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _run(directory: Path, weight: float) -> dict[str, Any]:
    script = [str(directory / "script.py"), str(directory / "ckpt"), str(weight)]
    return _python(script, directory, [directory, ROOT])


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "helpers.py").write_text(HELPERS)
    (tmp_path / "model.py").write_text(MODEL)
    (tmp_path / "script.py").write_text(SCRIPT)
    return tmp_path


def test_a_rerun_reuses_and_an_edited_helper_recomputes(project: Path) -> None:
    first = _run(project, 0.0)
    assert (first["fits"], len(first["y_hat"])) == (2, 24)  # one fit per fold of 12 steps
    again = _run(project, 0.0)
    assert (again["fits"], again["warnings"], again["y_hat"]) == (0, [], first["y_hat"])  # reused, unchanged
    # the model's class is untouched: only the helper its method calls, in another module of the user, changes
    (project / "helpers.py").write_text(HELPERS.replace("weights.sum())", "weights.sum()) + 1.0"))
    edited = _run(project, 0.0)
    assert edited["fits"] == 2
    np.testing.assert_array_equal(np.array(edited["y_hat"]), np.array(first["y_hat"]) + 1.0)


def test_an_array_parameter_changed_where_its_repr_elides_it_recomputes(project: Path) -> None:
    first = _run(project, 0.0)
    assert repr(np.zeros(2000)) == repr(np.where(np.arange(2000) == 1000, 2.0, 0.0))  # the old key's blind spot
    changed = _run(project, 2.0)
    assert changed["fits"] == 2
    np.testing.assert_array_equal(np.array(changed["y_hat"]), np.array(first["y_hat"]) + 2.0)
    assert _run(project, 2.0)["fits"] == 0


def test_params_digest_is_exact_and_refuses_what_it_cannot_hash() -> None:
    zeros, one = np.zeros(2000), np.zeros(2000)
    one[1000] = 1.0
    assert _task_cache.params_digest({"w": zeros}) == _task_cache.params_digest({"w": np.zeros(2000)})
    assert _task_cache.params_digest({"w": zeros}) != _task_cache.params_digest({"w": one})
    assert _task_cache.params_digest({"f": lambda y: y}) is None  # no exact digest: never a shared key


STDIN_SCRIPT = """
import json
import sys

import numpy as np
import tsforecast as tsf
from tsforecast.models import LocalForecaster

FITS = []


class Typed(LocalForecaster):  # no file holds this class: it is read from stdin, as in a REPL or a notebook
    def __init__(self, horizon=1):
        self.horizon = horizon

    def _fit(self, frame):
        FITS.append(1)

    def _forecast(self, y):
        return np.repeat(y[-1] * MULTIPLIER, self.horizon)


result = tsf.backtest(Typed(horizon=12), tsf.load_dataset("air_passengers"), tsf.WalkForward(2, 12), baselines=(),
                      checkpoint=sys.argv[1])
mine = result.forecasts.query("model != 'seasonal_naive'")
print(json.dumps({"fits": len(FITS), "y_hat": mine["y_hat"].tolist()}))
"""


def _run_stdin(directory: Path, source: str) -> dict[str, Any]:
    return _python(["-", str(directory / "ckpt")], directory, [ROOT], source)


def test_a_model_typed_without_a_source_file_is_keyed_on_its_code(tmp_path: Path) -> None:
    once = STDIN_SCRIPT.replace("y[-1] * MULTIPLIER", "y[-1] * 1.0")
    first = _run_stdin(tmp_path, once)
    assert first["fits"] == 2
    assert _run_stdin(tmp_path, once)["fits"] == 0  # the same code typed again: reused
    edited = _run_stdin(tmp_path, STDIN_SCRIPT.replace("y[-1] * MULTIPLIER", "y[-1] * 2.0"))
    assert edited["fits"] == 2  # its method's code changed: recomputed, never the stale result
    np.testing.assert_array_equal(np.array(edited["y_hat"]), 2.0 * np.array(first["y_hat"]))


READER = """
import numpy as np
from tsforecast.models import LocalForecaster

from config import FACTOR

SCALE = 1.0
FITS = []


class Reader(LocalForecaster):
    def __init__(self, horizon=1):
        self.horizon = horizon

    def _fit(self, frame):
        FITS.append(1)

    def _forecast(self, y):
        import lazy  # imported only when the first forecast is made, after the checkpoint key was computed

        return np.repeat(y[-1] * FACTOR * SCALE + lazy.shift(), self.horizon)
"""

READER_SCRIPT = """
import json
import sys

import tsforecast as tsf

import reader

reader.SCALE = float(sys.argv[2])  # a module global set at run time
result = tsf.backtest(reader.Reader(horizon=12), tsf.load_dataset("air_passengers"), tsf.WalkForward(2, 12),
                      baselines=(), checkpoint=sys.argv[1])
mine = result.forecasts.query("model != 'seasonal_naive'")
print(json.dumps({"fits": len(reader.FITS), "y_hat": mine["y_hat"].tolist()}))
"""


def test_module_values_constants_and_lazy_imports_the_model_reads_are_in_the_key(tmp_path: Path) -> None:
    (tmp_path / "reader.py").write_text(READER)
    (tmp_path / "config.py").write_text("FACTOR = 1.0\n")
    (tmp_path / "lazy.py").write_text("def shift():\n    return 0.0\n")
    (tmp_path / "script.py").write_text(READER_SCRIPT)
    first = _run(tmp_path, 1.0)
    y_hat = np.array(first["y_hat"])
    assert (first["fits"], _run(tmp_path, 1.0)["fits"]) == (2, 0)  # reused while nothing changes
    scaled = _run(tmp_path, 2.0)  # reader.SCALE = 2.0, set by the script, not in any file
    assert scaled["fits"] == 2
    np.testing.assert_array_equal(np.array(scaled["y_hat"]), 2.0 * y_hat)
    (tmp_path / "config.py").write_text("FACTOR = 3.0\n")  # a constant imported with `from config import FACTOR`
    factor = _run(tmp_path, 1.0)
    assert factor["fits"] == 2
    np.testing.assert_array_equal(np.array(factor["y_hat"]), 3.0 * y_hat)
    (tmp_path / "lazy.py").write_text("def shift():\n    return 5.0\n")  # a module imported inside the method
    lazy = _run(tmp_path, 1.0)
    assert lazy["fits"] == 2
    np.testing.assert_array_equal(np.array(lazy["y_hat"]), 3.0 * y_hat + 5.0)


def test_attributes_set_after_construction_are_in_the_key() -> None:
    plain, extra, fitted = _Holder(), _Holder(), _Holder()
    extra.extra = 2.0  # type: ignore[attr-defined]
    fitted.level_ = np.ones(3)  # type: ignore[attr-defined]  # fitted: left out
    assert _task_cache.attributes_digest(plain) == _task_cache.attributes_digest(fitted)
    assert _task_cache.attributes_digest(plain) != _task_cache.attributes_digest(extra)
    extra.extra = lambda y: y  # type: ignore[attr-defined]
    with pytest.raises(_task_cache.Uncheckpointable, match="the attribute 'extra' of the model cannot be pickled"):
        _task_cache.attributes_digest(extra)


class _Holder:
    def __init__(self) -> None:
        self.horizon = 12
