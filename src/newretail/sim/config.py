"""The generator's input: chain size, horizon and seed, validated before anything is written."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from newretail.errors import InvalidInput


@dataclass(frozen=True)
class SimConfig:
    """Size and horizon of the synthetic chain; the same config always gives the same bytes.

    >>> SimConfig(members=500, stores=5, days=21, seed=1, start=dt.date(2026, 1, 1)).end
    datetime.date(2026, 1, 21)
    """

    members: int = 20_000
    stores: int = 40
    days: int = 180
    seed: int = 7
    start: dt.date = dt.date(2026, 1, 1)

    @property
    def end(self) -> dt.date:
        """The last simulated day (inclusive)."""
        return self.start + dt.timedelta(days=self.days - 1)

    def validate(self) -> None:
        for name, minimum in (("members", 100), ("stores", 1), ("days", 7)):
            if getattr(self, name) < minimum:
                raise InvalidInput(
                    "sim.bad_config", f"{name} must be at least {minimum}", field=name
                )
        if self.seed < 0:
            raise InvalidInput("sim.bad_config", "seed must not be negative", field="seed")

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["start"] = self.start.isoformat()
        return data
