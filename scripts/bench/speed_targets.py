"""Speed targets: five wall-clock timings of the public API, each against its target, peers timed in the same run.

``python scripts/benchmark.py --targets`` runs this module alone and writes its section into ``--out``
(replacing the section a previous ``--targets`` run wrote there, or appending it; nothing else in the file
changes). The five measurements, in this order:

1. **Seasonal naive with intervals**: ``tsf.backtest("seasonal_naive", df, tsf.WalkForward(5, 12),
   baselines=(), level=(80, 95))`` (conformal intervals, the default) on 2,000 monthly series × 120 points,
   against statsforecast ``StatsForecast(models=[SeasonalNaive(12)], freq="MS").cross_validation(df, h=12,
   n_windows=5, step_size=12, level=[80, 95])``. Target: at most 2× statsforecast.
2. **ETS with intervals**: ``tsf.backtest("ets", ...)`` on 50 series × 120 points, same folds and levels,
   against statsforecast ``AutoETS(season_length=12)`` (its native intervals). Target: at most 2×
   statsforecast. Both systems' empirical coverage at 80% and 95% is scored by the same code
   (:func:`bench.intervals.band_scores`) and checked against the interval study's bounds.
3. **The README's command**: ``tsforecast backtest air_passengers --horizon 12 --folds 5 --model sgd,ets
   --level 80,95 --out <tmp> --force`` in a subprocess (the leakage audit is on by default in the CLI), the
   median of 3 runs. Target: under 30 s.
4. **Global SGD with intervals and the audit**: ``tsf.backtest("sgd", df, tsf.WalkForward(5, 12),
   baselines=(), level=(80, 95), audit=True)`` on 40 series × 144 monthly points (the first fold's 84
   points are enough to calibrate). Target: under 180 s.
5. **``tsforecast --help``** in a subprocess, best of 5. Target: under 0.5 s.

What a time includes: 1, 2 and 4 are the wall time of the one public call (validation, fits, calibration,
forecasts, scoring, the result frames; 4 also the audit's reruns in fresh processes), in a process that has
already imported tsforecast and the peer. 1 and 2 are warmed up first on a few series, untimed, for both
systems (statsforecast's numba compilation; tsforecast's lazy imports such as statsmodels), then measured
as the median of 3 calls when one call takes under 30 s (else once); 4 is measured once, not warmed up.
3 and 5 are the whole subprocess as a user sees it: interpreter start, imports, the command, exit (3: the
median of 3 runs; 5: the best of 5).

The panels are :func:`bench.common.synthetic_panel` (positive: level + linear trend + seasonal wave + AR(1)
noise) from fixed seeds. The load average (1 minute) is recorded before and after every measurement: the
machine may be shared, so the ratios against statsforecast measured in the same run are what counts.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import tsforecast as tsf
from tsforecast.models.intervals import band_columns

from .common import median_time, normalise, own_forecasts, sgd_model, synthetic_panel, timed
from .intervals import band_scores
from .markdown import fmt, machine, md_table, secs
from .settings import ID, TARGET, TIME

LEVELS = (80, 95)
FOLDS, HORIZON, SEASON = 5, 12, 12
COVERAGE_BOUNDS = {80: (0.74, 0.88), 95: (0.90, 0.985)}
"""The interval study's acceptable empirical coverage per level (``docs/interval-calibration.md``)."""

HEADERS = (
    "measurement",
    "tsforecast s",
    "statsforecast s (same run)",
    "ratio",
    "target",
    "verdict",
    "load (1 min, before → after)",
    "note",
)

BEGIN, END = "<!-- begin: benchmark.py --targets -->", "<!-- end: benchmark.py --targets -->"


@dataclass(frozen=True)
class Sizes:
    """The panel sizes and the repeats of one ``--targets`` run (full, or the quick smoke run)."""

    snaive: tuple[int, int] = (2_000, 120)  # series, points
    ets: tuple[int, int] = (50, 120)
    sgd: tuple[int, int] = (40, 144)
    sgd_params: tuple[tuple[str, Any], ...] = ()  # overrides of the registered "sgd" model (quick runs only)
    repeats: int = 3
    help_repeats: int = 5
    cli_repeats: int = 3
    cli_model: str = "sgd,ets"


