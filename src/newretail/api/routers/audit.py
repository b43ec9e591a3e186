"""The audit log (``audit.read``): filter by actor, action and time; newest first, paginated."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from newretail.api.deps import CurrentPrincipal, DbConn
from newretail.api.models import AuditEntryPublic, AuditPublic
from newretail.api.pagination import Page
from newretail.security import list_audit

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


@router.get("")
def read_audit(
    conn: DbConn,
    principal: CurrentPrincipal,
    page: Page,
    actor: Annotated[str | None, Query(max_length=64, examples=["user:1"])] = None,
    action: Annotated[str | None, Query(max_length=64, examples=["user.created"])] = None,
    since: Annotated[AwareDatetime | None, Query(description="Inclusive.")] = None,
    until: Annotated[AwareDatetime | None, Query(description="Exclusive.")] = None,
) -> AuditPublic:
    found = list_audit(
        conn,
        principal,
        actor=actor,
        action=action,
        since=since,
        until=until,
        limit=page.limit,
        offset=page.offset,
    )
    return AuditPublic(
        data=[AuditEntryPublic.model_validate(e) for e in found.data], count=found.count
    )
