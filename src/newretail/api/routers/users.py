"""Console users (admin): list, and create with a one-time password."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from newretail.api.deps import CurrentPrincipal, DbConn, Now, RuntimeDep
from newretail.api.idempotency import IdempotencyKey, respond_once
from newretail.api.models import UserCreate, UserCreated, UserPublic, UsersPublic
from newretail.api.pagination import Page
from newretail.security import create_user, generate_password, list_users

router = APIRouter(prefix="/api/v1/users", tags=["users"])


@router.get("")
def read_users(conn: DbConn, principal: CurrentPrincipal, page: Page) -> UsersPublic:
    """Every user, by e-mail address (``users.manage``)."""
    users = list_users(conn, actor=principal)
    return UsersPublic(
        data=[UserPublic.model_validate(u) for u in page.page(users)], count=len(users)
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=UserCreated)
def create(
    payload: UserCreate,
    conn: DbConn,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    now: Now,
    idempotency: IdempotencyKey,
) -> Response:
    """Create an active user; the answer holds its initial password, shown only once."""

    def work() -> UserCreated:
        password = generate_password()
        user = create_user(
            conn,
            actor=principal,
            email=payload.email,
            role=payload.role,
            stores=payload.stores,
            supplier_id=payload.supplier_id,
            password=password,
            now=now,
        )
        return UserCreated(user=UserPublic.model_validate(user), password=password)

    return respond_once(
        conn,
        request=idempotency,
        principal=principal,
        protector=runtime.protector,
        now=now,
        status_code=status.HTTP_201_CREATED,
        work=work,
    )
