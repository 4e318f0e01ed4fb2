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
        r"known_future column 'x' is \(nearly\) a linear function of y at the same time \(corr of prewhitened "
        r"differences 1\.000 at lag 0; a driver that determines y almost exactly looks the same\): over the 7-step "
        r"horizon it holds values of y after the cutoff; declare it past_only or drop it",
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
    with pytest.raises(
        tsf.LeakageError, match="known_future column 'x' is \\(nearly\\) a linear function of y at the same time"
    ):
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


@pytest.mark.parametrize("part", ["after", "before"])
def test_the_screen_reads_the_whole_frame_a_lead_on_either_side_of_the_first_cutoff_is_refused(
    elec: pd.DataFrame, part: str
) -> None:
    cut = len(elec) - 5 * 7
    walk = np.random.default_rng(1).normal(size=len(elec)).cumsum()
    leak = elec["y"].shift(-1).ffill().to_numpy()
    after = np.arange(len(elec)) >= cut
    df = elec.assign(x=np.where(after if part == "after" else ~after, leak, walk))
    rows = "after the first cutoff" if part == "after" else "up to the first cutoff"
    pattern = "past_only column 'x' is \\(nearly\\) a linear function of y 1 step later in series 'elecdaily' "
    pattern += f"\\(its rows {rows}"
    with pytest.raises(tsf.LeakageError, match=pattern):
        tsf.backtest("naive", df, CV, covariates=declare({"past_only": ["x"]}))


def monthly(lengths: list[int], seed: int = 0) -> pd.DataFrame:
    """Monthly random walks with a yearly cycle, one series per length."""
    rng = np.random.default_rng(seed)
    frames = [
        pd.DataFrame(
            {
                "unique_id": f"s{k}",
                "ds": pd.date_range("2000-01-01", periods=n, freq="MS"),
                "y": 100 + np.cumsum(rng.normal(0, 3, n)) + 10 * np.sin(2 * np.pi * np.arange(n) / 12),
            }
        )
        for k, n in enumerate(lengths)
    ]
    return pd.concat(frames, ignore_index=True)


def test_a_copy_in_a_series_too_short_for_the_correlation_checks_is_refused_by_the_exact_check() -> None:
    df = monthly([40])
    df["x"] = 3 * df["y"] + 7
    with pytest.raises(
        tsf.LeakageError,
        match=r"known_future column 'x' is \(nearly\) a linear function of y at the same time in series 's0' \(all "
        r"its rows: corr 1\.0000 of values, 1\.0000 of differences\): over the 12-step horizon it holds values of y "
        r"after the cutoff \(a driver that determines y almost exactly looks the same\); declare it past_only",
    ):
        tsf.backtest("naive", df, tsf.WalkForward(2, 12), covariates=tsf.Covariates(known_future=["x"]))


def test_a_column_too_short_for_even_the_exact_check_is_named_in_one_warning() -> None:
    df = monthly([15])
    df["x"] = np.random.default_rng(5).normal(size=len(df))
    with pytest.warns(tsf.LeakageWarning) as caught:
        tsf.backtest("naive", df, tsf.WalkForward(1, 12), covariates=tsf.Covariates(known_future=["x"]))
    [text] = [str(w.message) for w in caught if issubclass(w.category, tsf.LeakageWarning)]
    assert text == (
        "Covariate screen: known_future column 'x' was not (fully) screened in 1 of 1 series (e.g. 's0': 15 rows, "
        "fewer than the 20 that the exact check at lags 0..11 and leads 1..12 needs): a copy of y there would pass; "
        "check it by hand or drop it."
    )


@pytest.mark.parametrize("copies", [1, 3])
def test_a_copy_of_y_in_some_series_of_a_panel_is_refused_naming_one(copies: int) -> None:
    df = monthly([144] * 10, seed=1)
    honest = np.random.default_rng(2).normal(20, 5, len(df))
    df["x"] = np.where(df["unique_id"].isin([f"s{k}" for k in range(copies)]), df["y"], honest)
    with pytest.raises(
        tsf.LeakageError,
        match=r"known_future column 'x' is \(nearly\) a linear function of y at the same time in series 's0'",
    ):
        tsf.backtest("naive", df, tsf.WalkForward(3, 12), covariates=tsf.Covariates(known_future=["x"]))


