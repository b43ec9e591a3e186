"""Coupon templates in the console: the list with issued, redeemed, expired and revoked counts, the
redemption rate and the cost (``loyalty.read``), a chart of them, the create form (``loyalty.manage``;
a refused form comes back with the problem beside its field and nothing stored), and a template's page
with its pause, resume and retire buttons."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, Response

from newretail.errors import Forbidden, NewRetailError, NotFound
from newretail.loyalty.coupon_stats import template_stats
from newretail.loyalty.coupon_templates import (
    STATUSES,
    create_template,
    get_template,
    list_templates,
    set_template_status,
)
from newretail.model.codes import CHANNELS
from newretail.security import Permission
from newretail.web.audience_deps import Show, gate
from newretail.web.coupon_form import CURRENCIES, KINDS, KNOWN_ERRORS, FieldError, TemplateForm
from newretail.web.coupon_view import (
    DEFINITIONS,
    cost_by_currency,
    coupons_chart,
    rows,
    scope,
    validity,
)
from newretail.web.deps import LanguageDep, NowDep, OltpDep, Visitor, VisitorDep
from newretail.web.i18n import Language, translate, translate_value
from newretail.web.render import LOGIN_PATH, redirect, refuse_bad_csrf

router = APIRouter()
LIST_PATH = "/console/coupons"
TemplateId = Annotated[
    str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
]
DONE = ("created", "active", "paused", "retired")
STATUS_ERRORS = ("coupon_template.retired", "coupon_template.bad_status")


@router.get("/coupons", response_class=HTMLResponse)
def coupons_page(
    request: Request, language: LanguageDep, visitor: VisitorDep, oltp: OltpDep
) -> Response:
    show = _gate(request, language, visitor)
    if isinstance(show, Response):
        return show
    return _list(show, oltp=oltp, visitor=visitor, language=language, form=TemplateForm())


@router.post("/coupons", response_class=HTMLResponse)
def create_template_submit(
    request: Request,
    language: LanguageDep,
    visitor: VisitorDep,
    oltp: OltpDep,
    now: NowDep,
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    template_id: Annotated[str, Form(max_length=40)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    name_en: Annotated[str, Form(max_length=200)] = "",
    kind: Annotated[str, Form(max_length=16)] = "",
    currency: Annotated[str, Form(max_length=3)] = "",
    amount_off: Annotated[str, Form(max_length=16)] = "",
    threshold: Annotated[str, Form(max_length=16)] = "",
    percent_off: Annotated[str, Form(max_length=4)] = "",
    cap: Annotated[str, Form(max_length=16)] = "",
    target_product_id: Annotated[str, Form(max_length=32)] = "",
    target_category: Annotated[str, Form(max_length=32)] = "",
    channels: Annotated[list[str] | None, Form()] = None,
    stores: Annotated[str, Form(max_length=20_000)] = "",
    products: Annotated[str, Form(max_length=20_000)] = "",
    categories: Annotated[str, Form(max_length=2_000)] = "",
    valid_from: Annotated[str, Form(max_length=32)] = "",
    valid_until: Annotated[str, Form(max_length=32)] = "",
    valid_days: Annotated[str, Form(max_length=8)] = "",
    budget_total: Annotated[str, Form(max_length=12)] = "",
    per_person_limit: Annotated[str, Form(max_length=8)] = "",
    stacks_with_tier: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    if visitor is None:
        return redirect(LOGIN_PATH)
    refused = refuse_bad_csrf(request, language=language, visitor=visitor, token=csrf_token)
    if refused is not None:
        return refused
    show = _gate(request, language, visitor, permission=Permission.LOYALTY_MANAGE)
    if isinstance(show, Response):
        return show
    form = TemplateForm(
        template_id=template_id,
        name=name,
        name_en=name_en,
        kind=kind,
        currency=currency,
        amount_off=amount_off,
        threshold=threshold,
        percent_off=percent_off,
        cap=cap,
        target_product_id=target_product_id,
        target_category=target_category,
        channels=channels or [],
        stores=stores,
        products=products,
        categories=categories,
        valid_from=valid_from,
        valid_until=valid_until,
        valid_days=valid_days,
        budget_total=budget_total,
        per_person_limit=per_person_limit,
        stacks_with_tier=stacks_with_tier == "yes",
    )
    draft, errors = form.draft()
    if draft is not None:
        try:
            with oltp.begin() as conn:
                create_template(conn, draft, actor=visitor.session.principal, now=now)
        except Forbidden:
            return show("error.html", status=403, message="error.forbidden")
        except NewRetailError as refusal:
            errors = {"template_id": FieldError(refusal.code, refusal.message)}
        else:
            return redirect(f"{LIST_PATH}/{draft.id}?done=created")
    return _list(
        show, oltp=oltp, visitor=visitor, language=language, form=form, errors=errors, status=422
    )


@router.get("/coupons/{template_id}", response_class=HTMLResponse)
def template_page(
    request: Request,
    template_id: TemplateId,
    language: LanguageDep,
    visitor: VisitorDep,
    oltp: OltpDep,
    done: str = "",
    error: str = "",
) -> Response:
    show = _gate(request, language, visitor)
    if isinstance(show, Response):
        return show
    assert visitor is not None
    t = partial(translate, language)
    try:
        with oltp.connect() as conn:
            template = get_template(conn, template_id)
            stats = template_stats(conn)
    except NotFound:
        return show("error.html", status=404, message="error.not_found")
    row = rows([template], stats, t, language)[0]
    return show(
        "coupon_template.html",
        row=row,
        validity=validity(template, t),
        scope=scope(template, t, partial(translate_value, language)),
        can_manage=visitor.session.principal.can(Permission.LOYALTY_MANAGE),
        done=done if done in DONE else None,
        error=error if error in STATUS_ERRORS else None,
        definitions=DEFINITIONS,
    )


@router.post("/coupons/{template_id}/status")
def template_status_submit(
    request: Request,
    template_id: TemplateId,
    language: LanguageDep,
    visitor: VisitorDep,
    oltp: OltpDep,
    now: NowDep,
    status: Annotated[str, Form(max_length=16)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    if visitor is None:
        return redirect(LOGIN_PATH)
    refused = refuse_bad_csrf(request, language=language, visitor=visitor, token=csrf_token)
    if refused is not None:
        return refused
    show = _gate(request, language, visitor, permission=Permission.LOYALTY_MANAGE)
    if isinstance(show, Response):
        return show
    back = f"{LIST_PATH}/{template_id}"
    try:
        with oltp.begin() as conn:
            set_template_status(conn, template_id, status, actor=visitor.session.principal, now=now)
    except NotFound:
        return show("error.html", status=404, message="error.not_found")
    except NewRetailError as refusal:
        return redirect(f"{back}?error={refusal.code}")
    return redirect(f"{back}?done={status}")


def _gate(
    request: Request,
    language: Language,
    visitor: Visitor | None,
    permission: Permission = Permission.LOYALTY_READ,
) -> Show | Response:
    return gate(
        request, language=language, visitor=visitor, active="coupons", permission=permission
    )


def _list(
    show: Show,
    *,
    oltp: OltpDep,
    visitor: Visitor | None,
    language: Language,
    form: TemplateForm,
    errors: dict[str, FieldError] | None = None,
    status: int = 200,
) -> Response:
    assert visitor is not None
    t = partial(translate, language)
    with oltp.connect() as conn:
        table = rows(list_templates(conn), template_stats(conn), t, language)
    return show(
        "coupons.html",
        status=status,
        rows=table,
        costs=cost_by_currency(table),
        chart_json=coupons_chart(table, t) if table else None,
        can_manage=visitor.session.principal.can(Permission.LOYALTY_MANAGE),
        form=form,
        errors={name: _shown(error, t) for name, error in (errors or {}).items()},
        kinds=KINDS,
        currencies=CURRENCIES,
        channels=CHANNELS,
        statuses=STATUSES,
        definitions=DEFINITIONS,
    )


def _shown(error: FieldError, t: partial[str]) -> str:
    """A refusal in the visitor's language when the console knows it, else the domain's words."""
    if error.code in KNOWN_ERRORS:
        return t(f"coupon_error.{error.code}")
    return t("coupon_error.other", detail=error.message)
