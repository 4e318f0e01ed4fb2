"""``tsf.RegressionForecaster`` with LightGBM beside mlforecast's LightGBM: the same features (lags 1…2·season on
seasonally differenced values), the same regressor and settings, the same folds; MASE computed here for both."""

from __future__ import annotations

import time
from typing import Any

import pandas as pd

import tsforecast as tsf

from .accuracy import reference_points, score_runs
from .common import Run, fewer_folds, load, own_forecasts, timed
from .markdown import md_table
from .settings import ID, TIME, Config

DATASETS = ("air_passengers", "elnino_sst", "arrivals", "ausbeer", "elecdaily")
"""Shipped datasets with a season above 1 and over two seasons per fold (taylor, 2,000 half-hours, left out)."""


def _booster() -> Any:
    from lightgbm import LGBMRegressor

    return LGBMRegressor(n_estimators=100, random_state=0, verbose=-1)


def _tsforecast(df: pd.DataFrame, horizon: int, season: int, folds: int) -> Run:
    model = tsf.RegressionForecaster(
        _booster(), lags=2 * season, horizon=horizon, difference=season, scale=None, random_state=0
    )
    start = time.perf_counter()
    res = tsf.backtest(model, df, tsf.WalkForward(n_splits=folds, horizon=horizon), baselines=(), season=season)
    seconds = time.perf_counter() - start
    return Run("tsforecast", "RegressionForecaster(LGBM)", own_forecasts(res)[[ID, TIME, "cutoff", "y_hat"]], seconds)


def _mlforecast(df: pd.DataFrame, horizon: int, season: int, folds: int, freq: str) -> Run:
    from mlforecast import MLForecast
    from mlforecast.target_transforms import Differences

    def cv(k: int) -> pd.DataFrame:
        mlf = MLForecast(
            models={"y_hat": _booster()},
            freq=freq,
            lags=range(1, 2 * season + 1),
            target_transforms=[Differences([season])],
        )
        out = mlf.cross_validation(df, n_windows=k, h=horizon, step_size=horizon, refit=True)
        return out[[ID, TIME, "cutoff", "y_hat"]]

    (out, note), seconds = timed(lambda: fewer_folds(cv, folds))
    return Run("mlforecast", "LGBMRegressor", out, seconds, note)


BEGIN, END = "<!-- begin: benchmark.py --regression -->", "<!-- end: benchmark.py --regression -->"


def regression_peer(cfg: Config) -> str:
    """The Markdown section: MASE and seconds of both systems per dataset, and their ratios."""
    rows = []
    for spec in [s for s in cfg.datasets if s.name in DATASETS]:
        df = load(spec)
        freq = str(tsf.infer_freq(df))
        runs = [
            _tsforecast(df, spec.horizon, spec.season, cfg.folds),
            _mlforecast(df, spec.horizon, spec.season, cfg.folds, freq),
        ]
        table, note = score_runs(runs, reference_points(df, spec, cfg), df, spec.season)
        ours, theirs = (table[table["model"] == run.label].iloc[0] for run in runs)
        rows.append(
            [
                spec.name,
                f"{ours.mase:.3f}",
                f"{theirs.mase:.3f}",
                f"{ours.mase / theirs.mase:.3f}",
                f"{ours.seconds:.2f}",
                f"{theirs.seconds:.2f}",
                f"{ours.seconds / theirs.seconds:.2f}",
                note,
            ]
        )
        print(" | ".join(rows[-1]), flush=True)
    header = ["dataset", "MASE tsforecast", "MASE mlforecast", "MASE ratio", "s tsforecast", "s mlforecast"]
    body = md_table([*header, "time ratio", "scored"], rows)
    return (
        f"{BEGIN}\n## RegressionForecaster(LightGBM) beside mlforecast\n\n"
        f"Both systems: `LGBMRegressor(n_estimators=100, random_state=0)`, lags 1…2·season on values differenced "
        f"at the season (`difference=season`, `scale=None`; mlforecast `Differences([season])`), recursive, "
        f"{cfg.folds} folds, step = horizon, refit every fold; MASE by this script on the common test points.\n\n"
        + body
        + f"\n{END}"
    )
