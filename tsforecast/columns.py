"""The column names of the canonical long frame ``unique_id, ds, y``, and the ways to fill its gaps.

Every loader returns a frame with these three columns first (series id, timestamp, target), and
every module reads frames by these names. This module imports nothing, so any module, the command
line's early checks included, can name the columns without loading pandas.
"""

from __future__ import annotations

from typing import Literal

__all__ = ["ID", "TARGET", "TIME", "Fill"]

ID, TIME, TARGET = "unique_id", "ds", "y"
Fill = Literal["ffill", "zero"]
"""How missing timestamps are inserted: carrying the last value forward, or with a target of 0."""
