"""Speed: a synthetic 1,000-series panel backtested by tsforecast and the peers, with ratios from the same run."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

import tsforecast as tsf

from .common import median_time, normalise, sgd_available, sgd_model, synthetic_panel, timed
from .markdown import fmt, md_table, secs
from .peers import backtest_counting_divergence
from .settings import TIME, Config


def speed_panel(cfg: Config, peers: Sequence[str]) -> tuple[str, dict[str, float]]:
    """Wall time of a 5-fold backtest of a synthetic monthly panel, per system, in one run."""
    n, length = cfg.panel
    df = normalise(synthetic_panel(n, length), (TIME,))
    h = season = 12
    cv = tsf.WalkForward(n_splits=cfg.panel_folds, horizon=h)
    measured: dict[str, tuple[float, int]] = {}
    diverged = None
    for engine, jobs in (("serial", 1), ("joblib", 2)):
        measured[f"tsforecast seasonal_naive ({engine})"] = median_time(
            lambda e=engine, j=jobs: tsf.backtest(
                "seasonal_naive", df, cv, baselines=(), season=season, engine=e, n_jobs=j
            ),
            cfg.repeats,
        )
    # NOTE: statsforecast right after tsforecast's seasonal naive: the two are compared, so they share the
    # machine's state as closely as one run allows (the long sgd runs come after).
    if "statsforecast" in peers:
        from statsforecast import StatsForecast
        from statsforecast.models import SeasonalNaive

        sf = StatsForecast(models=[SeasonalNaive(season_length=season)], freq="MS", n_jobs=1)
        sf.cross_validation(df=df.head(length * 2), h=h, n_windows=1, step_size=h)  # numba warm-up, not timed
        measured["statsforecast SeasonalNaive"] = median_time(
            lambda: sf.cross_validation(df=df, h=h, n_windows=cfg.panel_folds, step_size=h, refit=True), cfg.repeats
        )
    if sgd_available():
        for engine, jobs in (("serial", 1), ("joblib", 2)):
            model = sgd_model(h, season, cfg.sgd_params)
            (_, count), seconds = timed(
                lambda e=engine, j=jobs, m=model: backtest_counting_divergence(
                    m, df, cv, season=season, engine=e, n_jobs=j
                )
            )
            measured[f"tsforecast sgd ({engine})"] = (seconds, 1)
            if engine == "serial":
                diverged = count
    if "mlforecast" in peers:
        from mlforecast import MLForecast
        from sklearn.linear_model import LinearRegression

        def mlf() -> pd.DataFrame:
            model = MLForecast(models=[LinearRegression()], freq="MS", lags=range(1, 2 * season + 1))
            return model.cross_validation(df, n_windows=cfg.panel_folds, h=h, step_size=h, refit=True)

        measured["mlforecast LinearRegression"] = median_time(mlf, cfg.repeats)
    times = {k: v for k, (v, _) in measured.items()}
    rows = [[k, secs(v), f"median of {r}" if r > 1 else "once"] for k, (v, r) in measured.items()]
    ratios = []
    for ours, theirs in (
        ("tsforecast seasonal_naive (serial)", "statsforecast SeasonalNaive"),
        ("tsforecast seasonal_naive (joblib)", "statsforecast SeasonalNaive"),
        ("tsforecast sgd (serial)", "mlforecast LinearRegression"),
        ("tsforecast sgd (joblib)", "mlforecast LinearRegression"),
        ("tsforecast seasonal_naive (serial)", "tsforecast seasonal_naive (joblib)"),
        ("tsforecast sgd (serial)", "tsforecast sgd (joblib)"),
    ):
        if ours in times and theirs in times:
            ratios.append([f"{ours} / {theirs}", fmt(times[ours] / times[theirs], 2)])
    text = (
        f"## Speed: synthetic panel, {n:,} series × {length} monthly points, {cfg.panel_folds} folds, horizon {h}\n\n"
        "Seeded random seasonal series (`synthetic_panel(seed=0)`); tsforecast's time is the whole `tsf.backtest` "
        "call (fitting, forecasting and scoring); peers' is their `cross_validation` (no scoring); statsforecast "
        "is warmed up (numba compilation) before timing; n_jobs=1 for the peers. A run is repeated (median of "
        f"{cfg.repeats}) when one call takes under 30 s, else measured once.\n\n"
        + md_table(["system", "seconds", "repeats"], rows)
        + (
            "\n\nRatios (same run; above 1 means the first is slower):\n\n" + md_table(["ratio", "value"], ratios)
            if ratios
            else ""
        )
        + (
            f"\n\nIn the serial sgd run, {diverged} ensemble-member fits (of 6 members × {cfg.panel_folds} folds) "
            "warned that they diverged and were restored to their best epoch."
            if diverged
            else ""
        )
    )
    return text, times
