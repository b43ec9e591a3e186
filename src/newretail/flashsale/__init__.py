"""Flash sales: atomic stock that never oversells, per-person limits, eligibility, expiry of unpaid
reservations, and orders in OLTP that reconcile with the stock taken.

The API, the CLI and the worker import from here; the modules behind these names are internal.

How the pieces fit::

    create_sale(conn, SaleDraft(...), now=...)          # OLTP: the sale, its items, its person list
    arm_sale(database, engine, sale_id, now=...)        # OLTP status armed; stock etc. into the engine
    engine.reserve(sale_id, sku=..., person_id=..., quantity=..., request_key=..., now=...)
        -> Reservation (id, expires_at, status, replayed) | Rejection (reason)
    engine.pay(reservation_id, now=...) -> Payment      # NotFound / Conflict when unknown / expired
    engine.expire_due(now=...) -> [reservation ids]     # the worker, every second
    engine.reservation(reservation_id) -> Reservation   # as it stands now
    close_sale(conn, engine, sale_id, now=...)          # end early: OLTP ends_at and the engine
    engine.counts(sale_id) -> SaleCounts                # the live page
    OrderWriter(engine.order_log, database, consumer=...).run(stop)   # orders into OLTP
    reconcile(conn, engine, sale_id) -> Reconciliation  # .ok, .differences

For the API layer:

- Open one engine per process with :func:`open_engine` (Redis when ``NEWRETAIL_REDIS_URL`` is set,
  else :class:`InProcessEngine` under NEWRETAIL_HOME/flashsale) and call :func:`restore_engine` at
  start-up, so a restarted in-process engine rebuilds its sales from its log. Close it with
  ``await engine.aclose()``.
- From async handlers call ``await engine.areserve(...)``: on Redis it is one EVALSHA on an async
  connection pool, the same script as :meth:`~FlashSaleEngine.reserve`; on the in-process engine
  it runs on a worker thread because it waits for an fsync.
- ``request_key`` is the client's Idempotency-Key (printable ASCII, up to 128 characters): a repeat
  with the same key returns the first reservation with ``replayed`` set, so a double click takes
  stock once. Keys are scoped to the person within the sale.
- A :class:`Rejection` is returned, not raised; ``rejection.error()`` is the typed error with the
  reason as its stable code (404 ``flashsale.unknown_sale``/``unknown_item``, 403
  ``flashsale.ineligible``, 409 ``flashsale.not_started``/``ended``/``limit_reached``/
  ``sold_out``). Malformed arguments raise :class:`~newretail.errors.InvalidInput`
  ``flashsale.bad_request`` (422) and touch nothing; an unreachable Redis raises
  :class:`~newretail.stream.StreamUnavailable` (503).
- The worker runs ``engine.expire_due(now=...)`` about every second and one or more
  :class:`OrderWriter` consumers (each with its own ``consumer`` name; a restarted or second writer
  claims what a dead one left pending). Trim the order log only on Redis: the in-process engine
  rebuilds its sales from its whole log.
- Before the engine, each attempt passes the sale's :class:`Gate` (open it with :func:`open_gate`):
  per-person and per-address rate limits and the waiting room, which answers ``Waiting`` (a
  ticket, a position and a Retry-After) instead of an error when more callers arrive than the sale
  admits. See :mod:`newretail.flashsale.gate`.
- Money is integer minor units plus currency. Times are aware datetimes passed in as ``now``; the
  engines never read the clock.
"""

from __future__ import annotations

from newretail.flashsale.engine import FlashSaleEngine
from newretail.flashsale.factory import open_engine, open_gate
from newretail.flashsale.gate import (
    ADMITTED,
    Admitted,
    Gate,
    GateFigures,
    GatePolicy,
    InProcessGate,
    Limited,
    Verdict,
    Waiting,
)
from newretail.flashsale.inprocess import InProcessEngine
from newretail.flashsale.reconcile import (
    ItemReconciliation,
    Reconciliation,
    orders_by_status,
    reconcile,
)
from newretail.flashsale.redis_engine import RedisEngine
from newretail.flashsale.results import (
    ItemCounts,
    Payment,
    Reason,
    Rejection,
    Reservation,
    ReservationStatus,
    SaleCounts,
)
from newretail.flashsale.sale import Eligibility, Sale, SaleDraft, SaleItem, SaleStatus
from newretail.flashsale.sales import (
    AudienceResolver,
    add_eligible,
    arm_sale,
    close_sale,
    create_sale,
    eligible_person_ids,
    get_sale,
    list_sales,
    mark_armed,
    restore_engine,
)
from newretail.flashsale.writer import OrderWriter

__all__ = [
    "ADMITTED",
    "Admitted",
    "AudienceResolver",
    "Eligibility",
    "FlashSaleEngine",
    "Gate",
    "GateFigures",
    "GatePolicy",
    "InProcessEngine",
    "InProcessGate",
    "ItemCounts",
    "ItemReconciliation",
    "Limited",
    "OrderWriter",
    "Payment",
    "Reason",
    "Reconciliation",
    "RedisEngine",
    "Rejection",
    "Reservation",
    "ReservationStatus",
    "Sale",
    "SaleCounts",
    "SaleDraft",
    "SaleItem",
    "SaleStatus",
    "Verdict",
    "Waiting",
    "add_eligible",
    "arm_sale",
    "close_sale",
    "create_sale",
    "eligible_person_ids",
    "get_sale",
    "list_sales",
    "mark_armed",
    "open_engine",
    "open_gate",
    "orders_by_status",
    "reconcile",
    "restore_engine",
]
