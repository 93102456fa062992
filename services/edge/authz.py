"""The authorization table: which role each public method needs and how it is scoped to accounts.

Pure data plus two pure functions, so the whole policy is reviewable in one screen and unit-tested without
a server. The auth guard (`auth.py`) applies it to every unary and streaming call.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from services.common.errors import FieldViolation, InvalidArgument, PermissionDenied
from services.edge.keys import Principal, Role


class Scope(enum.Enum):
    """How a method's `account_id` field is checked against the key's accounts."""

    NONE = "none"
    """No account involved (market data, system status)."""
    ACCOUNT = "account"
    """`account_id` must be one of the key's accounts; empty means the key's only account."""
    ACCOUNT_OR_GLOBAL = "account_or_global"
    """Like ACCOUNT, unless the request sets `global_scope` (the suite-wide trading state): then no account."""


@dataclass(frozen=True)
class Rule:
    """The minimum role for a method and its account scoping."""

    role: Role
    scope: Scope


_V, _T, _A = Role.VIEWER, Role.TRADER, Role.ADMIN

RULES: dict[str, Rule] = {
    # Trading: reads are for viewers; anything that could create, change or remove an order is for traders.
    # PreviewOrder changes nothing but is trading intent (and costs a broker what-if), so traders only.
    "/ibkr.edge.v1.TradingService/PlaceOrder": Rule(_T, Scope.ACCOUNT),
    "/ibkr.edge.v1.TradingService/PreviewOrder": Rule(_T, Scope.ACCOUNT),
    "/ibkr.edge.v1.TradingService/ReplaceOrder": Rule(_T, Scope.ACCOUNT),
    "/ibkr.edge.v1.TradingService/CancelOrder": Rule(_T, Scope.ACCOUNT),
    "/ibkr.edge.v1.TradingService/CancelAllOrders": Rule(_T, Scope.ACCOUNT),
    "/ibkr.edge.v1.TradingService/ClosePosition": Rule(_T, Scope.ACCOUNT),
    "/ibkr.edge.v1.TradingService/GetOrder": Rule(_V, Scope.ACCOUNT),
    "/ibkr.edge.v1.TradingService/ListOrders": Rule(_V, Scope.ACCOUNT),
    "/ibkr.edge.v1.TradingService/ListFills": Rule(_V, Scope.ACCOUNT),
    "/ibkr.edge.v1.PortfolioService/GetAccount": Rule(_V, Scope.ACCOUNT),
    "/ibkr.edge.v1.PortfolioService/ListPositions": Rule(_V, Scope.ACCOUNT),
    "/ibkr.edge.v1.PortfolioService/GetPnl": Rule(_V, Scope.ACCOUNT),
    "/ibkr.edge.v1.MarketDataService/GetQuote": Rule(_V, Scope.NONE),
    "/ibkr.edge.v1.MarketDataService/StreamQuotes": Rule(_V, Scope.NONE),
    "/ibkr.edge.v1.EventService/StreamEvents": Rule(_V, Scope.ACCOUNT),
    # Admin: anyone may see whether trading is halted and why; only admins flip the switch or the policy.
    "/ibkr.edge.v1.AdminService/GetTradingState": Rule(_V, Scope.ACCOUNT_OR_GLOBAL),
    "/ibkr.edge.v1.AdminService/SetTradingState": Rule(_A, Scope.ACCOUNT_OR_GLOBAL),
    "/ibkr.edge.v1.AdminService/GetRiskPolicy": Rule(_V, Scope.NONE),
    "/ibkr.edge.v1.AdminService/UpdateRiskPolicy": Rule(_A, Scope.NONE),
    "/ibkr.edge.v1.AdminService/GetSystemStatus": Rule(_V, Scope.NONE),
}
"""Every public method. A method missing here is denied to everyone (fail closed)."""


def rule_for(method: str) -> Rule | None:
    """The rule for a full method name (`/pkg.Service/Method`), or None when the method is not public."""
    return RULES.get(method)


def check_role(principal: Principal, rule: Rule | None, method: str) -> None:
    """Raise PERMISSION_DENIED unless the key's role is enough for the method."""
    if rule is None:
        raise PermissionDenied("METHOD_NOT_ALLOWED", f"{method} is not available to API keys")
    if not principal.has_role(rule.role):
        raise PermissionDenied("ROLE_INSUFFICIENT", f"this method needs the {rule.role.name.lower()} role",
                               metadata={"required_role": rule.role.name.lower(),
                                         "key_role": principal.role.name.lower()})


def resolve_account(principal: Principal, rule: Rule, requested: str, *, is_global: bool = False) -> str:
    """The account a call acts on, after scoping: the requested one, or the key's only account when empty.

    Raises PERMISSION_DENIED for an account outside the key's scope, INVALID_ARGUMENT when the account is
    ambiguous (empty, and the key has several). A global request (ACCOUNT_OR_GLOBAL with `global_scope` set)
    concerns no account and keeps `account_id` as sent.
    """
    if rule.scope is Scope.NONE or (rule.scope is Scope.ACCOUNT_OR_GLOBAL and is_global):
        return requested
    if not requested:
        default = principal.default_account
        if default is None:
            raise InvalidArgument("ACCOUNT_REQUIRED", "account_id is required: the key has several accounts",
                                  field_violations=[FieldViolation(
                                      "account_id", "required when the key is scoped to several accounts",
                                      "REQUIRED")])
        return default
    if not principal.can_access(requested):
        # The account id is the caller's own input, so naming it leaks nothing.
        raise PermissionDenied("ACCOUNT_NOT_IN_SCOPE", f"the key is not scoped to account {requested}",
                               metadata={"account_id": requested})
    return requested
