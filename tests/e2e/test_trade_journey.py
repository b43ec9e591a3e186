"""The issue's "done when" over HTTP against ``newretail serve``: a new app user buys the paid
membership, tops up, gets the vouchers, checks out in the app and at the till with them, and the
till order's refund restores every balance; the ledgers reconcile with no difference."""

from __future__ import annotations

import datetime as dt
import io
import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from rich.console import Console
from tests.e2e.test_api_serve import Server, prepared_home
from tests.integration.trade_setup import CROISSANT, LATTE, PRICES, seed_catalogue

from newretail.cli.journey import TOP_UP_MINOR, Client, run_journey
from newretail.config import Settings
from newretail.loyalty.coupon_templates import ensure_demo_templates
from newretail.loyalty.demo_schemes import ensure_demo_schemes
from newretail.loyalty.reconcile import reconcile
from newretail.oltp import engine_from_settings
from newretail.security import Principal, create_user, create_user_key


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str]]:
    home = tmp_path_factory.mktemp("journey") / "home"
    prepared_home(home)
    engine = engine_from_settings(Settings(home=home))
    now = dt.datetime.now(dt.UTC)
    with engine.begin() as conn:
        seed_catalogue(conn)
        ensure_demo_templates(conn, now=now)
        ensure_demo_schemes(conn, now=now)
        create_user(
            conn,
            actor=Principal.cli(),
            email="till@example.com",
            role="channel",
            password=secrets.token_urlsafe(16),
            now=now,
        )
        key = create_user_key(conn, actor=Principal.cli(), email="till@example.com", now=now)
    engine.dispose()
    server = Server(home).start()
    try:
        yield server, key.key
    finally:
        server.stop()


def test_a_new_customers_first_week_restores_every_balance_on_refund(
    shop: tuple[Server, str],
) -> None:
    server, key = shop
    output = io.StringIO()
    done = run_journey(Client(server.url, key), Console(file=output, width=120))
    after_top_up, after_app, after_till, after_refund = done["balances"]
    # The top-up of 300 CNY reaches the 300 step of the club's bonus ladder (+40).
    assert after_top_up.wallet_minor == TOP_UP_MINOR + 4_000
    assert after_top_up.vouchers == 3, "one free drink and two 10-off vouchers for the month"
    # The app order: a latte free with the voucher, the croissant paid from the wallet.
    assert after_top_up.wallet_minor - after_app.wallet_minor == PRICES[CROISSANT]
    assert after_app.vouchers == 2
    # The till order (two lattes and a croissant, 10 off) is paid by card and earns a point per
    # whole yuan of each line's net.
    till = httpx.get(
        f"{server.url}/api/v1/orders/{done['orders'][1]}",
        headers={"Authorization": f"Bearer {key}"},
    ).json()
    assert till["paid_minor"] == 2 * PRICES[LATTE] + PRICES[CROISSANT] - 1_000
    earned = sum(line["net_minor"] // 100 for line in till["lines"])
    assert after_till.points - after_app.points == till["points_earned"] == earned
    assert after_till.vouchers == 1
    assert after_refund == after_app, "the refund restores points, wallet and voucher"
    assert done["restored"]
    engine = engine_from_settings(Settings(home=server.home))
    try:
        with engine.connect() as conn:
            assert reconcile(conn).differences == []
    finally:
        engine.dispose()


def test_the_journey_command_refuses_a_url_that_is_not_http(tmp_path: Path) -> None:
    from newretail.errors import InvalidInput

    with pytest.raises(InvalidInput) as caught:
        Client("file:///etc/passwd", "k")
    assert caught.value.code == "journey.bad_url"
