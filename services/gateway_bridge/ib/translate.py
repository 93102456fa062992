"""Raw ib_async callback arguments → `domain.events` (pure functions; all IB field names end here)."""

from __future__ import annotations

import datetime as dt

from ib_async import CommissionReport, Contract, Execution, Order, OrderState

from services.gateway_bridge.domain.events import (
    AccountValueSeen,
    CommissionSeen,
    ErrorSeen,
    ExecutionSeen,
    OrderSeen,
    PortfolioSeen,
    PositionSeen,
    StatusSeen,
)
from services.gateway_bridge.domain.fills import CommissionInfo
from services.gateway_bridge.ib.numbers import to_commission, to_decimal, to_price, to_quantity
from services.gateway_bridge.ib.orders import MAP_IB_SIDE, instrument_from_contract, spec_from_ib
from services.gateway_bridge.ib.status import map_status


def open_order(order_id: int, contract: Contract, order: Order, state: OrderState) -> OrderSeen:
    return OrderSeen(
        order_ref=order.orderRef or "", perm_id=int(order.permId or 0), client_id=int(order.clientId or 0),
        broker_order_id=int(order_id or order.orderId or 0), account_id=order.account or "",
        spec=spec_from_ib(contract, order), status=map_status(state.status), filled=None,
        parent_broker_order_id=int(order.parentId or 0))


def completed_order(contract: Contract, order: Order, state: OrderState) -> OrderSeen:
    filled = to_decimal(order.filledQuantity)
    return OrderSeen(
        order_ref=order.orderRef or "", perm_id=int(order.permId or 0), client_id=int(order.clientId or 0),
        broker_order_id=int(order.orderId or 0), account_id=order.account or "",
        spec=spec_from_ib(contract, order), status=map_status(state.status), filled=filled, completed=True,
        parent_broker_order_id=int(order.parentId or 0))


def order_status(order_id: int, status: str, filled: float, remaining: float, avg_fill_price: float,
                 perm_id: int, parent_id: int, last_fill_price: float, client_id: int) -> StatusSeen:
    del parent_id
    return StatusSeen(
        client_id=int(client_id), broker_order_id=int(order_id), perm_id=int(perm_id), status=map_status(status),
        filled=to_quantity(filled), remaining=to_quantity(remaining), avg_fill_price=to_price(avg_fill_price),
        last_fill_price=to_price(last_fill_price))


def execution(contract: Contract, ex: Execution) -> ExecutionSeen:
    when = ex.time if isinstance(ex.time, dt.datetime) else dt.datetime.now(dt.UTC)
    price = to_price(ex.price)
    return ExecutionSeen(
        execution_id=ex.execId, order_ref=ex.orderRef or "", perm_id=int(ex.permId or 0),
        client_id=int(ex.clientId or 0), broker_order_id=int(ex.orderId or 0), account_id=ex.acctNumber or "",
        instrument=instrument_from_contract(contract), side=MAP_IB_SIDE.get(ex.side, 0),
        quantity=to_quantity(ex.shares), price=price if price is not None else to_quantity(ex.price),
        cumulative_quantity=to_quantity(ex.cumQty), avg_price=to_price(ex.avgPrice), time=when,
        exchange=ex.exchange or "")


def commission(report: CommissionReport) -> CommissionSeen:
    return CommissionSeen(CommissionInfo(
        execution_id=report.execId, amount=to_commission(report.commission), currency=report.currency or "USD",
        realized_pnl=to_decimal(report.realizedPNL) if report.realizedPNL else None))


def error(req_id: int, code: int, message: str) -> ErrorSeen:
    return ErrorSeen(req_id=int(req_id), code=int(code), message=message or "")


def position(account: str, contract: Contract, quantity: float, avg_cost: float) -> PositionSeen:
    return PositionSeen(account_id=account, instrument=instrument_from_contract(contract),
                        quantity=to_quantity(quantity), average_cost=to_decimal(avg_cost))


def account_value(tag: str, value: str, currency: str, account: str) -> AccountValueSeen:
    return AccountValueSeen(account_id=account, key=tag, value=value, currency=currency)


def portfolio(contract: Contract, position: float, market_price: float, market_value: float, average_cost: float,
              unrealized_pnl: float, realized_pnl: float, account: str) -> PortfolioSeen:
    return PortfolioSeen(
        account_id=account, instrument=instrument_from_contract(contract), quantity=to_quantity(position),
        market_price=to_price(market_price), market_value=to_decimal(market_value),
        average_cost=to_decimal(average_cost), unrealized_pnl=to_decimal(unrealized_pnl),
        realized_pnl=to_decimal(realized_pnl))
