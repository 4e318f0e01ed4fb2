"""Figures of the HTML report: one function per figure, each returning markup to embed.

Every figure is a :class:`matplotlib.figure.Figure` built directly -- no ``pyplot``, hence no
global figure registry and no global state changed, so reports can be rendered from several
threads at once. A figure is serialised to inline SVG, or to a base64 PNG when its SVG would be
large (long histories); either way the page needs no network.

User-supplied strings (series names, model names) reach matplotlib only as text; the SVG writer
escapes them (``<`` becomes ``&lt;``), and a ``$`` is escaped so that it is not read as mathtext.
"""

from __future__ import annotations

import base64
import html
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import LogFormatter, MaxNLocator

from ..timestamps import format_time

__all__ = [
    "ACTUAL_COLOR",
    "REFERENCE_MODELS",
    "Style",
    "error_by_fold",
    "error_by_horizon",
    "fold_timeline",
    "forecast_panels",
    "model_styles",
    "time_step",
]

REFERENCE_MODELS = frozenset({"naive", "seasonal_naive", "mean", "drift"})
"""Simple reference models: drawn dashed, in muted colours, so the models under test stand out."""

ACTUAL_COLOR = "#111827"
TRAIN_COLOR = "#3b82f6"
TEST_COLOR = "#f97316"
_VIVID = ("#2563eb", "#e11d48", "#059669", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#65a30d", "#92400e", "#0f766e")
_MUTED = (("#6b7280", (0, (5, 2.5))), ("#a8a29e", (0, (1.5, 1.5))), ("#94a3b8", (0, (6, 2, 1.5, 2))), ("#78716c", "-."))
_INK = "#374151"
_GRID = "#e5e7eb"
_SVG_LIMIT = 400_000
"""Largest SVG (characters) embedded as is; a larger figure is embedded as a PNG instead."""
_PNG_DPI = 110


class _PlainLogFormatter(LogFormatter):
    """Log-axis labels as plain numbers (``0.005``), on the ticks matplotlib would label."""

    def __call__(self, x: float, pos: int | None = None) -> str:
        return f"{x:g}" if super().__call__(x, pos) else ""


@dataclass(frozen=True)
class Style:
    """How one model is drawn in every figure (and its swatch in the tables)."""

    color: str
    linestyle: Any
    reference: bool


def model_styles(names: Sequence[str]) -> dict[str, Style]:
    """One fixed style per model, so a model has the same colour in every figure.

    Models under test get vivid colours in the order given; reference models (``naive``,
    ``seasonal_naive`` ...) get muted colours and dashed lines.
    """
    styles: dict[str, Style] = {}
    vivid = muted = 0
    for name in dict.fromkeys(names):
        if name in REFERENCE_MODELS:
            color, dash = _MUTED[muted % len(_MUTED)]
            styles[name] = Style(color, dash, True)
            muted += 1
        else:
            styles[name] = Style(_VIVID[vivid % len(_VIVID)], "-", False)
            vivid += 1
    return styles


# ------------------------------------------------------------------------------------ helpers ---- #


def _text(value: Any, limit: int = 60) -> str:
    """A user string made safe for matplotlib: ``$`` escaped (no mathtext), long names shortened."""
    text = str(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.replace("$", r"\$")


def _is_date(values: Any) -> bool:
    return bool(pd.api.types.is_datetime64_any_dtype(values))


def _to_x(values: Any) -> np.ndarray:
    """Positions on matplotlib's x axis: date numbers for timestamps, floats for an integer index."""
    if _is_date(values):
        index = pd.DatetimeIndex(values)
        if index.tz is not None:
            index = index.tz_localize(None)
        return np.asarray(mdates.date2num(index.to_numpy()), dtype=float)
    return np.asarray(values, dtype=float)


def time_step(data: pd.DataFrame, freq: Any) -> Any:
    """One period of the time axis: a pandas offset for timestamps, a number for an integer index.

    Parameters
    ----------
    data : DataFrame
        Long frame with a ``ds`` column.
    freq : str or int
        The frequency recorded in the run's settings; when it cannot be read, the median spacing
        of the timestamps is used.
    """
    times = pd.Index(data["ds"].drop_duplicates()).sort_values()
    if _is_date(times):
        try:
            return pd.tseries.frequencies.to_offset(str(freq))
        except (ValueError, TypeError):
            pass
        diffs = np.diff(times.to_numpy())
        return pd.Timedelta(np.median(diffs)) if len(diffs) else pd.Timedelta(days=1)
    try:
        return int(freq)
    except (TypeError, ValueError):
        diffs = np.diff(times.to_numpy(dtype=float))
        return float(np.median(diffs)) if len(diffs) else 1


def _advance(values: Any, step: Any) -> pd.Index:
    index = pd.Index(values)
    return index + step


def _style_axes(ax: Axes) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color("#9ca3af")
    ax.tick_params(which="both", labelsize=9, colors=_INK)
    ax.grid(True, color=_GRID, linewidth=0.8)
    ax.set_axisbelow(True)


def _time_axis(ax: Axes, is_date: bool) -> None:
    if is_date:
        locator = mdates.AutoDateLocator(minticks=4, maxticks=10)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    else:
        ax.xaxis.set_major_locator(MaxNLocator(nbins=10, integer=True))


def _label(ax: Axes, xlabel: str | None, ylabel: str | None) -> None:
    if xlabel:
        ax.set_xlabel(xlabel, fontsize=9.5, color=_INK)
    if ylabel:
        ax.set_ylabel(ylabel, fontsize=9.5, color=_INK)


def _inline_svg(svg: str, alt: str) -> str:
    """The ``<svg>`` element alone (no XML prolog), scaling to its container, with a title."""
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, count=1, flags=re.DOTALL)
    head_end = svg.index(">")
    head = re.sub(r'\s(width|height)="[^"]*"', "", svg[:head_end])
    label = html.escape(alt, quote=True)
    head += f' class="plot-svg" role="img" aria-label="{label}" preserveAspectRatio="xMidYMid meet"'
    return f"{head}><title>{label}</title>{svg[head_end + 1 :]}"


def _finish(fig: Figure, alt: str, *, png: bool = False) -> str:
    """Serialise a figure to inline SVG (or base64 PNG when asked or when the SVG is large), then free it."""
    try:
        if not png:
            buffer = io.BytesIO()
            fig.savefig(buffer, format="svg", metadata={"Date": None})
            svg = buffer.getvalue().decode("utf-8")
            if len(svg) <= _SVG_LIMIT:
                return _inline_svg(svg, alt)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=_PNG_DPI, metadata={"Software": None})
        data = base64.b64encode(buffer.getvalue()).decode("ascii")
        return f'<img class="plot-img" alt="{html.escape(alt, quote=True)}" src="data:image/png;base64,{data}">'
    finally:
        fig.clear()


