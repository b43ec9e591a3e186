"""From request bytes to raw message dicts: decompression, size limits, JSON, batch envelope.

Limits are Segment's, in bytes of the (decompressed) JSON: 32 KB per message, 500 KB per batch
request. A message inside a batch is measured as its compact JSON.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from typing import Any, Literal

from newretail.ingest.events import errors
from newretail.ingest.events.errors import EventRejected

MAX_EVENT_BYTES = 32 * 1024
MAX_BATCH_BYTES = 500 * 1024

Endpoint = Literal["identify", "track", "page", "screen", "group", "alias", "batch"]


@dataclass(frozen=True)
class RawRequest:
    """The messages of a request, each with where it was (``body`` or ``batch[i]``)."""

    messages: list[tuple[str, dict[str, Any]]]
    # Batch-level fields Segment applies to every message that lacks them.
    shared: dict[str, Any] = field(default_factory=dict)


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not valid JSON")


def _inflate(body: bytes, content_encoding: str | None, limit: int) -> bytes:
    encoding = (content_encoding or "identity").strip().lower()
    if encoding == "identity":
        return body
    if encoding != "gzip":
        raise EventRejected(
            errors.UNSUPPORTED_ENCODING, f"Content-Encoding {encoding!r} is not supported; use gzip"
        )
    inflater = zlib.decompressobj(wbits=31)
    try:
        # One byte past the limit is enough to know it is too large, without inflating a bomb.
        data = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise EventRejected(errors.MALFORMED_JSON, f"body is not valid gzip: {exc}") from None
    return data


def _load(data: bytes) -> dict[str, Any]:
    try:
        value = json.loads(data, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise EventRejected(
            errors.MALFORMED_JSON,
            f"body is not valid JSON: {exc.msg}",
            position=f"line {exc.lineno} column {exc.colno}",
        ) from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise EventRejected(errors.MALFORMED_JSON, f"body is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise EventRejected(errors.MALFORMED_JSON, "body must be a JSON object", position="body")
    return value


_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def compact_size(message: object) -> int:
    """Bytes of ``message`` as compact UTF-8 JSON."""
    text = _COMPACT.encode(message)
    return len(text) if text.isascii() else len(text.encode())


def _all_small(batch: list[Any]) -> bool:
    """Whether every item is an object and the whole batch, compact, is within one message's limit,
    so that no item can be over it: one measurement instead of one per item."""
    if not all(type(item) is dict for item in batch):
        return False
    try:
        return compact_size(batch) <= MAX_EVENT_BYTES
    except UnicodeEncodeError:  # a lone surrogate: the per-item loop fails where it always did
        return False


def read_body(body: bytes, *, endpoint: Endpoint, content_encoding: str | None) -> RawRequest:
    """Check sizes and JSON shape; raises :class:`EventRejected` naming the position."""
    limit = MAX_BATCH_BYTES if endpoint == "batch" else MAX_EVENT_BYTES
    data = _inflate(body, content_encoding, limit)
    if len(data) > limit:
        code = errors.BATCH_TOO_LARGE if endpoint == "batch" else errors.EVENT_TOO_LARGE
        raise EventRejected(code, f"request exceeds {limit} bytes", position="body")
    document = _load(data)
    if endpoint != "batch":
        return RawRequest(messages=[("body", document)])
    batch = document.pop("batch", None)
    if batch is None:
        raise EventRejected(errors.MISSING_FIELD, "batch is required", field="batch")
    if not isinstance(batch, list):
        raise EventRejected(errors.INVALID_FIELD, "batch must be a list", field="batch")
    if _all_small(batch):
        return RawRequest(
            messages=[(f"batch[{i}]", item) for i, item in enumerate(batch)], shared=document
        )
    messages: list[tuple[str, dict[str, Any]]] = []
    for index, item in enumerate(batch):
        position = f"batch[{index}]"
        if not isinstance(item, dict):
            raise EventRejected(
                errors.INVALID_FIELD, "each batch item must be an object", position=position
            )
        size = compact_size(item)
        if size > MAX_EVENT_BYTES:
            raise EventRejected(
                errors.EVENT_TOO_LARGE,
                f"message is {size} bytes, over {MAX_EVENT_BYTES}",
                position=position,
            )
        messages.append((position, item))
    return RawRequest(messages=messages, shared=document)
