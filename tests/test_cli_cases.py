"""Command-line cases that used to end in a traceback or a silent terminal: each now succeeds or
exits 2 with one line on stderr naming the problem and the fix in flags, inputs untouched."""

from __future__ import annotations

import hashlib
import importlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import tsforecast as tsf
from tsforecast import cli, loaders
from tsforecast.errors import DataError, spell

ROOT = Path(__file__).resolve().parents[1]
SHORT_RUN = ["--horizon", "12", "--folds", "2", "--model", "naive", "--no-audit"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = cli.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def usage_error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """Run a command refused by the argument parser; return its stderr."""
    with pytest.raises(SystemExit) as exit_info:
        cli.main(list(argv))
    assert exit_info.value.code == 2
    return capsys.readouterr().err


def assert_one_line_error(status: int, err: str, *fragments: str) -> None:
    assert status == 2
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def monthly(path: Path, n: int, *, start: str = "2000-01-01") -> Path:
    times = pd.date_range(start, periods=n, freq="MS")
    pd.DataFrame({"ds": times, "y": 10 + np.arange(n) % 12 + np.arange(n) / 10}).to_csv(path, index=False)
    return path


# --- models and data shapes -----------------------------------------------------------------------


def test_forecast_accepts_a_comma_list_of_models(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "f.csv"
    status, stdout, err = run(
        capsys, "forecast", "air_passengers", "--horizon", "3", "--model", "sgd,ets", "--epochs", "2", "--out", str(out)
    )
    assert status == 0, err
    forecast = pd.read_csv(out)
    assert list(forecast.columns) == ["unique_id", "ds", "model", "y_hat"]
    assert forecast.groupby("model").size().to_dict() == {"ets": 3, "sgd": 3}
    assert str(out) in stdout


def test_a_29_month_series_backtests_with_the_too_short_fold_left_out(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    csv = monthly(tmp_path / "m29.csv", 29)
    out = tmp_path / "o"
    status, stdout, err = run(
        capsys,
        "backtest",
        str(csv),
        "--horizon",
        "6",
        "--folds",
        "3",
        "--model",
        "naive",
        "--no-audit",
        "--out",
        str(out),
    )
    assert status == 0, err
    forecasts = pd.read_csv(out / "forecasts.csv")
    assert set(forecasts.loc[forecasts["model"] == "seasonal_naive", "fold"]) == {1, 2}  # fold 0 trains on 11 months
    assert set(forecasts.loc[forecasts["model"] == "naive", "fold"]) == {0, 1, 2}
    assert "1 series left out of a fold" in stdout


def test_a_handover_panel_backtests(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    old = pd.DataFrame({"unique_id": "old", "ds": pd.date_range("2000-01-01", periods=96, freq="MS")})
    new = pd.DataFrame({"unique_id": "new", "ds": pd.date_range("2008-01-01", periods=24, freq="MS")})
    panel = pd.concat([old, new], ignore_index=True)
    panel["y"] = 10.0 + np.arange(len(panel)) % 12
    csv = tmp_path / "handover.csv"
    panel.to_csv(csv, index=False)
    args = ["--horizon", "6", "--folds", "4", "--model", "naive", "--no-audit", "--out", str(tmp_path / "o")]
    status, _, err = run(capsys, "backtest", str(csv), *args)
    assert status == 0, err


# --- outputs validated before any work ------------------------------------------------------------


def test_out_that_is_a_file_is_refused_even_with_force(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "results"
    out.write_text("mine")
    status, _, err = run(capsys, "backtest", "air_passengers", *SHORT_RUN, "--out", str(out), "--force")
    assert_one_line_error(status, err, "--out", "is a file, not a directory", "Choose a directory for --out")
    assert out.read_text() == "mine"


def test_out_below_a_file_is_refused_before_the_data_are_read(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    blocker = tmp_path / "file.txt"
    blocker.write_text("mine")
    out = blocker / "results"
    status, _, err = run(capsys, "backtest", str(tmp_path / "missing.csv"), *SHORT_RUN, "--out", str(out))
    assert_one_line_error(status, err, "--out", "which is a file")  # not "missing.csv does not exist": checked first
    assert blocker.read_text() == "mine"


def test_unwritable_out_is_refused_before_the_data_are_read(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    if os.geteuid() == 0:
        out = Path("/sys/tsforecast-results")  # sysfs refuses new directories even to root
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        out = locked / "results"
    status, _, err = run(capsys, "backtest", str(tmp_path / "missing.csv"), *SHORT_RUN, "--out", str(out))
    assert_one_line_error(status, err, "--out", "cannot be written", "Choose a writable --out")
    assert not out.exists()


def test_checkpoint_that_is_a_file_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    checkpoint = tmp_path / "ckpt"
    checkpoint.write_text("mine")
    out = tmp_path / "o"
    status, _, err = run(
        capsys, "backtest", "air_passengers", *SHORT_RUN, "--checkpoint", str(checkpoint), "--out", str(out)
    )
    assert_one_line_error(status, err, "--checkpoint", "is a file, not a directory")
    assert checkpoint.read_text() == "mine"
    assert not out.exists()


def test_zero_jobs_is_a_usage_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    err = usage_error(
        capsys, "backtest", "air_passengers", *SHORT_RUN, "--engine", "joblib", "--jobs", "0", "--out", "o"
    )
    assert err.strip().splitlines() == [
        "tsforecast backtest: error: argument --jobs: expected a positive number of workers, or -1 for all cores, "
        "got '0' (see tsforecast backtest --help)"
    ]


def test_jobs_without_a_parallel_engine_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, _, err = run(capsys, "backtest", "air_passengers", *SHORT_RUN, "--jobs", "4", "--out", str(tmp_path / "o"))
    assert_one_line_error(status, err, "--jobs 4 has no effect with the serial engine", "Add --engine joblib")
    assert not (tmp_path / "o").exists()


def test_forecast_future_naming_a_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    args = ["--horizon", "3", "--model", "naive", "--future", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "f")]
    status, _, err = run(capsys, "forecast", "air_passengers", *args)
    assert err == (
        f"tsforecast forecast: error: --future {str(tmp_path / 'nope.csv')!r} does not exist. "
        "Pass the file of known-future values for the horizon.\n"
    )
    assert status == 2
    assert not (tmp_path / "f").exists()


def test_forecast_future_naming_a_directory(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    args = ["--horizon", "3", "--model", "naive", "--future", str(tmp_path), "--out", str(tmp_path / "f.csv")]
    status, _, err = run(capsys, "forecast", "air_passengers", *args)
    assert_one_line_error(status, err, f"--future {str(tmp_path)!r} is a directory, not a file.")


@pytest.mark.parametrize("command", ["backtest", "forecast"])
@pytest.mark.parametrize(
    ("name", "problem"), [("nope.csv", "does not exist"), ("folder", "is a directory, not a file")]
)
def test_data_naming_no_file_is_refused_before_it_is_read(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str, name: str, problem: str
) -> None:
    (tmp_path / "folder").mkdir()
    data_path = tmp_path / name
    out = tmp_path / ("o" if command == "backtest" else "f.csv")
    status, _, err = run(capsys, command, str(data_path), "--horizon", "3", "--model", "naive", "--out", str(out))
    assert status == 2
    assert err == (
        f"tsforecast {command}: error: DATA {str(data_path)!r} {problem}. Pass a CSV or Parquet file, "
        "or the name of a shipped dataset (see `tsforecast datasets`).\n"
    )


def test_forecast_out_naming_a_directory(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, _, err = run(
        capsys, "forecast", "air_passengers", "--horizon", "3", "--model", "naive", "--out", str(tmp_path)
    )
    assert_one_line_error(status, err, "--out", "is a directory", "forecast.csv")


def test_forecast_out_is_replaced_only_with_force(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "f.csv"
    out.write_text("mine")
    args = ["forecast", "air_passengers", "--horizon", "3", "--model", "naive", "--out", str(out)]
    status, _, err = run(capsys, *args)
    assert_one_line_error(status, err, "already exists", "--force")
    assert out.read_text() == "mine"
    assert run(capsys, *args, "--force")[0] == 0
    assert len(pd.read_csv(out)) == 3


def test_forecast_never_writes_over_its_input(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    csv = monthly(tmp_path / "m.csv", 60)
    before = digest(csv)
    status, _, err = run(
        capsys, "forecast", str(csv), "--horizon", "3", "--model", "naive", "--out", str(csv), "--force"
    )
    assert_one_line_error(status, err, "--out would overwrite the input file", "Choose another --out")
    assert digest(csv) == before


def test_backtest_never_writes_over_its_input(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    csv = monthly(tmp_path / "forecasts.csv", 60)
    before = digest(csv)
    status, _, err = run(capsys, "backtest", str(csv), *SHORT_RUN, "--out", str(tmp_path), "--force")
    assert_one_line_error(status, err, "--out would overwrite the input file")
    assert digest(csv) == before


def test_a_model_setting_no_chosen_model_has_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, _, err = run(capsys, "backtest", "air_passengers", *SHORT_RUN, "--lookback", "24", "--out", str(tmp_path))
    assert_one_line_error(status, err, "--lookback is a setting of the sgd model", "Add sgd to --model")


def test_an_empty_model_list_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, _, err = run(capsys, "forecast", "air_passengers", "--horizon", "3", "--model", ",", "--out", "f.csv")
    assert_one_line_error(status, err, "names no model")


def test_an_os_error_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full_disk(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device", "forecasts.csv")

    monkeypatch.setattr(pd.DataFrame, "to_csv", full_disk)
    status, _, err = run(capsys, "backtest", "air_passengers", *SHORT_RUN, "--out", str(tmp_path / "o"))
    assert_one_line_error(status, err, "error: No space left on device: 'forecasts.csv'")


def test_interrupt_exits_130_with_one_line(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupt(args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_load", interrupt)
    status, _, err = run(capsys, "forecast", "air_passengers", "--horizon", "3", "--out", "never.csv")
    assert status == 130
    assert err == "tsforecast forecast: interrupted\n"


# --- the user's vocabulary ------------------------------------------------------------------------


def test_messages_raised_under_the_cli_name_flags(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise DataError(f"Name the column with {spell('time_col')}; fold count: {spell('n_splits')}.")

    monkeypatch.setattr(loaders, "load_csv", refuse)
    csv = monthly(tmp_path / "m.csv", 60)
    status, _, err = run(capsys, "backtest", str(csv), *SHORT_RUN, "--out", str(tmp_path / "o"))
    assert_one_line_error(status, err, "Name the column with --time-col; fold count: --folds.")
    with pytest.raises(DataError, match="Name the column with time_col=; fold count: n_splits="):
        refuse()


def _missing_column(tmp_path: Path) -> list[str]:
    return ["backtest", str(monthly(tmp_path / "m.csv", 60)), "--target-col", "sales"]


def _gap(tmp_path: Path) -> list[str]:
    csv = monthly(tmp_path / "m.csv", 60)
    pd.read_csv(csv).drop(index=[30]).to_csv(csv, index=False)
    return ["backtest", str(csv)]


def _too_few(tmp_path: Path) -> list[str]:
    return ["backtest", str(monthly(tmp_path / "m.csv", 30)), "--folds", "5"]


def _short_for_sgd(tmp_path: Path) -> list[str]:
    return ["forecast", str(monthly(tmp_path / "m.csv", 20)), "--model", "sgd", "--epochs", "1"]


@pytest.mark.parametrize(
    ("case", "flag", "api"),
    [
        (_missing_column, "--time-col", "time_col="),
        (_gap, "--fill", "fill="),
        (_too_few, "--folds", "n_splits"),
        (_short_for_sgd, "--lookback", "lookback or"),
    ],
)
def test_api_messages_name_flags_end_to_end(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    case,
    flag: str,
    api: str,  # type: ignore[no-untyped-def]
) -> None:
    argv = case(tmp_path)
    extra = ["--model", "naive", "--no-audit"] if argv[0] == "backtest" and "--model" not in argv else []
    status, _, err = run(capsys, *argv, *extra, "--horizon", "12", "--out", str(tmp_path / "o"))
    assert_one_line_error(status, err, flag)
    assert api not in err


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (
            ["--model", "sgd", "--epochs", "1", "--seed", "-1"],
            "--seed must be an int in the range [0, inf). Got -1 instead.",
        ),
        (
            ["--model", "naive", "--window", "sliding"],
            "--window 'sliding' needs --train-size, the length of the training window.",
        ),
        (
            ["--model", "naive", "--train-size", "24"],
            "--train-size 24 is only used with --window 'sliding'; drop it, or set --window 'sliding'.",
        ),
    ],
)
def test_parameter_messages_name_the_flag_not_the_python_keyword(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, flags: list[str], message: str
) -> None:
    argv = ["air_passengers", "--horizon", "12", "--folds", "2", "--no-audit", *flags, "--out", str(tmp_path / "o")]
    status, _, err = run(capsys, "backtest", *argv)
    assert (status, err) == (2, f"tsforecast backtest: error: {message}\n")


def test_fill_inserts_missing_timestamps(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    argv = _gap(tmp_path)
    out = tmp_path / "o"
    status, _, err = run(capsys, *argv, *SHORT_RUN, "--fill", "ffill", "--out", str(out))
    assert status == 0, err
    assert (out / "forecasts.csv").exists()


def test_date_format_reaches_the_loader_only_when_given(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[dict[str, object]] = []
    real = loaders.load_csv

    def recording(path: Path, **kwargs: object) -> pd.DataFrame:
        seen.append(dict(kwargs))
        return real(path, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(loaders, "load_csv", recording)
    csv = monthly(tmp_path / "m.csv", 60)
    assert run(capsys, "backtest", str(csv), *SHORT_RUN, "--out", str(tmp_path / "a"))[0] == 0
    assert "date_format" not in seen[-1]
    assert (
        run(capsys, "backtest", str(csv), *SHORT_RUN, "--date-format", "%Y-%m-%d", "--out", str(tmp_path / "b"))[0] == 0
    )
    assert seen[-1]["date_format"] == "%Y-%m-%d"


def test_forecast_keeps_the_users_column_names(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    frame = tsf.load_dataset("uk_lung_deaths").rename(columns={"unique_id": "store", "ds": "date", "y": "units"})
    csv = tmp_path / "sales.csv"
    frame.to_csv(csv, index=False)
    out = tmp_path / "f.csv"
    args = ["--id-col", "store", "--time-col", "date", "--target-col", "units", "--horizon", "2", "--model", "naive"]
    status, _, err = run(capsys, "forecast", str(csv), *args, "--out", str(out))
    assert status == 0, err
    assert list(pd.read_csv(out).columns) == ["store", "date", "model", "y_hat"]


# --- the terminal ---------------------------------------------------------------------------------


def test_quiet_prints_nothing_on_success(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, out, err = run(capsys, "backtest", "air_passengers", *SHORT_RUN, "--out", str(tmp_path / "o"), "-q")
    assert (status, out, err) == (0, "", "")


def test_without_a_terminal_the_summary_prints_and_no_progress(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    status, out, err = run(capsys, "backtest", "air_passengers", *SHORT_RUN, "--out", str(tmp_path / "o"))
    assert status == 0
    assert err == ""
    assert "leakage audit not run (--no-audit)" in out
    assert str(tmp_path / "o" / "report.html") in out


def test_a_terminal_sees_every_phase(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    args = ["--horizon", "12", "--folds", "2", "--model", "naive", "--out", str(tmp_path / "o")]
    status, _, err = run(capsys, "backtest", "air_passengers", *args)
    assert status == 0
    assert "tsforecast backtest: backtest of 2 models over 2 folds" in err
    assert "leakage audit: rerunning" not in err  # the backtest audits itself, on the same plan
    assert f"tsforecast backtest: writing results to {tmp_path / 'o'}" in err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out == f"tsforecast {tsf.__version__}\n"


def _loads_torch(code: str) -> bool:
    done = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys; print('torch' in sys.modules)"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=120,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1] == "True"


LIGHT_COMMANDS = [["--help"], ["--version"], ["backtest", "--help"], ["forecast", "--help"], ["datasets"]]


def _run_cli(argv: list[str]) -> str:
    return f"from tsforecast.cli import main\ntry:\n    main({argv!r})\nexcept SystemExit:\n    pass"


@pytest.mark.parametrize("argv", LIGHT_COMMANDS)
def test_help_version_and_datasets_do_not_import_torch(argv: list[str]) -> None:
    assert not _loads_torch(_run_cli(argv))


@pytest.mark.parametrize("argv", LIGHT_COMMANDS)
def test_the_cli_itself_imports_no_torch_for_light_commands(argv: list[str]) -> None:
    # The package's __init__ is bypassed (an empty package object stands in for it), so this checks
    # the imports of cli.py and of what its light commands use, whatever __init__ imports.
    init = ROOT / "tsforecast" / "__init__.py"
    bypass = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('tsforecast', {str(init)!r})\n"
        "package = importlib.util.module_from_spec(spec)  # created, never executed\n"
        f"package.__version__ = {tsf.__version__!r}; sys.modules['tsforecast'] = package\n"
    )
    assert not _loads_torch(bypass + _run_cli(argv))


HEAVY = {"pandas", "sklearn", "scipy", "torch"}


def _imported(argv: list[str], cwd: Path) -> tuple[int, str, set[str]]:
    """Run ``python -X importtime -m tsforecast ARGV``; return its status, stderr and the top-level modules imported."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "tsforecast", *argv],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=120,
    )
    timings = [line for line in done.stderr.splitlines() if line.startswith("import time:")]
    modules = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in timings}
    messages = "\n".join(line for line in done.stderr.splitlines() if not line.startswith("import time:"))
    return done.returncode, messages, modules


def _quick_answers(tmp_path: Path) -> dict[str, tuple[list[str], int, str]]:
    """Commands answered before pandas loads: argv, exit status and a fragment of the answer."""
    blocker = tmp_path / "file.txt"
    out = ["--out", str(tmp_path / "o")]
    return {
        "help": (["--help"], 0, ""),
        "version": (["--version"], 0, ""),
        "backtest help": (["backtest", "--help"], 0, ""),
        "forecast help": (["forecast", "--help"], 0, ""),
        "no command": ([], 2, "the following arguments are required: command"),
        "missing argument": (["backtest", "air_passengers"], 2, "the following arguments are required"),
        "missing DATA file": (["backtest", "nope.csv", "--horizon", "3", *out], 2, "DATA 'nope.csv' does not exist"),
        "missing forecast DATA": (
            ["forecast", "nope.csv", "--horizon", "3", "--out", str(tmp_path / "f.csv")],
            2,
            "does not exist",
        ),
        "mistyped dataset": (
            ["backtest", "air_pasengers", "--horizon", "3", *out],
            2,
            "'air_pasengers' is neither a file nor a shipped dataset. Did you mean the dataset 'air_passengers'?",
        ),
        "missing --future": (
            ["forecast", "air_passengers", "--horizon", "3", "--future", "nope.csv", "--out", str(tmp_path / "f.csv")],
            2,
            "--future 'nope.csv' does not exist",
        ),
        "out below a file": (
            ["backtest", "air_passengers", "--horizon", "3", "--out", str(blocker / "o")],
            2,
            "which is a file",
        ),
        "checkpoint is a file": (
            ["backtest", "air_passengers", "--horizon", "3", "--checkpoint", str(tmp_path / "ckpt"), *out],
            2,
            "is a file, not a directory",
        ),
        "bad flag value": (["backtest", "air_passengers", "--horizon", "twelve", *out], 2, "expected a positive"),
        "bad choice": (["backtest", "air_passengers", "--horizon", "3", "--window", "rolling", *out], 2, "invalid"),
        "jobs without an engine": (
            ["backtest", "air_passengers", "--horizon", "3", "--jobs", "2", *out],
            2,
            "--jobs 2",
        ),
        "fraction level": (
            ["backtest", "air_passengers", "--horizon", "3", "--level", "0.8", *out],
            2,
            "did you mean 80?",
        ),
        "bad level": (["forecast", "air_passengers", "--horizon", "3", "--level", "80,80", *out], 2, "repeats a level"),
    }


@pytest.mark.parametrize("case", sorted(_quick_answers(Path())))
def test_help_version_and_bad_arguments_answer_before_pandas_loads(tmp_path: Path, case: str) -> None:
    (tmp_path / "file.txt").write_text("mine")
    (tmp_path / "ckpt").write_text("mine")
    argv, expected_status, fragment = _quick_answers(tmp_path)[case]
    status, messages, modules = _imported(argv, tmp_path)
    assert status == expected_status, messages
    assert fragment in messages
    assert not modules & HEAVY, f"{case} imported {sorted(modules & HEAVY)}"


def _in_a_fresh_process(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True, timeout=120
    )
    return done.stdout.strip()


def test_importing_the_package_loads_nothing_heavy() -> None:
    loaded = "sorted({m.split('.')[0] for m in sys.modules} & {'numpy', 'pandas', 'sklearn', 'scipy', 'torch'})"
    code = f"import sys, tsforecast; print({loaded})"
    assert _in_a_fresh_process(code) == "[]"


def test_every_public_name_loads_on_first_access_and_dir_lists_them() -> None:
    for name in tsf.__all__:
        assert getattr(tsf, name) is getattr(importlib.import_module(f"tsforecast.{tsf._LAZY[name]}"), name)
    assert set(tsf._LAZY) == set(tsf.__all__)
    assert set(tsf.__all__) <= set(dir(tsf))
    assert {"__version__", "__all__"} <= set(dir(tsf))


@pytest.mark.parametrize(
    "first",
    ["from tsforecast.backtest import BacktestResult", "import tsforecast.backtest", "tsf.BacktestResult"],
)
def test_the_report_is_wired_and_backtest_is_the_function_however_the_backtest_loads(first: str) -> None:
    code = (
        f"import tsforecast as tsf\n{first}\n"
        "from tsforecast.backtest import BacktestResult, backtest\n"
        "print(tsf.backtest is backtest, BacktestResult._write_report is tsf._write_report)"
    )
    assert _in_a_fresh_process(code) == "True True"


def test_a_saved_result_has_its_report_when_the_backtest_module_is_imported_directly(tmp_path: Path) -> None:
    code = (
        "from tsforecast.backtest import backtest\n"
        "from tsforecast.loaders import load_dataset\n"
        "from tsforecast.split import WalkForward\n"
        "result = backtest('naive', load_dataset('air_passengers'), WalkForward(2, 12), baselines=())\n"
        f"print(sorted(p.name for p in result.save({str(tmp_path / 'o')!r}).iterdir()))"
    )
    assert _in_a_fresh_process(code) == "['forecasts.csv', 'metrics.csv', 'report.html', 'summary.json']"


# --- prediction intervals -------------------------------------------------------------------------


def test_backtest_with_level_scores_and_audits_the_bands(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "o"
    argv = ["--horizon", "12", "--folds", "2", "--model", "seasonal_naive", "--level", "80,95"]
    status, stdout, err = run(capsys, "backtest", "air_passengers", *argv, "--out", str(out))
    assert status == 0, err
    assert "coverage_80" in stdout
    assert "coverage_95" in stdout
    assert "leakage audit passed" in stdout
    forecasts = pd.read_csv(out / "forecasts.csv")
    assert {"y_lo_80", "y_hi_80", "y_lo_95", "y_hi_95"} <= set(forecasts.columns)
    assert {"coverage_80", "width_80", "msis_80", "msis_95"} <= set(pd.read_csv(out / "metrics.csv").columns)


def test_forecast_with_level_and_the_native_method_writes_the_bands(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "f.csv"
    argv = ["--horizon", "3", "--model", "ets", "--level", "95,80", "--interval-method", "native"]
    status, _, err = run(capsys, "forecast", "air_passengers", *argv, "--out", str(out))
    assert status == 0, err
    forecast = pd.read_csv(out)
    assert list(forecast.columns) == ["unique_id", "ds", "model", "y_hat", "y_lo_80", "y_hi_80", "y_lo_95", "y_hi_95"]
    assert (forecast["y_lo_95"] < forecast["y_lo_80"]).all()


REMEDY = "Pass coverage percentages such as --level 80,95."


@pytest.mark.parametrize(
    ("level", "message"),
    [
        ("0.8", f"--level 0.8 is a fraction, but levels are coverage percentages: did you mean 80? {REMEDY}"),
        ("80,0.95", f"--level 0.95 is a fraction, but levels are coverage percentages: did you mean 95? {REMEDY}"),
        ("150", f"--level 150 is not strictly between 0 and 100. {REMEDY}"),
        ("0", f"--level 0 is not strictly between 0 and 100. {REMEDY}"),
        ("100", f"--level 100 is not strictly between 0 and 100. {REMEDY}"),
        ("80,nan", f"--level nan is not strictly between 0 and 100. {REMEDY}"),
        ("80,80", f"--level 80,80 repeats a level. {REMEDY}"),
        ("80,80.0", f"--level 80,80.0 repeats a level. {REMEDY}"),
        (
            "99.99999",
            "--level 99.99999 has more than 6 significant digits, which the band columns (y_lo_<level>) cannot "
            "name apart. Round it, e.g. to 100.",
        ),
    ],
)
@pytest.mark.parametrize("command", ["backtest", "forecast"])
def test_a_bad_level_is_a_usage_error_before_any_work(
    capsys: pytest.CaptureFixture[str], command: str, level: str, message: str
) -> None:
    # no DATA, no --out: the level is refused as it is parsed, before anything else is looked at
    err = usage_error(capsys, command, "no_such_dataset", "--level", level)
    assert err == f"tsforecast {command}: error: {message} (see tsforecast {command} --help)\n"


@pytest.mark.parametrize("command", ["backtest", "forecast"])
def test_interval_method_without_level_is_refused_before_any_work(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str
) -> None:
    out = tmp_path / ("o" if command == "backtest" else "f.csv")
    argv = [command, "no_such_dataset", "--horizon", "3", "--interval-method", "native", "--out", str(out)]
    status, _, err = run(capsys, *argv)
    assert_one_line_error(status, err, "--interval-method native has no effect without --level")


@pytest.mark.parametrize("command", ["backtest", "forecast"])
def test_the_levels_reach_the_work_checked_and_ascending(command: str) -> None:
    args = cli.build_parser().parse_args(
        [command, "air_passengers", "--horizon", "3", "--level", "95,80", "--out", "x"]
    )
    assert args.level == (80.0, 95.0)
    assert cli._intervals(args) == {"level": (80.0, 95.0), "interval_method": "conformal"}


def test_a_level_that_is_not_a_number_is_a_usage_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    err = usage_error(capsys, "forecast", "air_passengers", "--horizon", "3", "--level", "80,x", "--out", "f.csv")
    assert "argument --level: expected comma-separated percentages such as 80,95, got '80,x'" in err
    assert len(err.strip().splitlines()) == 1


def test_a_native_backtest_bands_every_model_with_its_own_intervals(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    argv = ["--horizon", "12", "--folds", "2", "--model", "ets", "--level", "80", "--interval-method", "native"]
    status, stdout, err = run(capsys, "backtest", "air_passengers", *argv, "--no-audit", "--out", str(tmp_path / "o"))
    assert status == 0, err
    assert "note: baselines left out" not in stdout  # naive and seasonal naive have native (normal) bands
    forecasts = pd.read_csv(tmp_path / "o" / "forecasts.csv")
    assert set(forecasts["model"]) == {"ets", "naive", "seasonal_naive"}
    assert (forecasts["y_lo_80"] <= forecasts["y_hat"]).all()


def test_a_native_backtest_of_a_model_without_native_intervals_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    argv = ["--horizon", "12", "--model", "ets,mean", "--level", "80", "--interval-method", "native"]
    status, _, err = run(capsys, "backtest", "air_passengers", *argv, "--out", str(tmp_path / "o"))
    assert_one_line_error(status, err, "--interval-method native needs each model's own intervals, and mean has none")


def test_a_backtest_in_which_nothing_can_be_forecast_writes_nothing_and_says_why(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    argv = ["--horizon", "12", "--folds", "2", "--model", "naive", "--window", "sliding", "--train-size", "1"]
    status, _, err = run(capsys, "backtest", "air_passengers", *argv, "--out", str(tmp_path / "o"))
    assert_one_line_error(status, err, "No model forecast any series in any fold: too short for the model (1 row")
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


def test_a_level_no_calibration_can_reach_is_refused_before_any_fit(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    argv = ["--horizon", "12", "--folds", "2", "--model", "ets", "--level", "99.9999"]
    status, _, err = run(capsys, "backtest", "air_passengers", *argv, "--out", str(tmp_path / "o"))
    assert_one_line_error(status, err, "--level 99.9999 needs at least 999,999 calibration residuals per horizon step")