def _legend_handles(order: Sequence[str], styles: Mapping[str, Style], *, marker: str | None = None) -> list[Line2D]:
    return [
        Line2D(
            [],
            [],
            color=styles[m].color,
            linestyle=styles[m].linestyle,
            linewidth=1.8,
            marker=marker,
            label=_text(m, 40),
        )
        for m in order
    ]


# ------------------------------------------------------------------------------------ figures ---- #


def fold_timeline(folds: pd.DataFrame, data: pd.DataFrame, freq: Any) -> str:
    """Per fold, the training span, the gap and the test span on the time axis.

    Parameters
    ----------
    folds : DataFrame
        ``fold, train_start, cutoff, test_start, test_end`` (``BacktestResult.folds``).
    data : DataFrame
        The run's long frame (for the full time range).
    freq : str or int
        The run's frequency (one period is the width of one observation).

    Returns
    -------
    str
        Inline SVG markup.
    """
    folds = folds.sort_values("fold").reset_index(drop=True)
    step = time_step(data, freq)
    is_date = _is_date(folds["cutoff"])
    train_start = _to_x(folds["train_start"])
    train_end = _to_x(_advance(folds["cutoff"], step))
    test_start = _to_x(folds["test_start"])
    test_end = _to_x(_advance(folds["test_end"], step))
    first = _to_x(pd.Index([data["ds"].min()]))[0]
    last = _to_x(_advance([data["ds"].max()], step))[0]

    n = len(folds)
    fig = Figure(figsize=(10.5, 0.42 * n + 1.55), layout="constrained")
    ax = fig.add_subplot()
    y = np.arange(n)
    height = 0.62
    ax.barh(y, last - first, left=first, height=height, color="#f3f4f6", edgecolor="#d1d5db", linewidth=0.6)
    ax.barh(y, train_end - train_start, left=train_start, height=height, color=TRAIN_COLOR, linewidth=0)
    gap = test_start - train_end
    has_gap = gap > 1e-9
    if has_gap.any():
        ax.barh(
            y[has_gap],
            gap[has_gap],
            left=train_end[has_gap],
            height=height,
            color="white",
            hatch="////",
            edgecolor="#9ca3af",
            linewidth=0.6,
        )
    ax.barh(y, test_end - test_start, left=test_start, height=height, color=TEST_COLOR, linewidth=0)
    for i in range(n):
        ax.plot(
            [train_end[i]] * 2, [y[i] - 0.45, y[i] + 0.45], color=ACTUAL_COLOR, linewidth=1.3, solid_capstyle="butt"
        )
    labels = [f"fold {int(k)}  ·  cutoff {format_time(c)}" for k, c in zip(folds["fold"], folds["cutoff"], strict=True)]
    ax.set_yticks(y, labels=labels)
    ax.set_ylim(n - 0.4, -0.6)
    ax.set_xlim(first - 0.01 * (last - first), last + 0.01 * (last - first))
    _style_axes(ax)
    ax.grid(False, axis="y")
    ax.spines["left"].set_visible(False)
    ax.tick_params(axis="y", length=0)
    _time_axis(ax, is_date)
    _label(ax, "time", None)
    handles = [
        Patch(facecolor=TRAIN_COLOR, label="training data (fit)"),
        Line2D([], [], color=ACTUAL_COLOR, linewidth=1.3, label="cutoff"),
        Patch(facecolor="white", edgecolor="#9ca3af", hatch="////", label="gap (not used)"),
        Patch(facecolor=TEST_COLOR, label="test span (forecast and scored)"),
        Patch(facecolor="#f3f4f6", edgecolor="#d1d5db", label="outside this fold"),
    ]
    if not has_gap.any():
        handles.pop(2)
    fig.legend(handles=handles, loc="outside upper center", ncols=len(handles), frameon=False, fontsize=9)
    return _finish(fig, "Fold timeline: training, gap and test span of each fold on the time axis")


