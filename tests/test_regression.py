"""RegressionForecaster: a scikit-learn regressor as a global forecaster on lag windows."""

from __future__ import annotations

import copy
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.ensemble import (
    GradientBoostingRegressor,
    HistGradientBoostingRegressor,
    RandomForestRegressor,
    StackingRegressor,
)
from sklearn.linear_model import Ridge, SGDRegressor
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.tree import DecisionTreeClassifier

import tsforecast as tsf
from tsforecast.audit import AuditOptions
from tsforecast.errors import DataError, DataTypeError, ShuffleError

MODELS = {
    "ridge": Ridge(),
    "hgb": HistGradientBoostingRegressor(max_iter=20, random_state=0),
}


@pytest.fixture(scope="module")
def air() -> pd.DataFrame:
    return tsf.load_dataset("air_passengers")


def panel(lengths: list[int]) -> pd.DataFrame:
    """Series ``s`` (from 1) holds ``1000 · s + t`` at time ``t``: each value names its series and time."""
    return pd.DataFrame(
        {
            "unique_id": np.repeat([f"s{s}" for s in range(1, len(lengths) + 1)], lengths),
            "ds": np.concatenate([np.arange(n) for n in lengths]),
            "y": np.concatenate([1000.0 * s + np.arange(n) for s, n in enumerate(lengths, start=1)]),
        }
    )


WINDOW_SETTINGS = {  # lags, strategy, horizon, and each series' length beyond the shortest the model fits
    "lags": st.one_of(st.integers(1, 4), st.lists(st.integers(1, 5), min_size=1, max_size=3)),
    "strategy": st.sampled_from(["recursive", "direct"]),
    "horizon": st.integers(1, 3),
    "extra": st.lists(st.integers(0, 6), min_size=1, max_size=3),
}


def model_mase(result: tsf.BacktestResult) -> pd.Series:
    return result.metrics.groupby("model")["mase"].mean()


@pytest.mark.parametrize("name", sorted(MODELS))
def test_backtest_on_air_passengers_runs_finite_and_beats_the_naive_forecasts(air: pd.DataFrame, name: str) -> None:
    model = tsf.RegressionForecaster(MODELS[name], lags=24, horizon=12, difference=12)
    result = tsf.backtest(model, air, tsf.WalkForward(3, 12), baselines=("naive", "seasonal_naive"))
    mine = result.forecasts[result.forecasts["model"].str.startswith("RegressionForecaster")]
    assert len(mine) == 36
    assert np.isfinite(mine["y_hat"]).all()
    mase = model_mase(result)
    ours = mase.drop(["naive", "seasonal_naive"]).iloc[0]
    assert ours < mase["seasonal_naive"], mase
    assert ours < mase["naive"], mase


@settings(max_examples=15, deadline=None)
@given(**WINDOW_SETTINGS)
def test_every_training_window_reads_one_series_at_consecutive_times_in_time_order(
    lags: Any, strategy: str, horizon: int, extra: list[int]
) -> None:
    model = tsf.RegressionForecaster(Ridge(), lags=lags, horizon=horizon, strategy=strategy, scale=None)
    df = panel([max(model.min_length(), 3) + k for k in extra])
    features, targets = model.training_rows(df)
    lag_list = np.unique(np.atleast_1d(np.arange(1, lags + 1) if isinstance(lags, int) else lags))
    span = int(lag_list.max()) + targets.shape[1]
    assert targets.shape[1] == (1 if strategy == "recursive" else horizon)
    assert len(features) == sum(max(model.min_length(), 3) + k - span + 1 for k in extra)  # every window, once
    series, times = np.divmod(np.column_stack([features, targets]), 1000)
    assert (series == series[:, :1]).all()  # one series per row
    origin = times[:, 0] + lag_list[0] - 1  # the time of the window's last lag
    expected = np.concatenate([origin[:, None] + 1 - lag_list, origin[:, None] + np.arange(1, targets.shape[1] + 1)], 1)
    assert (times == expected).all()  # lag k at the origin's time + 1 - k, targets right after it
    key = series[:, 0] * 10_000 + origin
    assert (np.diff(key) > 0).all()  # series by series, oldest window first


