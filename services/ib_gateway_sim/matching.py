"""Order model and the pure matching rules: when an order triggers, at what price and for how much it trades.

No I/O and no clock of its own: callers pass the quote, the trading session and the time. The broker
(`broker.py`) owns the order book and applies the decisions made here.

Pricing rules:

* An order that is marketable when it arrives (or is modified) takes the opposite side: a buy fills at the
  ask, a sell at the bid (a limit gets price improvement).
* A resting limit that the market moves through fills at its limit price.
* A triggered stop / trailing stop becomes a market order; a stop-limit / trailing limit becomes a limit.
* Each execution is capped at the displayed size on the opposite side; the rest keeps working and trades
  on later quotes. All-or-none (and FOK) orders trade only when the whole remainder is displayed.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from .market import Quote

ZERO = Decimal(0)

# order types the engine executes
MARKET_TYPES = {"MKT", "MOC"}
LIMIT_TYPES = {"LMT", "LOC"}
STOP_TYPES = {"STP", "STP LMT", "TRAIL", "TRAIL LIMIT"}
AUCTION_TYPES = {"MOC", "LOC"}
SUPPORTED_TYPES = MARKET_TYPES | LIMIT_TYPES | STOP_TYPES
SUPPORTED_TIFS = {"DAY", "GTC", "IOC", "FOK", "GTD"}

# order statuses, IB spelling
PENDING_SUBMIT = "PendingSubmit"
PRE_SUBMITTED = "PreSubmitted"
SUBMITTED = "Submitted"
FILLED = "Filled"
CANCELLED = "Cancelled"
API_CANCELLED = "ApiCancelled"
INACTIVE = "Inactive"
DONE_STATES = {FILLED, CANCELLED, API_CANCELLED, INACTIVE}


@dataclass
class OrderRequest:
    """A placeOrder as the client sent it (only what the simulator uses or echoes back)."""

    order_id: int
    # contract as sent
    con_id: int = 0
    symbol: str = ""
    sec_type: str = ""
    last_trade_date: str = ""
    strike: str = ""
    right: str = ""
    multiplier: str = ""
    exchange: str = ""
    primary_exchange: str = ""
    currency: str = ""
    local_symbol: str = ""
    trading_class: str = ""
    # order
    action: str = ""
    total_quantity: Decimal = ZERO
    order_type: str = ""
    lmt_price: Decimal | None = None
    aux_price: Decimal | None = None
    tif: str = ""
    oca_group: str = ""
    account: str = ""
    open_close: str = ""
    origin: int = 0
    order_ref: str = ""
    transmit: bool = True
    parent_id: int = 0
    block_order: bool = False
    sweep_to_fill: bool = False
    display_size: int = 0
    trigger_method: int = 0
    outside_rth: bool = False
    hidden: bool = False
    discretionary_amt: Decimal | None = None
    good_after_time: str = ""
    good_till_date: str = ""
    model_code: str = ""
    oca_type: int = 0
    rule80a: str = ""
    all_or_none: bool = False
    min_qty: int | None = None
    percent_offset: Decimal | None = None
    trail_stop_price: Decimal | None = None
    trailing_percent: Decimal | None = None
    not_held: bool = False
    what_if: bool = False
    lmt_price_offset: Decimal | None = None
    cash_qty: Decimal | None = None
    auto_cancel_parent: bool = False
    manual_order_time: str = ""
    unsupported: str = ""  # non-empty: a feature the simulator does not execute (reason text)

    def amended(self, **changes: object) -> OrderRequest:
        return dataclasses.replace(self, **changes)


@dataclass
class SimOrder:
    """A live or finished order at the simulated broker."""

    req: OrderRequest
    client_id: int
    perm_id: int
    con_id: int
    account: str
    status: str = PENDING_SUBMIT
    filled: Decimal = ZERO
    filled_value: Decimal = ZERO
    last_fill_price: Decimal = ZERO
    commission: Decimal = ZERO
    transmitted: bool = False
    triggered: bool = False
    trail_stop: Decimal | None = None
    trail_extreme: Decimal | None = None
    gtd: datetime | None = None
    parent_perm_id: int = 0
    completed_at: datetime | None = None
    completed_status: str = ""
    why_held: str = ""
    children: list[int] = field(default_factory=list)  # perm ids
    create_time: datetime | None = None
    update_time: datetime | None = None
    modifications: int = 0
    reject_code: int = 0
    wire_cache: tuple | None = field(default=None, repr=False, compare=False)

    @property
    def order_id(self) -> int:
        return self.req.order_id

    @property
    def side(self) -> str:
        return self.req.action

    @property
    def quantity(self) -> Decimal:
        return self.req.total_quantity

    @property
    def remaining(self) -> Decimal:
        return max(ZERO, self.req.total_quantity - self.filled)

    @property
    def avg_fill_price(self) -> Decimal:
        return self.filled_value / self.filled if self.filled else ZERO

    @property
    def is_done(self) -> bool:
        return self.status in DONE_STATES

    @property
    def is_working(self) -> bool:
        return self.transmitted and not self.is_done

    @property
    def is_buy(self) -> bool:
        return self.req.action == "BUY"


@dataclass(frozen=True)
class Match:
    quantity: Decimal
    price: Decimal


def trail_offset(req: OrderRequest, reference: Decimal) -> Decimal:
    if req.trailing_percent is not None:
        return reference * req.trailing_percent / Decimal(100)
    return req.aux_price or ZERO


def init_trailing(order: SimOrder, quote: Quote, tick: Decimal) -> None:
    """Set the first trailing stop: the client's trailStopPrice, else last -/+ the offset."""
    req = order.req
    order.trail_extreme = quote.last
    if req.trail_stop_price is not None:
        order.trail_stop = req.trail_stop_price
        return
    offset = trail_offset(req, quote.last)
    stop = quote.last - offset if not order.is_buy else quote.last + offset
    order.trail_stop = _round(stop, tick)


