"""Accuracy: every system's forecasts on the same test points, scored identically with :mod:`tsforecast.metrics`."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

import tsforecast as tsf
from tsforecast.metrics import mase, mase_scale, smape

from .common import Run, load, normalise, sgd_available
from .markdown import Report, fmt, md_table, timestamp_section
from .peers import PEER_RUNNERS, run_tsforecast
from .settings import GROUPS, ID, TARGET, TIME, TSF_MODELS, Config, Spec


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
