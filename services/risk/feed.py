"""Keeps the exposure book current from the bus: quotes, fills, order updates, positions, account values
and P&L. Risk tails the stream with XREAD (a plain tail, not a consumer group): its state is rebuilt at
every start, so it needs every event after its starting point, not a share of them.

Applying is idempotent: fills are counted once per execution id, positions are absolute, reservations only
ever shrink, and a terminal order releases its reservation once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from decimal import Decimal

from ibkr.trading.v1 import event_pb2, order_pb2

from services.common.bus import BusEntry, EventBus
from services.common.tasks import cancel_and_wait, raise_if_cancelling
from services.risk.core.book import OpenOrder
from services.risk.core.model import Quote, Side
from services.risk.gate import TERMINAL_STATUSES, Gate
from services.risk.metrics import RiskMetrics

log = logging.getLogger("services.risk.feed")
# Event types whose effects are written to risk's tables: only after these is the cursor worth saving.
PERSISTED_TYPES = frozenset({"fill", "order_update", "position_update"})
OWN_TYPES = frozenset({"risk_decision", "trading_state_change"})
OWN_ONLY_PAUSE_SECONDS = 0.02
_SIDES = {order_pb2.ORDER_SIDE_BUY: Side.BUY, order_pb2.ORDER_SIDE_SELL: Side.SELL}


def _dec(pb) -> Decimal | None:
    return Decimal(pb.value) if pb.value else None


def _money(pb) -> Decimal | None:
    if not pb.currency_code:
        return None
    return Decimal(pb.units) + Decimal(pb.nanos) / Decimal(1_000_000_000)


def order_key(client_order_id: str, order_id: str) -> str:
    """Reservations are keyed by client_order_id; orders the suite did not place by their order id."""
    return client_order_id or f"order:{order_id}"


class Feed:
    """Applies bus events to the gate's books."""

    def __init__(self, gate: Gate, metrics: RiskMetrics, clock: Callable[[], float], stream: str = "") -> None:
        self.gate = gate
        self.metrics = metrics
        self.clock = clock
        self.stream = stream

    async def apply(self, event: event_pb2.Event, stream_id: str = "") -> None:
        """Apply one event; `stream_id` is its bus position (persisted with a fill's effects)."""
        kind = event.WhichOneof("payload")
        handler = getattr(self, f"_on_{kind}", None) if kind else None
        if handler is None:
            return
        await handler(event, getattr(event, kind), stream_id)
        self.metrics.bus_events.labels(kind).inc()

    async def _on_quote_update(self, event: event_pb2.Event, update: event_pb2.QuoteUpdate, stream_id: str) -> None:
        q = update.quote
        received = q.quote_time.ToNanoseconds() / 1e9 if q.HasField("quote_time") else self.clock()
        self.gate.books.market.update(q.instrument.symbol.upper(), Quote(
            min(received, self.clock()), _dec(q.bid_price), _dec(q.ask_price), _dec(q.last_price), _dec(q.close_price)))

    async def _on_fill(self, event: event_pb2.Event, fill, stream_id: str) -> None:
        side = _SIDES.get(fill.side)
        qty = _dec(fill.quantity)
        if side is None or qty is None:
            return
        account = fill.account_id or event.account_id
        book = self.gate.books.account(account)
        key = order_key(fill.client_order_id, fill.order_id)
        had = key in book.open_orders
        symbol = fill.instrument.symbol.upper()
        if not book.apply_fill(fill.execution_id, symbol, side, qty, key):
            return
        if had and key not in book.open_orders:
            self.metrics.open_reservations.dec()
        if self.gate.store is not None:
            remaining = book.open_orders[key].remaining if key in book.open_orders else None
            self.gate.store.apply_fill(account, symbol, book.positions[symbol], key, remaining,
                                             self.stream, stream_id)

    async def _on_order_update(self, event: event_pb2.Event, update: event_pb2.OrderUpdate, stream_id: str) -> None:
        order = update.order
        account = order.account_id or event.account_id
        key = order_key(order.client_order_id, order.order_id)
        book = self.gate.books.account(account)
        if key in book.open_orders:
            self.gate.apply_order(account, key, order)
        elif order.status not in TERMINAL_STATUSES and order.status != order_pb2.ORDER_STATUS_UNSPECIFIED:
            self.adopt(account, key, order)

    def adopt(self, account: str, key: str, order: order_pb2.Order) -> None:
        """Reserve a working order risk did not admit (placed outside the suite, or before a restart)."""
        side = _SIDES.get(order.spec.side)
        qty = _dec(order.spec.quantity)
        if side is None or qty is None:
            return
        remaining = qty - (_dec(order.filled_quantity) or Decimal(0))
        if remaining <= 0:
            return
        symbol = order.spec.instrument.symbol.upper()
        price = _dec(order.spec.limit_price) or _dec(order.spec.stop_price)
        if price is None:
            quote = self.gate.books.market.quotes.get(symbol)
            price = (quote.last or quote.midpoint) if quote else None
        multiplier = _dec(order.spec.instrument.multiplier) or Decimal(1)
        reservation = OpenOrder(key, account, symbol, side, remaining, price or Decimal(0), multiplier, order.order_id,
                                qty, order.revision)
        self.gate.books.account(account).reserve(reservation)
        self.metrics.open_reservations.inc()
        if self.gate.store is not None:
            self.gate.store.save_reservation(reservation)

    async def _on_position_update(self, event: event_pb2.Event, update: event_pb2.PositionUpdate, stream_id: str) -> None:
        p = update.position
        account = p.account_id or event.account_id
        qty = _dec(p.quantity) or Decimal(0)
        symbol = p.instrument.symbol.upper()
        book = self.gate.books.account(account)
        book.set_position(symbol, qty, mark=_dec(p.market_price), average_cost=_dec(p.average_cost),
                          multiplier=_dec(p.instrument.multiplier))
        if self.gate.store is not None:
            self.gate.store.save_position(account, symbol, book.positions[symbol])

    async def _on_account_update(self, event: event_pb2.Event, update: event_pb2.AccountUpdate, stream_id: str) -> None:
        a = update.account
        book = self.gate.books.account(a.account_id or event.account_id)
        if a.HasField("net_liquidation"):
            book.net_liquidation = _money(a.net_liquidation)
        if a.HasField("buying_power"):
            book.buying_power = _money(a.buying_power)

    async def _on_pnl_update(self, event: event_pb2.Event, update: event_pb2.PnlUpdate, stream_id: str) -> None:
        p = update.pnl
        if p.HasField("instrument") and p.instrument.symbol:
            return  # per-position P&L; the loss limit uses the account's
        account = p.account_id or event.account_id
        book = self.gate.books.account(account)
        if p.HasField("daily_pnl"):
            book.daily_pnl = _money(p.daily_pnl)
        elif p.HasField("realized_pnl") or p.HasField("unrealized_pnl"):
            book.daily_pnl = (_money(p.realized_pnl) or Decimal(0)) + (_money(p.unrealized_pnl) or Decimal(0))
        await self.gate.check_loss(account)


