"""Who the caller is: role, store scope and permissions."""

from __future__ import annotations

from fastapi import APIRouter

from newretail.api.deps import CurrentPrincipal
from newretail.api.models import MePublic
from newretail.security import PERMISSIONS

router = APIRouter(prefix="/api/v1", tags=["me"])


@router.get("/me")
def read_me(principal: CurrentPrincipal) -> MePublic:
    return MePublic(
        actor=principal.actor,
        user_id=principal.user_id,
        role=principal.role,
        stores=sorted(principal.stores),
        permissions=sorted(PERMISSIONS[principal.role]),
        key_prefix=principal.key_prefix,
    )