QUICK = Sizes(
    snaive=(100, 120),
    ets=(4, 120),
    sgd=(3, 144),
    sgd_params=(("epochs", 2), ("max_steps", 10)),
    repeats=1,
    help_repeats=1,
    cli_repeats=1,
    cli_model="naive",
)


@dataclass
class Measured:
    """One target's measurement."""

    name: str
    seconds: float
    how: str  # "median of 3", "once", "best of 5"
    load: tuple[float, float]  # 1-minute load average before and after
    limit: float  # seconds (absolute targets) or a ratio (targets against the peer)
    relative: bool = False  # the target is a ratio to the peer's time in the same run
    peer: float | None = None  # the peer's seconds in the same run
    peer_how: str = ""
    note: str = ""

    @property
    def ratio(self) -> float | None:
        return None if self.peer is None else self.seconds / self.peer

    def verdict(self) -> str:
        if self.relative:
            if self.ratio is None:
                return "not measured (statsforecast absent)"
            return "met" if self.ratio <= self.limit else "NOT met"
        return "met" if self.seconds < self.limit else "NOT met"

    def target(self) -> str:
        return f"≤ {self.limit:g}× statsforecast" if self.relative else f"< {self.limit:g} s"


def load1() -> float:
    """The 1-minute load average."""
    return os.getloadavg()[0]


def loaded(fn: Callable[[], Any]) -> tuple[Any, tuple[float, float]]:
    """``fn()`` and the 1-minute load average before and after it."""
    before = load1()
    out = fn()
    return out, (before, load1())


def how(repeats: int) -> str:
    """How a time was taken, for the table."""
    return f"median of {repeats}" if repeats > 1 else "once"


def panel(n_series: int, length: int, seed: int) -> pd.DataFrame:
    """The seeded synthetic monthly panel, ``unique_id, ds, y`` with nanosecond timestamps."""
    return normalise(synthetic_panel(n_series, length, seed=seed), (TIME,))


def statsforecast_available(peers: Sequence[str]) -> bool:
    """Whether statsforecast is among the peers of this run."""
    return "statsforecast" in peers


def sf_cross_validation(model: Any, df: pd.DataFrame) -> pd.DataFrame:
    """statsforecast's ``cross_validation`` with the targets' protocol (refit every fold, its default)."""
    from statsforecast import StatsForecast

    sf = StatsForecast(models=[model], freq="MS", n_jobs=1)
    return sf.cross_validation(df=df, h=HORIZON, n_windows=FOLDS, step_size=HORIZON, level=list(LEVELS))


def sf_bands(out: pd.DataFrame, name: str) -> pd.DataFrame:
    """statsforecast's output with tsforecast's band column names."""
    bands = {f"{name}-{side}-{level}": f"y_{side}_{level}" for level in LEVELS for side in ("lo", "hi")}
    out = out.rename(columns={**bands, name: "y_hat"})
    return normalise(out[[ID, TIME, "cutoff", TARGET, "y_hat", *bands.values()]])


def tsf_backtest(model: Any, df: pd.DataFrame, **kwargs: Any) -> tsf.BacktestResult:
    """The targets' call: ``tsf.backtest(model, df, WalkForward(5, 12), baselines=(), level=(80, 95), ...)``."""
    return tsf.backtest(model, df, tsf.WalkForward(FOLDS, HORIZON), baselines=(), level=LEVELS, **kwargs)


def same_points(ours: pd.DataFrame, theirs: pd.DataFrame) -> bool:
    """Whether both forecast the same ``(unique_id, ds, cutoff)``."""
    key = [ID, TIME, "cutoff"]
    a, b = normalise(ours[key]), normalise(theirs[key])
    return set(a.itertuples(index=False, name=None)) == set(b.itertuples(index=False, name=None))


