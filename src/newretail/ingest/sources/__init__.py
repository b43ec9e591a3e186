"""Declarations of every source file kind the synthetic chain writes, one module per source system.

Each source system keeps its own style (names, encodings, time formats, money in yuan or fen);
the generator in ``newretail.sim`` writes exactly these columns.
"""

from __future__ import annotations

from newretail.ingest.mapping import SourceFile
from newretail.ingest.sources import (
    app,
    crm,
    eleme,
    erp,
    footfall,
    iot,
    meituan,
    mini_program,
    pos,
    qc,
    service,
    tmall,
    weather,
    wechat,
)
from newretail.ingest.sources.common import EVENT_FIELDS, IdentityExport, OrderExport

ORDER_EXPORTS: dict[str, OrderExport] = {
    m.ORDERS.source: m.ORDERS for m in (pos, app, mini_program, meituan, eleme, tmall)
}
IDENTITY_EXPORTS: dict[str, IdentityExport] = {
    e.source: e
    for e in (
        app.USERS,
        mini_program.USERS,
        wechat.FOLLOWERS,
        pos.MEMBERS,
        meituan.CUSTOMERS,
        eleme.CUSTOMERS,
        tmall.CUSTOMERS,
    )
}
SOURCE_FILES: tuple[SourceFile, ...] = (
    *erp.FILES,
    *pos.FILES,
    *app.FILES,
    *mini_program.FILES,
    *wechat.FILES,
    *meituan.FILES,
    *eleme.FILES,
    *tmall.FILES,
    *crm.FILES,
    *service.FILES,
    *footfall.FILES,
    *iot.FILES,
    *qc.FILES,
    *weather.FILES,
)

__all__ = ["EVENT_FIELDS", "IDENTITY_EXPORTS", "ORDER_EXPORTS", "SOURCE_FILES"]
