"""The frequency of a long frame: inferring it, its season, and the timestamps after the last."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import tsforecast
from tsforecast import cli
from tsforecast.errors import DataError
from tsforecast.frames import from_pandas
from tsforecast.frequency import future_times, infer_freq, season_length

# --- infer_freq and season_length ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("freq", "expected"),
    [("MS", "MS"), ("QS-JAN", "QS-JAN"), ("YS-JAN", "YS-JAN"), ("D", "D"), ("h", "h"), ("30min", "30min"), ("B", "B")],
)
def test_infer_freq_of_a_validated_frame(freq: str, expected: str) -> None:
    frame = pd.DataFrame({"ds": pd.date_range("2021-01-01", periods=12, freq=freq), "y": 1.0})
    assert infer_freq(from_pandas(frame)) == expected


def test_infer_freq_of_a_gappy_series_uses_the_most_common_spacing() -> None:
    frame = pd.DataFrame({"ds": pd.date_range("2021-01-01", periods=12, freq="D").delete([4]), "y": 1.0})
    assert infer_freq(from_pandas(frame, fill="ffill")) == "D"
    assert infer_freq(frame.assign(unique_id="s")) == "D"


def test_infer_freq_needs_a_series_of_three_timestamps() -> None:
    frame = pd.DataFrame({"unique_id": ["a", "a"], "ds": [0, 1], "y": [1.0, 2.0]})
    with pytest.raises(DataError, match=r"Every series has fewer than 3 timestamps, so no frequency can be inferred\."):
        infer_freq(frame)


def test_infer_freq_reads_the_longest_series_whatever_the_types_of_the_ids() -> None:
    frame = pd.DataFrame({"unique_id": [7, 7, "x", "x", "x"], "ds": [0, 2, 0, 5, 10], "y": 1.0})
    assert tsforecast.infer_freq(frame) == 5


@pytest.mark.parametrize(
    ("freq", "season"),
    [
        ("MS", 12),
        ("ME", 12),
        ("QS", 4),
        ("QS-JAN", 4),
        ("QE-DEC", 4),
        ("W", 52),
        ("W-SUN", 52),
        ("D", 7),
        ("B", 5),
        ("h", 24),
        ("30min", 48),
        ("min", 60),
        ("YS-JAN", 1),
        ("YE", 1),
        ("s", 1),
        (1, 1),
        (7, 1),
    ],
)
def test_season_length_table(freq: str | int, season: int) -> None:
    assert season_length(freq) == season


# --- future_times ----------------------------------------------------------------------------------------------------


def test_future_times_continue_the_grid() -> None:
    last = pd.Timestamp("2024-01-01", tz="Europe/Berlin")
    assert future_times(last, "MS", 2).tolist() == list(pd.date_range("2024-02-01", periods=2, freq="MS", tz=last.tz))
    assert future_times(9, 2, 3).tolist() == [11, 13, 15]


@pytest.mark.parametrize(("unit", "bound", "name"), [("ns", "2262-04-11", "nano"), ("us", "294247-01-10", "micro")])
@pytest.mark.parametrize(("freq", "horizon"), [("MS", 20_000_000), ("B", 10**8), ("h", 10**12)])
@pytest.mark.parametrize("tz", [None, "UTC"])
def test_a_horizon_past_the_last_representable_timestamp_is_refused(
    unit: str, bound: str, name: str, freq: str, horizon: int, tz: str | None
) -> None:
    last = pd.Timestamp("2024-01-01", tz=tz).as_unit(unit)
    pattern = (
        rf"^horizon={horizon} runs past the last representable timestamp: {horizon} steps of {freq} after "
        rf"2024-01-01 end after {bound}, the latest time pandas can hold at {name}second resolution\. "
        r"Forecast fewer steps \(a smaller horizon=\)\.$"
    )
    with pytest.raises(DataError, match=pattern):
        future_times(last, freq, horizon)


def test_a_horizon_past_the_largest_integer_time_step_is_refused() -> None:
    last = np.iinfo(np.int64).max - 10
    pattern = (
        rf"^horizon=6 runs past the last representable time step: 6 steps of 2 after {last} end after "
        rf"{last + 10}, the largest 64-bit integer\. Forecast fewer steps \(a smaller horizon=\)\.$"
    )
    with pytest.raises(DataError, match=pattern):
        future_times(last, 2, 6)
    assert future_times(last, 2, 5).tolist()[-1] == last + 10


def test_cli_forecast_refuses_a_horizon_past_the_last_timestamp_in_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    argv = ["forecast", "air_passengers", "--horizon", "20000000", "--model", "naive", "--out", str(tmp_path / "f.csv")]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("tsforecast forecast: error: --horizon 20000000 runs past the last representable timestamp")
    assert err.endswith("Forecast fewer steps (a smaller --horizon).")
    assert len(err.splitlines()) == 1
