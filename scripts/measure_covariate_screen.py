"""How often does the covariate leak screen refuse or flag honest covariates, and catch leaky ones?

Usage::

    python scripts/measure_covariate_screen.py [--trials 100] [--cases copy,rw_known_future,...]

Every case builds a frame, declares one extra column (or a panel's columns) and runs the check a
backtest runs before any fit (``make_plan`` with the ``naive`` model and ``tsf.WalkForward``,
which calls :func:`tsforecast.covariate_screen.screen_covariates`), with the default
``screen="refuse"``. A run is **refused** (``LeakageError``), **warned** (a ``LeakageWarning``)
or **passed**. The false-alarm rate of an honest case is (refused + warned) / trials; the catch
rate of a leaky case the same. Cases fall in four groups: honest; honest but flagged by design
(a leading indicator, a same-time driver that sets ``y`` almost exactly: the data cannot tell
them from a leak); exact leaks (copies, leads, lags shorter than the horizon, whole-series
statistics, also in a 40-row series, in one series of a panel, or after the first cutoff only);
and near leaks (noisy or transformed copies and leads, static values near a whole-series statistic).

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


def short(make: Callable[[pd.Series], np.ndarray], rows: int = 40) -> Callable[[int], pd.DataFrame]:
    """A single series of ``rows`` rows (too few for the correlation checks) with ``x`` made from its ``y``."""

    def build(seed: int) -> pd.DataFrame:
        df = generated(seed).iloc[:rows]
        return df.assign(x=make(df["y"]))

    return build


def partial_copy(seed: int) -> pd.DataFrame:
    """A panel whose ``x`` is a copy of ``y`` in its first series and an independent random walk elsewhere."""
    df = random_walks(seed, PANEL)
    return df.assign(x=np.where(df["unique_id"] == "s0", df["y"], df["x"]))


def after_cut(make: Callable[[pd.Series], np.ndarray]) -> Callable[[int], pd.DataFrame]:
    """An independent random walk ``x`` up to the first cutoff, ``make(y)`` after it (a back-fill)."""

    def build(seed: int) -> pd.DataFrame:
        df = random_walks(seed, 1)
        return df.assign(x=np.where(np.arange(N) >= N - HORIZON * FOLDS, make(df["y"]), df["x"]))

    return build


def noisy(lag: int, level: float) -> Callable[[int], pd.DataFrame]:
    """``x_t = y_{t-lag}`` plus Gaussian noise of ``level`` times the sd of ``y``'s one-step changes."""

    def build(seed: int) -> pd.DataFrame:
        df = generated(seed)
        noise = np.random.default_rng(40_000 + seed).normal(0, level * df["y"].diff().std(), N)
        return df.assign(x=shift(-lag)(df["y"]) + noise)

    return build


def static_near(make: Callable[[pd.Series], float], all_but_one: bool = False) -> Callable[[int], pd.DataFrame]:
    """A panel whose static ``x`` is ``make`` of each series' whole ``y`` (the first series' training rows' mean
    instead, with ``all_but_one``)."""

    def build(seed: int) -> pd.DataFrame:
        df = generated(seed, PANEL)
        value = df.groupby("unique_id")["y"].agg(make)
        if all_but_one:
            value["s0"] = df["y"].iloc[: N - HORIZON * FOLDS].mean()
        return df.assign(x=df["unique_id"].map(value))

    return build


def determined(seed: int, kind: str) -> pd.DataFrame:
    """``y`` set almost exactly by an honest same-time driver ``x``: a weekday load or a random-walk price."""
    rng = np.random.default_rng(50_000 + seed)
    df = generated(seed)
    if kind == "weekday":
        x = (df["ds"].dt.day_of_week < 5).astype(float).to_numpy()
        return df.assign(x=x, y=100 + 50 * x + rng.normal(0, 0.5, N))
    price = 10 + np.cumsum(rng.normal(0, 0.3, N))
    return df.assign(x=price, y=500 - 20 * price + rng.normal(0, 1, N))


