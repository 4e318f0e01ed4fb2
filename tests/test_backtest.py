"""Backtest engine: forecasts, scores, splitter checks, refit policy, engines, checkpoints."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import mean_absolute_error, mean_squared_error
from sklearn.model_selection import KFold, ShuffleSplit, TimeSeriesSplit

import tsforecast as tsf
from tsforecast.audit import AuditOptions
from tsforecast.models import LocalForecaster

FITS: list[tuple[str, object]] = []


class Recorder(LocalForecaster):
    """Forecasts the last value and records every fit (series id and last timestamp)."""

    def __init__(self, horizon: int = 1) -> None:
        self.horizon = horizon

    def _fit(self, frame: pd.DataFrame) -> None:
        FITS.append((str(frame["unique_id"].iloc[0]), frame["ds"].max()))

    def _forecast(self, y: np.ndarray) -> np.ndarray:
        return np.repeat(y[-1], self.horizon)


class Exploding(LocalForecaster):
    """Fails on fit: proves a check ran before anything was fitted."""

    def __init__(self, horizon: int = 1) -> None:
        self.horizon = horizon

    def _fit(self, frame: pd.DataFrame) -> None:
        raise AssertionError("fitted")


INTERRUPT = {"after": 10**9}


class Interrupted(Recorder):
    """Stops the run (like Ctrl-C) when fitted on more rows than ``INTERRUPT["after"]``."""

    def _fit(self, frame: pd.DataFrame) -> None:
        if len(frame) > INTERRUPT["after"]:
            raise KeyboardInterrupt
        super()._fit(frame)


@pytest.fixture
def air() -> pd.DataFrame:
    return tsf.load_dataset("air_passengers")


@pytest.fixture(autouse=True)
def _clear_fits() -> None:
    FITS.clear()


def test_seasonal_naive_forecasts_match_hand_computed_values(air: pd.DataFrame) -> None:
    res = tsf.backtest("seasonal_naive", air, tsf.WalkForward(3, 12), baselines=())
    y = air["y"].to_numpy()
    for k, fold in enumerate(res.forecasts.groupby("fold")):
        _, part = fold
        start = len(y) - 12 * (3 - k)
        np.testing.assert_array_equal(part["y_hat"].to_numpy(), y[start - 12 : start])
        np.testing.assert_array_equal(part["y"].to_numpy(), y[start : start + 12])
        assert (part["ds"] > part["cutoff"]).all()


def test_forecast_frame_has_one_row_per_point_and_the_documented_columns(air: pd.DataFrame) -> None:
    res = tsf.backtest(Recorder(horizon=12), air, tsf.WalkForward(4, 12))
    assert list(res.forecasts.columns) == ["unique_id", "ds", "cutoff", "fold", "model", "y", "y_hat"]
    assert len(res.forecasts) == 3 * 4 * 12
    assert res.forecasts["model"].unique().tolist() == ["Recorder", "naive", "seasonal_naive"]


def test_metrics_agree_with_scikit_learn(air: pd.DataFrame) -> None:
    res = tsf.backtest("naive", air, tsf.WalkForward(2, 12), baselines=())
    for (model, fold), part in res.forecasts.groupby(["model", "fold"]):
        row = res.metrics[(res.metrics["model"] == model) & (res.metrics["fold"] == fold)].iloc[0]
        assert row["mae"] == pytest.approx(mean_absolute_error(part["y"], part["y_hat"]))
        assert row["rmse"] == pytest.approx(np.sqrt(mean_squared_error(part["y"], part["y_hat"])))
        train = air["y"].to_numpy()[: len(air) - 12 * (2 - fold)]
        scale = np.mean(np.abs(train[12:] - train[:-12]))
        assert row["mase"] == pytest.approx(row["mae"] / scale)


def test_summary_puts_the_best_model_first_and_relates_mase_to_seasonal_naive(air: pd.DataFrame) -> None:
    summary = tsf.backtest("naive", air, tsf.WalkForward(3, 12)).summary()
    assert summary.index[0] == "seasonal_naive"
    assert summary.loc["seasonal_naive", "mase_vs_seasonal_naive"] == 1.0
    assert summary["mase"].is_monotonic_increasing


def test_summary_does_not_skip_nan_scores(air: pd.DataFrame) -> None:
    res = tsf.backtest("naive", air, tsf.WalkForward(2, 12), baselines=())
    broken = res.metrics.copy()
    broken.loc[0, "mase"] = np.nan
    summary = tsf.BacktestResult(**{**res.__dict__, "metrics": broken}).summary()
    assert np.isnan(summary.loc["naive", "mase"])


def test_metrics_by_horizon_has_one_row_per_model_and_step(air: pd.DataFrame) -> None:
    by_step = tsf.backtest("naive", air, tsf.WalkForward(2, 12), baselines=()).metrics_by_horizon()
    assert by_step["model"].unique().tolist() == ["naive", "seasonal_naive"]
    by_step = by_step[by_step["model"] == "naive"]
    assert by_step["step"].tolist() == list(range(1, 13))
    assert (by_step["mae"].diff().dropna() != 0).any()


def test_season_is_inferred_from_the_frequency(air: pd.DataFrame) -> None:
    res = tsf.backtest("seasonal_naive", air, tsf.WalkForward(1, 12), baselines=())
    assert res.settings["season"] == 12
    quarterly = tsf.backtest("seasonal_naive", tsf.load_dataset("ausbeer"), tsf.WalkForward(1, 4), baselines=())
    assert quarterly.settings["season"] == 4


@pytest.mark.parametrize(
    ("cv", "error", "match"),
    [
        (KFold(3, shuffle=True, random_state=0), tsf.ShuffleError, "shuffle=True"),
        (ShuffleSplit(3, random_state=0), tsf.ShuffleError, "ShuffleSplit shuffles"),
        (KFold(3), tsf.LeakageError, "Fold 0 of KFold trains on positions at or after"),
    ],
)
def test_non_temporal_splitters_are_refused_before_anything_is_fitted(
    air: pd.DataFrame, cv: object, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        tsf.backtest(Exploding(), air, cv, baselines=())


def test_scikit_learn_time_series_split_is_accepted(air: pd.DataFrame) -> None:
    res = tsf.backtest("naive", air, TimeSeriesSplit(3, test_size=12), baselines=())
    expected = tsf.backtest("naive", air, tsf.WalkForward(3, 12), baselines=())
    pd.testing.assert_frame_equal(res.forecasts, expected.forecasts)


class EmptyFolds:
    def split(self, X: object, y: object = None, groups: object = None):
        yield np.arange(10), np.array([], dtype=int)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"model": "etz"}, tsf.DataError, "Unknown model 'etz'. Did you mean 'ets'"),
        ({"season": 0}, tsf.DataError, "The 'season' parameter of backtest must be an int in the range"),
        ({"engine": "spark"}, tsf.DataError, "The 'engine' parameter of backtest must be one of"),
        ({"refit": 0}, tsf.DataError, "The 'refit' parameter of backtest"),
        (
            {"model": tsf.Naive(horizon=6)},
            tsf.DataError,
            r"Naive\(horizon=6\) forecasts 6 step\(s\), but the folds test up to 12 .* Set horizon=12 on the model",
        ),
        (
            {"model": tsf.Naive(horizon=24)},
            tsf.DataError,
            r"Naive\(horizon=24\) forecasts 24 step\(s\), but the folds test up to 12",
        ),
        ({"model": object()}, tsf.DataTypeError, "Expected a model name or a tsforecast Forecaster, got object"),
        ({"cv": tsf.WalkForward(20, 12)}, tsf.DataError, "at least 241 are required"),
        ({"cv": EmptyFolds()}, tsf.DataError, "Fold 0 of EmptyFolds has an empty test part"),
    ],
)
def test_bad_arguments_raise_clear_errors(air: pd.DataFrame, kwargs: dict, error: type, match: str) -> None:
    args = {"model": "naive", "cv": tsf.WalkForward(2, 12), **kwargs}
    with pytest.raises(error, match=match):
        tsf.backtest(args.pop("model"), air, args.pop("cv"), baselines=(), **args)


@pytest.mark.parametrize(("refit", "fitted_folds"), [(True, [0, 1, 2, 3]), (2, [0, 2]), (False, [0])])
def test_refit_policy_decides_which_folds_fit(air: pd.DataFrame, refit: bool | int, fitted_folds: list[int]) -> None:
    res = tsf.backtest(Recorder(horizon=12), air, tsf.WalkForward(4, 12), baselines=(), refit=refit)
    cutoffs = sorted(res.forecasts["cutoff"].unique())
    assert [c for _, c in FITS] == [cutoffs[k] for k in fitted_folds]
    # Between refits the model forecasts from the longer history: the last value before each cutoff.
    last_values = res.forecasts.groupby("fold")["y_hat"].first().to_numpy()
    expected = [air.loc[air["ds"] == c, "y"].item() for c in cutoffs]
    np.testing.assert_array_equal(last_values, expected)


def test_panel_series_without_history_are_skipped_and_listed() -> None:
    panel = tsf.load_dataset("uk_lung_deaths")
    late = panel[(panel["unique_id"] == "fdeaths") & (panel["ds"] >= "1978-06-01")]
    df = pd.concat([panel[panel["unique_id"] == "mdeaths"], late], ignore_index=True)
    res = tsf.backtest("naive", df, tsf.WalkForward(3, 6), baselines=())
    assert set(res.forecasts["unique_id"]) == {"mdeaths", "fdeaths"}
    skipped = res.skipped[res.skipped["unique_id"] == "fdeaths"]
    assert len(skipped) >= 1
    assert all(r == "no data before the cutoff" or r.startswith("too short for the model (") for r in skipped["reason"])


def test_a_series_too_short_for_a_model_is_skipped_for_that_model_only() -> None:
    panel = tsf.load_dataset("uk_lung_deaths")
    short = panel[(panel["unique_id"] == "fdeaths") & (panel["ds"] >= "1978-06-01")]
    df = pd.concat([panel[panel["unique_id"] == "mdeaths"], short], ignore_index=True)
    res = tsf.backtest("naive", df, tsf.WalkForward(2, 6), baselines=("seasonal_naive",))
    seasonal = res.forecasts[res.forecasts["model"] == "seasonal_naive"]
    assert "fdeaths" not in set(seasonal[seasonal["fold"] == 0]["unique_id"])
    assert "fdeaths" in set(res.forecasts[res.forecasts["model"] == "naive"]["unique_id"])
    assert ((res.skipped["model"] == "seasonal_naive") & (res.skipped["unique_id"] == "fdeaths")).any()


class LooksAhead(Recorder):
    """Claims to have seen data after the cutoff (fit-scope provenance)."""

    def _fit(self, frame: pd.DataFrame) -> None:
        self.last_seen_ = frame["ds"].max() + pd.DateOffset(months=1)


def test_a_model_that_saw_data_after_the_cutoff_is_refused(air: pd.DataFrame) -> None:
    with pytest.raises(tsf.LeakageError, match=r"was fitted on data up to 1959-01-01.*after the cutoff 1958-12-01"):
        tsf.backtest(LooksAhead(horizon=12), air, tsf.WalkForward(2, 12), baselines=())


def test_joblib_and_dask_engines_give_the_serial_result_exactly() -> None:
    from distributed import Client, LocalCluster

    df = tsf.load_dataset("arrivals")
    cv = tsf.WalkForward(3, 4)
    serial = tsf.backtest("theta", df, cv, baselines=("seasonal_naive",))
    parallel = tsf.backtest("theta", df, cv, baselines=("seasonal_naive",), engine="joblib", n_jobs=2)
    pd.testing.assert_frame_equal(serial.forecasts, parallel.forecasts)
    with (
        LocalCluster(n_workers=2, processes=False, dashboard_address=None) as cluster,  # in-process: no sockets
        Client(cluster),
    ):
        distributed = tsf.backtest("theta", df, cv, baselines=("seasonal_naive",), engine="dask")
    pd.testing.assert_frame_equal(serial.forecasts, distributed.forecasts)
    pd.testing.assert_frame_equal(serial.metrics, distributed.metrics)


def test_dask_engine_starts_a_loopback_cluster_when_there_is_no_client(
    air: pd.DataFrame, capfd: pytest.CaptureFixture[str]
) -> None:
    serial = tsf.backtest("naive", air, tsf.WalkForward(2, 12))
    capfd.readouterr()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        distributed = tsf.backtest("naive", air, tsf.WalkForward(2, 12), engine="dask", n_jobs=1, progress=False)
    assert ([str(w.message) for w in caught], capfd.readouterr().err) == ([], "")  # quiet start and shutdown
    pd.testing.assert_frame_equal(serial.forecasts, distributed.forecasts)


def test_checkpoint_keeps_finished_folds_of_an_interrupted_run(air: pd.DataFrame, tmp_path: Path) -> None:
    cv = tsf.WalkForward(4, 12)
    INTERRUPT["after"] = len(air) - 12 * 3  # folds 0 and 1 (96, 108 rows) fit; fold 2 (120 rows) is interrupted
    try:
        with pytest.raises(KeyboardInterrupt):
            tsf.backtest(Interrupted(horizon=12), air, cv, baselines=(), checkpoint=tmp_path)
    finally:
        INTERRUPT["after"] = 10**9
    assert len(FITS) == 2
    assert len(list(tmp_path.rglob("*.tsfc"))) == 2
    FITS.clear()
    resumed = tsf.backtest(Interrupted(horizon=12), air, cv, baselines=(), checkpoint=tmp_path)
    cutoffs = sorted(resumed.forecasts["cutoff"].unique())
    assert [c for _, c in FITS] == cutoffs[2:]  # only the unfinished folds were fitted
    fresh = tsf.backtest(Interrupted(horizon=12), air, cv, baselines=())
    pd.testing.assert_frame_equal(resumed.forecasts, fresh.forecasts)


def test_checkpoint_rerun_with_the_same_arguments_fits_nothing(air: pd.DataFrame, tmp_path: Path) -> None:
    first = tsf.backtest(Recorder(horizon=12), air, tsf.WalkForward(3, 12), baselines=(), checkpoint=tmp_path)
    FITS.clear()
    second = tsf.backtest(Recorder(horizon=12), air, tsf.WalkForward(3, 12), baselines=(), checkpoint=tmp_path)
    assert FITS == []
    pd.testing.assert_frame_equal(first.forecasts, second.forecasts)


def test_checkpoint_is_not_reused_when_data_or_settings_change(air: pd.DataFrame, tmp_path: Path) -> None:
    tsf.backtest(Recorder(horizon=12), air, tsf.WalkForward(3, 12), baselines=(), checkpoint=tmp_path)
    FITS.clear()
    changed = air.assign(y=air["y"] + 1.0)
    res = tsf.backtest(Recorder(horizon=12), changed, tsf.WalkForward(3, 12), baselines=(), checkpoint=tmp_path)
    assert len(FITS) == 3
    assert res.forecasts["y_hat"].iloc[0] == changed["y"].iloc[len(air) - 37]
    FITS.clear()
    tsf.backtest(Recorder(horizon=12), air, tsf.WalkForward(3, 12, gap=0, step=6), baselines=(), checkpoint=tmp_path)
    assert len(FITS) == 3


def test_save_writes_the_four_files_with_the_documented_summary(air: pd.DataFrame, tmp_path: Path) -> None:
    res = tsf.backtest("naive", air, tsf.WalkForward(2, 12), audit=AuditOptions(fresh_process=False))
    res.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["forecasts.csv", "metrics.csv", "report.html", "summary.json"]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["folds"] == 2
    assert summary["audit"]["passed"] is True
    assert set(summary["models"]) == {"naive", "seasonal_naive"}
    assert set(summary["models"]["naive"]) >= {"mae", "rmse", "mase", "smape"}
    assert len(pd.read_csv(tmp_path / "forecasts.csv")) == len(res.forecasts)


def test_backtest_does_not_modify_the_input_frame(air: pd.DataFrame) -> None:
    before = air.copy(deep=True)
    tsf.backtest("naive", air, tsf.WalkForward(2, 12), audit=AuditOptions(fresh_process=False))  # swaps in place
    pd.testing.assert_frame_equal(air, before)


def test_a_gap_leaves_steps_out_between_cutoff_and_test(air: pd.DataFrame) -> None:
    res = tsf.backtest("naive", air, tsf.WalkForward(2, 6, gap=3), baselines=())
    for _, part in res.forecasts[res.forecasts["model"] == "naive"].groupby("fold"):
        cutoff = part["cutoff"].iloc[0]
        assert part["ds"].min() == cutoff + pd.DateOffset(months=4)
        assert (part["y_hat"] == air.loc[air["ds"] == cutoff, "y"].item()).all()


def test_every_metric_row_equals_the_metrics_module_on_a_panel() -> None:
    df = tsf.load_dataset("arrivals")
    cv = tsf.WalkForward(3, 4)
    res = tsf.backtest("seasonal_naive", df, cv, baselines=("naive", "ets"))
    trains = {fold.index: fold.train for fold in cv.folds(df)}
    for (model, fold, uid), part in res.forecasts.groupby(["model", "fold", "unique_id"]):
        train = trains[fold][trains[fold]["unique_id"] == uid]["y"]
        expected = tsf.metrics.score(part["y"], part["y_hat"], y_train=train, season=4)
        row = res.metrics[
            (res.metrics["model"] == model) & (res.metrics["fold"] == fold) & (res.metrics["unique_id"] == uid)
        ]
        for name, value in expected.items():
            assert row[name].item() == pytest.approx(value, rel=1e-12)


def test_season_of_integer_timestamps_is_inferred_from_the_first_training_part() -> None:
    t = np.arange(120)
    frame = pd.DataFrame({"unique_id": "a", "ds": t, "y": 10 + np.sin(2 * np.pi * t / 12) + 0.01 * t})
    res = tsf.backtest("seasonal_naive", frame, tsf.WalkForward(2, 12), baselines=())
    assert res.settings["season"] == 12


def test_summary_puts_mase_first_and_prints_within_80_columns() -> None:
    res = tsf.backtest("ets", tsf.load_dataset("air_passengers"), tsf.WalkForward(2, 12))
    table = res.summary()
    assert list(table.columns[:2]) == ["mase", "mase_vs_seasonal_naive"]
    with pd.option_context("display.width", 80):
        text = str(table)
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "mase" in text.splitlines()[0]


CLOSED_FORM = ("naive", "seasonal_naive", "mean", "drift")


def _panel(n_series: int = 12, length: int = 70, *, ragged: bool = False, integer_time: bool = False) -> pd.DataFrame:
    """A seeded monthly (or integer-time) panel; ``ragged``: series start late or end early."""
    rng = np.random.default_rng(3)
    rows = []
    for i in range(n_series):
        start, stop = (5 * (i % 6), length - (7 if i == 1 else 0)) if ragged else (0, length)
        t = np.arange(start, stop)
        y = 100 + 10 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 3, len(t)).cumsum()
        ds = t if integer_time else pd.date_range("2000-01-01", periods=length, freq="MS")[t]
        rows.append(pd.DataFrame({"unique_id": f"s{i:02d}", "ds": ds, "y": y}))
    return pd.concat(rows, ignore_index=True)


def test_late_and_short_series_are_listed_with_their_reasons() -> None:
    res = tsf.backtest("seasonal_naive", _panel(ragged=True), tsf.WalkForward(6, 8), baselines=(), refit=2)
    reasons = set(res.skipped["reason"])
    assert "no data before the cutoff" in reasons
    assert any(r.startswith("too short for the model (") for r in reasons)
    assert any(r.startswith("not in the model fitted at fold") for r in reasons)


class Scattered:
    """Tests every other position: a temporal splitter whose test part is not contiguous."""

    def split(self, X: object, y: object = None, groups: object = None) -> list[tuple[np.ndarray, np.ndarray]]:
        return [(np.arange(0, 41), np.arange(42, 56, 2))]


def test_a_splitter_with_a_scattered_test_part_is_refused() -> None:
    with pytest.raises(tsf.DataError, match=r"Fold 0 of Scattered tests on positions that are not one contiguous span"):
        tsf.backtest("naive", _panel(3, 60), Scattered(), baselines=())


def test_a_grid_with_a_hole_is_cut_on_its_distinct_timestamps() -> None:
    frame = _panel(4, 40, integer_time=True)
    first = frame["unique_id"] == "s00"
    holed = frame[(first & (frame["ds"] < 20)) | (~first & (frame["ds"] > 22))]  # no series covers 20, 21, 22
    res = tsf.backtest("naive", holed, tsf.WalkForward(2, 4), baselines=(), season=1)
    naive = res.forecasts[res.forecasts["model"] == "naive"]
    for (_, uid), part in naive.groupby(["fold", "unique_id"]):
        history = holed[(holed["unique_id"] == uid) & (holed["ds"] <= part["cutoff"].iloc[0])]
        assert (part["y_hat"] == history["y"].iloc[-1]).all()
