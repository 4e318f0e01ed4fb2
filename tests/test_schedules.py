"""Tests of tsforecast.schedules: closed forms, plateau patience, the torch path and parameter errors."""

from __future__ import annotations

import math
import pickle
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

from tsforecast.errors import DataError, DataTypeError
from tsforecast.schedules import DECAYS, make_scheduler, simulate, step_scheduler

EPOCHS = 300
RTOL = 1e-12


def _flat_after(last_improvement: int, epochs: int = EPOCHS) -> list[float]:
    """Validation costs that fall strictly until ``last_improvement`` and stay flat afterwards."""
    return [float(max(last_improvement - t, 0) + 1) for t in range(epochs)]


def _plateau_closed_form(a0: float, gamma: float, patience: int, last_improvement: int) -> Callable[[int], float]:
    """lr of epoch t for costs from ``_flat_after``: one reduction per ``patience + 1`` flat epochs."""
    return lambda t: a0 * gamma ** max(0, (t - last_improvement - 1) // (patience + 1))


CLOSED_FORMS: list[tuple[str, float, dict[str, Any], Callable[[int], float]]] = [
    ("step", 0.1, {"step_size": 5, "gamma": 0.5}, lambda t: 0.1 * 0.5 ** (t // 5)),
    ("step", 0.05, {"step_size": 20, "gamma": 0.1}, lambda t: 0.05 * 0.1 ** (t // 20)),
    ("step", 0.05, {}, lambda t: 0.05 * 0.5 ** (t // 50)),
    ("step", 0.3, {"step_size": 7, "gamma": 1.0}, lambda t: 0.3),
    ("inverse_time", 0.1, {"decay_rate": 0.05}, lambda t: 0.1 / (1 + 0.05 * t)),
    ("inverse_time", 0.05, {}, lambda t: 0.05 / (1 + 0.01 * t)),
    ("inverse_time", 0.7, {"decay_rate": 0.0}, lambda t: 0.7),
    ("exponential", 0.1, {"decay_rate": 0.02}, lambda t: 0.1 * math.exp(-0.02 * t)),
    ("exponential", 0.05, {}, lambda t: 0.05 * math.exp(-0.01 * t)),
    ("exponential", 1.0, {"decay_rate": 0.1}, lambda t: math.exp(-0.1 * t)),
    ("exponential", 0.3, {"decay_rate": 1 / 3}, lambda t: 0.3 * math.exp(-t / 3)),
    (
        "plateau",
        0.1,
        {"gamma": 0.5, "patience": 10, "val_costs": _flat_after(19)},
        _plateau_closed_form(0.1, 0.5, 10, 19),
    ),
    (
        "plateau",
        0.05,
        {"gamma": 0.1, "patience": 0, "val_costs": _flat_after(0)},
        _plateau_closed_form(0.05, 0.1, 0, 0),
    ),
    (
        "plateau",
        0.2,
        {"gamma": 0.9, "patience": 4, "val_costs": _flat_after(50)},
        _plateau_closed_form(0.2, 0.9, 4, 50),
    ),
    ("none", 0.1, {}, lambda t: 0.1),
]


@pytest.mark.parametrize(("decay", "lr", "kwargs", "closed_form"), CLOSED_FORMS)
def test_simulate_matches_closed_form_over_300_epochs(
    decay: str, lr: float, kwargs: dict[str, Any], closed_form: Callable[[int], float]
) -> None:
    expected = np.array([closed_form(t) for t in range(EPOCHS)])
    lrs = simulate(decay, lr, EPOCHS, **kwargs)
    assert lrs.shape == (EPOCHS,)
    assert lrs.dtype == np.float64
    np.testing.assert_allclose(lrs, expected, rtol=RTOL, atol=0)


def test_every_decay_has_a_closed_form_test() -> None:
    assert {decay for decay, *_ in CLOSED_FORMS} == set(DECAYS)


@pytest.mark.parametrize("decay", DECAYS)
def test_first_epoch_trains_with_the_initial_lr(decay: str) -> None:
    lrs = simulate(decay, 0.037, 3, decay_rate=0.5, step_size=1, gamma=0.5, patience=0, val_costs=[1.0, 2.0, 3.0])
    assert lrs[0] == 0.037


def test_step_halves_every_5_epochs() -> None:
    lrs = simulate("step", 0.08, 16, step_size=5, gamma=0.5)
    assert lrs.tolist() == [0.08] * 5 + [0.04] * 5 + [0.02] * 5 + [0.01]


def test_step_divides_by_ten_every_20_epochs() -> None:
    lrs = simulate("step", 1.0, 61, step_size=20, gamma=0.1)
    np.testing.assert_allclose(lrs, [1.0] * 20 + [0.1] * 20 + [0.01] * 20 + [0.001], rtol=RTOL, atol=0)


def test_inverse_time_halves_after_one_over_k_epochs() -> None:
    assert simulate("inverse_time", 0.1, 21, decay_rate=0.05)[20] == pytest.approx(0.05, rel=RTOL)


@pytest.mark.parametrize("patience", [0, 1, 3, 10])
def test_plateau_reduces_after_patience_bad_epochs_and_not_before(patience: int) -> None:
    # Epoch 0 sets the best cost; every later epoch is flat, i.e. not an improvement.
    epochs = patience + 4
    lrs = simulate("plateau", 0.1, epochs, gamma=0.5, patience=patience, val_costs=[1.0] * epochs)
    # The step after epoch patience+1 sees patience+1 bad epochs: the rate drops from epoch patience+2 on.
    assert lrs[: patience + 2].tolist() == [0.1] * (patience + 2)
    assert lrs[patience + 2] == 0.05


def test_plateau_improvement_resets_the_count() -> None:
    costs = [5.0, 4.0, 4.0, 3.0, 3.0, 3.0, 3.0]  # improvements at epochs 0, 1, 3
    lrs = simulate("plateau", 0.1, 7, gamma=0.5, patience=2, val_costs=costs)
    assert lrs.tolist() == [0.1] * 7  # bad epochs: 2, then 4, 5, 6 -- the third in a row is epoch 6
    lrs = simulate("plateau", 0.1, 8, gamma=0.5, patience=2, val_costs=[*costs, 3.0])
    assert lrs[-1] == 0.05


def test_plateau_ignores_improvements_below_torch_relative_threshold() -> None:
    costs = [1.0, 1.0 - 1e-6, 1.0 - 2e-6]  # relative improvements < 1e-4 count as bad epochs
    assert simulate("plateau", 0.1, 3, gamma=0.5, patience=0, val_costs=costs).tolist() == [0.1, 0.1, 0.05]


def test_plateau_keeps_reducing_tiny_rates() -> None:
    # torch's default eps=1e-8 would stop reductions of less than 1e-8; the formula has no such floor.
    lrs = simulate("plateau", 1e-7, 4, gamma=0.5, patience=0, val_costs=[1.0] * 4)
    assert lrs.tolist() == [1e-7, 1e-7, 5e-8, 2.5e-8]


def test_simulate_ignores_val_costs_for_other_decays() -> None:
    assert simulate("none", 0.1, 3, val_costs=[3.0, 1.0, 2.0]).tolist() == [0.1, 0.1, 0.1]


DECAY_KWARGS: dict[str, dict[str, Any]] = {
    "step": {"step_size": 4, "gamma": 0.5},
    "inverse_time": {"decay_rate": 0.2},
    "exponential": {"decay_rate": 0.1},
    "plateau": {"gamma": 0.5, "patience": 1},
    "none": {},
}


def _train(decay: str, epochs: int = 25) -> tuple[list[float], list[float]]:
    """Train a linear model with full-batch SGD; return the lr used and the validation cost of each epoch."""
    torch.manual_seed(0)
    x = torch.randn(64, 3)
    y = x @ torch.tensor([1.0, -2.0, 0.5]) + 0.1 * torch.randn(64)
    x_train, y_train, x_val, y_val = x[:48], y[:48], x[48:], y[48:]
    model = torch.nn.Linear(3, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.3)
    scheduler = make_scheduler(optimizer, decay, **DECAY_KWARGS[decay])
    lrs, val_costs = [], []
    for _ in range(epochs):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x_train).squeeze(1), y_train)
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            val_cost = torch.nn.functional.mse_loss(model(x_val).squeeze(1), y_val).item()
        val_costs.append(val_cost)
        step_scheduler(scheduler, val_cost)
    return lrs, val_costs


@pytest.mark.parametrize("decay", DECAYS)
def test_simulate_matches_the_lr_a_real_training_loop_uses(decay: str) -> None:
    lrs, val_costs = _train(decay)
    simulated = simulate(decay, 0.3, len(lrs), val_costs=val_costs, **DECAY_KWARGS[decay])
    assert simulated.tolist() == lrs
    assert (len(set(lrs)) == 1) == (decay == "none")  # every real decay did decay in this run


@pytest.mark.parametrize("decay", DECAYS)
def test_scheduler_resumes_from_state_dict(decay: str) -> None:
    costs = [float(c) for c in np.linspace(2.0, 1.0, 6)] + [1.0] * 14
    kwargs = DECAY_KWARGS[decay]
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.3)
    scheduler = make_scheduler(optimizer, decay, **kwargs)
    for epoch in range(8):
        optimizer.step()
        step_scheduler(scheduler, costs[epoch])
    state = pickle.loads(pickle.dumps((optimizer.state_dict(), scheduler.state_dict())))

    resumed_optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.3)
    resumed = make_scheduler(resumed_optimizer, decay, **kwargs)
    resumed_optimizer.load_state_dict(state[0])
    resumed.load_state_dict(state[1])
    lrs = []
    for epoch in range(8, 20):
        lrs.append(resumed_optimizer.param_groups[0]["lr"])
        resumed_optimizer.step()
        step_scheduler(resumed, costs[epoch])
    np.testing.assert_allclose(lrs, simulate(decay, 0.3, 20, val_costs=costs, **kwargs)[8:], rtol=RTOL, atol=0)


@pytest.mark.parametrize("decay", DECAYS)
def test_scheduler_pickles(decay: str) -> None:
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.3)
    scheduler = pickle.loads(pickle.dumps(make_scheduler(optimizer, decay)))
    assert scheduler.optimizer.param_groups[0]["lr"] == 0.3


def test_step_scheduler_refuses_plateau_without_val_cost() -> None:
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    scheduler = make_scheduler(optimizer, "plateau")
    with pytest.raises(
        DataError, match=re.escape("The 'plateau' decay steps on the validation cost, but val_cost=None")
    ):
        step_scheduler(scheduler, None)


def _message(name: str, owner: str, expected: str, got: str) -> str:
    return re.escape(f"The {name!r} parameter of {owner} must be {expected}. Got {got} instead.")


DECAY_OPTIONS = "one of {'step', 'inverse_time', 'exponential', 'plateau', 'none'}"
PARAMETER_ERRORS: list[tuple[dict[str, Any], type[Exception], str, str, str]] = [
    ({"decay": "cosine"}, DataError, "decay", DECAY_OPTIONS, "'cosine'"),
    ({"decay": "Step"}, DataError, "decay", DECAY_OPTIONS, "'Step'"),
    ({"decay": 1}, DataTypeError, "decay", DECAY_OPTIONS, "1"),
    ({"decay_rate": -0.1}, DataError, "decay_rate", "a float in the range [0, inf)", "-0.1"),
    ({"decay_rate": float("nan")}, DataError, "decay_rate", "a float in the range [0, inf)", "nan"),
    ({"decay_rate": "0.1"}, DataTypeError, "decay_rate", "a float in the range [0, inf)", "'0.1'"),
    ({"step_size": 0}, DataError, "step_size", "an int in the range [1, inf)", "0"),
    ({"step_size": 2.5}, DataTypeError, "step_size", "an int in the range [1, inf)", "2.5"),
    ({"step_size": True}, DataTypeError, "step_size", "an int in the range [1, inf)", "True"),
    ({"gamma": 0.0}, DataError, "gamma", "a float in the range (0, 1]", "0.0"),
    ({"gamma": 1.5}, DataError, "gamma", "a float in the range (0, 1]", "1.5"),
    ({"gamma": None}, DataTypeError, "gamma", "a float in the range (0, 1]", "None"),
    ({"decay": "plateau", "gamma": 1.0}, DataError, "gamma", "a float in the range (0, 1)", "1.0"),
    ({"patience": -1}, DataError, "patience", "an int in the range [0, inf)", "-1"),
    ({"patience": 1.0}, DataTypeError, "patience", "an int in the range [0, inf)", "1.0"),
]


@pytest.mark.parametrize(("kwargs", "error", "name", "expected", "got"), PARAMETER_ERRORS)
def test_make_scheduler_refuses_bad_parameters(
    kwargs: dict[str, Any], error: type[Exception], name: str, expected: str, got: str
) -> None:
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    kwargs = {"decay": "step", **kwargs}
    with pytest.raises(error, match=_message(name, "make_scheduler", expected, got)):
        make_scheduler(optimizer, **kwargs)


@pytest.mark.parametrize(("kwargs", "error", "name", "expected", "got"), PARAMETER_ERRORS)
def test_simulate_refuses_bad_parameters(
    kwargs: dict[str, Any], error: type[Exception], name: str, expected: str, got: str
) -> None:
    kwargs = {"decay": "step", "lr": 0.1, "epochs": 5, "val_costs": [1.0] * 5, **kwargs}
    with pytest.raises(error, match=_message(name, "simulate", expected, got)):
        simulate(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "error", "name", "expected", "got"),
    [
        ({"lr": 0.0}, DataError, "lr", "a float in the range (0, inf)", "0.0"),
        ({"lr": -0.1}, DataError, "lr", "a float in the range (0, inf)", "-0.1"),
        ({"lr": "fast"}, DataTypeError, "lr", "a float in the range (0, inf)", "'fast'"),
        ({"epochs": 0}, DataError, "epochs", "an int in the range [1, inf)", "0"),
        ({"epochs": 10.0}, DataTypeError, "epochs", "an int in the range [1, inf)", "10.0"),
    ],
)
def test_simulate_refuses_bad_lr_and_epochs(
    kwargs: dict[str, Any], error: type[Exception], name: str, expected: str, got: str
) -> None:
    with pytest.raises(error, match=_message(name, "simulate", expected, got)):
        simulate(**{"decay": "none", "lr": 0.1, "epochs": 5, **kwargs})


def test_step_lr_with_step_size_zero_is_refused_although_torch_accepts_it() -> None:
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    torch.optim.lr_scheduler.StepLR(optimizer, step_size=0)  # torch does not validate it
    with pytest.raises(DataError, match=_message("step_size", "make_scheduler", "an int in the range [1, inf)", "0")):
        make_scheduler(optimizer, "step", step_size=0)


def test_make_scheduler_refuses_a_non_optimizer() -> None:
    with pytest.raises(DataTypeError, match=_message("optimizer", "make_scheduler", "an instance of Optimizer", "[]")):
        make_scheduler([], "step")  # type: ignore[arg-type]


def test_simulate_plateau_needs_val_costs() -> None:
    with pytest.raises(DataError, match=re.escape("simulate(decay='plateau') needs val_costs") + ".*Pass 4 costs"):
        simulate("plateau", 0.1, 4)


def test_simulate_refuses_too_few_val_costs() -> None:
    message = "val_costs has 3 values but epochs=4; pass one validation cost per epoch."
    with pytest.raises(DataError, match=re.escape(message)):
        simulate("plateau", 0.1, 4, val_costs=[1.0, 1.0, 1.0])


def test_numpy_integers_and_floats_are_accepted() -> None:
    lrs = simulate("step", np.float64(0.1), np.int64(4), step_size=np.int64(2), gamma=np.float32(0.5))  # type: ignore[arg-type]
    assert lrs.tolist() == [0.1, 0.1, 0.05, 0.05]
