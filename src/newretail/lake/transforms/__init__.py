"""The layered transforms, written once as Ibis expressions; :data:`STEPS` runs them in order."""

from __future__ import annotations

from newretail.lake.plan import Step
from newretail.lake.transforms import ads, dwd, dws

STEPS: tuple[Step, ...] = (*dwd.STEPS, *dws.STEPS, *ads.STEPS)
