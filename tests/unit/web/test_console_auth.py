"""Signing in and out: the pre-session CSRF token, the session cookie's flags, failures shown and
audited, CSRF on every signed-in form, and the language switch."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from tests.unit.web.conftest import PASSWORD, add_user, form_token, sign_in

from newretail.security import Action, Principal, list_audit
from newretail.web.render import safe_next

EMAIL = "ana@example.com"


def set_cookie_headers(answer: object) -> list[str]:
    headers = answer.headers  # type: ignore[attr-defined]
    return [v for k, v in headers.multi_items() if k == "set-cookie"]


def test_the_login_form_sets_a_pre_session_csrf_cookie(client: TestClient) -> None:
    answer = client.get("/console/login")
    assert answer.status_code == 200
    (cookie,) = [c for c in set_cookie_headers(answer) if c.startswith("newretail_login_csrf=")]
    assert f"newretail_login_csrf={form_token(answer.text)};" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "default-src 'self'" in answer.headers["content-security-policy"]


def test_a_wrong_password_is_shown_and_audited(client: TestClient, oltp: Engine) -> None:
    add_user(oltp, EMAIL, "analyst")
    token = form_token(client.get("/console/login", headers={"accept-language": "en"}).text)
    answer = client.post(
        "/console/login",
        data={"email": EMAIL, "password": "not it", "csrf_token": token},
        headers={"accept-language": "en"},
    )
    assert answer.status_code == 401
    assert "Wrong e-mail or password." in answer.text
    assert "newretail_session" not in client.cookies
    with oltp.connect() as conn:
        failures = list_audit(conn, Principal.cli(), action=Action.LOGIN_FAILED).data
    assert [entry.detail["reason"] for entry in failures] == ["bad_password"]


def test_a_login_without_the_csrf_token_is_refused(client: TestClient, oltp: Engine) -> None:
    add_user(oltp, EMAIL, "analyst")
    client.get("/console/login")
    answer = client.post("/console/login", data={"email": EMAIL, "password": PASSWORD})
    assert answer.status_code == 403
    assert "newretail_session" not in client.cookies
    with oltp.connect() as conn:
        assert list_audit(conn, Principal.cli(), action=Action.LOGIN).count == 0


def test_a_token_without_its_cookie_is_refused(app: FastAPI, oltp: Engine) -> None:
    add_user(oltp, EMAIL, "analyst")
    with TestClient(app, follow_redirects=False) as first:
        token = form_token(first.get("/console/login").text)
    with TestClient(app, follow_redirects=False) as second:
        answer = second.post(
            "/console/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": token}
        )
    assert answer.status_code == 403


def test_signing_in_sets_an_httponly_lax_session_cookie(client: TestClient, oltp: Engine) -> None:
    add_user(oltp, EMAIL, "analyst")
    token = form_token(client.get("/console/login").text)
    answer = client.post(
        "/console/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": token}
    )
    assert (answer.status_code, answer.headers["location"]) == (303, "/console/")
    (cookie,) = [c for c in set_cookie_headers(answer) if c.startswith("newretail_session=")]
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie
    assert "Path=/" in cookie


def test_the_session_cookie_is_secure_over_https(app: FastAPI, oltp: Engine) -> None:
    add_user(oltp, EMAIL, "analyst")
    with TestClient(app, base_url="https://console.test", follow_redirects=False) as client:
        token = form_token(client.get("/console/login").text)
        answer = client.post(
            "/console/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": token}
        )
    (cookie,) = [c for c in set_cookie_headers(answer) if c.startswith("newretail_session=")]
    assert "Secure" in cookie


def test_pages_send_a_visitor_without_a_session_to_sign_in(client: TestClient) -> None:
    for path in ("/console/", "/console/audit"):
        answer = client.get(path)
        assert (answer.status_code, answer.headers["location"]) == (303, "/console/login")
    client.cookies.set("newretail_session", "forged")
    assert client.get("/console/").headers["location"] == "/console/login"


def test_signing_out_needs_the_csrf_token_and_ends_the_session(
    client: TestClient, oltp: Engine
) -> None:
    add_user(oltp, EMAIL, "analyst")
    csrf = sign_in(client, EMAIL)
    assert client.post("/console/logout", data={"csrf_token": "wrong"}).status_code == 403
    assert client.get("/console/").status_code == 200
    answer = client.post("/console/logout", data={"csrf_token": csrf})
    assert (answer.status_code, answer.headers["location"]) == (303, "/console/login")
    assert client.get("/console/").status_code == 303


def test_the_language_comes_from_the_switch_then_the_browser(
    client: TestClient, oltp: Engine
) -> None:
    assert 'lang="zh-CN"' in client.get("/console/login").text
    assert 'lang="en"' in client.get("/console/login", headers={"accept-language": "en-GB"}).text
    add_user(oltp, EMAIL, "analyst")
    csrf = sign_in(client, EMAIL)
    assert "连锁经营概览" in client.get("/console/").text
    refused = client.post("/console/language", data={"lang": "en", "next": "/console/"})
    assert refused.status_code == 403
    answer = client.post(
        "/console/language", data={"lang": "en", "csrf_token": csrf, "next": "/console/audit"}
    )
    assert answer.headers["location"] == "/console/audit"
    assert "Chain overview" in client.get("/console/").text


def test_only_console_paths_are_followed_after_a_form() -> None:
    assert safe_next("/console/audit?action=auth.login") == "/console/audit?action=auth.login"
    for target in (
        "https://evil.test/",
        "//evil.test",
        "/console\\@evil",
        "/console\r\nX: y",
        None,
    ):
        assert safe_next(target) == "/console/"