class BusTail:
    """The loop that reads the stream after a starting id and feeds every event to `Feed`.

    The cursor (last applied id) is saved after each batch that held anything but quotes; re-applying the
    events after a saved cursor is harmless (fills carry their own cursor, see `RiskStore.apply_fill`).
    """

    def __init__(self, bus: EventBus, feed: Feed, start_id: str) -> None:
        self.bus = bus
        self.feed = feed
        self.last_id = start_id
        self.healthy = True
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="risk-bus-tail")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None

    async def poll_once(self, block_ms: int | None = None) -> int:
        """Apply what follows the last id; returns how many entries were not risk's own."""
        entries = await self.bus.read_after(self.last_id, count=500, block_ms=block_ms)
        stateful = False
        others = 0
        for entry in entries:
            if entry.event_type not in OWN_TYPES:
                others += 1
                await self._apply(entry)
            self.last_id = entry.stream_id
            stateful = stateful or entry.event_type in PERSISTED_TYPES
        store = self.feed.gate.store
        if stateful and store is not None:
            store.save_bus_cursor(self.bus.stream, self.last_id)
        return others if entries else -1

    async def _apply(self, entry: BusEntry) -> None:
        if entry.event_type in OWN_TYPES:
            return  # risk's own decisions and state changes: skipped before decoding
        try:
            event = event_pb2.Event.FromString(entry.payload)
        except Exception:  # noqa: BLE001 - a malformed entry is skipped, not fatal
            log.warning("skipping undecodable bus entry", extra={"stream_id": entry.stream_id})
            return
        if event.source == "risk":
            return  # our own decisions and state changes
        try:
            await self.feed.apply(event, entry.stream_id)
        except Exception:
            log.exception("applying a bus event failed", extra={"stream_id": entry.stream_id})

    async def _run(self) -> None:
        backoff = 0.1
        while True:
            try:
                if await self.poll_once(block_ms=1000) == 0:
                    # Only risk's own decisions woke the read: let them accumulate instead of waking once per
                    # decision on the order path's event loop (broker events still wait at most this long).
                    await asyncio.sleep(OWN_ONLY_PAUSE_SECONDS)
                self.healthy, backoff = True, 0.1
            except asyncio.CancelledError:
                raise
            except Exception:
                raise_if_cancelling()
                if self.healthy:
                    log.warning("bus read failed; retrying", exc_info=True)
                self.healthy = False
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
