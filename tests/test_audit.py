"""The future-perturbation leakage audit: passes honest models, catches leaky ones, never touches the data."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import leaky
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tsforecast as tsf
from tsforecast.audit import AuditOptions


@pytest.fixture
def air() -> pd.DataFrame:
    return tsf.load_dataset("air_passengers")


def perturbed(audit: tsf.AuditResult) -> pd.DataFrame:
    """The audit's rows of perturbed reruns (not the control reruns)."""
    return audit.folds[audit.folds["check"] != "control"].reset_index(drop=True)


def test_honest_models_pass(air: pd.DataFrame) -> None:
    audit = tsf.audit_leakage(
        "theta", air, tsf.WalkForward(3, 12), baselines=("naive", "seasonal_naive"), fresh_process=False
    )
    assert audit.passed
    assert audit.status == "passed"
    assert audit.folds["identical"].all()
    assert audit.folds["check"].tolist() == ["noise", "constant", "reverse"]  # no fold changed: no control needed
    assert audit.perturbed == ("y",)
    assert audit.notes == (
        "The reruns ran in this process (fresh_process=False): a peek memoised during the clean run goes unseen.",
    )


def test_honest_models_raise_no_false_alarm_in_a_fresh_process(air: pd.DataFrame) -> None:
    sgd = tsf.SGDForecaster(lookback=24, horizon=12, season=12, family="drift", scales=(1.0,), epochs=3)
    audit = tsf.audit_leakage(sgd, air, tsf.WalkForward(3, 12), baselines=("naive", "seasonal_naive", "ets"))
    assert audit.passed, audit.folds
    assert len(perturbed(audit)) == 3


def test_a_model_peeking_at_the_full_series_fails(air: pd.DataFrame) -> None:
    audit = tsf.audit_leakage(leaky.Peeker(horizon=12, data=air), air, tsf.WalkForward(3, 12), fresh_process=False)
    assert audit.status == "leak"
    assert audit.failed_folds() == [0, 1, 2]
    assert (perturbed(audit)["max_abs_diff"] > 0).all()


def _caught(model: tsf.models.LocalForecaster, air: pd.DataFrame, *, fresh_process: bool = False) -> pd.DataFrame:
    """The perturbed rows of an audit that must find a leak (the control reruns reproduced the reported forecasts)."""
    audit = tsf.audit_leakage(model, air, tsf.WalkForward(2, 12), fresh_process=fresh_process)
    assert audit.status == "leak", audit.folds
    assert audit.failed_folds("not reproducible") == []
    return perturbed(audit)


def test_audit_catches_model_reading_row_count_after_cutoff(air: pd.DataFrame) -> None:
    folds = _caught(leaky.RowCount(horizon=12, data=air), air)
    assert (folds["max_abs_diff"] == 1.0).all()  # one more row after the cutoff, whatever the values


def test_audit_catches_model_reading_last_timestamp_of_frame(air: pd.DataFrame) -> None:
    folds = _caught(leaky.LastTimestamp(horizon=12, data=air), air)
    assert (folds["max_abs_diff"] == 31.0).all()  # the frame now ends a month (31 days) later


def test_audit_catches_model_using_future_mean(air: pd.DataFrame) -> None:
    _caught(leaky.FutureMean(horizon=12, data=air), air)


def test_reverse_alone_catches_model_using_future_mean(air: pd.DataFrame) -> None:
    model = leaky.FutureMean(horizon=12, data=air)
    audit = tsf.audit_leakage(model, air, tsf.WalkForward(2, 12), perturbations=("reverse",), fresh_process=False)
    assert audit.status == "leak"
    assert (perturbed(audit)["max_abs_diff"] > 0).all()


@pytest.mark.parametrize("statistic", ["sum", "mean", "min", "max", "median", "std"])
def test_noise_changes_every_statistic_of_the_future(air: pd.DataFrame, statistic: str) -> None:
    model = leaky.FutureStatistic(horizon=12, data=air, statistic=statistic)
    audit = tsf.audit_leakage(model, air, tsf.WalkForward(3, 12), perturbations=("noise",), fresh_process=False)
    assert not perturbed(audit)["identical"].any()


