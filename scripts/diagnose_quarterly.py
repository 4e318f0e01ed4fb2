"""Where the default SGDForecaster's error comes from on the quarterly and daily tune series (issue #26).

Usage::

    python scripts/diagnose_quarterly.py [--folds 5] [--all] [--datasets NAME ...] [--params JSON]

Tune set only (``evaluate_sgd.py``'s shipped datasets and ``TUNE_EXTERNAL``), the datasets whose
season is shorter than 12 by default, every one with ``--all``; protocol and MASE as
``scripts/evaluate_sgd.py`` (horizon one season, expanding window, refit per fold,
``lookback = 2·season``). Per fold, one default model is fitted with ``min_gain=0`` (every network's
whole correction, the default before the fifth round; ``family="auto"``: the three ``"es"`` members
for these seasons, drift and es for monthly data), and the first table scores

- ``SGD``: the default forecast (mean of the members);
- ``es base``: the members' base alone, ETS(A, Ad, M) on ``y`` from tsforecast's estimator
  (:mod:`tsforecast.models.smoothing`), from each series' last value, no network;
- ``ETS``: tsforecast's ETS (the same estimator, with its fallback chain);
- ``damped HW``: statsmodels' estimate of the same model as the es base;
- ``Theta``: statsmodels ``ThetaModel`` (SES with drift on the classically deseasonalised series);
- equal means of some of them: ``SGD + base`` (the three members and the base as a fourth),
  ``SGD + Theta``, ``SGD + base + Theta``;

and, for the estimator, ``SSE ratio``: the mean over series and folds of tsforecast's in-sample
sum of squared one-step errors (the es base's parameters on the whole training history) over
statsmodels' (its ``fittedvalues``), both over the values after the first.

The second table scores, on the same fitted members, rules that weigh each member's network
against its own base by its validation gain ``g = 1 − (validation cost kept) / (validation cost of
the untrained member)``: ``share w below τ`` forecasts ``base + w·(network − base)`` for a member
with ``g < τ`` (``SGDForecaster(min_gain=τ)`` is ``w = 0.5``), ``base weight v`` the equal mean of the
members with the es base as a further member of weight ``v``. Means per season and over all datasets.

``--params`` passes further parameters to the fitted model (``'{"hidden": 8}'``: the refit variants of
``docs/accuracy-research.md`` §6).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from choose_ensemble import _Timed
from evaluate_sgd import SHIPPED, TUNE_EXTERNAL, DampedHoltWinters, confirm_frame, score, shipped

import tsforecast as tsf
from tsforecast.frequency import season_length
from tsforecast.metrics import mase
from tsforecast.models.baselines import ETS
from tsforecast.models.forecaster import LocalForecaster
from tsforecast.models.sgd import estimator
from tsforecast.models.sgd.training import Member, Trainer
from tsforecast.models.smoothing import smoothing_states
from tsforecast.split import WalkForward


class _Recording(Trainer):
    """A trainer that also records each member's validation cost at epoch 0 (its base, untrained)."""

    initial: ClassVar[list[float]] = []

    def run(self, draw, val, sampler):  # type: ignore[no-untyped-def]
        _Recording.initial.append(self._cost(val))
        return super().run(draw, val, sampler)


estimator.Trainer = _Recording  # type: ignore[misc]


class Theta(LocalForecaster):
    """statsmodels' ``ThetaModel`` per series (its defaults: multiplicative deseasonalising when tested seasonal)."""

    def __init__(self, horizon: int = 1, season: int = 1) -> None:
        self.horizon = horizon
        self.season = season

    def _forecast(self, y: np.ndarray) -> np.ndarray:
        from statsmodels.tsa.forecasting.theta import ThetaModel

        fitted = ThetaModel(y, period=self.season).fit()
        return np.asarray(fitted.forecast(self.horizon), dtype="float64")


