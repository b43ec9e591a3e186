"""What the console's routes need, as small dependencies: the app's settings, OLTP engine and lake
(set on ``app.state`` by whoever builds the app), the flash-sale engine and gate, a lake compute
engine per request, the clock, the visitor's language and session."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, TypeVar

import sqlalchemy as sa
from fastapi import Depends, Request

from newretail.config import Settings
from newretail.errors import Unauthorized
from newretail.flashsale import FlashSaleEngine, Gate
from newretail.lake import Engine as LakeEngine
from newretail.lake import Lake, connect_engine
from newretail.security import ConsoleSession, SessionPolicy, resolve_session
from newretail.web import cookies
from newretail.web.i18n import Language, pick_language

_T = TypeVar("_T")


def _state(request: Request, name: str, kind: type[_T]) -> _T:
    value = getattr(request.app.state, name, None)
    if not isinstance(value, kind):
        raise RuntimeError(
            f"the app must set app.state.{name} to a {kind.__name__} for the console"
        )
    return value


def get_settings(request: Request) -> Settings:
    return _state(request, "settings", Settings)


def get_oltp(request: Request) -> sa.Engine:
    return _state(request, "engine", sa.Engine)


def get_lake(request: Request) -> Lake:
    return _state(request, "lake", Lake)


def get_flashsale(request: Request) -> FlashSaleEngine:
    return _state(request, "flashsale", FlashSaleEngine)  # type: ignore[type-abstract]


def get_gate(request: Request) -> Gate:
    return _state(request, "gate", Gate)  # type: ignore[type-abstract]


def get_now() -> dt.datetime:
    """The wall clock, read here at the edge (tests override this dependency)."""
    return dt.datetime.now(dt.UTC)


SettingsDep = Annotated[Settings, Depends(get_settings)]
OltpDep = Annotated[sa.Engine, Depends(get_oltp)]
LakeDep = Annotated[Lake, Depends(get_lake)]
NowDep = Annotated[dt.datetime, Depends(get_now)]
FlashSaleDep = Annotated[FlashSaleEngine, Depends(get_flashsale)]
GateDep = Annotated[Gate, Depends(get_gate)]


def get_lake_engine(settings: SettingsDep) -> Iterator[LakeEngine]:
    """A compute engine for this request, closed when the response is sent."""
    with connect_engine(settings.engine) as engine:
        yield engine


def get_language(request: Request) -> Language:
    return pick_language(
        request.cookies.get(cookies.LANGUAGE), request.headers.get("accept-language")
    )


@dataclass(frozen=True, slots=True)
class Visitor:
    """A signed-in visitor: the cookie's token (CSRF checks need it) and the live session."""

    token: str
    session: ConsoleSession


def get_visitor(
    request: Request, oltp: OltpDep, settings: SettingsDep, now: NowDep
) -> Visitor | None:
    """The visitor's live session, or None (no cookie, or an ended, idle or revoked session)."""
    token = request.cookies.get(cookies.SESSION)
    if not token:
        return None
    try:
        with oltp.begin() as conn:
            session = resolve_session(
                conn, token, now=now, policy=SessionPolicy.from_settings(settings)
            )
    except Unauthorized:
        return None
    return Visitor(token=token, session=session)


LakeEngineDep = Annotated[LakeEngine, Depends(get_lake_engine)]
LanguageDep = Annotated[Language, Depends(get_language)]
VisitorDep = Annotated[Visitor | None, Depends(get_visitor)]