def test_windows_come_in_time_order_and_a_shuffling_estimator_is_refused() -> None:
    features, targets = tsf.RegressionForecaster(Ridge(), lags=2, horizon=1, scale=None).training_rows(np.arange(6.0))
    assert features.tolist() == [[1, 0], [2, 1], [3, 2], [4, 3]]
    assert targets.ravel().tolist() == [2, 3, 4, 5]
    with pytest.raises(ShuffleError, match=r"SGDRegressor was passed to .* with shuffle=True"):
        tsf.RegressionForecaster(SGDRegressor(), lags=2, horizon=1).fit(np.arange(6.0))
    tsf.RegressionForecaster(SGDRegressor(shuffle=False, random_state=0), lags=2, horizon=1).fit(np.arange(6.0))


def test_shuffling_hidden_in_a_pipeline_or_in_early_stopping_is_refused() -> None:
    y = np.arange(40.0)
    hidden = make_pipeline(StandardScaler(), SGDRegressor())  # the user's pipeline: its step shuffles
    with pytest.raises(ShuffleError, match=r"with sgdregressor__shuffle=True"):
        tsf.RegressionForecaster(hidden, lags=2, horizon=1).fit(y)
    stopping = HistGradientBoostingRegressor(early_stopping=True)  # a random validation split
    with pytest.raises(ShuffleError, match=r"with early_stopping=True"):
        tsf.RegressionForecaster(stopping, lags=2, horizon=1).fit(y)
    for estimator, word in [
        (SGDRegressor(shuffle=np.True_), "shuffle=True"),  # a numpy boolean is a boolean
        (GridSearchCV(Ridge(), {"alpha": [1.0, 2.0]}), "its own cross-validation (cv)"),  # k-fold by default
        (StackingRegressor([("ridge", Ridge())]), "its own cross-validation (cv)"),  # refused for that, not its type
        (GradientBoostingRegressor(n_iter_no_change=3), "n_iter_no_change=3"),  # a random validation split
    ]:
        with pytest.raises(ShuffleError, match=re.escape(word)):
            tsf.RegressionForecaster(estimator, lags=2, horizon=1).fit(y)
    automatic = HistGradientBoostingRegressor(max_iter=2)  # early_stopping="auto": on above 10,000 rows
    tsf.RegressionForecaster(automatic, lags=2, horizon=1).fit(y)  # 38 windows: no early stopping, accepted
    with pytest.raises(ShuffleError, match=r"stops early above 10,000 rows, .* 10,198 training windows"):
        tsf.RegressionForecaster(automatic, lags=2, horizon=1).fit(np.arange(10_200.0))


def test_transforms_read_each_window_past_only() -> None:
    y = np.array([1.0, 2.0, 4.0, 8.0, 16.0, 32.0])
    model = tsf.RegressionForecaster(Ridge(), lags=2, horizon=2, strategy="direct", difference=1)
    features, targets = model.training_rows(y)
    # window 0: past 1, 2, 4 -> lags 4 and 2, differences 2 and 1, scale mean(|4|, |2|) = 3; base 4 (last value)
    np.testing.assert_allclose(features[0], [2 / 3, 1 / 3])
    np.testing.assert_allclose(targets[0], [(8 - 4) / 3, (16 - 4) / 3])
    assert len(features) == 2


def test_audit_passes_and_conformal_bands_are_nested_and_finite(air: pd.DataFrame) -> None:
    model = tsf.RegressionForecaster(Ridge(), lags=24, horizon=12, difference=12)
    audit = tsf.audit_leakage(model, air, tsf.WalkForward(3, 12), baselines=(), fresh_process=False)
    assert audit.passed, audit.folds
    result = tsf.backtest(model, air, tsf.WalkForward(3, 12), baselines=(), level=(80, 95))
    f = result.forecasts[result.forecasts["model"].str.startswith("RegressionForecaster")]
    columns = ["y_lo_95", "y_lo_80", "y_hat", "y_hi_80", "y_hi_95"]
    assert len(f) == 36
    assert np.isfinite(f[columns]).all().all()
    bands = f[columns].to_numpy()
    assert (np.diff(bands, axis=1) >= 0).all()
    assert (bands[:, 4] > bands[:, 0]).all()


