"""Flash sales in the console: the list, the create form, and a live page per sale whose figures
refresh every second from ``live.json`` (units left per item, reservations and orders per second,
the order writer's backlog, the waiting room, rejections by reason), with arm and close buttons."""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Annotated, Any

import anyio.from_thread
import sqlalchemy as sa
from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from newretail.errors import Forbidden, InvalidInput, NewRetailError, NotFound
from newretail.flashsale import (
    FlashSaleEngine,
    Gate,
    Reason,
    Sale,
    SaleStatus,
    actions,
    get_sale,
    list_sales,
    orders_by_status,
)
from newretail.flashsale.records import to_millis
from newretail.model.codes import CHANNELS
from newretail.security import Permission
from newretail.web.deps import (
    FlashSaleDep,
    GateDep,
    LanguageDep,
    NowDep,
    OltpDep,
    Visitor,
    VisitorDep,
)
from newretail.web.flashsale_form import CURRENCIES, ITEM_ROWS, SaleForm
from newretail.web.i18n import Language, translate
from newretail.web.render import LOGIN_PATH, SECURITY_HEADERS, page, redirect, refuse_bad_csrf

router = APIRouter()
LIST_PATH = "/console/flashsales"
SaleId = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")]
# Each figure on the live page, with its definition (def.flashsale.<key>) in the glossary.
DEFINITIONS = ("remaining", "reservations_rate", "orders_rate", "backlog", "waiting", "rejections")
DONE = ("created", "armed", "closed")
# Every reason an attempt can be turned away for: the engine's, and the gate's rate limit.
REASONS = (*(reason.value for reason in Reason), "flashsale.rate_limited")


@router.get("/flashsales", response_class=HTMLResponse)
def flashsales_page(
    request: Request,
    language: LanguageDep,
    visitor: VisitorDep,
    oltp: OltpDep,
    engine: FlashSaleDep,
    now: NowDep,
) -> Response:
    if visitor is None:
        return redirect(LOGIN_PATH)
    show = partial(page, request, language=language, visitor=visitor, active="flashsales")
    principal = visitor.session.principal
    if not principal.can(Permission.FLASHSALES_READ):
        return show("error.html", status=403, message="error.forbidden")
    with oltp.connect() as conn:
        sales = list_sales(conn)
    return show(
        "flashsales.html",
        sales=[(sale, sale.phase(now), _units_left(engine, sale)) for sale in sales],
        can_manage=principal.can(Permission.FLASHSALES_MANAGE),
    )


@router.get("/flashsales/new", response_class=HTMLResponse)
def new_flashsale_page(
    request: Request, language: LanguageDep, visitor: VisitorDep, now: NowDep
) -> Response:
    if visitor is None:
        return redirect(LOGIN_PATH)
    return _form_page(request, language, visitor, SaleForm.starting(now))


@router.post("/flashsales/new", response_class=HTMLResponse)
def create_flashsale_submit(
    request: Request,
    language: LanguageDep,
    visitor: VisitorDep,
    oltp: OltpDep,
    now: NowDep,
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    sale_id: Annotated[str, Form(max_length=40)] = "",
    starts_at: Annotated[str, Form(max_length=32)] = "",
    minutes: Annotated[str, Form(max_length=8)] = "",
    per_person_limit: Annotated[str, Form(max_length=4)] = "",
    payment_window_seconds: Annotated[str, Form(max_length=8)] = "",
    channels: Annotated[list[str] | None, Form()] = None,
    eligibility: Annotated[str, Form(max_length=16)] = "everyone",
    person_ids: Annotated[str, Form(max_length=2_000_000)] = "",
    audience_id: Annotated[str, Form(max_length=64)] = "",
    currency: Annotated[str, Form(max_length=3)] = "CNY",
    sku: Annotated[list[str] | None, Form()] = None,
    stock: Annotated[list[str] | None, Form()] = None,
    price: Annotated[list[str] | None, Form()] = None,
) -> Response:
    if visitor is None:
        return redirect(LOGIN_PATH)
    refused = refuse_bad_csrf(request, language=language, visitor=visitor, token=csrf_token)
    if refused is not None:
        return refused
    form = SaleForm(
        name=name,
        sale_id=sale_id,
        starts_at=starts_at,
        minutes=minutes,
        per_person_limit=per_person_limit,
        payment_window_seconds=payment_window_seconds,
        channels=channels or [],
        eligibility=eligibility,
        person_ids=person_ids,
        audience_id=audience_id,
        currency=currency,
        skus=_rows(sku),
        stocks=_rows(stock),
        prices=_rows(price),
    )
    try:
        draft = form.draft()
        with oltp.begin() as conn:
            sale = actions.create(conn, draft, actor=visitor.session.principal, now=now)
    except Forbidden:
        return _form_page(request, language, visitor, form, status=403)
    except NewRetailError as error:
        return _form_page(request, language, visitor, form, error=error, status=422)
    return redirect(f"{LIST_PATH}/{sale.id}?done=created")


@router.get("/flashsales/{sale_id}", response_class=HTMLResponse)
def flashsale_page(
    request: Request,
    sale_id: SaleId,
    language: LanguageDep,
    visitor: VisitorDep,
    oltp: OltpDep,
    engine: FlashSaleDep,
    gate: GateDep,
    now: NowDep,
    done: str = "",
    error: str = "",
) -> Response:
    if visitor is None:
        return redirect(LOGIN_PATH)
    show = partial(page, request, language=language, visitor=visitor, active="flashsales")
    principal = visitor.session.principal
    if not principal.can(Permission.FLASHSALES_READ):
        return show("error.html", status=403, message="error.forbidden")
    try:
        figures = _live(oltp, engine, gate, sale_id, now)
    except NotFound:
        return show("error.html", status=404, message="error.not_found")
    return show(
        "flashsale.html",
        sale=figures.pop("_sale"),
        live=figures,
        definitions=DEFINITIONS,
        reason_labels={code: translate(language, f"flashsale.reason.{code}") for code in REASONS},
        can_manage=principal.can(Permission.FLASHSALES_MANAGE),
        done=done if done in DONE else None,
        error=error if error.startswith("flashsale.") and error.isascii() else None,
    )


