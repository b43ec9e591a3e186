"""Signing in and out, and the language switch.

The login form is protected by a pre-session CSRF token: a random value set in an HttpOnly cookie when
the form is shown and echoed in a hidden field, compared on POST (double submit). Once signed in,
every form carries the CSRF token security binds to the session.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from newretail.security import SessionPolicy, login, logout
from newretail.web import cookies
from newretail.web.deps import LanguageDep, NowDep, OltpDep, SettingsDep, VisitorDep
from newretail.web.i18n import Language, as_language
from newretail.web.render import (
    HOME_PATH,
    LOGIN_PATH,
    page,
    redirect,
    refuse_bad_csrf,
    safe_next,
)

router = APIRouter()


def _login_form(
    request: Request,
    language: Language,
    *,
    status: int = 200,
    error: str | None = None,
    email: str = "",
    next_path: str = HOME_PATH,
) -> HTMLResponse:
    token = secrets.token_urlsafe(32)
    response = page(
        request,
        "login.html",
        language=language,
        status=status,
        csrf_token=token,
        error=error,
        email=email,
        next_path=next_path,
    )
    cookies.set_login_csrf(response, request, token)
    return response


@router.get("/login", response_class=HTMLResponse)
def login_page(
    request: Request,
    language: LanguageDep,
    visitor: VisitorDep,
    lang: str | None = None,
    next: str | None = None,
) -> Response:
    if visitor is not None:
        return redirect(safe_next(next))
    asked = as_language(lang)
    response = _login_form(request, asked or language, next_path=safe_next(next))
    if asked is not None:
        cookies.set_language(response, request, asked)
    return response


@router.post("/login", response_class=HTMLResponse)
def login_submit(
    request: Request,
    language: LanguageDep,
    oltp: OltpDep,
    settings: SettingsDep,
    now: NowDep,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    next: Annotated[str, Form(max_length=2048)] = HOME_PATH,
) -> Response:
    expected = request.cookies.get(cookies.LOGIN_CSRF, "")
    if not expected or not hmac.compare_digest(expected, csrf_token):
        return _login_form(request, language, status=403, error="auth.form_expired", email=email)
    with oltp.begin() as conn:
        session = login(
            conn,
            email=email,
            password=password,
            now=now,
            policy=SessionPolicy.from_settings(settings),
        )
    if session is None:
        return _login_form(
            request,
            language,
            status=401,
            error="auth.failed",
            email=email,
            next_path=safe_next(next),
        )
    response = redirect(safe_next(next))
    cookies.set_session(
        response, request, token=session.token, expires_at=session.expires_at, now=now
    )
    cookies.clear_login_csrf(response, request)
    return response


@router.post("/logout")
def logout_submit(
    request: Request,
    language: LanguageDep,
    oltp: OltpDep,
    visitor: VisitorDep,
    now: NowDep,
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    if visitor is None:
        return redirect(LOGIN_PATH)
    refused = refuse_bad_csrf(request, language=language, visitor=visitor, token=csrf_token)
    if refused is not None:
        return refused
    with oltp.begin() as conn:
        logout(conn, visitor.token, now=now)
    response = redirect(LOGIN_PATH)
    cookies.clear_session(response, request)
    return response


@router.post("/language")
def switch_language(
    request: Request,
    language: LanguageDep,
    visitor: VisitorDep,
    lang: Annotated[str, Form(max_length=8)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    next: Annotated[str, Form(max_length=2048)] = HOME_PATH,
) -> Response:
    if visitor is None:
        return redirect(LOGIN_PATH)
    refused = refuse_bad_csrf(request, language=language, visitor=visitor, token=csrf_token)
    if refused is not None:
        return refused
    response = redirect(safe_next(next))
    asked = as_language(lang)
    if asked is not None:
        cookies.set_language(response, request, asked)
    return response
