"""Exogenous covariates with declared availability: :class:`Covariates`.

Every column of a long frame besides ``unique_id, ds, y`` is a covariate, and every covariate is
declared by *when it is available*, because that decides how far it may reach a forecast made at
a cutoff ``c``:

- ``known_future``: known in advance for the whole horizon (calendar features, planned prices,
  holidays). A forecast at ``c`` may read its values up to the end of the horizon, which it gets
  through a separate *future frame* holding only these columns.
- ``past_only``: observed together with the target (temperature, a competitor's sales). A
  forecast at ``c`` reads it up to ``c`` only.
- ``static``: one value per series (store size, region code), constant within a series.

An extra column that is not declared is refused with an error listing the three choices: a
column is never used -- nor dropped -- silently. Built-in calendar features (``calendar=``) are
generated from the timestamps as ``known_future`` columns ``<name>_sin`` and ``<name>_cos``, so
they are available for any future step without data.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .columns import ID, TARGET, TIME
from .errors import DataError, DataTypeError, LeakageError
from .frames import series_labels
from .timestamps import format_time, parse_time

__all__ = ["CALENDAR", "Covariates", "calendar_features", "prepare_frame", "prepare_future"]

CALENDAR: dict[str, str] = {
    "month": "month of the year, period 12",
    "quarter": "quarter of the year, period 4",
    "dayofweek": "day of the week, period 7",
    "dayofmonth": "day of the month, period = days in that month",
    "dayofyear": "day of the year, period = days in that year",
    "weekofyear": "ISO week of the year, period 52.18",
    "hour": "hour of the day (minutes as fractions), period 24",
}
"""The built-in calendar features, each encoded as a ``sin``/``cos`` pair of its phase."""

_KINDS = ("known_future", "past_only", "static")
_SCREENS = ("refuse", "warn", "off")
_CHOICES = (
    "known_future (known in advance for the horizon: calendar, planned prices), "
    "past_only (observed with the target: used only up to each cutoff) or "
    "static (one value per series)"
)


def _names(value: Any, what: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, Iterable):
        raise DataTypeError(f"Covariates({what}=...) must be a list of column names, got {type(value).__name__}.")
    names = tuple(value)
    bad = [n for n in names if not isinstance(n, str)]
    if bad:
        raise DataTypeError(f"Covariates({what}=...) must hold column names (strings); got {bad!r}.")
    return names


@dataclass(frozen=True)
class Covariates:
    """Declare every extra column of a long frame by when it is available.

    Parameters
    ----------
    known_future : sequence of str
        Columns known in advance for the horizon; a forecast reads them up to its horizon's end.
    past_only : sequence of str
        Columns observed with the target; a forecast reads them up to its cutoff only.
    static : sequence of str
        Columns constant within each series.
    calendar : sequence of str
        Built-in calendar features generated from ``ds`` as known-future columns
        ``<name>_sin, <name>_cos`` (see :data:`CALENDAR` for the names); needs datetime timestamps.
    screen : {"refuse", "warn", "off"}, default="refuse"
        The covariate leak screen a backtest runs before any fit
        (:mod:`tsforecast.covariate_screen`): ``"refuse"`` raises a
        :class:`~tsforecast.errors.LeakageError` for a column that decisively holds future values of
        ``y`` and warns for one that may; ``"warn"`` only warns; ``"off"`` skips it. It changes
        no forecast, so it is not part of the declaration's identity (equality, ``repr``).

    Notes
    -----
    Models that are univariate (the naive, seasonal naive, ETS, ARIMA and Theta baselines) ignore
    covariates, but a frame with extra columns still needs them declared, so that nothing is
    used, or dropped, silently. :class:`~tsforecast.SGDForecaster` and :class:`~tsforecast.RegressionForecaster`
    use them (see their Notes).

    Examples
    --------
    >>> cov = Covariates(known_future=["WorkDay"], past_only=["Temperature"], calendar=["month"])
    >>> cov.future_columns
    ('WorkDay', 'month_sin', 'month_cos')
    >>> cov.data_columns
    ('WorkDay', 'Temperature')
    """

    known_future: tuple[str, ...] = ()
    past_only: tuple[str, ...] = ()
    static: tuple[str, ...] = ()
    calendar: tuple[str, ...] = field(default=())
    screen: str = field(default="refuse", repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.screen not in _SCREENS:
            raise DataError(
                f"Covariates(screen={self.screen!r}) is not one of {', '.join(map(repr, _SCREENS))}: 'refuse' refuses "
                "a covariate that holds future values of y, 'warn' only warns, 'off' skips the screen."
            )
        # NOTE: normalised to tuples so a declaration is hashable and compares by value.
        for what in (*_KINDS, "calendar"):
            object.__setattr__(self, what, _names(getattr(self, what), what))
        unknown = [c for c in self.calendar if c not in CALENDAR]
        if unknown:
            raise DataError(f"Unknown calendar feature(s) {unknown}. Known: {', '.join(CALENDAR)}.")
        seen: dict[str, list[str]] = {}
        for what in _KINDS:
            for name in getattr(self, what):
                seen.setdefault(name, []).append(what)
        twice = {name: kinds for name, kinds in seen.items() if len(kinds) > 1}
        if twice:
            listed = "; ".join(f"{name!r} as {' and '.join(kinds)}" for name, kinds in twice.items())
            raise DataError(f"Column(s) declared more than once: {listed}. Declare each column exactly once.")
        reserved = [name for name in seen if name in (ID, TIME, TARGET)]
        if reserved:
            raise DataError(f"{reserved} cannot be covariates: {ID}, {TIME} and {TARGET} are the frame's own columns.")
        clash = [name for name in self.calendar_columns if name in seen]
        if clash:
            raise DataError(f"Column(s) {clash} are also generated by calendar=; rename them or drop the feature.")

    @property
    def calendar_columns(self) -> tuple[str, ...]:
        """Names of the generated calendar columns."""
        return tuple(f"{name}_{part}" for name in self.calendar for part in ("sin", "cos"))

    @property
    def future_columns(self) -> tuple[str, ...]:
        """Every known-future input of a model: the declared columns, then the calendar ones."""
        return (*self.known_future, *self.calendar_columns)

    @property
    def data_columns(self) -> tuple[str, ...]:
        """Every declared column the data must hold."""
        return (*self.known_future, *self.past_only, *self.static)

    @property
    def empty(self) -> bool:
        """True when nothing is declared."""
        return not (self.data_columns or self.calendar)


def calendar_features(times: Any, names: Iterable[str]) -> pd.DataFrame:
    """Cyclic ``sin``/``cos`` encodings of calendar features of timestamps.

    Each feature with phase ``p`` in ``[0, 1)`` gives ``sin(2πp)`` and ``cos(2πp)``. They depend on
    the timestamp alone, so they exist for any future step.

    Parameters
    ----------
    times : array-like of datetime64
        The timestamps, naive or time-zone-aware (the features of local time).
    names : iterable of str
        Features from :data:`CALENDAR`.

    Returns
    -------
    DataFrame
        Columns ``<name>_sin, <name>_cos`` per feature, one row per timestamp.

    Raises
    ------
    DataError
        If the timestamps are not datetimes (an integer time index has no calendar).

    Examples
    --------
    >>> calendar_features(pd.to_datetime(["2024-01-01", "2024-07-01"]), ["month"]).round(3)
       month_sin  month_cos
    0        0.0        1.0
    1        0.0       -1.0
    """
    index = pd.Index(times)
    if not isinstance(index, pd.DatetimeIndex):  # NOTE: pd.Index, not np.asarray, keeps a time zone's dtype
        raise DataError(
            "Calendar features need datetime timestamps in ds; these data have an integer time index. "
            "Drop calendar= or load the data with real timestamps."
        )
    phases = {
        "month": (index.month - 1) / 12.0,
        "quarter": (index.quarter - 1) / 4.0,
        "dayofweek": index.day_of_week / 7.0,
        "dayofmonth": (index.day - 1) / index.days_in_month,
        "dayofyear": (index.day_of_year - 1) / np.where(index.is_leap_year, 366.0, 365.0),
        "weekofyear": (index.isocalendar().week.to_numpy(dtype="float64") - 1) / 52.1775,
        "hour": (index.hour + index.minute / 60.0) / 24.0,
    }
    out: dict[str, np.ndarray] = {}
    for name in names:
        angle = 2.0 * np.pi * np.asarray(phases[name], dtype="float64")
        out[f"{name}_sin"], out[f"{name}_cos"] = np.sin(angle), np.cos(angle)
    return pd.DataFrame(out)


def _undeclared_message(extra: list[str], owner: str) -> str:
    return (
        f"Undeclared extra column(s) {extra} in the data given to {owner}: a column is never used, or dropped, "
        f"silently. Declare each one as {_CHOICES} with covariates=tsf.Covariates(known_future=[...], "
        f"past_only=[...], static=[...]) (CLI: --known-future, --past-only, --static), or drop it: "
        f"df[[{ID!r}, {TIME!r}, {TARGET!r}]]."
    )


def _check_values(frame: pd.DataFrame, columns: Iterable[str], where: str) -> None:
    for col in columns:
        values = frame[col]
        if not (pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)):
            raise DataError(
                f"Covariate {col!r} in {where} is not numeric (dtype {values.dtype}, e.g. {values.iloc[0]!r}). "
                "Encode it as numbers (e.g. pd.get_dummies or category codes) before declaring it."
            )
        numbers = values.to_numpy(dtype="float64")
        bad = ~np.isfinite(numbers)
        if bad.any():
            row = frame.iloc[int(np.flatnonzero(bad)[0])]
            raise DataError(
                f"Covariate {col!r} in {where} has {int(bad.sum())} missing or non-finite value(s), the first for "
                f"series {row[ID]!r} at {row[TIME]}. Fill them with information available at that time (e.g. the "
                "last value), never by interpolation, which reads the value after the gap."
            )


def prepare_frame(frame: pd.DataFrame, covariates: Covariates | None, owner: str) -> pd.DataFrame:
    """Validate a long frame's covariates and return the frame a model sees.

    Parameters
    ----------
    frame : DataFrame
        A validated long frame ``unique_id, ds, y, ...``.
    covariates : Covariates or None
        The declaration; ``None`` declares nothing.
    owner : str
        Who receives the frame, for messages.

    Returns
    -------
    DataFrame
        ``unique_id, ds, y``, the declared columns as ``float64`` (known-future, past-only, static)
        and the generated calendar columns. Without covariates, ``frame`` itself.

    Raises
    ------
    DataError
        For an undeclared extra column (the message lists the three choices), and for declared
        columns that are missing, non-numeric, missing values, or ``static`` but varying within a
        series.
    DataTypeError
        If ``covariates`` is not a :class:`Covariates`.
    """
    if covariates is not None and not isinstance(covariates, Covariates):
        raise DataTypeError(
            f"covariates must be a tsforecast.Covariates, got {type(covariates).__name__}. "
            "Use covariates=tsf.Covariates(known_future=[...], past_only=[...], static=[...])."
        )
    cov = covariates if covariates is not None else Covariates()
    declared = cov.data_columns
    missing = [c for c in declared if c not in frame.columns]
    if missing:  # NOTE: before the undeclared check, so a misspelt name gets the more precise message
        have = [c for c in frame.columns if c not in (ID, TIME, TARGET)]
        close = [difflib.get_close_matches(c, have, n=1, cutoff=0.5) for c in missing]
        hint = "".join(f" Did you mean {m[0]!r} for {c!r}?" for c, m in zip(missing, close, strict=True) if m)
        raise DataError(
            f"Declared covariate column(s) {missing} are not in the data given to {owner} (extra columns there: "
            f"{have}).{hint} Check the names, or remove them from the declaration."
        )
    extra = [c for c in frame.columns if c not in (ID, TIME, TARGET, *declared)]
    if extra:
        raise DataError(_undeclared_message(extra, owner))
    if cov.empty:
        return frame
    _check_values(frame, declared, f"the data given to {owner}")
    out = frame[[ID, TIME, TARGET]].copy()
    for col in declared:
        out[col] = frame[col].to_numpy(dtype="float64")
    for col in cov.static:
        spread = out.groupby(ID, sort=True)[col].agg(lambda s: s.max() - s.min())
        varying = spread[spread > 0]
        if len(varying):
            raise DataError(
                f"Static covariate {col!r} varies within series {varying.index[0]!r} (range {varying.iloc[0]:g}); "
                "a static column has one value per series. Declare it past_only or known_future instead."
            )
    if cov.calendar:
        features = calendar_features(out[TIME], cov.calendar)
        for col in features.columns:
            out[col] = features[col].to_numpy()
    return out


def _shown(value: Any) -> str:
    """A timestamp for a message, with its UTC offset when it has a time zone."""
    if isinstance(value, pd.Timestamp) and value.tz is not None:
        return value.isoformat(sep=" ", timespec="minutes")
    return format_time(value)


def _on_clock(times: pd.Series, history: pd.Series) -> pd.Series:
    """``times`` on the history's clock: its kind (datetimes or integers), time zone and resolution."""
    dated, history_dated = (pd.api.types.is_datetime64_any_dtype(t) for t in (times, history))
    example, history_example = _shown(times.iloc[0]), _shown(history.max())
    if dated != history_dated:
        kinds = {True: "datetimes", False: "integers"}
        raise DataError(
            f"The future frame's timestamps are {kinds[dated]} (e.g. {example}) but the history's are "
            f"{kinds[history_dated]} (e.g. {history_example}): the two cannot be matched. Write the future's "
            f"{TIME!r} as the history's."
        )
    if not dated:
        return times
    zone, history_zone = times.dt.tz, history.dt.tz
    if (zone is None) != (history_zone is None):
        # NOTE: as the loader refuses text mixing timestamps with and without a UTC offset: no clock holds both
        mine, theirs = ("have no time zone" if z is None else f"are in {z}" for z in (zone, history_zone))
        localize = f"future[{TIME!r}] = future[{TIME!r}].dt.tz_localize({history_zone and str(history_zone)!r})"
        raise DataError(
            f"The future frame's timestamps {mine} (e.g. {example}) but the history's {theirs} (e.g. "
            f"{history_example}): naive and time-zone-aware times cannot be placed on one clock. Write both with "
            f"a time zone or UTC offset, or both without (e.g. {localize})."
        )
    if zone is not None:
        times = times.dt.tz_convert(history_zone)  # NOTE: the same instants, in the history's time zone
    return times.astype(history.dtype)


