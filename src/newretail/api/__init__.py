"""The HTTP API: FastAPI routers over the domain services.

>>> app = create_app(get_settings())  # doctest: +SKIP
"""

from __future__ import annotations

from newretail.api.app import app_from_env, create_app

__all__ = ["app_from_env", "create_app"]
