"""``newretail serve``: the API and console under uvicorn (uvloop, httptools).

The embedded event log takes one writer process, so more than one worker needs Redis.
"""

from __future__ import annotations

from typing import Annotated

import typer

from newretail.cli.errors import reports_errors
from newretail.config import get_settings
from newretail.errors import InvalidInput
from newretail.oltp import check_current, engine_from_settings


@reports_errors
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Server processes.")] = 1,
    backlog: Annotated[
        int,
        typer.Option(
            "--backlog",
            min=1,
            help="Connections waiting to be accepted (the kernel caps it at net.core.somaxconn).",
        ),
    ] = 2048,
) -> None:
    """Serve the HTTP API (and the console) until interrupted."""
    import uvicorn

    settings = get_settings()
    if workers > 1 and not settings.redis_url:
        raise InvalidInput(
            "serve.workers_need_redis",
            f"--workers {workers} needs NEWRETAIL_REDIS_URL: the embedded event log has one"
            " writer process (run one worker, or point NEWRETAIL_REDIS_URL at a Redis)",
            field="--workers",
        )
    engine = engine_from_settings(settings)
    try:
        check_current(engine)  # one clear line now, rather than a failed worker startup later
    finally:
        engine.dispose()
    uvicorn.run(
        "newretail.api:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        backlog=backlog,
        loop="uvloop",
        http="httptools",
        access_log=False,
        # No API route reads the peer address rewritten from X-Forwarded-For; the flash-sale route
        # reads that header itself. Rewriting it costs a parse of the address on every request.
        proxy_headers=False,
        log_level="info",
    )
