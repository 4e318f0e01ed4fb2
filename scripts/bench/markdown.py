"""The Markdown report: tables, number formats, the report file, the timestamp check, the targets and the machine."""

from __future__ import annotations

import contextlib
import os
import platform
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .common import package_version
from .settings import PEERS, Spec


def md_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def fmt(value: float, digits: int = 3) -> str:
    """A number for a table; NaN shows as ``nan``."""
    return "nan" if not np.isfinite(value) else f"{value:.{digits}f}"


def secs(value: float) -> str:
    """Seconds with three significant digits (``0.00442``, ``12.3``, ``245``)."""
    return f"{value:.3g}" if value < 1000 else f"{value:.0f}"


class Report:
    """Markdown sections, printed as they are made and written to ``path`` after each one."""

    def __init__(self, path: Path, header: str) -> None:
        self.path, self.parts = path, [header]
        print(header, flush=True)
        self._write()

    def add(self, text: str) -> None:
        self.parts.append(text)
        print("\n" + text, flush=True)
        self._write()

    def _write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text("\n\n".join(self.parts) + "\n")


def timestamp_section(checks: list[tuple[Spec, str, dict[str, str]]]) -> str:
    """The 'same test timestamps' matrix: one line per system and dataset."""
    lines = [
        "## Same test timestamps?",
        "",
        "Each system's set of `(unique_id, ds, cutoff)` compared with tsforecast's `WalkForward` folds.",
        "",
    ]
    for spec, cutoffs, verdicts in checks:
        lines.append(f"- **{spec.name}** (cutoffs {cutoffs}):")
        lines += [f"  - {label}: same test timestamps: {verdict}" for label, verdict in verdicts.items()]
    return "\n".join(lines)


def targets(mase_means: pd.DataFrame | None, times: dict[str, float], ratios: dict[str, float] | None) -> str:
    """The targets, each 'met' or 'NOT met' (or 'not measured')."""
    lines = []

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    if mase_means is not None and "monthly" in mase_means.columns and "tsforecast.sgd" in mase_means.index:
        sgd = mase_means.loc["tsforecast.sgd", "monthly"]
        snaive = mase_means.loc["tsforecast.seasonal_naive", "monthly"]
        lines.append(
            f"- sgd beats seasonal naive in mean MASE on the monthly data ({fmt(sgd)} vs {fmt(snaive)}): "
            f"**{verdict(bool(sgd < snaive))}**"
        )
        ets = "statsforecast.AutoETS" if "statsforecast.AutoETS" in mase_means.index else "tsforecast.ets"
        ets_value = mase_means.loc[ets, "monthly"]
        absent = "" if ets.startswith("statsforecast") else " (statsforecast absent: compared with tsforecast's ETS)"
        lines.append(
            f"- sgd within 10% of {ets} in mean monthly MASE ({fmt(sgd)} vs {fmt(ets_value)}, ratio "
            f"{fmt(sgd / ets_value)}){absent}: **{verdict(bool(sgd <= 1.1 * ets_value))}**"
        )
    else:
        lines.append("- sgd accuracy targets: not measured (no sgd or no monthly data in this run)")
    ours, theirs = times.get("tsforecast seasonal_naive (serial)"), times.get("statsforecast SeasonalNaive")
    if ours is not None and theirs is not None:
        best = min(ours, times.get("tsforecast seasonal_naive (joblib)", ours))
        lines.append(
            f"- seasonal-naive panel backtest within 2× of statsforecast (tsforecast serial {secs(ours)} s, joblib "
            f"{secs(times.get('tsforecast seasonal_naive (joblib)', np.nan))} s; statsforecast {secs(theirs)} s; "
            f"ratio serial/statsforecast {fmt(ours / theirs, 1)}): **{verdict(best <= 2 * theirs)}**"
        )
    else:
        lines.append(
            "- seasonal-naive panel within 2× of statsforecast: not measured (statsforecast absent or speed skipped)"
        )
    sgd_times = {k: times[k] for k in ("tsforecast sgd (serial)", "tsforecast sgd (joblib)") if k in times}
    if sgd_times:
        shown = ", ".join(f"{k.split('(')[1].rstrip(')')} {secs(v)} s" for k, v in sgd_times.items())
        lines.append(
            f"- sgd global model on the panel in under 5 minutes on 2 cores ({shown}): "
            f"**{verdict(min(sgd_times.values()) < 300)}**"
        )
    if ratios is not None:
        lines.append(
            f"- window memory O(T), under 2× the series bytes above the baseline (float32 series: "
            f"{fmt(ratios['float32'], 2)}×; float64 series: {fmt(ratios['float64'], 2)}×): "
            f"**{verdict(ratios['float32'] < 2)}** for float32, **{verdict(ratios['float64'] < 2)}** "
            "for float64"
        )
    return "## Targets\n\n" + "\n".join(lines)


def machine() -> str:
    """Where and with what the benchmark ran."""
    cpu = platform.processor() or "unknown CPU"
    with contextlib.suppress(OSError, StopIteration), open("/proc/cpuinfo") as info:
        cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    packages = ["tsforecast", "torch", "numpy", "pandas", "scikit-learn", "statsmodels", *PEERS, "lightgbm"]
    versions = ", ".join(f"{p} {package_version(p)}" for p in packages)
    return f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}; {versions}"
