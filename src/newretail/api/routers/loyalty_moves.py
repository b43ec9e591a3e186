"""What moves a membership's balances: wallet top-ups with the scheme's bonus, points spent on a
coupon, service corrections of points (``loyalty.manage``, audited), and buying, renewing and
cancelling paid membership.

Every call takes an Idempotency-Key. The key also makes the change's natural key in the ledgers
(scoped to the caller, as the key is): even a retry that lost its stored response acts once.
"""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from newretail.api.deps import CurrentPrincipal, DbConn, Now, RuntimeDep
from newretail.api.idempotency import IdempotencyKey, IdempotentRequest, respond_once_keyed
from newretail.api.loyalty_models import (
    AdjustmentCreate,
    PaidCreate,
    PaidPeriodPublic,
    PointsMovePublic,
    RedemptionCreate,
    RedemptionPublic,
    TopUpCreate,
    TopUpPublic,
)
from newretail.api.routers.loyalty import MembershipId, balances, person_of
from newretail.errors import Conflict
from newretail.loyalty import points, topups
from newretail.loyalty.coupons import issue
from newretail.loyalty.memberships import get_membership
from newretail.loyalty.paid import buy_paid, cancel_paid, require_cancel_permission
from newretail.security import Permission, Principal
from newretail.security.audit import Action, record

router = APIRouter(prefix="/api/v1/loyalty", tags=["loyalty"])

PeriodId = Annotated[int, Path(ge=1)]
# Natural keys live in columns of 120 (paid periods) to 160 (ledgers) characters.
_MAX_NATURAL_KEY = 120


@router.post(
    "/memberships/{membership_id}/wallet/top-ups",
    status_code=status.HTTP_201_CREATED,
    response_model=TopUpPublic,
)
def top_up_wallet(
    membership_id: MembershipId,
    payload: TopUpCreate,
    conn: DbConn,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    now: Now,
    idempotency: IdempotencyKey,
) -> Response:
    """Put money in the wallet; the scheme's top-up rules add their bonus and cap the balance
    (409 ``wallet.over_limit``); a scheme without a wallet is 409 ``loyalty.no_wallet``."""
    principal.require(Permission.LOYALTY_TRANSACT)

    def work() -> TopUpPublic:
        moved = topups.top_up_wallet(
            conn,
            membership_id,
            payload.amount_minor,
            payment_method=payload.payment_method,
            natural_key=natural_key("topup", principal, idempotency),
            actor=principal.actor,
            now=now,
        )
        return TopUpPublic(
            membership_id=membership_id,
            amount_minor=moved.amount_minor,
            bonus_minor=moved.bonus_minor,
            balances=balances(conn, membership_id),
        )

    return respond_once_keyed(
        conn, idempotency, principal, runtime.protector, now, work, status.HTTP_201_CREATED
    )


@router.post(
    "/memberships/{membership_id}/points/redemptions",
    status_code=status.HTTP_201_CREATED,
    response_model=RedemptionPublic,
)
def redeem_points(
    membership_id: MembershipId,
    payload: RedemptionCreate,
    conn: DbConn,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    now: Now,
    idempotency: IdempotencyKey,
) -> Response:
    """Spend points on one coupon of a template, in one transaction: no coupon, no points spent."""
    principal.require(Permission.LOYALTY_TRANSACT)

    def work() -> RedemptionPublic:
        membership = get_membership(conn, membership_id)
        issued = issue(
            conn,
            payload.template_id,
            [membership.person_id],
            issue_key=natural_key("points", principal, idempotency),
            actor=principal.actor,
            now=now,
        )
        if not issued.coupon_ids:
            code, why = (
                ("coupon_template.budget_exhausted", "the template has issued its whole budget")
                if issued.over_budget
                else ("coupon_template.person_limit", "the member holds as many as a person may")
            )
            raise Conflict(code, why, field="template_id")
        spent = points.spend(
            conn,
            membership_id,
            payload.points,
            natural_key=natural_key("redeem", principal, idempotency),
            reason=f"coupon:{payload.template_id}:{issued.coupon_ids[0]}",
            actor=principal.actor,
            now=now,
        )
        return RedemptionPublic(
            membership_id=membership_id,
            points=spent.amount,
            balance=spent.balance_after,
            coupon_id=issued.coupon_ids[0],
            template_id=payload.template_id,
        )

    return respond_once_keyed(
        conn, idempotency, principal, runtime.protector, now, work, status.HTTP_201_CREATED
    )