def against_statsforecast(
    name: str,
    tsf_model: str,
    sf_model: str,
    df: pd.DataFrame,
    sizes: Sizes,
    peers: Sequence[str],
) -> tuple[Measured, pd.DataFrame | None, pd.DataFrame | None]:
    """Time ``tsf_backtest(tsf_model, df)`` and statsforecast's ``cross_validation`` of ``sf_model()``, warmed up.

    ``sf_model`` names a class of ``statsforecast.models``, made with ``season_length=12``. Returns the
    measurement and both systems' last forecasts (``None`` for an absent peer).
    """
    warm = df[df[ID].isin(df[ID].unique()[:3])]
    tsf_backtest(tsf_model, warm)  # untimed: lazy imports, first-call caches
    result: dict[str, Any] = {}

    def ours() -> None:
        result["tsf"] = tsf_backtest(tsf_model, df)

    (seconds, n), load = loaded(lambda: median_time(ours, sizes.repeats))
    forecasts = own_forecasts(result["tsf"])
    measured = Measured(name, seconds, how(n), load, 2.0, relative=True)
    theirs = None
    if statsforecast_available(peers):
        import statsforecast.models

        model = getattr(statsforecast.models, sf_model)(season_length=SEASON)
        sf_cross_validation(model, warm)  # untimed: numba compilation

        def peer() -> None:
            result["sf"] = sf_cross_validation(model, df)

        (peer_seconds, m), peer_load = loaded(lambda: median_time(peer, sizes.repeats))
        theirs = sf_bands(result["sf"], type(model).__name__)
        measured.peer, measured.peer_how = peer_seconds, how(m)
        measured.load = (load[0], peer_load[1])
        same = same_points(forecasts, theirs)
        measured.note = f"same test points as statsforecast: {'yes' if same else 'NO'}"
    return measured, forecasts[[ID, TIME, "cutoff", TARGET, "y_hat", *band_columns(LEVELS)]], theirs


def cli_executable() -> list[str]:
    """The ``tsforecast`` console script of this interpreter's environment, else ``python -m tsforecast``."""
    found = shutil.which("tsforecast", path=str(Path(sys.executable).parent))
    return [found] if found else [sys.executable, "-m", "tsforecast"]


def run_cli(args: Sequence[str]) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run ``tsforecast ARGS`` in a subprocess; its result and wall time."""
    return timed(lambda: subprocess.run([*cli_executable(), *args], capture_output=True, text=True, check=False))


def cli_backtest(sizes: Sizes) -> Measured:
    """The README's command: the median wall time of ``cli_repeats`` whole subprocesses (every run in the note)."""
    runs = []

    def run() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "air_passengers"
            args = ["backtest", "air_passengers", "--horizon", "12", "--folds", "5", "--model", sizes.cli_model]
            args += ["--level", "80,95", "--out", str(out), "--force"]
            runs.append(run_cli(args))

    _, load = loaded(lambda: [run() for _ in range(sizes.cli_repeats)])
    seconds = [s for _, s in runs]
    done = next((d for d, _ in runs if d.returncode != 0), runs[-1][0])
    audit = next((line for line in done.stdout.splitlines() if line.startswith("leakage audit")), "no audit line")
    note = f"runs {', '.join(secs(s) for s in seconds)} s; exit {done.returncode}; {audit.split(':')[0]}"
    if done.returncode != 0:
        note += f"; stderr: {' '.join(done.stderr.split())[-300:]}"
    median = float(np.median(seconds))
    return Measured("README command (CLI, sgd+ets, audit on)", median, how(len(seconds)), load, 30.0, note=note)


def cli_help(sizes: Sizes) -> Measured:
    """``tsforecast --help``: best of ``help_repeats`` subprocess wall times."""

    def best() -> tuple[float, int]:
        runs = [run_cli(["--help"]) for _ in range(sizes.help_repeats)]
        return min(s for _, s in runs), max(d.returncode for d, _ in runs)

    (seconds, rc), load = loaded(best)
    return Measured("`tsforecast --help`", seconds, f"best of {sizes.help_repeats}", load, 0.5, note=f"exit {rc}")


