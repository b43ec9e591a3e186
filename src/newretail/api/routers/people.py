"""A person's real-time activity from the stream's counters: last seen and events on a UTC day."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Path, Query

from newretail.api.deps import CurrentPrincipal, Now, RuntimeDep
from newretail.api.models import ActivityPublic
from newretail.security import Permission

router = APIRouter(prefix="/api/v1/people", tags=["people"])

PersonId = Annotated[
    str, Path(min_length=1, max_length=256, description="The user id, or the anonymous id.")
]


@router.get("/{person_id}/activity")
def read_activity(
    person_id: PersonId,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    now: Now,
    day: Annotated[dt.date | None, Query(description="UTC day to count; today if absent.")] = None,
) -> ActivityPublic:
    """When the person was last seen and how many events they sent on ``day`` (UTC)."""
    principal.require(Permission.CUSTOMERS_READ)
    on = day or now.astimezone(dt.UTC).date()
    activity = runtime.stores.counters.activity(person_id, day=on)
    return ActivityPublic(
        person_id=person_id,
        day=on,
        last_seen=activity.last_seen,
        events_on_day=activity.events_on_day,
    )