@router.post(
    "/memberships/{membership_id}/points/adjustments",
    status_code=status.HTTP_201_CREATED,
    response_model=PointsMovePublic,
)
def adjust_points(
    membership_id: MembershipId,
    payload: AdjustmentCreate,
    conn: DbConn,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    now: Now,
    idempotency: IdempotencyKey,
) -> Response:
    """Correct a member's points by hand, with a reason (``loyalty.manage``). Audited."""
    principal.require(Permission.LOYALTY_MANAGE)

    def work() -> PointsMovePublic:
        get_membership(conn, membership_id)
        posted = points.adjust(
            conn,
            membership_id,
            payload.points,
            natural_key=natural_key("adjust", principal, idempotency),
            reason=payload.reason,
            actor=principal.actor,
            now=now,
            expires_on=payload.expires_on,
        )
        if not posted.replayed:
            record(
                conn,
                actor=principal,
                action=Action.POINTS_ADJUSTED,
                at=now,
                target_type="membership",
                target_id=str(membership_id),
                detail={
                    "points": payload.points,
                    "reason": payload.reason,
                    "entry_id": posted.entry_id,
                },
            )
        return PointsMovePublic(
            membership_id=membership_id, points=posted.amount, balance=posted.balance_after
        )

    return respond_once_keyed(
        conn, idempotency, principal, runtime.protector, now, work, status.HTTP_201_CREATED
    )


@router.post("/paid", status_code=status.HTTP_201_CREATED, response_model=PaidPeriodPublic)
def buy_paid_membership(
    payload: PaidCreate,
    conn: DbConn,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    now: Now,
    idempotency: IdempotencyKey,
) -> Response:
    """Buy a period of a paid scheme, or renew a running one (the new period starts the day after it
    ends); the first month's vouchers are issued at once. ``stored_value`` pays from the wallet."""
    principal.require(Permission.LOYALTY_TRANSACT)

    def work() -> PaidPeriodPublic:
        period = buy_paid(
            conn,
            payload.scheme_id,
            person_of(conn, payload.member),
            payment_method=payload.payment_method,
            purchase_key=natural_key("paid", principal, idempotency),
            actor=principal.actor,
            now=now,
            channel=payload.channel,
        )
        return PaidPeriodPublic.model_validate(period)

    return respond_once_keyed(
        conn, idempotency, principal, runtime.protector, now, work, status.HTTP_201_CREATED
    )


@router.post("/paid/{period_id}/cancel", response_model=PaidPeriodPublic)
def cancel_paid_membership(
    period_id: PeriodId,
    conn: DbConn,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    now: Now,
    idempotency: IdempotencyKey,
) -> Response:
    """Cancel a paid period and refund its unused whole days pro rata (to the wallet when it paid).

    It needs ``loyalty.transact`` (the channel that sold it) or ``orders.refund`` (after-sales
    staff): cancelling hands money back, which is not the work of marketers who design schemes
    (``loyalty.manage``). Audited."""
    require_cancel_permission(principal)

    def work() -> PaidPeriodPublic:
        return PaidPeriodPublic.model_validate(
            cancel_paid(conn, period_id, actor=principal, now=now)
        )

    return respond_once_keyed(
        conn, idempotency, principal, runtime.protector, now, work, status.HTTP_200_OK
    )


def natural_key(kind: str, principal: Principal, request: IdempotentRequest) -> str:
    """The domain's natural key of a change made under the call's Idempotency-Key (required by every
    call here), scoped to the caller like the key; a long one is replaced by its digest."""
    text = f"{kind}:{principal.actor}:{request.key or ''}"
    if len(text) <= _MAX_NATURAL_KEY:
        return text
    return f"{kind}:{hashlib.sha256(text.encode()).hexdigest()}"
