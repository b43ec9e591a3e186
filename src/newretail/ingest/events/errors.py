"""Why an intake request was refused: one error per request, a stable code, the field and position."""

from __future__ import annotations

from newretail.errors import InvalidInput

# Stable codes; clients and tests match on them.
MALFORMED_JSON = "events.malformed_json"
UNSUPPORTED_ENCODING = "events.unsupported_encoding"
EVENT_TOO_LARGE = "events.event_too_large"
BATCH_TOO_LARGE = "events.batch_too_large"
UNKNOWN_TYPE = "events.unknown_type"
TYPE_MISMATCH = "events.type_mismatch"
MISSING_IDENTITY = "events.missing_identity"
MISSING_FIELD = "events.missing_field"
INVALID_FIELD = "events.invalid_field"
INVALID_TIMESTAMP = "events.invalid_timestamp"


class EventRejected(InvalidInput):
    """The request was refused as a whole and nothing from it was kept.

    400, as Segment's HTTP API answers oversized and malformed requests.
    """

    http_status = 400