def sgd_audit(sizes: Sizes) -> Measured:
    """The 40-series global SGD backtest with intervals and the audit, measured once."""
    n, length = sizes.sgd
    df = panel(n, length, seed=4)
    model: Any = sgd_model(HORIZON, SEASON, dict(sizes.sgd_params)) if sizes.sgd_params else "sgd"
    (res, seconds), load = loaded(lambda: timed(lambda: tsf_backtest(model, df, audit=True)))
    audit = res.audit.status if res.audit is not None else "not run"
    cover = band_scores(own_forecasts(res)[[ID, TIME, "cutoff", TARGET, *band_columns(LEVELS)]], df)
    note = f"audit: {audit}; coverage 80% {fmt(cover['coverage_80'].mean())}, 95% {fmt(cover['coverage_95'].mean())}"
    return Measured(f"global SGD, {n} series, level + audit", seconds, "once", load, 180.0, note=note)


def coverage_rows(label: str, forecasts: pd.DataFrame, df: pd.DataFrame) -> list[str]:
    """One coverage row: the means over folds and series, each level against the study's bounds."""
    scores = band_scores(forecasts, df)
    row = [label]
    for level in LEVELS:
        value = scores[f"coverage_{level}"].mean()
        lo, hi = COVERAGE_BOUNDS[level]
        row += [fmt(value), "yes" if lo <= value <= hi else "NO"]
    row.append(fmt(scores[f"msis_{LEVELS[-1]}"].mean(), 2))
    return row


def speed_targets(sizes: Sizes, peers: Sequence[str], command: str, quick: bool) -> str:
    """Run the five measurements, print each as it is made; the Markdown section."""
    started, load_start = time.strftime("%Y-%m-%d %H:%M"), os.getloadavg()
    measured: list[Measured] = []

    def done(m: Measured) -> None:
        measured.append(m)
        peer = f"; statsforecast {secs(m.peer)} s, ratio {fmt(m.ratio or 0, 2)}" if m.peer is not None else ""
        print(
            f"{m.name}: {secs(m.seconds)} s ({m.how}){peer}; target {m.target()}: {m.verdict()}; "
            f"load {m.load[0]:.2f} -> {m.load[1]:.2f}; {m.note}",
            flush=True,
        )

    n, length = sizes.snaive
    m, _, _ = against_statsforecast(
        f"seasonal naive, {n:,} × {length}, level (80, 95)",
        "seasonal_naive",
        "SeasonalNaive",
        panel(n, length, seed=1),
        sizes,
        peers,
    )
    done(m)
    n, length = sizes.ets
    ets_df = panel(n, length, seed=2)
    m, ours, theirs = against_statsforecast(
        f"ETS, {n} × {length}, level (80, 95)", "ets", "AutoETS", ets_df, sizes, peers
    )
    done(m)
    coverage = [coverage_rows("tsforecast ets (conformal, default)", ours, ets_df)]
    if theirs is not None:
        coverage.append(coverage_rows("statsforecast AutoETS (native)", theirs, ets_df))
    done(cli_backtest(sizes))
    done(sgd_audit(sizes))
    done(cli_help(sizes))
    load_end = os.getloadavg()
    return section(measured, coverage, command, quick, started, load_start, load_end, sizes)