def test_recursive_and_direct_agree_for_one_step(air: pd.DataFrame) -> None:
    recursive = tsf.RegressionForecaster(Ridge(), lags=12, horizon=1, difference=12)
    direct = clone(recursive).set_params(strategy="direct")
    np.testing.assert_array_equal(recursive.fit(air).predict()["y_hat"], direct.fit(air).predict()["y_hat"])


def test_the_seed_reaches_the_estimator() -> None:
    df = panel([40, 30])
    forest = RandomForestRegressor(n_estimators=5, max_features=0.5)

    def forecast(seed: int) -> np.ndarray:
        model = tsf.RegressionForecaster(forest, lags=6, horizon=3, strategy="direct", random_state=seed)
        return np.asarray(model.fit(df).predict()["y_hat"])

    np.testing.assert_array_equal(forecast(0), forecast(0))
    assert not np.array_equal(forecast(0), forecast(1))


def test_forecasts_a_panel_in_sorted_order_from_new_histories() -> None:
    df = panel([30, 25])
    model = tsf.RegressionForecaster(Ridge(alpha=1e-6), lags=3, horizon=2, scale=None).fit(df)
    out = model.predict(df[df["unique_id"] == "s2"])
    assert out["unique_id"].tolist() == ["s2", "s2"]
    np.testing.assert_allclose(out["y_hat"], [2025.0, 2026.0], rtol=1e-6)  # a line continues as a line


@pytest.mark.parametrize(
    ("params", "error", "message"),
    [
        ({"estimator": "ridge"}, DataTypeError, "must be a scikit-learn regressor"),
        ({"estimator": DecisionTreeClassifier()}, DataTypeError, "got the classifier DecisionTreeClassifier"),
        ({"lags": 0}, DataError, "'lags' parameter of RegressionForecaster must be an int in the range"),
        ({"lags": [1, 0]}, DataError, "non-empty list of ints >= 1"),
        ({"lags": []}, DataError, "non-empty list of ints >= 1"),
        ({"strategy": "both"}, DataError, "'strategy' parameter"),
    ],
)
def test_clear_refusals(params: dict[str, Any], error: type[Exception], message: str) -> None:
    model = tsf.RegressionForecaster(**{"estimator": Ridge(), "lags": 3, "horizon": 2, **params})
    with pytest.raises(error, match=message):
        model.fit(np.arange(20.0))


def test_a_series_too_short_for_its_lags_is_refused() -> None:
    model = tsf.RegressionForecaster(Ridge(), lags=4, horizon=3, difference=2)
    assert model.min_length() == 8  # two windows: 4 lags + 2 for the differences + 1 target (recursive), + 1
    assert model.calibration_length() == 12  # more windows than lags: a determined regression
    with pytest.raises(DataError, match=r"Series 's2' has 7 observations; .* needs at least 8 to be fitted"):
        model.fit(panel([10, 7]))
    model.fit(panel([10, 8]))
    with pytest.raises(DataError, match=r"has 5 observations; .* needs at least 6 to be forecast"):
        model.predict(panel([10, 5]))


