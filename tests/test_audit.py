"""The future-perturbation leakage audit: passes honest models, catches leaky ones, loses nothing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from leaky import Peeker

import tsforecast as tsf
from tsforecast.models import LocalForecaster

CALLS = {"n": 0}


class Failing(LocalForecaster):
    """Forecasts the last value, then fails on its fifth forecast (inside the audit's reruns)."""

    def __init__(self, horizon: int = 1) -> None:
        self.horizon = horizon

    def _forecast(self, y: np.ndarray) -> np.ndarray:
        CALLS["n"] += 1
        if CALLS["n"] == 5:
            raise RuntimeError("boom")
        return np.repeat(y[-1], self.horizon)


@pytest.fixture
def air() -> pd.DataFrame:
    return tsf.load_dataset("air_passengers")


def test_honest_models_pass(air: pd.DataFrame) -> None:
    audit = tsf.audit_leakage("theta", air, tsf.WalkForward(3, 12), baselines=("naive", "seasonal_naive"))
    assert audit.passed
    assert audit.folds["identical"].all()
    assert audit.folds["perturbation"].tolist() == ["noise", "constant", "reverse"]
    assert audit.perturbed == ("y",)


def test_a_model_peeking_at_the_full_series_fails(air: pd.DataFrame) -> None:
    audit = tsf.audit_leakage(Peeker(horizon=12, data=air), air, tsf.WalkForward(3, 12))
    assert not audit.passed
    assert (audit.folds["max_abs_diff"] > 0).all()


def test_exhaustive_audit_runs_every_perturbation_on_every_fold(air: pd.DataFrame) -> None:
    audit = tsf.audit_leakage("naive", air, tsf.WalkForward(2, 12), exhaustive=True)
    assert len(audit.folds) == 2 * 3
    assert audit.passed


def test_the_data_are_restored_exactly_even_when_a_rerun_fails() -> None:
    df = tsf.load_dataset("air_passengers")
    before = df.copy(deep=True)
    with pytest.raises(RuntimeError, match="boom"):
        tsf.audit_leakage(Failing(horizon=12), df, tsf.WalkForward(3, 12))
    pd.testing.assert_frame_equal(df, before)


def test_unknown_perturbation_is_refused(air: pd.DataFrame) -> None:
    with pytest.raises(tsf.DataError, match=r"perturbations must be a non-empty selection of .*got \('shift',\)"):
        tsf.audit_leakage("naive", air, tsf.WalkForward(2, 12), perturbations=("shift",))


def test_backtest_records_the_audit_verdict(air: pd.DataFrame) -> None:
    honest = tsf.backtest("naive", air, tsf.WalkForward(2, 12), audit=True)
    assert honest.audit is not None
    assert honest.audit.passed
    assert honest.to_json()["audit"]["passed"] is True
    leaky = tsf.backtest(Peeker(horizon=12, data=air), air, tsf.WalkForward(2, 12), audit=True)
    assert leaky.audit is not None
    assert not leaky.audit.passed
    assert leaky.to_json()["audit"]["passed"] is False


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
    audit = tsf.audit_leakage(BUILT_IN[0], df, cv, baselines=BUILT_IN[1:], season=12, exhaustive=True)
    assert audit.passed, audit.folds


def test_arima_passes_the_audit(air: pd.DataFrame) -> None:
    short = air.iloc[:60]
    assert tsf.audit_leakage("arima", short, tsf.WalkForward(1, 6), season=12, exhaustive=True).passed
