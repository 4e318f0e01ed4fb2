"""Tests of tsforecast.models.sgd (SGDForecaster) and tsforecast.models.networks."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from tsforecast import load_dataset
from tsforecast.errors import DataError, DataTypeError, ShuffleError
from tsforecast.models.networks import ResidualMLP
from tsforecast.models.sgd import (
    PARTIAL_SHARE,
    SGDForecaster,
    damped_base_matrix,
    drift_base_matrix,
    normalise,
    temporal_split,
)
from tsforecast.models.sgd.training import network_share
from tsforecast.schedules import simulate

ROOT = Path(__file__).resolve().parents[1]
SEASON = 4
LOG_LINE = r"Epoch +\d+/\d+ lr: \d+\.\d{6} Cost: \d+\.\d{6} Val: \d+\.\d{6} \[member \d+/\d+: \w+, lookback \d+\]"


def seasonal(n: int = 72, seed: int = 0) -> np.ndarray:
    """A noisy quarterly-seasonal, trending, positive series."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 20.0 + 0.1 * t + 3.0 * np.sin(2 * np.pi * t / SEASON) + rng.normal(0.0, 0.5, n)


def small(**params: Any) -> SGDForecaster:
    """A fast one-member model for quarterly-like test data."""
    defaults: dict[str, Any] = {
        "lookback": 8,
        "horizon": 4,
        "season": SEASON,
        "family": "drift",
        "scales": (1.0,),
        "epochs": 15,
    }
    return SGDForecaster(**{**defaults, **params})


# ------------------------------------------------------------------------------ learning rates ---- #


@pytest.mark.parametrize(
    ("decay", "extra"),
    [
        ("step", {"step_size": 3, "gamma": 0.5}),
        ("inverse_time", {"decay_rate": 0.3}),
        ("exponential", {"decay_rate": 0.2}),
        ("plateau", {"gamma": 0.5, "patience": 1}),
        ("none", {}),
    ],
)
def test_history_lr_is_the_schedule(decay: str, extra: dict[str, Any]) -> None:
    model = small(decay=decay, lr=0.02, early_stopping=None, **extra).fit(seasonal())
    history = model.history_
    assert history["epoch"].tolist() == list(range(1, len(history) + 1))
    val_costs = history["val_cost"].tolist() if decay == "plateau" else None
    expected = simulate(decay, 0.02, len(history), val_costs=val_costs, **extra)
    np.testing.assert_allclose(history["lr"].to_numpy(), expected, rtol=1e-12, atol=0)
    assert history["lr"].iloc[-1] < 0.02 or decay == "none" or (decay == "plateau" and len(set(history["lr"])) == 1)


