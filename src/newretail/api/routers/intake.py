"""Segment-compatible event intake, ``/v1/{identify,track,page,screen,group,alias,batch}``: a write key
by HTTP Basic, 200 ``{"success": true}`` only once the events are durable.

A request is validated here, on the event loop, and committed by the runtime's
:class:`~newretail.api.committer.Committer` together with whatever other requests are waiting.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import get_args

from fastapi import APIRouter, Request, Response

from newretail.api.body import read_capped
from newretail.api.deps import CurrentSource, Now, RuntimeDep
from newretail.api.models import Accepted
from newretail.ingest.events import Endpoint, prepare

router = APIRouter(prefix="/v1", tags=["events"])

_SUCCESS = Accepted().model_dump_json().encode()
_PROBLEMS: dict[int | str, dict[str, object]] = {
    400: {"description": "Malformed, invalid or oversize; nothing was kept."},
    401: {"description": "No write key, or a wrong, revoked or expired one."},
    503: {"description": "The event stream is unavailable; retry later."},
}


def _handler(endpoint: Endpoint) -> Callable[..., Awaitable[Response]]:
    async def receive(
        request: Request, source: CurrentSource, runtime: RuntimeDep, now: Now
    ) -> Response:
        body = await read_capped(request, endpoint=endpoint)
        prepared = prepare(
            body,
            endpoint=endpoint,
            source=source.source,
            received_at=now,
            content_encoding=request.headers.get("content-encoding"),
        )
        await runtime.committer.commit(prepared)
        return Response(_SUCCESS, media_type="application/json")

    receive.__name__ = f"receive_{endpoint}"
    receive.__doc__ = f"Segment HTTP API `{endpoint}`: the body is a Segment {endpoint} message."
    return receive


for _endpoint in get_args(Endpoint):
    router.add_api_route(
        f"/{_endpoint}",
        _handler(_endpoint),
        methods=["POST"],
        response_model=Accepted,
        responses=_PROBLEMS,
        summary=f"Send {_endpoint} events",
    )
