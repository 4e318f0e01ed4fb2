"""Task planning and engines: ragged panels under every refit policy, handover panels, Dask clusters."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import tsforecast as tsf
from tsforecast.models import LocalForecaster


class Refusing(LocalForecaster):
    """Raises its own DataError when fitted."""

    def __init__(self, horizon: int = 1) -> None:
        self.horizon = horizon

    def _fit(self, frame: pd.DataFrame) -> None:
        raise tsf.DataError("Refusing will not fit this series")


def monthly(name: str, start: int, stop: int) -> pd.DataFrame:
    """Series ``name`` over months ``start..stop`` (1 = 2000-01) of a shared calendar."""
    ds = pd.date_range("2000-01-01", periods=stop, freq="MS")[start - 1 :]
    return pd.DataFrame({"unique_id": name, "ds": ds, "y": np.arange(start, stop + 1, dtype="float64")})


@pytest.mark.parametrize("refit", [True, False, 2])
def test_ragged_panel_series_starting_after_first_cutoff_is_forecast_or_skipped(refit: bool | int) -> None:
    df = pd.concat([monthly("early", 1, 120), monthly("late", 100, 120)], ignore_index=True)
    res = tsf.backtest("naive", df, tsf.WalkForward(4, 6), baselines=(), refit=refit)  # cutoffs: months 96 ... 114
    forecast = set(res.forecasts[["unique_id", "fold"]].itertuples(index=False, name=None))
    skipped = {(row.unique_id, row.fold): row.reason for row in res.skipped.itertuples()}
    for fold in res.folds.itertuples():
        history = df[df["ds"] <= fold.cutoff]["unique_id"]
        tested = df[(df["ds"] > fold.cutoff) & (df["ds"] <= fold.test_end)]["unique_id"]
        for uid in set(history) & set(tested):
            assert ((uid, fold.fold) in forecast) != ((uid, fold.fold) in skipped), (uid, fold.fold)
    late = {fold: reason for (uid, fold), reason in skipped.items() if uid == "late"}
    not_fitted = "not in the model fitted at fold {}; use refit=True"
    expected = {
        True: {0: "no data before the cutoff"},
        False: {0: "no data before the cutoff", **{k: not_fitted.format(0) for k in (1, 2, 3)}},
        2: {0: "no data before the cutoff", 1: not_fitted.format(0)},
    }[refit]
    assert late == expected
    assert {fold for uid, fold in forecast if uid == "late"} == {1, 2, 3} - set(expected)


def test_handover_panel_new_series_starting_after_the_old_one_ends() -> None:
    df = pd.concat([monthly("old", 1, 96), monthly("new", 97, 120)], ignore_index=True)
    res = tsf.backtest("naive", df, tsf.WalkForward(2, 12), baselines=())  # cutoffs: months 96 and 108
    assert res.forecasts.groupby("fold")["unique_id"].unique().map(list).to_dict() == {1: ["new"]}
    np.testing.assert_array_equal(res.forecasts["y_hat"], np.full(12, 108.0))
    assert res.skipped[["fold", "unique_id", "reason"]].values.tolist() == [[0, "new", "no data before the cutoff"]]


def test_folds_without_any_forecastable_series_are_refused() -> None:
    df = pd.concat([monthly("old", 1, 96), monthly("new", 97, 120)], ignore_index=True)
    with pytest.raises(tsf.DataError, match=r"None of the 1 folds has a series with data both before .*: new\)\. Use"):
        tsf.backtest("naive", df.iloc[:-12], tsf.WalkForward(1, 12), baselines=())


def test_a_models_own_error_surfaces_through_the_dask_engine() -> None:
    from distributed import Client, LocalCluster

    air = tsf.load_dataset("air_passengers")
    with (
        LocalCluster(n_workers=1, processes=False, dashboard_address=None) as cluster,  # in-process: no sockets
        Client(cluster),
        pytest.raises(tsf.DataError, match="Refusing will not fit this series"),
    ):
        tsf.backtest(Refusing(horizon=12), air, tsf.WalkForward(2, 12), baselines=(), engine="dask")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"engine": "serial"}, r"A scheduler \('tcp://127.0.0.1:8786'\) .* engine is 'serial'\. Set engine= to 'dask'"),
        ({"engine": "dask", "scheduler": "nonsense"}, r"No Dask scheduler answered at 'nonsense' \(missing port"),
    ],
)
def test_scheduler_needs_the_dask_engine_and_a_valid_address(kwargs: dict, match: str) -> None:
    kwargs = {"scheduler": "tcp://127.0.0.1:8786", **kwargs}
    with pytest.raises(tsf.DataError, match=match):
        tsf.backtest("naive", tsf.load_dataset("air_passengers"), tsf.WalkForward(2, 12), baselines=(), **kwargs)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A dask scheduler with two single-threaded workers, as separate processes on 127.0.0.1.

    Yields the scheduler's address and the workers' working directory.
    """
    from distributed import Client

    root = tmp_path_factory.mktemp("cluster")
    (root / "workers").mkdir()
    file = root / "scheduler.json"
    package = str(Path(tsf.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([package, os.environ.get("PYTHONPATH", "")])}
    log = (root / "cluster.log").open("w")
    common = {"env": env, "stdout": log, "stderr": subprocess.STDOUT}
    scheduler_cmd = [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0"]
    worker_cmd = [sys.executable, "-m", "distributed.cli.dask_worker", "--nworkers", "1", "--nthreads", "1"]
    processes = [
        subprocess.Popen([*scheduler_cmd, "--scheduler-file", str(file), "--no-dashboard"], cwd=root, **common)
    ]
    try:
        deadline = time.monotonic() + 60
        while not file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        for _ in range(2):  # NOTE: workers run elsewhere: a checkpoint written by a worker would land there
            processes.append(
                subprocess.Popen(
                    [*worker_cmd, "--scheduler-file", str(file), "--no-dashboard", "--no-nanny"],
                    cwd=root / "workers",
                    **common,
                )
            )
        with Client(scheduler_file=str(file), set_as_default=False) as client:
            client.wait_for_workers(2, timeout=60)
            address = client.scheduler.address
        assert address.startswith("tcp://127.0.0.1:")
        yield address, root / "workers"
    finally:
        for process in reversed(processes):  # workers first, while the scheduler still answers them
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()


def test_backtest_on_a_running_cluster_matches_serial_quietly(
    cluster: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    scheduler, workers_dir = cluster
    df = tsf.load_dataset("uk_lung_deaths")
    cv = tsf.WalkForward(3, 6)
    serial = tsf.backtest("naive", df, cv, baselines=("seasonal_naive",))
    monkeypatch.chdir(tmp_path)
    capfd.readouterr()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        distributed = tsf.backtest(
            "naive", df, cv, baselines=("seasonal_naive",), engine="dask", scheduler=scheduler, checkpoint="ckpt"
        )
    assert [str(w.message) for w in caught] == []
    assert capfd.readouterr().err == ""
    pd.testing.assert_frame_equal(distributed.forecasts, serial.forecasts, check_exact=True)
    pd.testing.assert_frame_equal(distributed.metrics, serial.metrics, check_exact=True)
    # The checkpoints were written by this process, relative to its working directory, not a worker's.
    assert list((tmp_path / "ckpt").rglob("*.tsfc"))
    assert list(workers_dir.iterdir()) == []


def test_cli_backtest_on_a_running_cluster_matches_serial_with_a_clean_stderr(
    cluster: tuple[str, Path], tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    from tsforecast import cli

    scheduler, _ = cluster
    common = ["backtest", "uk_lung_deaths", "--horizon", "6", "--folds", "3", "--model", "naive", "--no-audit", "-q"]
    assert cli.main([*common, "--out", str(tmp_path / "serial")]) == 0
    capfd.readouterr()
    status = cli.main([*common, "--engine", "dask", "--scheduler", scheduler, "--out", str(tmp_path / "dask")])
    assert status == 0
    assert capfd.readouterr().err == ""
    serial = pd.read_csv(tmp_path / "serial" / "forecasts.csv")
    distributed = pd.read_csv(tmp_path / "dask" / "forecasts.csv")
    pd.testing.assert_frame_equal(distributed, serial, check_exact=True)
