"""Choose SGDForecaster's default ensemble on the tune set only.

Usage::

    python scripts/choose_ensemble.py [--folds 5] [--quick] [--set shipped|external|confirm]

One model with every member (``family="all"``: drift, decomposed and es, each at the three
default lookbacks; member ``i`` seeded ``seed + i``) is fitted per fold; each candidate ensemble
is the equal mean of a subset of its members' forecasts, so all candidates see the same networks.
Protocol and MASE as ``scripts/evaluate_sgd.py`` (horizon one season, expanding window, refit per
fold, the last ``--folds`` folds, panels fitted as one global model). The CPU seconds of each
member's fit are summed per candidate: the fit time that candidate would cost on its own.

``--set`` picks the datasets: ``shipped`` (the tune set of the first three rounds), ``external``
(``evaluate_sgd.py``'s ``TUNE_EXTERNAL``: the confirm set of those rounds, part of the tune set
from the fourth round on) or ``confirm`` (``evaluate_sgd.py``'s confirm set of the fourth round:
to see whether the ranking holds on unseen series, never to choose).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).parent))
from evaluate_sgd import CONFIRM, QUICK, SHIPPED, TUNE_EXTERNAL, confirm_frame, score, shipped

import tsforecast as tsf
from tsforecast.frequency import season_length
from tsforecast.models.sgd import SGDForecaster
from tsforecast.models.sgd.training import single_thread
from tsforecast.split import WalkForward

# candidate -> member indices of the family="all" model (0-2 drift, 3-5 decomposed, 6-8 es; scales 1.5, 2, 3;
# 9 is no network: the es family's base itself, the damped Holt-Winters forecast from each series' last value)
CANDIDATES = {
    "drift+decomposed (6, old default)": [0, 1, 2, 3, 4, 5],
    "all 9": list(range(9)),
    "es (3)": [6, 7, 8],
    "drift+decomposed at 2·L, es ×3 (5)": [1, 4, 6, 7, 8],
    "decomposed+es (6)": [3, 4, 5, 6, 7, 8],
    "drift+es (6)": [0, 1, 2, 6, 7, 8],
    "drift+es (6) + ES base": [0, 1, 2, 6, 7, 8, 9],
    "ES base alone": [9],
    "es (3) + ES base": [6, 7, 8, 9],
}


class _Timed(SGDForecaster):
    """SGDForecaster recording the CPU seconds of each member's fit."""

    def _fit_member(self, *args):  # type: ignore[no-untyped-def]
        start = time.process_time()
        out = super()._fit_member(*args)
        self.member_seconds_.append(time.process_time() - start)
        return out

    def _fit(self, frame: pd.DataFrame) -> None:
        self.member_seconds_: list[float] = []
        start = time.process_time()
        super()._fit(frame)
        self.shared_seconds_ = time.process_time() - start - sum(self.member_seconds_)  # ES parameters, windows

    def member_forecasts(self) -> np.ndarray:
        """Each member's forecasts, then the es base's: ``(members + 1, n_series, horizon)`` in the data's space."""
        longest = max(r.lookback for r in self.recipes_)
        frame = self._train_frame
        series = self._series(frame, minimum=longest, log=self.log_, seasonal=True, scalers=self.state_.scalers)
        series = self._with_smoothing(frame, series)
        with single_thread(), torch.no_grad():
            stacked = np.stack([self._member_forecast(member, series) for member in self.state_.members])
        assert series.smoothing is not None
        base = series.smoothing.forecasts(series.smoothing.ends - 1)  # the ES forecast from each series' last value
        stacked = np.concatenate([stacked, base[None]])
        return np.exp(stacked) if self.log_ else stacked


def evaluate(df: pd.DataFrame, n_folds: int) -> tuple[dict[str, float], dict[str, float], int]:
    season = season_length(tsf.infer_freq(df))
    horizon = season
    minimum = SGDForecaster(lookback=2 * season, horizon=horizon).min_length()
    scores: dict[str, list[float]] = {name: [] for name in CANDIDATES}
    seconds: dict[str, list[float]] = {name: [] for name in CANDIDATES}
    used = 0
    for fold in WalkForward(n_splits=n_folds, horizon=horizon).folds(df):
        if fold.train.groupby("unique_id").size().min() < minimum:
            continue
        used += 1
        model = _Timed(lookback=2 * season, horizon=horizon, family="all").fit(fold.train)
        stacked = model.member_forecasts()
        ids = sorted(fold.train["unique_id"].unique())
        ds = fold.test.sort_values(["unique_id", "ds"])["ds"].to_numpy()
        for name, rows in CANDIDATES.items():
            y_hat = stacked[rows].mean(axis=0).reshape(-1)
            frame = pd.DataFrame({"unique_id": np.repeat(ids, horizon), "ds": ds, "y_hat": y_hat})
            scores[name].extend(score(fold.train, fold.test, frame, season))
            uses_es = any(r >= 6 for r in rows)
            shared = model.shared_seconds_ if uses_es else 0.0
            seconds[name].append(shared + sum(model.member_seconds_[r] for r in rows if r < len(model.recipes_)))
    mean = {name: float(np.mean(v)) for name, v in scores.items()}
    return mean, {name: float(np.mean(v)) for name, v in seconds.items()}, used


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="2 folds on three shipped series")
    parser.add_argument("--set", choices=("shipped", "external", "confirm"), default="shipped")
    args = parser.parse_args()
    n_folds = 2 if args.quick else args.folds
    names = list(CANDIDATES)
    if args.set == "shipped":
        datasets = [(name, shipped(name)) for name in (QUICK if args.quick else SHIPPED)]
    else:
        datasets = [
            (name, confirm_frame(*spec)) for name, *spec in (TUNE_EXTERNAL if args.set == "external" else CONFIRM)
        ]
    print(f"## {args.set} set, {n_folds} folds: mean MASE / CPU s per fold fit\n")
    print("| dataset | " + " | ".join(names) + " | folds |")
    print("|---|" + "---|" * (len(names) + 1))
    rows = []
    for dataset, df in datasets:
        mean, seconds, used = evaluate(df, n_folds)
        rows.append((mean, seconds))
        cells = " | ".join(f"{mean[n]:.3f} / {seconds[n]:.1f}" for n in names)
        print(f"| {dataset} | {cells} | {used} |", flush=True)
    cells = " | ".join(
        f"**{np.mean([m[n] for m, _ in rows]):.3f}** / {np.mean([s[n] for _, s in rows]):.1f}" for n in names
    )
    print(f"| **mean** ({len(rows)}) | {cells} | |")


if __name__ == "__main__":
    main()
