"""Rows produced by the stock simulation, collected per table as parallel arrays."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class DayLog:
    """Rows produced by the inventory simulation, as parallel arrays appended per day."""

    parts: dict[str, list[np.ndarray]] = field(default_factory=dict)

    def add(self, table: str, **columns: np.ndarray) -> None:
        for name, values in columns.items():
            self.parts.setdefault(f"{table}.{name}", []).append(np.asarray(values))

    def take(self, table: str) -> dict[str, np.ndarray]:
        prefix = f"{table}."
        out = {
            k[len(prefix) :]: np.concatenate(v)
            for k, v in self.parts.items()
            if k.startswith(prefix)
        }
        for key in [k for k in self.parts if k.startswith(prefix)]:
            del self.parts[key]
        return out
