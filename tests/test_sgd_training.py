"""Tests of SGDForecaster's training data and loop on long series: memory, step budget, stability, honest validation."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from torch.utils.data import SequentialSampler

from tsforecast.errors import ShuffleError
from tsforecast.models.networks import ResidualMLP
from tsforecast.models.sgd import Recipe, SGDForecaster, base_forecast, estimator, training_data
from tsforecast.models.sgd.base_forecast import es_parameters, normalise
from tsforecast.models.sgd.training_data import (
    MAX_VAL_WINDOWS,
    MemberWindows,
    ModelSeries,
    member_windows,
    training_smoothing,
)
from tsforecast.models.smoothing import estimate_chains, smoothing_forecasts


def sine(n: int, season: int = 24, seed: int = 0) -> np.ndarray:
    """A plain sine plus noise: nothing a stable fit should diverge on."""
    t = np.arange(n)
    return 10.0 + np.sin(2 * np.pi * t / season) + np.random.default_rng(seed).normal(0.0, 0.3, n)


def one_series(y: np.ndarray) -> ModelSeries:
    return ModelSeries(z=[y], times=np.arange(len(y), dtype=np.int64), seasonal=[])


def windows_of(series: ModelSeries, recipe: Recipe, **params: object) -> tuple[MemberWindows, np.ndarray, np.ndarray]:
    """``member_windows`` of one member, with the smoothing states its fit would give it."""
    horizon, validation = params["horizon"], params["validation"]
    smoothing = training_smoothing(series, [recipe], params["season"], horizon, validation)  # type: ignore[arg-type]
    return member_windows(series, recipe, **params, smoothing=smoothing)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- long series ---- #


def _status(field: str) -> int:
    """A ``/proc/self/status`` memory field in bytes."""
    with open("/proc/self/status") as status:
        return int(next(line for line in status if line.startswith(field)).split()[1]) * 1024


def test_fit_on_200000_points_takes_memory_in_proportion_to_the_series() -> None:
    y = sine(200_000)
    SGDForecaster(48, 24, season=24, epochs=1).fit(y[:400])  # warm-up: lazy imports and allocations
    base = _status("VmRSS")
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")  # reset the peak resident set size (VmHWM) to the current RSS
    except OSError:
        pytest.skip("needs Linux /proc/self/clear_refs to reset the peak resident set size")
    SGDForecaster(48, 24, season=24, epochs=1, max_steps=20).fit(y)
    peak = _status("VmHWM") - base
    # O(T): under 64 float64 copies of the series (512 B a point), less than ONE float32 copy of the windows of the
    # longest member (lookback 144: 576 B a point); materialising them took ~2,200 B a point.
    assert peak < 64 * y.nbytes


def test_max_steps_is_honoured_inside_an_epoch() -> None:
    steps: list[int] = []

    def counting(lookback: int, horizon: int, channels: int) -> torch.nn.Module:
        net = ResidualMLP(lookback, horizon, channels)
        net.register_forward_hook(lambda module, args, out: steps.append(1) if module.training else None)
        return net

    y = sine(2_000, season=4)  # about 1,700 fitting windows: one epoch would be 53 batches of 32
    model = SGDForecaster(8, 4, season=4, family="drift", scales=(1.0,), module=counting, max_steps=20).fit(y)
    assert len(steps) == 20  # one forward per optimizer step
    assert model.history_["epoch"].tolist() == [1]


def test_a_large_panel_takes_fewer_windows_per_series_per_step(monkeypatch: pytest.MonkeyPatch) -> None:
    sizes: list[int] = []

    def recording(lookback: int, horizon: int, channels: int) -> torch.nn.Module:
        net = ResidualMLP(lookback, horizon, channels)
        net.register_forward_hook(lambda module, args, out: sizes.append(len(args[0])) if module.training else None)
        return net

    monkeypatch.setattr(estimator, "MAX_BATCH_WINDOWS", 64)  # 8 series: 8 windows per series per step, not 32
    panel = pd.DataFrame(
        {"unique_id": np.repeat([f"s{i}" for i in range(8)], 200), "ds": np.tile(np.arange(200), 8)}
    ).assign(y=np.concatenate([sine(200, season=4, seed=i) for i in range(8)]))
    params = {"season": 4, "family": "drift", "scales": (1.0,), "module": recording, "max_steps": 5}
    SGDForecaster(8, 4, **params).fit(panel)
    assert sizes == [64] * 5  # 5 full steps of 8 windows per series


def test_a_partial_epoch_trains_on_each_series_most_recent_fitting_windows() -> None:
    _, fit, val = windows_of(
        one_series(sine(2_000, season=4)),
        Recipe("drift", 8, "huber", 0.1),
        season=4,
        horizon=4,
        validation=0.15,
        extra=False,
        budget=20 * 32,
    )
    assert len(fit) == 640
    np.testing.assert_array_equal(np.diff(fit), 1)
    assert fit[-1] == val[0] - 4  # the 3 windows straddling tau are purged, nothing more


def test_panel_split_by_time_and_budget_per_series() -> None:
    long, short = sine(300, season=4), sine(120, season=4, seed=1)
    times = np.r_[np.arange(300), np.arange(180, 300)]  # both series end at time 299
    series = ModelSeries(z=[long, short], times=times.astype(np.int64), seasonal=[])
    params = {"season": 4, "horizon": 4, "validation": 0.15, "extra": False}
    windows, fit, val = windows_of(series, Recipe("drift", 8, "huber", 0.1), **params, budget=10**9)
    target_time = times[windows.dataset.start_of() + 8]
    assert target_time[fit].max() + 3 < target_time[val].min()  # every fitting target before every validation one
    assert len(fit) + len(val) + 2 * 3 == len(windows.dataset)  # 3 windows purged per series
    _, recent, _ = windows_of(series, Recipe("drift", 8, "huber", 0.1), **params, budget=50)
    owner = windows.dataset.start_of(recent) >= 300
    assert (np.bincount(owner) == 50).all()  # each series' 50 most recent fitting windows
    np.testing.assert_array_equal(recent[owner], fit[fit >= fit.max() - 49])


def test_validation_uses_the_most_recent_windows_up_to_a_bound() -> None:
    y = sine(80_000, season=4)
    _, _, val = windows_of(
        one_series(y), Recipe("drift", 8, "huber", 0.1), season=4, horizon=4, validation=0.15, extra=False, budget=640
    )
    assert len(val) == MAX_VAL_WINDOWS
    assert val[-1] == len(y) - 8 - 4  # the last window of the series


def test_sine_plus_noise_of_200000_points_fits_without_divergence() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # a diverged member warns
        model = SGDForecaster(48, 24, season=24, epochs=1, max_steps=20).fit(sine(200_000))
    assert np.isfinite(model.history_[["train_cost", "val_cost"]].to_numpy()).all()
    assert len(model.recipes_) == 6  # season 24: family="auto" takes the drift and es families


def test_recency_weights_of_old_windows_stay_positive() -> None:
    windows, fit, _ = windows_of(
        one_series(sine(200_000)),
        Recipe("drift", 48, "huber", 0.1),
        season=24,
        horizon=24,
        validation=0.15,
        extra=False,
        budget=10**9,
    )
    oldest, newest = windows.batch(fit[:32]), windows.batch(fit[-32:])  # ~8,300 seasons apart
    for batch in (oldest, newest):
        assert (batch.weights > 0).all()
        assert batch.weights.max() == 1.0
    torch.testing.assert_close(oldest.weights, newest.weights)  # a batch's weights are relative to its youngest


def test_small_data_normalised_once_or_per_batch_trains_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    y = sine(300, season=4)
    windows, fit, _ = windows_of(
        one_series(y), Recipe("drift", 8, "huber", 0.1), season=4, horizon=4, validation=0.15, extra=False, budget=640
    )
    once = windows.drawer(fit)  # 300 points: one normalised copy
    monkeypatch.setattr(training_data, "MATERIALISED_BYTES", 0)
    per_batch = windows.drawer(fit)
    for positions in ([0, 1, 2], list(range(100, 132))):
        for name in ("inputs", "targets", "weights"):
            torch.testing.assert_close(getattr(once(positions), name), getattr(per_batch(positions), name))
    model = SGDForecaster(8, 4, season=4, scales=(1.0,), epochs=10)
    streamed = model.fit(y).predict()
    monkeypatch.undo()
    np.testing.assert_allclose(model.fit(y).predict(), streamed, rtol=1e-5)


def test_es_base_of_a_batch_is_the_smoothing_forecast_from_each_window_origin(monkeypatch: pytest.MonkeyPatch) -> None:
    y = sine(300, season=4)
    windows, fit, val = windows_of(
        one_series(y), Recipe("es", 8, "l1", 0.0), season=4, horizon=4, validation=0.15, extra=False, budget=640
    )
    tau = int(windows.dataset.start_of(val[0])[0]) + 8  # the first validation target
    params = es_parameters([y[:tau]], 4)[0]  # training fits the parameters on the values before it
    positions = fit[100:132]
    inputs, future = windows.dataset.batch(positions)
    _, in_window, scale = normalise(inputs, windows.base_matrix, 4)
    origin = windows.dataset.start_of(positions) + 8 - 1  # each window's last input
    es = torch.as_tensor(smoothing_forecasts([y], [params], 4)[0][origin], dtype=torch.float32)
    expected = (future - (in_window + es)) / scale
    torch.testing.assert_close(windows.batch(positions).targets, expected, rtol=0, atol=0)
    once = windows.drawer(fit)(list(range(100, 132)))  # 300 points: one normalised copy
    monkeypatch.setattr(training_data, "MATERIALISED_BYTES", 0)
    per_batch = windows.drawer(fit)(list(range(100, 132)))
    torch.testing.assert_close(once.targets, expected, rtol=0, atol=0)
    torch.testing.assert_close(per_batch.targets, expected, rtol=0, atol=0)


# ----------------------------------------------------------------------- honest validation ---- #


@pytest.mark.parametrize("family", ["decomposed", "es"])
def test_family_validation_uses_no_statistic_from_validation_targets(family: str) -> None:
    # The decomposed family's seasonal indices and the es family's smoothing parameters of the training
    # windows come from the values before the first validation target only.
    y = sine(400, season=12)
    recipe = Recipe(family, 24, "l1", 0.0)
    params = {"season": 12, "horizon": 12, "validation": 0.15, "extra": False, "budget": 10**9}
    windows, fit, val = windows_of(one_series(y), recipe, **params)
    tau = int(windows.dataset.start_of(val[0])[0]) + 24  # the first validation target
    other = y.copy()
    other[tau:] += 5.0 * np.cos(np.arange(len(y) - tau))  # a different seasonal shape after tau
    if family == "es":
        assert es_parameters([y], 12) != es_parameters([other], 12)  # parameters of the whole history would see it
    windows2, fit2, val2 = windows_of(one_series(other), recipe, **params)
    np.testing.assert_array_equal(fit, fit2)
    np.testing.assert_array_equal(val, val2)
    first, second = windows.batch(fit), windows2.batch(fit)
    for name in ("inputs", "targets", "weights"):
        torch.testing.assert_close(getattr(first, name), getattr(second, name), rtol=0, atol=0)
    # ... and in the model: the first epoch sees only fitting windows, so its training cost is the same.
    model = SGDForecaster(24, 12, season=12, family=family, scales=(1.0,), epochs=2)
    costs = [model.fit(series).history_["train_cost"].iloc[0] for series in (y, other)]
    assert costs[0] == costs[1]


def test_es_members_share_one_training_fit_that_precedes_every_members_validation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    y = sine(400, season=12)
    recipes = [Recipe("es", lookback, "l1", 0.0) for lookback in (24, 36, 72)]
    params = {"season": 12, "horizon": 12, "validation": 0.15, "extra": False, "budget": 10**9}
    series = one_series(y)
    states = training_smoothing(series, recipes, 12, 12, 0.15)
    taus = []
    for recipe in recipes:
        windows, _, val = member_windows(series, recipe, **params, smoothing=states)  # type: ignore[arg-type]
        taus.append(int(windows.dataset.start_of(val[0])[0]) + recipe.lookback)
    assert len(set(taus)) > 1  # the members' first validation targets differ ...
    other = y.copy()
    other[min(taus) :] += 5.0 * np.cos(np.arange(len(y) - min(taus)))
    np.testing.assert_array_equal(  # ... and the shared states before the earliest one ignore what follows it
        states.level[: min(taus)], training_smoothing(one_series(other), recipes, 12, 12, 0.15).level[: min(taus)]
    )
    calls: list[list[int]] = []
    monkeypatch.setattr(
        base_forecast,
        "estimate_chains",
        lambda h, chains, m: calls.append([len(z) for z in h]) or estimate_chains(h, chains, m),
    )
    model = SGDForecaster(24, 12, season=12, family="es", epochs=1).fit(y)
    assert len(model.recipes_) == 3
    assert calls[0] == [len(y)]  # one fit on the whole history, for predict ...
    assert len(calls) == 2  # ... and one shared by the three members' training ...
    assert calls[1][0] < len(y)  # ... on the values before the first validation target


# ------------------------------------------------------------------------------ shuffle guard ---- #


def test_the_training_loop_checks_the_order_of_its_batches_on_every_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    class BackwardsLater(SequentialSampler):  # type: ignore[type-arg]
        """In time order on the first pass, backwards on later ones."""

        passes = 0

        def __iter__(self):  # type: ignore[no-untyped-def]
            BackwardsLater.passes += 1
            forward = range(len(self.data_source))
            return iter(forward if BackwardsLater.passes == 1 else reversed(forward))

    monkeypatch.setattr(estimator, "SequentialSampler", BackwardsLater)
    pattern = r"SGDForecaster's BackwardsLater visits windows out of time order: index \d+ after .* of pass 2;"
    with pytest.raises(ShuffleError, match=pattern):
        SGDForecaster(8, 4, season=4, family="drift", scales=(1.0,), epochs=3).fit(sine(72, season=4))