def section(
    measured: list[Measured],
    coverage: list[list[str]],
    command: str,
    quick: bool,
    started: str,
    load_start: tuple[float, float, float],
    load_end: tuple[float, float, float],
    sizes: Sizes,
) -> str:
    """The Markdown section (between the markers that :func:`write_section` replaces)."""
    rows = []
    for m in measured:
        peer = f"{secs(m.peer)} ({m.peer_how})" if m.peer is not None else "-"
        ratio = fmt(m.ratio, 2) if m.ratio is not None else "-"
        load = f"{m.load[0]:.2f} → {m.load[1]:.2f}"
        verdict = f"**{m.verdict()}**"
        rows.append([m.name, f"{secs(m.seconds)} ({m.how})", peer, ratio, m.target(), verdict, load, m.note])
    loads = " / ".join(f"{v:.2f}" for v in load_start), " / ".join(f"{v:.2f}" for v in load_end)
    bounds = "; ".join(f"{lvl}%: {lo}–{hi}" for lvl, (lo, hi) in COVERAGE_BOUNDS.items())
    lines = [
        BEGIN,
        "## Speed targets" + (" (quick smoke run: small sizes, not the targets' sizes)" if quick else ""),
        "",
        f"Produced by `{command}` on {started}; {machine()}. Load average (1 / 5 / 15 min) at the start: "
        f"{loads[0]}; at the end: {loads[1]}. The machine is shared: the ratios against statsforecast, "
        "measured in the same run right after tsforecast, are what counts.",
        "",
        f"Protocol: walk-forward, {FOLDS} folds, horizon {HORIZON}, step {HORIZON}, expanding window, refit every "
        f"fold, levels {LEVELS[0]} and {LEVELS[1]}; tsforecast's intervals are its default (conformal), "
        "statsforecast's its models' native ones. Data: `bench.common.synthetic_panel` (positive monthly series: "
        "level + linear trend + seasonal wave + AR(1) noise), seeds 1 (seasonal naive, "
        f"{sizes.snaive[0]:,} × {sizes.snaive[1]}), 2 (ETS, {sizes.ets[0]} × {sizes.ets[1]}) and 4 (SGD, "
        f"{sizes.sgd[0]} × {sizes.sgd[1]}); the README command uses the shipped `air_passengers` (144 points). "
        "Not the same work for ETS: tsforecast's `ets` fits one damped Holt-Winters model per series and fit "
        "(plus its conformal calibration fits), statsforecast's `AutoETS` selects among several ETS models.",
        "",
        "What a time includes: seasonal naive, ETS and SGD: the wall time of the one public call "
        "(`tsf.backtest(model, df, tsf.WalkForward(5, 12), baselines=(), level=(80, 95))`, SGD with `audit=True`: "
        "validation, fits, calibration, forecasts, scores, the audit's reruns in fresh processes) or of "
        "statsforecast's `cross_validation(df, h=12, n_windows=5, step_size=12, level=[80, 95])` (n_jobs=1), in a "
        "process that has already imported both; seasonal naive and ETS are warmed up untimed on 3 series for "
        "both systems (statsforecast's numba compilation, tsforecast's lazy imports) and measured as the median "
        "of 3 calls when one takes under 30 s; SGD is measured once, cold. The README command "
        f"(`tsforecast backtest air_passengers --horizon 12 --folds 5 --model {sizes.cli_model} --level 80,95 "
        f"--out <tmp> --force`, audit on by default; median of {sizes.cli_repeats}, every run in the note) and "
        "`tsforecast --help` are whole subprocesses: interpreter start, imports, the command.",
        "",
        md_table(HEADERS, rows),
        "",
        f"Empirical coverage of the ETS run's bands (means over the {FOLDS} folds and the series, scored by the same "
        f"code, `bench.intervals.band_scores`; the interval study's bounds: {bounds}):",
        "",
        md_table(["system", "coverage 80%", "in bounds", "coverage 95%", "in bounds", "MSIS 95%"], coverage),
        END,
    ]
    return "\n".join(lines)


def write_section(path: Path, text: str, begin: str = BEGIN, end: str = END) -> None:
    """Put ``text`` (which starts with ``begin`` and ends with ``end``) into ``path`` in place of the section a
    previous run wrote there, else at its end."""
    old = path.read_text() if path.exists() else ""
    if begin in old and end in old:
        head, rest = old.split(begin, 1)
        new = head + text + rest.split(end, 1)[1]
    else:
        new = old.rstrip("\n") + ("\n\n" if old.strip() else "") + text + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(new)
