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
"""

from __future__ import annotations

import argparse
import time

import pandas as pd
from sklearn.model_selection import ParameterGrid

import tsforecast as tsf
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


def main() -> None:
    """Measure every data set asked for and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=",".join(SETTINGS), help="comma-separated shipped data sets")
    args = parser.parse_args()
    start = time.perf_counter()
    table = pd.DataFrame([measure(name) for name in args.datasets.split(",")]).set_index("data")
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.round(3).to_string())
    print(f"({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
