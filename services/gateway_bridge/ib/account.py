"""IB account-value tags → `AccountSummary` fields (a data table); sentinels and text never leak as numbers."""

from __future__ import annotations

from decimal import Decimal

from ibkr.trading.v1 import portfolio_pb2

from services.common.money import decimal_to_proto, money_to_proto
from services.gateway_bridge.ib.numbers import to_decimal

MAP_ACCOUNT_MONEY: dict[str, str] = {
    "NetLiquidation": "net_liquidation",
    "TotalCashValue": "total_cash",
    "SettledCash": "settled_cash",
    "BuyingPower": "buying_power",
    "AvailableFunds": "available_funds",
    "ExcessLiquidity": "excess_liquidity",
    "InitMarginReq": "initial_margin",
    "MaintMarginReq": "maintenance_margin",
    "EquityWithLoanValue": "equity_with_loan",
    "GrossPositionValue": "gross_position_value",
    "RealizedPnL": "realized_pnl",
    "UnrealizedPnL": "unrealized_pnl",
}
MAP_ACCOUNT_DECIMAL: dict[str, str] = {"Leverage": "leverage"}
PNL_TAGS = frozenset({"RealizedPnL", "UnrealizedPnL"})
# IB reports some values per currency and again converted to the base currency under the pseudo-currency BASE.
BASE = "BASE"


def money(value: Decimal, currency: str):
    return money_to_proto(value.quantize(Decimal("1e-9")) if value.as_tuple().exponent < -9 else value, currency)


def summary(account_id: str, values: dict[tuple[str, str], str]) -> portfolio_pb2.AccountSummary:
    """The typed summary of one account's raw values {(tag, currency): text}."""
    currencies = {c for (tag, c) in values if tag == "NetLiquidation" and c and c != BASE}
    base = next(iter(sorted(currencies)), "USD")
    out = portfolio_pb2.AccountSummary(
        account_id=account_id, base_currency=base,
        account_type=portfolio_pb2.ACCOUNT_TYPE_PAPER if account_id.startswith("DU") else portfolio_pb2.ACCOUNT_TYPE_LIVE)
    for (tag, currency), text in sorted(values.items()):
        out.values.add(key=tag, value=text, currency=currency)
        number = to_decimal(text) if currency != BASE else None
        if number is None:
            continue
        if tag in MAP_ACCOUNT_MONEY and currency == base:
            getattr(out, MAP_ACCOUNT_MONEY[tag]).CopyFrom(money(number, currency))
        elif tag in MAP_ACCOUNT_DECIMAL:
            getattr(out, MAP_ACCOUNT_DECIMAL[tag]).CopyFrom(decimal_to_proto(number))
        elif tag == "CashBalance" and len(currency) == 3:
            out.cash_balances.add(balance=money(number, currency))
    return out
