"""The SGD training chart of the report: cost and learning rate per epoch, one shade per ensemble member."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from .figures import _INK, Style, _finish, _label, _PlainLogFormatter, _style_axes, _text

__all__ = ["training_curves"]


def training_curves(training: pd.DataFrame, order: Sequence[str], styles: Mapping[str, Style]) -> str:
    """Training and validation cost per epoch, and the learning rate (log scale), one row per model.

    Parameters
    ----------
    training : DataFrame
        The log of one fold: ``model, epoch`` and some of ``train_cost, val_cost, lr``, optionally
        ``member`` (each member is drawn in its own shade, training solid and validation dashed,
        named in the legend by its ``family`` and ``lookback`` columns, e.g. ``es L36``, or by
        its number when they are absent).
    order : sequence of str
        The models with a log, top to bottom.
    styles : mapping
        :func:`model_styles` of the models.

    Returns
    -------
    str
        Inline SVG markup.
    """
    fig = Figure(figsize=(11, 2.9 * len(order) + 0.5), layout="constrained")
    axes = fig.subplots(len(order), 2, squeeze=False)
    for (ax_cost, ax_lr), model in zip(axes, order, strict=True):
        log = training[training["model"] == model]
        members = list(log.groupby("member", sort=True)) if "member" in log.columns else [(None, log)]
        thin = len(members) > 1
        width, alpha = (0.9, 0.8) if thin else (1.6, 1.0)
        colors = _member_colors(len(members)) if thin else [styles[model].color]
        handles = []
        for (member, part), color in zip(members, colors, strict=True):
            part = part.sort_values("epoch")
            epochs = part["epoch"].to_numpy()
            if "train_cost" in part:
                ax_cost.plot(epochs, part["train_cost"].to_numpy(), color=color, linewidth=width, alpha=alpha)
            if "val_cost" in part:
                ax_cost.plot(
                    epochs, part["val_cost"].to_numpy(), color=color, linewidth=width, alpha=alpha, linestyle="--"
                )
            if "lr" in part:
                lr = part["lr"].to_numpy(dtype=float)
                ax_lr.plot(epochs, np.where(lr > 0, lr, np.nan), color=color, linewidth=width, alpha=alpha)
            if thin:
                handles.append(Line2D([], [], color=color, linewidth=1.6, label=_member_label(member, part)))
        costs = log[[c for c in ("train_cost", "val_cost") if c in log]].to_numpy(dtype=float).ravel()
        costs = costs[np.isfinite(costs) & (costs > 0)]
        if costs.size and costs.max() / costs.min() > 30:
            ax_cost.set_yscale("log")
        if "lr" in log and (log["lr"] > 0).any():
            ax_lr.set_yscale("log")
            ax_lr.yaxis.set_major_formatter(_PlainLogFormatter())
            ax_lr.yaxis.set_minor_formatter(_PlainLogFormatter(minor_thresholds=(2, 0.5)))
        for ax in (ax_cost, ax_lr):
            _style_axes(ax)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        suffix = f" · {len(members)} members, one shade each" if thin else ""
        ax_cost.set_title(f"{_text(model, 40)} — cost{suffix}", loc="left", fontsize=10, fontweight="bold")
        ax_lr.set_title(f"{_text(model, 40)} — learning-rate schedule", loc="left", fontsize=10, fontweight="bold")
        _label(ax_cost, "epoch", "cost (loss)")
        _label(ax_lr, "epoch", "learning rate (log scale)")
        ink = _INK if thin else colors[0]
        ax_cost.legend(
            handles=[
                Line2D([], [], color=ink, linewidth=1.6, label="training cost"),
                Line2D([], [], color=ink, linewidth=1.6, linestyle="--", label="validation cost"),
                *handles,
            ],
            fontsize=7 if thin else 8,
            ncol=2 if len(handles) > 2 else 1,
            frameon=False,
            loc="best",
        )
    return _finish(fig, "Training and validation cost per epoch and learning-rate schedule")


def _member_colors(count: int) -> list[Any]:
    """One shade per ensemble member: matplotlib's ``tab10`` (``tab20`` beyond 10 members, cycled beyond 20)."""
    palette = colormaps["tab10" if count <= 10 else "tab20"]
    return [palette(i % palette.N) for i in range(count)]


def _member_label(member: Any, part: pd.DataFrame) -> str:
    """A member's legend name: its family and lookback (``es L36``), or its number when the log lacks them."""
    if {"family", "lookback"} <= set(part.columns):
        family, lookback = part["family"].iloc[0], part["lookback"].iloc[0]
        if pd.notna(family) and pd.notna(lookback):
            return _text(f"{family} L{int(lookback)}", 24)
    whole = isinstance(member, (int, float, np.number)) and float(member).is_integer()  # 1.0 in a column with gaps
    return f"member {int(member) if whole else _text(member, 24)}"
