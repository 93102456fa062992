"""The exposure book: what the rules read about an account, kept with running aggregates so a check never
scans every order.

An `OpenOrder` is a *reservation*: the part of a working order not yet filled, counted as if it will fill.
It is created by the gate before the order is sent, shrunk by fills, and dropped when the order is
terminal (filled, cancelled, rejected, expired) or when the send fails. Mutations are synchronous: in one
asyncio process, a check and the reservation that follows it cannot interleave with another check.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal

from services.risk.core.model import ONE, ZERO, OrderIntent, Quote, Side


@dataclass(slots=True)
class OpenOrder:
    """A reserved working order. `price` is the price its notional is reserved at."""

    key: str  # the client_order_id (or `order:<order_id>` for orders the suite did not place)
    account_id: str
    symbol: str
    side: Side
    remaining: Decimal
    price: Decimal
    multiplier: Decimal = ONE
    order_id: str = ""
    # The order's whole quantity (a new order's, a modification's new one, then the order's own updates'): fills
    # count against it. None when unknown (stored before it was kept): the updates' quantity is used.
    quantity: Decimal | None = None
    # The order's revision (its number of accepted replaces) as last confirmed by the bridge; and, while a
    # modification risk sent is unconfirmed, the revision it will carry (memory only): until then an update of an
    # earlier revision describes the order before it, and its quantity is not taken (its fills still count).
    revision: int = 0
    expected_revision: int | None = None

    @property
    def notional(self) -> Decimal:
        return self.remaining * self.price * self.multiplier


@dataclass(slots=True)
class PositionState:
    """A position: signed quantity and the latest mark known for it (broker mark or average cost)."""

    quantity: Decimal = ZERO
    mark: Decimal | None = None
    average_cost: Decimal | None = None
    multiplier: Decimal = ONE


@dataclass(slots=True)
class AccountBook:
    """Everything the rules know about one account."""

    account_id: str
    positions: dict[str, PositionState] = field(default_factory=dict)
    open_orders: dict[str, OpenOrder] = field(default_factory=dict)
    # Aggregates of open_orders, kept in step by add/shrink/remove.
    open_qty: dict[tuple[str, Side], Decimal] = field(default_factory=dict)
    open_count: dict[tuple[str, Side], int] = field(default_factory=dict)
    open_notional: dict[tuple[str, Side], Decimal] = field(default_factory=dict)
    reserved_notional: Decimal = ZERO
    net_liquidation: Decimal | None = None
    buying_power: Decimal | None = None
    daily_pnl: Decimal | None = None
    # Accepted orders (time, notional), time-ordered, for the rolling-window rules.
    recent_times: list[float] = field(default_factory=list)
    # Running notional totals (recent_cum[i] = base + Σ notional of orders ..i), so a window's notional is
    # one subtraction, not a sum over the window.
    recent_cum: list[Decimal] = field(default_factory=list)
    recent_base: Decimal = ZERO
    # Fingerprint → (time, client_order_id) of the last accepted identical order.
    fingerprints: dict[tuple, tuple[float, str]] = field(default_factory=dict)
    fingerprint_order: deque = field(default_factory=deque)
    seen_executions: set[str] = field(default_factory=set)
    # Bumped by every change to positions or reservations.
    version: int = 0
    # Symbols whose position or reservations changed since the exposure memo last looked (see evaluate.py):
    # only those are re-priced, not the whole account.
    dirty: set[str] = field(default_factory=set)
    exposure_cache: object | None = None

    # -- reads -----------------------------------------------------------------------------------------

    def position(self, symbol: str) -> Decimal:
        pos = self.positions.get(symbol)
        return pos.quantity if pos is not None else ZERO

    def open_quantity(self, symbol: str, side: Side) -> Decimal:
        return self.open_qty.get((symbol, side), ZERO)

    def open_orders_on(self, symbol: str, side: Side) -> int:
        return self.open_count.get((symbol, side), 0)

    @property
    def open_order_count(self) -> int:
        return len(self.open_orders)

    def window(self, now: float, seconds: float) -> tuple[int, Decimal]:
        """Accepted orders and their notional within the last `seconds` before `now`."""
        times, cutoff = self.recent_times, now - seconds
        # Both ends answer the common cases with one float comparison (a bisection over a few hundred times
        # costs some ten and a call): a short window with nothing in it, the longest one (what is kept) full.
        if not times or times[-1] <= cutoff:
            return 0, ZERO
        start = 0 if times[0] > cutoff else bisect_right(times, cutoff)
        count = len(times) - start
        before = self.recent_cum[start - 1] if start else self.recent_base
        return count, self.recent_cum[-1] - before

    def worst_position(self, symbol: str, extra: Decimal = ZERO, extra_side: Side = Side.BUY) -> Decimal:
        """|position| if every working order on the worse side filled (plus a hypothetical `extra`)."""
        pos = self.position(symbol)
        buys = self.open_qty.get((symbol, Side.BUY), ZERO) + (extra if extra_side is Side.BUY else ZERO)
        sells = self.open_qty.get((symbol, Side.SELL), ZERO) + (extra if extra_side is Side.SELL else ZERO)
        return max(abs(pos + buys), abs(pos - sells))

    def exposure_symbols(self) -> set[str]:
        return {s for s, pos in self.positions.items() if pos.quantity} | {s for s, _ in self.open_qty}

    def symbol_exposure(self, symbol: str, marks: dict[str, Decimal], add: Decimal = ZERO, side: Side = Side.BUY,
                        price: Decimal | None = None) -> Decimal:
        """The worst-case position of one symbol (optionally with one more order) × its mark.

        The mark is a fresh market price, else the position's broker mark, else its average cost, else the
        average price of its working orders (else `price`), so exposure is never understated to zero for
        lack of a quote.
        """
        worst = self.worst_position(symbol, add, side)
        if not worst:
            return ZERO
        pos = self.positions.get(symbol)
        mark = marks.get(symbol) or (pos and (pos.mark or pos.average_cost)) or self.order_price(symbol) or price
        return worst * (mark or ZERO) * (pos.multiplier if pos else ONE)

    def gross_exposure(self, marks: dict[str, Decimal], extra: tuple[str, Side, Decimal, Decimal] | None = None
                       ) -> Decimal:
        """Σ over symbols of the worst-case position (open orders as if filled, on the worse side) × mark,
        optionally with one more order `(symbol, side, quantity, price)`."""
        total = sum((self.symbol_exposure(s, marks) for s in self.exposure_symbols()), ZERO)
        if extra is not None:
            symbol, side, qty, price = extra
            total += self.symbol_exposure(symbol, marks, qty, side, price) - self.symbol_exposure(symbol, marks)
        return total

    def order_price(self, symbol: str) -> Decimal | None:
        qty = notional = ZERO
        for side in (Side.BUY, Side.SELL):
            qty += self.open_qty.get((symbol, side), ZERO)
            notional += self.open_notional.get((symbol, side), ZERO)
        return notional / qty if qty else None

    # -- reservations ----------------------------------------------------------------------------------

    def reserve(self, order: OpenOrder) -> None:
        """Count a working order (replacing any reservation under the same key)."""
        if order.key in self.open_orders:
            self.release(order.key)
        self.version += 1
        self.dirty.add(order.symbol)
        self.open_orders[order.key] = order
        k = (order.symbol, order.side)
        notional = order.notional
        self.open_qty[k] = self.open_qty.get(k, ZERO) + order.remaining
        self.open_count[k] = self.open_count.get(k, 0) + 1
        self.open_notional[k] = self.open_notional.get(k, ZERO) + notional
        self.reserved_notional += notional

    def release(self, key: str) -> OpenOrder | None:
        """Drop a reservation (order terminal, send failed); None when there was none."""
        order = self.open_orders.pop(key, None)
        if order is None:
            return None
        self.version += 1
        self.dirty.add(order.symbol)
        k = (order.symbol, order.side)
        self.open_qty[k] = self.open_qty.get(k, ZERO) - order.remaining
        self.open_count[k] = self.open_count.get(k, 0) - 1
        self.open_notional[k] = self.open_notional.get(k, ZERO) - order.notional
        if self.open_count[k] <= 0:
            del self.open_qty[k], self.open_count[k], self.open_notional[k]
        self.reserved_notional -= order.notional
        if not self.open_orders:
            self.reserved_notional = ZERO  # no drift accumulates across reservations
        return order

    def shrink(self, key: str, remaining: Decimal) -> None:
        """Lower a reservation's remaining quantity (fills); never raises it, so replays are harmless."""
        order = self.open_orders.get(key)
        if order is None or remaining >= order.remaining:
            return
        if remaining <= 0:
            self.release(key)
            return
        self.version += 1
        self.dirty.add(order.symbol)
        delta = order.remaining - remaining
        k = (order.symbol, order.side)
        self.open_qty[k] -= delta
        self.open_notional[k] -= delta * order.price * order.multiplier
        self.reserved_notional -= delta * order.price * order.multiplier
        order.remaining = remaining

    # -- fills, positions, activity -------------------------------------------------------------------

    def apply_fill(self, execution_id: str, symbol: str, side: Side, quantity: Decimal, key: str | None) -> bool:
        """Move a fill from the reservation to the position, once per execution id; False if seen before."""
        if execution_id in self.seen_executions:
            return False
        self.seen_executions.add(execution_id)
        self.version += 1
        self.dirty.add(symbol)
        pos = self.positions.setdefault(symbol, PositionState())
        pos.quantity += quantity if side is Side.BUY else -quantity
        if key is not None and key in self.open_orders:
            self.shrink(key, self.open_orders[key].remaining - quantity)
        return True

    def set_position(self, symbol: str, quantity: Decimal, *, mark: Decimal | None = None,
                     average_cost: Decimal | None = None, multiplier: Decimal | None = None) -> None:
        """The broker's (or ledger's) absolute position, which supersedes what fills added up to."""
        pos = self.positions.setdefault(symbol, PositionState())
        self.version += 1
        self.dirty.add(symbol)
        pos.quantity = quantity
        if mark is not None:
            pos.mark = mark
        if average_cost is not None:
            pos.average_cost = average_cost
        if multiplier is not None:
            pos.multiplier = multiplier

    def restore_position(self, symbol: str, pos: PositionState) -> None:
        """A position as stored (start-up), replacing whatever the book had for the symbol."""
        self.version += 1
        self.dirty.add(symbol)
        self.positions[symbol] = pos

    def record_accepted(self, intent: OrderIntent, notional: Decimal | None, now: float,
                        keep_seconds: float) -> None:
        """Remember an accepted order for the rolling windows and duplicate detection."""
        self.add_activity(now, notional or ZERO)
        fp = intent.fingerprint()
        self.fingerprints[fp] = (now, intent.client_order_id)
        self.fingerprint_order.append((now, fp))
        cutoff = now - keep_seconds
        if self.recent_times[0] <= cutoff or self.fingerprint_order[0][0] <= cutoff:  # else nothing to forget
            self.prune(now, keep_seconds)

    def add_activity(self, now: float, notional: Decimal) -> None:
        """One accepted order at `now` (times only grow) for the rolling windows."""
        self.recent_times.append(now)
        self.recent_cum.append((self.recent_cum[-1] if self.recent_cum else self.recent_base) + notional)

    def prune(self, now: float, keep_seconds: float) -> None:
        """Forget activity older than the longest window any rule uses."""
        cutoff = now - keep_seconds
        start = bisect_right(self.recent_times, cutoff)
        if start:
            self.recent_base = self.recent_cum[start - 1]
            del self.recent_times[:start], self.recent_cum[:start]
        while self.fingerprint_order and self.fingerprint_order[0][0] <= cutoff:
            t, fp = self.fingerprint_order.popleft()
            if self.fingerprints.get(fp, (None,))[0] == t:
                del self.fingerprints[fp]


