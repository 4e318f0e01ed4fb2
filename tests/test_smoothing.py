"""Tests of tsforecast.models.smoothing (the Holt-Winters recursion and estimator) and the SGD "es" base on it."""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.tsa.holtwinters import ExponentialSmoothing
from threadpoolctl import threadpool_limits

from tsforecast.models import smoothing
from tsforecast.models.sgd import SGDForecaster, base_forecast
from tsforecast.models.sgd import estimator as estimator_module
from tsforecast.models.sgd.base_forecast import es_parameters
from tsforecast.models.smoothing import (
    Smoothing,
    Spec,
    estimate_chains,
    estimate_smoothing,
    smoothing_forecasts,
    smoothing_paths,
    smoothing_states,
)

SEASON = 12
DAMPED_MUL, DAMPED_ADD = Spec(True, True, "mul"), Spec(True, True, "add")


def seasonal(n: int = 72, seed: int = 0) -> np.ndarray:
    """A noisy, trending, monthly-seasonal positive series."""
    t = np.arange(n)
    return 10 + 0.05 * t + np.sin(2 * np.pi * t / SEASON) + 0.1 * np.random.default_rng(seed).normal(size=n)


def log_panel(n: int, length: int = 96, seed: int = 0) -> list[np.ndarray]:
    """``n`` log-scale monthly series with their own trend, season amplitude, random walk and noise."""
    rng, t = np.random.default_rng(seed), np.arange(length)
    panel = []
    for i in range(n):
        amplitude, slope, walk = rng.uniform(0.02, 0.2), rng.uniform(-0.005, 0.01), rng.uniform(0.005, 0.05)
        season = amplitude * np.sin(2 * np.pi * (t + i) / SEASON)
        noise = np.cumsum(rng.normal(0, walk, length)) + rng.normal(0, 0.02, length)
        panel.append(np.log(10) + slope * t + season + noise)
    return panel


def sse(y: np.ndarray, p: Smoothing) -> float:
    """The squared one-step errors of ``p`` on ``y``."""
    return float(np.sum(smoothing_states([y], [p], 1).errors ** 2))