def test_lightgbm_backtests_with_bands_passes_the_audit_and_is_deterministic() -> None:
    lightgbm = pytest.importorskip("lightgbm")  # the optional extra (installed with the test extra)
    df = tsf.load_dataset("air_passengers")

    def model() -> tsf.RegressionForecaster:
        booster = lightgbm.LGBMRegressor(n_estimators=10, subsample=0.8, subsample_freq=1, n_jobs=1, verbose=-1)
        return tsf.RegressionForecaster(booster, lags=24, horizon=12, difference=12, random_state=0)

    result = tsf.backtest(
        model(), df, tsf.WalkForward(1, 12), baselines=(), level=(80, 95), audit=AuditOptions(fresh_process=False)
    )
    assert result.audit is not None
    assert result.audit.passed
    mine = result.forecasts[result.forecasts["model"] == result.models[0]]
    assert np.isfinite(mine[["y_lo_95", "y_lo_80", "y_hat", "y_hi_80", "y_hi_95"]].to_numpy()).all()
    assert (np.diff(mine[["y_lo_95", "y_lo_80", "y_hat", "y_hi_80", "y_hi_95"]].to_numpy(), axis=1) >= 0).all()
    again = tsf.backtest(model(), df, tsf.WalkForward(1, 12), baselines=(), level=(80, 95))
    pd.testing.assert_frame_equal(result.forecasts, again.forecasts)  # bagging, seeded: the same forecasts


USER_ESTIMATORS = """
import numpy as np, tsforecast as tsf
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestRegressor, VotingRegressor
from sklearn.linear_model import Ridge, SGDRegressor
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

class QuietSGD(SGDRegressor):  # shuffle=True, SGDRegressor's default, hidden from get_params
    def __init__(self, alpha=1e-4):
        super().__init__(alpha=alpha)

class QuietMLP(MLPRegressor):  # early stopping on a random split, hidden from get_params
    def __init__(self, hidden_layer_sizes=(4,)):
        super().__init__(hidden_layer_sizes=hidden_layer_sizes, early_stopping=True, shuffle=False, max_iter=20)

class Members(BaseEstimator, RegressorMixin):  # estimators in a list: get_params does not look inside
    def __init__(self, members=None):
        self.members = members
    def fit(self, X, y):
        self.fitted_ = [clone(m).fit(X, y) for m in self.members]
        return self
    def predict(self, X):
        return np.mean([m.predict(X) for m in self.fitted_], axis=0)

class Logged(Members):  # an attribute that holds itself: the walk must end
    def __init__(self, members=None):
        super().__init__(members)
        self.log = []
        self.log.append(self.log)

X, y = np.random.default_rng(0).random((30, 3)), np.random.default_rng(1).random(30)
stumps = RandomForestRegressor(n_estimators=1001, max_depth=1, random_state=0).fit(X, y)  # many parts to walk

cases = {
    "pipeline": make_pipeline(StandardScaler(), SGDRegressor()),
    "subclass": QuietSGD(),
    "subclass, early stopping": QuietMLP(),
    "list": Members([SGDRegressor()]),
    "set": Members({SGDRegressor()}),
    "object array": Members(np.array([SGDRegressor()], dtype=object)),
    "behind a large forest": VotingRegressor([("forest", stumps), ("sgd", SGDRegressor())]),
    "cycle": Logged([Ridge()]),
    "lbfgs": MLPRegressor(hidden_layer_sizes=(4,), solver="lbfgs", max_iter=20),  # shuffles nothing
    "training loss": HistGradientBoostingRegressor(max_iter=5, early_stopping=True, validation_fraction=None),
}
for name, estimator in cases.items():
    try:
        tsf.RegressionForecaster(estimator, lags=3, horizon=1).fit(np.arange(60.0))
        print(f"{name}: accepted")
    except tsf.ShuffleError as exc:
        print(f"{name}: refused: {str(exc).split('.')[0]}")
"""


