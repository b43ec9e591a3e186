"""The console's cookies: the session (HttpOnly, SameSite=Lax, Secure over https), the pre-session
CSRF token of the login form, and the language chosen with the switch."""

from __future__ import annotations

import datetime as dt

from fastapi import Request, Response

from newretail.web.i18n import Language

SESSION = "newretail_session"
LOGIN_CSRF = "newretail_login_csrf"
LANGUAGE = "newretail_lang"
_LOGIN_CSRF_SECONDS = 60 * 60
_LANGUAGE_SECONDS = 365 * 24 * 60 * 60


def _secure(request: Request) -> bool:
    # Behind a TLS-terminating proxy this relies on uvicorn's --proxy-headers (X-Forwarded-Proto).
    return request.url.scheme == "https"


def set_session(
    response: Response, request: Request, *, token: str, expires_at: dt.datetime, now: dt.datetime
) -> None:
    # Path "/" so the API's CurrentPrincipal sees the same cookie on the console's htmx calls.
    response.set_cookie(
        SESSION,
        token,
        max_age=max(int((expires_at - now).total_seconds()), 0),
        path="/",
        httponly=True,
        samesite="lax",
        secure=_secure(request),
    )


def clear_session(response: Response, request: Request) -> None:
    response.delete_cookie(
        SESSION, path="/", httponly=True, samesite="lax", secure=_secure(request)
    )


def set_login_csrf(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        LOGIN_CSRF,
        token,
        max_age=_LOGIN_CSRF_SECONDS,
        path="/console",
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )


def clear_login_csrf(response: Response, request: Request) -> None:
    response.delete_cookie(
        LOGIN_CSRF, path="/console", httponly=True, samesite="strict", secure=_secure(request)
    )


def set_language(response: Response, request: Request, language: Language) -> None:
    response.set_cookie(
        LANGUAGE,
        language,
        max_age=_LANGUAGE_SECONDS,
        path="/",
        httponly=True,
        samesite="lax",
        secure=_secure(request),
    )
