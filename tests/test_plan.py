"""The plan: every model keeps its identity, the reference is the true seasonal naive, models are ranked on
the same series-folds, and whatever can be refused is refused before anything is fitted."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import clone

import tsforecast as tsf
from tsforecast.models import Drift, LocalForecaster, Mean, Naive, SeasonalNaive


@pytest.fixture
def air() -> pd.DataFrame:
    return tsf.load_dataset("air_passengers")


class Exploding(LocalForecaster):
    """Fails if fitted or asked to forecast: proves a check ran before any work."""

    def __init__(self, horizon: int = 12) -> None:
        self.horizon = horizon

    def _forecast(self, y: np.ndarray) -> np.ndarray:
        raise AssertionError("forecast")


class PlusSeven(Naive):
    """A user's subclass: the naive forecast plus 7, by overriding the per-series hook."""

    def _forecast(self, y: np.ndarray) -> np.ndarray:
        return super()._forecast(y) + 7.0


def test_models_of_one_class_with_different_parameters_keep_their_own_rows(air: pd.DataFrame) -> None:
    res = tsf.backtest([SeasonalNaive(12, season=6), SeasonalNaive(12, season=3)], air, tsf.WalkForward(2, 12))
    assert res.models == ["seasonal_naive(season=6)", "seasonal_naive(season=3)", "naive", "seasonal_naive"]
    for name in res.models:
        assert len(res.forecasts[res.forecasts["model"] == name]) == 24
    six = res.forecasts[res.forecasts["model"] == "seasonal_naive(season=6)"]
    y = air["y"].to_numpy()
    np.testing.assert_array_equal(six["y_hat"].to_numpy()[:12], np.tile(y[len(y) - 30 : len(y) - 24], 2))


def test_the_reference_is_the_true_seasonal_naive_whatever_the_user_passes(air: pd.DataFrame) -> None:
    res = tsf.backtest(SeasonalNaive(12, season=6), air, tsf.WalkForward(2, 12), baselines=())
    assert res.settings["reference"] == "seasonal_naive"
    reference = res.forecasts[res.forecasts["model"] == "seasonal_naive"]
    y = air["y"].to_numpy()
    np.testing.assert_array_equal(reference["y_hat"].to_numpy()[:12], y[len(y) - 36 : len(y) - 24])
    summary = res.summary()
    assert summary.loc["seasonal_naive", "mase_vs_seasonal_naive"] == 1.0
    ratio = summary.loc["seasonal_naive(season=6)", "mase"] / summary.loc["seasonal_naive", "mase"]
    assert summary.loc["seasonal_naive(season=6)", "mase_vs_seasonal_naive"] == ratio


def test_a_seasonal_naive_object_takes_the_season_of_the_data_as_its_name_does(air: pd.DataFrame) -> None:
    by_object = tsf.backtest(SeasonalNaive(horizon=12), air, tsf.WalkForward(2, 12), baselines=())
    by_name = tsf.backtest("seasonal_naive", air, tsf.WalkForward(2, 12), baselines=())
    assert by_object.models == ["seasonal_naive"]  # the same model as the reference: run once
    pd.testing.assert_frame_equal(by_object.forecasts, by_name.forecasts)
    fitted = SeasonalNaive(horizon=12).fit(air)
    assert fitted.season_ == 12


def test_identical_models_run_once_and_distinct_ones_never_share_a_name(air: pd.DataFrame) -> None:
    class Custom(Naive):
        pass

    first = Custom

    class Custom(Naive):  # type: ignore[no-redef]  # NOTE: another class with the same name
        def _forecast(self, y: np.ndarray) -> np.ndarray:
            return super()._forecast(y) * 2

    res = tsf.backtest(["naive", Naive(12), first(12), Custom(12), first(12)], air, tsf.WalkForward(2, 12))
    assert res.models == ["naive", "Custom", "Custom #2", "seasonal_naive"]
    doubled = res.forecasts[res.forecasts["model"] == "Custom #2"]["y_hat"].to_numpy()
    plain = res.forecasts[res.forecasts["model"] == "Custom"]["y_hat"].to_numpy()
    np.testing.assert_array_equal(doubled, 2 * plain)


def test_a_dict_names_the_models(air: pd.DataFrame) -> None:
    res = tsf.backtest({"short": Drift(12), "long": Mean(12)}, air, tsf.WalkForward(2, 12), baselines={"rw": "naive"})
    assert res.models == ["short", "long", "rw", "seasonal_naive"]
    assert set(res.summary().index) == set(res.models)


