"""Roles and the permission matrix: the one place that says which role may do what."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from newretail.errors import InvalidInput


class Role(StrEnum):
    ADMIN = "admin"
    ANALYST = "analyst"
    MARKETER = "marketer"
    SUPPLY_PLANNER = "supply_planner"
    STORE_MANAGER = "store_manager"
    # Customer service: a person's orders, balances and complaints; refunds and re-issued coupons.
    SERVICE_AGENT = "service_agent"
    # A channel's backend (app, mini-program, POS) acting for its shoppers: a service account.
    CHANNEL = "channel"
    # An outside supplier: its own materials' forecast, DC stock and deliveries, nothing else.
    SUPPLIER = "supplier"


class Permission(StrEnum):
    CUSTOMERS_READ = "customers.read"
    PII_REVEAL = "pii.reveal"
    AUDIT_READ = "audit.read"
    USERS_MANAGE = "users.manage"
    KEYS_MANAGE = "keys.manage"
    EXPORTS_CREATE = "exports.create"
    AUDIENCES_READ = "audiences.read"
    AUDIENCES_WRITE = "audiences.write"
    CAMPAIGNS_READ = "campaigns.read"
    CAMPAIGNS_WRITE = "campaigns.write"
    SUPPLY_READ = "supply.read"
    SUPPLY_WRITE = "supply.write"
    SUPPLY_SUPPLIER_READ = "supply.supplier_read"
    STORES_READ = "stores.read"
    METRICS_READ = "metrics.read"
    IDENTITY_READ = "identity.read"
    IDENTITY_RESOLVE = "identity.resolve"
    IDENTITY_MERGE = "identity.merge"
    FLASHSALES_READ = "flashsales.read"
    FLASHSALES_MANAGE = "flashsales.manage"
    FLASHSALES_RESERVE = "flashsales.reserve"
    LOYALTY_READ = "loyalty.read"
    LOYALTY_MANAGE = "loyalty.manage"
    LOYALTY_TRANSACT = "loyalty.transact"
    COUPONS_ISSUE = "coupons.issue"
    COUPONS_REISSUE = "coupons.reissue"
    ORDERS_READ = "orders.read"
    ORDERS_PLACE = "orders.place"
    ORDERS_REFUND = "orders.refund"


P = Permission
PERMISSIONS: Mapping[Role, frozenset[Permission]] = MappingProxyType(
    {
        Role.ADMIN: frozenset(Permission),
        Role.ANALYST: frozenset(
            {
                P.CUSTOMERS_READ,
                P.IDENTITY_READ,
                # Merging, un-merging and deciding review pairs is the data team's work.
                P.IDENTITY_MERGE,
                P.EXPORTS_CREATE,
                P.AUDIENCES_READ,
                P.CAMPAIGNS_READ,
                P.SUPPLY_READ,
                P.SUPPLY_SUPPLIER_READ,
                P.STORES_READ,
                P.METRICS_READ,
                P.FLASHSALES_READ,
                P.LOYALTY_READ,
                P.ORDERS_READ,
            }
        ),
        Role.MARKETER: frozenset(
            {
                P.CUSTOMERS_READ,
                P.IDENTITY_READ,
                P.EXPORTS_CREATE,
                P.AUDIENCES_READ,
                P.AUDIENCES_WRITE,
                P.CAMPAIGNS_READ,
                P.CAMPAIGNS_WRITE,
                P.STORES_READ,
                P.METRICS_READ,
                # Flash sales are a marketing event: marketers create, arm and close them.
                P.FLASHSALES_READ,
                P.FLASHSALES_MANAGE,
                # Membership schemes and coupon templates are marketing's, and so is issuing.
                P.LOYALTY_READ,
                P.LOYALTY_MANAGE,
                P.COUPONS_ISSUE,
            }
        ),
        Role.SUPPLY_PLANNER: frozenset(
            {P.SUPPLY_READ, P.SUPPLY_WRITE, P.SUPPLY_SUPPLIER_READ, P.STORES_READ, P.METRICS_READ}
        ),
        # Everything a store manager reads is further limited to the stores in its scope.
        Role.STORE_MANAGER: frozenset(
            {
                P.CUSTOMERS_READ,
                P.IDENTITY_READ,
                P.SUPPLY_READ,
                P.STORES_READ,
                P.METRICS_READ,
                P.ORDERS_READ,
            }
        ),
        Role.SERVICE_AGENT: frozenset(
            {
                P.CUSTOMERS_READ,
                P.IDENTITY_READ,
                P.LOYALTY_READ,
                P.ORDERS_READ,
                P.ORDERS_REFUND,
                P.COUPONS_REISSUE,
            }
        ),
        # Reads a sale to show it and reserves and pays for the shopper it acts for; nothing else.
        # Reserving stays out of the staff roles, so no console user buys stock for anyone.
        # Checkout, refunds at the till, sign-up (OneID resolves the new account to a person),
        # enrolment, top-ups and paid membership for its shoppers.
        Role.CHANNEL: frozenset(
            {
                P.IDENTITY_RESOLVE,
                P.FLASHSALES_READ,
                P.FLASHSALES_RESERVE,
                P.LOYALTY_READ,
                P.LOYALTY_TRANSACT,
                P.ORDERS_READ,
                P.ORDERS_PLACE,
                P.ORDERS_REFUND,
            }
        ),
        # Scoped to one supplier: the supplier view of its own materials, no store's data.
        Role.SUPPLIER: frozenset({P.SUPPLY_SUPPLIER_READ}),
    }
)

# Roles whose users see only a list of stores; every other role sees the whole chain.
STORE_SCOPED_ROLES = frozenset({Role.STORE_MANAGER})
# Roles whose users act for one supplier and see only its materials.
SUPPLIER_SCOPED_ROLES = frozenset({Role.SUPPLIER})


def parse_role(text: str) -> Role:
    """The role named ``text``, or :class:`InvalidInput` ``users.unknown_role``.

    >>> parse_role("analyst")
    <Role.ANALYST: 'analyst'>
    """
    try:
        return Role(text)
    except ValueError:
        known = ", ".join(Role)
        raise InvalidInput(
            "users.unknown_role", f"unknown role {text!r}; use one of {known}", field="role"
        ) from None
