"""Helpers of the loading tests: small input frames, and the check that a frame is canonical."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd


def daily(n: int, start: str = "2020-01-01", **extra: Any) -> pd.DataFrame:
    """A daily series of ``n`` rows (``ds``, ``y`` = 0, 1, ...), with ``extra`` columns."""
    return pd.DataFrame({"ds": pd.date_range(start, periods=n, freq="D"), "y": np.arange(n, dtype=float), **extra})


def text_frame(times: list[str], **extra: Any) -> pd.DataFrame:
    """A series whose ``ds`` column holds ``times`` as text, with ``extra`` columns."""
    return pd.DataFrame({"ds": times, "y": np.arange(len(times), dtype=float), **extra})


def assert_canonical(out: pd.DataFrame, extras: Sequence[str] = ()) -> None:
    """Check that ``out`` is a canonical long frame whose columns after ``unique_id, ds, y`` are ``extras``."""
    assert list(out.columns) == ["unique_id", "ds", "y", *extras]
    assert pd.api.types.is_datetime64_any_dtype(out["ds"]) or out["ds"].dtype == np.int64
    assert out["y"].dtype == np.float64
    assert all(isinstance(u, str) for u in out["unique_id"])
    assert isinstance(out.index, pd.RangeIndex)
    assert out.index.start == 0
    expected = out.sort_values(["unique_id", "ds"], kind="stable").reset_index(drop=True)
    pd.testing.assert_frame_equal(out, expected)
    assert not out.duplicated(["unique_id", "ds"]).any()
    assert np.isfinite(out["y"]).all()
