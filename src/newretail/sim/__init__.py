"""The synthetic coffee chain ("digital twin"): source-system files plus the ground truth behind them."""

from __future__ import annotations

from newretail.sim.config import SimConfig
from newretail.sim.generate import GenerateReport, generate

__all__ = ["GenerateReport", "SimConfig", "generate"]
