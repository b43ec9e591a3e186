"""DWS → ADS: serving tables shaped for one application each (boards, exports, APIs).

ADS tables are added by the features that serve them, as steps here; the build runs them after DWS.
"""

from __future__ import annotations

from newretail.lake.plan import Step

STEPS: tuple[Step, ...] = ()
