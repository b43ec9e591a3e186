"""Liveness: the one endpoint that needs no authentication."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

import newretail

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    version: str


@router.get("/health")
def health() -> Health:
    return Health(status="ok", version=newretail.__version__)
