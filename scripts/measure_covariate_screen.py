"""How often does the covariate leak screen refuse or flag honest covariates, and catch leaky ones?

Usage::

    python scripts/measure_covariate_screen.py [--trials 100] [--cases copy,rw_known_future,...]

Every case builds a frame, declares one extra column (or a panel's columns) and runs the check a
backtest runs before any fit (``make_plan`` with the ``naive`` model and ``tsf.WalkForward``,
which calls :func:`tsforecast.covariate_screen.screen_covariates`), with the default
``screen="refuse"``. A run is **refused** (``LeakageError``), **warned** (a ``LeakageWarning``)
or **passed**. The false-alarm rate of an honest case is (refused + warned) / trials; the catch
rate of a leaky case the same.

Data: ``elecdaily`` (shipped; daily demand with ``WorkDay`` and ``Temperature``; horizon 7 and 14,
3 to 10 folds: one run per setting), and generated daily series of 200 rows (a Gaussian random walk,
a weekly cycle of amplitude 5 and unit noise; seed = trial), backtested with horizon 7 and 5 folds.
Panels have 10 such series. Every leaky column is built from the same ``y``; the noise of a noisy
lead is Gaussian with the given multiple of the standard deviation of ``y``'s one-step changes.
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

import tsforecast as tsf
from tsforecast._plan import make_plan
from tsforecast.errors import LeakageWarning

N, HORIZON, FOLDS, PANEL = 200, 7, 5, 10


def generated(seed: int, n_series: int = 1) -> pd.DataFrame:
    """``n_series`` daily series: a random walk plus a weekly cycle plus noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(N)
    frames = []
    for k in range(n_series):
        y = 50 + np.cumsum(rng.normal(size=N)) + 5 * np.sin(2 * np.pi * (t + k) / 7) + rng.normal(size=N)
        ds = pd.date_range("2021-01-01", periods=N, freq="D")
        frames.append(pd.DataFrame({"unique_id": f"s{k}", "ds": ds, "y": y}))
    return pd.concat(frames, ignore_index=True)


def by_series(df: pd.DataFrame, make: Callable[[pd.Series], np.ndarray]) -> np.ndarray:
    """A column computed from each series' ``y`` alone."""
    return np.concatenate([make(group["y"]) for _, group in df.groupby("unique_id", sort=False)])


def shift(k: int) -> Callable[[pd.Series], np.ndarray]:
    """``x_t = y_{t+k}`` (a lead for k > 0, a lag for k < 0), the ends filled with the nearest value."""
    return lambda y: y.shift(-k).bfill().ffill().to_numpy()


def noisy_lead(level: float, seed: int) -> Callable[[pd.Series], np.ndarray]:
    """``x_t = y_{t+1}`` plus Gaussian noise of ``level`` times the sd of ``y``'s one-step changes."""
    rng = np.random.default_rng(10_000 + seed)
    return lambda y: shift(1)(y) + rng.normal(0, level * y.diff().std(), len(y))


def calendar(df: pd.DataFrame) -> pd.DataFrame:
    """A user's own calendar columns: a weekend flag and the day of the week's sine."""
    return df.assign(
        weekend=(df["ds"].dt.day_of_week >= 5).astype(float),
        dow_sin=np.sin(2 * np.pi * df["ds"].dt.day_of_week / 7),
    )


def random_walks(seed: int, n_series: int) -> pd.DataFrame:
    """A panel with an independent random-walk exogenous series per series."""
    df = generated(seed, n_series)
    return df.assign(
        x=np.random.default_rng(20_000 + seed).normal(size=len(df)).reshape(n_series, N).cumsum(axis=1).ravel()
    )


