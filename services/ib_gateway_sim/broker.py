"""The simulated broker: order book, order lifecycle, executions, commissions and account bookings.

Socket-free: it reports everything through a `Sink` (the gateway routes those calls to client sessions;
unit tests record them). One instance lives as long as the simulator's state; a "restart with state kept"
keeps it, a reset builds a new one from the seed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from . import matching as mt
from .account import Account, CommissionSchedule
from .broker_log import BrokerLog
from .instruments import Instrument, Universe
from .market import Market, on_tick
from .matching import Execution, Match, OrderRequest, SimOrder

ZERO = Decimal(0)

# IB order types the simulator recognises but does not execute (rejected with 201, not 321)
KNOWN_IB_TYPES = {
    "MIT", "LIT", "MTL", "REL", "PEG MKT", "PEG MID", "PEG BEST", "PEG BENCH", "PEG PRIM", "PEG STK",
    "MIDPRICE", "SNAP MKT", "SNAP MID", "SNAP PRIM", "BOX TOP", "VOL", "VWAP", "TWAP", "PASSV REL",
    "REL + LMT", "REL + MKT", "LMT + MKT", "TRAIL MIT", "TRAIL LIT", "QUOTE", "MOO", "LOO",
}
UNSUPPORTED_TIFS = {"OPG", "GTT", "AUC", "DTC", "GTX", "MINUTES"}


class Marks(Mapping[int, Decimal]):
    """Mark (last) prices, read lazily from the market: only the instruments actually used are touched."""

    __slots__ = ("_quotes",)

    def __init__(self, market: Market) -> None:
        self._quotes = market.quotes

    def __getitem__(self, con_id: int) -> Decimal:
        return self._quotes[con_id].last

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._quotes)

    def __len__(self) -> int:
        return len(self._quotes)


class Sink(Protocol):
    """Where the broker's reports go (the gateway, or a recorder in unit tests)."""

    def order_update(self, order: SimOrder, *, open_order: bool) -> None: ...
    def execution(self, ex: Execution) -> None: ...
    def commission(self, ex: Execution) -> None: ...
    def order_error(self, client_id: int, order_id: int, code: int, message: str) -> None: ...
    def what_if(self, client_id: int, order: SimOrder, state: dict[str, str]) -> None: ...
    def account_changed(self, con_ids: set[int]) -> None: ...
    def acknowledged(self, order: SimOrder) -> None: ...


@dataclass
class InjectedReject:
    code: int
    message: str
    symbol: str = ""  # only orders in this symbol; empty for any