def statsmodels_fit(y: np.ndarray, spec: Spec, **fixed: Any) -> Any:
    """statsmodels' ``ExponentialSmoothing`` of ``spec``: estimated, or with the parameters ``fixed``."""
    model = ExponentialSmoothing(
        y,
        trend="add" if spec.trend else None,
        damped_trend=spec.damped,
        seasonal=None if spec.season == "none" else spec.season,
        seasonal_periods=SEASON if spec.seasonal else None,
        initialization_method="known" if fixed else "estimated",
        **{k: v for k, v in fixed.items() if k.startswith("initial")},
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if fixed:
            return model.fit(optimized=False, **{k: v for k, v in fixed.items() if not k.startswith("initial")})
        return model.fit()


SPECS = [
    Spec(True, True, "mul"),
    Spec(True, True, "add"),
    Spec(True, False, "add"),
    Spec(False, False, "mul"),
    Spec(True, True),
    Spec(True, False),
    Spec(False, False),
]


def given_parameters(spec: Spec) -> tuple[Smoothing, dict[str, Any]]:
    """Parameters of ``spec`` as a :class:`Smoothing` and as statsmodels' keywords."""
    phase = np.sin(2 * np.pi * np.arange(SEASON) / SEASON)
    seasons = (1 + 0.1 * phase if spec.season == "mul" else phase) if spec.seasonal else None
    fixed: dict[str, Any] = {"smoothing_level": 0.3, "initial_level": 10.0}
    if spec.trend:
        fixed.update(smoothing_trend=0.05, initial_trend=0.1)
    if spec.damped:
        fixed["damping_trend"] = 0.9
    if seasons is not None:
        fixed.update(smoothing_seasonal=0.2, initial_seasonal=seasons)
    params = Smoothing(
        alpha=0.3,
        beta=0.05 if spec.trend else 0.0,
        gamma=0.2 if spec.seasonal else 0.0,
        phi=0.9 if spec.damped else 1.0,
        level=10.0,
        trend=0.1 if spec.trend else 0.0,
        seasons=tuple(seasons) if seasons is not None else (0.0,),
        spec=str(spec),
        multiplicative=spec.season == "mul",
    )
    return params, fixed


# ------------------------------------------------------------------------------- recursion ---- #


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_recursion_equals_statsmodels_for_given_parameters(spec: Spec) -> None:
    y = seasonal(60)
    params, fixed = given_parameters(spec)
    reference = statsmodels_fit(y, spec, **fixed)
    forecasts = smoothing_forecasts([y], [params], SEASON)[0]
    np.testing.assert_allclose(forecasts[:-1, 0], reference.fittedvalues[1:], rtol=1e-9)  # one step ahead from t
    np.testing.assert_allclose(y[0] - smoothing_states([y], [params], 1).errors[0], reference.fittedvalues[0])
    # the forecast from the last origin; with a season, statsmodels reads the index of step k = m one cycle early
    steps = SEASON - 1 if spec.seasonal else SEASON
    np.testing.assert_allclose(forecasts[-1, :steps], reference.forecast(SEASON)[:steps], rtol=1e-9)


def test_forecast_of_step_m_reads_the_latest_seasonal_index() -> None:
    y = seasonal(60)
    params = replace(given_parameters(DAMPED_ADD)[0], gamma=1.0, alpha=0.0, beta=0.0)
    forecasts = smoothing_forecasts([y], [params], 2 * SEASON)[0]
    states = smoothing_states([y], [params], 2 * SEASON)
    latest = states.seasons[-SEASON:]  # s_{T-m+1} ... s_T, the indices updated by the last season's values
    trended = states.level[-1] + states.trend[-1] * states.damping[0]
    np.testing.assert_allclose(forecasts[-1], np.tile(latest, 2) + trended, rtol=1e-12)


def test_series_of_different_kinds_run_together_as_alone() -> None:
    y = seasonal(60)
    params = [given_parameters(spec)[0] for spec in SPECS]
    histories = [y[: 30 + 4 * i] for i in range(len(SPECS))]
    together = smoothing_forecasts(histories, params, 5)
    for history, p, forecasts in zip(histories, params, together, strict=True):
        assert forecasts.tobytes() == smoothing_forecasts([history], [p], 5)[0].tobytes()


def test_states_give_the_forecasts_of_any_origins_without_the_whole_array() -> None:
    a, b = seasonal(72, seed=1), seasonal(50, seed=2)
    params = [given_parameters(DAMPED_ADD)[0], given_parameters(Spec(True, True))[0]]
    states = smoothing_states([a, b], params, 6)
    assert states.level.shape == (122,)  # O(T), not O(T·h)
    assert states.seasons.shape == (122 + SEASON + 1,)
    every = np.concatenate(smoothing_forecasts([a, b], params, 6))
    rows = np.array([0, 11, 71, 72, 100, 121])  # both series, first and last origins
    assert states.forecasts(rows).tobytes() == every[rows].tobytes()


@settings(max_examples=40, deadline=None)
@given(
    values=st.lists(st.floats(1.0, 100.0), min_size=30, max_size=60),
    cut=st.integers(0, 28),
    spec=st.sampled_from(SPECS),
    noise=st.floats(-50.0, 50.0),
)
def test_forecasts_from_a_row_do_not_change_when_later_values_do(
    values: list[float], cut: int, spec: Spec, noise: float
) -> None:
    y = np.array(values)
    params = given_parameters(spec)[0]
    changed = y.copy()
    changed[cut + 1 :] = changed[cut + 1 :][::-1] + noise
    before = smoothing_forecasts([y], [params], 7)[0][: cut + 1]
    after = smoothing_forecasts([changed], [params], 7)[0][: cut + 1]
    assert before.tobytes() == after.tobytes()


def test_log_forecasts_of_a_falling_trend_are_floored_at_a_tenth_of_the_origin() -> None:
    y = np.array([100.0, 80.0, 60.0, 40.0, 20.0])
    falling = Smoothing(1.0, 1.0, 0.0, 1.0, 120.0, -20.0, (1.0,), "holt", multiplicative=True)
    forecasts = smoothing_forecasts([np.log(y)], [falling], 3, log=True)[0]
    assert np.isfinite(forecasts).all()
    np.testing.assert_allclose(forecasts[0], np.log([80.0, 60.0, 40.0]))  # the linear trend where it stays positive
    np.testing.assert_allclose(forecasts[-1], np.log([2.0, 2.0, 2.0]))  # below zero: a tenth of the last value


def test_smoothing_states_refuses_mismatched_or_empty_input() -> None:
    p = given_parameters(DAMPED_ADD)[0]
    with pytest.raises(ValueError, match=r"^2 histories but 1 parameter sets: pass one per history\.$"):
        smoothing_states([seasonal(), seasonal()], [p], 3)
    with pytest.raises(ValueError, match=r"^Every history needs at least one value, and at least one history"):
        smoothing_states([np.array([])], [p], 3)
    with pytest.raises(ValueError, match=r"^Every history needs at least one value"):
        smoothing_states([], [], 3)


def test_paths_without_noise_are_the_forecast_and_paths_are_the_recursion() -> None:
    y = seasonal(60)
    params = [given_parameters(DAMPED_MUL)[0], given_parameters(Spec(True, True))[0]]
    shocks = np.random.default_rng(0).standard_normal((14, 50))
    flat = smoothing_paths([y, y[:40]], params, shocks, np.zeros(2))
    for i, history in enumerate([y, y[:40]]):
        forecast = smoothing_forecasts([history], [params[i]], 14)[0][-1]
        np.testing.assert_allclose(flat[i], np.repeat(forecast[:, None], 50, axis=1), rtol=1e-12)
    paths = smoothing_paths([y], params[:1], shocks[:, :1], np.array([0.5]))[0, :, 0]
    extended = np.concatenate([y, paths])  # a path is a history the recursion reproduces one step at a time
    ahead = smoothing_forecasts([extended], params[:1], 1)[0][len(y) - 1 : -1, 0]
    np.testing.assert_allclose(extended[len(y) :] - ahead, 0.5 * shocks[:, 0], atol=1e-9)


# ------------------------------------------------------------------------------- estimator ---- #


@pytest.mark.parametrize("kind", ["add", "mul"])
def test_estimator_reaches_statsmodels_squared_error(kind: str) -> None:
    panel = [np.exp(z) if kind == "mul" else z for z in log_panel(24)]
    spec = Spec(True, True, kind)  # type: ignore[arg-type]
    fitted = estimate_smoothing(panel, spec, SEASON)
    assert {(p.spec, p.multiplicative) for p in fitted if p is not None} == {(str(spec), kind == "mul")}
    ratio = np.array([sse(y, p) / statsmodels_fit(y, spec).sse for y, p in zip(panel, fitted, strict=True)])  # type: ignore[arg-type]
    # measured: mean 0.998 (additive), 0.996 (multiplicative), median 1.000, range 0.95-1.004 and 0.97-1.000
    assert ratio.mean() <= 1.0  # never worse on average ...
    assert ratio.max() < 1.05  # ... and within a few percent on every series


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    spec=st.sampled_from([DAMPED_MUL, DAMPED_ADD, Spec(True, True), Spec(False, False, "mul"), Spec(True, False)]),
)
def test_estimates_stay_within_statsmodels_bounds(seed: int, spec: Spec) -> None:
    rng = np.random.default_rng(seed)
    y = np.exp(log_panel(1, length=int(rng.integers(24, 90)), seed=seed)[0])
    p = estimate_smoothing([y], spec, SEASON)[0]
    assert p is not None
    assert 0 <= p.beta <= p.alpha <= 1
    assert 0 <= p.gamma <= 1 - p.alpha
    assert (0.8 <= p.phi <= 0.995) if spec.damped else (p.phi == 1.0)
    assert spec.trend or (p.beta, p.trend) == (0.0, 0.0)
    assert spec.seasonal or p.gamma == 0.0
    assert len(p.seasons) == (SEASON if spec.seasonal else 1)


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    lengths=st.lists(st.integers(24, 140), min_size=2, max_size=6),
    position=st.integers(0, 5),
    spec=st.sampled_from([DAMPED_MUL, DAMPED_ADD, Spec(True, True), Spec(False, False, "add")]),
)
def test_a_series_is_estimated_bit_for_bit_alike_alone_or_in_any_panel(
    seed: int, lengths: list[int], position: int, spec: Spec
) -> None:
    rng = np.random.default_rng(seed)
    panel = [
        np.exp(z) if spec.season == "mul" else z for z in (log_panel(1, n, seed + i)[0] for i, n in enumerate(lengths))
    ]
    panel = [y * 10.0 ** rng.integers(-3, 4) for y in panel]  # other scales too
    alone = estimate_smoothing([panel[position % len(panel)]], spec, SEASON)
    together = estimate_smoothing(panel, spec, SEASON)
    assert together[position % len(panel)] == alone[0]