def driven(seed: int, delay: int) -> pd.DataFrame:
    """``y`` driven by an AR(1) exogenous ``x`` with ``delay`` steps: ``y_t = trend + 2 x_{t-delay} + noise``."""
    rng = np.random.default_rng(30_000 + seed)
    x = np.zeros(N + delay)
    for t in range(1, N + delay):
        x[t] = 0.8 * x[t - 1] + rng.normal()
    df = generated(seed)
    return df.assign(y=df["y"] + 2 * x[:N], x=x[delay:])


def with_column(make: Callable[[pd.Series], np.ndarray], n_series: int = 1) -> Callable[[int], pd.DataFrame]:
    def build(seed: int) -> pd.DataFrame:
        df = generated(seed, n_series)
        return df.assign(x=by_series(df, make))

    return build


def static_of(statistic: str, rows: str) -> Callable[[int], pd.DataFrame]:
    """A panel whose static ``x`` is each series' ``statistic`` of ``y`` over its whole rows or its training rows."""

    def build(seed: int) -> pd.DataFrame:
        df = generated(seed, PANEL)
        cut = N - HORIZON * FOLDS
        part = df if rows == "whole" else df[df.groupby("unique_id").cumcount() < cut]
        value = part.groupby("unique_id")["y"].agg(statistic)
        return df.assign(x=df["unique_id"].map(value))

    return build


def sizes(seed: int) -> pd.DataFrame:
    df = generated(seed, PANEL)
    size = dict(zip(df["unique_id"].unique(), np.random.default_rng(seed).integers(1, 10, PANEL), strict=True))
    return df.assign(x=df["unique_id"].map(size).astype(float))


# name -> (honest?, how to build the frame of trial `seed`, the declaration)
KF, PO, ST = "known_future", "past_only", "static"
CASES: dict[str, tuple[bool, Callable[[int], pd.DataFrame], dict[str, Any]]] = {
    # honest
    "calendar columns (known_future)": (True, lambda s: calendar(generated(s)), {KF: ["weekend", "dow_sin"]}),
    "random walk x (known_future)": (True, lambda s: random_walks(s, 1), {KF: ["x"]}),
    "random walk x (past_only)": (True, lambda s: random_walks(s, 1), {PO: ["x"]}),
    "random walk x, 10-series panel (past_only)": (True, lambda s: random_walks(s, PANEL), {PO: ["x"]}),
    "driver of y at t (past_only)": (True, lambda s: driven(s, 0), {PO: ["x"]}),
    "driver of y at t (known_future)": (True, lambda s: driven(s, 0), {KF: ["x"]}),
    "y lagged 1 (past_only)": (True, with_column(shift(-1)), {PO: ["x"]}),
    "y lagged 3 (past_only)": (True, with_column(shift(-3)), {PO: ["x"]}),
    "y itself (past_only)": (True, with_column(shift(0)), {PO: ["x"]}),
    "trailing 7-day mean of y (past_only)": (
        True,
        with_column(lambda y: y.rolling(7, min_periods=1).mean().to_numpy()),
        {PO: ["x"]},
    ),
    "y lagged 7 = horizon (known_future)": (True, with_column(shift(-HORIZON)), {KF: ["x"]}),
    "store size (static)": (True, sizes, {ST: ["x"]}),
    "mean of y over training rows (static)": (True, static_of("mean", "training"), {ST: ["x"]}),
    # honest, flagged by design: the data cannot tell it from a noisy lead
    "leading indicator: y_t driven by x_(t-1) (past_only)": (True, lambda s: driven(s, 1), {PO: ["x"]}),
    # leaky
    "copy of y (known_future)": (False, with_column(shift(0)), {KF: ["x"]}),
    "y lagged 3 < horizon (known_future)": (False, with_column(shift(-3)), {KF: ["x"]}),
    "y lead 1 (known_future)": (False, with_column(shift(1)), {KF: ["x"]}),
    "y lead 7 (known_future)": (False, with_column(shift(7)), {KF: ["x"]}),
    "centred 7-day mean of y (known_future)": (
        False,
        with_column(lambda y: y.rolling(7, center=True, min_periods=1).mean().to_numpy()),
        {KF: ["x"]},
    ),
    "centred 7-day mean of y (past_only)": (
        False,
        with_column(lambda y: y.rolling(7, center=True, min_periods=1).mean().to_numpy()),
        {PO: ["x"]},
    ),
    "centred 3-day mean of y (past_only)": (
        False,
        with_column(lambda y: y.rolling(3, center=True, min_periods=1).mean().to_numpy()),
        {PO: ["x"]},
    ),
    "y lead 1 (past_only)": (False, with_column(shift(1)), {PO: ["x"]}),
    "y lead 3 (past_only)": (False, with_column(shift(3)), {PO: ["x"]}),
    "y lead 1, 10-series panel (past_only)": (False, with_column(shift(1), PANEL), {PO: ["x"]}),
    "whole-series mean of y (static)": (False, static_of("mean", "whole"), {ST: ["x"]}),
    "whole-series sum of y (static)": (False, static_of("sum", "whole"), {ST: ["x"]}),
    "whole-series last y (static)": (False, static_of("last", "whole"), {ST: ["x"]}),
    **{
        f"y lead 1 + noise {level:g} sd (past_only)": (
            False,
            (lambda lv: lambda s: generated(s).assign(x=lambda d: noisy_lead(lv, s)(d["y"])))(level),
            {PO: ["x"]},
        )
        for level in (0.1, 0.25, 0.5, 1.0, 2.0)
    },
}


