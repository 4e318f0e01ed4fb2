"""The known-future frame's timestamps are read by the loader's rules and placed on the history's clock."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import tsforecast as tsf
from tsforecast import cli
from tsforecast.covariates import prepare_future

COV = tsf.Covariates(known_future=["promo"])
H = 3


def _history(times: pd.DatetimeIndex | np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"unique_id": "a", "ds": times, "y": np.arange(len(times), dtype=float), "promo": 0.0})


def _prepare(future: pd.DataFrame, history: pd.DataFrame, horizon: pd.Index) -> pd.DataFrame:
    return prepare_future(future, history, COV, {"a": horizon}, "Model")


def _hourly(tz: str | None) -> tuple[pd.DataFrame, pd.DatetimeIndex]:
    times = pd.date_range("2021-03-27 12:00", periods=30, freq="h", tz=tz)
    return _history(times), pd.date_range(times[-1], periods=H + 1, freq="h")[1:]


def test_an_aware_history_refuses_a_naive_future_in_one_line() -> None:
    history, horizon = _hourly("UTC")
    future = pd.DataFrame({"ds": horizon.tz_localize(None), "promo": 1.0})
    pattern = (
        r"^The future frame's timestamps have no time zone \(e.g\. 2021-03-28 18:00\) but the history's are in UTC "
        r"\(e\.g\. 2021-03-28 17:00\+00:00\): naive and time-zone-aware times cannot be placed on one clock\. "
        r"Write both with a time zone or UTC offset, or both without "
        r"\(e\.g\. future\['ds'\] = future\['ds'\]\.dt\.tz_localize\('UTC'\)\)\.$"
    )
    with pytest.raises(tsf.DataError, match=pattern):
        _prepare(future, history, horizon)


def test_a_naive_history_refuses_an_aware_future_in_one_line() -> None:
    history, horizon = _hourly(None)
    future = pd.DataFrame({"ds": horizon.tz_localize("Europe/Berlin"), "promo": 1.0})
    pattern = (
        r"^The future frame's timestamps are in Europe/Berlin \(e\.g\. 2021-03-28 18:00\+02:00\) but the history's "
        r"have no time zone \(e\.g\. 2021-03-28 17:00\): naive and time-zone-aware times cannot be placed on one "
        r"clock\. Write both with a time zone or UTC offset, or both without "
        r"\(e\.g\. future\['ds'\] = future\['ds'\]\.dt\.tz_localize\(None\)\)\.$"
    )
    with pytest.raises(tsf.DataError, match=pattern):
        _prepare(future, history, horizon)


@pytest.mark.parametrize("history_tz", ["UTC", "Europe/Berlin"])
@pytest.mark.parametrize("future_tz", ["UTC", "America/New_York"])
def test_an_aware_future_is_converted_to_the_history_s_time_zone(history_tz: str, future_tz: str) -> None:
    history, horizon = _hourly(history_tz)
    future = pd.DataFrame({"ds": horizon.tz_convert(future_tz)[::-1], "promo": [1.0, 2.0, 3.0]})
    out = _prepare(future, history, horizon)
    assert out["ds"].dtype == history["ds"].dtype
    assert out["ds"].tolist() == list(horizon)
    assert out["promo"].tolist() == [3.0, 2.0, 1.0]


def test_text_with_utc_offsets_is_placed_on_an_aware_history_s_clock_silently() -> None:
    history, horizon = _hourly("Europe/Berlin")  # the horizon crosses no change; the history crosses one
    text = horizon.tz_convert("Etc/GMT-5").strftime("%Y-%m-%dT%H:%M%z")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = _prepare(pd.DataFrame({"ds": text, "promo": 1.0}), history, horizon)
    assert out["ds"].tolist() == list(horizon)


def test_text_with_offsets_at_one_local_time_of_day_is_kept_local_for_a_naive_history() -> None:
    history = _history(pd.date_range("2021-03-20", periods=14, freq="D"))  # local dates, as the loader keeps them
    horizon = pd.date_range("2021-04-03", periods=H, freq="D")
    text = ["2021-04-05T00:00+02:00", "2021-04-03T00:00+02:00", "2021-04-04T00:00+02:00"]
    with pytest.warns(UserWarning, match="the local times were kept and the offsets dropped"):
        out = _prepare(pd.DataFrame({"ds": text, "promo": [5.0, 3.0, 4.0]}), history, horizon)
    assert out["ds"].tolist() == list(horizon)
    assert out["promo"].tolist() == [3.0, 4.0, 5.0]


@pytest.mark.parametrize(
    ("history", "future", "pattern"),
    [
        (
            pd.date_range("2021-01-01", periods=10, freq="D"),
            [10, 11, 12],
            r"^The future frame's timestamps are integers \(e\.g\. 10\) but the history's are datetimes "
            r"\(e\.g\. 2021-01-10\): the two cannot be matched\. Write the future's 'ds' as the history's\.$",
        ),
        (
            np.arange(10),
            ["2021-01-11", "2021-01-12", "2021-01-13"],
            r"^The future frame's timestamps are datetimes \(e\.g\. 2021-01-11\) but the history's are integers "
            r"\(e\.g\. 9\)",
        ),
    ],
)
def test_integer_and_datetime_times_are_not_mixed(history: Any, future: list[Any], pattern: str) -> None:
    frame = _history(history)
    horizon = pd.Index([10, 11, 12]) if frame["ds"].dtype.kind == "i" else pd.date_range("2021-01-11", periods=H)
    with pytest.raises(tsf.DataError, match=pattern):
        _prepare(pd.DataFrame({"ds": future, "promo": 1.0}), frame, horizon)


def test_an_unreadable_future_timestamp_names_its_row() -> None:
    history, horizon = _hourly(None)
    future = pd.DataFrame({"ds": ["2021-03-28 18:00", "later", "2021-03-28 20:00"], "promo": 1.0})
    with pytest.raises(tsf.DataError, match=r"has a value that is not a timestamp at row 1: 'later'"):
        _prepare(future, history, horizon)


def test_day_first_future_dates_take_the_reading_that_covers_the_horizon() -> None:
    history = _history(pd.date_range("2024-01-20", periods=12, freq="D"))
    horizon = pd.date_range("2024-02-01", periods=H, freq="D")
    future = pd.DataFrame({"ds": ["01/02/2024", "02/02/2024", "03/02/2024"], "promo": [1.0, 2.0, 3.0]})
    out = _prepare(future, history, horizon)
    assert out["ds"].tolist() == list(horizon)
    assert out["promo"].tolist() == [1.0, 2.0, 3.0]


def test_future_dates_whose_two_readings_both_cover_the_horizon_are_refused() -> None:
    history = _history(pd.date_range("2024-01-20", periods=12, freq="D"))
    horizon = pd.date_range("2024-02-01", periods=1, freq="D")
    future = pd.DataFrame({"ds": ["01/02/2024", "02/01/2024"], "promo": [1.0, 2.0]})
    pattern = (
        r"^The future frame has dates such as '01/02/2024' that read both day-first and month-first, and both "
        r"readings cover the horizon with different rows\. Write its dates in ISO 8601 \(2024-01-31\)\.$"
    )
    with pytest.raises(tsf.DataError, match=pattern):
        _prepare(future, history, horizon)


def test_predict_with_an_aware_history_and_future() -> None:
    history, horizon = _hourly("Europe/Berlin")
    model = tsf.SeasonalNaive(horizon=H, season=24).fit(history, covariates=COV)
    forecast = model.predict(future=pd.DataFrame({"ds": horizon.tz_convert("UTC"), "promo": 1.0}))
    assert forecast["ds"].tolist() == list(horizon)
    with pytest.raises(tsf.DataError, match="have no time zone"):
        model.predict(future=pd.DataFrame({"ds": horizon.tz_localize(None), "promo": 1.0}))


def _write(path: Path, times: list[str], column: str, values: list[float]) -> Path:
    pd.DataFrame({"ds": times, column: values}).to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    ("start", "freq", "future_times", "status"),
    [
        # hourly times with offsets: the history is in UTC, and so is the future frame
        ("2021-03-28 00:00", "h", ["2021-03-28T23:00+02:00", "2021-03-29T00:00+02:00"], 0),
        # daily local times across a daylight-saving change: both are kept in local time
        ("2021-03-20 00:00", "D", ["2021-04-03T00:00+02:00", "2021-04-04T00:00+02:00"], 0),
        # hourly history with offsets (UTC), future without: refused in one line
        ("2021-03-28 00:00", "h", ["2021-03-28T22:00", "2021-03-28T23:00"], 2),
    ],
)
def test_cli_forecast_with_offsets_in_both_files(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, start: str, freq: str, future_times: list[str], status: int
) -> None:
    local = pd.date_range(start, periods=14 if freq == "D" else 22, freq=freq, tz="Europe/Berlin")
    history = pd.DataFrame({"ds": local.strftime("%Y-%m-%dT%H:%M%z"), "y": np.arange(len(local), dtype=float)})
    history["promo"] = 0.0
    history.to_csv(tmp_path / "h.csv", index=False)
    future = _write(tmp_path / "f.csv", future_times, "promo", [1.0, 1.0])
    argv = ["forecast", str(tmp_path / "h.csv"), "--horizon", "2", "--model", "naive", "--known-future", "promo"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the loader's notes on the offsets
        assert cli.main([*argv, "--future", str(future), "--out", str(tmp_path / "o.csv")]) == status
    err = capsys.readouterr().err
    if status:
        assert "have no time zone" in err
        assert len(err.strip().splitlines()) == 1
    else:
        assert len(pd.read_csv(tmp_path / "o.csv")) == 2


def test_an_empty_future_frame_lacks_every_step() -> None:
    history, horizon = _hourly("UTC")
    with pytest.raises(tsf.DataError, match=r"lacks known-future values for 3 horizon step\(s\), e\.g\. series 'a'"):
        _prepare(pd.DataFrame({"ds": [], "promo": []}), history, horizon)


def test_future_ids_are_read_as_the_loader_reads_ids() -> None:
    history, horizon = _hourly(None)
    history["unique_id"] = "7"
    out = prepare_future(pd.DataFrame({"unique_id": 7, "ds": horizon, "promo": 1.0}), history, COV, {"7": horizon}, "M")
    assert out["unique_id"].tolist() == ["7"] * H
    missing = pd.DataFrame({"unique_id": [7, None, 7], "ds": horizon, "promo": 1.0})
    with pytest.raises(tsf.DataError, match=r"^Column 'unique_id' has 1 row\(s\) with an empty or missing series id"):
        prepare_future(missing, history, COV, {"7": horizon}, "M")


def test_calendar_features_of_an_aware_history_are_those_of_its_local_time() -> None:
    history, horizon = _hourly("Europe/Berlin")
    cov = tsf.Covariates(calendar=["hour"])
    out = prepare_future(None, history.drop(columns="promo"), cov, {"a": horizon}, "M")
    expected = tsf.covariates.calendar_features(horizon.tz_localize(None), ["hour"])
    np.testing.assert_allclose(out[["hour_sin", "hour_cos"]].to_numpy(), expected.to_numpy())
    model = tsf.SeasonalNaive(horizon=H, season=24).fit(history.drop(columns="promo"), covariates=cov)
    assert model.predict()["ds"].tolist() == list(horizon)