def test_epoch_budget_respects_max_steps() -> None:
    model = small(epochs=100, max_steps=10, batch_size=4, early_stopping=None).fit(seasonal())
    n_fit_batches = -(-(len(seasonal()) - 8 - 4 + 1 - 8 - 3) // 4)  # windows - validation - purged
    assert len(model.history_) == max(1, 10 // n_fit_batches)


# ----------------------------------------------------------------------------- shuffle guard ---- #


def test_shuffle_true_is_refused() -> None:
    with pytest.raises(ShuffleError, match=r"SGDForecaster\(shuffle=True\).*must not be shuffled.*shuffle=False"):
        small(shuffle=True).fit(seasonal())


# ----------------------------------------------------------------------------- determinism ---- #


def test_same_seed_gives_bit_identical_forecasts_and_leaves_global_rng_alone() -> None:
    state = torch.get_rng_state()
    first = small(family="both").fit(seasonal()).predict()
    second = small(family="both").fit(seasonal()).predict()
    assert torch.equal(state, torch.get_rng_state())
    assert first.tobytes() == second.tobytes()
    assert small(family="both", seed=1).fit(seasonal()).predict().tobytes() != first.tobytes()


def test_forecasts_identical_across_processes_and_thread_counts() -> None:
    script = textwrap.dedent(
        """
        import sys, numpy as np, torch
        torch.set_num_threads(int(sys.argv[1]))
        from tsforecast.models.sgd import SGDForecaster
        t = np.arange(72)
        y = 20.0 + 0.1 * t + 3.0 * np.sin(2 * np.pi * t / 4) + np.random.default_rng(0).normal(0.0, 0.5, 72)
        model = SGDForecaster(8, 4, season=4, scales=(1.0,), epochs=10).fit(y)
        print(model.predict().tobytes().hex(), torch.get_num_threads())
        """
    )
    runs = [  # both processes at once, to keep the test fast
        subprocess.Popen([sys.executable, "-c", script, str(threads)], stdout=subprocess.PIPE, text=True, cwd=ROOT)
        for threads in (1, 2)
    ]
    outputs = [run.communicate(timeout=120)[0].split() for run in runs]
    assert outputs[0][0] == outputs[1][0]
    assert [out[1] for out in outputs] == ["1", "2"]  # the caller's thread setting is restored


# --------------------------------------------------------------------------- sklearn conventions ---- #


def test_clone_get_params_set_params_round_trip() -> None:
    model = small(lr=0.05, decay="exponential", decay_rate=0.1)
    params = model.get_params()
    assert params["lr"] == 0.05
    assert params["scales"] == (1.0,)
    copy = clone(model)
    assert copy.get_params() == params
    copy.set_params(lr=0.2, epochs=3)
    assert copy.lr == 0.2
    assert copy.epochs == 3
    assert model.lr == 0.05
    assert small().fit(seasonal()) is not None
    fitted = small().fit(seasonal())
    assert clone(fitted).get_params() == fitted.get_params()
    assert not hasattr(clone(fitted), "history_")


@pytest.mark.parametrize(
    ("param", "value", "message"),
    [
        ("lr", -0.1, r"The 'lr' parameter of SGDForecaster must be a float in the range \(0, inf\). Got -0.1 instead."),
        ("decay", "cosine", r"The 'decay' parameter of SGDForecaster must be one of \{'step'"),
        ("validation", 0.7, r"The 'validation' parameter of SGDForecaster must be a float in the range \(0, 0.5\)"),
        ("scales", (0.5,), r"The 'scales' parameter of SGDForecaster must be a non-empty tuple of numbers >= 1"),
        ("lookback", 6, r"'lookback' parameter of SGDForecaster must be at least two seasons .*= 8\)"),
        ("min_gain", 1.0, r"The 'min_gain' parameter of SGDForecaster must be a float in the range \[0, 1\)"),
    ],
)
def test_bad_parameters_are_named_in_fit(param: str, value: Any, message: str) -> None:
    model = small(**{param: value})  # the constructor only stores
    with pytest.raises(DataError, match=message):
        model.fit(seasonal())


def test_decay_parameters_are_checked_under_their_own_name_before_the_data() -> None:
    not_a_series = np.zeros((3, 3))  # would be refused too, but only once the data is prepared
    with pytest.raises(
        DataError, match=r"The 'gamma' parameter of SGDForecaster must be a float in the range \(0, 1\)\."
    ):
        SGDForecaster(gamma=1.0).fit(not_a_series)
    with pytest.raises(ShuffleError, match=r"SGDForecaster\(shuffle=True\) was requested"):
        SGDForecaster(shuffle=True).fit(not_a_series)
    assert small(decay="step", gamma=1.0).fit(seasonal()).predict().shape == (4,)  # gamma=1 is a constant step decay


def test_wrong_parameter_type() -> None:
    with pytest.raises(DataTypeError, match=r"The 'epochs' parameter of SGDForecaster must be an int"):
        small(epochs="many").fit(seasonal())


# ------------------------------------------------------------------------------ persistence ---- #


def test_save_load_round_trip_gives_identical_forecasts(tmp_path: Path) -> None:
    df = load_dataset("uk_lung_deaths")
    model = SGDForecaster(24, 12, scales=(1.0, 1.5), epochs=3).fit(df)
    path = tmp_path / "model.pt"
    model.save(path)
    loaded = SGDForecaster.load(path)
    pd.testing.assert_frame_equal(loaded.predict(), model.predict())
    pd.testing.assert_frame_equal(loaded.predict(df.iloc[5:]), model.predict(df.iloc[5:]))
    pd.testing.assert_frame_equal(loaded.history_, model.history_)
    assert loaded.get_params() == model.get_params()
    assert loaded.last_seen_ == model.last_seen_


def test_save_load_array_model(tmp_path: Path) -> None:
    model = small().fit(seasonal())
    model.save(tmp_path / "m.pt")
    assert np.array_equal(SGDForecaster.load(tmp_path / "m.pt").predict(), model.predict())


def test_tampered_and_foreign_files_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "model.pt"
    small().fit(seasonal()).save(path)
    payload = torch.load(path, weights_only=True)
    payload["tensors"]["member0.linear.bias"] += 1.0
    torch.save(payload, tmp_path / "tampered.pt")
    with pytest.raises(DataError, match="was modified after it was saved"):
        SGDForecaster.load(tmp_path / "tampered.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a model at all")
    with pytest.raises(DataError, match=r"is not an SGDForecaster file written by SGDForecaster\.save"):
        SGDForecaster.load(tmp_path / "junk.pt")
    torch.save({"weights": torch.zeros(2)}, tmp_path / "foreign.pt")
    with pytest.raises(DataError, match="format marker is missing"):
        SGDForecaster.load(tmp_path / "foreign.pt")
    with pytest.raises(DataError, match="does not exist"):
        SGDForecaster.load(tmp_path / "absent.pt")


def test_custom_module_must_be_passed_to_load(tmp_path: Path) -> None:
    def factory(lookback: int, horizon: int, channels: int) -> torch.nn.Module:
        return ResidualMLP(lookback, horizon, channels, hidden=4)

    model = small(module=factory).fit(seasonal())
    model.save(tmp_path / "m.pt")
    with pytest.raises(DataError, match=r"custom module factory; pass it as load\(path, module=...\)"):
        SGDForecaster.load(tmp_path / "m.pt")
    assert np.array_equal(SGDForecaster.load(tmp_path / "m.pt", module=factory).predict(), model.predict())


# ------------------------------------------------------------------------------- bad inputs ---- #


@pytest.mark.parametrize(
    ("data", "error", "message"),
    [
        (seasonal(25), DataError, r"25 observations; SGDForecaster with lookback=8 and horizon=4 needs at least 26"),
        (np.r_[seasonal(40), np.nan], DataError, "NaN or infinite"),
        (np.ones((40, 2)), DataError, r"Expected a 1-D array .* shape \(40, 2\)"),
        (np.array([]), DataError, "empty"),
        (np.array(["a"] * 40), DataError, "must be numeric"),
    ],
)
def test_bad_inputs(data: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        small().fit(data)


def test_min_length_formula() -> None:
    assert small().min_length() == 8 + 2 * 4 + 10
    assert SGDForecaster(24, 12).min_length() == 58


def test_predict_before_fit() -> None:
    with pytest.raises(NotFittedError):
        small().predict()


def test_predict_refuses_short_or_non_positive_new_history() -> None:
    model = small(scales=(1.0, 1.5)).fit(seasonal())
    with pytest.raises(DataError, match=r"has 11 observations; .* needs at least 12"):
        model.predict(seasonal(11))
    with pytest.raises(DataError, match=r"value <= 0 \(-1\).*log of strictly positive"):
        model.predict(np.r_[-1.0, seasonal(40)])


# ------------------------------------------------------------------------------- learning ---- #


def test_cost_decreases_on_noisy_seasonal_signal() -> None:
    model = small(epochs=40, early_stopping=None, lr=0.01).fit(seasonal(120))
    costs = model.history_["train_cost"].to_numpy()
    assert costs[-5:].mean() < 0.8 * costs[:3].mean()
    assert model.best_epochs_[0] > 0


def test_untrained_members_forecast_their_base() -> None:
    y = np.tile([10.0, 20.0, 30.0, 15.0], 10)  # exact season, no trend: every base is seasonal naive
    model = small(family="both", scales=(1.0, 2.0), epochs=1, lr=1e-12).fit(y)
    np.testing.assert_allclose(model.predict(), [10.0, 20.0, 30.0, 15.0], rtol=1e-5)


def test_divergence_warns_and_falls_back_to_finite_weights() -> None:
    with pytest.warns(RuntimeWarning, match=r"diverged at epoch \d+: the cost is not finite.*epoch 0 is the untrained"):
        model = small(lr=1e6, momentum=0.9, loss="mse", early_stopping=None).fit(seasonal())
    assert np.isfinite(model.predict()).all()


def test_non_seasonal_series_are_forecast() -> None:
    df = load_dataset("nile")
    model = SGDForecaster(lookback=10, horizon=5, scales=(1.0, 2.0), epochs=20).fit(df)
    forecast = model.predict()
    assert model.season_ == 1
    assert len(forecast) == 5
    assert forecast["y_hat"].between(df["y"].min(), df["y"].max()).all()


# ---------------------------------------------------------------------- layout and logging ---- #


def test_network_input_layout_is_n_c_l() -> None:
    shapes: list[tuple[int, ...]] = []

    class Recorder(torch.nn.Module):
        def __init__(self, lookback: int, horizon: int, channels: int) -> None:
            super().__init__()
            self.net = ResidualMLP(lookback, horizon, channels)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            shapes.append(tuple(x.shape))
            return self.net(x)

    small(module=Recorder, batch_size=5, epochs=2).fit(seasonal())
    assert (5, 1, 8) in shapes  # a training batch; validation passes all its windows at once
    assert all(len(s) == 3 and s[1:] == (1, 8) for s in shapes)


def test_residual_mlp_starts_at_zero_with_signed_hidden_weights() -> None:
    net = ResidualMLP(24, 12)
    assert torch.count_nonzero(net(torch.randn(4, 1, 24))) == 0
    assert (net.hidden.weight < 0).any()
    assert (net.hidden.weight > 0).any()


def test_epoch_log_format(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="tsforecast"):
        model = small(epochs=12, early_stopping=None).fit(seasonal())
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("tsforecast") and "Epoch" in r.getMessage()]
    assert len(lines) == len(model.history_)
    assert all(pd.Series(lines).str.fullmatch(LOG_LINE))
    assert lines[9].startswith("Epoch   10/12 lr: 0.010000 Cost: ")
    assert lines[9].endswith(" [member 1/1: drift, lookback 8]")
    assert [r.levelno for r in caplog.records if "Epoch   10/" in r.getMessage()] == [logging.INFO]


def test_epoch_log_and_history_name_each_member(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="tsforecast"):
        model = small(family="drift+es", scales=(1.0, 1.5), epochs=10, early_stopping=None).fit(seasonal())
    lines = [r.getMessage() for r in caplog.records if "Epoch   10/10" in r.getMessage()]
    assert [line[line.index("[") :] for line in lines] == [
        "[member 1/4: drift, lookback 8]",
        "[member 2/4: drift, lookback 12]",
        "[member 3/4: es, lookback 8]",
        "[member 4/4: es, lookback 12]",
    ]
    members = model.history_.groupby("member")[["family", "lookback"]].first()
    assert members.to_records(index=False).tolist() == [("drift", 8), ("drift", 12), ("es", 8), ("es", 12)]


@pytest.mark.parametrize(("season", "families"), [(4, ["es"]), (7, ["es"]), (12, ["drift", "es"])])
def test_auto_family_adds_drift_members_for_seasons_of_12_or_more(season: int, families: list[str]) -> None:
    t = np.arange(max(6 * season, 48))
    y = 20.0 + 0.1 * t + 3.0 * np.sin(2 * np.pi * t / season)
    model = SGDForecaster(2 * season, season, season=season, scales=(1.0,), epochs=1).fit(y)
    assert model.family == "auto"
    assert [recipe.family for recipe in model.recipes_] == families


def test_auto_family_follows_an_inferred_season() -> None:
    t = np.arange(96)
    y = 20.0 + 3.0 * np.sin(2 * np.pi * t / 12) + np.random.default_rng(0).normal(0.0, 0.3, 96)
    model = SGDForecaster(24, 12, scales=(1.0,), epochs=1).fit(y)  # a plain array: the season is inferred
    assert (model.season_, [recipe.family for recipe in model.recipes_]) == (12, ["drift", "es"])


# ----------------------------------------------------------------------- the networks' shares ---- #


@pytest.mark.parametrize(
    ("base", "best", "min_gain", "share"),
    [
        (1.0, 0.8, 0.125, 1.0),
        (1.0, 0.875, 0.125, 1.0),
        (1.0, 0.9, 0.125, 0.5),
        (1.0, 1.0, 0.125, 0.5),
        (1.0, 0.99, 0.0, 1.0),
    ],
)
def test_a_network_keeps_its_whole_correction_only_when_it_gains_min_gain(
    base: float, best: float, min_gain: float, share: float
) -> None:
    assert network_share(base, best, min_gain) == share


def test_a_member_whose_network_gains_too_little_forecasts_half_way_to_its_base() -> None:
    y = seasonal(120) - 25.0  # crosses zero: the model works on y itself, so the ensemble mean is linear
    whole = small(min_gain=0.0).fit(y)
    halved = small(min_gain=0.99).fit(y)  # no network lowers its validation cost by 99 %
    assert whole.best_epochs_ == halved.best_epochs_  # the same training
    assert whole.best_epochs_[0] > 0
    pd.testing.assert_frame_equal(whole.history_, halved.history_, check_exact=True)
    assert (whole.shares_, halved.shares_) == ([1.0], [PARTIAL_SHARE])
    base = clone(halved).fit(y)
    base.state_.members[0].share = 0.0  # the member's base alone
    np.testing.assert_allclose(halved.predict(), (whole.predict() + base.predict()) / 2, rtol=1e-5)
    assert not np.allclose(halved.predict(), whole.predict(), rtol=1e-3)


def test_every_trained_network_keeps_its_whole_correction_under_a_tiny_min_gain() -> None:
    model = small(family="es", scales=(1.0, 1.5), epochs=30, min_gain=1e-12).fit(seasonal(120))
    assert SGDForecaster().min_gain == 0.125  # the default (docs/accuracy-research.md section 6)
    assert any(epoch > 0 for epoch in model.best_epochs_)
    for epoch, share in zip(model.best_epochs_, model.shares_, strict=True):
        assert share == (1.0 if epoch > 0 else PARTIAL_SHARE)  # a kept epoch > 0 lowered the validation cost


# ---------------------------------------------------------------------------------- panels ---- #


def test_panel_fit_predicts_one_row_per_series_and_step() -> None:
    df = load_dataset("arrivals")
    model = SGDForecaster(8, 4, scales=(1.0,), epochs=5).fit(df)
    forecast = model.predict()
    assert list(forecast.columns) == ["unique_id", "ds", "y_hat"]
    assert len(forecast) == df["unique_id"].nunique() * 4
    assert (
        forecast.groupby("unique_id")["ds"]
        .min()
        .eq(df.groupby("unique_id")["ds"].max() + pd.DateOffset(months=3))
        .all()
    )
    assert set(model.history_["member"]) == {0}  # one family ("es") at one scale


# --------------------------------------------------------------------------------- leakage ---- #


def test_forecast_ignores_everything_after_the_cutoff() -> None:
    y = seasonal(80)
    cutoff = 60
    other = y.copy()
    other[cutoff:] = np.random.default_rng(1).normal(100.0, 50.0, len(y) - cutoff)
    first = small(family="both").fit(y[:cutoff]).predict()
    second = small(family="both").fit(other[:cutoff]).predict()
    assert first.tobytes() == second.tobytes()


def test_predict_y_new_is_a_pure_function_of_the_new_history() -> None:
    y = seasonal(80)
    model = small(family="both").fit(y[:60])
    before = model.predict()
    assert model.predict(y[:60]).tobytes() == before.tobytes()
    later = model.predict(y[:70])
    assert model.predict().tobytes() == before.tobytes()  # predicting on new data changes no state
    assert clone(model).fit(y[:60]).predict(y[:70]).tobytes() == later.tobytes()


def test_temporal_split_purges_overlapping_windows() -> None:
    start = np.arange(50)
    end = start + 5
    fit, val = temporal_split(start, end, 0.15)
    assert len(val) == 8
    assert end[fit].max() < start[val].min()
    assert len(fit) == 50 - 8 - 5


# -------------------------------------------------------------------------- base forecasts ---- #


@pytest.mark.parametrize("season", [1, 4, 12])
@pytest.mark.parametrize("build", [drift_base_matrix, damped_base_matrix])
def test_bases_reproduce_a_pure_season(build: Any, season: int) -> None:
    pattern = np.arange(1.0, season + 1)
    window = np.tile(pattern, 3)
    indices = pattern - pattern.mean() if build is damped_base_matrix else np.zeros(season)  # "decomposed" removes them
    adjusted = window - np.resize(indices, len(window))
    base = adjusted @ build(len(window), 2 * season, season) + np.resize(indices, 2 * season)
    np.testing.assert_allclose(base, np.resize(pattern, 2 * season), atol=1e-12)


def test_normalise_uses_only_the_window() -> None:
    windows = torch.as_tensor(np.stack([seasonal(12), 5.0 * seasonal(12)])[:, None, :], dtype=torch.float32)
    inputs, base, scale = normalise(windows, torch.as_tensor(drift_base_matrix(12, 4, 4), dtype=torch.float32), 4)
    torch.testing.assert_close(inputs[0], inputs[1])  # scale-free
    torch.testing.assert_close(5.0 * base[0], base[1])
    torch.testing.assert_close(5.0 * scale[0], scale[1])