# name -> (group, how to build the frame of trial `seed`, the declaration); the groups: honest, honest but flagged
# by design (the data cannot tell them from a leak), exact leaks, near leaks (noisy or transformed)
HONEST, DESIGN, EXACT, NEAR = "honest", "by design", "exact leak", "near leak"
KF, PO, ST = "known_future", "past_only", "static"
CASES: dict[str, tuple[str, Callable[[int], pd.DataFrame], dict[str, Any]]] = {
    # honest
    "calendar columns (known_future)": (HONEST, lambda s: calendar(generated(s)), {KF: ["weekend", "dow_sin"]}),
    "random walk x (known_future)": (HONEST, lambda s: random_walks(s, 1), {KF: ["x"]}),
    "random walk x (past_only)": (HONEST, lambda s: random_walks(s, 1), {PO: ["x"]}),
    "random walk x, 10-series panel (past_only)": (HONEST, lambda s: random_walks(s, PANEL), {PO: ["x"]}),
    "driver of y at t (past_only)": (HONEST, lambda s: driven(s, 0), {PO: ["x"]}),
    "driver of y at t (known_future)": (HONEST, lambda s: driven(s, 0), {KF: ["x"]}),
    "y lagged 1 (past_only)": (HONEST, with_column(shift(-1)), {PO: ["x"]}),
    "y lagged 3 (past_only)": (HONEST, with_column(shift(-3)), {PO: ["x"]}),
    "y itself (past_only)": (HONEST, with_column(shift(0)), {PO: ["x"]}),
    "trailing 7-day mean of y (past_only)": (
        HONEST,
        with_column(lambda y: y.rolling(7, min_periods=1).mean().to_numpy()),
        {PO: ["x"]},
    ),
    "y lagged 7 = horizon (known_future)": (HONEST, with_column(shift(-HORIZON)), {KF: ["x"]}),
    "store size (static)": (HONEST, sizes, {ST: ["x"]}),
    "mean of y over training rows (static)": (HONEST, static_of("mean", "training"), {ST: ["x"]}),
    "random walk x, 40-row series (known_future)": (HONEST, lambda s: random_walks(s, 1).iloc[:40], {KF: ["x"]}),
    # honest, flagged by design: the data cannot tell them from a noisy lead, or from a copy of y
    "leading indicator: y_t driven by x_(t-1) (past_only)": (DESIGN, lambda s: driven(s, 1), {PO: ["x"]}),
    "driver setting y: y = 100 + 50 weekday + N(0, 0.5) (known_future)": (
        DESIGN,
        lambda s: determined(s, "weekday"),
        {KF: ["x"]},
    ),
    "driver setting y: y = 500 - 20 price + N(0, 1) (known_future)": (
        DESIGN,
        lambda s: determined(s, "price"),
        {KF: ["x"]},
    ),
    # leaky
    "copy of y, 40-row series (known_future)": (EXACT, short(shift(0)), {KF: ["x"]}),
    "y lead 1, 40-row series (past_only)": (EXACT, short(shift(1)), {PO: ["x"]}),
    "copy of y in 1 of 10 series (known_future)": (EXACT, partial_copy, {KF: ["x"]}),
    "copy of y after the first cutoff only (known_future)": (EXACT, after_cut(shift(0)), {KF: ["x"]}),
    "y lead 1 after the first cutoff only (past_only)": (EXACT, after_cut(shift(1)), {PO: ["x"]}),
    "copy of y (known_future)": (EXACT, with_column(shift(0)), {KF: ["x"]}),
    "y lagged 3 < horizon (known_future)": (EXACT, with_column(shift(-3)), {KF: ["x"]}),
    "y lead 1 (known_future)": (EXACT, with_column(shift(1)), {KF: ["x"]}),
    "y lead 7 (known_future)": (EXACT, with_column(shift(7)), {KF: ["x"]}),
    "centred 7-day mean of y (known_future)": (
        EXACT,
        with_column(lambda y: y.rolling(7, center=True, min_periods=1).mean().to_numpy()),
        {KF: ["x"]},
    ),
    "centred 7-day mean of y (past_only)": (
        EXACT,
        with_column(lambda y: y.rolling(7, center=True, min_periods=1).mean().to_numpy()),
        {PO: ["x"]},
    ),
    "centred 3-day mean of y (past_only)": (
        EXACT,
        with_column(lambda y: y.rolling(3, center=True, min_periods=1).mean().to_numpy()),
        {PO: ["x"]},
    ),
    "y lead 1 (past_only)": (EXACT, with_column(shift(1)), {PO: ["x"]}),
    "y lead 3 (past_only)": (EXACT, with_column(shift(3)), {PO: ["x"]}),
    "y lead 1, 10-series panel (past_only)": (EXACT, with_column(shift(1), PANEL), {PO: ["x"]}),
    "whole-series mean of y (static)": (EXACT, static_of("mean", "whole"), {ST: ["x"]}),
    "whole-series sum of y (static)": (EXACT, static_of("sum", "whole"), {ST: ["x"]}),
    "whole-series last y (static)": (EXACT, static_of("last", "whole"), {ST: ["x"]}),
    "y + noise 0.3 sd (known_future)": (NEAR, noisy(0, 0.3), {KF: ["x"]}),
    "y lagged 1 + noise 0.3 sd (known_future)": (NEAR, noisy(1, 0.3), {KF: ["x"]}),
    "y lagged 1 + noise 0.5 sd (known_future)": (NEAR, noisy(1, 0.5), {KF: ["x"]}),
    "log y (known_future)": (NEAR, with_column(lambda y: np.log(y.clip(lower=1)).to_numpy()), {KF: ["x"]}),
    "whole-series mean of y rounded to 0.01 (static)": (NEAR, static_near(lambda y: round(y.mean(), 2)), {ST: ["x"]}),
    "whole-series median of y (static)": (NEAR, static_near(lambda y: y.median()), {ST: ["x"]}),
    "whole-series max of y (static)": (NEAR, static_near(lambda y: y.max()), {ST: ["x"]}),
    f"mean of the last {HORIZON} y (static)": (NEAR, static_near(lambda y: y.iloc[-HORIZON:].mean()), {ST: ["x"]}),
    "whole-series mean of y in 9 of 10 series (static)": (
        NEAR,
        static_near(lambda y: y.mean(), all_but_one=True),
        {ST: ["x"]},
    ),
    **{
        f"y lead 1 + noise {level:g} sd (past_only)": (
            NEAR,
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
    return [_row("elecdaily WorkDay (known_future) + Temperature (past_only)", HONEST, outcomes)]


def _row(case: str, group: str, outcomes: list[str]) -> dict[str, object]:
    counts = {k: outcomes.count(k) for k in ("refused", "warned", "passed")}
    return {"case": case, "group": group, "trials": len(outcomes), **counts,
            "flag rate": (counts["refused"] + counts["warned"]) / len(outcomes)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=100, help="seeds per generated case (default: 100)")
    args = parser.parse_args()
    start = time.perf_counter()
    cv = tsf.WalkForward(FOLDS, HORIZON)
    rows = shipped()
    for case, (group, build, declared) in CASES.items():
        rows.append(_row(case, group, [screen(build(seed), declared, cv) for seed in range(args.trials)]))
    table = pd.DataFrame(rows)
    pd.set_option("display.width", 200)
    print(table.to_string(index=False, formatters={"flag rate": "{:.2f}".format}))
    for what, group in (("false-alarm rate, honest cases", HONEST), ("flag rate, honest by design", DESIGN),
                        ("catch rate, exact leaks", EXACT), ("catch rate, near leaks", NEAR)):  # fmt: skip
        part = table[table["group"] == group]
        flagged = int((part["refused"] + part["warned"]).sum())
        print(f"{what}: {flagged}/{int(part['trials'].sum())} = {flagged / part['trials'].sum():.3f} "
              f"(refused {int(part['refused'].sum())}, warned {int(part['warned'].sum())})")  # fmt: skip
    print(f"({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
