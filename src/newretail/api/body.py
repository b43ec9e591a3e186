"""Reading an intake request's body without holding more than the limit: an over-long body is refused
as soon as it passes the limit, and nothing of it is kept."""

from __future__ import annotations

from fastapi import Request

from newretail.ingest.events import MAX_BATCH_BYTES, MAX_EVENT_BYTES, Endpoint, EventRejected
from newretail.ingest.events.errors import BATCH_TOO_LARGE, EVENT_TOO_LARGE

# Room for gzip's header and for JSON that compresses badly: the decompressed size is what counts,
# and accept() measures that; this only bounds what is buffered.
_SLACK = 4096


async def read_capped(request: Request, *, endpoint: Endpoint) -> bytes:
    """The raw body, or :class:`EventRejected` when it is over the endpoint's limit."""
    limit = (MAX_BATCH_BYTES if endpoint == "batch" else MAX_EVENT_BYTES) + _SLACK
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(endpoint, limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(endpoint, limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(endpoint: Endpoint, limit: int) -> EventRejected:
    code = BATCH_TOO_LARGE if endpoint == "batch" else EVENT_TOO_LARGE
    return EventRejected(code, f"request exceeds {limit - _SLACK} bytes", position="body")
