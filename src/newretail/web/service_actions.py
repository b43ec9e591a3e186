"""What a service agent does from the person page: refund an order, whole or by line
(``orders.refund``, audited as the API's refund is), and re-issue a coupon (``coupons.reissue``).

Each is a CSRF-checked form. Sent by htmx, the answer is the section again with the outcome on top;
sent without it, a redirect to the person page, whose section then shows the outcome. A refund form
carries a refund key made when it was rendered, so sending the same form twice refunds once.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from newretail.errors import Forbidden, InvalidInput, NewRetailError, NotFound
from newretail.loyalty.coupons import get_coupon, reissue
from newretail.security import Permission
from newretail.trade import refunds
from newretail.trade.actions import refund_order
from newretail.trade.order_views import get_order
from newretail.web.deps import LakeDep, LanguageDep, NowDep, OltpDep, VisitorDep
from newretail.web.render import LOGIN_PATH, redirect, refuse_bad_csrf
from newretail.web.service import (
    ERRORS,
    GENERAL_ERROR,
    Code,
    PersonId,
    live_person_id,
    render_loyalty,
    render_service,
    section_gate,
)

router = APIRouter()


@router.post("/customers/{person_id}/coupons/{coupon_id}/reissue")
def reissue_submit(
    request: Request,
    person_id: PersonId,
    coupon_id: Code,
    language: LanguageDep,
    visitor: VisitorDep,
    oltp: OltpDep,
    now: NowDep,
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    reason: Annotated[str, Form(max_length=400)] = "",
) -> Response:
    if visitor is None:
        return redirect(LOGIN_PATH)
    refused = refuse_bad_csrf(request, language=language, visitor=visitor, token=csrf_token)
    if refused is not None:
        return refused
    show = section_gate(request, language, visitor, Permission.COUPONS_REISSUE)
    if isinstance(show, Response):
        return show
    done, error = "reissued", ""
    try:
        with oltp.begin() as conn:
            if get_coupon(conn, coupon_id).person_id != live_person_id(conn, person_id):
                raise NotFound("coupon.unknown", "the person holds no such coupon")
            reissue(conn, coupon_id, actor=visitor.session.principal, reason=reason, now=now)
    except Forbidden:
        return show("error.html", status=403, message="error.forbidden")
    except NewRetailError as refusal:
        done, error = "", _shown(refusal.code)
    if request.headers.get("hx-request") != "true":
        return redirect(_back(person_id, done, error, "loyalty"))
    return render_loyalty(
        show,
        oltp=oltp,
        visitor=visitor,
        language=language,
        person_id=person_id,
        now=now,
        done=done,
        error=error,
    )


@router.post("/customers/{person_id}/orders/{order_id}/refund")
def refund_submit(
    request: Request,
    person_id: PersonId,
    order_id: Code,
    language: LanguageDep,
    visitor: VisitorDep,
    oltp: OltpDep,
    lake: LakeDep,
    now: NowDep,
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    refund_key: Annotated[str, Form(max_length=128)] = "",
    reason: Annotated[str, Form(max_length=32)] = "",
    whole: Annotated[str, Form(max_length=8)] = "",
    line_no: Annotated[list[str] | None, Form()] = None,
    quantity: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """``whole`` = "yes" refunds all that is left; otherwise ``quantity[i]`` units of line
    ``line_no[i]`` (blank or 0: none of that line)."""
    if visitor is None:
        return redirect(LOGIN_PATH)
    refused = refuse_bad_csrf(request, language=language, visitor=visitor, token=csrf_token)
    if refused is not None:
        return refused
    show = section_gate(request, language, visitor, Permission.ORDERS_REFUND)
    if isinstance(show, Response):
        return show
    principal = visitor.session.principal
    done, error = "refunded", ""
    try:
        lines = None if whole == "yes" else _lines(line_no or [], quantity or [])
        with oltp.begin() as conn:
            order = get_order(conn, order_id).order
            if order.person_id != live_person_id(conn, person_id):
                raise NotFound("order.not_found", "the person placed no such order")
            refund_order(
                conn,
                order_id,
                lines=lines,
                refund_key=refund_key,
                reason=reason,
                actor=principal,
                now=now,
            )
    except Forbidden:
        return show("error.html", status=403, message="error.forbidden")
    except NewRetailError as refusal:
        done, error = "", _shown(refusal.code)
    if request.headers.get("hx-request") != "true":
        return redirect(_back(person_id, done, error, "service"))
    return render_service(
        show,
        oltp=oltp,
        lake=lake,
        visitor=visitor,
        language=language,
        person_id=person_id,
        page_no=0,
        done=done,
        error=error,
    )


def _lines(numbers: list[str], quantities: list[str]) -> list[refunds.RefundLine]:
    """The units asked for per line; a quantity that is not a whole number is refused."""
    lines = []
    for number, amount in zip(numbers, quantities, strict=False):
        text = amount.strip() or "0"
        if not (text.isdigit() and number.isdigit()):
            raise InvalidInput("refund.bad_quantity", "give whole numbers of units")
        if int(text):
            lines.append(refunds.RefundLine(int(number), int(text)))
    return lines


def _shown(code: str) -> str:
    return code if code in ERRORS else GENERAL_ERROR


def _back(person_id: str, done: str, error: str, section: str) -> str:
    pairs = {f"{section}_done": done} if done else {f"{section}_error": error}
    return f"/console/customers/{quote(person_id, safe='')}?{urlencode(pairs)}#{section}"
