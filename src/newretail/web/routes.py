"""The console's router (everything under ``/console``) and its static files."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from newretail.web import (
    audiences,
    audit,
    auth,
    coupons,
    customers,
    flashsales,
    loyalty,
    overview,
    person_tags,
    review,
    service,
    service_actions,
    store_selection,
    supplier,
    supply,
    supply_alerts,
    supply_forecast,
    supply_health,
    supply_simulation,
    tags,
)

STATIC_PATH = "/console/static"
STATIC_NAME = "console-static"

router = APIRouter(prefix="/console", include_in_schema=False)
router.include_router(auth.router)
router.include_router(overview.router)
router.include_router(customers.router)
router.include_router(person_tags.router)
router.include_router(review.router)
router.include_router(tags.router)
router.include_router(audiences.router)
router.include_router(store_selection.router)
router.include_router(flashsales.router)
router.include_router(audit.router)
router.include_router(loyalty.router)
router.include_router(coupons.router)
router.include_router(service.router)
router.include_router(service_actions.router)
router.include_router(supply.router)
router.include_router(supply_alerts.router)
router.include_router(supply_forecast.router)
router.include_router(supply_simulation.router)
router.include_router(supply_health.router)
router.include_router(supplier.router)


def mount_static(app: FastAPI) -> None:
    """Serve the console's CSS, JS and vendored ECharts/htmx from the package (works offline)."""
    app.mount(
        STATIC_PATH, StaticFiles(directory=Path(__file__).parent / "static"), name=STATIC_NAME
    )