def test_audit_catches_peek_through_lru_cache(air: pd.DataFrame) -> None:
    leaky.future_mean.cache_clear()
    folds = _caught(leaky.LruCachePeeker(horizon=12, data=air), air, fresh_process=True)
    assert leaky.future_mean.cache_info().hits == 0  # the reruns ran elsewhere, with their own (cold) caches
    assert (folds["max_abs_diff"] > 0).all()


def test_audit_catches_feature_cache_keyed_by_cutoff(air: pd.DataFrame) -> None:
    leaky.FEATURES.clear()
    folds = _caught(leaky.FeatureCachePeeker(horizon=12, data=air), air, fresh_process=True)
    assert len(leaky.FEATURES) == 2  # warm in this process: one entry per cutoff
    assert (folds["max_abs_diff"] > 0).all()


def test_an_in_process_audit_misses_a_warm_feature_cache(air: pd.DataFrame) -> None:
    leaky.FEATURES.clear()
    model = leaky.FeatureCachePeeker(horizon=12, data=air)
    tsf.backtest(model, air, tsf.WalkForward(2, 12), baselines=())
    # The documented limit of fresh_process=False: the reruns read what the clean run cached.
    assert tsf.audit_leakage(model, air, tsf.WalkForward(2, 12), fresh_process=False).passed


def _odd_frame() -> pd.DataFrame:
    air = tsf.load_dataset("air_passengers")
    df = pd.DataFrame(
        {"y": air["y"].astype("int64").to_numpy(), "ds": air["ds"].dt.strftime("%Y-%m").astype(object).to_numpy()},
        index=pd.Index([f"row{i}" for i in range(len(air))][::-1], name="label"),
    )
    df.attrs["source"] = "kept"
    return df


def test_audit_restores_frame_exactly_after_shape_change() -> None:
    fresh_process = False  # NOTE: in this process the models hold the caller's very frame: it must come back intact
    df = _odd_frame()
    before, index, columns = df.copy(deep=True), df.index, df.columns
    audit = tsf.audit_leakage(
        leaky.RowCount(horizon=12, data=df), df, tsf.WalkForward(2, 12), fresh_process=fresh_process
    )
    assert audit.status == "leak"  # the model did see a frame of another shape
    failing = leaky.PeekThenFail(horizon=12, data=df, rows=len(df))
    # A rerun that raises counts as changed (the clean control reproduces the report): a leak, with the error noted.
    raised = tsf.audit_leakage(failing, df, tsf.WalkForward(2, 12), fresh_process=fresh_process)
    assert raised.status == "leak"
    assert any(f"boom: the frame has {len(df) + 1} rows" in note for note in raised.notes)
    pd.testing.assert_frame_equal(df, before, check_exact=True)
    assert df.index is index
    assert df.columns is columns
    assert df.dtypes.tolist() == before.dtypes.tolist()
    assert df["y"].dtype == np.dtype("int64")
    assert df.attrs == {"source": "kept"}


def test_audit_handles_values_near_the_loaders_ceiling() -> None:
    # Values near 1e200 are refused at load (their squares overflow; see test_data); up to the
    # ceiling of 1e150 the audit's perturbations stay finite.
    t = np.arange(60)
    for level in (9e149, -9e149):
        y = level * (1 + 0.1 * np.sin(2 * np.pi * t / 12))
        df = tsf.from_pandas(pd.Series(y, index=pd.date_range("2000-01-01", periods=60, freq="MS")))
        cv = tsf.WalkForward(3, 6)
        honest = tsf.audit_leakage("seasonal_naive", df, cv, baselines=("naive",), exhaustive=True, fresh_process=False)
        assert honest.passed, honest.folds
        peeking = tsf.audit_leakage(leaky.Peeker(horizon=6, data=df), df, cv, exhaustive=True, fresh_process=False)
        assert peeking.status == "leak"
        diffs = perturbed(peeking)["max_abs_diff"].to_numpy()
        assert (diffs > 0).all()
        assert np.isfinite(diffs).all()  # the perturbed values were finite: no NaN or inf reached the model


def test_exhaustive_audit_runs_every_perturbation_on_every_fold(air: pd.DataFrame) -> None:
    audit = tsf.audit_leakage("naive", air, tsf.WalkForward(2, 12), exhaustive=True, fresh_process=False)
    assert len(perturbed(audit)) == 2 * 3
    assert audit.passed