@pytest.mark.filterwarnings("ignore")
def test_shuffling_hidden_in_a_users_own_estimators_is_refused_in_their_script(tmp_path: Path) -> None:
    script = tmp_path / "mine.py"
    script.write_text(USER_ESTIMATORS)
    env = {**os.environ, "PYTHONPATH": str(Path(tsf.__file__).resolve().parents[1]), "PYTHONWARNINGS": "ignore"}
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "pipeline: refused: Pipeline was passed to RegressionForecaster with sgdregressor__shuffle=True: it shuffles "
        "its training rows",
        "subclass: refused: QuietSGD was passed to RegressionForecaster with shuffle=True: it shuffles its training "
        "rows",
        "subclass, early stopping: refused: QuietMLP was passed to RegressionForecaster with early_stopping=True: it "
        "stops early on a random validation split",
        "list: refused: Members was passed to RegressionForecaster with members[0]__shuffle=True: it shuffles its "
        "training rows",
        "set: refused: Members was passed to RegressionForecaster with members[0]__shuffle=True: it shuffles its "
        "training rows",
        "object array: refused: Members was passed to RegressionForecaster with members[0]__shuffle=True: it "
        "shuffles its training rows",
        "behind a large forest: refused: VotingRegressor was passed to RegressionForecaster with sgd__shuffle=True: "
        "it shuffles its training rows",
        "cycle: accepted",
        "lbfgs: accepted",
        "training loss: accepted",
    ]


def test_a_parameter_changed_after_fit_is_refused_at_predict() -> None:
    y = np.arange(40.0)
    model = tsf.RegressionForecaster(Ridge(), lags=3, horizon=4, scale=None).fit(y)
    model.set_params(strategy="direct")  # its one recursive estimator would be read as four direct ones
    with pytest.raises(DataError, match=r"'strategy' of RegressionForecaster changed after it was fitted"):
        model.predict()
    model.set_params(strategy="recursive", estimator__alpha=2.0)  # back, but the estimator's own setting moved
    with pytest.raises(DataError, match=r"'estimator' of RegressionForecaster changed"):
        model.predict()
    assert len(model.fit(y).predict()) == 4  # refitted: it forecasts again
    unpicklable = make_pipeline(FunctionTransformer(lambda x: x), Ridge())  # a lambda: joblib cannot hash it
    model = tsf.RegressionForecaster(unpicklable, lags=3, horizon=2).fit(y)
    assert len(copy.deepcopy(model).predict()) == 2  # a copy is the same model
    model.set_params(estimator__ridge__alpha=1e9)
    with pytest.raises(DataError, match=r"'estimator' of RegressionForecaster changed"):
        model.predict()


def covariate_panel(lengths: list[int]) -> pd.DataFrame:
    """:func:`panel` with a past-only ``p = y + 0.25``, a known-future ``k = y + 0.5`` and a static ``size = s``."""
    df = panel(lengths)
    return df.assign(p=df["y"] + 0.25, k=df["y"] + 0.5, size=df["unique_id"].str[1:].astype(float))


@settings(max_examples=15, deadline=None)
@given(**WINDOW_SETTINGS)
def test_covariate_features_read_their_declared_times_only(
    lags: Any, strategy: str, horizon: int, extra: list[int]
) -> None:
    model = tsf.RegressionForecaster(Ridge(), lags=lags, horizon=horizon, strategy=strategy, scale=None)
    direct = strategy == "direct"
    cov = tsf.Covariates(past_only=["p"] if direct else [], known_future=["k"], static=["size"])
    df = covariate_panel([max(model.min_length(), 3) + k for k in extra])
    features, targets = model.training_rows(df if direct else df.drop(columns="p"), covariates=cov)
    lag_list = np.unique(np.atleast_1d(np.arange(1, lags + 1) if isinstance(lags, int) else lags))
    n, steps = len(lag_list), targets.shape[1]
    assert features.shape[1] == n * (2 if direct else 1) + steps + 1
    series, times = np.divmod(features[:, :n], 1000)
    origin = times[:, 0] + lag_list[0] - 1  # the time of the window's last lag: the cutoff of its forecast
    if direct:  # past-only: at the lags, counted from the cutoff, never after it
        np.testing.assert_array_equal(features[:, n : 2 * n], features[:, :n] + 0.25)
    known = features[:, -1 - steps : -1]  # known-future: at the targets' times
    np.testing.assert_array_equal(known, 1000 * series[:, :1] + origin[:, None] + np.arange(1, steps + 1) + 0.5)
    np.testing.assert_array_equal(features[:, -1], series[:, 0])  # static: the series' own value


