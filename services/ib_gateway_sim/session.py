"""One client connection: handshake, request dispatch, per-connection subscriptions and output batching.

An `asyncio.Protocol`, so a burst of requests is parsed and answered inside one `data_received` call and
the answers leave in one write. Handlers are synchronous; nothing here sleeps (the "delay responses"
fault queues incoming frames with a due time instead).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from . import messages as msg
from . import wire
from .messages import Cursor, ParseError

if TYPE_CHECKING:
    from .gateway import Gateway

log = logging.getLogger("ibkr.sim.session")

SERVER_MIN_VERSION = 157

FARM_OK = [
    (2104, "Market data farm connection is OK:usfarm"),
    (2106, "HMDS data farm connection is OK:ushmds"),
    (2158, "Sec-def data farm connection is OK:secdefnj"),
]

# requests the simulator knows but does not serve: (reqId field index, error code, text)
_UNSERVED: dict[int, tuple[int, int, str]] = {
    10: (2, 354, "Requested market data is not subscribed. Market depth is not simulated."),
    20: (2, 162, "Historical Market Data Service error message:The simulator has no historical data"),
    21: (2, 321, "Error validating request.-'bN' : cause - Option exercise is not supported"),
    22: (2, 162, "Historical Market Data Service error message:Scanners are not simulated"),
    50: (2, 354, "Requested market data is not subscribed. Real-time bars are not simulated."),
    52: (2, 430, "The fundamentals data for the security specified is not available."),
    54: (2, 354, "Requested market data is not subscribed. Option computations are not simulated."),
    55: (2, 354, "Requested market data is not subscribed. Option computations are not simulated."),
    78: (1, 321, "Error validating request.-'bN' : cause - Option chains are not simulated"),
    81: (1, 321, "Error validating request.-'bN' : cause - Symbol search is not simulated"),
    87: (1, 162, "Historical Market Data Service error message:The simulator has no historical data"),
    88: (1, 162, "Historical Market Data Service error message:The simulator has no historical data"),
    96: (1, 162, "Historical Market Data Service error message:The simulator has no historical data"),
    97: (1, 354, "Requested market data is not subscribed. Tick-by-tick data is not simulated."),
}
# requests answered with silence (cancels of unserved subscriptions, logging, bulletins, display groups)
_IGNORED = {11, 12, 13, 14, 23, 24, 25, 51, 53, 56, 57, 65, 66, 67, 68, 69, 70, 72, 73, 79, 80, 82, 83, 84, 85,
            86, 89, 90, 91, 98, 100, 101, 102, 103, 104}


@dataclass
class MktSub:
    req_id: int
    con_id: int
    delayed: bool
    frozen: bool


class Session(asyncio.Protocol):
    def __init__(self, gateway: Gateway) -> None:
        self.gw = gateway
        self.transport: asyncio.Transport | None = None
        self.decoder = wire.FrameDecoder()
        self.sv = 0
        self.client_id: int | None = None
        self.peer = ""
        self.closed = False
        self.connect_time = datetime.now(UTC)
        self._last_due = 0.0
        self._out: list[bytes] = []
        self._flush_scheduled = False
        self._pending: deque[tuple[float, list[str]]] = deque()
        self._pending_timer: asyncio.TimerHandle | None = None
        # subscriptions
        self.data_type = 1
        self.mkt: dict[int, MktSub] = {}
        self.account_updates = False
        self.positions = False
        self.summary: dict[int, list[str]] = {}
        self.multi: dict[int, str] = {}
        self.pnl: set[int] = set()
        self.pnl_single: dict[int, int] = {}
        self.auto_open_orders = False
        self.lone_request = False  # the current read holds a single request
        self.sent_values: dict[tuple[str, str], str] = {}
        self.sent_multi: dict[tuple[int, str, str], str] = {}  # (reqId, tag, currency) -> value last sent

    # ------------------------------------------------------------------------------ transport

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        peer = transport.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if peer else "?"
        self.gw.attach(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._pending_timer:
            self._pending_timer.cancel()
        self.gw.detach(self)

    def data_received(self, data: bytes) -> None:
        try:
            frames = self.decoder.feed(data)
        except wire.FramingError as exc:
            log.warning("closing %s: %s", self.peer, exc)
            if self.sv:
                self.send(msg.error(self.sv, -1, 507, f"Bad message length: {exc}"))
            self.close()
            return
        # A read holding one request is answered eagerly (see `Gateway.acknowledged`); a burst stays batched.
        self.lone_request = len(frames) == 1
        for frame in frames:
            if self.closed:
                return
            if isinstance(frame, wire.Hello):
                self._hello(frame)
                continue
            delay, drop = self.gw.policy(frame)
            if drop:
                continue
            if delay > 0 or self._pending:
                due = max(asyncio.get_running_loop().time() + delay, self._last_due)
                self._last_due = due
                self._pending.append((due, frame))
                self._arm_pending()
            else:
                self.handle(frame)

    def _arm_pending(self) -> None:
        if self._pending_timer is not None or not self._pending:
            return
        loop = asyncio.get_running_loop()
        due = self._pending[0][0]
        self._pending_timer = loop.call_at(due, self._run_pending)

    def _run_pending(self) -> None:
        self._pending_timer = None
        loop = asyncio.get_running_loop()
        now = loop.time()
        while self._pending and self._pending[0][0] <= now and not self.closed:
            _, frame = self._pending.popleft()
            self.handle(frame)
        self._arm_pending()

    def send(self, fields: list[str]) -> None:
        if self.closed:
            return
        self._out.append(wire.encode(fields))
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self.flush)

    def send_many(self, messages: list[list[str]]) -> None:
        for m in messages:
            self.send(m)

    def flush(self) -> None:
        self._flush_scheduled = False
        if self._out and self.transport is not None and not self.closed:
            data = b"".join(self._out)
            self._out.clear()
            self.transport.write(data)
            if self.transport.get_write_buffer_size() > self.gw.max_write_buffer:
                log.warning("closing %s: client is not reading (write buffer over limit)", self.peer)
                self.abort()

    def close(self) -> None:
        """Flush what is queued, then close (the client sees an orderly EOF)."""
        if self.transport is not None and not self.closed:
            self.flush()
            self.closed = True
            self.transport.close()

    def abort(self) -> None:
        """Drop the socket at once (the client sees a reset)."""
        if self.transport is not None:
            self.closed = True
            self._out.clear()
            self.transport.abort()

    def error(self, req_id: int, code: int, text: str, advanced: str = "") -> None:
        self.send(msg.error(self.sv, req_id, code, text, advanced))

    # ------------------------------------------------------------------------------ handshake

    def _hello(self, hello: wire.Hello) -> None:
        version = wire.negotiate(hello, SERVER_MIN_VERSION, self.gw.server_version)
        if version is None:
            log.warning("closing %s: client versions %s..%s do not meet %s..%s", self.peer,
                        hello.min_version, hello.max_version, SERVER_MIN_VERSION, self.gw.server_version)
            self.close()
            return
        self.sv = version
        self.send(msg.handshake_reply(version, datetime.now(UTC)))

    def _start_api(self, fields: list[str]) -> None:
        c = Cursor(fields, 2, strict_until=3)
        client_id = c.i("clientId")
        if client_id is None:
            raise ParseError("clientId missing")
        if self.client_id is not None:
            self.error(-1, 501, "Already connected.")
            return
        if not self.gw.claim_client_id(client_id, self):
            self.error(-1, 326, "Unable to connect as the client id is already in use. "
                                "Retry with a unique client id.")
            self.close()
            return
        self.client_id = client_id
        broker = self.gw.broker
        for order in broker.open_orders(client_id):
            self._send_order(order, open_order=True)
        self.send(msg.open_order_end())
        self.send(msg.managed_accounts([broker.account.account_id]))
        self.send(msg.next_valid_id(broker.next_valid_id()))
        for code, text in (FARM_OK if not self.gw.connectivity_lost else []):
            self.error(-1, code, text)
        if self.gw.connectivity_lost:
            self.error(-1, 1100, "Connectivity between IB and Trader Workstation has been lost.")

    # ------------------------------------------------------------------------------ dispatch

    def handle(self, fields: list[str]) -> None:
        if not fields:
            self.error(-1, 320, "Error reading request: empty message")
            return
        head = fields[0]
        try:
            msg_id = int(head)
        except ValueError:
            self.error(-1, 505, f"Fatal Error: Unknown message id {head[:20]!r}.")
            return
        self.gw.count_request(msg_id)
        if self.client_id is None and msg_id != 71:
            self.error(-1, 321, "Error validating request.-'bN' : cause - startApi (71) must come first")
            return
        handler = _HANDLERS.get(msg_id)
        try:
            if handler is not None:
                handler(self, fields)
            elif msg_id in _UNSERVED:
                pos, code, text = _UNSERVED[msg_id]
                c = Cursor(fields, pos)
                self.error(c.i0("reqId"), code, text)
            elif msg_id in _IGNORED:
                pass
            else:
                self.error(-1, 505, f"Fatal Error: Unknown message id {msg_id}.")
        except ParseError as exc:
            req_id = _req_id_guess(msg_id, fields)
            self.error(req_id, 320, f"Error reading request: {exc}")
        except Exception:  # a bug must never take the simulator down; the client gets IB's generic error
            log.exception("error handling message %s from %s", msg_id, self.peer)
            self.error(_req_id_guess(msg_id, fields), 320, "Error reading request: internal simulator error")

    # ------------------------------------------------------------------------------ orders

    def _send_order(self, order, *, open_order: bool) -> None:
        inst = self.gw.universe.by_con_id(order.con_id)
        if open_order:
            self.send(msg.open_order(self.sv, order, inst))
        self.send(msg.order_status(order))

    def _place_order(self, fields: list[str]) -> None:
        try:
            req = msg.parse_place_order(fields, self.sv)
        except ParseError as exc:
            self.error(_req_id_guess(3, fields), 320, f"Error reading request: {exc}")
            return
        self.gw.broker.place(self.client_id, req)

    def _cancel_order(self, fields: list[str]) -> None:
        c = Cursor(fields, 2, strict_until=3)
        self.gw.broker.cancel(self.client_id, c.i0("orderId"))

    def _open_orders(self, fields: list[str]) -> None:
        master = self.client_id == 0
        for order in self.gw.broker.open_orders(None if master else self.client_id):
            self._send_order(order, open_order=True)
        self.send(msg.open_order_end())

    def _all_open_orders(self, fields: list[str]) -> None:
        for order in self.gw.broker.open_orders(None):
            self._send_order(order, open_order=True)
        self.send(msg.open_order_end())

    def _completed_orders(self, fields: list[str]) -> None:
        for order in self.gw.broker.completed_orders():
            inst = self.gw.universe.by_con_id(order.con_id)
            self.send(msg.completed_order(self.sv, order, inst))
        self.send(msg.completed_orders_end())

    def _executions(self, fields: list[str]) -> None:
        c = Cursor(fields, 2, strict_until=3)
        req_id = c.i0("reqId")
        client_id = c.i0("clientId")
        account, since, symbol, sec_type, exchange, side = c.s(), c.s(), c.s(), c.s(), c.s(), c.s()
        after = _parse_exec_time(since)
        side = {"BUY": "BOT", "SELL": "SLD"}.get(side.upper(), side.upper())
        universe = self.gw.universe
        for ex in self.gw.broker.executions:
            inst = universe.by_con_id(ex.con_id)
            if client_id and ex.client_id != client_id:
                continue
            if account and account != ex.account:
                continue
            if symbol and inst.symbol.upper() != symbol.upper():
                continue
            if sec_type and sec_type != inst.sec_type:
                continue
            if exchange and exchange not in (ex.exchange, ex.order_exchange):
                continue
            if side and side != ex.side:
                continue
            if after is not None and ex.time < after:
                continue
            self.send(msg.exec_details(self.sv, req_id, ex, inst))
            self.send(msg.commission_report(ex))
        self.send(msg.exec_details_end(req_id))

    def _req_ids(self, fields: list[str]) -> None:
        self.send(msg.next_valid_id(self.gw.broker.next_valid_id()))

    def _global_cancel(self, fields: list[str]) -> None:
        self.gw.broker.global_cancel()

    def _auto_open_orders(self, fields: list[str]) -> None:
        c = Cursor(fields, 2)
        self.auto_open_orders = c.b("autoBind") and self.client_id == 0

    # ------------------------------------------------------------------------------ contracts

    def _contract_details(self, fields: list[str]) -> None:
        c = Cursor(fields, 2, strict_until=15)
        req_id = c.i0("reqId")
        spec = msg.order_request_from_contract_fields(fields, 3)
        if not spec["con_id"] and not spec["symbol"] and not spec["local_symbol"]:
            self.error(req_id, 321, "Error validating request.-'bL' : cause - Please enter a local symbol or a "
                                    "contract id")
            return
        found = self.gw.universe.resolve(**spec)
        if not found:
            self.error(req_id, 200, "No security definition has been found for the request")
            return
        for inst in found:
            exchange = spec["exchange"] or inst.default_exchange
            if exchange == "ISLAND":
                exchange = "ISLAND"
            self.send(msg.contract_details(self.sv, req_id, inst, exchange))
        self.send(msg.contract_details_end(req_id))

    # ------------------------------------------------------------------------------ market data

    def _mkt_data(self, fields: list[str]) -> None:
        c = Cursor(fields, 2, strict_until=15)
        req_id = c.i0("reqId")
        spec = msg.order_request_from_contract_fields(fields, 3)
        c.pos = 15
        if spec["sec_type"] == "BAG":
            c.skip(4 * c.i0("comboLegs"))
        if c.b("deltaNeutralContract"):
            c.skip(3)
        c.s()  # genericTickList
        snapshot = c.b("snapshot")
        regulatory = c.b("regulatorySnapshot")
        if spec["sec_type"] == "BAG":
            self.error(req_id, 200, "No security definition has been found for the request")
            return
        found = self.gw.universe.resolve(**spec)
        if len(found) != 1:
            self.error(req_id, 200, "No security definition has been found for the request")
            return
        inst = found[0]
        if req_id in self.mkt:
            self.error(req_id, 322, f"Error processing request.-'bN' : cause - Duplicate ticker id {req_id}")
            return
        frozen = self.gw.is_paused(inst.con_id) or self.gw.connectivity_lost
        delayed = self.data_type in (3, 4)
        shown_type = {1: 1, 2: 2 if frozen else 1, 3: 3, 4: 4 if frozen else 3}[self.data_type]
        sub = MktSub(req_id, inst.con_id, delayed, frozen)
        self.send(msg.market_data_type(req_id, shown_type))
        self.send(msg.tick_req_params(req_id, inst.min_tick))
        if delayed:
            self.error(req_id, 10167, "Requested market data is not subscribed. Displaying delayed market data.")
        self.send_many(self.gw.quote_ticks(req_id, inst.con_id, delayed, full=True))
        if snapshot or regulatory:
            self.send(msg.tick_snapshot_end(req_id))
            return
        self.mkt[req_id] = sub
        self.gw.subscribe_quotes(self, sub)

    def _cancel_mkt_data(self, fields: list[str]) -> None:
        c = Cursor(fields, 2, strict_until=3)
        sub = self.mkt.pop(c.i0("reqId"), None)
        if sub is not None:
            self.gw.unsubscribe_quotes(self, sub)

    def _market_data_type(self, fields: list[str]) -> None:
        c = Cursor(fields, 2, strict_until=3)
        t = c.i0("marketDataType")
        if t not in (1, 2, 3, 4):
            self.error(-1, 321, f"Error validating request.-'bN' : cause - Invalid market data type {t}")
            return
        self.data_type = t

    # ------------------------------------------------------------------------------ account

    def _account_updates(self, fields: list[str]) -> None:
        c = Cursor(fields, 2, strict_until=3)
        subscribe = c.b("subscribe")
        account = c.s()
        acct = self.gw.broker.account.account_id
        if account and account != acct:
            self.error(-1, 321, f"Error validating request.-'bN' : cause - Invalid account code {account}")
            return
        self.account_updates = subscribe
        if subscribe:
            self.sent_values.clear()
            self.send_many(self.gw.account_value_messages(self, full=True))
            self.send_many(self.gw.portfolio_messages(None))
            self.send(msg.update_account_time(datetime.now(UTC)))
            self.send(msg.account_download_end(acct))

    def _account_updates_multi(self, fields: list[str]) -> None:
        c = Cursor(fields, 2, strict_until=4)
        req_id = c.i0("reqId")
        account, model = c.s(), c.s()
        acct = self.gw.broker.account.account_id
        if account and account not in (acct, "All"):
            self.error(req_id, 321, f"Error validating request.-'bN' : cause - Invalid account code {account}")
            return
        self.multi[req_id] = model
        for key, (value, currency) in self.gw.account_rows().items():
            self.sent_multi[(req_id, *key)] = value
            self.send(msg.account_update_multi(req_id, acct, model, key[0], value, currency))
        self.send(msg.account_update_multi_end(req_id))

    def _cancel_account_updates_multi(self, fields: list[str]) -> None:
        self.multi.pop(Cursor(fields, 2).i0("reqId"), None)

    def _positions(self, fields: list[str]) -> None:
        self.positions = True
        self.send_many(self.gw.position_messages(None))
        self.send(msg.position_end())

    def _cancel_positions(self, fields: list[str]) -> None:
        self.positions = False

    def _positions_multi(self, fields: list[str]) -> None:
        c = Cursor(fields, 2, strict_until=3)
        req_id = c.i0("reqId")
        c.s()
        model = c.s()
        acct = self.gw.broker.account.account_id
        for pos in self.gw.broker.account.positions.values():
            if pos.quantity:
                inst = pos.instrument
                self.send(["71", "1", str(req_id), acct, str(inst.con_id), inst.symbol, inst.sec_type, "", "0",
                           "", "", inst.primary_exchange, inst.currency, inst.local_symbol, inst.trading_class,
                           msg.dec(pos.quantity), msg.dec(pos.average_cost), model])
        self.send(["72", "1", str(req_id)])

    def _account_summary(self, fields: list[str]) -> None:
        c = Cursor(fields, 2, strict_until=5)
        req_id = c.i0("reqId")
        c.s()  # group
        tags = [t.strip() for t in c.s().split(",") if t.strip()]
        self.summary[req_id] = tags
        self.send_many(self.gw.summary_messages(req_id, tags))
        self.send(msg.account_summary_end(req_id))

    def _cancel_account_summary(self, fields: list[str]) -> None:
        self.summary.pop(Cursor(fields, 2).i0("reqId"), None)

    def _pnl(self, fields: list[str]) -> None:
        c = Cursor(fields, 1, strict_until=2)
        req_id = c.i0("reqId")
        self.pnl.add(req_id)
        self.send(self.gw.pnl_message(req_id))

    def _cancel_pnl(self, fields: list[str]) -> None:
        self.pnl.discard(Cursor(fields, 1).i0("reqId"))

    def _pnl_single(self, fields: list[str]) -> None:
        c = Cursor(fields, 1, strict_until=5)
        req_id = c.i0("reqId")
        c.s()
        c.s()
        con_id = c.i0("conId")
        if self.gw.universe.by_con_id(con_id) is None:
            self.error(req_id, 200, "No security definition has been found for the request")
            return
        self.pnl_single[req_id] = con_id
        self.send(self.gw.pnl_single_message(req_id, con_id))

    def _cancel_pnl_single(self, fields: list[str]) -> None:
        self.pnl_single.pop(Cursor(fields, 1).i0("reqId"), None)

    # ------------------------------------------------------------------------------ misc

    def _managed_accounts(self, fields: list[str]) -> None:
        self.send(msg.managed_accounts([self.gw.broker.account.account_id]))

    def _current_time(self, fields: list[str]) -> None:
        self.send(msg.current_time(int(datetime.now(UTC).timestamp())))


def _parse_exec_time(text: str) -> datetime | None:
    text = text.strip()
    if not text:
        return None
    for fmt in ("%Y%m%d-%H:%M:%S", "%Y%m%d %H:%M:%S", "%Y%m%d"):
        try:
            return datetime.strptime(text[:17] if fmt != "%Y%m%d" else text[:8], fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


def _req_id_guess(msg_id: int, fields: list[str]) -> int:
    """The request / order id to attach to an error about a malformed message, when it can be read."""
    pos = {3: 1, 4: 2, 1: 2, 9: 2, 7: 2, 62: 2, 76: 2, 92: 1, 94: 1}.get(msg_id)
    if pos is None or pos >= len(fields):
        return -1
    try:
        return int(fields[pos])
    except ValueError:
        return -1


_HANDLERS = {
    71: Session._start_api,
    1: Session._mkt_data,
    2: Session._cancel_mkt_data,
    3: Session._place_order,
    4: Session._cancel_order,
    5: Session._open_orders,
    6: Session._account_updates,
    7: Session._executions,
    8: Session._req_ids,
    9: Session._contract_details,
    15: Session._auto_open_orders,
    16: Session._all_open_orders,
    17: Session._managed_accounts,
    49: Session._current_time,
    58: Session._global_cancel,
    59: Session._market_data_type,
    61: Session._positions,
    62: Session._account_summary,
    63: Session._cancel_account_summary,
    64: Session._cancel_positions,
    74: Session._positions_multi,
    75: lambda s, f: None,
    76: Session._account_updates_multi,
    77: Session._cancel_account_updates_multi,
    92: Session._pnl,
    93: Session._cancel_pnl,
    94: Session._pnl_single,
    95: Session._cancel_pnl_single,
    99: Session._completed_orders,
}


