"""Task planning and engines: ragged panels under every refit policy, handover panels, Dask clusters."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import clone

import tsforecast as tsf
from tsforecast.models import Drift, Forecaster, LocalForecaster, Mean, Naive, SeasonalNaive
from tsforecast.models.batch import Fit, Histories, histories_of


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
    naive = res.forecasts[res.forecasts["model"] == "naive"]
    forecast = set(naive[["unique_id", "fold"]].itertuples(index=False, name=None))
    mine = res.skipped[res.skipped["model"].isin(["naive", "all"])]
    skipped = {(row.unique_id, row.fold): row.reason for row in mine.itertuples()}
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
    naive = res.forecasts[res.forecasts["model"] == "naive"]
    assert naive.groupby("fold")["unique_id"].unique().map(list).to_dict() == {1: ["new"]}
    np.testing.assert_array_equal(naive["y_hat"], np.full(12, 108.0))
    assert res.skipped[["model", "fold", "unique_id", "reason"]].values.tolist() == [
        ["all", 0, "new", "no data before the cutoff"]
    ]


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
            "naive",
            df,
            cv,
            baselines=("seasonal_naive",),
            engine="dask",
            scheduler=scheduler,
            checkpoint="ckpt",
            progress=False,
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


# --- the results of the previous engine, where the maths did not change ------------------------------------


def _ragged_arrivals() -> pd.DataFrame:
    df = tsf.load_dataset("arrivals")
    first = sorted(df.unique_id.unique())[0]
    keep = (df.unique_id != first) | (df.ds >= df.ds.min() + pd.DateOffset(years=10))
    return df[keep].reset_index(drop=True)


PREVIOUS_CASES = {
    "air_point": ("air_passengers", {"n_splits": 5, "horizon": 12}, None),
    "air_levels": ("air_passengers", {"n_splits": 5, "horizon": 12}, (80, 95)),
    "lung_panel": ("uk_lung_deaths", {"n_splits": 3, "horizon": 12, "step": 6}, None),
    "beer_sliding": (
        "ausbeer",
        {"n_splits": 4, "horizon": 4, "gap": 1, "window": "sliding", "train_size": 40},
        (80, 95),
    ),
    "ragged": (None, {"n_splits": 4, "horizon": 4}, (90,)),
}
PREVIOUS_DIGESTS = {
    "air_point": {
        "naive": (
            "c1ceaf2fad8a92820c6721799dd382900883bb3a51aaa696a6b76e3a96c2ee64",
            "1a9de59ae6bdab236e8664cf29dd3652252bac7b249feb40d39f3259015b0435",
        ),
        "seasonal_naive": (
            "3ead75ae4b59beea7d82037a2e97caa881adb6a53f898d30066711e897c47ef5",
            "7495109334237e7d46684edbd0446a301662697be5a1b5a74612d46c04072712",
        ),
        "mean": (
            "cc5945ae4514c45c9496aeea5e89555ee92b38917984aaf906cea65c9183ac48",
            "ff6e5b8a61d755bcbf0cfdf173c9484d9689b73e33887dfb6b2e80b7bbaa0ee1",
        ),
        "drift": (
            "662e139460554b17fdb1417d422d9077f5dc69f06aad6b55df79bf1e68fe304c",
            "378d338fc3cc53d6cb7cc769eb81561f26176d972600639fa78b467fa46f7c4e",
        ),
    },
    "air_levels": {
        "naive": (
            "c1ceaf2fad8a92820c6721799dd382900883bb3a51aaa696a6b76e3a96c2ee64",
            "1a9de59ae6bdab236e8664cf29dd3652252bac7b249feb40d39f3259015b0435",
        ),
        "seasonal_naive": (
            "3ead75ae4b59beea7d82037a2e97caa881adb6a53f898d30066711e897c47ef5",
            "7495109334237e7d46684edbd0446a301662697be5a1b5a74612d46c04072712",
        ),
        "mean": (
            "cc5945ae4514c45c9496aeea5e89555ee92b38917984aaf906cea65c9183ac48",
            "ff6e5b8a61d755bcbf0cfdf173c9484d9689b73e33887dfb6b2e80b7bbaa0ee1",
        ),
        "drift": (
            "662e139460554b17fdb1417d422d9077f5dc69f06aad6b55df79bf1e68fe304c",
            "378d338fc3cc53d6cb7cc769eb81561f26176d972600639fa78b467fa46f7c4e",
        ),
    },
    "lung_panel": {
        "naive": (
            "2e96ce0b0f2f5d2ba3b42983a6c4b06568dc7188698e147bf0e89e9d30447076",
            "a78e0e5706ff201320e924683b6a9048726e1a13dbb1ac638f74a107a7767c3a",
        ),
        "seasonal_naive": (
            "dc76735320be150babf44bd0aafcbe2843a21d4c0f135c2b3e96bdbc3f232014",
            "89c05a6dbe13479171cf90ad4558c57742cb286f4d0c12e1827ffb8d51b182eb",
        ),
    },
    "beer_sliding": {
        "seasonal_naive": (
            "eddaa0284c255f6f1851a5cb60a4794b1bf7c2e0f7ee65ac3ecb67f811130a78",
            "673311fce90da6cdcd4b1d3c66b25496adcc6f32277219df411f293885e3ddab",
        ),
        "drift": (
            "04beb06127aa9b19e1b4424f06dfe9908101236b6f35f19777fda0188b5deeee",
            "b7769e67d0e8de1ff5e7a5d49804d172e91e16302ae87b65ae15de71b8eecf4b",
        ),
        "mean": (
            "62794c9bd4af92a6d6351680e473a8192cd3a14f8725b4f513beb4f271d57b0a",
            "dd56c1a0e5e6f28deed78fe6417621b5199f3e3d2cfbdcccdfecd9e5dc8968fa",
        ),
    },
    "ragged": {
        "naive": (
            "713c477388b62364bd1e9d0a63d5864065a863bc2311adfb86adde8d48f5925f",
            "bcc2329b5faaeacf0414e2816e72708190179832c9447243f0e5940a96ded24d",
        ),
        "seasonal_naive": (
            "06c8651078cd8c96f21c84fd3f2c96db1609d12642af92d6ee90eab0b2dfe7a1",
            "e516092f4ce5f8b338441d6f85dd429f220d62d2dd14293208603ce79212126b",
        ),
        "drift": (
            "c2e27f55545bde930708713bfc98a2503cb69c591aae7ff3bb0d1e2c08fc0736",
            "7c7df3871acbb010dcb682300d54d929e617a364f43f7d41592524d2e60faf24",
        ),
    },
}
"""SHA-256 of the forecasts and of the metrics of each model, per case, as the two engines of tsforecast at
commit bf2f79a computed them (``backtest(models, df, WalkForward(**cv), baselines=(), level=level)``, rows sorted
by model, fold, series and time, float64 bytes; metric columns sorted by name). The closed-form baselines compute
the same maths since. With levels, only ``y_hat`` and the point metrics are compared: the conformal bands changed
by design (10 calibration blocks, each step pooled with its neighbours: ``docs/interval-calibration.md``). ARIMA
and Theta are left out: their bits are statsmodels' and change with its and pandas' versions (a new pandas changed
Theta's last digits); they are proven equal to their own ``fit``/``predict`` below instead."""


def _digest(frame: pd.DataFrame, columns: list[str]) -> str:
    return hashlib.sha256(np.ascontiguousarray(frame[columns].to_numpy(dtype="float64")).tobytes()).hexdigest()


@pytest.mark.parametrize("case", list(PREVIOUS_CASES))
def test_results_are_bit_identical_to_the_previous_engines_where_the_maths_did_not_change(case: str) -> None:
    dataset, cv, level = PREVIOUS_CASES[case]
    df = _ragged_arrivals() if dataset is None else tsf.load_dataset(dataset)
    models = list(PREVIOUS_DIGESTS[case])
    res = tsf.backtest(models, df, tsf.WalkForward(**cv), baselines=(), level=level)
    forecasts = res.forecasts.sort_values(["model", "fold", "unique_id", "ds"], kind="stable")
    metrics = res.metrics.sort_values(["model", "fold", "unique_id"], kind="stable")
    interval_scores = ("coverage_", "width_", "msis_")
    scores = sorted(c for c in metrics.columns if c not in ("model", "fold", "cutoff", "unique_id"))
    scores = [c for c in scores if not c.startswith(interval_scores)]
    for model, (forecast_digest, metric_digest) in PREVIOUS_DIGESTS[case].items():
        mine = forecasts[forecasts["model"] == model]
        assert _digest(mine, ["y_hat"]) == forecast_digest, model
        assert _digest(metrics[metrics["model"] == model], scores) == metric_digest, model


# --- one engine: a fast path equals the model's own fit and predict, and never hides a subclass's code ------


@st.composite
def batches(draw: st.DrawFn) -> tuple[Histories, list[Fit]]:
    """A small ragged monthly panel and one or two fits, each with requests at random histories."""
    n = draw(st.integers(1, 3))
    lengths = [draw(st.integers(14, 36)) for _ in range(n)]
    starts = [draw(st.integers(0, 6)) for _ in range(n)]
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    frame = pd.concat(
        [
            pd.DataFrame(
                {
                    "unique_id": f"s{k}",
                    "ds": pd.date_range("2001-01-01", periods=start + length, freq="MS")[start:],
                    "y": 50 + rng.normal(0, 5, length).cumsum() + 10 * np.sin(np.arange(length)),
                }
            )
            for k, (start, length) in enumerate(zip(starts, lengths, strict=True))
        ],
        ignore_index=True,
    )
    data = histories_of(frame, "MS")
    offsets = data.offsets
    fits = []
    for _ in range(draw(st.integers(1, 2))):
        ends = [int(offsets[k] + draw(st.integers(12, lengths[k] - 1))) for k in range(n)]
        requests = [
            (int(offsets[k]), int(offsets[k] + cut))
            for k in range(n)
            for cut in sorted(set(draw(st.lists(st.integers(12, lengths[k]), min_size=1, max_size=3))))
        ]
        fits.append(
            Fit(
                first=offsets[:-1].copy(),
                end=np.array(ends),
                cutoff=max(data.times[e - 1] for e in ends),
                request_first=np.array([a for a, _ in requests]),
                request_end=np.array([b for _, b in requests]),
            )
        )
    return data, fits


class PlusSeven(tsf.Naive):
    def _forecast(self, y: np.ndarray) -> np.ndarray:
        return super()._forecast(y) + 7.0


FAST = [Naive(5), SeasonalNaive(5, season=4), SeasonalNaive(5, season=12), Mean(3), Drift(4), PlusSeven(5)]


@given(batches(), st.sampled_from(range(len(FAST))))
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_a_fast_fit_forecast_equals_the_models_own_fit_and_predict(batch: tuple[Histories, list[Fit]], k: int) -> None:
    data, fits = batch
    model = FAST[k]
    fast = model.fit_forecast(data, fits)
    own = Forecaster.fit_forecast(model, data, fits)
    for a, b in zip(fast, own, strict=True):
        np.testing.assert_array_equal(a.forecasts, b.forecasts)


def test_theta_and_arima_take_the_same_path_as_their_own_fit_and_predict() -> None:
    df = tsf.load_dataset("air_passengers")
    data = histories_of(df.iloc[:60].reset_index(drop=True), "MS")
    fit = Fit(np.array([0]), np.array([48]), df["ds"].iloc[47], np.array([0, 0]), np.array([48, 55]))
    for model in (tsf.Theta(6, season=12), tsf.ARIMA(6, season=12)):
        fast, own = model.fit_forecast(data, [fit]), Forecaster.fit_forecast(model, data, [fit])
        np.testing.assert_array_equal(fast[0].forecasts, own[0].forecasts)


def _tweaked(base: type, hook: str) -> Callable[..., Any]:
    """An override of ``hook`` that adds 7 to what the base class computes (or shifts the fitted data by 7)."""
    if hook == "_forecast":
        return lambda self, y: base._forecast(self, y) + 7.0
    if hook == "_forecast_panel":
        return lambda self, values, starts, lengths: base._forecast_panel(self, values, starts, lengths) + 7.0
    if hook == "_predict":
        return lambda self, frame: base._predict(self, frame) + 7.0
    if hook == "predict":

        def predict(self: Any, *args: Any, **kwargs: Any) -> Any:
            out = base.predict(self, *args, **kwargs)
            return out.assign(y_hat=out["y_hat"] + 7.0) if isinstance(out, pd.DataFrame) else out + 7.0

        return predict

    def fit(self: Any, y: Any, covariates: Any = None) -> Any:  # the fitted data shifted: only predict() shows it
        return base.fit(self, y.assign(y=y["y"] + 7.0), covariates)

    return fit


HOOKS = [
    (base, hook)
    for base in (Naive, SeasonalNaive, Mean, Drift, tsf.ETS)
    for hook in ("_forecast", "_forecast_panel", "_predict", "predict", "fit")
    if hasattr(base, hook)
]


@given(st.sampled_from(HOOKS))
@settings(max_examples=30, deadline=None)
def test_a_subclass_overriding_any_hook_is_scored_by_its_own_code(case: tuple[type, str]) -> None:
    base, hook = case
    df = tsf.load_dataset("air_passengers")
    tweaked = type(f"Tweaked{base.__name__}", (base,), {hook: _tweaked(base, hook)})
    model = tweaked(horizon=6)
    cv = tsf.WalkForward(2, 6)
    res = tsf.backtest(model, df, cv, baselines=())
    mine = res.forecasts[res.forecasts["model"] == f"Tweaked{base.__name__}"]
    for fold in cv.folds(df):
        own = clone(res_model(res, model)).fit(fold.train).predict()
        parent = clone(base(horizon=6, **({"season": 12} if "season" in base().get_params() else {})))
        parent = parent.fit(fold.train).predict()
        got = mine[mine["fold"] == fold.index]["y_hat"].to_numpy()
        np.testing.assert_array_equal(got, own["y_hat"].to_numpy())
        if (base, hook) != (tsf.ETS, "fit"):  # NOTE: ETS estimated on shifted data is not the shifted forecast
            np.testing.assert_array_equal(got, parent["y_hat"].to_numpy() + 7.0)


def res_model(res: tsf.BacktestResult, model: Forecaster) -> Forecaster:
    """The model as the backtest ran it: its season, left None, resolved to the data's."""
    resolved = clone(model)
    if "season" in resolved.get_params() and resolved.get_params()["season"] is None:
        resolved.set_params(season=res.settings["season"])
    return resolved


USER_SUBCLASS = """
import numpy as np
import tsforecast as tsf

class Damped(tsf.Naive):  # a user's tweak of a built-in model, in their own script
    def _forecast(self, y):
        return np.full(self.horizon, 0.5 * y[-1])

air = tsf.load_dataset("air_passengers")
res = tsf.backtest(Damped(horizon=12), air, tsf.WalkForward(2, 12), baselines=())
mine = res.forecasts[res.forecasts["model"] == "Damped"]
own = Damped(horizon=12).fit(air.iloc[:-12]).predict()["y_hat"].to_numpy()
print(bool((mine[mine["fold"] == 1]["y_hat"].to_numpy() == own).all()), float(own[0]))
"""


def test_a_users_subclass_in_their_own_script_is_scored_by_its_own_code(tmp_path: Path) -> None:
    script = tmp_path / "tweak.py"
    script.write_text(USER_SUBCLASS)
    package = str(Path(tsf.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([package, os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "202.5"]  # half the last value before the cutoff (405)


@given(batches(), st.sampled_from([None, 4, 12]), st.booleans())
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_ets_fit_forecast_equals_its_own_fit_and_predict(
    batch: tuple[Histories, list[Fit]], season: int | None, damped: bool
) -> None:
    data, fits = batch
    model = tsf.ETS(5, season=season or 1, damped=damped)
    fast = model.fit_forecast(data, fits)
    own = Forecaster.fit_forecast(model, data, fits)
    for a, b in zip(fast, own, strict=True):
        np.testing.assert_array_equal(a.forecasts, b.forecasts)


@pytest.mark.parametrize(("family", "min_gain"), [("auto", 0.125), ("drift", 0.125), ("auto", 0.99)])
def test_sgd_fit_forecast_equals_its_own_fit_and_predict_up_to_float32_rounding(family: str, min_gain: float) -> None:
    air = tsf.load_dataset("air_passengers")
    panel = pd.concat([air, air.assign(unique_id="half", y=air["y"] / 2)], ignore_index=True).iloc[:-24]
    data = histories_of(tsf.from_pandas(panel), "MS")
    a, b = data.offsets[:2]
    fits = [  # a calibration-like fit (many origins of both series), and one with a history that starts elsewhere
        Fit(np.array([a, b]), np.array([a + 70, b + 70]), air["ds"].iloc[69], np.r_[[a] * 20, [b] * 20],
            np.r_[np.arange(a + 70, a + 90), np.arange(b + 70, b + 90)]),
        Fit(np.array([a]), np.array([a + 96]), air["ds"].iloc[95], np.array([a, a + 6]), np.array([a + 96, a + 96])),
    ]  # fmt: skip
    model = tsf.SGDForecaster(lookback=24, horizon=6, season=12, family=family, epochs=5, min_gain=min_gain)
    fast, own = model.fit_forecast(data, fits), Forecaster.fit_forecast(model, data, fits)
    for mine, theirs in zip(fast, own, strict=True):
        np.testing.assert_allclose(mine.forecasts, theirs.forecasts, rtol=1e-5)
        pd.testing.assert_frame_equal(mine.training, theirs.training)


class Halved:
    """A plain mixin whose override of a hook must win over the built-in class it is mixed into."""

    def _predict(self, frame: pd.DataFrame) -> np.ndarray:
        return super()._predict(frame) / 2  # type: ignore[misc]


class HalvedETS(Halved, tsf.ETS):
    pass


class HalvedNaive(Halved, tsf.Naive):
    pass


@pytest.mark.parametrize("cls", [HalvedETS, HalvedNaive])
def test_an_override_from_a_mixin_is_scored_too(cls: type) -> None:
    air = tsf.load_dataset("air_passengers")
    res = tsf.backtest(cls(horizon=12), air, tsf.WalkForward(1, 12), baselines=())
    own = cls(horizon=12, **({"season": 12} if cls is HalvedETS else {})).fit(air.iloc[:-12]).predict()
    mine = res.forecasts[res.forecasts["model"] == cls.__name__]["y_hat"].to_numpy()
    np.testing.assert_array_equal(mine, own["y_hat"].to_numpy())