def test_unknown_perturbation_is_refused(air: pd.DataFrame) -> None:
    with pytest.raises(tsf.DataError, match=r"perturbations must be a non-empty selection of .*got \('shift',\)"):
        tsf.audit_leakage("naive", air, tsf.WalkForward(2, 12), perturbations=("shift",))


def test_an_unpicklable_model_is_audited_in_this_process_with_a_note(air: pd.DataFrame) -> None:
    model = leaky.Peeker(horizon=12, data=air)
    model.lock = threading.Lock()  # type: ignore[attr-defined]
    audit = tsf.audit_leakage(model, air, tsf.WalkForward(2, 12))
    assert audit.status == "leak"  # still caught: the reruns swap the frame in copies of the model
    assert len(audit.notes) == 1
    assert "could not be serialised (TypeError: cannot pickle '_thread.lock' object)" in audit.notes[0]
    assert "ran in this process" in audit.notes[0]


def test_a_rerun_process_that_dies_ends_the_audit_with_a_note_and_keeps_the_results(air: pd.DataFrame) -> None:
    model = leaky.ExitWhenReshaped(horizon=12, data=air, rows=len(air))
    res = tsf.backtest(model, air, tsf.WalkForward(2, 12), baselines=(), audit=True)
    assert res.audit is not None
    assert res.audit.status == "not run"
    assert not res.audit.passed
    assert "stopped abruptly" in res.audit.notes[0]
    assert len(res.forecasts) == 48  # nothing lost


def test_a_model_that_peeks_on_its_first_calls_only_is_caught(air: pd.DataFrame) -> None:
    model = leaky.PeekFirstCalls(horizon=12, data=air, calls=3)
    in_process = AuditOptions(fresh_process=False)  # the snapshot alone restarts the count: no process needed
    res = tsf.backtest(model, air, tsf.WalkForward(3, 12), baselines=(), audit=in_process)
    assert res.summary().loc["PeekFirstCalls(data=<DataFrame>)", "mase"] == 0.0  # the reported forecasts peeked
    assert res.audit is not None
    assert res.audit.status == "leak"
    assert res.audit.failed_folds() == [0, 1, 2]


def test_unseeded_randomness_is_not_reproducible_never_a_leak(air: pd.DataFrame) -> None:
    audit = tsf.audit_leakage(leaky.Unseeded(horizon=12), air, tsf.WalkForward(2, 12), fresh_process=False)
    assert audit.status == "not reproducible"
    assert not audit.passed
    assert audit.failed_folds("not reproducible") == [0, 1]
    assert audit.failed_folds("leak") == []


def test_a_model_holding_a_column_of_the_frame_is_caught(air: pd.DataFrame) -> None:
    for fresh_process in (True, False):
        model = leaky.ColumnPeeker(horizon=12, column=air["y"])
        audit = tsf.audit_leakage(model, air, tsf.WalkForward(2, 12), fresh_process=fresh_process)
        assert audit.status == "leak", (fresh_process, audit.folds)


def test_backtest_records_the_audit_verdict(air: pd.DataFrame) -> None:
    in_process = AuditOptions(fresh_process=False)
    honest = tsf.backtest("naive", air, tsf.WalkForward(2, 12), audit=in_process)
    assert honest.audit is not None
    assert honest.audit.passed
    assert honest.to_json()["audit"]["passed"] is True
    assert honest.to_json()["audit"]["status"] == "passed"
    leaked = tsf.backtest(leaky.Peeker(horizon=12, data=air), air, tsf.WalkForward(2, 12), audit=in_process)
    assert leaked.audit is not None
    assert leaked.audit.status == "leak"
    assert leaked.to_json()["audit"] == {
        "passed": False,
        "status": "leak",
        "perturbations": ["noise", "constant"],
        "leaked_folds": [0, 1],
        "unreproduced_folds": [],
        "notes": [
            "The reruns ran in this process (fresh_process=False): a peek memoised during the clean run goes unseen."
        ],
    }


BUILT_IN = ("naive", "seasonal_naive", "mean", "drift", "ets", "theta")


