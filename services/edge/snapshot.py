"""The snapshot a fresh event stream starts with: open orders, positions and the account, as events.

Each piece comes from its source of truth (open orders and account from the bridge, positions from the
ledger) and is shaped as the delta event it would be (`order_update`, `position_update`, `account_update`),
so a client applies snapshot and deltas with the same code. A source that cannot answer is skipped and
named in the SNAPSHOT_END marker rather than failing the stream.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from ibkr.gateway.v1 import gateway_pb2
from ibkr.ledger.v1 import ledger_pb2
from ibkr.trading.v1 import event_pb2

from services.common.errors import DomainError
from services.edge.downstream import Downstream
from services.edge.filters import EventFilter

SOURCE = "edge.snapshot"
_MAX_PAGES = 50


@dataclass
class Snapshot:
    """The snapshot events, and the parts that could not be read."""

    events: list[event_pb2.Event] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def _event(account_id: str, symbol: str, **payload: object) -> event_pb2.Event:
    now = Timestamp()
    now.GetCurrentTime()
    return event_pb2.Event(event_id=f"snapshot-{uuid.uuid4()}", event_time=now, account_id=account_id,
                           source=SOURCE, symbol=symbol, **payload)  # type: ignore[arg-type]


async def _pages(fetch: Callable[[str], Awaitable[tuple[list, str]]]) -> list:
    items: list = []
    token = ""
    for _ in range(_MAX_PAGES):
        page, token = await fetch(token)
        items.extend(page)
        if not token:
            break
    return items


async def take_snapshot(down: Downstream, account_id: str, flt: EventFilter,
                        context: grpc.aio.ServicerContext | None) -> Snapshot:
    """Read the current state for `account_id`, keeping only what `flt` lets through."""
    snap = Snapshot()

    async def open_orders(token: str) -> tuple[list, str]:
        reply = await down.call(down.bridge.ListOpenOrders, gateway_pb2.ListOpenOrdersRequest(
            account_id=account_id, page_size=500, page_token=token), context)
        return list(reply.orders), reply.next_page_token

    async def positions(token: str) -> tuple[list, str]:
        reply = await down.call(down.ledger.ListPositions, ledger_pb2.ListPositionsRequest(
            account_id=account_id, page_size=500, page_token=token), context)
        return list(reply.positions), reply.next_page_token

    if flt.matches("order_update", account_id, ""):
        try:
            for order in await _pages(open_orders):
                if flt.matches("order_update", order.account_id, order.spec.instrument.symbol):
                    snap.events.append(_event(order.account_id, order.spec.instrument.symbol,
                                              order_update=event_pb2.OrderUpdate(order=order)))
        except DomainError:
            snap.missing.append("open_orders")
    if flt.matches("position_update", account_id, ""):
        try:
            for position in await _pages(positions):
                if flt.matches("position_update", position.account_id, position.instrument.symbol):
                    snap.events.append(_event(position.account_id, position.instrument.symbol,
                                              position_update=event_pb2.PositionUpdate(position=position)))
        except DomainError:
            snap.missing.append("positions")
    if flt.matches("account_update", account_id, ""):
        try:
            reply = await down.call(down.bridge.GetAccount, gateway_pb2.GetAccountRequest(account_id=account_id),
                                    context)
            snap.events.append(_event(account_id, "", account_update=event_pb2.AccountUpdate(account=reply.account)))
        except DomainError:
            snap.missing.append("account")
    return snap