def forecast_panels(
    data: pd.DataFrame,
    forecasts: pd.DataFrame,
    folds: pd.DataFrame,
    series: Sequence[str],
    order: Sequence[str],
    styles: Mapping[str, Style],
    *,
    context: int,
    ylabel: str = "value",
    bands: str | None = None,
    levels: Sequence[float] = (),
) -> str:
    """Per series, the observed values and every model's forecasts from every fold.

    Parameters
    ----------
    data, forecasts, folds : DataFrame
        The run's long frame, ``BacktestResult.forecasts`` and ``BacktestResult.folds``.
    series : sequence of str
        The series to draw, one panel each (at most a handful).
    order : sequence of str
        The models, in legend order.
    styles : mapping
        :func:`model_styles` of the models.
    context : int
        Observations of history shown before the first test span.
    ylabel : str, default="value"
        Label of the value axis: the target's name.
    bands : str, optional
        The model whose prediction intervals are shaded (columns ``y_lo_L, y_hi_L``).
    levels : sequence of float, default=()
        The interval levels to shade, the widest one lightest.

    Returns
    -------
    str
        Inline SVG markup, or an ``<img>`` with a base64 PNG when the SVG would be large.
    """
    n = len(series)
    shades = _band_shades(levels)
    ncols = 1 if n == 1 else 2
    nrows = -(-n // ncols)
    fig = Figure(figsize=(11, 3.6 if n == 1 else 2.55 * nrows + 0.7), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    first_test = forecasts["ds"].min() if len(forecasts) else data["ds"].max()
    is_date = _is_date(data["ds"])
    groups = dict(list(data.groupby(data["unique_id"].astype(str), sort=False)))
    predicted = dict(list(forecasts.groupby(forecasts["unique_id"].astype(str), sort=False)))
    for i, (ax, uid) in enumerate(zip(axes.flat, series, strict=False)):
        history = groups[uid].sort_values("ds")
        start = max(0, int(pd.Index(history["ds"]).searchsorted(first_test)) - context)
        shown = history.iloc[start:]
        for k, fold in enumerate(folds.sort_values("fold").itertuples(index=False)):
            left, right = _to_x(pd.Index([fold.cutoff, fold.test_end]))
            ax.axvspan(left, right, color="#64748b", alpha=0.07 if k % 2 == 0 else 0.13, linewidth=0)
            ax.axvline(left, color="#64748b", linewidth=0.8, linestyle=":")
        ax.plot(_to_x(shown["ds"]), shown["y"].to_numpy(), color=ACTUAL_COLOR, linewidth=1.5, zorder=4)
        mine = predicted.get(uid)
        if mine is not None and bands is not None:
            for level, alpha in reversed(shades):  # NOTE: widest first, so the narrower bands lie on top
                for _, part in mine[mine["model"] == bands].groupby("fold", sort=True):
                    lo, hi = (part[f"y_{side}_{level:g}"].to_numpy(dtype=float) for side in ("lo", "hi"))
                    ax.fill_between(_to_x(part["ds"]), lo, hi, color=styles[bands].color, alpha=alpha, linewidth=0)
        if mine is not None:
            for model in reversed(list(order)):
                style = styles[model]
                for _, part in mine[mine["model"] == model].groupby("fold", sort=True):
                    ax.plot(
                        _to_x(part["ds"]),
                        part["y_hat"].to_numpy(),
                        color=style.color,
                        linestyle=style.linestyle,
                        linewidth=1.2 if style.reference else 1.6,
                        zorder=3 if style.reference else 5,
                    )
        ax.set_title(_text(uid), loc="left", fontsize=10.5, color=ACTUAL_COLOR, fontweight="bold")
        _style_axes(ax)
        _time_axis(ax, is_date)
        _label(ax, "time" if i >= n - ncols else None, ylabel)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    handles: list[Artist] = [
        Line2D([], [], color=ACTUAL_COLOR, linewidth=1.8, label="actual"),
        *_legend_handles(order, styles),
    ]
    handles.append(Patch(facecolor="#64748b", alpha=0.15, label="test span after each cutoff (dotted)"))
    if bands is not None:
        handles += [
            Patch(facecolor=styles[bands].color, alpha=alpha, label=f"{_text(bands, 30)} {level:g}% interval")
            for level, alpha in shades
        ]
    fig.legend(handles=handles, loc="outside upper center", ncols=min(len(handles), 7), frameon=False, fontsize=9)
    return _finish(fig, "Forecasts against actual values for each fold")


def _band_shades(levels: Sequence[float]) -> list[tuple[float, float]]:
    """Each level with the opacity of its band, ascending levels: the widest band is the lightest."""
    ordered = sorted(levels)
    return [(level, 0.34 - 0.2 * k / max(len(ordered) - 1, 1)) for k, level in enumerate(ordered)]


def coverage_plot(coverage: pd.DataFrame, order: Sequence[str], styles: Mapping[str, Style]) -> str:
    """Empirical against nominal coverage, one line per model; on the diagonal, the bands are calibrated.

    Parameters
    ----------
    coverage : DataFrame
        One row per model (index) and one column per nominal level in percent (floats), holding
        the empirical coverage in ``[0, 1]``.
    order : sequence of str
        The models, in legend order.
    styles : mapping
        :func:`model_styles` of the models.

    Returns
    -------
    str
        Inline SVG markup.
    """
    fig = Figure(figsize=(4.6, 3.9), layout="constrained")
    ax = fig.add_subplot()
    levels = np.asarray(coverage.columns, dtype=float)
    low = max(0.0, float(np.nanmin([levels.min(), 100 * np.nanmin(coverage.to_numpy(dtype=float))])) - 10)
    ax.plot([low, 100], [low, 100], color=_INK, linewidth=0.8, linestyle=":")
    for model in order:
        if model in coverage.index:
            style = styles[model]
            values = 100 * coverage.loc[model].to_numpy(dtype=float)
            ax.plot(levels, values, color=style.color, linestyle=style.linestyle, marker="o", markersize=4)
    ax.set_xlim(low, 100)
    ax.set_ylim(low, 100)
    _style_axes(ax)
    _label(ax, "nominal level (%)", "empirical coverage (%)")
    _top_legend(fig, [m for m in order if m in coverage.index], styles)
    return _finish(fig, "Empirical coverage of the prediction intervals against their nominal level")


def _off_scale(ax: Axes, curves: Mapping[str, np.ndarray]) -> None:
    """Keep the y axis on the models worth comparing: a model whose mean error is over 2.5 times the
    best model's mean runs off the top of the axis, and a note names it with its largest value."""
    means = {m: float(np.nanmean(v)) for m, v in curves.items() if np.isfinite(v).any()}
    if len(means) < 2:
        return
    best = min(means.values())
    outliers = [m for m, mean in means.items() if best > 0 and mean > 2.5 * best]
    kept = [m for m in means if m not in outliers]
    if not outliers or not kept:
        return
    top = max(float(np.nanmax(curves[m])) for m in kept) * 1.15
    peaks = {m: float(np.nanmax(curves[m])) for m in outliers}
    if all(peak <= top for peak in peaks.values()):
        return
    ax.set_ylim(0, top)
    note = ", ".join(f"{_text(m, 30)} (up to {peak:.3g})" for m, peak in peaks.items() if peak > top)
    ax.text(0.99, 0.98, f"off scale: {note}", transform=ax.transAxes, ha="right", va="top", fontsize=8, color=_INK)


def _error_lines(
    ax: Axes,
    x: Mapping[str, np.ndarray],
    curves: Mapping[str, np.ndarray],
    order: Sequence[str],
    styles: Mapping[str, Style],
    *,
    metric: str,
) -> None:
    for model in order:
        if model not in curves:
            continue
        style = styles[model]
        ax.plot(
            x[model],
            curves[model],
            color=style.color,
            linestyle=style.linestyle,
            linewidth=1.3 if style.reference else 1.7,
            marker="o" if len(x[model]) <= 24 else None,
            markersize=3.5,
            zorder=2 if style.reference else 3,
        )
    if metric == "mase":
        ax.axhline(1.0, color="#9ca3af", linewidth=0.9, linestyle=":")
    _style_axes(ax)
    ax.set_ylim(bottom=0)
    _off_scale(ax, curves)


def _top_legend(fig: Figure, order: Sequence[str], styles: Mapping[str, Style]) -> None:
    handles = _legend_handles(order, styles, marker="o")
    fig.legend(handles=handles, loc="outside upper center", ncols=min(len(handles), 3), frameon=False, fontsize=8.5)


def error_by_horizon(by_step: pd.DataFrame, order: Sequence[str], styles: Mapping[str, Style], *, metric: str) -> str:
    """Error per forecast step (1 = the period right after the cutoff), one line per model.

    A model far worse than the best (mean error over 2.5 times the best's) may run off the top
    of the axis, so that the others stay readable; a note on the figure names it.

    Parameters
    ----------
    by_step : DataFrame
        ``BacktestResult.metrics_by_horizon()``: ``model, step`` and the metric columns.
    order : sequence of str
        The models, in legend order.
    styles : mapping
        :func:`model_styles` of the models.
    metric : {"mase", "mae"}
        The column drawn.

    Returns
    -------
    str
        Inline SVG markup.
    """
    fig = Figure(figsize=(5.6, 3.9), layout="constrained")
    ax = fig.add_subplot()
    parts = {m: by_step[by_step["model"] == m].sort_values("step") for m in order}
    x = {m: p["step"].to_numpy() for m, p in parts.items() if len(p)}
    curves = {m: p[metric].to_numpy(dtype=float) for m, p in parts.items() if len(p)}
    _error_lines(ax, x, curves, order, styles, metric=metric)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    _label(ax, "forecast step (periods after the cutoff)", metric.upper())
    _top_legend(fig, order, styles)
    return _finish(fig, f"{metric.upper()} by forecast step and model")


def error_by_fold(
    metrics: pd.DataFrame, folds: pd.DataFrame, order: Sequence[str], styles: Mapping[str, Style], *, metric: str
) -> str:
    """Error per fold (mean over the fold's series), one line per model.

    Parameters
    ----------
    metrics : DataFrame
        ``BacktestResult.metrics``.
    folds : DataFrame
        ``BacktestResult.folds`` (for the cutoff labels).
    order : sequence of str
        The models, in legend order.
    styles : mapping
        :func:`model_styles` of the models.
    metric : {"mase", "mae"}
        The column drawn.

    Returns
    -------
    str
        Inline SVG markup.
    """
    table = metrics.groupby(["model", "fold"])[metric].mean().unstack("fold")
    fold_ids = sorted(int(k) for k in folds["fold"])
    cutoffs = dict(zip(folds["fold"].astype(int), folds["cutoff"], strict=True))
    fig = Figure(figsize=(5.6, 3.9), layout="constrained")
    ax = fig.add_subplot()
    models = [m for m in order if m in table.index]
    x = {m: np.asarray(fold_ids, dtype=float) for m in models}
    curves = {m: table.loc[m].reindex(fold_ids).to_numpy(dtype=float) for m in models}
    _error_lines(ax, x, curves, order, styles, metric=metric)
    many = len(fold_ids) > 6
    if many:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    else:
        ax.set_xticks(fold_ids, labels=[f"{k}\n{format_time(cutoffs[k])}" for k in fold_ids], fontsize=8)
    _label(ax, "fold" if many else "fold and cutoff", f"{metric.upper()} (mean over series)")
    _top_legend(fig, order, styles)
    return _finish(fig, f"{metric.upper()} by fold and model")
