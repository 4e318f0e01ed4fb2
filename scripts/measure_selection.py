"""How much does choosing a model on the folds you report flatter it? Nested versus non-nested selection.

Usage::

    python scripts/measure_selection.py [--datasets air_passengers,ausbeer,uk_lung_deaths,arrivals]

For each shipped data set, with the outer folds ``WalkForward(folds, horizon)`` (air_passengers 4 x 12,
ausbeer 4 x 8, uk_lung_deaths 3 x 6, arrivals 4 x 8) and the data's season ``m`` (12 monthly, 4 quarterly):

- **grid**: ETS with ``damped`` in (True, False) and ``season`` in (1, m): four candidates, each
  backtested on the outer folds. *Non-nested*: the candidate with the lowest outer MASE, reported
  with that MASE (chosen on the folds it is reported on). *Median*: the median candidate's outer MASE.
  *Nested*: ``WalkForwardSearch`` over the same grid with ``inner_cv=WalkForward(3, horizon)``, inside
  the same backtest: each outer fold chooses on its own past. *Inner best*: the mean over outer folds
  of the chosen candidate's inner score (:func:`tsforecast.selection_optimism`), what the search
  believed of its choice.
- **auto**: ``"auto"`` (:class:`tsforecast.AutoSelect` among seasonal naive, ETS and Theta, per series,
  inner folds ``WalkForward(3, horizon)``) next to the best of those three single models on the
  outer folds (again chosen on the folds it is reported on) and the reference seasonal naive.

Every MASE is the backtest's mean over the outer series-folds (``BacktestResult.summary``).

With ``--set tune|confirm``: the tune or confirm set of ``scripts/evaluate_sgd.py`` (its lists and
loaders, imported), with its protocol (horizon = one season, expanding window, ``--folds`` folds at
the end of each series, a fold used only when every series' training part is long enough for
evaluate_sgd's SGD model, so the folds are the same as there). Per data set, one backtest of
``"auto"`` (:class:`tsforecast.AutoSelect`, inner folds ``WalkForward(3, horizon)``) next to each of
its three candidates, scored on the series-folds all of them forecast, without the leakage audit
(the selection is nested by construction). *best single (hindsight)* is, per data set, the lowest
MASE of the three candidates: chosen by looking at the very folds it is reported on, itself an
optimistic estimate. The per-frequency and overall rows are means over data sets.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
from sklearn.model_selection import ParameterGrid

import tsforecast as tsf
from tsforecast.frequency import season_length
from tsforecast.models import ETS

SETTINGS = {"air_passengers": (12, 4), "ausbeer": (8, 4), "uk_lung_deaths": (6, 3), "arrivals": (8, 4)}
"""Per data set: the horizon and the number of outer folds."""


def grid(season: int) -> dict[str, list[object]]:
    """The ETS settings tried."""
    return {"damped": [True, False], "season": [1, season]}


def measure(name: str) -> dict[str, object]:
    """The row of one data set."""
    df = tsf.load_dataset(name)
    horizon, folds = SETTINGS[name]
    outer, inner = tsf.WalkForward(folds, horizon), tsf.WalkForward(3, horizon)
    season = 12 if name in ("air_passengers", "uk_lung_deaths") else 4
    settings = ParameterGrid(grid(season))
    candidates = {f"ets(damped={s['damped']}, season={s['season']})": ETS(horizon=horizon, **s) for s in settings}
    search = tsf.WalkForwardSearch(ETS(horizon=horizon), grid(season), inner_cv=inner, season=season)
    run = tsf.backtest({**candidates, "nested": search}, df, outer, baselines=(), season=season)
    scores = run.summary()["mase"]
    flat = scores[list(candidates)]
    optimism = tsf.selection_optimism(search, df, outer)
    singles = ["seasonal_naive", "ets", "theta"]
    auto = tsf.backtest(
        {"auto": tsf.AutoSelect(horizon=horizon, season=season, inner_cv=inner)}, df, outer, baselines=singles[1:]
    ).summary()["mase"]
    return {
        "data": name,
        "series_folds": int(run.summary().loc["nested", "compared"]),
        "non_nested_best": flat.min(),
        "median_candidate": flat.median(),
        "nested_search": scores["nested"],
        "inner_best": optimism["inner_best_mase"].mean(),
        "auto": auto["auto"],
        "best_single": auto[singles].min(),
        "seasonal_naive": auto["seasonal_naive"],
    }


SINGLES = ("seasonal_naive", "ets", "theta")
"""The candidates of ``"auto"``, each also backtested on its own."""


def _evaluate_sgd() -> Any:
    """``scripts/evaluate_sgd.py`` as a module: the sets are defined there, once."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import evaluate_sgd

    return evaluate_sgd


