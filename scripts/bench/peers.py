"""One adapter per system: tsforecast and its peers (statsforecast, skforecast, mlforecast, neuralforecast), each run
on the same walk-forward protocol and returning its forecasts as :class:`~bench.common.Run` objects."""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

import tsforecast as tsf

from .common import EMPTY, Run, fewer_folds, installed, own_forecasts, sgd_model, timed
from .settings import ID, TARGET, TIME, TOO_SLOW, Config, Spec


def run_tsforecast(df: pd.DataFrame, spec: Spec, cfg: Config, models: Sequence[str]) -> list[Run]:
    """tsforecast: one ``backtest`` per model (serial engine), so each has its own wall time."""
    runs = []
    cv = tsf.WalkForward(n_splits=cfg.folds, horizon=spec.horizon)
    for name in models:
        model: Any = sgd_model(spec.horizon, spec.season, cfg.sgd_params) if name == "sgd" else name
        start = time.perf_counter()
        try:
            res, diverged = backtest_counting_divergence(model, df, cv, season=spec.season)
        except Exception as exc:  # recorded in the report, like a peer's failure
            message = f"failed: {type(exc).__name__}: {str(exc).splitlines()[0][:120]}"
            runs.append(Run("tsforecast", name, EMPTY.assign(cutoff=EMPTY[TIME]), time.perf_counter() - start, message))
            continue
        seconds = time.perf_counter() - start
        short = res.skipped[res.skipped["model"] != "all"]
        notes = [f"{len(short)} (series, fold) pairs too short for the model"] if len(short) else []
        notes += [f"{diverged} member fits diverged (restored to their best epoch)"] if diverged else []
        note = "; ".join(notes)
        runs.append(Run("tsforecast", name, own_forecasts(res)[[ID, TIME, "cutoff", "y_hat"]], seconds, note))
    return runs