def test_the_audit_screens_once_on_the_clean_data_and_passes_an_honest_run(
    elec: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tsforecast._plan as plan

    screened: list[str] = []

    def counted(*args: Any, **kwargs: Any) -> Any:
        screened.append(args[3].screen)
        return screen(*args, **kwargs)

    screen = plan.screen_covariates
    monkeypatch.setattr(plan, "screen_covariates", counted)
    report = tsf.audit_leakage("naive", elec, CV, covariates=tsf.Covariates(**ELEC), fresh_process=False)
    assert report.status == "passed"
    assert screened[0] == "refuse"
    assert set(screened[1:]) == {"off"}  # the perturbed reruns do not screen
    assert len(screened) > 1


def test_near_copies_of_y_declared_known_future_are_flagged(elec: pd.DataFrame) -> None:
    noise = np.random.default_rng(0).normal(0, 0.3 * elec["y"].diff().std(), len(elec))
    for column, values in (("noisy", elec["y"] + noise), ("logged", np.log(elec["y"]))):
        df = elec.assign(**{column: values})
        with pytest.warns(tsf.LeakageWarning) as caught:
            tsf.backtest("naive", df, CV, covariates=declare({"known_future": [column]}))
        [text] = [str(w.message) for w in caught if issubclass(w.category, tsf.LeakageWarning)]
        assert text.startswith(
            f"Covariate screen: known_future column {column!r} nearly tracks y at the same time in series 'elecdaily' "
            "(corr 0.9"
        )
        assert "it may hold values of y after the cutoff (a driver that determines y almost exactly looks the" in text


@pytest.mark.parametrize(
    ("statistic", "name"),
    [
        (lambda v: round(v.mean(), 2), "mean"),
        (lambda v: v.median(), "median"),
        (lambda v: v.max(), "max"),
        (lambda v: v.iloc[-12:].mean(), "mean of the last 12 rows"),
    ],
)
def test_a_static_column_near_a_whole_series_statistic_is_flagged(statistic: Any, name: str) -> None:
    df = monthly([144] * 6)
    df["x"] = df.groupby("unique_id")["y"].transform(statistic)
    with pytest.warns(tsf.LeakageWarning, match=f"static column 'x' is within 0.02 sd of y of the series' {name} of y"):
        tsf.backtest("naive", df, tsf.WalkForward(3, 12), covariates=tsf.Covariates(static=["x"]))


def test_a_static_whole_series_mean_in_all_series_but_one_is_flagged() -> None:
    df = monthly([144] * 6)
    training = df.groupby("unique_id")["y"].transform(lambda v: v.iloc[:108].mean())
    df["x"] = df.groupby("unique_id")["y"].transform("mean").where(df["unique_id"] != "s0", training)
    with pytest.warns(
        tsf.LeakageWarning,
        match=r"static column 'x' is within .* mean of y over the whole series.* in \d of the \d series",
    ):
        tsf.backtest("naive", df, tsf.WalkForward(3, 12), covariates=tsf.Covariates(static=["x"]))


def test_fit_does_not_screen(elec: pd.DataFrame) -> None:
    df = elec.assign(x=elec["y"].to_numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("error", tsf.LeakageWarning)
        small().fit(df, covariates=declare({"known_future": ["x"]}))  # the screen runs where scores are produced


def test_an_honest_driver_that_determines_y_is_refused_with_the_driver_caveat_and_the_escape() -> None:
    rng = np.random.default_rng(0)
    ds = pd.date_range("2020-01-01", periods=3 * 365, freq="D")
    workday = (ds.day_of_week < 5).astype(float)
    df = pd.DataFrame({"unique_id": "office", "ds": ds, "y": 100 + 50 * workday + rng.normal(0, 0.5, len(ds))})
    df["WorkDay"] = workday
    with pytest.raises(tsf.LeakageError) as caught:
        tsf.backtest("naive", df, tsf.WalkForward(3, 14), covariates=tsf.Covariates(known_future=["WorkDay"]))
    text = str(caught.value)
    assert "known_future column 'WorkDay' is (nearly) a linear function of y at the same time" in text
    assert "a driver that determines y almost exactly looks the same" in text
    assert "copy" not in text
    assert text.endswith("(or, if it is truly available, tsf.Covariates(..., screen='warn')).")


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
    assert "false-alarm rate, honest cases: 0/34 = 0.000 (refused 0, warned 0)" in out
    assert "flag rate, honest by design: 6/6 = 1.000 (refused 2, warned 4)" in out
    assert "catch rate, exact leaks: 36/36 = 1.000 (refused 36, warned 0)" in out
    assert "catch rate, near leaks: 22/28 = 0.786 (refused 1, warned 21)" in out