def measure_against_singles(name: str, df: pd.DataFrame, n_folds: int) -> dict[str, object]:
    """The row of one data set of a set: ``auto`` and each single candidate, evaluate_sgd's folds."""
    ev = _evaluate_sgd()
    season = season_length(tsf.infer_freq(df))
    minimum = ev.SGDForecaster(lookback=2 * season, horizon=season).min_length()
    folds = ev.WalkForward(n_splits=n_folds, horizon=season).folds(df)
    used = sum(fold.train.groupby("unique_id").size().min() >= minimum for fold in folds)
    row: dict[str, object] = {"data": name, "season": season, "series_folds": 0}
    if not used:
        return row
    summary = tsf.backtest(
        ["auto", *SINGLES], df, tsf.WalkForward(used, season), baselines=(), season=season, audit=False
    ).summary()
    row["series_folds"] = int(summary["compared"].min())
    row.update({model: float(summary.loc[model, "mase"]) for model in ("auto", *SINGLES)})
    row["best_single_hindsight"] = min(float(summary.loc[model, "mase"]) for model in SINGLES)
    return row


def measure_set(which: str, n_folds: int) -> None:
    """Print the table of ``auto`` against the single models on evaluate_sgd's tune or confirm set."""
    ev = _evaluate_sgd()
    if which == "tune":
        frames = [(name, ev.shipped(name)) for name in ev.SHIPPED]
        specs = ev.TUNE_EXTERNAL
    else:
        frames, specs = [], ev.CONFIRM
    frames += [(f"{spec[0]}::{name}", ev.confirm_frame(*spec)) for name, *spec in specs]
    rows = []
    for name, df in frames:
        rows.append(measure_against_singles(name, df, n_folds))
        print(f"  {name}: done", file=sys.stderr, flush=True)
    table = pd.DataFrame(rows).set_index("data")
    table = table[table["series_folds"] > 0]
    scores = ["auto", *SINGLES, "best_single_hindsight"]
    labels = ev.FREQ_NAMES
    groups = [(f"mean {labels[s]} ({(table['season'] == s).sum()})", table[table["season"] == s]) for s in labels]
    groups.append((f"mean all ({len(table)})", table))
    means = pd.DataFrame({label: part[scores].mean() for label, part in groups if len(part)}).T
    means["series_folds"] = [int(part["series_folds"].sum()) for _, part in groups if len(part)]
    out = pd.concat([table[["series_folds", *scores]], means[["series_folds", *scores]]])
    out["auto_vs_best_single"] = out["auto"] / out["best_single_hindsight"]
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(f"{which} set, {n_folds} folds, horizon one season; MASE, lower is better")
        print(out.round(3).to_string())


def main() -> None:
    """Measure every data set asked for and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=",".join(SETTINGS), help="comma-separated shipped data sets")
    parser.add_argument(
        "--set", choices=("tune", "confirm"), help="auto against single models on a set of scripts/evaluate_sgd.py"
    )
    parser.add_argument("--folds", type=int, default=5, help="outer folds with --set (default 5, as evaluate_sgd)")
    args = parser.parse_args()
    start = time.perf_counter()
    if args.set:
        measure_set(args.set, args.folds)
        print(f"({time.perf_counter() - start:.0f} s)")
        return
    table = pd.DataFrame([measure(name) for name in args.datasets.split(",")]).set_index("data")
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.round(3).to_string())
    print(f"({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