def _sse_ratio(model: _Timed, frame: pd.DataFrame, season: int) -> list[float]:
    """Per series, tsforecast's in-sample one-step SSE of the es base's parameters over statsmodels'."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    ratios = []
    for (_, part), (_, p) in zip(frame.groupby("unique_id"), model.state_.smoothing.items(), strict=True):
        y = part["y"].to_numpy(dtype="float64")
        states = smoothing_states([np.log(y)], [p[1]], 1, log=True)
        ours = float((states.errors[1:] ** 2).sum())
        fit = ExponentialSmoothing(
            y,
            trend="add",
            damped_trend=True,
            seasonal="mul",
            seasonal_periods=season,
            initialization_method="estimated",
        ).fit()
        theirs = float(((y - fit.fittedvalues)[1:] ** 2).sum())
        ratios.append(ours / theirs)
    return ratios


def evaluate(
    df: pd.DataFrame, n_folds: int, dump: list[dict[str, Any]] | None = None, params: dict[str, Any] | None = None
) -> tuple[dict[str, float], float, int]:
    season = season_length(tsf.infer_freq(df))
    horizon = season
    minimum = _Timed(lookback=2 * season, horizon=horizon).min_length()
    names = ["SGD", "es base", "ETS", "damped HW", "Theta", "SGD + base", "SGD + Theta", "SGD + base + Theta"]
    scores: dict[str, list[float]] = {name: [] for name in [*names, "SSE ratio"]}
    seconds = []
    used = 0
    for fold in WalkForward(n_splits=n_folds, horizon=horizon).folds(df):
        if fold.train.groupby("unique_id").size().min() < minimum:
            continue
        used += 1
        _Recording.initial.clear()
        start = time.process_time()
        model = _Timed(lookback=2 * season, horizon=horizon, **{"min_gain": 0.0, **(params or {})}).fit(fold.train)
        seconds.append(time.process_time() - start)
        stacked = model.member_forecasts()  # (members + 1, n, h): the members, then the es base
        members, base = stacked[:-1], stacked[-1]
        trained = model.state_.members
        model.state_ = replace(
            model.state_,
            members=tuple(Member(m.recipe, model._build_module(m.recipe, i, None), 0) for i, m in enumerate(trained)),
        )
        own_bases = model.member_forecasts()[:-1]  # each member untrained: its own base
        model.state_ = replace(model.state_, members=trained)
        ids = sorted(fold.train["unique_id"].unique())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            others = {
                name: build(horizon=horizon, season=season).fit(fold.train).predict()
                for name, build in (("ETS", ETS), ("damped HW", DampedHoltWinters), ("Theta", Theta))
            }
            scores["SSE ratio"].extend(_sse_ratio(model, fold.train, season))
        theta = others["Theta"].sort_values(["unique_id", "ds"])["y_hat"].to_numpy().reshape(len(ids), horizon)
        arrays = {
            "SGD": members.mean(axis=0),
            "es base": base,
            "SGD + base": np.concatenate([members, base[None]]).mean(axis=0),
            "SGD + Theta": np.concatenate([members, theta[None]]).mean(axis=0),
            "SGD + base + Theta": np.concatenate([members, base[None], theta[None]]).mean(axis=0),
        }
        ds = fold.test.sort_values(["unique_id", "ds"])["ds"].to_numpy()
        for name, values in arrays.items():
            frame = pd.DataFrame({"unique_id": np.repeat(ids, horizon), "ds": ds, "y_hat": values.reshape(-1)})
            scores[name].extend(score(fold.train, fold.test, frame, season))
        for name, frame in others.items():
            scores[name].extend(score(fold.train, fold.test, frame, season))
        if dump is not None:  # every forecast of the fold, to score other combinations without refitting
            history = model.history_
            kept = history.merge(pd.DataFrame({"member": range(len(model.best_epochs_)), "epoch": model.best_epochs_}))
            kept_cost = dict(zip(kept["member"], kept["val_cost"], strict=True))
            dump.append(
                {
                    "season": season,
                    "members": members,
                    "base": base,
                    "own_bases": own_bases,  # each member's own base (the es base, or the drift base)
                    **{
                        name: frame.sort_values(["unique_id", "ds"])["y_hat"].to_numpy().reshape(len(ids), horizon)
                        for name, frame in others.items()
                    },
                    "test": fold.test.sort_values(["unique_id", "ds"])["y"].to_numpy().reshape(len(ids), horizon),
                    "train": [part["y"].to_numpy() for _, part in fold.train.groupby("unique_id")],
                    "val_base": np.array(_Recording.initial),
                    "val_best": np.array(
                        [kept_cost.get(i, _Recording.initial[i]) for i in range(len(model.best_epochs_))]
                    ),
                    "best_epochs": np.array(model.best_epochs_),
                }
            )
    return {name: float(np.mean(v)) for name, v in scores.items()}, float(np.mean(seconds)), used


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--params", type=json.loads, default={}, help="further model parameters, as JSON")
    parser.add_argument("--all", action="store_true", help="every tune dataset, monthly ones too")
    parser.add_argument("--dump", help="write every fold's forecasts to this pickle file")
    parser.add_argument("--datasets", nargs="*", help="tune datasets by name (default: every one with season < 12)")
    args = parser.parse_args()
    specs = {spec[0]: spec for spec in TUNE_EXTERNAL}
    loaders = {name: (lambda name=name: shipped(name)) for name in SHIPPED}
    loaders |= {name: (lambda spec=spec: confirm_frame(*spec[1:])) for name, spec in specs.items()}
    rows = []
    dumped: dict[str, list[dict[str, Any]]] = {}
    for name, load in loaders.items():
        if args.datasets and name not in args.datasets:
            continue
        df = load()
        season = season_length(tsf.infer_freq(df))
        if not args.datasets and not args.all and season >= 12:
            continue
        means, seconds, used = evaluate(df, args.folds, dumped.setdefault(name, []), args.params)
        if not rows:
            print("| dataset | season | " + " | ".join(means) + " | s/fit (SGD) | folds |")
            print("|---|---|" + "---|" * (len(means) + 2))
        rows.append((season, means, seconds))
        cells = " | ".join(f"{v:.3f}" for v in means.values())
        print(f"| {name} | {season} | {cells} | {seconds:.2f} | {used} |", flush=True)
    if args.dump:
        pd.to_pickle(dumped, args.dump)
    for season in sorted({s for s, _, _ in rows}, reverse=True):
        group = [(m, s) for p, m, s in rows if p == season]
        cells = " | ".join(f"**{np.mean([m[k] for m, _ in group]):.3f}**" for k in group[0][0])
        print(f"| **mean** ({len(group)}) | {season} | {cells} | {np.mean([s for _, s in group]):.2f} | |")
    print()
    print(rules_table(dumped))


def _rule(fold: dict[str, Any], tau: float, share: float, base_weight: float) -> np.ndarray:
    """The forecasts of one rule (see the module docstring) in one fold: ``(n, h)``."""
    members, own = fold["members"], fold["own_bases"]
    gain = 1 - fold["val_best"] / fold["val_base"]
    kept = np.where(gain >= tau, 1.0, share)[:, None, None]
    adjusted = own + kept * (members - own)
    return (adjusted.sum(axis=0) + base_weight * fold["base"]) / (len(members) + base_weight)


def rules_table(dumped: dict[str, list[dict[str, Any]]]) -> str:
    """Mean MASE per season of the weighting rules, on the members of the dumped folds."""
    rules = {"min_gain=0 (old default)": (0.0, 1.0, 0.0)}
    rules |= {f"share {w} below τ={t}": (t, w, 0.0) for t in (0.075, 0.1, 0.125, 0.15) for w in (0.25, 0.5, 0.75)}
    rules |= {f"share 0 below τ={t} (gate)": (t, 0.0, 0.0) for t in (0.05, 0.1, 0.15)}
    rules |= {f"base weight {v}": (0.0, 1.0, v) for v in (1.0, 3.0)}
    scores: dict[str, dict[str, float]] = {}
    seasons = {}
    for name, folds in dumped.items():
        seasons[name] = folds[0]["season"]
        scores[name] = {
            rule: float(
                np.mean(
                    [
                        mase(fold["test"][i], _rule(fold, *args)[i], y_train=y, season=fold["season"])
                        for fold in folds
                        for i, y in enumerate(fold["train"])
                    ]
                )
            )
            for rule, args in rules.items()
        }
    groups = sorted(set(seasons.values()), reverse=True)
    lines = ["| rule | " + " | ".join(f"season {s}" for s in groups) + " | all |", "|---|" + "---|" * (len(groups) + 1)]
    for rule in rules:
        cells = [np.mean([scores[n][rule] for n in scores if seasons[n] == s]) for s in groups]
        cells.append(np.mean([scores[n][rule] for n in scores]))
        lines.append(f"| {rule} | " + " | ".join(f"{c:.4f}" for c in cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
