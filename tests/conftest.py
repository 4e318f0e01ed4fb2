"""Shared test configuration: property tests are derandomized so every CI run checks the same examples."""

from __future__ import annotations

from hypothesis import settings

settings.register_profile("tsforecast", derandomize=True, deadline=None, database=None)
settings.load_profile("tsforecast")
