"""The command-line interface: outputs, exit statuses and one-line errors."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from leaky import Peeker

import tsforecast as tsf
from tsforecast import cli


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = cli.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def air_csv(tmp_path: Path) -> Path:
    path = tmp_path / "air.csv"
    tsf.load_dataset("air_passengers")[["ds", "y"]].to_csv(path, index=False)
    return path


def test_backtest_writes_the_four_files_and_prints_the_leaderboard(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "results"
    status, stdout, _ = run(
        capsys,
        "backtest",
        "air_passengers",
        "--horizon",
        "12",
        "--folds",
        "3",
        "--model",
        "ets",
        "--out",
        str(out),
    )
    assert status == 0
    assert sorted(p.name for p in out.iterdir()) == ["forecasts.csv", "metrics.csv", "report.html", "summary.json"]
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["models"]) == {"ets", "naive", "seasonal_naive"}
    assert summary["folds"] == 3
    assert summary["audit"]["passed"] is True
    lines = stdout.splitlines()
    assert lines[0].split()[:2] == ["mase", "mase_vs_seasonal_naive"]
    assert {line.split()[0] for line in lines[2:5]} == {"ets", "naive", "seasonal_naive"}
    assert "leakage audit passed" in stdout
    for name in ("forecasts.csv", "metrics.csv", "summary.json", "report.html"):
        assert f"  {out / name}" in lines


def test_naming_a_baseline_in_model_is_harmless(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, _, _ = run(
        capsys,
        "backtest",
        "air_passengers",
        "--horizon",
        "12",
        "--folds",
        "2",
        "--model",
        "seasonal_naive,naive",
        "--no-audit",
        "--out",
        str(tmp_path / "r"),
        "-q",
    )
    assert status == 0
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert set(summary["models"]) == {"naive", "seasonal_naive"}
    assert summary["audit"]["passed"] is None


def _write(tmp_path: Path, frame: pd.DataFrame, name: str = "data") -> str:
    path = tmp_path / f"{name}.csv"
    frame.to_csv(path, index=False)
    return str(path)


def _bad_inputs(tmp_path: Path) -> dict[str, tuple[list[str], str]]:
    air = tsf.load_dataset("air_passengers")[["ds", "y"]]
    nan = air.assign(y=air["y"].where(air.index != 5))
    dup = pd.concat([air, air.iloc[[3]]]).sort_values("ds", kind="stable")
    text = air.assign(y=air["y"].astype(object).where(air.index != 7, "abc"))
    gaps = air.drop(index=[10, 11])
    short = air.iloc[:20]
    return {
        "missing file": (["nope.csv"], "does not exist"),
        "unknown dataset": (["air_pasengers"], "Did you mean the dataset 'air_passengers'"),
        "missing column": ([_write(tmp_path, air, "air"), "--target-col", "sales"], "Missing column"),
        "nan": ([_write(tmp_path, nan, "nan")], "NaN or infinite"),
        "duplicate": ([_write(tmp_path, dup, "dup")], "duplicate timestamp"),
        "non-numeric": ([_write(tmp_path, text, "text")], "must be numeric"),
        "irregular": ([_write(tmp_path, gaps, "gaps")], "missing timestamp"),
        "too short": ([_write(tmp_path, short, "short")], "at least 49 are required"),
        "unknown model": (["air_passengers", "--model", "etz,thta"], "did you mean 'ets'?"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "missing file",
        "unknown dataset",
        "missing column",
        "nan",
        "duplicate",
        "non-numeric",
        "irregular",
        "too short",
        "unknown model",
    ],
)
def test_bad_input_exits_2_with_one_line_and_no_traceback(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, case: str
) -> None:
    args, message = _bad_inputs(tmp_path)[case]
    model = [] if case == "unknown model" else ["--model", "naive"]
    status, _, err = run(
        capsys, "backtest", *args, *model, "--horizon", "12", "--folds", "4", "--out", str(tmp_path / "o")
    )
    assert status == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_bad_flag_value_exits_2_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["backtest", "air_passengers", "--horizon", "twelve", "--out", "x"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        "tsforecast backtest: error: argument --horizon: expected a positive integer, got 'twelve' "
        "(see tsforecast backtest --help)"
    ]


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    with pytest.raises(tsf.DataError):
        cli.main(["backtest", "nope.csv", "--horizon", "3", "--out", str(tmp_path / "o"), "--debug"])


def test_existing_output_is_not_clobbered_without_force(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "results"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    args = ["backtest", "air_passengers", "--horizon", "12", "--folds", "2", "--model", "naive", "--no-audit", "-q"]
    status, _, err = run(capsys, *args, "--out", str(out))
    assert status == 2
    assert "already exists and is not empty" in err
    assert (out / "keep.txt").read_text() == "mine"
    status, _, _ = run(capsys, *args, "--out", str(out), "--force")
    assert status == 0


def test_input_file_is_never_modified(capsys: pytest.CaptureFixture[str], air_csv: Path, tmp_path: Path) -> None:
    before = hashlib.sha256(air_csv.read_bytes()).hexdigest()
    status, _, _ = run(
        capsys,
        "backtest",
        str(air_csv),
        "--horizon",
        "12",
        "--folds",
        "2",
        "--model",
        "naive",
        "--no-audit",
        "--out",
        str(tmp_path / "o"),
        "-q",
    )
    assert status == 0
    assert hashlib.sha256(air_csv.read_bytes()).hexdigest() == before


def test_column_mapping_flags(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    frame = tsf.load_dataset("uk_lung_deaths").rename(columns={"unique_id": "sex", "ds": "month", "y": "deaths"})
    path = _write(tmp_path, frame)
    status, _, _ = run(
        capsys,
        "backtest",
        path,
        "--id-col",
        "sex",
        "--time-col",
        "month",
        "--target-col",
        "deaths",
        "--horizon",
        "6",
        "--folds",
        "2",
        "--model",
        "naive",
        "--no-audit",
        "--out",
        str(tmp_path / "o"),
        "-q",
    )
    assert status == 0
    forecasts = pd.read_csv(tmp_path / "o" / "forecasts.csv")
    assert {"sex", "month", "deaths", "y_hat"} <= set(forecasts.columns)
    assert set(forecasts["sex"]) == {"mdeaths", "fdeaths"}
    assert set(pd.read_csv(tmp_path / "o" / "metrics.csv")["sex"]) == {"mdeaths", "fdeaths"}
    assert json.loads((tmp_path / "o" / "summary.json").read_text())["settings"]["target"] == "deaths"
    assert "<!-- deaths -->" in (tmp_path / "o" / "report.html").read_text()  # the value axis's label


def test_a_failed_audit_exits_3_and_still_writes_everything(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tsf.load_dataset("air_passengers")
    monkeypatch.setattr(cli, "_load", lambda args: (data, "air"))
    monkeypatch.setattr(cli, "_models", lambda args, horizon, season: [Peeker(horizon=horizon, data=data)])
    out = tmp_path / "o"
    status, _, err = run(capsys, "backtest", "air", "--horizon", "12", "--folds", "2", "--out", str(out), "-q")
    assert status == 3, err
    assert "leakage audit FAILED" in err
    assert json.loads((out / "summary.json").read_text())["audit"]["passed"] is False
    assert (out / "report.html").exists()


def test_forecast_writes_future_timestamps(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "f.csv"
    status, _, _ = run(
        capsys, "forecast", "uk_lung_deaths", "--horizon", "6", "--model", "seasonal_naive", "--out", str(out)
    )
    assert status == 0
    forecast = pd.read_csv(out, parse_dates=["ds"])
    assert list(forecast.columns) == ["unique_id", "ds", "model", "y_hat"]
    assert len(forecast) == 2 * 6
    assert forecast["ds"].min() == pd.Timestamp("1980-01-01")
    assert forecast["ds"].max() == pd.Timestamp("1980-06-01")


def test_datasets_lists_every_shipped_dataset(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "datasets")
    assert status == 0
    assert all(name in out for name in tsf.list_datasets())


@pytest.mark.parametrize("command", ["backtest", "forecast"])
def test_help_shows_an_example(command: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tsforecast", command, "--help"], capture_output=True, text=True, check=True
    )
    assert "example:" in done.stdout
    assert f"tsforecast {command}" in done.stdout
