"""The web console: server-rendered pages (Jinja2 + htmx, ECharts bundled) under ``/console``.

>>> from fastapi import FastAPI
>>> app = FastAPI()
>>> app.include_router(router)
>>> mount_static(app)
"""

from __future__ import annotations

from newretail.web.routes import mount_static, router

__all__ = ["mount_static", "router"]
