"""The HTML report of a backtest: one self-contained file to show a team.

:func:`write_report` renders a :class:`~tsforecast.BacktestResult` with a Jinja2 template
(autoescaping on: every string from the data or the models is escaped) and matplotlib figures
embedded inline (:mod:`tsforecast.report.figures`). The page has no JavaScript and loads nothing
from the network: CSS is inline, figures are inline SVG or base64 PNG.

This package renders results only; it does not import torch.
"""

from __future__ import annotations

import datetime as _dt
import math
import os
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined

from ..frequency import describe_freq
from ..metrics import INTERVAL_METRICS, LABELS, METRICS, interval_columns
from ..models.intervals import band_levels
from ..timestamps import format_time
from . import figures, training_chart
from .figures import Style, model_styles

if TYPE_CHECKING:
    from ..backtest import BacktestResult

__all__ = ["MAX_PANELS", "TITLE", "render_report", "write_report"]

MAX_PANELS = 6
"""Most series drawn in the forecast-versus-actual figure (the hardest ones for the best model)."""

TITLE = "tsforecast backtest report"

_PERTURBATIONS = {
    "noise": "every future value raised by the series' scale plus 10× that scale × |N(0, 1)|; one more row per series",
    "constant": "every future value replaced by a constant 10⁶ scales above the series' maximum; one more row",
    "reverse": "the future values of each series in reverse order, plus one more row a scale above the maximum",
}


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("tsforecast.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


# --------------------------------------------------------------------------------- formatting ---- #


def _number(value: Any) -> str:
    """A metric for a table: 4 significant figures or so, thousands separated, ``—`` when missing."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return "—"
    if not math.isfinite(x):
        return "—"
    size = abs(x)
    if size >= 1000:
        return f"{x:,.0f}"
    if size >= 100:
        return f"{x:.1f}"
    if size >= 10:
        return f"{x:.2f}"
    if size >= 0.001 or x == 0:
        return f"{x:.3f}"
    return f"{x:.2e}"


def _time(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, str):
        value = value.removesuffix(" 00:00:00")
        return value
    return format_time(value)


def _refit(refit: Any) -> str:
    if refit is True:
        return "every fold"
    if refit is False:
        return "first fold only (later folds reuse that fit on their longer history)"
    return f"every {refit} folds (in between, the last fit is applied to the longer history)"


def _subject(result: BacktestResult) -> str:
    source = result.settings.get("source")
    if source:
        name = Path(str(source))
        return name.name if name.suffix else str(source)
    ids = result.data["unique_id"].drop_duplicates()
    if len(ids) == 1:
        return str(ids.iloc[0])
    return f"{len(ids)} series"


# ------------------------------------------------------------------------------------ context ---- #


def _leaderboard(result: BacktestResult, summary: pd.DataFrame, styles: dict[str, Style]) -> dict[str, Any]:
    metrics = [*METRICS, *result.custom_metrics]  # a custom metric is read as lower-is-better, as the built-ins
    best_values = {m: summary[m].min(skipna=True) for m in metrics}
    has_ratio = "mase_vs_seasonal_naive" in summary.columns
    rows = []
    for rank, (name, row) in enumerate(summary.iterrows(), start=1):
        ratio = float(row["mase_vs_seasonal_naive"]) if has_ratio else math.nan
        rows.append(
            {
                "rank": rank,
                "model": str(name),
                "color": styles[str(name)].color,
                "reference": styles[str(name)].reference,
                "best": rank == 1 and math.isfinite(float(row["mase"])),
                "cells": [
                    {"text": _number(row[m]), "best": bool(math.isfinite(float(row[m])) and row[m] == best_values[m])}
                    for m in metrics
                ],
                "ratio": f"{ratio:.3f}×" if math.isfinite(ratio) else "—",
                "ratio_class": ""
                if not math.isfinite(ratio)
                else ("good" if ratio < 0.9995 else "bad" if ratio > 1.0005 else ""),
                "forecast": int(row["forecast"]),
                "left_out": int(row["left_out"]),
            }
        )
    compared = len(result.compared())
    total = int(result.forecasts.groupby(["fold", "unique_id"]).ngroups)
    unranked = [str(name) for name, row in summary.iterrows() if int(row["forecast"]) == 0]
    return {
        "rows": rows,
        "has_ratio": has_ratio,
        "labels": [LABELS.get(m, m) for m in metrics],
        "compared": compared,
        "total": total,
        "models": len(summary) - len(unranked),
        "unranked": unranked,
        "gaps": int(summary["left_out"].sum()),
        "selection": result.selection_note(),
    }


def _panel_series(result: BacktestResult, best: str) -> tuple[list[str], str]:
    """The series to draw (at most :data:`MAX_PANELS`, hardest first for the best model) and why."""
    ids = [str(u) for u in result.data["unique_id"].drop_duplicates()]
    mine = result.metrics[result.metrics["model"] == best].groupby("unique_id", sort=False)
    metric = "MASE" if mine["mase"].mean().notna().any() else "MAE"
    scores = mine[metric.lower()].mean()
    forecast_ids = set(result.forecasts["unique_id"].astype(str))
    candidates = [u for u in ids if u in forecast_ids] or ids

    def hardness(uid: str) -> tuple[int, float]:
        value = scores.get(uid)
        return (0, -float(value)) if value is not None and pd.notna(value) else (1, 0.0)

    ranked = sorted(candidates, key=hardness)
    chosen = ranked[:MAX_PANELS]
    if len(ids) == 1:
        return chosen, "The single series of the run."
    if len(candidates) <= MAX_PANELS:
        return chosen, f"All {len(candidates)} series, hardest first (highest mean {metric} of the best model, {best})."
    return chosen, (
        f"{len(chosen)} of {len(candidates)} series: those where the best model ({best}) has the highest mean "
        f"{metric} — its hardest cases. The leaderboard covers every series."
    )


def _settings(result: BacktestResult, styles: dict[str, Style]) -> dict[str, Any]:
    s = result.settings
    ids = [str(u) for u in result.data["unique_id"].drop_duplicates()]
    shown = ", ".join(ids[:8]) + (f", … and {len(ids) - 8} more" if len(ids) > 8 else "")
    length = s.get("length") or {}
    lo, hi = length.get("min"), length.get("max")
    length_text = "—" if lo is None else (f"{lo} observations" if lo == hi else f"{lo}–{hi} observations per series")
    source = s.get("source")
    rows = [
        ("Data source", str(source) if source else "an in-memory DataFrame (no file recorded)", False),
        ("Series", f"{s.get('series', len(ids))}: {shown}", False),
        ("Length", length_text, False),
        ("Time range", f"{_time(s.get('start'))} → {_time(s.get('end'))}", False),
        ("Frequency", describe_freq(s.get("freq")), False),
        ("Season", f"{s.get('season', '—')} periods per cycle (used by seasonal naive and MASE)", False),
        ("Horizon", f"{s.get('horizon', '—')} steps ahead", False),
        ("Splitter", str(s.get("cv", "—")), True),
        ("Folds", str(int(result.folds["fold"].nunique())), False),
        ("Refit", _refit(s.get("refit", True)), False),
        ("Engine", str(s.get("engine", "—")), False),
    ]
    models = [
        {"name": str(n), "params": str(p), "color": styles[str(n)].color if str(n) in styles else "#9ca3af"}
        for n, p in (s.get("models") or {}).items()
    ]
    versions = [(str(k), str(v)) for k, v in (s.get("versions") or {}).items()]
    return {"rows": [{"label": a, "value": b, "code": c} for a, b, c in rows], "models": models, "versions": versions}


def _audit(result: BacktestResult) -> dict[str, Any]:
    audit = result.audit
    if audit is None:
        return {"ran": False}
    rows = [
        {
            "fold": int(r.fold),
            "cutoff": _time(r.cutoff),
            "check": str(r.check),
            "diff": "0" if float(r.max_abs_diff) == 0 else _number(r.max_abs_diff),
            "identical": bool(r.identical),
        }
        for r in audit.folds.itertuples(index=False)
    ]
    return {
        "ran": True,
        "status": str(audit.status),
        "leaks": audit.failed_folds("leak"),
        "unreproduced": audit.failed_folds("not reproducible"),
        "notes": [str(n) for n in audit.notes],
        "rows": rows,
        "perturbed": [str(c) for c in audit.perturbed],
        "perturbations": [{"name": str(p), "text": _PERTURBATIONS.get(str(p), str(p))} for p in audit.perturbations],
    }


def _training(result: BacktestResult, order: list[str], styles: dict[str, Style]) -> dict[str, Any] | None:
    log = result.training
    if log is None or log.empty or "model" not in log.columns or "epoch" not in log.columns:
        return None
    logged = set(log["model"].astype(str))
    parts = []
    notes = []
    for model in [m for m in order if m in logged] + sorted(logged - set(order)):
        mine = log[log["model"].astype(str) == model]
        if "fold" in mine.columns:
            last = mine["fold"].max()
            mine = mine[mine["fold"] == last]
            where = f"fold {int(last)}"
        else:
            where = "the run"
        members = int(mine["member"].nunique()) if "member" in mine.columns else 1
        drawn = f"all {members} ensemble members, one shade each" if members > 1 else "one line"
        epochs = int(mine["epoch"].nunique())
        notes.append(f"{model}: {where} ({drawn}, {'up to ' if members > 1 else ''}{epochs} epochs)")
        parts.append(mine.assign(model=model))
    frame = pd.concat(parts, ignore_index=True)
    models = list(dict.fromkeys(frame["model"]))
    for m in models:
        styles.setdefault(m, Style("#2563eb", "-", False))
    return {"figure": training_chart.training_curves(frame, models, styles), "notes": notes}


def _calibration(result: BacktestResult) -> str:
    """One sentence on how the run's prediction intervals were made."""
    method = (result.settings.get("intervals") or {}).get("method", "conformal")
    if method == "native":
        return (
            "The intervals are each model's own (native): the prediction intervals of its statistical model "
            "fitted on the fold's training data (statsmodels), with nothing calibrated on the test span."
        )
    return (
        "The intervals are split-conformal: in each fold, the model was refitted at past origins inside that "
        "fold's training data, and the quantiles of its errors there (per series and horizon step) set the "
        "width of the band around the fold's forecast, so no test value reached its interval."
    )


def _intervals(result: BacktestResult, summary: pd.DataFrame, styles: dict[str, Style]) -> dict[str, Any] | None:
    """The coverage-vs-nominal table and plot, and how the intervals were calibrated; None without intervals."""
    levels = band_levels(result.forecasts.columns)
    if not levels:
        return None
    order = [str(m) for m in summary.index]
    coverage = summary[[f"coverage_{level:g}" for level in levels]].set_axis(list(levels), axis=1)
    rows = []
    for model in order:
        row = summary.loc[model]
        cells = [_number(row[column]) for column in interval_columns(levels)]
        rows.append({"model": model, "color": styles[model].color, "cells": cells})
    return {
        "levels": [f"{level:g}" for level in levels],
        "labels": list(INTERVAL_METRICS.values()),
        "rows": rows,
        "figure": figures.coverage_plot(coverage, order, styles),
        "calibration": _calibration(result),
    }


def _context(result: BacktestResult) -> dict[str, Any]:
    summary = result.summary()
    listed = [str(m) for m in (result.settings.get("models") or {})]
    names = list(
        dict.fromkeys([*listed, *map(str, result.forecasts["model"].drop_duplicates()), *map(str, summary.index)])
    )
    styles = model_styles(names)
    order = [str(m) for m in summary.index]
    best = order[0]
    best_row = summary.iloc[0]
    metric = "mase" if result.metrics["mase"].notna().any() else "mae"

    series, series_note = _panel_series(result, best)
    season = int(result.settings.get("season") or 1)
    horizon = int(
        result.settings.get("horizon") or result.forecasts.groupby(["model", "fold", "unique_id"]).size().max()
    )
    context = max(2 * season, 2 * horizon, 12)
    by_step = result.metrics_by_horizon()
    freq = result.settings.get("freq")
    skipped = result.skipped
    ratio = float(best_row.get("mase_vs_seasonal_naive", math.nan))
    n_folds = int(result.folds["fold"].nunique())
    return {
        "title": TITLE,
        "subject": _subject(result),
        "generated": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "version": str((result.settings.get("versions") or {}).get("tsforecast", "")),
        "verdict": {
            "best": best,
            "best_color": styles[best].color,
            "mase": _number(best_row["mase"]),
            "ratio": f"{ratio:.2f}× seasonal naive" if math.isfinite(ratio) and best != "seasonal_naive" else "",
            "audit": None if result.audit is None else str(result.audit.status),
            "folds": n_folds,
            "horizon": result.settings.get("horizon", "—"),
            "series": int(result.data["unique_id"].nunique()),
            "freq": describe_freq(freq).split(" (")[0],
            "span": f"{_time(result.settings.get('start'))} → {_time(result.settings.get('end'))}",
            "models": len(order),
        },
        "settings": _settings(result, styles),
        "leaderboard": _leaderboard(result, summary, styles),
        "timeline": figures.fold_timeline(result.folds, result.data, freq),
        "skipped": [
            {k: _time(v) if k == "cutoff" else str(v) for k, v in row.items()} for row in skipped.to_dict("records")
        ],
        "skipped_columns": [str(c) for c in skipped.columns],
        "forecast": {
            "figure": figures.forecast_panels(
                result.data,
                result.forecasts,
                result.folds,
                series,
                order,
                styles,
                context=context,
                ylabel=str(result.settings.get("target", "value")),
                bands=best if band_levels(result.forecasts.columns) else None,
                levels=band_levels(result.forecasts.columns),
            ),
            "note": series_note,
            "context": context,
        },
        "metric": metric.upper(),
        "horizon_figure": figures.error_by_horizon(by_step, order, styles, metric=metric),
        "fold_figure": figures.error_by_fold(result.metrics, result.folds, order, styles, metric=metric),
        "training": _training(result, order, styles),
        "intervals": _intervals(result, summary, styles),
        "audit": _audit(result),
        "temporal_check": str(result.settings.get("temporal_check") or "not recorded"),
    }


# ------------------------------------------------------------------------------------- public ---- #


def render_report(result: BacktestResult) -> str:
    """The HTML report of a backtest, as a string.

    Parameters
    ----------
    result : BacktestResult
        What :func:`~tsforecast.backtest` returned.

    Returns
    -------
    str
        A complete, self-contained HTML document (no scripts, no external resources).
    """
    return _environment().get_template("report.html.j2").render(**_context(result))


def write_report(result: BacktestResult, path: str | os.PathLike[str]) -> Path:
    """Write the HTML report of a backtest to ``path``.

    The page holds the run settings, a fold timeline, the leaderboard, forecasts against actual
    values, error by horizon step and by fold, the training curves of models that log them, and
    the leakage-audit verdict. It is one file with everything inline (no network needed).

    Parameters
    ----------
    result : BacktestResult
        What :func:`~tsforecast.backtest` returned.
    path : path-like
        The file to write (its directory is created if needed).

    Returns
    -------
    Path
        ``path``.

    Examples
    --------
    >>> import tempfile, tsforecast as tsf
    >>> from tsforecast.report import write_report
    >>> res = tsf.backtest("naive", tsf.load_dataset("nile"), tsf.WalkForward(2, 5), baselines=())
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     html = write_report(res, f"{tmp}/report.html").read_text(encoding="utf-8")
    >>> "Leaderboard" in html and "<script" not in html
    True
    """
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_report(result), encoding="utf-8")
    return out
