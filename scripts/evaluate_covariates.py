"""Do covariates help? Walk-forward backtest of SGDForecaster on ``elecdaily`` with and without them.

Usage::

    python scripts/evaluate_covariates.py [--folds 5] [--horizon 7] [--seeds 0,1,2] [--audit]

Data: ``elecdaily`` (daily electricity demand in Victoria, 2014; fpp2), with ``WorkDay`` declared
known-future (a calendar fact, known in advance) and ``Temperature`` past-only (observed with the
demand, so a forecast at a cutoff sees it only up to the cutoff -- no weather forecast is used).

Protocol: ``tsf.WalkForward(n_splits=--folds, horizon=--horizon)`` (step = horizon, expanding
window, refit every fold), season 7; MASE against the in-sample seasonal-naive MAE of each fold's
training part, averaged over folds. Variants of the default ``make_model("sgd")`` configuration
(lookback 14), each for every seed in ``--seeds``:

- ``sgd``: univariate (the covariate columns dropped);
- ``sgd+workday``: ``WorkDay`` known-future;
- ``sgd+workday+temperature``: ``WorkDay`` known-future and ``Temperature`` past-only;
- ``sgd+workday+temperature+dow``: the same plus the ``dayofweek`` calendar feature.

``seasonal_naive`` is the reference. ``--audit`` also runs the future-perturbation leakage audit
on the covariate variants (y and Temperature perturbed after each cutoff, WorkDay after each
horizon) and prints its verdict.
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

import tsforecast as tsf
from tsforecast.columns import ID, TARGET, TIME

VARIANTS: dict[str, tsf.Covariates | None] = {
    "sgd": None,
    "sgd+workday": tsf.Covariates(known_future=["WorkDay"]),
    "sgd+workday+temperature": tsf.Covariates(known_future=["WorkDay"], past_only=["Temperature"]),
    "sgd+workday+temperature+dow": tsf.Covariates(
        known_future=["WorkDay"], past_only=["Temperature"], calendar=["dayofweek"]
    ),
}


def run(df: pd.DataFrame, cv: tsf.WalkForward, horizon: int, seed: int, name: str, audit: bool) -> dict[str, object]:
    """Backtest one variant with one seed; the MASE of sgd and of seasonal naive, and the audit verdict."""
    covariates = VARIANTS[name]
    data = df if covariates is not None else df[[ID, TIME, TARGET]]
    if covariates is not None:
        data = data[[ID, TIME, TARGET, *covariates.data_columns]]
    model = tsf.make_model("sgd", horizon=horizon, season=7).set_params(seed=seed)
    start = time.perf_counter()
    res = tsf.backtest(
        model,
        data,
        cv,
        baselines=("seasonal_naive",),
        season=7,
        covariates=covariates,
        audit=audit and covariates is not None,
        progress=False,
    )
    seconds = time.perf_counter() - start
    summary = res.summary()
    passed = None if res.audit is None else res.audit.passed
    return {
        "variant": name,
        "seed": seed,
        "mase": float(summary.loc["sgd", "mase"]),
        "mae": float(summary.loc["sgd", "mae"]),
        "seasonal_naive_mase": float(summary.loc["seasonal_naive", "mase"]),
        "by_fold": res.metrics[res.metrics["model"] == "sgd"]["mase"].round(3).tolist(),
        "audit_passed": passed,
        "seconds": round(seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--horizon", type=int, default=7)
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated seeds of the SGD model")
    parser.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated variants to run")
    parser.add_argument("--audit", action="store_true", help="also run the leakage audit on covariate variants")
    args = parser.parse_args()
    df = tsf.load_dataset("elecdaily")
    cv = tsf.WalkForward(n_splits=args.folds, horizon=args.horizon)
    seeds = [int(s) for s in args.seeds.split(",")]
    rows = [run(df, cv, args.horizon, seed, name, args.audit) for name in args.variants.split(",") for seed in seeds]
    table = pd.DataFrame(rows)
    pd.set_option("display.width", 200)
    pd.set_option("display.max_colwidth", 60)
    print(f"elecdaily, WalkForward(n_splits={args.folds}, horizon={args.horizon}), season 7, seeds {seeds}\n")
    print(table.to_string(index=False))
    means = table.groupby("variant", sort=False)[["mase", "mae"]].agg(["mean", "std"])
    print("\nmean over seeds:")
    print(means.to_string(float_format=lambda v: f"{v:.4f}"))
    print(f"\nseasonal_naive MASE: {table['seasonal_naive_mase'].iloc[0]:.4f}")


if __name__ == "__main__":
    main()