def test_a_large_panel_gives_each_series_its_own_estimate(monkeypatch: pytest.MonkeyPatch) -> None:
    # past _TOGETHER columns a step is tried first and its Jacobian computed where it is taken: the same numbers
    panel = [np.exp(z) for z in log_panel(12, length=60, seed=3)]
    monkeypatch.setattr(smoothing, "_TOGETHER", 10**9)
    together = estimate_smoothing(panel, DAMPED_MUL, SEASON)
    monkeypatch.setattr(smoothing, "_TOGETHER", 0)
    assert estimate_smoothing(panel, DAMPED_MUL, SEASON) == together


def test_estimates_do_not_depend_on_the_blas_thread_count() -> None:
    panel = [np.exp(z) for z in log_panel(8, length=60, seed=5)]
    with threadpool_limits(limits=1):
        one = estimate_smoothing(panel, DAMPED_MUL, SEASON)
    with threadpool_limits(limits=2):
        two = estimate_smoothing(panel, DAMPED_MUL, SEASON)
    assert one == two


def test_constant_and_short_histories_are_estimated() -> None:
    constant = estimate_smoothing([np.full(30, 5.0)], DAMPED_MUL, SEASON)[0]
    assert constant is not None
    np.testing.assert_allclose(smoothing_forecasts([np.full(30, 5.0)], [constant], 3)[0][-1], 5.0, rtol=1e-9)
    quarterly = seasonal(12)  # 12 < 10 + 2 · 2 values: statsmodels' simple initial states
    short = estimate_smoothing([quarterly], DAMPED_ADD, 4)[0]
    assert short is not None
    assert np.isfinite(sse(quarterly, short))
    assert estimate_smoothing([np.array([1.0, 2.0])], Spec(True, False), 1)[0] is not None
    assert estimate_smoothing([], DAMPED_ADD, SEASON) == []


