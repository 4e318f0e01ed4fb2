"""Smoke tests of ``tsforecast datasets``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tsforecast.cli import main
from tsforecast.shipped import dataset_info, list_datasets

ROOT = Path(__file__).resolve().parents[1]


def test_datasets_command_lists_every_dataset(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["datasets"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["name", "freq", "season"]
    rows = {line.split()[0]: line.split() for line in lines[1:] if line.strip()}
    assert sorted(rows) == list_datasets()
    for name, row in rows.items():
        info = dataset_info(name)
        assert row[1] == info.freq
        assert int(row[2]) == info.season


def test_python_dash_m_tsforecast_datasets_exits_zero() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tsforecast", "datasets"], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert result.returncode == 0, result.stderr
    for name in list_datasets():
        assert name in result.stdout


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit, match="2"):
        main(["no-such-command"])
    assert "invalid choice" in capsys.readouterr().err