def update_trailing(order: SimOrder, quote: Quote, tick: Decimal) -> bool:
    """Move a trailing stop with a favourable price; True when it moved."""
    if order.trail_extreme is None or order.triggered:
        return False
    last = quote.last
    if (not order.is_buy and last > order.trail_extreme) or (order.is_buy and last < order.trail_extreme):
        order.trail_extreme = last
        offset = trail_offset(order.req, last)
        stop = _round(last - offset if not order.is_buy else last + offset, tick)
        if order.trail_stop is None or (not order.is_buy and stop > order.trail_stop) or \
                (order.is_buy and stop < order.trail_stop):
            order.trail_stop = stop
            return True
    return False


def stop_price(order: SimOrder) -> Decimal | None:
    if order.req.order_type in ("TRAIL", "TRAIL LIMIT"):
        return order.trail_stop
    return order.req.aux_price


def is_triggered(order: SimOrder, quote: Quote) -> bool:
    """Stops trigger on the last trade price: buy stops at or above, sell stops at or below."""
    if order.req.order_type not in STOP_TYPES or order.triggered:
        return True
    stop = stop_price(order)
    if stop is None:
        return False
    return quote.last >= stop if order.is_buy else quote.last <= stop


def effective_limit(order: SimOrder, tick: Decimal) -> Decimal | None:
    """The limit a (triggered) order works at; None means market."""
    t = order.req.order_type
    if t in ("LMT", "LOC", "STP LMT"):
        return order.req.lmt_price
    if t == "TRAIL LIMIT":
        if order.trail_stop is None:
            return None
        if order.req.lmt_price_offset is not None:
            off = order.req.lmt_price_offset
            return _round(order.trail_stop - off if not order.is_buy else order.trail_stop + off, tick)
        return order.req.lmt_price
    return None


def session_allows(order: SimOrder, session: str) -> bool:
    """Regular hours: everything trades. Extended: only outsideRth limit-type orders. Closed: nothing."""
    if session == "rth":
        return True
    if session == "extended":
        return order.req.outside_rth and order.req.order_type not in ("MKT", "STP", "TRAIL")
    return False


def match(order: SimOrder, quote: Quote, *, incoming: bool, tick: Decimal) -> Match | None:
    """What a triggered, working order can trade against this quote right now."""
    remaining = order.req.total_quantity - order.filled
    if remaining <= 0:
        return None
    if order.is_buy:
        touch, size = quote.ask, quote.ask_size
    else:
        touch, size = quote.bid, quote.bid_size
    if touch <= 0 or size <= 0:
        return None
    limit = effective_limit(order, tick)
    if limit is not None:
        marketable = touch <= limit if order.is_buy else touch >= limit
        if not marketable:
            return None
        price = touch if incoming else limit
    else:
        price = touch
    if order.req.all_or_none or order.req.tif == "FOK":
        if size < remaining:
            return None
        qty = remaining
    else:
        qty = min(remaining, size)
    return Match(qty, price)


def auction_match(order: SimOrder, close_price: Decimal) -> Match | None:
    """MOC trades at the closing price; LOC only when the close is at or better than its limit."""
    remaining = order.req.total_quantity - order.filled
    if remaining <= 0:
        return None
    if order.req.order_type == "LOC":
        lmt = order.req.lmt_price
        if lmt is None or (close_price > lmt if order.is_buy else close_price < lmt):
            return None
    return Match(remaining, close_price)


def has_own_price(req: OrderRequest) -> bool:
    """Whether `reference_price` comes from the order itself (not from the moving quote)."""
    return (req.lmt_price is not None and req.order_type in ("LMT", "LOC", "STP LMT", "TRAIL LIMIT")) or \
        (req.order_type == "STP" and req.aux_price is not None)


def reference_price(req: OrderRequest, quote: Quote | None) -> Decimal:
    """The price used to size an order for margin and what-if: its limit, else the touch it would take
    (`quote` may be None only when `has_own_price(req)`)."""
    if req.lmt_price is not None and req.order_type in ("LMT", "LOC", "STP LMT", "TRAIL LIMIT"):
        return req.lmt_price
    if req.order_type == "STP" and req.aux_price is not None:
        return req.aux_price
    assert quote is not None
    return quote.ask if req.action == "BUY" else quote.bid


def _round(price: Decimal, tick: Decimal) -> Decimal:
    return (price / tick).to_integral_value() * tick


@dataclass(slots=True)
class Execution:
    """One fill, as the broker records and reports it."""

    exec_id: str
    time: datetime
    account: str
    con_id: int
    exchange: str
    side: str  # BOT / SLD
    shares: Decimal
    price: Decimal
    perm_id: int
    client_id: int
    order_id: int
    cum_qty: Decimal
    avg_price: Decimal
    order_ref: str
    last_liquidity: int  # 1 added liquidity (resting), 2 removed (incoming)
    commission: Decimal = ZERO
    commission_currency: str = "USD"
    realized_pnl: Decimal | None = None
    order_exchange: str = ""  # the exchange the client routed to (echoed in the contract)
    supersedes: str = ""  # the execId this one corrects (IB bumps the last part: .01 → .02)