def test_a_history_without_a_finite_fit_gets_none() -> None:
    # a multiplicative season whose grid and steps all divide by zero: no finite squared error
    y = np.concatenate([np.full(12, 1e-300), np.full(12, 1e300)])
    assert estimate_smoothing([y, seasonal(24)], DAMPED_MUL, SEASON)[0] is None


@pytest.mark.parametrize(
    ("histories", "spec", "season", "match"),
    [
        ([np.ones(30)], DAMPED_ADD, 1, r"^A seasonal specification needs season >= 2, got 1\.$"),
        (
            [np.ones(30), np.ones(23)],
            DAMPED_ADD,
            12,
            r"^History 1 has 23 values; a model with damped additive trend, additive season needs at least 24 "
            r"\(two whole seasons\)\.$",
        ),
        ([np.ones(1)], Spec(True, False), 1, r"^History 0 has 1 values; a model with additive trend, no season needs"),
        ([np.array([1.0, np.nan, 2.0])], Spec(False, False), 1, r"^History 0 holds a value that is not finite"),
        ([np.r_[np.ones(23), 0.0]], DAMPED_MUL, 12, r"^History 0 has a value <= 0 \(0\); a multiplicative season"),
    ],
)
def test_estimator_refuses_what_it_cannot_fit(histories: list[np.ndarray], spec: Spec, season: int, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        estimate_smoothing(histories, spec, season)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"trend": True, "damped": True, "season": "both"}, r"^season='both' is not one of 'none', 'add', 'mul'\.$"),
        (
            {"trend": False, "damped": True},
            r"^A damped specification needs a trend: pass trend=True or damped=False\.$",
        ),
    ],
)
def test_spec_refuses_what_is_not_in_the_model_space(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Spec(**kwargs)


def test_spec_names_and_counts() -> None:
    assert Spec.named(str(DAMPED_MUL)) == DAMPED_MUL
    assert Spec.named("naive") is None
    assert [
        spec.n_params(12) for spec in (DAMPED_MUL, Spec(False, False, "add"), Spec(True, True), Spec(False, False))
    ] == [
        17,
        14,
        5,
        2,
    ]


def test_chains_step_down_past_rejected_and_failed_specifications(monkeypatch: pytest.MonkeyPatch) -> None:
    panel = [np.exp(z) for z in log_panel(3, length=48)]
    real = smoothing.estimate_smoothing

    def no_season(histories: list[np.ndarray], spec: Spec, season: int) -> list[Smoothing | None]:
        return [None] * len(histories) if spec.seasonal else real(histories, spec, season)

    monkeypatch.setattr(smoothing, "estimate_smoothing", no_season)
    chains = [[DAMPED_MUL, Spec(True, True), Spec(False, False)]] * 3
    seen: list[tuple[str, list[int]]] = []

    def accept(spec: Spec, members: list[int], estimates: list[Smoothing | None]) -> np.ndarray:
        seen.append((str(spec), members))
        return np.array([spec != Spec(True, True) or i != 1 for i in members])

    found = estimate_chains(panel, chains, SEASON, accept)
    assert [p.spec if p is not None else None for p in found] == [
        "damped additive trend, no season",
        "no trend, no season",
        "damped additive trend, no season",
    ]
    assert seen == [
        (str(DAMPED_MUL), [0, 1, 2]),
        ("damped additive trend, no season", [0, 1, 2]),
        ("no trend, no season", [1]),
    ]
    assert estimate_chains(panel, [[DAMPED_MUL]] * 3, SEASON) == [None] * 3
    assert estimate_chains([], [], SEASON) == []


# ------------------------------------------------------------------------------ the "es" base ---- #


def es_model(**params: Any) -> SGDForecaster:
    defaults: dict[str, Any] = {"lookback": 24, "horizon": 12, "season": SEASON, "family": "es", "scales": (1.0,)}
    return SGDForecaster(**{**defaults, "epochs": 5, **params})


def test_es_parameters_fit_the_values_of_a_log_series_with_a_multiplicative_season() -> None:
    z = np.log(seasonal(72))
    params = es_parameters([z], SEASON, multiplicative=True)[0]
    assert params == estimate_smoothing([np.exp(z)], DAMPED_MUL, SEASON)[0]
    assert 0.5 < min(params.seasons) <= max(params.seasons) < 1.5  # seasonal factors, not offsets
    assert es_parameters([z], SEASON)[0] == estimate_smoothing([z], DAMPED_ADD, SEASON)[0]  # additive on z
    without = es_parameters([z], 1, multiplicative=True)[0]  # no season: one factor of 1, still on exp(z)
    assert (without.spec, without.seasons, without.multiplicative) == ("damped additive trend, no season", (1.0,), True)
    np.testing.assert_allclose(
        smoothing_forecasts([z], [without], 3, log=True)[0],
        np.log(smoothing_forecasts([np.exp(z)], [estimate_smoothing([np.exp(z)], Spec(True, True))[0]], 3)[0]),  # type: ignore[list-item]
        rtol=1e-12,
    )


def test_es_parameters_fall_back_along_their_chain(monkeypatch: pytest.MonkeyPatch) -> None:
    z = np.log(seasonal(72))
    assert es_parameters([z], SEASON)[0].spec == "damped additive trend, additive season"
    assert es_parameters([z[:23]], SEASON)[0].spec == "damped additive trend, no season"  # under two seasons
    real = smoothing.estimate_smoothing
    refused: set[Spec] = {DAMPED_ADD, Spec(True, True)}

    def failing(histories: list[np.ndarray], spec: Spec, season: int) -> list[Smoothing | None]:
        return [None] * len(histories) if spec in refused else real(histories, spec, season)

    monkeypatch.setattr(smoothing, "estimate_smoothing", failing)
    assert es_parameters([z], SEASON)[0].spec == "additive trend, no season"
    refused.update({Spec(True, False), Spec(False, False)})  # every fit fails: the naive forecast
    naive = es_parameters([np.array([3.0, 5.0])], SEASON)[0]
    assert naive == Smoothing(1.0, 0.0, 0.0, 1.0, 3.0, 0.0, (0.0,), "naive")
    np.testing.assert_array_equal(smoothing_forecasts([np.array([3.0, 5.0])], [naive], 2)[0], [[3, 3], [5, 5]])


def test_es_parameters_of_a_long_history_are_fitted_on_its_first_values(monkeypatch: pytest.MonkeyPatch) -> None:
    z = np.log(seasonal(96))
    monkeypatch.setattr(base_forecast, "FIT_POINTS", 60)
    assert es_parameters([z], SEASON) == es_parameters([z[:60]], SEASON)  # states aligned with the first value


def test_parameters_are_fitted_on_the_training_data_only() -> None:
    y = seasonal(96)
    start, params = next(iter(es_model().fit(y[:72]).state_.smoothing.values()))
    assert (start, params) == (0, es_parameters([np.log(y[:72])], SEASON, multiplicative=True)[0])
    assert next(iter(es_model().fit(y).state_.smoothing.values()))[1] != params  # more training data, other parameters


def test_es_members_forecast_their_base_before_training() -> None:
    y = seasonal(96)
    model = es_model(lr=1e-12, epochs=1).fit(y)
    params = es_parameters([np.log(y)], SEASON, multiplicative=True)
    base = smoothing_forecasts([np.log(y)], params, 12, log=True)[0][-1]
    np.testing.assert_allclose(model.predict(), np.exp(base), rtol=1e-5)


def test_predict_on_a_new_history_refits_parameters_only_for_an_unseen_start() -> None:
    y = seasonal(96)
    model = es_model().fit(y[:84])
    extended = model.predict(y)  # same start: the stored parameters run over the longer history
    stored = next(iter(model.state_.smoothing.values()))[1]
    assert model.predict(y[:84]).tobytes() == model.predict().tobytes()
    assert next(iter(model.state_.smoothing.values()))[1] == stored  # predict never changes the fitted parameters
    assert extended.shape == (12,)
    assert np.isfinite(extended).all()
    later = pd.DataFrame({"unique_id": "x", "ds": np.arange(12, 96), "y": y[12:]})
    assert np.isfinite(model.predict(later)["y_hat"]).all()  # another start: parameters of that history alone


def test_refits_at_predict_follow_the_kind_of_the_stored_parameters(monkeypatch: pytest.MonkeyPatch) -> None:
    y = seasonal(96)
    model = es_model().fit(y[:84])
    uid, (start, stored) = next(iter(model.state_.smoothing.items()))
    assert stored.multiplicative  # a positive series: the ETS(A, Ad, M) base
    # a file saved before the multiplicative base holds additive parameters (on log y); refits must match them
    old = {uid: (start, es_parameters([np.log(y[:84])], SEASON)[0])}
    model.state_ = dataclasses.replace(model.state_, smoothing=old)
    kinds: list[bool] = []
    real = estimator_module.es_parameters
    monkeypatch.setattr(estimator_module, "es_parameters", lambda h, m, mult: kinds.append(mult) or real(h, m, mult))
    later = pd.DataFrame({"unique_id": uid, "ds": np.arange(12, 96), "y": y[12:]})  # another start: a refit
    assert np.isfinite(model.predict(later)["y_hat"]).all()
    assert kinds == [False]


def test_save_load_round_trip_is_bit_identical(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "unique_id": np.repeat(["a", "b"], 84),
            "ds": np.tile(pd.date_range("2000-01-01", periods=84, freq="MS"), 2),
            "y": np.concatenate([seasonal(84, 1), seasonal(84, 2)]),
        }
    )
    model = SGDForecaster(lookback=24, horizon=12, family="all", scales=(1.0,), epochs=3).fit(frame)
    model.save(tmp_path / "m.pt")
    loaded = SGDForecaster.load(tmp_path / "m.pt")
    assert loaded.state_.smoothing == model.state_.smoothing
    pd.testing.assert_frame_equal(loaded.predict(), model.predict())
    pd.testing.assert_frame_equal(loaded.predict(frame), model.predict(frame))


def test_es_family_is_deterministic() -> None:
    y = seasonal(96)
    assert es_model(epochs=10).fit(y).predict().tobytes() == es_model(epochs=10).fit(y).predict().tobytes()


def test_family_all_has_every_family_and_es_uses_l1_without_recency() -> None:
    model = SGDForecaster(lookback=24, horizon=12, season=SEASON, family="all", epochs=1).fit(seasonal(120))
    assert [r.family for r in model.recipes_] == ["drift"] * 3 + ["decomposed"] * 3 + ["es"] * 3
    assert {(r.loss, r.recency) for r in model.recipes_ if r.family == "es"} == {("l1", 0.0)}


def test_unknown_family_is_refused() -> None:
    with pytest.raises(ValueError, match=r"The 'family' parameter of SGDForecaster must be .*'all'.*Got 'holt'"):
        SGDForecaster(family="holt").fit(seasonal(120))