def test_the_reference_name_is_reserved(air: pd.DataFrame) -> None:
    with pytest.raises(tsf.DataError, match=r"The name 'seasonal_naive' is reserved for the reference .* \(12\)"):
        tsf.backtest({"seasonal_naive": Naive(12)}, air, tsf.WalkForward(2, 12))


def test_a_name_that_is_not_a_string_is_refused(air: pd.DataFrame) -> None:
    with pytest.raises(tsf.DataTypeError, match=r"Model names must be non-empty strings; got 3"):
        tsf.backtest({3: Naive(12)}, air, tsf.WalkForward(2, 12))


def _ragged() -> pd.DataFrame:
    """Two long monthly series and two that start late, so a seasonal model skips them in early folds."""
    rng = np.random.default_rng(0)
    parts = []
    for k, start in enumerate((0, 0, 40, 46)):
        ds = pd.date_range("2000-01-01", periods=72, freq="MS")[start:]
        y = 50 + 5 * np.sin(np.arange(start, 72) * np.pi / 6) + rng.normal(0, 1, len(ds)).cumsum()
        parts.append(pd.DataFrame({"unique_id": f"s{k}", "ds": ds, "y": y}))
    return pd.concat(parts, ignore_index=True)


def test_models_are_ranked_on_the_series_folds_all_of_them_forecast() -> None:
    res = tsf.backtest("naive", _ragged(), tsf.WalkForward(3, 6))
    summary = res.summary()
    common = res.compared()
    assert (summary["compared"] == len(common)).all()
    assert summary.loc["naive", "forecast"] > summary.loc["seasonal_naive", "forecast"]
    assert summary.loc["seasonal_naive", "left_out"] == summary.loc["naive", "forecast"] - len(common)
    keys = res.metrics.merge(common, on=["fold", "unique_id"])
    for model, part in keys.groupby("model"):
        assert summary.loc[model, "mase"] == pytest.approx(part["mase"].mean())
    own = res.summary(on="own")
    naive = res.metrics[res.metrics["model"] == "naive"]
    assert own.loc["naive", "mase"] == pytest.approx(naive["mase"].mean())
    gaps = res.skipped[res.skipped["model"] == "seasonal_naive"]
    assert len(gaps) == summary.loc["seasonal_naive", "left_out"]
    assert all(r.startswith("too short for the model (") for r in gaps["reason"])


def test_summary_refuses_an_unknown_ground(air: pd.DataFrame) -> None:
    res = tsf.backtest("naive", air, tsf.WalkForward(2, 12))
    with pytest.raises(tsf.DataError, match=r"summary\(on='all'\): choose 'common'"):
        res.summary(on="all")


def test_repr_is_a_short_summary(air: pd.DataFrame) -> None:
    res = tsf.backtest("naive", air, tsf.WalkForward(2, 12))
    assert repr(res) == (
        "BacktestResult(models=['naive', 'seasonal_naive'], folds=2, series=1, best='seasonal_naive' "
        "(MASE 1.614 on 2 series-folds), audit=not run)"
    )


def test_a_level_no_calibration_can_reach_is_refused_before_any_fit(air: pd.DataFrame) -> None:
    with pytest.raises(tsf.DataError, match=r"level=99.9999 needs at least 999,999 calibration residuals per"):
        tsf.backtest(Exploding(), air, tsf.WalkForward(2, 12), level=99.9999)


def test_a_level_written_as_a_fraction_is_refused_with_the_percentage_meant(air: pd.DataFrame) -> None:
    with pytest.raises(tsf.DataError, match=r"level=0.8 is a fraction, but levels are coverage percentages: did you"):
        tsf.backtest(Exploding(), air, tsf.WalkForward(2, 12), level=0.8)
    with pytest.raises(tsf.DataError, match=r"did you mean 95\?"):
        Naive(3).fit(air).predict(level=[0.95])


def test_a_run_in_which_nothing_can_be_forecast_is_one_clear_error(air: pd.DataFrame) -> None:
    with pytest.raises(
        tsf.DataError, match=r"No model forecast any series in any fold: too short for the model \(1 row"
    ):
        tsf.backtest("naive", air, tsf.WalkForward(2, 12, window="sliding", train_size=1))