class Broker:
    def __init__(
        self,
        *,
        account: Account,
        universe: Universe,
        market: Market,
        schedule: CommissionSchedule,
        sink: Sink,
        seed: int,
        log: BrokerLog | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        first_order_id: int = 1,
    ) -> None:
        self.account = account
        self.universe = universe
        self.market = market
        self.schedule = schedule
        self.sink = sink
        self.log = log if log is not None else BrokerLog()
        self.clock = clock
        self.session = "rth"
        self.halted = False  # connectivity lost: nothing matches
        self.seed = seed
        self._perm_base = 100_000_000 + (seed % 1000) * 1_000_000
        self._perm_seq = 0
        self._exec_prefix = f"{0x0000E000 + seed % 0x1000:08x}"
        self._exec_seq = 0
        self.orders: dict[int, SimOrder] = {}  # perm id -> order (transmitted)
        self.by_key: dict[tuple[int, int], SimOrder] = {}  # (client id, order id) -> order, staged too
        self.working: dict[int, dict[int, SimOrder]] = {}  # con id -> perm id -> working order
        self.executions: list[Execution] = []
        self.max_order_id = first_order_id - 1
        self.rejects: list[InjectedReject] = []
        # running exposure of working orders (see `_retally`): perm id -> (con id, side, remaining × price or
        # None when priced off the quote); (con id, side) -> sum; con id -> perm ids priced off the quote
        self._contrib: dict[int, tuple[int, str, Decimal | None]] = {}
        self._tally: dict[tuple[int, str], Decimal] = {}
        self._floating: dict[int, set[int]] = {}
        self.received: list[SimOrder] = []  # every order (rejected ones too), in arrival order

    # --------------------------------------------------------------------------------- identity

    def next_valid_id(self) -> int:
        return self.max_order_id + 1

    def _new_perm_id(self) -> int:
        self._perm_seq += 1
        return self._perm_base + self._perm_seq

    def _new_exec_id(self) -> str:
        self._exec_seq += 1
        return f"{self._exec_prefix}.{self._exec_seq:08x}.01.01"

    def marks(self) -> Marks:
        return Marks(self.market)

    # ------------------------------------------------------------------------------- placement

    def place(self, client_id: int, req: OrderRequest) -> None:
        """placeOrder: a new order, a modification of a live one, a staged (transmit=0) one or a what-if."""
        self.max_order_id = max(self.max_order_id, req.order_id)
        key = (client_id, req.order_id)
        existing = self.by_key.get(key)
        if req.what_if:
            self._what_if(client_id, req)
            return
        if existing is not None and existing.transmitted:
            if existing.is_done:
                code, text = (104, "Can't modify a filled order.") if existing.status == mt.FILLED else \
                    (103, "Duplicate order id")
                self._reject(client_id, req, code, text, log=True)
                return
            self._modify(existing, req)
            return
        injected = self._take_reject(req)
        if injected is not None:
            self._reject(client_id, req, injected.code, injected.message, log=True)
            return
        checked = self._validate(client_id, req)
        if checked is None:
            return
        inst, gtd = checked
        if existing is not None:  # a staged order: new parameters, maybe transmitted now
            order = existing
            order.req, order.gtd, order.con_id = req, gtd, inst.con_id
            order.modifications += 1
        else:
            order = SimOrder(req=req, client_id=client_id, perm_id=0, con_id=inst.con_id,
                             account=self.account.account_id, gtd=gtd, create_time=self.clock())
            self.by_key[key] = order
            self.received.append(order)
        if not req.transmit:
            self._log(order, "STAGED")
            return
        if req.parent_id:
            parent = self.by_key.get((client_id, req.parent_id))
            if parent is None:
                self._reject(client_id, req, 135, f"Can't find order with id ={req.parent_id}", log=True)
                return
            if not parent.transmitted:
                self._transmit_chain(parent, last=order)
                return
        self._transmit(order)

    def _validate(self, client_id: int, req: OrderRequest) -> tuple[Instrument, datetime | None] | None:
        def bad(code: int, text: str) -> None:
            self._reject(client_id, req, code, text, log=True)

        def invalid(cause: str) -> None:
            bad(321, f"Error validating request.-'bN' : cause - {cause}")

        if req.unsupported:
            return bad(201, f"Order rejected - reason:The simulator does not support {req.unsupported}")
        if req.account and req.account != self.account.account_id:
            return invalid(f"The account code {req.account} is not managed by this login")
        matches = self.universe.resolve(con_id=req.con_id, symbol=req.symbol, sec_type=req.sec_type,
                                        exchange=req.exchange, primary_exchange=req.primary_exchange,
                                        currency=req.currency, local_symbol=req.local_symbol)
        if len(matches) != 1:
            return bad(200, "No security definition has been found for the request")
        inst = matches[0]
        if req.action not in ("BUY", "SELL"):
            return invalid(f"Invalid side {req.action!r}")
        if req.total_quantity <= 0:
            return bad(434, "The order size cannot be zero.")
        if req.total_quantity % inst.size_increment:
            return invalid(f"Order size {req.total_quantity} is not a multiple of {inst.size_increment}")
        t = req.order_type
        if t not in mt.SUPPORTED_TYPES:
            if t in KNOWN_IB_TYPES:
                return bad(201, f"Order rejected - reason:The simulator does not support {t} orders")
            return invalid("Invalid order type was entered.")
        tif = req.tif or "DAY"
        if tif not in mt.SUPPORTED_TIFS:
            if tif in UNSUPPORTED_TIFS:
                return bad(201, f"Order rejected - reason:The simulator does not support time in force {tif}")
            return invalid(f"Invalid time in force {tif!r}")
        if t in ("LMT", "LOC", "STP LMT") and (req.lmt_price is None or req.lmt_price <= 0):
            return invalid("The limit price is missing or not positive")
        if t in ("STP", "STP LMT") and (req.aux_price is None or req.aux_price <= 0):
            return invalid("The stop price is missing or not positive")
        if t in ("TRAIL", "TRAIL LIMIT") and req.trailing_percent is None and \
                (req.aux_price is None or req.aux_price <= 0):
            return invalid("A trailing amount or trailing percent is required")
        if t == "TRAIL LIMIT" and req.lmt_price_offset is None and req.lmt_price is None:
            return invalid("A trailing limit order needs a limit price or a limit offset")
        prices = [req.lmt_price] if t in ("LMT", "LOC", "STP LMT") else []
        if t in ("STP", "STP LMT"):
            prices.append(req.aux_price)
        for p in prices:
            if p is not None and not on_tick(p, inst.min_tick):
                return bad(110, "The price does not conform to the minimum price variation for this contract.")
        gtd = None
        if tif == "GTD":
            gtd = parse_gtd(req.good_till_date)
            if gtd is None:
                return invalid(f"Invalid good till date {req.good_till_date!r}")
            if gtd <= self.clock():
                return bad(201, "Order rejected - reason:The good till date is in the past")
        if req.parent_id and req.parent_id == req.order_id:
            return invalid("An order cannot be its own parent")
        return inst, gtd

    def _take_reject(self, req: OrderRequest) -> InjectedReject | None:
        for i, injected in enumerate(self.rejects):
            if not injected.symbol or injected.symbol.upper() in (req.symbol.upper(), req.local_symbol.upper()) \
                    or (req.con_id and (inst := self.universe.by_symbol(injected.symbol)) is not None
                        and inst.con_id == req.con_id):
                return self.rejects.pop(i)
        return None

    def _reject(self, client_id: int, req: OrderRequest, code: int, text: str, *, log: bool) -> None:
        key = (client_id, req.order_id)
        existing = self.by_key.get(key)
        record: SimOrder | None = None
        if existing is not None and not existing.transmitted:
            del self.by_key[key]  # a staged order (or one being transmitted now) dies with its rejection
            record = existing
        elif existing is None:
            inst = self.universe.by_con_id(req.con_id) or self.universe.by_symbol(req.symbol or "?")
            record = SimOrder(req=req, client_id=client_id, perm_id=0, con_id=inst.con_id if inst else 0,
                              account=self.account.account_id, create_time=self.clock())
            self.received.append(record)
        if record is not None:
            record.status = mt.INACTIVE
            record.reject_code = code
            record.update_time = self.clock()
        if log:
            self.log.append(time=self.clock(), kind="REJECTED", client_id=client_id, order_id=req.order_id,
                            perm_id=0, order_ref=req.order_ref, con_id=req.con_id, symbol=req.symbol,
                            side=req.action, quantity=req.total_quantity, price=req.lmt_price, status="",
                            code=code, message=text)
        self.sink.order_error(client_id, req.order_id, code, text)

    def _margin_rejection(self, order: SimOrder) -> str | None:
        q = self.market.quote(order.con_id)
        price = mt.reference_price(order.req, q)
        extra = self.account.exposure_increase(order.con_id, order.side, order.quantity, price)
        if not extra:
            return None
        for con_id in self.working:
            extra += self._working_exposure(con_id)
        marks = self.marks()
        snap = self.account.margin_snapshot(marks, extra_gross=extra)
        if snap["init_margin"] <= snap["equity_with_loan"]:
            return None
        return ("Order rejected - reason:YOUR ORDER IS NOT ACCEPTED. IN ORDER TO OBTAIN THE DESIRED POSITION "
                f"YOUR EQUITY WITH LOAN VALUE [{snap['equity_with_loan']:.2f} USD] MUST EXCEED THE INITIAL "
                f"MARGIN [{snap['init_margin']:.2f} USD]")

    def _retally(self, order: SimOrder) -> None:
        """Keep the running exposure sums right after `order` was added, removed, filled or amended.

        Per instrument and side, `_tally` holds the sum of remaining × own price of the working non-child
        orders, so the margin check of a new order costs one step per instrument instead of one per resting
        order. Orders priced off the moving quote (market, trailing) are kept apart and summed afresh."""
        old = self._contrib.pop(order.perm_id, None)
        if old is not None:
            con_id, side, value = old
            if value is None:
                self._floating[con_id].discard(order.perm_id)
            else:
                self._tally[(con_id, side)] -= value
        book = self.working.get(order.con_id)
        if order.req.parent_id or book is None or order.perm_id not in book:
            return
        value = order.remaining * mt.reference_price(order.req, None) if mt.has_own_price(order.req) else None
        self._contrib[order.perm_id] = (order.con_id, order.side, value)
        if value is None:
            self._floating.setdefault(order.con_id, set()).add(order.perm_id)
        else:
            self._tally[(order.con_id, order.side)] = self._tally.get((order.con_id, order.side), ZERO) + value

    def _working_exposure(self, con_id: int) -> Decimal:
        """Gross value the working (non-child) orders of one instrument would add if they all filled.

        An order on the side that grows the position adds remaining × price exactly, so that side is the
        running sum; only the side that first reduces the position (when one is held) is walked order by
        order, since such an order adds only what it takes beyond the flat point."""
        book = self.working.get(con_id)
        if not book:
            return ZERO
        pos = self.account.positions.get(con_id)
        held = pos.quantity if pos else ZERO
        total = ZERO
        for side in ("BUY", "SELL"):
            grows = held == 0 or (held > 0) == (side == "BUY")
            if grows:
                total += self._tally.get((con_id, side), ZERO)
                continue
            for other in book.values():
                if other.side == side and not other.req.parent_id and mt.has_own_price(other.req):
                    total += self.account.exposure_increase(con_id, side, other.remaining,
                                                            mt.reference_price(other.req, None))
        floating = self._floating.get(con_id)
        if floating:
            q = self.market.quote(con_id)
            for perm_id in floating:
                other = book[perm_id]
                total += self.account.exposure_increase(con_id, other.side, other.remaining,
                                                        mt.reference_price(other.req, q))
        return total

    def _transmit_chain(self, parent: SimOrder, last: SimOrder) -> None:
        """A bracket's last leg arrived with transmit=1: send the parent, then every staged child."""
        self._transmit(parent)
        if parent.status in (mt.CANCELLED, mt.INACTIVE) and not parent.filled:
            return
        staged = sorted((o for o in self.by_key.values() if o.client_id == parent.client_id
                         and o.req.parent_id == parent.order_id and not o.transmitted and o is not last),
                        key=lambda o: o.order_id)
        for child in [*staged, last]:
            self._transmit(child)

    def _transmit(self, order: SimOrder) -> None:
        inst = self.universe.by_con_id(order.con_id)
        assert inst is not None
        parent = self.by_key.get((order.client_id, order.req.parent_id)) if order.req.parent_id else None
        if parent is None:
            reason = self._margin_rejection(order)
            if reason:
                self._reject(order.client_id, order.req, 201, reason, log=True)
                return
        order.transmitted = True
        order.perm_id = self._new_perm_id()
        self.orders[order.perm_id] = order
        q = self.market.quote(order.con_id)
        if order.req.order_type in ("TRAIL", "TRAIL LIMIT"):
            mt.init_trailing(order, q, inst.min_tick)
        if parent is not None:
            order.parent_perm_id = parent.perm_id
            parent.children.append(order.perm_id)
            if parent.is_done and parent.status != mt.FILLED:
                self._log(order, "SUBMITTED")
                self._finish(order, mt.CANCELLED, notify_open=True)
                return
        self.working.setdefault(order.con_id, {})[order.perm_id] = order
        self._retally(order)
        order.status = self._resting_status(order, parent)
        self._log(order, "SUBMITTED")
        self.sink.order_update(order, open_order=True)
        self.sink.acknowledged(order)
        if order.status == mt.PRE_SUBMITTED and not mt.session_allows(order, self.session) and parent is None:
            inst_name = f"{inst.symbol} {inst.primary_exchange}"
            self.sink.order_error(order.client_id, order.order_id, 399,
                                  f"Order Message:\n{order.side} {order.quantity} {inst_name}\nWarning: your order "
                                  "will not be placed at the exchange until the trading session allows it.")
        self._evaluate(order, incoming=True)

    def _resting_status(self, order: SimOrder, parent: SimOrder | None) -> str:
        if parent is not None and parent.status != mt.FILLED:
            return mt.PRE_SUBMITTED
        if order.req.order_type in mt.STOP_TYPES and not order.triggered:
            return mt.PRE_SUBMITTED
        if not mt.session_allows(order, self.session):
            return mt.PRE_SUBMITTED
        return mt.SUBMITTED

    def _modify(self, order: SimOrder, req: OrderRequest) -> None:
        inst = self.universe.by_con_id(order.con_id)
        assert inst is not None
        old = order.req
        if req.action != old.action or (req.con_id and req.con_id != order.con_id) or \
                (req.symbol and req.symbol.upper() not in (inst.symbol, inst.local_symbol)):
            self.sink.order_error(order.client_id, req.order_id, 105,
                                  "Order being modified does not match original order.")
            return
        if req.total_quantity < order.filled or req.total_quantity <= 0:
            self.sink.order_error(order.client_id, req.order_id, 321,
                                  "Error validating request.-'bN' : cause - The order size cannot be below "
                                  "the filled quantity")
            return
        if req.order_type not in mt.SUPPORTED_TYPES:
            self.sink.order_error(order.client_id, req.order_id, 329,
                                  f"Order modify failed. Cannot change to the new order type {req.order_type}.")
            return
        for p in (req.lmt_price, req.aux_price if req.order_type in ("STP", "STP LMT") else None):
            if p is not None and not on_tick(p, inst.min_tick):
                self.sink.order_error(order.client_id, req.order_id, 110,
                                      "The price does not conform to the minimum price variation for this "
                                      "contract.")
                return
        keep = {"parent_id": old.parent_id, "transmit": True, "exchange": req.exchange or old.exchange}
        order.req = req.amended(**keep)
        order.modifications += 1
        self._retally(order)
        if req.tif == "GTD":
            order.gtd = parse_gtd(req.good_till_date) or order.gtd
        if order.req.order_type in ("TRAIL", "TRAIL LIMIT") and (
                req.aux_price != old.aux_price or req.trailing_percent != old.trailing_percent
                or req.trail_stop_price != old.trail_stop_price):
            mt.init_trailing(order, self.market.quote(order.con_id), inst.min_tick)
        if order.status in (mt.SUBMITTED, mt.PRE_SUBMITTED):
            parent = self.by_key.get((order.client_id, old.parent_id)) if old.parent_id else None
            order.status = self._resting_status(order, parent)
        self._log(order, "MODIFIED")
        self.sink.order_update(order, open_order=True)
        self._evaluate(order, incoming=True)

    # ------------------------------------------------------------------------------- what-if

    def _what_if(self, client_id: int, req: OrderRequest) -> None:
        checked = self._validate(client_id, req.amended(what_if=False))
        if checked is None:
            return
        inst, _ = checked
        q = self.market.quote(inst.con_id)
        price = mt.reference_price(req, q)
        marks = self.marks()
        before = self.account.margin_snapshot(marks)
        extra = self.account.exposure_increase(inst.con_id, req.action, req.total_quantity, price)
        after = self.account.margin_snapshot(marks, extra_gross=extra)
        commission = self.schedule.for_order(inst, req.total_quantity, req.total_quantity * price)
        ewl_after = before["equity_with_loan"] - commission

        def money(x: Decimal) -> str:
            return f"{x:.2f}"

        state = {
            "initMarginBefore": money(before["init_margin"]),
            "maintMarginBefore": money(before["maint_margin"]),
            "equityWithLoanBefore": money(before["equity_with_loan"]),
            "initMarginChange": money(after["init_margin"] - before["init_margin"]),
            "maintMarginChange": money(after["maint_margin"] - before["maint_margin"]),
            "equityWithLoanChange": money(ewl_after - before["equity_with_loan"]),
            "initMarginAfter": money(after["init_margin"]),
            "maintMarginAfter": money(after["maint_margin"]),
            "equityWithLoanAfter": money(ewl_after),
            "commission": money(commission),
            "minCommission": money(commission),
            "maxCommission": money(commission),
            "commissionCurrency": self.account.currency,
            "warningText": "",
        }
        preview = SimOrder(req=req, client_id=client_id, perm_id=0, con_id=inst.con_id,
                           account=self.account.account_id, status=mt.PRE_SUBMITTED)
        self.sink.what_if(client_id, preview, state)

    # ------------------------------------------------------------------------------- cancels

    def cancel(self, client_id: int, order_id: int) -> None:
        order = self.by_key.get((client_id, order_id))
        if order is None:
            self.sink.order_error(client_id, order_id, 10147,
                                  f"OrderId {order_id} that needs to be cancelled is not found.")
            return
        if order.is_done:
            self.sink.order_error(client_id, order_id, 10148,
                                  f"OrderId {order_id} that needs to be cancelled cannot be cancelled, "
                                  f"state: {order.status}.")
            return
        if not order.transmitted:
            del self.by_key[(client_id, order_id)]
            order.status = mt.CANCELLED
            self._log(order, "CANCELLED")
            self.sink.order_update(order, open_order=False)
            self.sink.order_error(client_id, order_id, 202, "Order Canceled - reason:")
            return
        self._finish(order, mt.CANCELLED, notify_open=False, log_kind="CANCELLED")
        self.sink.order_error(client_id, order_id, 202, "Order Canceled - reason:")

    def global_cancel(self) -> None:
        for order in sorted(self._all_working(), key=lambda o: o.perm_id):
            if not order.is_done:
                self._finish(order, mt.CANCELLED, notify_open=False, log_kind="CANCELLED")
                self.sink.order_error(order.client_id, order.order_id, 202, "Order Canceled - reason:")
        for key, order in list(self.by_key.items()):
            if not order.transmitted:
                del self.by_key[key]

    def _finish(self, order: SimOrder, status: str, *, notify_open: bool, log_kind: str = "STATUS") -> None:
        """Take an order off the book in a final state, with its children."""
        order.status = status
        order.completed_at = self.clock()
        order.completed_status = status
        book = self.working.get(order.con_id)
        if book is not None:
            book.pop(order.perm_id, None)
        self._retally(order)
        self._log(order, log_kind)
        self.sink.order_update(order, open_order=notify_open)
        if status != mt.FILLED:
            for child_perm in order.children:
                child = self.orders.get(child_perm)
                if child is not None and not child.is_done:
                    self._finish(child, mt.CANCELLED, notify_open=False)

    # ------------------------------------------------------------------------------ matching

    def _all_working(self) -> list[SimOrder]:
        return [o for book in self.working.values() for o in book.values()]

    def on_quotes(self, con_ids: list[int]) -> None:
        """Re-evaluate every resting order of these instruments after a price change."""
        if self.halted:
            return
        for con_id in con_ids:
            book = self.working.get(con_id)
            if not book:
                continue
            for order in sorted(book.values(), key=lambda o: o.perm_id):
                if not order.is_done:
                    self._evaluate(order, incoming=False)

    def set_session(self, session: str) -> None:
        self.session = session
        for order in sorted(self._all_working(), key=lambda o: o.perm_id):
            parent = self.by_key.get((order.client_id, order.req.parent_id)) if order.req.parent_id else None
            status = self._resting_status(order, parent)
            if status != order.status and not order.is_done:
                order.status = status
                self._log(order, "STATUS")
                self.sink.order_update(order, open_order=False)
            self._evaluate(order, incoming=False)

    def _evaluate(self, order: SimOrder, *, incoming: bool) -> None:
        if order.is_done or not order.transmitted:
            return
        inst = self.universe.by_con_id(order.con_id)
        assert inst is not None
        if order.req.parent_id:
            parent = self.by_key.get((order.client_id, order.req.parent_id))
            if parent is not None and parent.status != mt.FILLED:
                return
        if self.halted:
            return
        q = self.market.quote(order.con_id)
        tif = order.req.tif or "DAY"
        if order.req.order_type in mt.AUCTION_TYPES:
            return
        if order.req.order_type in ("TRAIL", "TRAIL LIMIT"):
            mt.update_trailing(order, q, inst.min_tick)
        if not mt.session_allows(order, self.session):
            return
        if not order.triggered and order.req.order_type in mt.STOP_TYPES:
            if not mt.is_triggered(order, q):
                if tif in ("IOC", "FOK") and incoming:
                    self._finish(order, mt.CANCELLED, notify_open=False)
                return
            order.triggered = True
            incoming = True
            if order.status != mt.SUBMITTED:
                order.status = mt.SUBMITTED
                self._log(order, "STATUS")
                self.sink.order_update(order, open_order=True)
        elif order.status == mt.PRE_SUBMITTED:
            order.status = mt.SUBMITTED
            self._log(order, "STATUS")
            self.sink.order_update(order, open_order=True)
        m = mt.match(order, q, incoming=incoming, tick=inst.min_tick)
        if m is not None:
            self._execute(order, inst, m, incoming=incoming)
        if tif in ("IOC", "FOK") and not order.is_done and incoming:
            self._finish(order, mt.CANCELLED, notify_open=False)

    def _execute(self, order: SimOrder, inst: Instrument, m: Match, *, incoming: bool) -> None:
        order.filled += m.quantity
        self._retally(order)
        order.filled_value += m.quantity * m.price
        order.last_fill_price = m.price
        total_commission = self.schedule.for_order(inst, order.filled, order.filled_value)
        commission = total_commission - order.commission
        order.commission = total_commission
        result = self.account.apply_fill(inst, order.side, m.quantity, m.price, commission)
        ex = Execution(
            exec_id=self._new_exec_id(), time=self.clock(), account=order.account, con_id=inst.con_id,
            exchange=inst.primary_exchange if not inst.is_fx else "IDEALPRO",
            side="BOT" if order.is_buy else "SLD", shares=m.quantity, price=m.price, perm_id=order.perm_id,
            client_id=order.client_id, order_id=order.order_id, cum_qty=order.filled,
            avg_price=order.avg_fill_price, order_ref=order.req.order_ref,
            last_liquidity=2 if incoming else 1, commission=commission,
            commission_currency=self.account.currency, realized_pnl=result.realized,
            order_exchange=order.req.exchange or inst.default_exchange,
        )
        self.executions.append(ex)
        self.log.append(time=ex.time, kind="EXECUTION", client_id=order.client_id, order_id=order.order_id,
                        perm_id=order.perm_id, order_ref=order.req.order_ref, con_id=inst.con_id,
                        symbol=inst.symbol, side=order.side, quantity=m.quantity, price=m.price,
                        status=mt.FILLED if order.filled >= order.quantity else order.status,
                        exec_id=ex.exec_id, commission=commission, realized_pnl=result.realized)
        self.sink.execution(ex)
        if order.filled >= order.quantity:
            self._finish(order, mt.FILLED, notify_open=True)
        else:
            self.sink.order_update(order, open_order=False)
        self.sink.commission(ex)
        self.sink.account_changed({inst.con_id})
        self._after_fill(order, m.quantity)

    def correct_execution(self, exec_id: str, price: Decimal) -> Execution | None:
        """IB's execution correction: the same order and permId, the execId's last part bumped, the new
        price; cash and the order's average price follow it (realized P&L already booked is not restated).
        Corrects the latest version of the execution; None when no execution has this id."""
        base = exec_id.rsplit(".", 1)[0]
        versions = [e for e in self.executions if e.exec_id.rsplit(".", 1)[0] == base]
        if not any(e.exec_id == exec_id for e in versions):
            return None
        latest = versions[-1]
        head, _, last = latest.exec_id.rpartition(".")
        new = replace(latest, exec_id=f"{head}.{int(last) + 1:02d}", price=price, supersedes=latest.exec_id)
        delta = (price - latest.price) * latest.shares
        self.account.cash += -delta if latest.side == "BOT" else delta
        order = self.orders.get(latest.perm_id)
        if order is not None:
            order.filled_value += delta
            new = replace(new, avg_price=order.avg_fill_price)
        self.executions.append(new)
        self.log.append(time=self.clock(), kind="CORRECTION", client_id=new.client_id, order_id=new.order_id,
                        perm_id=new.perm_id, order_ref=new.order_ref, con_id=new.con_id,
                        symbol=inst.symbol if (inst := self.universe.by_con_id(new.con_id)) else "",
                        side="BUY" if new.side == "BOT" else "SELL", quantity=new.shares, price=price,
                        status=order.status if order is not None else "", exec_id=new.exec_id,
                        commission=new.commission, realized_pnl=None)
        self.sink.execution(new)
        self.sink.commission(new)
        self.sink.account_changed({new.con_id})
        return new

    def _after_fill(self, order: SimOrder, quantity: Decimal) -> None:
        # OCA: explicit groups, and the implicit group of a bracket's children
        peers: list[SimOrder] = []
        oca_type = order.req.oca_type
        if order.req.oca_group:
            peers = [o for o in self._all_working()
                     if o is not order and o.req.oca_group == order.req.oca_group and o.client_id == order.client_id]
        elif order.req.parent_id and order.parent_perm_id:
            parent = self.orders.get(order.parent_perm_id)
            if parent is not None:
                peers = [self.orders[p] for p in parent.children if p != order.perm_id and p in self.orders]
                oca_type = 3
        for peer in sorted(peers, key=lambda o: o.perm_id):
            if peer.is_done:
                continue
            if oca_type in (0, 1):
                self._finish(peer, mt.CANCELLED, notify_open=False)
            else:
                new_total = peer.quantity - quantity
                if new_total <= peer.filled:
                    self._finish(peer, mt.CANCELLED, notify_open=False)
                else:
                    peer.req = peer.req.amended(total_quantity=new_total)
                    self._retally(peer)
                    self._log(peer, "MODIFIED")
                    self.sink.order_update(peer, open_order=True)
        # bracket: a filled parent activates its children
        if order.status == mt.FILLED:
            for child_perm in list(order.children):
                child = self.orders.get(child_perm)
                if child is not None and not child.is_done:
                    child.status = self._resting_status(child, order)
                    self._log(child, "STATUS")
                    self.sink.order_update(child, open_order=True)
                    self._evaluate(child, incoming=True)

    # ------------------------------------------------------------------------------ the day

    def expire(self, now: datetime | None = None) -> None:
        """Cancel GTD orders whose time has come."""
        now = now or self.clock()
        for order in sorted(self._all_working(), key=lambda o: o.perm_id):
            if order.gtd is not None and order.gtd <= now and not order.is_done:
                self._finish(order, mt.CANCELLED, notify_open=False)

    def end_of_day(self) -> None:
        """Closing auction (MOC/LOC at the last price), DAY orders expire, the account rolls its day."""
        for order in sorted(self._all_working(), key=lambda o: o.perm_id):
            if order.req.order_type in mt.AUCTION_TYPES and not order.is_done:
                inst = self.universe.by_con_id(order.con_id)
                assert inst is not None
                m = mt.auction_match(order, self.market.quote(order.con_id).last)
                if m is not None:
                    self._execute(order, inst, m, incoming=False)
        for order in sorted(self._all_working(), key=lambda o: o.perm_id):
            if not order.is_done and (order.req.tif or "DAY") in ("DAY", "IOC", "FOK"):
                self._finish(order, mt.CANCELLED, notify_open=False)
        self.expire()
        self.market.roll_session()
        self.account.start_day(self.marks())
        self.sink.account_changed(set(self.account.positions))

    # --------------------------------------------------------------------------------- views

    def open_orders(self, client_id: int | None = None) -> list[SimOrder]:
        out = [o for o in self.orders.values() if not o.is_done and (client_id is None or o.client_id == client_id)]
        return sorted(out, key=lambda o: o.perm_id)

    def completed_orders(self) -> list[SimOrder]:
        return sorted((o for o in self.orders.values() if o.is_done), key=lambda o: o.perm_id)

    def _log(self, order: SimOrder, kind: str) -> None:
        inst = self.universe.by_con_id(order.con_id)
        order.update_time = now = self.clock()
        self.log.append(time=now, kind=kind, client_id=order.client_id, order_id=order.order_id,
                        perm_id=order.perm_id, order_ref=order.req.order_ref, con_id=order.con_id,
                        symbol=inst.symbol if inst else order.req.symbol, side=order.side,
                        quantity=order.quantity, price=order.req.lmt_price, status=order.status)


_GTD = re.compile(r"^(\d{8})[ -](\d{2}:\d{2}:\d{2})(?:\s+(\S+))?$")


def parse_gtd(text: str) -> datetime | None:
    """goodTillDate "YYYYMMDD HH:MM:SS [zone]" (or with '-'); no zone means UTC."""
    m = _GTD.match(text.strip())
    if not m:
        return None
    try:
        naive = datetime.strptime(m.group(1) + m.group(2), "%Y%m%d%H:%M:%S")
        zone = ZoneInfo(m.group(3)) if m.group(3) else UTC
    except (ValueError, ZoneInfoNotFoundError):
        return None
    return naive.replace(tzinfo=zone)