@settings(max_examples=8, deadline=None, derandomize=True)
@given(
    n_splits=st.integers(1, 3),
    horizon=st.integers(1, 6),
    gap=st.integers(0, 2),
    step=st.integers(1, 6),
    sliding=st.booleans(),
    length=st.integers(40, 70),
    seed=st.integers(0, 2**16),
)
def test_perturbing_the_future_never_changes_a_built_in_forecast(
    n_splits: int, horizon: int, gap: int, step: int, sliding: bool, length: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    y = 50 + 0.3 * t + 8 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 2, length)
    df = tsf.from_pandas(pd.Series(y, index=pd.date_range("2000-01-01", periods=length, freq="MS")))
    window = {"window": "sliding", "train_size": 30} if sliding else {}
    cv = tsf.WalkForward(n_splits, horizon, step=step, gap=gap, **window)
    # NOTE: in process, for speed: built-in models keep no cache across runs.
    audit = tsf.audit_leakage(
        BUILT_IN[0], df, cv, baselines=BUILT_IN[1:], season=12, exhaustive=True, fresh_process=False
    )
    assert audit.passed, audit.folds


def test_arima_passes_the_audit(air: pd.DataFrame) -> None:
    short = air.iloc[:60]
    assert tsf.audit_leakage(
        "arima", short, tsf.WalkForward(1, 6), season=12, exhaustive=True, fresh_process=False
    ).passed


UNGUARDED_SCRIPT = """
import numpy as np
import tsforecast as tsf
from tsforecast.models import LocalForecaster

df = tsf.load_dataset("air_passengers")


class PeekAtTheEnd(LocalForecaster):  # defined in the script itself: it reaches the fresh process by value
    def __init__(self, horizon=1, data=None):
        self.horizon = horizon
        self.data = data

    def _forecast(self, y):
        return np.full(self.horizon, float(self.data["y"].iloc[-1]))


print(tsf.audit_leakage("naive", df, tsf.WalkForward(1, 12)).passed)
print(tsf.audit_leakage(PeekAtTheEnd(horizon=12, data=df), df, tsf.WalkForward(1, 12)).passed)
"""


