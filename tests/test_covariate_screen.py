"""The covariate leak screen: leaky declared columns refused or flagged before any fit, honest ones pass."""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import tsforecast as tsf
from tsforecast import cli
from tsforecast.models.sgd import SGDForecaster

CV = tsf.WalkForward(5, 7)
ELEC = {"known_future": ["WorkDay"], "past_only": ["Temperature"]}


@pytest.fixture
def elec() -> pd.DataFrame:
    return tsf.load_dataset("elecdaily")


@pytest.fixture
def never_fitted(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any SGD fit fails the test: the screen must answer before one."""

    def fail(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a model was fitted before the screen answered")

    monkeypatch.setattr(SGDForecaster, "fit_forecast", fail)


def small() -> tsf.SGDForecaster:
    return tsf.SGDForecaster(lookback=14, horizon=7, season=7, family="drift", scales=(1.0,), epochs=2)


def declare(extra: dict[str, list[str]], **options: Any) -> tsf.Covariates:
    """The shipped declaration of elecdaily plus ``extra`` columns."""
    merged = {kind: [*ELEC.get(kind, []), *extra.get(kind, [])] for kind in ("known_future", "past_only", "static")}
    return tsf.Covariates(**merged, **options)


def centred_mean(y: pd.Series) -> np.ndarray:
    return y.rolling(7, center=True, min_periods=1).mean().to_numpy()


# The cases of the issue, each on elecdaily next to its honest WorkDay and Temperature.
LEAKS = [
    pytest.param(
        "known_future",
        lambda y: y.to_numpy(),
        r"known_future column 'x' is a copy of y \(corr of prewhitened differences 1\.000 at lag 0\): over the "
        r"7-step horizon it holds values of y after the cutoff; declare it past_only or drop it",
        id="known_future copy",
    ),
    pytest.param(
        "known_future",
        centred_mean,
        r"known_future column 'x' is a function of y that reads values after t \(y at t-7\.\.t\+7 explains 100\.0% "
        r"of its prewhitened differences, y at t-7\.\.t only \d+\.\d%",
        id="known_future centred rolling mean",
    ),
    pytest.param(
        "known_future",
        lambda y: y.shift(-2).ffill().to_numpy(),
        r"known_future column 'x' tracks y 2 steps ahead \(corr of prewhitened differences 1\.000 at lead 2",
        id="known_future lead",
    ),
    pytest.param(
        "known_future",
        lambda y: y.shift(3).bfill().to_numpy(),
        r"known_future column 'x' holds y 3 steps earlier \(corr of prewhitened differences 1\.000 at lag 3\)",
        id="known_future lag shorter than the horizon",
    ),
    pytest.param(
        "past_only",
        lambda y: y.shift(-1).ffill().to_numpy(),
        r"past_only column 'x' tracks y one step ahead \(corr of prewhitened differences 1\.000 at lead 1, "
        r"-?0\.\d\d at lag 0\): it holds future values of y; drop it, or shift it",
        id="past_only next step",
    ),
    pytest.param(
        "past_only",
        centred_mean,
        r"past_only column 'x' is a function of y that reads values after t",
        id="past_only centred rolling mean",
    ),
    pytest.param(
        "static",
        lambda y: np.full(len(y), y.mean()),
        r"static column 'x' equals each series' mean of y over the whole series, rows after the first cutoff "
        r"included \(e\.g\. 2\d\d\.\d+; over the rows before it 2\d\d\.\d+\)",
        id="static whole-series mean",
    ),
]


@pytest.mark.parametrize(("kind", "make", "pattern"), LEAKS)
def test_a_leaky_covariate_is_refused_in_one_line_before_any_fit(
    elec: pd.DataFrame, never_fitted: None, kind: str, make: Any, pattern: str
) -> None:
    df = elec.assign(x=make(elec["y"]))
    with pytest.raises(tsf.LeakageError, match=r"^Covariate screen: " + pattern) as caught:
        tsf.backtest(small(), df, CV, covariates=declare({kind: ["x"]}))
    message = str(caught.value)
    assert "\n" not in message
    assert message.endswith("(or, if it is truly available, tsf.Covariates(..., screen='warn')).")


def test_the_audit_screens_too(elec: pd.DataFrame, never_fitted: None) -> None:
    df = elec.assign(x=elec["y"].to_numpy())
    with pytest.raises(tsf.LeakageError, match="known_future column 'x' is a copy of y"):
        tsf.audit_leakage(small(), df, CV, covariates=declare({"known_future": ["x"]}))


@pytest.mark.parametrize("statistic", ["sum", "last"])
def test_a_static_column_holding_another_whole_series_statistic_is_refused(statistic: str) -> None:
    rng = np.random.default_rng(0)
    frames = [
        pd.DataFrame({"unique_id": uid, "ds": pd.date_range("2021-01-01", periods=120), "y": rng.normal(size=120)})
        for uid in "abc"
    ]
    df = pd.concat(frames, ignore_index=True)
    df["x"] = df.groupby("unique_id")["y"].transform(statistic)
    with pytest.raises(tsf.LeakageError, match=f"static column 'x' equals each series' {statistic} of y"):
        tsf.backtest("naive", df, CV, covariates=tsf.Covariates(static=["x"]))


def test_a_noisy_lead_is_flagged_with_a_one_line_warning_and_the_backtest_runs(elec: pd.DataFrame) -> None:
    noise = np.random.default_rng(0).normal(0, 0.25 * elec["y"].diff().std(), len(elec))
    df = elec.assign(x=elec["y"].shift(-1).ffill() + noise)
    with pytest.warns(tsf.LeakageWarning) as caught:
        res = tsf.backtest("naive", df, CV, covariates=declare({"past_only": ["x"]}))
    [warning] = [w for w in caught if issubclass(w.category, tsf.LeakageWarning)]
    text = str(warning.message)
    assert text.startswith("Covariate screen: past_only column 'x' tracks y one step ahead (corr of prewhitened")
    assert "it may hold future values of y" in text
    assert "\n" not in text
    assert warning.filename == __file__  # attributed to the caller's line
    assert len(res.forecasts)


def _honest(elec: pd.DataFrame) -> tuple[pd.DataFrame, tsf.Covariates]:
    """elecdaily's covariates, the user's own calendar columns, random walks, a lagged y and a honest static."""
    rng = np.random.default_rng(0)
    y = elec["y"]
    df = elec.assign(
        weekend=(elec["ds"].dt.day_of_week >= 5).astype(float),
        walk_kf=rng.normal(size=len(elec)).cumsum(),
        walk_po=rng.normal(size=len(elec)).cumsum(),
        y_lag1=y.shift(1).bfill(),
        y_lag7=y.shift(7).bfill(),
        y_trailing=y.rolling(7, min_periods=1).mean(),
        train_mean=y.iloc[: len(y) - 35].mean(),
    )
    extra = {
        "known_future": ["weekend", "walk_kf", "y_lag7"],
        "past_only": ["walk_po", "y_lag1", "y_trailing"],
        "static": ["train_mean"],
    }
    return df, declare(extra, calendar=("dayofweek", "month"))


def test_honest_covariates_pass_without_a_warning(elec: pd.DataFrame) -> None:
    df, cov = _honest(elec)
    with warnings.catch_warnings():
        warnings.simplefilter("error", tsf.LeakageWarning)
        tsf.backtest("naive", df, CV, covariates=cov)
        tsf.backtest("naive", elec, tsf.WalkForward(3, 14), covariates=tsf.Covariates(**ELEC))


def test_the_correlation_checks_read_only_the_rows_up_to_the_first_cutoff(elec: pd.DataFrame) -> None:
    cut = len(elec) - 5 * 7
    walk = np.random.default_rng(1).normal(size=len(elec)).cumsum()
    leak = elec["y"].shift(-1).ffill().to_numpy()
    before = np.arange(len(elec)) < cut
    after_only = elec.assign(x=np.where(before, walk, leak))  # next step's y in the test rows only: not seen
    with warnings.catch_warnings():
        warnings.simplefilter("error", tsf.LeakageWarning)
        tsf.backtest("naive", after_only, CV, covariates=declare({"past_only": ["x"]}))
    before_only = elec.assign(x=np.where(before, leak, walk))
    with pytest.raises(tsf.LeakageError, match="tracks y one step ahead"):
        tsf.backtest("naive", before_only, CV, covariates=declare({"past_only": ["x"]}))


def test_screen_warn_turns_a_refusal_into_a_warning_and_off_skips_it(elec: pd.DataFrame) -> None:
    df = elec.assign(x=elec["y"].shift(-1).ffill())
    with pytest.warns(tsf.LeakageWarning, match="past_only column 'x' tracks y one step ahead.*it holds future"):
        res = tsf.backtest("naive", df, CV, covariates=declare({"past_only": ["x"]}, screen="warn"))
    assert len(res.forecasts)
    with warnings.catch_warnings():
        warnings.simplefilter("error", tsf.LeakageWarning)
        tsf.backtest("naive", df, CV, covariates=declare({"past_only": ["x"]}, screen="off"))
    assert declare({}, screen="off") == declare({})  # the screen is not part of the declaration's identity


def test_a_bad_screen_setting_is_refused() -> None:
    with pytest.raises(tsf.DataError, match=r"Covariates\(screen='strict'\) is not one of 'refuse', 'warn', 'off'"):
        tsf.Covariates(past_only=["x"], screen="strict")


def test_the_cli_refuses_a_leaky_column_in_one_line_with_exit_2(
    elec: pd.DataFrame, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "elec.csv"
    elec.assign(next_y=elec["y"].shift(-1).ffill()).to_csv(data, index=False)
    argv = ["backtest", str(data), "--horizon", "7", "--model", "naive", "--known-future", "WorkDay",
            "--past-only", "Temperature,next_y", "--no-audit", "-q"]  # fmt: skip
    status = cli.main([*argv, "--out", str(tmp_path / "refused")])
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1
    assert err.startswith(
        "tsforecast backtest: error: Covariate screen: past_only column 'next_y' tracks y one step ahead"
    )
    assert err.rstrip().endswith("(or, if it is truly available, --covariate-screen warn).")
    assert not (tmp_path / "refused").exists()
    with pytest.warns(tsf.LeakageWarning, match="'next_y' tracks y one step ahead"):
        assert cli.main([*argv, "--out", str(tmp_path / "warned"), "--covariate-screen", "warn"]) == 0
    assert cli.main(["backtest", "elecdaily", "--horizon", "7", "--covariate-screen", "off", "--out", "x"]) == 2
    assert "--covariate-screen off has no effect without covariate columns" in capsys.readouterr().err


USER_SCRIPT = """
import tsforecast as tsf

df = tsf.load_dataset("elecdaily")
df["next_y"] = df["y"].shift(-1).ffill()   # tomorrow's demand, by mistake
cov = tsf.Covariates(known_future=["WorkDay"], past_only=["Temperature", "next_y"])
model = tsf.SGDForecaster(lookback=14, horizon=7, epochs=2)
res = tsf.backtest(model, df, tsf.WalkForward(5, 7), covariates=cov)
print(res.summary())
"""


def test_a_users_script_with_a_leaky_covariate_stops_with_the_screens_error(tmp_path: Path) -> None:
    script = tmp_path / "user_script.py"
    script.write_text(USER_SCRIPT)
    package = str(Path(tsf.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([package, os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 1
    assert done.stdout == ""  # stopped before any fit or result
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(
        "tsforecast.errors.LeakageError: Covariate screen: past_only column 'next_y' tracks y one step ahead "
        "(corr of prewhitened differences 1.000 at lead 1"
    )


def test_the_measurement_script_prints_its_rates(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    script = Path(__file__).resolve().parents[1] / "scripts" / "measure_covariate_screen.py"
    monkeypatch.setattr(sys, "argv", [script.name, "--trials", "2"])
    runpy.run_path(str(script), run_name="__main__")
    out = capsys.readouterr().out
    assert "false-alarm rate, honest cases: 0/32 = 0.000 (refused 0, warned 0)" in out
    assert "catch rate, exact leaks: 26/26 = 1.000 (refused 26, warned 0)" in out