def test_past_only_covariates_need_the_direct_strategy() -> None:
    df = covariate_panel([30, 30]).drop(columns=["k", "size"])
    cov = tsf.Covariates(past_only=["p"])
    model = tsf.RegressionForecaster(Ridge(), lags=3, horizon=2)
    for attempt in (lambda: model.fit(df, covariates=cov), lambda: model.training_rows(df, covariates=cov)):
        with pytest.raises(DataError, match=r"'recursive'\) cannot read the past-only .* Use strategy='direct'"):
            attempt()
    model.set_params(strategy="direct").fit(df, covariates=cov)


def promotions(seed: int = 0) -> pd.DataFrame:
    """Three monthly series driven by a known-future promotion flag and by last month's (past-only) temperature."""
    rng = np.random.default_rng(seed)
    frames = []
    for s in range(3):
        promo, temp = rng.integers(0, 2, 120).astype(float), rng.normal(size=120)
        season = 5 * np.sin(np.arange(120) * 2 * np.pi / 12)
        y = 50 + 10 * s + season + 8 * promo + 3 * np.r_[0.0, temp[:-1]] + rng.normal(0, 0.3, 120)
        ds = pd.date_range("2000-01-01", periods=120, freq="MS")
        frames.append(pd.DataFrame({"unique_id": f"s{s}", "ds": ds, "y": y, "promo": promo, "temp": temp, "size": s}))
    return pd.concat(frames, ignore_index=True)


@pytest.mark.filterwarnings("ignore::tsforecast.errors.LeakageWarning")  # temp leads y by design: y reads it lagged
@pytest.mark.parametrize("strategy", ["direct", "recursive"])
def test_declared_covariates_improve_the_forecasts_and_pass_the_audit(strategy: str) -> None:
    df = promotions()
    past = ["temp"] if strategy == "direct" else []
    cov = tsf.Covariates(known_future=["promo"], past_only=past, static=["size"], calendar=["month"])
    data = df if past else df.drop(columns="temp")
    model = tsf.RegressionForecaster(Ridge(), lags=12, horizon=6, strategy=strategy)
    cv = tsf.WalkForward(3, 6)
    result = tsf.backtest(model, data, cv, covariates=cov, baselines=(), audit=AuditOptions(fresh_process=False))
    assert result.audit is not None
    assert result.audit.passed, result.audit.folds
    univariate = tsf.backtest(model, df[["unique_id", "ds", "y"]], cv, baselines=())
    assert model_mase(result).iloc[0] < 0.8 * model_mase(univariate).iloc[0]


def test_a_recursive_step_reads_the_known_future_values_of_its_own_time() -> None:
    df = promotions().drop(columns="temp")
    cov = tsf.Covariates(known_future=["promo"])
    model = tsf.RegressionForecaster(Ridge(), lags=12, horizon=4).fit(df.drop(columns="size"), covariates=cov)
    last = df["ds"].max()
    future = pd.DataFrame(
        {"unique_id": np.repeat(["s0", "s1", "s2"], 4), "ds": list(pd.date_range(last, periods=5, freq="MS")[1:]) * 3}
    )
    base = model.predict(future=future.assign(promo=0.0))["y_hat"].to_numpy().reshape(3, 4)
    with pytest.raises(DataError, match="pass their values for the horizon as predict\\(future=frame\\)"):
        model.predict()
    for step in range(4):
        changed = future.assign(promo=np.where(np.tile(np.arange(4), 3) == step, 1.0, 0.0))
        moved = model.predict(future=changed)["y_hat"].to_numpy().reshape(3, 4) != base
        assert not moved[:, :step].any()  # earlier steps do not read it
        assert moved[:, step].all()  # its own step does


def test_a_walk_forward_search_tunes_its_lags() -> None:
    df = tsf.load_dataset("air_passengers")
    search = tsf.WalkForwardSearch(
        tsf.RegressionForecaster(Ridge(), lags=12, horizon=12, difference=12), {"lags": [12, 24]}
    ).fit(df)
    assert search.best_params_["lags"] in (12, 24)
    assert len(search.predict()) == 12