@router.get("/flashsales/{sale_id}/live.json")
def flashsale_live(
    sale_id: SaleId,
    visitor: VisitorDep,
    oltp: OltpDep,
    engine: FlashSaleDep,
    gate: GateDep,
    now: NowDep,
) -> Response:
    """The live page's figures, polled every second; the engine's counters come from Redis (or
    memory), so the page keeps up while the order writer catches up."""
    if visitor is None or not visitor.session.principal.can(Permission.FLASHSALES_READ):
        return JSONResponse({"error": "forbidden"}, status_code=403, headers=SECURITY_HEADERS)
    try:
        figures = _live(oltp, engine, gate, sale_id, now)
    except NotFound:
        return JSONResponse({"error": "not_found"}, status_code=404, headers=SECURITY_HEADERS)
    figures.pop("_sale")
    return JSONResponse(figures, headers=SECURITY_HEADERS)


@router.post("/flashsales/{sale_id}/{action}")
def flashsale_action(
    request: Request,
    sale_id: SaleId,
    action: Annotated[str, Path(pattern="^(arm|close)$")],
    language: LanguageDep,
    visitor: VisitorDep,
    oltp: OltpDep,
    engine: FlashSaleDep,
    now: NowDep,
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    if visitor is None:
        return redirect(LOGIN_PATH)
    refused = refuse_bad_csrf(request, language=language, visitor=visitor, token=csrf_token)
    if refused is not None:
        return refused
    act = actions.arm if action == "arm" else actions.close
    try:
        with oltp.begin() as conn:
            act(conn, engine, sale_id, actor=visitor.session.principal, now=now)
    except Forbidden:
        return page(
            request,
            "error.html",
            language=language,
            visitor=visitor,
            status=403,
            message="error.forbidden",
        )
    except NewRetailError as refusal:
        return redirect(f"{LIST_PATH}/{sale_id}?error={refusal.code}")
    return redirect(f"{LIST_PATH}/{sale_id}?done={'armed' if action == 'arm' else 'closed'}")


def _live(
    oltp: sa.Engine, engine: FlashSaleEngine, gate: Gate, sale_id: str, now: dt.datetime
) -> dict[str, Any]:
    with oltp.connect() as conn:
        sale = get_sale(conn, sale_id)
        orders = orders_by_status(conn, sale_id)
    counts = None
    if sale.status is SaleStatus.ARMED:
        try:
            counts = engine.counts(sale_id)
        except NotFound:
            counts = None  # armed in OLTP, but the engine lost it (a Redis that kept nothing)
    live = {item.sku: item for item in counts.items} if counts is not None else {}
    door = anyio.from_thread.run(partial(gate.figures, sale_id, now_ms=to_millis(now)))
    total_orders = sum(orders.values())
    rejections = dict(counts.rejections) if counts is not None else {}
    if door.rate_limited:
        rejections["flashsale.rate_limited"] = door.rate_limited
    return {
        "_sale": sale,
        "at_ms": to_millis(now),
        "phase": sale.phase(now),
        "armed": counts is not None,
        "items": [
            {
                "sku": item.sku,
                "stock": item.stock,
                "remaining": live[item.sku].remaining if item.sku in live else item.stock,
                "reserved": live[item.sku].reserved if item.sku in live else 0,
                "paid": live[item.sku].paid if item.sku in live else 0,
                "expired": live[item.sku].expired if item.sku in live else 0,
            }
            for item in sale.items
        ],
        "reservations": counts.reservations if counts is not None else 0,
        "payments": counts.payments if counts is not None else 0,
        "expiries": counts.expiries if counts is not None else 0,
        "orders": {**orders, "total": total_orders},
        "backlog": max(0, (counts.reservations if counts is not None else 0) - total_orders),
        "waiting": door.waiting,
        "tickets": door.tickets,
        "rejections": dict(sorted(rejections.items())),
    }


def _units_left(engine: FlashSaleEngine, sale: Sale) -> int | None:
    if sale.status is not SaleStatus.ARMED:
        return None
    try:
        return sum(item.remaining for item in engine.counts(sale.id).items)
    except NotFound:
        return None


def _rows(values: list[str] | None) -> list[str]:
    rows = list(values or [])[:ITEM_ROWS]
    return rows + [""] * (ITEM_ROWS - len(rows))


def _form_page(
    request: Request,
    language: Language,
    visitor: Visitor,
    form: SaleForm,
    *,
    error: NewRetailError | None = None,
    status: int = 200,
) -> HTMLResponse:
    principal = visitor.session.principal
    if status == 403 or not principal.can(Permission.FLASHSALES_MANAGE):
        return page(
            request,
            "error.html",
            language=language,
            visitor=visitor,
            status=403,
            message="error.forbidden",
        )
    return page(
        request,
        "flashsale_new.html",
        language=language,
        visitor=visitor,
        active="flashsales",
        status=status,
        form=form,
        channels=CHANNELS,
        currencies=CURRENCIES,
        error=error,
        error_field=error.field if isinstance(error, InvalidInput) else None,
    )
