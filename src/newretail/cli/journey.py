"""``newretail trade journey``: a new customer's first week, played against a running server through
its public API with a channel key, printing every balance on the way.

A new app user signs up (OneID gives them a person), joins the club, buys the paid membership (its
vouchers arrive), tops up the wallet, checks out in the app with the free-drink voucher paying from the
wallet and at the till with a 10-off voucher, and the till's order is refunded: the points, the wallet
and the voucher come back exactly. It ends with the ledger reconciliation when the server's database
is this home's.
"""

from __future__ import annotations

import json
import secrets
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.table import Table

from newretail.errors import InvalidInput, NewRetailError

PAID_SCHEME = "paid_annual"
FREE_DRINK = "paid_monthly_free_drink"
TEN_OFF = "paid_monthly_10_off"
TOP_UP_MINOR = 30_000


class ApiError(NewRetailError):
    """The server refused a call: its problem document's code and message."""


@dataclass
class Client:
    url: str
    key: str

    def __post_init__(self) -> None:
        if not self.url.startswith(("http://", "https://")):
            raise InvalidInput(
                "journey.bad_url", "the server URL is http:// or https://", field="--url"
            )

    def call(self, method: str, path: str, body: object | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"}
        if method != "GET":
            headers["Idempotency-Key"] = secrets.token_hex(12)
        # The scheme is checked to be http(s) when the client is made.
        request = urllib.request.Request(  # noqa: S310
            self.url.rstrip("/") + path, data=data, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            problem = json.loads(error.read() or b"{}")
            raise ApiError(
                problem.get("code", f"http.{error.code}"),
                f"{method} {path}: {problem.get('detail') or problem.get('title') or error.reason}",
            ) from None
        except urllib.error.URLError as error:
            raise InvalidInput(
                "journey.no_server", f"no server at {self.url}: {error.reason}", field="--url"
            ) from None


@dataclass(frozen=True)
class Balances:
    points: int
    wallet_minor: int
    vouchers: int


def run_journey(client: Client, console: Console, *, store_id: str | None = None) -> dict[str, Any]:
    """Play the journey; returns what it did (ids and balances) for a caller to check."""
    store, menu = _store_and_menu(client, store_id)
    coffee = next(item for item in menu if item["category"] == "coffee")
    food = next((item for item in menu if item["category"] == "food"), coffee)
    account = f"journey-{secrets.token_hex(5)}"
    person = client.call(
        "POST", "/api/v1/identity/resolve", {"identifiers": [{"type": "app_uid", "value": account}]}
    )["person_id"]
    member = {"person_id": person}
    console.print(f"1. App user {account} signed up: OneID person [bold]{person}[/]")
    club = client.call(
        "POST",
        "/api/v1/loyalty/memberships",
        {"scheme_id": _club(client, store["currency"]), "member": member, "channel": "app"},
    )
    console.print(f"2. Joined {club['scheme_id']} at tier {club['tier']}")
    paid = client.call(
        "POST",
        "/api/v1/loyalty/paid",
        {"scheme_id": PAID_SCHEME, "member": member, "payment_method": "wechat_pay"},
    )
    console.print(f"3. Bought the paid membership {paid['starts_on']} to {paid['ends_on']}")
    top_up = client.call(
        "POST",
        f"/api/v1/loyalty/memberships/{club['id']}/wallet/top-ups",
        {"amount_minor": TOP_UP_MINOR, "payment_method": "alipay"},
    )
    console.print(f"4. Topped up the wallet: {_money(top_up)}")
    vouchers = _vouchers(client, person)
    console.print(f"5. Vouchers received: {', '.join(sorted(v['template_id'] for v in vouchers))}")
    states = [_balances(client, club["id"], person)]
    app_order = client.call(
        "POST",
        "/api/v1/orders",
        _order("app", store, person, [coffee, food], [_code(vouchers, FREE_DRINK)], "stored_value"),
    )
    console.print(_order_line("6. App order", app_order))
    states.append(_balances(client, club["id"], person))
    till_order = client.call(
        "POST",
        "/api/v1/orders",
        _order("pos", store, person, [coffee, coffee, food], [_code(vouchers, TEN_OFF)], "card"),
    )
    console.print(_order_line("7. Till order", till_order))
    states.append(_balances(client, club["id"], person))
    refund = client.call(
        "POST", f"/api/v1/orders/{till_order['id']}/refunds", {"reason": "changed_mind"}
    )
    console.print(
        f"8. Till order refunded: {refund['amount_minor'] / 100:.2f} back, "
        f"{refund['points_reversed']} points reversed, coupons back: {refund['coupons_restored']}"
    )
    states.append(_balances(client, club["id"], person))
    _print_balances(console, states)
    restored = states[3] == states[1]
    console.print(
        "Every balance is back where it was before the till order."
        if restored
        else "[red]The refund did not restore the balances.[/]"
    )
    return {
        "person_id": person,
        "membership_id": club["id"],
        "orders": [app_order["id"], till_order["id"]],
        "balances": states,
        "restored": restored,
    }


def _store_and_menu(client: Client, store_id: str | None) -> tuple[dict[str, Any], list[Any]]:
    stores = client.call("GET", "/api/v1/catalogue/stores")["data"]
    chosen = [
        s
        for s in stores
        if s["store_id"] == store_id or (store_id is None and s["currency"] == "CNY")
    ]
    if not chosen:
        raise InvalidInput(
            "journey.no_store", "no open CNY store in the catalogue", field="--store"
        )
    store = chosen[0]
    return store, client.call("GET", f"/api/v1/catalogue/stores/{store['store_id']}/menu")["data"]


def _club(client: Client, currency: str) -> str:
    schemes = client.call("GET", "/api/v1/loyalty/schemes")["data"]
    for scheme in schemes:
        if (
            scheme["kind"] == "free"
            and scheme["currency"] == currency
            and "app" in scheme["rules"]["channels"]
        ):
            return str(scheme["id"])
    raise InvalidInput("journey.no_scheme", f"no club scheme for the app in {currency}")


def _vouchers(client: Client, person: str) -> list[dict[str, Any]]:
    found = client.call("GET", f"/api/v1/coupons?person_id={person}&status=issued")["data"]
    return [coupon for coupon in found if coupon["template_id"] in (FREE_DRINK, TEN_OFF)]


def _code(vouchers: list[dict[str, Any]], template: str) -> str:
    return str(next(v["id"] for v in vouchers if v["template_id"] == template))


def _order(
    channel: str,
    store: dict[str, Any],
    person: str,
    items: list[dict[str, Any]],
    coupons: list[str],
    payment: str,
) -> dict[str, Any]:
    return {
        "channel": channel,
        "store_id": store["store_id"],
        "client_order_id": f"{channel}-{secrets.token_hex(6)}",
        "fulfilment": "pickup" if channel == "app" else "takeaway",
        "payment_method": payment,
        "member": {"person_id": person},
        "coupons": coupons,
        "lines": [{"product_id": item["product_id"], "quantity": 1} for item in items],
    }


def _balances(client: Client, membership_id: int, person: str) -> Balances:
    membership = client.call("GET", f"/api/v1/loyalty/memberships/{membership_id}")
    money = membership["balances"]
    return Balances(
        points=money["points"],
        wallet_minor=money["wallet_principal_minor"] + money["wallet_bonus_minor"],
        vouchers=len(_vouchers(client, person)),
    )


def _money(top_up: dict[str, Any]) -> str:
    return f"{top_up['amount_minor'] / 100:.2f} + bonus {top_up['bonus_minor'] / 100:.2f}"


def _order_line(label: str, order: dict[str, Any]) -> str:
    return (
        f"{label} {order['id']}: gross {order['gross_minor'] / 100:.2f}, discounts "
        f"{order['discount_minor'] / 100:.2f}, paid {order['paid_minor'] / 100:.2f} "
        f"({order['payment_method']}), {order['points_earned']} points"
    )


def _print_balances(console: Console, states: list[Balances]) -> None:
    table = Table(title="Balances")
    for column in ("after", "points", "wallet", "unused vouchers"):
        table.add_column(column, justify="left" if column == "after" else "right")
    labels = ("top-up and vouchers", "app order", "till order", "till refund")
    for label, state in zip(labels, states, strict=True):
        table.add_row(
            label, str(state.points), f"{state.wallet_minor / 100:.2f}", str(state.vouchers)
        )
    console.print(table)
