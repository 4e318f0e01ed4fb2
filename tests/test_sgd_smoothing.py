"""Tests of tsforecast.models.sgd.smoothing (the "es" base family) and its use in SGDForecaster."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from statsmodels.tsa.holtwinters import ExponentialSmoothing

from tsforecast.models.sgd import SGDForecaster, smoothing_fit
from tsforecast.models.sgd import estimator as estimator_module
from tsforecast.models.sgd.smoothing import Smoothing, smoothing_forecasts, smoothing_states
from tsforecast.models.sgd.smoothing_fit import fit_panel_smoothing, fit_smoothing

SEASON = 12


def log_seasonal(n: int = 72, seed: int = 0) -> np.ndarray:
    """The log of a noisy, trending, monthly-seasonal positive series."""
    t = np.arange(n)
    noise = 0.1 * np.random.default_rng(seed).normal(size=n)
    return np.log(10 + 0.05 * t + np.sin(2 * np.pi * t / SEASON) + noise)


def es_model(**params: Any) -> SGDForecaster:
    defaults: dict[str, Any] = {"lookback": 24, "horizon": 12, "season": SEASON, "family": "es", "scales": (1.0,)}
    return SGDForecaster(**{**defaults, "epochs": 5, **params})


def test_recursion_reproduces_statsmodels_fitted_values_and_forecast() -> None:
    z = log_seasonal()
    params = fit_smoothing(z, SEASON)
    forecasts = smoothing_forecasts([z], [params], 12)[0]
    fitted = ExponentialSmoothing(
        z, trend="add", damped_trend=True, seasonal="add", seasonal_periods=SEASON, initialization_method="estimated"
    ).fit()
    assert params.spec == "damped seasonal"
    assert forecasts.shape == (72, 12)
    np.testing.assert_allclose(forecasts[:-1, 0], fitted.fittedvalues[1:], rtol=1e-12)  # one step ahead from t
    # the multi-step forecast from the last origin; statsmodels reads the season of step k = m one cycle too early
    np.testing.assert_allclose(forecasts[-1, :-1], fitted.forecast(12)[:-1], rtol=1e-12)


def test_multiplicative_recursion_reproduces_statsmodels_ets_a_ad_m() -> None:
    z = log_seasonal()
    params = fit_smoothing(z, SEASON, multiplicative=True)
    forecasts = smoothing_forecasts([z], [params], 12)[0]  # the log of the forecasts of y = exp(z)
    fitted = ExponentialSmoothing(
        np.exp(z), trend="add", damped_trend=True, seasonal="mul", seasonal_periods=SEASON,
        initialization_method="estimated",
    ).fit()  # fmt: skip
    assert (params.spec, params.multiplicative) == ("damped seasonal", True)
    assert 0.5 < min(params.seasons) <= max(params.seasons) < 1.5  # seasonal factors, not offsets
    np.testing.assert_allclose(np.exp(forecasts[:-1, 0]), fitted.fittedvalues[1:], rtol=1e-9)
    np.testing.assert_allclose(np.exp(forecasts[-1, :-1]), fitted.forecast(12)[:-1], rtol=1e-9)


def test_multiplicative_forecast_of_a_falling_trend_is_floored_at_a_tenth_of_its_origin() -> None:
    y = np.array([100.0, 80.0, 60.0, 40.0, 20.0])
    falling = Smoothing(1.0, 1.0, 0.0, 1.0, 120.0, -20.0, (1.0,), "holt", multiplicative=True)
    forecasts = smoothing_forecasts([np.log(y)], [falling], 3)[0]
    assert np.isfinite(forecasts).all()
    np.testing.assert_allclose(forecasts[0], np.log([80.0, 60.0, 40.0]))  # the linear trend where it stays positive
    np.testing.assert_allclose(forecasts[-1], np.log([2.0, 2.0, 2.0]))  # below zero: a tenth of the last value


@pytest.mark.parametrize("multiplicative", [False, True])
def test_base_at_an_origin_reads_nothing_after_it(multiplicative: bool) -> None:
    z = log_seasonal()
    params = fit_smoothing(z, SEASON, multiplicative)
    forecasts = smoothing_forecasts([z], [params], 12)[0]
    changed = z.copy()
    changed[50:] = changed[50:][::-1] + 5.0  # every value after origin 49 changed
    np.testing.assert_array_equal(smoothing_forecasts([changed], [params], 12)[0][:50], forecasts[:50])
    assert not np.allclose(smoothing_forecasts([changed], [params], 12)[0][50:], forecasts[50:])


def test_series_of_a_panel_are_processed_independently() -> None:
    a, b = log_seasonal(72, seed=1), log_seasonal(50, seed=2)
    pa, pb = fit_smoothing(a, SEASON), fit_smoothing(b, SEASON)
    together = smoothing_forecasts([a, b], [pa, pb], 6)
    np.testing.assert_allclose(together[0], smoothing_forecasts([a], [pa], 6)[0], rtol=1e-15)
    np.testing.assert_allclose(together[1], smoothing_forecasts([b], [pb], 6)[0], rtol=1e-15)
    assert together[1].shape == (50, 6)


def test_fallback_chain_when_statsmodels_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    import statsmodels.tsa.holtwinters as holtwinters

    z = log_seasonal()
    assert fit_smoothing(z, 1).spec == "damped"  # no season to fit
    real = holtwinters.ExponentialSmoothing
    refused: set[str] = set()

    def failing(y: np.ndarray, **kwargs: Any) -> Any:
        if kwargs["seasonal"] in refused or kwargs["trend"] in refused:
            raise np.linalg.LinAlgError("singular")
        return real(y, **kwargs)

    monkeypatch.setattr(holtwinters, "ExponentialSmoothing", failing)
    refused.add("add")  # every fit with a season or a trend fails
    assert fit_smoothing(z, SEASON).spec == "simple"
    refused.add(None)  # every fit fails: the naive forecast
    naive = fit_smoothing(np.array([3.0, 5.0]), SEASON)
    assert naive == Smoothing(1.0, 0.0, 0.0, 1.0, 3.0, 0.0, (0.0,), "naive")
    np.testing.assert_array_equal(smoothing_forecasts([np.array([3.0, 5.0])], [naive], 2)[0], [[3, 3], [5, 5]])


def test_parameters_are_fitted_on_the_training_data_only() -> None:
    y = np.exp(log_seasonal(96))
    start, params = next(iter(es_model().fit(y[:72])._smoothing.values()))
    assert (start, params) == (0, fit_smoothing(np.log(y[:72]), SEASON, multiplicative=True))
    assert next(iter(es_model().fit(y)._smoothing.values()))[1] != params  # more training data, other parameters


def test_es_members_forecast_their_base_before_training() -> None:
    y = np.exp(log_seasonal(96))
    model = es_model(lr=1e-12, epochs=1).fit(y)
    base = smoothing_forecasts([np.log(y)], [fit_smoothing(np.log(y), SEASON, multiplicative=True)], 12)[0][-1]
    np.testing.assert_allclose(model.predict(), np.exp(base), rtol=1e-5)


def test_predict_on_a_new_history_refits_parameters_only_for_an_unseen_start() -> None:
    y = np.exp(log_seasonal(96))
    model = es_model().fit(y[:84])
    extended = model.predict(y)  # same start: the stored parameters run over the longer history
    stored = next(iter(model._smoothing.values()))[1]
    assert model.predict(y[:84]).tobytes() == model.predict().tobytes()
    assert next(iter(model._smoothing.values()))[1] == stored  # predict never changes the fitted parameters
    assert extended.shape == (12,)
    assert np.isfinite(extended).all()
    later = pd.DataFrame({"unique_id": "x", "ds": np.arange(12, 96), "y": y[12:]})
    assert np.isfinite(model.predict(later)["y_hat"]).all()  # another start: parameters of that history alone


def test_refits_at_predict_follow_the_kind_of_the_stored_parameters(monkeypatch: pytest.MonkeyPatch) -> None:
    y = np.exp(log_seasonal(96))
    model = es_model().fit(y[:84])
    uid, (start, stored) = next(iter(model._smoothing.items()))
    assert stored.multiplicative  # a positive series: the ETS(A, Ad, M) base
    # a file saved before the multiplicative base holds additive parameters (on log y); refits must match them
    model._smoothing = {uid: (start, fit_smoothing(np.log(y[:84]), SEASON))}
    kinds: list[bool] = []
    real = estimator_module.fit_panel_smoothing
    monkeypatch.setattr(
        estimator_module, "fit_panel_smoothing", lambda h, m, mult: kinds.append(mult) or real(h, m, mult)
    )
    later = pd.DataFrame({"unique_id": uid, "ds": np.arange(12, 96), "y": y[12:]})  # another start: a refit
    assert np.isfinite(model.predict(later)["y_hat"]).all()
    assert kinds == [False]


def test_save_load_round_trip_is_bit_identical(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "unique_id": np.repeat(["a", "b"], 84),
            "ds": np.tile(pd.date_range("2000-01-01", periods=84, freq="MS"), 2),
            "y": np.concatenate([np.exp(log_seasonal(84, 1)), np.exp(log_seasonal(84, 2))]),
        }
    )
    model = SGDForecaster(lookback=24, horizon=12, family="all", scales=(1.0,), epochs=3).fit(frame)
    model.save(tmp_path / "m.pt")
    loaded = SGDForecaster.load(tmp_path / "m.pt")
    assert loaded._smoothing == model._smoothing
    pd.testing.assert_frame_equal(loaded.predict(), model.predict())
    pd.testing.assert_frame_equal(loaded.predict(frame), model.predict(frame))


def test_es_family_is_deterministic() -> None:
    y = np.exp(log_seasonal(96))
    assert es_model(epochs=10).fit(y).predict().tobytes() == es_model(epochs=10).fit(y).predict().tobytes()


def test_family_all_has_every_family_and_es_uses_l1_without_recency() -> None:
    model = SGDForecaster(lookback=24, horizon=12, season=SEASON, family="all", epochs=1).fit(np.exp(log_seasonal(120)))
    assert [r.family for r in model.recipes_] == ["drift"] * 3 + ["decomposed"] * 3 + ["es"] * 3
    assert {(r.loss, r.recency) for r in model.recipes_ if r.family == "es"} == {("l1", 0.0)}


def test_unknown_family_is_refused() -> None:
    with pytest.raises(ValueError, match=r"The 'family' parameter of SGDForecaster must be .*'all'.*Got 'holt'"):
        SGDForecaster(family="holt").fit(np.exp(log_seasonal(120)))


def test_parameters_of_a_long_history_are_fitted_on_its_first_values(monkeypatch: pytest.MonkeyPatch) -> None:
    z = log_seasonal(96)
    monkeypatch.setattr(smoothing_fit, "FIT_POINTS", 60)
    assert fit_smoothing(z, SEASON) == fit_smoothing(z[:60], SEASON)  # states aligned with the first value


def test_states_give_the_forecasts_of_any_origins_without_the_whole_array() -> None:
    a, b = log_seasonal(72, seed=1), log_seasonal(50, seed=2)
    params = [fit_smoothing(a, SEASON), fit_smoothing(b, SEASON)]
    states = smoothing_states([a, b], params, 6)
    assert states.level.shape == (122,)  # O(T), not O(T·h)
    assert states.seasons.shape == (122 + 2 * SEASON,)
    every = np.concatenate(smoothing_forecasts([a, b], params, 6))
    rows = np.array([0, 11, 71, 72, 100, 121])  # both series, first and last origins
    assert states.forecasts(rows).tobytes() == every[rows].tobytes()


# ------------------------------------------------------------------------------- joint fit ---- #


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


def one_step_sse(z: np.ndarray, params: Smoothing) -> float:
    """The squared one-step errors in the space the parameters were fitted in (``exp(z)`` when multiplicative)."""
    forecast = smoothing_forecasts([z], [params], 1)[0][:-1, 0]  # row t forecasts z[t + 1]
    space = np.exp if params.multiplicative else np.asarray
    return float(np.sum((space(z[1:]) - space(forecast)) ** 2))


@pytest.fixture
def joint_from_4(monkeypatch: pytest.MonkeyPatch) -> int:
    """Panels of 4 or more series are fitted jointly (the rule is the same at any threshold; small panels are fast)."""
    monkeypatch.setattr(smoothing_fit, "JOINT_FIT_SERIES", 4)
    return 4


@pytest.fixture
def few_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    """Joint fits of 20 Adam steps: what its tests check (independence, fallback, threads) holds at any step count."""
    monkeypatch.setattr(smoothing_fit, "_STEPS", 20)


@pytest.mark.parametrize("multiplicative", [False, True])
def test_joint_fit_of_a_panel_reaches_statsmodels_squared_error(joint_from_4: int, multiplicative: bool) -> None:
    panel = log_panel(24)
    joint = fit_panel_smoothing(panel, SEASON, multiplicative)
    assert {(p.spec, p.multiplicative) for p in joint} == {("damped seasonal, joint", multiplicative)}
    for p in joint:  # statsmodels' bounds
        assert 0 <= p.beta <= p.alpha <= 1
        assert 0 <= p.gamma <= 1 - p.alpha
        assert 0.8 <= p.phi <= 0.995
    pairs = zip(panel, joint, strict=True)
    ratio = np.array([one_step_sse(z, p) / one_step_sse(z, fit_smoothing(z, SEASON, multiplicative)) for z, p in pairs])
    # measured on 64 such series: median 1.010 / 1.012, mean 1.012 / 1.014, range 0.98-1.14 / 0.96-1.13 (add. / mult.)
    assert np.median(ratio) < 1.03
    assert ratio.mean() < 1.05
    assert ratio.max() < 1.25


def test_few_series_are_fitted_by_statsmodels_one_by_one(joint_from_4: int, few_steps: None) -> None:
    panel = log_panel(joint_from_4 - 1)
    assert fit_panel_smoothing(panel, SEASON) == [fit_smoothing(z, SEASON) for z in panel]
    assert {p.spec for p in fit_panel_smoothing(log_panel(joint_from_4), SEASON)} == {"damped seasonal, joint"}


@pytest.mark.parametrize("multiplicative", [False, True])
def test_a_series_joint_parameters_depend_on_its_own_values_only(
    joint_from_4: int, few_steps: None, multiplicative: bool
) -> None:
    panel = log_panel(6, seed=1)
    others = log_panel(6, seed=2)
    changed = [panel[0], panel[1][:40], *others[2:], log_panel(1, length=150, seed=3)[0]]  # ragged, longer padding
    first, second = (fit_panel_smoothing(p, SEASON, multiplicative) for p in (panel, changed))
    assert second[0] == first[0]  # bit for bit: the series do not interact
    alone = fit_panel_smoothing([panel[1][:40], *others[1:]], SEASON, multiplicative)[0]
    assert second[1] == alone  # a short one, padded


def test_joint_fit_without_season_and_its_fallback(
    joint_from_4: int, few_steps: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    panel = log_panel(6, length=60, seed=4)
    fitted = fit_panel_smoothing(panel, 1)
    assert {(p.spec, p.gamma, p.seasons) for p in fitted} == {("damped, joint", 0.0, (0.0,))}
    real = smoothing_fit._fit_jointly

    def one_not_finite(histories: list[np.ndarray], season: int, multiplicative: bool) -> list[Smoothing]:
        out = real(histories, season, multiplicative)
        out[3] = Smoothing(np.nan, 0.0, 0.0, 0.9, 0.0, 0.0, (0.0,) * season, "damped seasonal, joint")
        return out

    monkeypatch.setattr(smoothing_fit, "_fit_jointly", one_not_finite)
    fitted = fit_panel_smoothing(panel, SEASON)
    assert fitted[3] == fit_smoothing(panel[3], SEASON)  # that series falls back to statsmodels
    assert fitted[2].spec == "damped seasonal, joint"


def test_joint_fit_does_not_depend_on_the_thread_count(joint_from_4: int, few_steps: None) -> None:
    import torch

    panel = log_panel(8, length=60, seed=5)
    previous = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = fit_panel_smoothing(panel, SEASON)
        torch.set_num_threads(2)
        two = fit_panel_smoothing(panel, SEASON)
    finally:
        torch.set_num_threads(previous)
    assert one == two