def test_audit_in_an_unguarded_script_runs_and_catches_a_model_defined_there(tmp_path: Path) -> None:
    script = tmp_path / "quick_look.py"  # no `if __name__ == "__main__":` guard, as people write them
    script.write_text(UNGUARDED_SCRIPT)
    package = str(Path(tsf.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([package, os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "False"]


USER_SCRIPT_ATTACKS = """
import functools

import numpy as np
import tsforecast as tsf
from tsforecast.models import LocalForecaster

df = tsf.load_dataset("air_passengers")
FEATURES = {}


class MemoisedPeek(LocalForecaster):  # the tests' cache peeker, written in the user's script
    def __init__(self, horizon=1):
        self.horizon = horizon

    def _forecast(self, y):
        if len(y) not in FEATURES:
            FEATURES[len(y)] = float(df["y"].iloc[len(y):].mean())
        return np.full(self.horizon, FEATURES[len(y)])


class GlobalPeek(LocalForecaster):  # reads the script's global frame, holding no reference to it
    def __init__(self, horizon=1):
        self.horizon = horizon

    def _forecast(self, y):
        return np.full(self.horizon, float(df["y"].iloc[len(y):].max()))


@functools.lru_cache(maxsize=None)
def last_value(history):
    return history[-1]


class CachedHelper(LocalForecaster):  # honest, through an lru_cache helper of the script
    def __init__(self, horizon=1):
        self.horizon = horizon

    def _forecast(self, y):
        return np.full(self.horizon, last_value(tuple(y)))


cv = tsf.WalkForward(1, 12)  # one fold: one rerun process, and one for the control
for model in (MemoisedPeek(12), GlobalPeek(12), CachedHelper(12)):
    res = tsf.backtest(model, df, cv, baselines=(), audit=True)
    print(type(model).__name__, res.audit.status, len(res.audit.notes), len(res.forecasts))
"""


def test_attacks_written_in_a_users_own_script_are_caught(tmp_path: Path) -> None:
    script = tmp_path / "attacks.py"
    script.write_text(USER_SCRIPT_ATTACKS)
    package = str(Path(tsf.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([package, os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr
    lines = [line.split() for line in done.stdout.splitlines()]
    assert lines[0] == ["MemoisedPeek", "leak", "0", "24"]  # the snapshot's cache was empty: the reruns recompute
    assert lines[1] == ["GlobalPeek", "leak", "0", "24"]  # the script's global frame is the perturbed one in reruns
    # an lru_cache helper of a script cannot be rebuilt in a fresh process: audited here, with a note, nothing lost
    assert lines[2] == ["CachedHelper", "passed", "1", "24"]


VIEW_ATTACKS = """
import sys

import numpy as np
import tsforecast as tsf
from numpy.lib.stride_tricks import sliding_window_view
from tsforecast.models import LocalForecaster

import project_store  # the user's own module, holding the data the way some projects do

df = tsf.load_dataset("air_passengers")
y = df["y"].to_numpy()
project_store.DATA = df


class Oracle(LocalForecaster):
    '''Reads the exact next values out of whatever view of the target it holds.'''

    def __init__(self, horizon=1, held=None, how="plain"):
        self.horizon, self.held, self.how = horizon, held, how

    def _forecast(self, history):
        n, h, held = len(history), self.horizon, self.held
        if self.how == "lagged":  # the pair (y[:-1], y[1:]), as a lag-feature builder makes it
            return np.asarray(held[1][n - 1 : n - 1 + h], dtype=float)
        if self.how == "windows":  # sliding windows of 13 over the whole series
            return np.asarray(held[n - 12, 12 - h + 1 :][:h] if h == 1 else held[n - 1][1 : 1 + h], dtype=float)
        if self.how == "reshaped":  # the series as 12 columns
            return np.asarray(held.reshape(-1)[n : n + h], dtype=float)
        if self.how == "reversed":
            return np.asarray(held[::-1][n : n + h], dtype=float)
        if self.how == "indexed":  # a Series indexed by time, read by label
            return held.iloc[n : n + h].to_numpy(dtype=float)
        if self.how == "module":  # the frame kept in the user's own module
            return project_store.DATA["y"].to_numpy()[n : n + h].astype(float)
        return np.asarray(held[n : n + h], dtype=float)


cases = {
    "lagged": (y[:-1], y[1:]),
    "windows": sliding_window_view(y, 13),
    "reshaped": y.reshape(-1, 12),
    "reversed": y[::-1],
    "indexed": df.set_index("ds")["y"],
    "module": None,
}
for how, held in cases.items():
    res = tsf.backtest(Oracle(12, held, how), df, tsf.WalkForward(1, 12), baselines=(), audit=True, progress=False)
    mase = float(res.summary().loc[res.models[0], "mase"])
    print(how, res.audit.status, round(mase, 3))
"""


def test_views_of_the_target_held_in_a_users_script_are_perturbed_too(tmp_path: Path) -> None:
    (tmp_path / "project_store.py").write_text("DATA = None\n")
    script = tmp_path / "views.py"
    script.write_text(VIEW_ATTACKS)
    package = str(Path(tsf.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([package, str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr
    lines = {line.split()[0]: line.split()[1:] for line in done.stdout.splitlines()}
    for how in ("lagged", "windows", "reshaped", "reversed", "indexed"):
        assert lines[how] == ["leak", "0.0"], (how, lines[how])  # a perfect score, caught
    # The user's module is imported afresh in the rerun processes, without the data: every rerun fails, the
    # audit cannot judge, and says so; the backtest's results are kept.
    assert lines["module"] == ["not", "reproducible", "0.0"]


def test_an_unpicklable_model_holding_a_column_is_caught_in_process(air: pd.DataFrame) -> None:
    model = leaky.ColumnPeeker(horizon=12, column=air["y"])
    model.lock = threading.Lock()  # type: ignore[attr-defined]  # neither pickled nor deep-copied
    audit = tsf.audit_leakage(model, air, tsf.WalkForward(2, 12))
    assert audit.status == "leak"
    assert "could not be serialised" in audit.notes[0]


def test_a_view_that_cannot_be_rebuilt_makes_the_audit_incomplete(air: pd.DataFrame) -> None:
    reinterpreted = air["y"].to_numpy().view(np.int64)  # the column's bytes read as other numbers
    audit = tsf.audit_leakage(
        leaky.ColumnPeeker(horizon=12, column=reinterpreted), air, tsf.WalkForward(2, 12), fresh_process=False
    )
    assert audit.status == "incomplete"
    assert not audit.passed
    assert (
        "The models hold data the reruns could not perturb (a ndarray of shape (144,) viewing column 'y' as int64)"
        in (audit.notes[-1])
    )
