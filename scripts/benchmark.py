"""Benchmark tsforecast against its peers, side by side, on the same test timestamps.

Run it from the repository root::

    python scripts/benchmark.py --out BENCHMARKS.md     # full run: 20-40 minutes on 2 cores
    python scripts/benchmark.py --quick --out /tmp/B.md  # smoke run: under 2 minutes, no peers needed

Options: ``--quick`` (2 datasets, 2 folds, a few SGD epochs, a tiny panel), ``--out PATH`` (where the
Markdown report goes, default ``BENCHMARKS.md``), ``--skip-speed`` (no panel timing and no scaling
sweep), ``--skip-peers`` (tsforecast only).

What it measures, one function each:

- **Accuracy** (:func:`accuracy`): every shipped dataset, walk-forward with horizon = one season
  (annual series: horizon 5, season 1), 5 folds, expanding window, refit every fold. tsforecast's
  ``sgd`` (defaults), naive, seasonal naive, ETS, ARIMA and Theta, and the peers that are installed:
  statsforecast ``AutoETS``/``AutoARIMA``/``SeasonalNaive`` (``cross_validation``), skforecast
  ``ForecasterRecursive(Ridge, lags=2·season)`` (``backtesting_forecaster``) and mlforecast
  ``LinearRegression`` (lags 1…2·season, ``cross_validation``). Every peer is set explicitly to
  the same protocol (``step_size = h``, refit, expanding window), and the test points each system
  evaluated, ``(unique_id, ds, cutoff)``, are compared with tsforecast's. MASE and sMAPE are computed
  by this script with :mod:`tsforecast.metrics` from the forecasts alone, identically for every system.
- **Speed** (:func:`speed_panel`): a seeded synthetic panel of 1,000 monthly series × 400 points,
  5 folds: tsforecast seasonal naive and ``sgd`` (serial and joblib with 2 workers) against
  statsforecast ``SeasonalNaive`` and mlforecast ``LinearRegression``, with ratios from the same run.
- **Memory** (:func:`memory`): peak RSS of building the windows of a 10-million-point series with
  lookback 256, each measurement in its own subprocess, against materialised windows.
- **Scaling** (:func:`scaling`): backtest time against series count and series length, with a
  log-log slope (1 = linear).

Peers are optional: one that is not installed is skipped with a message. statsforecast, mlforecast
and skforecast require ``pandas<3``, so they live in a separate environment (see BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import platform
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import tsforecast as tsf
from tsforecast.metrics import mase, mase_scale, smape

ID, TIME, TARGET = "unique_id", "ds", "y"
PEERS = ("statsforecast", "skforecast", "mlforecast")
TSF_MODELS = ("sgd", "naive", "seasonal_naive", "ets", "arima", "theta")
GROUPS = ("monthly", "quarterly", "daily", "half-hourly", "annual")
TOO_SLOW = {
    ("taylor", "AutoARIMA"): "skipped: in a trial it had not finished after 6.5 minutes (season 48, 2,000 points)",
}
"""Peer models left out of a dataset because they take far longer than the whole rest of the benchmark."""


# ------------------------------------------------------------------------------------------- settings ---- #


@dataclass(frozen=True)
class Spec:
    """One accuracy dataset and its protocol."""

    name: str
    group: str
    horizon: int
    season: int
    tail: int | None = None  # keep only the last ``tail`` points of each series


@dataclass(frozen=True)
class Config:
    """Sizes of every measurement; :func:`config` gives the full and the quick ones."""

    quick: bool
    folds: int
    datasets: tuple[Spec, ...]
    sgd_params: dict[str, Any]
    panel: tuple[int, int]  # series, length
    panel_folds: int
    repeats: int
    memory_points: int
    materialised_points: int
    lookback: int
    counts: tuple[int, ...]
    count_length: int
    lengths: tuple[int, ...]
    length_series: int
    scaling_sgd: dict[str, Any] = field(default_factory=lambda: {"epochs": 2, "max_steps": 10**9})


SPECS = (
    Spec("air_passengers", "monthly", 12, 12),
    Spec("elnino_sst", "monthly", 12, 12),
    Spec("uk_lung_deaths", "monthly", 12, 12),
    Spec("arrivals", "quarterly", 4, 4),
    Spec("ausbeer", "quarterly", 4, 4),
    Spec("elecdaily", "daily", 7, 7),
    Spec("taylor", "half-hourly", 48, 48, tail=2000),
    Spec("lynx", "annual", 5, 1),
    Spec("nile", "annual", 5, 1),
)


def config(quick: bool) -> Config:
    """The measurement sizes: the full benchmark, or the quick smoke run."""
    if quick:
        return Config(
            quick=True,
            folds=2,
            datasets=(SPECS[0], SPECS[4]),
            sgd_params={"epochs": 5, "max_steps": 40},
            panel=(40, 120),
            panel_folds=2,
            repeats=3,
            memory_points=1_000_000,
            materialised_points=100_000,
            lookback=256,
            counts=(4, 8, 16),
            count_length=100,
            lengths=(100, 300, 900),
            length_series=1,
            scaling_sgd={"epochs": 1, "max_steps": 10**9},
        )
    return Config(
        quick=False,
        folds=5,
        datasets=SPECS,
        sgd_params={},
        panel=(1000, 400),
        panel_folds=5,
        repeats=3,
        memory_points=10_000_000,
        materialised_points=1_000_000,
        lookback=256,
        counts=(10, 100, 1000),
        count_length=200,
        lengths=(100, 1000, 10_000),
        length_series=10,
    )


# ------------------------------------------------------------------------------------------- helpers ---- #


def installed(package: str) -> bool:
    """Whether ``package`` can be imported."""
    return importlib.util.find_spec(package) is not None


def package_version(package: str) -> str:
    """The installed version of ``package``, or ``"-"``."""
    try:
        return version(package)
    except PackageNotFoundError:
        return "-"


def md_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def fmt(value: float, digits: int = 3) -> str:
    """A number for a table; NaN shows as ``nan``."""
    return "nan" if not np.isfinite(value) else f"{value:.{digits}f}"


def secs(value: float) -> str:
    """Seconds with three significant digits (``0.00442``, ``12.3``, ``245``)."""
    return f"{value:.3g}" if value < 1000 else f"{value:.0f}"


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    """``fn()`` and its wall time in seconds."""
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def median_time(fn: Callable[[], Any], repeats: int, cheap: float = 30.0) -> tuple[float, int]:
    """Median wall time of up to ``repeats`` calls of ``fn``, and the number of calls.

    A first call longer than ``cheap`` seconds is not repeated (it is reported as measured once).
    """
    seconds = [timed(fn)[1]]
    while seconds[0] < cheap and len(seconds) < repeats:
        seconds.append(timed(fn)[1])
    return float(np.median(seconds)), len(seconds)


def normalise(frame: pd.DataFrame, columns: Sequence[str] = (TIME, "cutoff")) -> pd.DataFrame:
    """String ids and nanosecond timestamps, so frames from every library merge exactly."""
    frame = frame.copy()
    frame[ID] = frame[ID].astype(str)
    for col in columns:
        frame[col] = pd.to_datetime(frame[col]).astype("datetime64[ns]")
    return frame


def load(spec: Spec) -> pd.DataFrame:
    """A shipped dataset as ``unique_id, ds, y`` (elecdaily's covariates dropped), optionally truncated."""
    df = tsf.load_dataset(spec.name)[[ID, TIME, TARGET]]
    if spec.tail is not None:
        df = df.groupby(ID, sort=False).tail(spec.tail).reset_index(drop=True)
    return normalise(df, (TIME,))


def synthetic_panel(n_series: int, length: int, *, freq: str = "MS", season: int = 12, seed: int = 0) -> pd.DataFrame:
    """Seeded positive seasonal series: level + trend + seasonal wave + AR(1) noise, long format."""
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    level = rng.uniform(50, 500, (n_series, 1))
    trend = rng.normal(0, 0.002, (n_series, 1)) * level
    phase = rng.uniform(0, 2 * np.pi, (n_series, 1))
    wave = rng.uniform(0.05, 0.3, (n_series, 1)) * level * np.sin(2 * np.pi * t / season + phase)
    shocks = rng.normal(0, 0.03, (n_series, length)) * level
    noise = np.zeros_like(shocks)
    for k in range(length):
        noise[:, k] = shocks[:, k] + (0.5 * noise[:, k - 1] if k else 0)
    y = np.maximum(level + trend * t + wave + noise, 1.0)
    ds = pd.date_range("1990-01-01", periods=length, freq=freq)
    return pd.DataFrame(
        {
            ID: np.repeat([f"s{i:04d}" for i in range(n_series)], length),
            TIME: np.tile(ds, n_series),
            TARGET: y.reshape(-1),
        }
    )


def sgd_model(horizon: int, season: int, params: dict[str, Any]) -> tsf.Forecaster:
    """The registered ``sgd`` model (defaults), with ``params`` overriding them (quick runs, scaling)."""
    return tsf.make_model("sgd", horizon=horizon, season=season).set_params(**params)


def sgd_available() -> bool:
    """Whether the ``sgd`` model is registered."""
    try:
        tsf.make_model("sgd", horizon=2, season=1)
    except tsf.DataError:
        return False
    return True


class Report:
    """Markdown sections, printed as they are made and written to ``path`` after each one."""

    def __init__(self, path: Path, header: str) -> None:
        self.path, self.parts = path, [header]
        print(header, flush=True)
        self._write()

    def add(self, text: str) -> None:
        self.parts.append(text)
        print("\n" + text, flush=True)
        self._write()

    def _write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text("\n\n".join(self.parts) + "\n")


# ------------------------------------------------------------------------------------------ systems ---- #


@dataclass
class Run:
    """The forecasts of one model of one system on one dataset."""

    system: str
    model: str
    forecasts: pd.DataFrame  # unique_id, ds, cutoff, y_hat
    seconds: float
    note: str = ""

    @property
    def label(self) -> str:
        return f"{self.system}.{self.model}"


EMPTY = pd.DataFrame({ID: pd.Series(dtype=str), TIME: pd.Series(dtype="datetime64[ns]"), "y_hat": []})


def fewer_folds(fn: Callable[[int], pd.DataFrame], folds: int) -> tuple[pd.DataFrame, str]:
    """Call ``fn(k)`` for k = folds, folds-1, …, 1 until it succeeds; say how many folds it took.

    Used for peers that refuse a fold whose training part is shorter than their lags or minimum;
    tsforecast reports those folds per model itself. The test-timestamp check shows the difference.
    """
    first_error = ""
    for k in range(folds, 0, -1):
        try:
            return fn(k), "" if k == folds else f"{k} of {folds} folds ({first_error})"
        except Exception as exc:  # a peer's own error, recorded in the report
            first_error = first_error or f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}"
    return EMPTY.assign(cutoff=EMPTY[TIME]), f"failed: {first_error}"


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
        runs.append(Run("tsforecast", name, res.forecasts[[ID, TIME, "cutoff", "y_hat"]], seconds, note))
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
    from statsforecast.models import AutoARIMA, AutoETS, SeasonalNaive

    runs = []
    for model in (
        AutoETS(season_length=spec.season),
        AutoARIMA(season_length=spec.season),
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
    """mlforecast ``cross_validation`` (lags 1…2·season, ``step_size=h``, ``refit=True``)."""
    from mlforecast import MLForecast
    from sklearn.linear_model import LinearRegression

    def cv(k: int) -> pd.DataFrame:
        mlf = MLForecast(models={"y_hat": LinearRegression()}, freq=freq, lags=range(1, 2 * spec.season + 1))
        out = mlf.cross_validation(df, n_windows=k, h=spec.horizon, step_size=spec.horizon, refit=True)
        return out[[ID, TIME, "cutoff", "y_hat"]]

    (out, note), seconds = timed(lambda: fewer_folds(cv, cfg.folds))
    return [Run("mlforecast", "LinearRegression", out, seconds, note)]


PEER_RUNNERS: dict[str, Callable[[pd.DataFrame, Spec, Config, str], list[Run]]] = {
    "statsforecast": run_statsforecast,
    "skforecast": run_skforecast,
    "mlforecast": run_mlforecast,
}


# ------------------------------------------------------------------------------------------ scoring ---- #


def reference_points(df: pd.DataFrame, spec: Spec, cfg: Config) -> pd.DataFrame:
    """The test points ``(unique_id, ds, cutoff, y)`` of tsforecast's WalkForward folds: the reference."""
    cv = tsf.WalkForward(n_splits=cfg.folds, horizon=spec.horizon)
    return normalise(pd.concat([f.test.assign(cutoff=f.cutoff) for f in cv.folds(df)], ignore_index=True))


def timestamp_check(run: Run, ref: pd.DataFrame) -> str:
    """``yes`` if a run evaluated exactly the reference test points, else what differs."""
    keys = [ID, TIME, "cutoff"]
    mine = set(map(tuple, normalise(run.forecasts)[keys].itertuples(index=False)))
    theirs = set(map(tuple, ref[keys].itertuples(index=False)))
    if mine == theirs:
        return "yes"
    cutoffs = sorted({c for _, _, c in mine})
    shown = ", ".join(pd.Timestamp(c).strftime("%Y-%m-%d %H:%M").removesuffix(" 00:00") for c in cutoffs)
    return f"no: {len(mine & theirs)} of {len(theirs)} points, {len(mine - theirs)} extra; cutoffs {shown or 'none'}"


def score_runs(runs: list[Run], ref: pd.DataFrame, df: pd.DataFrame, season: int) -> tuple[pd.DataFrame, str]:
    """MASE and sMAPE of every run on the common test points, computed here from the forecasts alone.

    A ``(series, cutoff)`` pair is scored when every model that produced forecasts on this dataset
    forecast all its test points, and the MASE scale (the in-sample seasonal-naive MAE of the
    training data up to the cutoff, :func:`tsforecast.metrics.mase_scale`) is defined. A NaN
    forecast is kept: it makes its pair's scores, and the model's mean, NaN (counted in ``nan``).
    """
    keys = [ID, TIME, "cutoff"]
    merged = {r.label: ref.merge(normalise(r.forecasts), on=keys, how="left") for r in runs}
    present = [label for label, m in merged.items() if m["y_hat"].notna().any()]
    pairs = ref[[ID, "cutoff"]].drop_duplicates()
    complete = pd.Series(True, index=pd.MultiIndex.from_frame(pairs))
    for label in present:
        found = normalise(next(r for r in runs if r.label == label).forecasts)
        got = ref.merge(found[keys], on=keys, how="left", indicator=True)
        covered = (got["_merge"] == "both").groupby([got[ID], got["cutoff"]]).all()
        complete &= covered.reindex(complete.index, fill_value=False)
    series = {uid: part.sort_values(TIME) for uid, part in df.groupby(ID)}
    scales = {
        (uid, c): mase_scale(series[uid].loc[series[uid][TIME] <= c, TARGET].to_numpy(), season)
        for uid, c in complete.index
    }
    scored = [p for p in complete.index[complete.to_numpy()] if np.isfinite(scales[p])]
    undefined = int(sum(1 for p in complete.index[complete.to_numpy()] if not np.isfinite(scales[p])))
    rows = []
    for run in runs:
        m = merged[run.label].set_index([ID, "cutoff"]).sort_index()
        values = {"mase": [], "smape": []}
        for uid, c in scored:
            part = m.loc[(uid, c)]
            history = series[uid].loc[series[uid][TIME] <= c, TARGET].to_numpy()
            values["mase"].append(mase(part[TARGET], part["y_hat"], y_train=history, season=season))
            values["smape"].append(smape(part[TARGET], part["y_hat"]))
        produced = run.forecasts["y_hat"]
        rows.append(
            {
                "model": run.label,
                "mase": float(np.mean(values["mase"])) if scored and run.label in present else np.nan,
                "smape": float(np.mean(values["smape"])) if scored and run.label in present else np.nan,
                "nan": int(produced.isna().sum()),
                "points": int(produced.notna().sum()),
                "seconds": run.seconds,
                "note": run.note,
            }
        )
    note = f"{len(scored)} of {len(complete)} (series, cutoff) pairs scored"
    dropped = len(complete) - int(complete.sum())
    if dropped:
        note += f"; {dropped} left out because a model could not forecast them"
    if undefined:
        note += f"; {undefined} left out because the MASE scale is undefined (training shorter than season + 1)"
    return pd.DataFrame(rows), note


# --------------------------------------------------------------------------------------- measurements ---- #


def accuracy(cfg: Config, peers: Sequence[str], report: Report) -> pd.DataFrame:
    """Accuracy of every system on every dataset; returns one row per (dataset, model)."""
    models = [m for m in TSF_MODELS if m != "sgd" or sgd_available()]
    if "sgd" not in models:
        report.add("> **sgd is not registered** (`tsf.make_model('sgd', ...)` failed): it is left out of this run.")
    rows, checks = [], []
    for spec in cfg.datasets:
        df = load(spec)
        freq = str(tsf.infer_freq(df))
        ref = reference_points(df, spec, cfg)
        runs = run_tsforecast(df, spec, cfg, models)
        for peer in peers:
            runs += PEER_RUNNERS[peer](df, spec, cfg, freq)
        table, note = score_runs(runs, ref, df, spec.season)
        rows.append(table.assign(dataset=spec.name, group=spec.group))
        cutoffs = ", ".join(
            pd.Timestamp(c).strftime("%Y-%m-%d %H:%M").removesuffix(" 00:00") for c in sorted(ref["cutoff"].unique())
        )
        checks.append((spec, cutoffs, {r.label: timestamp_check(r, ref) for r in runs}))
        body = md_table(
            ["model", "MASE", "sMAPE", "NaN forecasts", "points", "seconds", "note"],
            [
                [r.model, fmt(r.mase), fmt(r.smape, 2), r.nan, r.points, fmt(r.seconds, 2), r.note or ""]
                for r in table.itertuples()
            ],
        )
        size = f"{df[ID].nunique()} series × {len(df) // df[ID].nunique()} points"
        report.add(
            f"### {spec.name} ({spec.group}, {size}, horizon {spec.horizon}, season {spec.season}, "
            f"{cfg.folds} folds)\n\nTest cutoffs: {cutoffs}. Scored: {note}.\n\n{body}"
        )
    report.add(timestamp_section(checks))
    return pd.concat(rows, ignore_index=True)


def timestamp_section(checks: list[tuple[Spec, str, dict[str, str]]]) -> str:
    """The 'same test timestamps' matrix: one line per system and dataset."""
    lines = [
        "## Same test timestamps?",
        "",
        "Each system's set of `(unique_id, ds, cutoff)` compared with tsforecast's `WalkForward` folds.",
        "",
    ]
    for spec, cutoffs, verdicts in checks:
        lines.append(f"- **{spec.name}** (cutoffs {cutoffs}):")
        lines += [f"  - {label}: same test timestamps: {verdict}" for label, verdict in verdicts.items()]
    return "\n".join(lines)


def accuracy_summary(scores: pd.DataFrame) -> tuple[str, pd.DataFrame]:
    """Mean MASE and sMAPE per model over the datasets of each frequency group and over all."""
    parts, means = [], {}
    for metric in ("mase", "smape"):
        wide = scores.pivot_table(index="model", columns="dataset", values=metric, aggfunc="first", dropna=False)
        groups = scores.drop_duplicates("dataset").groupby("group", sort=False)["dataset"].apply(list)
        table = pd.DataFrame(index=wide.index)
        for group in [g for g in GROUPS if g in groups.index]:
            table[group] = wide[groups[group]].mean(axis=1, skipna=False)
        table["all"] = wide.mean(axis=1, skipna=False)
        order = list(dict.fromkeys(scores["model"]))
        table = table.loc[order]
        means[metric] = table
        nan = scores.groupby("model", sort=False)["nan"].sum()
        parts.append(
            f"**Mean {metric.upper() if metric == 'mase' else 'sMAPE'}** over datasets (a NaN means a model "
            "failed or forecast NaN on a dataset of the group; it is never skipped):\n\n"
            + md_table(
                ["model", *table.columns, "NaN forecasts"],
                [[m, *(fmt(v) for v in table.loc[m]), int(nan[m])] for m in table.index],
            )
        )
    seconds = scores.groupby("model", sort=False)["seconds"].sum()
    by_system = seconds.groupby(seconds.index.str.split(".").str[0], sort=False).sum()
    parts.append(
        "**Wall time of the whole accuracy backtest** (all datasets, serial, seconds):\n\n"
        + md_table(["model", "seconds"], [[m, fmt(s, 1)] for m, s in seconds.items()])
        + "\n\n"
        + md_table(["system", "seconds"], [[m, fmt(s, 1)] for m, s in by_system.items()])
    )
    return "## Accuracy summary\n\n" + "\n\n".join(parts), means["mase"]


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
    if "statsforecast" in peers:
        from statsforecast import StatsForecast
        from statsforecast.models import SeasonalNaive

        sf = StatsForecast(models=[SeasonalNaive(season_length=season)], freq="MS", n_jobs=1)
        sf.cross_validation(df=df.head(length * 2), h=h, n_windows=1, step_size=h)  # numba warm-up, not timed
        measured["statsforecast SeasonalNaive"] = median_time(
            lambda: sf.cross_validation(df=df, h=h, n_windows=cfg.panel_folds, step_size=h, refit=True), cfg.repeats
        )
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


MEMORY_PROBE = """
import json, resource, sys
import numpy as np, torch, tsforecast as tsf
n, lookback, dtype, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
def rss():
    return int(next(l for l in open('/proc/self/status') if l.startswith('VmRSS')).split()[1]) * 1024
def hwm():
    return int(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1]) * 1024
tsf.WindowDataset(np.zeros(1000, dtype=dtype), lookback=8, horizon=1)[0]  # warm-up of lazy allocations
values = np.random.default_rng(0).standard_normal(n, dtype=dtype)
try:
    open('/proc/self/clear_refs', 'w').write('5')  # reset the peak (VmHWM) to the current RSS
    peak = hwm
except OSError:
    peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
base = rss()
if mode == 'windows':
    ds = tsf.WindowDataset(values, lookback=lookback, horizon=1)
    x, y = ds[len(ds) - 1]
    built = peak()
    batch = next(iter(tsf.ordered_loader(ds, batch_size=1024)))
    count = len(ds)
else:
    windows = torch.as_tensor(values, dtype=torch.float32).unfold(0, lookback, 1).contiguous()
    count = windows.shape[0]
    built = peak()
print(json.dumps({"baseline": base, "built": built, "peak": peak(), "windows": count, "raw": values.nbytes}))
"""


def memory_probe(n: int, lookback: int, dtype: str, mode: str) -> dict[str, int]:
    """Peak RSS above the baseline of building windows, measured in a fresh subprocess."""
    out = subprocess.run(
        [sys.executable, "-c", MEMORY_PROBE, str(n), str(lookback), dtype, mode],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["delta"] = result["built"] - result["baseline"]
    result["delta_batch"] = result["peak"] - result["baseline"]
    return result


def memory(cfg: Config) -> tuple[str, dict[str, float]]:
    """Window memory: ``WindowDataset`` views (O(T)) against materialised windows (O(T·L))."""
    n, small, lookback = cfg.memory_points, cfg.materialised_points, cfg.lookback
    mib = 2**20
    rows, ratios = [], {}
    for dtype in ("float32", "float64"):
        r = memory_probe(n, lookback, dtype, "windows")
        ratios[dtype] = r["delta"] / r["raw"]
        rows.append(
            [
                f"WindowDataset, {dtype} series",
                f"{n:,}",
                f"{r['windows']:,}",
                fmt(r["raw"] / mib, 1),
                fmt(r["delta"] / mib, 1),
                fmt(ratios[dtype], 2),
                fmt(r["delta_batch"] / mib, 1),
            ]
        )
    m = memory_probe(small, lookback, "float32", "materialised")
    rows.append(
        [
            f"materialised (`unfold().contiguous()`), {small:,} points",
            f"{small:,}",
            f"{m['windows']:,}",
            fmt(m["raw"] / mib, 1),
            fmt(m["delta"] / mib, 1),
            fmt(m["delta"] / m["raw"], 1),
            "-",
        ]
    )
    needed = (n - lookback + 1) * lookback * 4
    headers = ["what", "points", "windows", "series MiB", "peak above baseline, built (MiB)", "× series bytes"]
    text = (
        f"## Memory: windows of a {n:,}-point series, lookback {lookback}\n\n"
        "Each line is measured in its own subprocess: the peak RSS (`VmHWM`, reset to the current RSS after the "
        "series is created; `ru_maxrss` where that reset is not allowed) minus the RSS with the series loaded, "
        "once the windows are built and the last one read, and again after one ordered batch of 1,024 windows is "
        "drawn with `tsf.ordered_loader`.\n\n"
        + md_table([*headers, "… after one batch (MiB)"], rows)
        + f"\n\nMaterialising all windows of {n:,} points as float32 would need {n:,} × {lookback} × 4 B ≈ "
        f"{needed / 2**30:.1f} GiB (O(T·L)); it is measured on {small:,} points instead of crashing the machine "
        f"(expected {(small - lookback + 1) * lookback * 4 / mib:.0f} MiB)."
    )
    return text, ratios


def scaling(cfg: Config) -> str:
    """Backtest time against series count and series length (daily synthetic series, season 7, 5 folds)."""
    h = season = 7
    cv = tsf.WalkForward(n_splits=5, horizon=h)
    rows, slopes = [], []
    sweeps = (
        ("series count", [(c, cfg.count_length) for c in cfg.counts], 0),
        ("series length", [(cfg.length_series, t) for t in cfg.lengths], 1),
    )
    models: list[tuple[str, Callable[[], Any]]] = [("seasonal_naive", lambda: "seasonal_naive")]
    if sgd_available():
        models.append(("sgd (fixed epochs)", lambda: sgd_model(h, season, {**cfg.scaling_sgd, "early_stopping": None})))
    for sweep, sizes, axis in sweeps:
        for name, build in models:
            seconds = []
            for n, length in sizes:
                df = normalise(synthetic_panel(n, length, freq="D", season=season), (TIME,))
                seconds.append(timed(lambda df=df, b=build: tsf.backtest(b(), df, cv, baselines=(), season=season))[1])
                rows.append([sweep, name, n, length, fmt(seconds[-1], 2)])
            x = np.log([s[axis] for s in sizes])
            slope = np.polyfit(x, np.log(seconds), 1)[0]
            per_unit = np.polyfit([s[axis] for s in sizes], seconds, 1)[0]
            slopes.append([sweep, name, fmt(slope, 2), f"{per_unit * 1000:.3f} ms per {sweep.split()[1]} unit"])
    return (
        f"## Scaling: backtest time (serial, 5 folds, horizon {h}, daily synthetic series)\n\n"
        + md_table(["sweep", "model", "series", "length", "seconds"], rows)
        + "\n\nFitted log-log slope of time against size (1 = linear; below 1 = fixed overhead still dominates) "
        "and the linear cost per unit:\n\n"
        + md_table(["sweep", "model", "log-log slope", "linear fit"], slopes)
        + (
            f"\n\nsgd uses `{cfg.scaling_sgd}` and no early stopping, so its work is fixed per window."
            if sgd_available()
            else ""
        )
    )


def targets(mase_means: pd.DataFrame | None, times: dict[str, float], ratios: dict[str, float] | None) -> str:
    """The targets, each 'met' or 'NOT met' (or 'not measured')."""
    lines = []

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    if mase_means is not None and "monthly" in mase_means.columns and "tsforecast.sgd" in mase_means.index:
        sgd = mase_means.loc["tsforecast.sgd", "monthly"]
        snaive = mase_means.loc["tsforecast.seasonal_naive", "monthly"]
        lines.append(
            f"- sgd beats seasonal naive in mean MASE on the monthly data ({fmt(sgd)} vs {fmt(snaive)}): "
            f"**{verdict(bool(sgd < snaive))}**"
        )
        ets = "statsforecast.AutoETS" if "statsforecast.AutoETS" in mase_means.index else "tsforecast.ets"
        ets_value = mase_means.loc[ets, "monthly"]
        absent = "" if ets.startswith("statsforecast") else " (statsforecast absent: compared with tsforecast's ETS)"
        lines.append(
            f"- sgd within 10% of {ets} in mean monthly MASE ({fmt(sgd)} vs {fmt(ets_value)}, ratio "
            f"{fmt(sgd / ets_value)}){absent}: **{verdict(bool(sgd <= 1.1 * ets_value))}**"
        )
    else:
        lines.append("- sgd accuracy targets: not measured (no sgd or no monthly data in this run)")
    ours, theirs = times.get("tsforecast seasonal_naive (serial)"), times.get("statsforecast SeasonalNaive")
    if ours is not None and theirs is not None:
        best = min(ours, times.get("tsforecast seasonal_naive (joblib)", ours))
        lines.append(
            f"- seasonal-naive panel backtest within 2× of statsforecast (tsforecast serial {secs(ours)} s, joblib "
            f"{secs(times.get('tsforecast seasonal_naive (joblib)', np.nan))} s; statsforecast {secs(theirs)} s; "
            f"ratio serial/statsforecast {fmt(ours / theirs, 1)}): **{verdict(best <= 2 * theirs)}**"
        )
    else:
        lines.append(
            "- seasonal-naive panel within 2× of statsforecast: not measured (statsforecast absent or speed skipped)"
        )
    sgd_times = {k: times[k] for k in ("tsforecast sgd (serial)", "tsforecast sgd (joblib)") if k in times}
    if sgd_times:
        shown = ", ".join(f"{k.split('(')[1].rstrip(')')} {secs(v)} s" for k, v in sgd_times.items())
        lines.append(
            f"- sgd global model on the panel in under 5 minutes on 2 cores ({shown}): "
            f"**{verdict(min(sgd_times.values()) < 300)}**"
        )
    if ratios is not None:
        lines.append(
            f"- window memory O(T), under 2× the series bytes above the baseline (float32 series: "
            f"{fmt(ratios['float32'], 2)}×; float64 series: {fmt(ratios['float64'], 2)}×): "
            f"**{verdict(ratios['float32'] < 2)}** for float32, **{verdict(ratios['float64'] < 2)}** "
            "for float64"
        )
    return "## Targets\n\n" + "\n".join(lines)


def machine() -> str:
    """Where and with what the benchmark ran."""
    cpu = platform.processor() or "unknown CPU"
    with contextlib.suppress(OSError, StopIteration), open("/proc/cpuinfo") as info:
        cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    packages = ["tsforecast", "torch", "numpy", "pandas", "scikit-learn", "statsmodels", *PEERS]
    versions = ", ".join(f"{p} {package_version(p)}" for p in packages)
    return f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}; {versions}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 datasets, 2 folds, tiny panel (<2 min)")
    parser.add_argument("--out", type=Path, default=Path("BENCHMARKS.md"), help="Markdown report path")
    parser.add_argument("--skip-speed", action="store_true", help="skip the panel timing and the scaling sweep")
    parser.add_argument("--skip-peers", action="store_true", help="benchmark tsforecast alone")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")  # the peers' and statsmodels' convergence chatter; failures are recorded
    cfg = config(args.quick)
    peers = [] if args.skip_peers else [p for p in PEERS if installed(p)]
    missing = [] if args.skip_peers else [p for p in PEERS if not installed(p)]
    command = "python scripts/benchmark.py " + " ".join(sys.argv[1:] if argv is None else argv)
    started = time.perf_counter()
    report = Report(
        args.out,
        "# Benchmarks\n\n"
        f"Produced by `{command.strip()}` on {time.strftime('%Y-%m-%d')}; {machine()}.\n\n"
        f"Mode: {'quick (smoke run)' if cfg.quick else 'full'}. Peers: {', '.join(peers) or 'none'}"
        + (f"; skipped, not installed: {', '.join(missing)}" if missing else "")
        + ("; skipped by --skip-peers" if args.skip_peers else "")
        + ".\n\n"
        "Protocol: walk-forward, horizon = one season (annual: horizon 5, season 1), "
        f"{cfg.folds} folds at the end of each series, step = horizon, expanding window, refit every fold. "
        "MASE scale: in-sample seasonal-naive MAE of each fold's training data (season as listed), computed by "
        "this script for every system. taylor: the last 2,000 of its 4,032 half-hourly points (statsforecast's "
        "AutoARIMA with season 48 is too slow on more).",
    )
    report.add("## Accuracy per dataset")
    scores = accuracy(cfg, peers, report)
    summary, mase_means = accuracy_summary(scores)
    report.add(summary)
    times: dict[str, float] = {}
    if not args.skip_speed:
        text, times = speed_panel(cfg, peers)
        report.add(text)
    text, ratios = memory(cfg)
    report.add(text)
    if not args.skip_speed:
        report.add(scaling(cfg))
    report.add(targets(mase_means, times, ratios))
    report.add(f"Total benchmark time: {time.perf_counter() - started:.0f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