def _future_times(future: pd.DataFrame, rows: pd.DataFrame, history: pd.Series) -> pd.Series:
    """The future frame's timestamps read as the loader reads a time column, on the history's clock.

    Dates that read both day-first and month-first take the one reading that covers every row of
    ``rows`` (the horizon); with neither, the first reading, whose gaps the caller reports.
    """
    if future.empty:
        return history.iloc[:0]
    # NOTE: a time-zone-aware history takes text with offsets in UTC (then its zone), never as local times
    aware = isinstance(history.dtype, pd.DatetimeTZDtype)
    readings = [_on_clock(t, history) for _, t in parse_time(future[TIME], TIME, local=not aware)]
    needed = pd.MultiIndex.from_frame(rows)
    covering = [t for t in readings if needed.isin(pd.MultiIndex.from_arrays([future[ID], t])).all()]
    if len(covering) > 1 and not covering[0].equals(covering[1]):
        raise DataError(
            f"The future frame has dates such as {future[TIME].iloc[0]!r} that read both day-first and "
            "month-first, and both readings cover the horizon with different rows. Write its dates in ISO 8601 "
            "(2024-01-31)."
        )
    return (covering or readings)[0]


def prepare_future(
    future: Any,
    frame: pd.DataFrame,
    covariates: Covariates,
    times: dict[str, pd.Index],
    owner: str,
) -> pd.DataFrame:
    """Validate a future frame and return the known-future inputs over each series' horizon.

    Parameters
    ----------
    future : DataFrame or None
        ``unique_id, ds`` and the declared ``known_future`` columns (``unique_id`` may be left out
        for one series). It must not hold ``y`` or any other column. ``None`` is accepted when
        only calendar features are known-future.
    frame : DataFrame
        The prepared history the forecast is made from.
    covariates : Covariates
        The declaration.
    times : dict of str to Index
        Per series (sorted ids), the horizon timestamps to forecast.
    owner : str
        Who forecasts, for messages.

    Returns
    -------
    DataFrame
        ``unique_id, ds`` and :attr:`Covariates.future_columns`, ``horizon`` rows per series in
        the order of ``times``.

    Raises
    ------
    LeakageError
        If ``future`` holds ``y`` or a past-only column: values that are not known in advance.
    DataError
        If it is missing, lacks a known-future column, has other columns, or lacks values (NaN
        included) for some horizon step; the message names the series and the timestamps. Also
        for a missing or empty id, and for timestamps that cannot be placed on the history's clock:
        integers against datetimes, or naive against time-zone-aware times (either way round).

    Notes
    -----
    Ids are read as :func:`~tsforecast.frames.from_pandas` reads them (``7`` is ``"7"``), and
    timestamps as it reads a time column (:func:`~tsforecast.timestamps.parse_time`): text with
    UTC offsets is placed on the history's clock -- converted to a time-zone-aware history's zone,
    or kept in local time for a naive history of dates -- and time-zone-aware timestamps are
    converted to the history's zone (the same instants). Day-first dates take the reading that
    covers the horizon.
    """
    ids, stamps = list(times), list(times.values())
    # NOTE: Index.append, not np.concatenate, which turns time-zone-aware stamps into objects
    rows = pd.DataFrame({ID: np.repeat(ids, [len(t) for t in stamps]), TIME: stamps[0].append(stamps[1:])})
    if covariates.known_future or future is not None:
        if future is None:
            first = ids[0]
            raise DataError(
                f"{owner} was fitted with known-future covariates {list(covariates.known_future)}; pass their "
                f"values for the horizon as predict(future=frame) with columns {ID}, {TIME}, "
                f"{', '.join(covariates.known_future)} (series {first!r} needs {times[first][0]} .. "
                f"{times[first][-1]})."
            )
        if not isinstance(future, pd.DataFrame):
            raise DataTypeError(f"future must be a pandas DataFrame, got {type(future).__name__}.")
        future = future.copy()
        if ID not in future.columns:
            if len(ids) != 1:
                raise DataError(f"The future frame has no {ID!r} column, needed for a panel of {len(ids)} series.")
            future[ID] = ids[0]
        forbidden = [c for c in future.columns if c == TARGET or c in covariates.past_only]
        if forbidden:
            raise LeakageError(
                f"The future frame holds {forbidden}, which are not known in advance: a future frame may hold only "
                f"{ID}, {TIME} and the known-future columns {list(covariates.known_future)}. Drop the others."
            )
        other = [c for c in future.columns if c not in (ID, TIME, *covariates.known_future)]
        missing = [c for c in covariates.known_future if c not in future.columns]
        if other or missing or TIME not in future.columns:
            raise DataError(
                f"The future frame must have exactly the columns {ID}, {TIME}, {', '.join(covariates.known_future)};"
                f" missing {[c for c in (TIME, *missing) if c not in future.columns]}, not allowed {other}."
            )
        future[ID] = series_labels(future[ID], ID)
        future[TIME] = _future_times(future, rows, frame[TIME]).to_numpy()
        _check_values(future, covariates.known_future, "the future frame")
        if future.duplicated([ID, TIME]).any():
            dup = future[future.duplicated([ID, TIME])].iloc[0]
            raise DataError(f"The future frame has two rows for series {dup[ID]!r} at {dup[TIME]}.")
        merged = rows.merge(future, on=[ID, TIME], how="left", validate="one_to_one")
        lacking = merged[merged[list(covariates.known_future)].isna().any(axis=1)]
        if len(lacking):
            first = lacking[ID].iloc[0]
            when = lacking[lacking[ID] == first][TIME].tolist()
            shown = ", ".join(str(t) for t in when[:3]) + (" ..." if len(when) > 3 else "")
            raise DataError(
                f"The future frame lacks known-future values for {len(lacking)} horizon step(s), e.g. series "
                f"{first!r} at {shown}. It must cover the {len(next(iter(times.values())))} steps after each "
                "series' last timestamp."
            )
        out = merged[[ID, TIME, *covariates.known_future]].copy()
        for col in covariates.known_future:
            out[col] = out[col].to_numpy(dtype="float64")
    else:
        out = rows
    if covariates.calendar:
        features = calendar_features(out[TIME], covariates.calendar)
        for col in features.columns:
            out[col] = features[col].to_numpy()
    return out.reset_index(drop=True)
