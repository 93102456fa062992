"""P&L of an account and its positions, from the day's booked realized P&L and the latest marks.

`daily_pnl` of today is IB-style: per position, the value now less the overnight quantity's value at the
previous close (from quotes), plus the day's cash flows. When a needed price is unknown, and for past days
(the ledger keeps no historical marks), it is the day's realized P&L (commissions included).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ibkr.trading.v1 import portfolio_pb2

from services.common.money import decimal_to_proto, money_to_proto
from services.ledger import mapping
from services.ledger.positions import daily_pnl, money

DEFAULT_CURRENCY = "USD"


def position_daily(row: Any, flow: Any | None) -> Decimal | None:
    """Today's P&L of one position (None when a price it needs is unknown)."""
    traded, cash = (flow["quantity"], flow["cash_flow"]) if flow else (Decimal(0), Decimal(0))
    return daily_pnl(row["quantity"], row["multiplier"], row["mark_price"], row["close_price"], traded, cash)


def position_pnl(row: Any, daily: Decimal | None = None) -> portfolio_pb2.Pnl:
    """Per-position P&L (realized since the ledger began, unrealized at the latest mark, today's)."""
    state = mapping.position_state(row)
    ccy = row["currency"]
    out = portfolio_pb2.Pnl(account_id=row["account_id"], instrument=mapping.instrument(row["instrument"]),
                            realized_pnl=money_to_proto(money(state.realized_pnl), ccy),
                            position_quantity=decimal_to_proto(state.quantity),
                            update_time=mapping.timestamp(row["updated_at"]))
    if row["mark_price"] is not None:
        out.unrealized_pnl.CopyFrom(money_to_proto(state.unrealized_pnl(row["mark_price"], row["multiplier"]), ccy))
        out.market_value.CopyFrom(money_to_proto(money(state.quantity * row["mark_price"] * row["multiplier"]), ccy))
    if daily is not None:
        out.daily_pnl.CopyFrom(money_to_proto(daily, ccy))
    return out


def account_pnl(account_id: str, daily: list[Any], positions: list[Any],
                position_dailies: list[Decimal | None] | None = None) -> portfolio_pb2.Pnl:
    """The account's P&L for a day: realized that day, unrealized now (in the first currency booked), and
    daily P&L from the positions' dailies when all are known (else the realized part)."""
    currency = daily[0]["currency"] if daily else (positions[0]["currency"] if positions else DEFAULT_CURRENCY)
    realized = sum((r["realized_pnl"] for r in daily if r["currency"] == currency), Decimal(0))
    unrealized = sum((mapping.position_state(p).unrealized_pnl(p["mark_price"], p["multiplier"])
                      for p in positions if p["mark_price"] is not None and p["currency"] == currency), Decimal(0))
    known = position_dailies is not None and all(d is not None for d in position_dailies)
    day = sum(position_dailies, Decimal(0)) if known else realized  # type: ignore[arg-type]
    return portfolio_pb2.Pnl(account_id=account_id, realized_pnl=money_to_proto(money(realized), currency),
                             unrealized_pnl=money_to_proto(money(unrealized), currency),
                             daily_pnl=money_to_proto(money(day), currency))