@dataclass(slots=True)
class MarketBook:
    """The latest quote per symbol, from the bus."""

    quotes: dict[str, Quote] = field(default_factory=dict)
    version: int = 0  # bumped by every quote
    # The symbols of the latest updates: log[k] is the symbol of version log_base + k + 1. Lets the exposure
    # memo re-price only what changed since it last looked (and rebuild when it fell behind the trimmed log).
    log: list[str] = field(default_factory=list)
    log_base: int = 0

    def update(self, symbol: str, quote: Quote) -> None:
        self.quotes[symbol] = quote
        self.version += 1
        self.log.append(symbol)
        if len(self.log) > 8192:
            del self.log[:4096]
            self.log_base += 4096

    def changed_since(self, version: int) -> list[str] | None:
        """The symbols updated after `version`, or None when the log no longer reaches back that far."""
        if version < self.log_base:
            return None
        return self.log[version - self.log_base:]

    def fresh(self, symbol: str, now: float, max_age: float) -> Quote | None:
        """The quote if it is no older than `max_age`; a stale quote is never used."""
        quote = self.quotes.get(symbol)
        if quote is None or now - quote.received_at > max_age:
            return None
        return quote


@dataclass(slots=True)
class Books:
    """All accounts' books and the market, as one object the gate and the feed share."""

    market: MarketBook = field(default_factory=MarketBook)
    accounts: dict[str, AccountBook] = field(default_factory=dict)

    def account(self, account_id: str) -> AccountBook:
        book = self.accounts.get(account_id)
        if book is None:
            book = self.accounts[account_id] = AccountBook(account_id)
        return book

    def find_order(self, key: str) -> AccountBook | None:
        for book in self.accounts.values():
            if key in book.open_orders:
                return book
        return None
