"""Restoring the exposure book at start: first risk's own tables (reservations written before each send,
the position view), then the ledger, the system of record, for positions and working orders.

The ledger may be down: the book then starts from risk's own tables and the bus alone, the failure is
logged, `ibkr_risk_ledger_rebuild_ok` is 0 and the health entry `LEDGER_REBUILD_HEALTH` is NOT_SERVING
until a later attempt succeeds.
"""

from __future__ import annotations

import logging
from decimal import Decimal

import grpc
from ibkr.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from ibkr.trading.v1 import order_pb2

from services.risk.feed import Feed, order_key
from services.risk.gate import Gate

log = logging.getLogger("services.risk.rebuild")
LEDGER_REBUILD_HEALTH = "ibkr.risk.v1.RiskService/ledger-rebuild"
WORKING = (order_pb2.ORDER_STATUS_PENDING_SUBMIT, order_pb2.ORDER_STATUS_SUBMITTED,
           order_pb2.ORDER_STATUS_PARTIALLY_FILLED, order_pb2.ORDER_STATUS_PENDING_CANCEL,
           order_pb2.ORDER_STATUS_PENDING_REPLACE, order_pb2.ORDER_STATUS_UNKNOWN, order_pb2.ORDER_STATUS_INACTIVE)


async def load_own_state(gate: Gate) -> tuple[int, int]:
    """Reservations, positions and the recent accepted-order history (rolling windows, duplicates) from
    risk's schema; returns (reservations, positions) loaded."""
    if gate.store is None:
        return 0, 0
    reservations = await gate.store.reservations()
    for r in reservations:
        gate.books.account(r.account_id).reserve(r)
    gate.metrics.open_reservations.set(sum(len(b.open_orders) for b in gate.books.accounts.values()))
    positions = await gate.store.positions()
    for account, symbol, pos in positions:
        gate.books.account(account).restore_position(symbol, pos)
    keep = gate.policies.activity_seconds()
    for at, notional, intent in await gate.store.activity(gate.clock() - keep):
        gate.books.account(intent.account_id).record_accepted(intent, notional, at, keep)
    return len(reservations), len(positions)


async def rebuild_from_ledger(gate: Gate, feed: Feed, channel: grpc.aio.Channel, accounts: list[str],
                              timeout: float) -> bool:
    """Positions and working orders of `accounts` from the ledger; False (logged) when it cannot answer."""
    stub = ledger_pb2_grpc.LedgerServiceStub(channel)
    try:
        for account in accounts:
            await _positions(gate, stub, account, timeout)
            await _orders(gate, feed, stub, account, timeout)
    except grpc.aio.AioRpcError as err:
        log.warning("ledger unavailable: exposure state rebuilt from risk's own tables and the bus only",
                    extra={"grpc_code": err.code().name, "details": err.details()})
        gate.metrics.ledger_available.set(0)
        return False
    gate.metrics.ledger_available.set(1)
    log.info("exposure state rebuilt from the ledger", extra={"accounts": accounts})
    return True


async def _positions(gate: Gate, stub, account: str, timeout: float) -> None:
    token = ""
    book = gate.books.account(account)
    while True:
        reply = await stub.ListPositions(ledger_pb2.ListPositionsRequest(account_id=account, page_size=1000,
                                                                         page_token=token), timeout=timeout)
        for p in reply.positions:
            book.set_position(p.instrument.symbol.upper(), Decimal(p.quantity.value or "0"),
                              mark=Decimal(p.market_price.value) if p.market_price.value else None,
                              average_cost=Decimal(p.average_cost.value) if p.average_cost.value else None)
            if gate.store is not None:
                gate.store.save_position(account, p.instrument.symbol.upper(),
                                               book.positions[p.instrument.symbol.upper()])
        token = reply.next_page_token
        if not token:
            return


async def _orders(gate: Gate, feed: Feed, stub, account: str, timeout: float) -> None:
    token = ""
    book = gate.books.account(account)
    while True:
        reply = await stub.ListOrders(ledger_pb2.ListOrdersRequest(account_id=account, statuses=WORKING,
                                                                   page_size=1000, page_token=token),
                                      timeout=timeout)
        for order in reply.orders:
            key = order_key(order.client_order_id, order.order_id)
            if key in book.open_orders:
                gate.apply_order(account, key, order)
            else:
                feed.adopt(account, key, order)  # the same adoption as a bus update
        token = reply.next_page_token
        if not token:
            return