def backtest_counting_divergence(model: Any, df: pd.DataFrame, cv: Any, **kwargs: Any) -> tuple[Any, int]:
    """``tsf.backtest(model, df, cv, baselines=(), **kwargs)`` and how many SGD members warned of divergence."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = tsf.backtest(model, df, cv, baselines=(), **kwargs)
    return res, sum("diverged" in str(w.message) for w in caught)


def run_statsforecast(df: pd.DataFrame, spec: Spec, cfg: Config, freq: str) -> list[Run]:
    """statsforecast ``cross_validation`` with ``step_size=h`` (its default of 1 would overlap the folds)."""
    from statsforecast import StatsForecast
    from statsforecast.models import AutoARIMA, AutoETS, AutoTheta, SeasonalNaive

    runs = []
    for model in (
        AutoETS(season_length=spec.season),
        AutoARIMA(season_length=spec.season),
        AutoTheta(season_length=spec.season),
        SeasonalNaive(season_length=spec.season),
    ):
        name = type(model).__name__
        if (spec.name, name) in TOO_SLOW:
            runs.append(Run("statsforecast", name, EMPTY.assign(cutoff=EMPTY[TIME]), 0.0, TOO_SLOW[spec.name, name]))
            continue

        def cv(k: int, model: Any = model, name: str = name) -> pd.DataFrame:
            sf = StatsForecast(models=[model], freq=freq, n_jobs=1)
            out = sf.cross_validation(df=df, h=spec.horizon, n_windows=k, step_size=spec.horizon, refit=True)
            return out.rename(columns={name: "y_hat"})[[ID, TIME, "cutoff", "y_hat"]]

        (out, note), seconds = timed(lambda cv=cv: fewer_folds(cv, cfg.folds))
        runs.append(Run("statsforecast", name, out, seconds, note))
    return runs


def run_skforecast(df: pd.DataFrame, spec: Spec, cfg: Config, freq: str) -> list[Run]:
    """skforecast ``backtesting_forecaster`` per series with ``refit=True, fixed_train_size=False``.

    Its ``TimeSeriesFold`` defaults (no refit, a fixed training size) are the traps avoided here; the
    first fold starts at ``T - folds·h``, like tsforecast's, when the series is long enough for the lags.
    """
    from skforecast.model_selection import TimeSeriesFold, backtesting_forecaster
    from skforecast.recursive import ForecasterRecursive
    from sklearn.linear_model import Ridge

    lags = 2 * spec.season

    def one_series(y: pd.Series, k: int) -> pd.DataFrame:
        forecaster = ForecasterRecursive(Ridge(), lags=lags)  # positional: regressor= was renamed estimator=
        fold = TimeSeriesFold(
            steps=spec.horizon,
            initial_train_size=len(y) - k * spec.horizon,
            refit=True,
            fixed_train_size=False,
            allow_incomplete_fold=False,
            verbose=False,
        )
        _, pred = backtesting_forecaster(
            forecaster, y, fold, metric="mean_absolute_error", n_jobs=1, show_progress=False, suppress_warnings=True
        )
        first_test = pred.groupby("fold").apply(lambda p: p.index.min())
        cutoff_of = {f: y.index[y.index.get_loc(first) - 1] for f, first in first_test.items()}
        return pd.DataFrame({TIME: pred.index, "cutoff": pred["fold"].map(cutoff_of).to_numpy(), "y_hat": pred["pred"]})

    def run() -> tuple[pd.DataFrame, str]:
        frames, notes = [], []
        for uid, part in df.groupby(ID, sort=True):
            y = part.set_index(TIME)[TARGET].asfreq(freq)
            out, note = fewer_folds(lambda k, y=y: one_series(y, k), cfg.folds)
            frames.append(out.assign(**{ID: uid}))
            if note:
                notes.append(f"{uid}: {note}")
        return pd.concat(frames, ignore_index=True), "; ".join(notes)

    (out, note), seconds = timed(run)
    return [Run("skforecast", "Ridge", out, seconds, note)]


def run_mlforecast(df: pd.DataFrame, spec: Spec, cfg: Config, freq: str) -> list[Run]:
    """mlforecast ``cross_validation`` (``step_size=h``, ``refit=True``): ``LinearRegression`` on lags 1…2·season,
    and, where lightgbm is installed, one global ``LGBMRegressor(verbosity=-1, random_state=0)`` on lags 1…season
    and 2·season of the target differenced at lag season (recursive multi-step)."""
    from mlforecast import MLForecast
    from mlforecast.target_transforms import Differences
    from sklearn.linear_model import LinearRegression

    def cv(k: int) -> pd.DataFrame:
        mlf = MLForecast(models={"y_hat": LinearRegression()}, freq=freq, lags=range(1, 2 * spec.season + 1))
        out = mlf.cross_validation(df, n_windows=k, h=spec.horizon, step_size=spec.horizon, refit=True)
        return out[[ID, TIME, "cutoff", "y_hat"]]

    (out, note), seconds = timed(lambda: fewer_folds(cv, cfg.folds))
    runs = [Run("mlforecast", "LinearRegression", out, seconds, note)]
    if not installed("lightgbm"):
        return runs
    from lightgbm import LGBMRegressor

    def cv_lightgbm(k: int) -> pd.DataFrame:
        mlf = MLForecast(
            models={"y_hat": LGBMRegressor(verbosity=-1, random_state=0)},
            freq=freq,
            lags=[*range(1, spec.season + 1), 2 * spec.season],
            target_transforms=[Differences([spec.season])],
        )
        out = mlf.cross_validation(df, n_windows=k, h=spec.horizon, step_size=spec.horizon, refit=True)
        return out[[ID, TIME, "cutoff", "y_hat"]]

    (out, note), seconds = timed(lambda: fewer_folds(cv_lightgbm, cfg.folds))
    return [*runs, Run("mlforecast", "LightGBM", out, seconds, note)]


def run_neuralforecast(df: pd.DataFrame, spec: Spec, cfg: Config, freq: str) -> list[Run]:
    """neuralforecast ``cross_validation`` (``step_size=h``, ``refit=True``) of one global NHITS on the CPU:
    ``NHITS(h, input_size=3·h, max_steps=300, scaler_type="robust", random_seed=0)`` (fewer steps in quick runs)."""
    from neuralforecast import NeuralForecast

    def cv(k: int) -> pd.DataFrame:
        nf = NeuralForecast(models=[nhits_model(spec.horizon, cfg.nhits_steps)], freq=freq)
        out = nf.cross_validation(df=df, n_windows=k, step_size=spec.horizon, refit=True)
        if ID not in out.columns:  # older releases return the ids as the index
            out = out.reset_index()
        return out.rename(columns={"NHITS": "y_hat"})[[ID, TIME, "cutoff", "y_hat"]]

    (out, note), seconds = timed(lambda: fewer_folds(cv, cfg.folds))
    return [Run("neuralforecast", "NHITS", out, seconds, note)]


def nhits_model(horizon: int, max_steps: int = 300) -> Any:
    """The NHITS peer: ``NHITS(h, input_size=3·h, max_steps, scaler_type="robust", random_seed=0)`` on the CPU,
    with lightning's per-fit banners (GPU available, model summary) silenced."""
    import logging

    from neuralforecast.models import NHITS

    for name in ("pytorch_lightning", "lightning", "lightning.pytorch", "lightning_fabric"):
        logging.getLogger(name).setLevel(logging.ERROR)
    return NHITS(
        h=horizon,
        input_size=3 * horizon,
        max_steps=max_steps,
        scaler_type="robust",
        random_seed=0,
        accelerator="cpu",
        enable_progress_bar=False,
        logger=False,
        enable_model_summary=False,
    )


PEER_RUNNERS: dict[str, Callable[[pd.DataFrame, Spec, Config, str], list[Run]]] = {
    "statsforecast": run_statsforecast,
    "skforecast": run_skforecast,
    "mlforecast": run_mlforecast,
    "neuralforecast": run_neuralforecast,
}