def screen(df: pd.DataFrame, declared: dict[str, Any], cv: tsf.WalkForward) -> str:
    """``"refused"``, ``"warned"`` or ``"passed"``: what the backtest's plan says of the declaration."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", LeakageWarning)
        try:
            make_plan("naive", df, cv, covariates=tsf.Covariates(**declared))
        except tsf.LeakageError:
            return "refused"
    return "warned" if any(issubclass(w.category, LeakageWarning) for w in caught) else "passed"


def shipped() -> list[dict[str, object]]:
    """``elecdaily`` with its own covariates, declared as the README does, in several fold settings."""
    df = tsf.load_dataset("elecdaily")
    declared = {KF: ["WorkDay"], PO: ["Temperature"]}
    outcomes = [screen(df, declared, tsf.WalkForward(folds, horizon)) for horizon in (7, 14) for folds in (3, 5, 10)]
    return [_row("elecdaily WorkDay (known_future) + Temperature (past_only)", True, outcomes)]


def _row(case: str, honest: bool, outcomes: list[str]) -> dict[str, object]:
    counts = {k: outcomes.count(k) for k in ("refused", "warned", "passed")}
    return {"case": case, "honest": honest, "trials": len(outcomes), **counts,
            "flag rate": (counts["refused"] + counts["warned"]) / len(outcomes)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=100, help="seeds per generated case (default: 100)")
    args = parser.parse_args()
    start = time.perf_counter()
    cv = tsf.WalkForward(FOLDS, HORIZON)
    rows = shipped()
    for case, (honest, build, declared) in CASES.items():
        rows.append(_row(case, honest, [screen(build(seed), declared, cv) for seed in range(args.trials)]))
    table = pd.DataFrame(rows)
    pd.set_option("display.width", 200)
    print(table.to_string(index=False, formatters={"flag rate": "{:.2f}".format}))
    honest = table[table["honest"] & ~table["case"].str.startswith("leading indicator")]
    leaky = table[~table["honest"] & ~table["case"].str.contains("noise")]
    for what, part in (("false-alarm rate, honest cases", honest), ("catch rate, exact leaks", leaky)):
        flagged = int((part["refused"] + part["warned"]).sum())
        print(f"{what}: {flagged}/{int(part['trials'].sum())} = {flagged / part['trials'].sum():.3f} "
              f"(refused {int(part['refused'].sum())}, warned {int(part['warned'].sum())})")  # fmt: skip
    print(f"({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
