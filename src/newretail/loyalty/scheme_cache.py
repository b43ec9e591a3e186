"""The schemes checkout looks a channel's scheme up in on every order, parsed once and kept in this
process for a few seconds (:mod:`newretail.oltp.read_cache`).

How stale: a scheme created or changed by this process (``create_scheme``, ``update_scheme``) shows
at once; one changed by another process (the CLI, another API worker) shows at most
:data:`~newretail.oltp.read_cache.TTL` later, so for that long orders may still be priced and earn
points under its old rules.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection

from newretail.loyalty.schemes import Scheme, active_free_schemes, channel_scheme
from newretail.oltp.read_cache import ReadCache
from newretail.oltp.tables import loyalty_schemes

_FREE: ReadCache[str, tuple[Scheme, ...]] = ReadCache([loyalty_schemes.name])


def cached_scheme_for_channel(
    conn: Connection, channel: str, *, currency: str, now: dt.datetime
) -> Scheme | None:
    """:func:`~newretail.loyalty.schemes.scheme_for_channel`, from the cache."""
    schemes = _FREE.get(
        conn,
        currency,
        now=now,
        load=lambda conn, currency: tuple(active_free_schemes(conn, currency)),
    )
    return channel_scheme(schemes or (), channel)
