"""Forecasting models: the torch SGD forecaster and the baselines, behind one interface."""

from __future__ import annotations

from .base import Forecaster, LocalForecaster

__all__ = ["Forecaster", "LocalForecaster"]