def test_a_series_passed_with_the_audit_is_audited(air: pd.DataFrame) -> None:
    series = air.set_index("ds")["y"]
    res = tsf.backtest("naive", series, tsf.WalkForward(2, 12), audit=True)
    assert res.audit is not None
    assert res.audit.status == "passed"


def test_predict_gives_fewer_steps_than_the_horizon_on_request(air: pd.DataFrame) -> None:
    model = Drift(horizon=12).fit(air)
    full = model.predict()
    np.testing.assert_array_equal(model.predict(h=5)["y_hat"], full["y_hat"][:5])
    assert model.predict(h=5)["ds"].tolist() == full["ds"][:5].tolist()
    with pytest.raises(tsf.DataError, match=r"h=13 must be a whole number of steps from 1 to the horizon .*horizon=12"):
        model.predict(h=13)


# --- the property: one row set per entry, each scored by its own code --------------------------


POOL = [
    "naive",
    "seasonal_naive",
    "drift",
    Naive(6),
    SeasonalNaive(6),
    SeasonalNaive(6, season=2),
    SeasonalNaive(6, season=12),
    Drift(6),
    Mean(6),
    PlusSeven(6),
]


@given(st.lists(st.sampled_from(range(len(POOL))), min_size=1, max_size=6))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_every_entry_keeps_one_row_set_and_is_scored_by_its_own_code(picks: list[int]) -> None:
    data = tsf.load_dataset("air_passengers")
    specs = [POOL[k] for k in picks]
    cv = tsf.WalkForward(2, 6)
    res = tsf.backtest(specs, data, cv, baselines=())
    resolved = []
    for spec in specs:
        model = tsf.make_model(spec, horizon=6, season=12) if isinstance(spec, str) else clone(spec)
        if getattr(model, "season", 0) is None:
            model.set_params(season=12)
        key = (type(model), repr(sorted(model.get_params().items())))
        if key not in [k for k, _ in resolved]:
            resolved.append((key, model))
    reference = (SeasonalNaive, repr(sorted(SeasonalNaive(6, season=12).get_params().items())))
    expected = len(resolved) + (reference not in [k for k, _ in resolved])
    assert len(res.models) == expected == res.forecasts["model"].nunique()
    for name, (_, model) in zip(res.models, resolved, strict=False):
        mine = res.forecasts[res.forecasts["model"] == name]
        for fold in cv.folds(data):
            own = clone(model).fit(fold.train).predict()
            np.testing.assert_array_equal(mine[mine["fold"] == fold.index]["y_hat"].to_numpy(), own["y_hat"][:6])


def test_two_sgd_configurations_keep_two_row_sets(air: pd.DataFrame) -> None:
    models = [
        tsf.SGDForecaster(lookback=24, horizon=12, epochs=1),
        tsf.SGDForecaster(lookback=36, horizon=12, epochs=1),
    ]
    res = tsf.backtest(models, air, tsf.WalkForward(1, 12), baselines=())
    assert res.models == ["sgd(epochs=1)", "sgd(epochs=1, lookback=36)", "seasonal_naive"]  # parameters by name
    first, second = (res.forecasts[res.forecasts["model"] == name]["y_hat"].to_numpy() for name in res.models[:2])
    assert len(first) == len(second) == 12
    assert not np.array_equal(first, second)


def test_an_ets_object_is_seasonal_on_monthly_data_as_its_name_is(air: pd.DataFrame) -> None:
    by_object = tsf.backtest(tsf.ETS(horizon=12), air, tsf.WalkForward(2, 12), baselines=())
    by_name = tsf.backtest("ets", air, tsf.WalkForward(2, 12), baselines=())
    pd.testing.assert_frame_equal(by_object.forecasts, by_name.forecasts)
    assert tsf.ETS(horizon=12).fit(air).season_ == 12


def test_a_fold_too_short_to_calibrate_is_refused_before_any_fit(air: pd.DataFrame) -> None:
    short = air.iloc[:84]
    with pytest.raises(tsf.DataError, match=r"Exploding cannot calibrate prediction intervals at fold 0: its training"):
        tsf.backtest(Exploding(), short, tsf.WalkForward(5, 12), baselines=(), level=80)


def test_one_name_given_to_two_models_is_refused(air: pd.DataFrame) -> None:
    with pytest.raises(tsf.DataError, match=r"The name 'mine' is given to two models \(in model and in baselines\)"):
        tsf.backtest({"mine": tsf.ETS(12)}, air, tsf.WalkForward(2, 12), baselines={"mine": "naive"})
