"""The TWS socket server: client registry, routing of broker reports, quote fan-out, account pushes, faults.

Implements the broker's `Sink`: order reports go to the session of the owning clientId (and to clientId 0
when it asked for reqAutoOpenOrders); account changes are coalesced and pushed once per event-loop turn to
every session subscribed to account updates, positions, P&L or account summaries.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

from . import messages as msg
from .broker import Broker
from .instruments import Universe
from .matching import Execution, SimOrder
from .session import MktSub, Session

log = logging.getLogger("ibkr.sim.gateway")

ZERO = Decimal(0)
MONEY = Decimal("0.01")

# account summary tags ib_async asks for, mapped to (row key, currency) in `account_rows`
SUMMARY_TAGS = [
    "AccountType", "NetLiquidation", "TotalCashValue", "SettledCash", "AccruedCash", "BuyingPower",
    "EquityWithLoanValue", "PreviousDayEquityWithLoanValue", "GrossPositionValue", "RegTEquity", "RegTMargin",
    "SMA", "InitMarginReq", "MaintMarginReq", "AvailableFunds", "ExcessLiquidity", "Cushion",
    "FullInitMarginReq", "FullMaintMarginReq", "FullAvailableFunds", "FullExcessLiquidity",
    "LookAheadNextChange", "LookAheadInitMarginReq", "LookAheadMaintMarginReq", "LookAheadAvailableFunds",
    "LookAheadExcessLiquidity", "HighestSeverity", "DayTradesRemaining", "DayTradesRemainingT+1",
    "DayTradesRemainingT+2", "DayTradesRemainingT+3", "DayTradesRemainingT+4", "Leverage",
]
LEDGER_TAGS = ["CashBalance", "TotalCashBalance", "NetLiquidationByCurrency", "StockMarketValue",
               "UnrealizedPnL", "RealizedPnL", "ExchangeRate", "AccruedCash", "SettledCash"]


def money(x: Decimal) -> str:
    return format(x.quantize(MONEY), "f")


class Gateway:
    def __init__(self, *, universe: Universe, server_version: int = 178, host: str = "127.0.0.1") -> None:
        self.universe = universe
        self.server_version = server_version
        self.host = host
        self.broker: Broker = None  # type: ignore[assignment]  # set by the simulator
        self.sessions: set[Session] = set()
        self.by_client: dict[int, Session] = {}
        self.quote_subs: dict[int, dict[tuple[Session, int], MktSub]] = {}
        self.server: asyncio.Server | None = None
        self.port = 0
        self.response_delay = 0.0
        self.delay_types: set[int] | None = None  # message ids the delay applies to (None: all)
        self.drop_responses = False
        self.paused: set[int] = set()  # con ids whose market data is paused
        self.paused_all = False
        self.connectivity_lost = False
        self.max_write_buffer = 64 * 1024 * 1024
        self.requests: Counter[int] = Counter()
        self._dirty: set[int] = set()
        self._account_flush_scheduled = False
        self._last_account_flush = 0.0
        self.account_flush_interval = 0.02  # account pushes after fills at most this often (bursts coalesce)
        self.account_push_delay = 0.005  # and this long after the fill at the earliest
        # Account *values* (updateAccountValue, accountUpdateMulti, account summary: ~30-50 rows) at most this
        # often; positions, portfolio and P&L keep the pace above. A real gateway sends values every few minutes.
        self.account_values_interval = 0.25
        self._last_values_push = 0.0
        self._values_scheduled = False
        self.on_request: Callable[[int], None] | None = None

    # ------------------------------------------------------------------------------ server

    async def listen(self, port: int) -> int:
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(lambda: Session(self), self.host, port, reuse_address=True)
        self.port = self.server.sockets[0].getsockname()[1]
        log.info("TWS API socket listening on %s:%s", self.host, self.port)
        return self.port

    async def close(self) -> None:
        self.drop_all()
        await self.stop_listening()

    def attach(self, session: Session) -> None:
        self.sessions.add(session)

    def detach(self, session: Session) -> None:
        self.sessions.discard(session)
        if session.client_id is not None and self.by_client.get(session.client_id) is session:
            del self.by_client[session.client_id]
        for sub in session.mkt.values():
            self.unsubscribe_quotes(session, sub)
        session.mkt.clear()

    def claim_client_id(self, client_id: int, session: Session) -> bool:
        holder = self.by_client.get(client_id)
        if holder is not None and not holder.closed:
            return False
        self.by_client[client_id] = session
        return True

    @property
    def market_paused(self) -> bool:
        return self.paused_all

    def is_paused(self, con_id: int) -> bool:
        return self.paused_all or con_id in self.paused

    @property
    def accepting(self) -> bool:
        return self.server is not None

    def policy(self, fields: list[str]) -> tuple[float, bool]:
        """(delay, drop) for one incoming request under the SetResponseDelay fault."""
        if self.response_delay <= 0 and not self.drop_responses:
            return 0.0, False
        if self.delay_types is not None:
            try:
                msg_id = int(fields[0]) if fields else -1
            except ValueError:
                msg_id = -1
            if msg_id not in self.delay_types:
                return 0.0, False
        return self.response_delay, self.drop_responses

    def count_request(self, msg_id: int) -> None:
        self.requests[msg_id] += 1
        if self.on_request is not None:
            self.on_request(msg_id)

    def ready_sessions(self) -> list[Session]:
        return [s for s in self.sessions if s.client_id is not None and not s.closed]

    # ------------------------------------------------------------------------------ faults

    def drop_all(self, client_id: int | None = None) -> int:
        dropped = 0
        for s in list(self.sessions):
            if client_id is None or s.client_id == client_id:
                s.abort()
                dropped += 1
        return dropped

    async def stop_listening(self) -> None:
        if self.server is not None:
            server, self.server = self.server, None
            server.close()
            await server.wait_closed()

    def broadcast_error(self, code: int, text: str) -> int:
        sessions = self.ready_sessions()
        for s in sessions:
            s.error(-1, code, text)
        return len(sessions)

    def drop_market_data_subscriptions(self) -> None:
        for s in self.ready_sessions():
            for sub in list(s.mkt.values()):
                self.unsubscribe_quotes(s, sub)
            s.mkt.clear()

    # ------------------------------------------------------------------------------ Sink (broker reports)

    def _order_sessions(self, client_id: int) -> list[Session]:
        out = []
        owner = self.by_client.get(client_id)
        if owner is not None and not owner.closed:
            out.append(owner)
        if client_id != 0:
            master = self.by_client.get(0)
            if master is not None and master.auto_open_orders and not master.closed:
                out.append(master)
        return out

    def order_update(self, order: SimOrder, *, open_order: bool) -> None:
        for s in self._order_sessions(order.client_id):
            s._send_order(order, open_order=open_order)

    def acknowledged(self, order: SimOrder) -> None:
        """The order was accepted: its acknowledgement leaves now, ahead of any fill, as a real gateway's
        would (the fill needs an exchange round trip). Only for a lone request: in a pipelined burst the
        replies stay batched into one write."""
        for s in self._order_sessions(order.client_id):
            if s.lone_request:
                s.flush()

    def execution(self, ex: Execution) -> None:
        inst = self.universe.by_con_id(ex.con_id)
        for s in self._order_sessions(ex.client_id):
            s.send(msg.exec_details(s.sv, -1, ex, inst))

    def commission(self, ex: Execution) -> None:
        for s in self._order_sessions(ex.client_id):
            s.send(msg.commission_report(ex))

    def order_error(self, client_id: int, order_id: int, code: int, message: str) -> None:
        s = self.by_client.get(client_id)
        if s is not None:
            s.error(order_id, code, message)

    def what_if(self, client_id: int, order: SimOrder, state: dict[str, str]) -> None:
        s = self.by_client.get(client_id)
        if s is not None:
            inst = self.universe.by_con_id(order.con_id)
            s.send(msg.open_order(s.sv, order, inst, what_if=state))

    def account_changed(self, con_ids: set[int]) -> None:
        """Push account values, portfolio, positions and P&L after a fill: `account_push_delay` later (in a
        write of their own, so a client reads the fill first, as from a real gateway, whose account pushes
        lag far more) and at most once per `account_flush_interval` (bursts coalesce)."""
        self._dirty |= con_ids
        if self._account_flush_scheduled:
            return
        self._account_flush_scheduled = True
        loop = asyncio.get_running_loop()
        wait = max(self.account_push_delay, self._last_account_flush + self.account_flush_interval - loop.time())
        loop.call_later(wait, self._flush_account)

    def _flush_account(self) -> None:
        if not self._account_flush_scheduled:
            return
        self._account_flush_scheduled = False
        loop = asyncio.get_running_loop()
        now = self._last_account_flush = loop.time()
        con_ids, self._dirty = self._dirty, set()
        values = now - self._last_values_push >= self.account_values_interval
        if values:
            self._last_values_push = now
        elif not self._values_scheduled:
            self._values_scheduled = True
            loop.call_at(self._last_values_push + self.account_values_interval, self._flush_values)
        self.push_account(con_ids, positions=True, values=values)

    def _flush_values(self) -> None:
        self._values_scheduled = False
        self._last_values_push = asyncio.get_running_loop().time()
        self.push_account(set(), positions=False, values=True)

    # ------------------------------------------------------------------------------ account views

    def account_rows(self) -> dict[tuple[str, str], tuple[str, str]]:
        """(tag, currency) -> (value, currency) for updateAccountValue / accountUpdateMulti."""
        broker = self.broker
        acct = broker.account
        v = acct.values(broker.marks())
        cur = acct.currency
        m = {k: money(x) for k, x in v.items() if k not in ("cushion", "leverage")}
        rows: dict[tuple[str, str], tuple[str, str]] = {}

        def put(tag: str, value: str, currency: str) -> None:
            rows[(tag, currency)] = (value, currency)

        put("AccountCode", acct.account_id, "")
        put("AccountType", "INDIVIDUAL", "")
        put("AccountReady", "true", "")
        put("Currency", cur, cur)
        put("Currency", "BASE", "BASE")
        for tag, key in (("NetLiquidation", "net_liquidation"), ("TotalCashValue", "cash"),
                         ("SettledCash", "cash"), ("BuyingPower", "buying_power"),
                         ("EquityWithLoanValue", "equity_with_loan"), ("GrossPositionValue", "gross"),
                         ("InitMarginReq", "init_margin"), ("MaintMarginReq", "maint_margin"),
                         ("AvailableFunds", "available_funds"), ("ExcessLiquidity", "excess_liquidity"),
                         ("FullInitMarginReq", "init_margin"), ("FullMaintMarginReq", "maint_margin"),
                         ("FullAvailableFunds", "available_funds"), ("FullExcessLiquidity", "excess_liquidity"),
                         ("LookAheadInitMarginReq", "init_margin"), ("LookAheadMaintMarginReq", "maint_margin"),
                         ("LookAheadAvailableFunds", "available_funds"),
                         ("LookAheadExcessLiquidity", "excess_liquidity"), ("RegTEquity", "equity_with_loan"),
                         ("RegTMargin", "init_margin"), ("SMA", "available_funds")):
            put(tag, m[key], cur)
        put("AccruedCash", "0.00", cur)
        put("PreviousDayEquityWithLoanValue", money(v["net_liquidation"] - v["daily"]), cur)
        put("Cushion", format(v["cushion"].quantize(Decimal("0.000001")), "f"), "")
        put("Leverage-S", format(v["leverage"].quantize(Decimal("0.01")), "f"), "")
        put("LookAheadNextChange", "0", "")
        put("HighestSeverity", "0", "")
        put("DayTradesRemaining", "-1", "")
        for n in range(1, 5):
            put(f"DayTradesRemainingT+{n}", "-1", "")
        for currency in (cur, "BASE"):
            put("CashBalance", m["cash"], currency)
            put("TotalCashBalance", m["cash"], currency)
            put("NetLiquidationByCurrency", m["net_liquidation"], currency)
            put("StockMarketValue", m["stock_market_value"], currency)
            put("UnrealizedPnL", m["unrealized"], currency)
            put("RealizedPnL", m["realized"], currency)
            put("ExchangeRate", "1.00", currency)
        return rows

    def account_value_messages(self, session: Session, *, full: bool,
                               rows: dict[tuple[str, str], tuple[str, str]] | None = None) -> list[list[str]]:
        rows = rows if rows is not None else self.account_rows()
        acct = self.broker.account.account_id
        out = []
        for key, (value, currency) in rows.items():
            if full or session.sent_values.get(key) != value:
                session.sent_values[key] = value
                out.append(msg.update_account_value(key[0], value, currency, acct))
        return out

    def portfolio_messages(self, con_ids: set[int] | None) -> list[list[str]]:
        acct = self.broker.account
        marks = self.broker.marks()
        out = []
        for con_id, pos in sorted(acct.positions.items()):
            if con_ids is not None and con_id not in con_ids:
                continue
            if not pos.quantity and con_ids is None:
                continue
            mark = marks[con_id]
            out.append(msg.update_portfolio(pos.instrument, pos.quantity, mark, (pos.quantity * mark).quantize(MONEY),
                                            pos.average_cost, pos.unrealized(mark).quantize(MONEY),
                                            pos.realized_today.quantize(MONEY), acct.account_id))
        return out

    def position_messages(self, con_ids: set[int] | None) -> list[list[str]]:
        acct = self.broker.account
        out = []
        for con_id, pos in sorted(acct.positions.items()):
            if con_ids is not None and con_id not in con_ids:
                continue
            if not pos.quantity and con_ids is None:
                continue
            out.append(msg.position(acct.account_id, pos.instrument, pos.quantity, pos.average_cost))
        return out

    def summary_rows(self, tags: list[str], rows: dict | None = None) -> list[tuple[str, str, str]]:
        rows = rows if rows is not None else self.account_rows()
        want = set(tags)
        ledger = "$LEDGER" in want or any(t.startswith("$LEDGER") for t in want)
        out = []
        for (tag, currency), (value, cur) in rows.items():
            name = "Leverage" if tag == "Leverage-S" else tag
            if tag in LEDGER_TAGS and currency in (self.broker.account.currency, "BASE") and ledger \
                    and tag not in ("AccruedCash", "SettledCash") or name in want and (currency in ("", self.broker.account.currency)):
                out.append((name, value, cur))
        return out

    def summary_messages(self, req_id: int, tags: list[str], rows: dict | None = None) -> list[list[str]]:
        acct = self.broker.account.account_id
        return [msg.account_summary(req_id, acct, t, v, c) for t, v, c in self.summary_rows(tags, rows)]

    def pnl_message(self, req_id: int) -> list[str]:
        acct = self.broker.account
        marks = self.broker.marks()
        return msg.pnl(req_id, acct.daily(marks).quantize(MONEY), acct.unrealized(marks).quantize(MONEY),
                       acct.realized_today.quantize(MONEY))

    def pnl_single_message(self, req_id: int, con_id: int) -> list[str]:
        acct = self.broker.account
        pos = acct.position(con_id)
        mark = self.broker.marks()[con_id]
        if pos is None:
            return msg.pnl_single(req_id, ZERO, ZERO, ZERO, ZERO, ZERO)
        return msg.pnl_single(req_id, pos.quantity, pos.daily(mark).quantize(MONEY),
                              pos.unrealized(mark).quantize(MONEY), pos.realized_today.quantize(MONEY),
                              (pos.quantity * mark).quantize(MONEY))

    def push_account(self, con_ids: set[int], *, positions: bool, values: bool = True) -> None:
        """Send portfolio, positions and P&L for these instruments to every subscriber, and (with `values`)
        the account values that changed since each subscriber last heard them."""
        sessions = [s for s in self.ready_sessions()
                    if s.account_updates or s.positions or s.pnl or s.pnl_single or s.summary or s.multi]
        if not sessions:
            return
        rows = self.account_rows() if values else {}
        acct_id = self.broker.account.account_id
        portfolio = position = None
        now = datetime.now(UTC)
        for s in sessions:
            if s.account_updates:
                if values:
                    s.send_many(self.account_value_messages(s, full=False, rows=rows))
                if portfolio is None:
                    portfolio = self.portfolio_messages(con_ids)
                s.send_many(portfolio)
                if values:
                    s.send(msg.update_account_time(now))
            if s.positions and positions:
                if position is None:
                    position = self.position_messages(con_ids)
                s.send_many(position)
            for req_id in s.pnl:
                s.send(self.pnl_message(req_id))
            for req_id, con_id in s.pnl_single.items():
                if con_id in con_ids:
                    s.send(self.pnl_single_message(req_id, con_id))
            if not values:
                continue
            for req_id, tags in s.summary.items():
                s.send_many(self.summary_messages(req_id, tags, rows))
            for req_id, model in s.multi.items():
                for key, (value, currency) in rows.items():
                    if s.sent_multi.get((req_id, *key)) != value:  # only what changed, like updateAccountValue
                        s.sent_multi[(req_id, *key)] = value
                        s.send(msg.account_update_multi(req_id, acct_id, model, key[0], value, currency))

    # ------------------------------------------------------------------------------ market data

    def subscribe_quotes(self, session: Session, sub: MktSub) -> None:
        self.quote_subs.setdefault(sub.con_id, {})[(session, sub.req_id)] = sub

    def unsubscribe_quotes(self, session: Session, sub: MktSub) -> None:
        subs = self.quote_subs.get(sub.con_id)
        if subs is not None:
            subs.pop((session, sub.req_id), None)

    def quote_ticks(self, req_id: int, con_id: int, delayed: bool, *, full: bool) -> list[list[str]]:
        q = self.broker.market.quote(con_id)

        def t(tick: int) -> int:
            return msg.DELAYED[tick] if delayed else tick

        out = [
            msg.tick_price(req_id, t(msg.TICK_BID), q.bid, q.bid_size, 1),
            msg.tick_price(req_id, t(msg.TICK_ASK), q.ask, q.ask_size, 1),
            msg.tick_price(req_id, t(msg.TICK_LAST), q.last, q.last_size, 0),
            msg.tick_size(req_id, t(msg.TICK_VOLUME), q.volume),
        ]
        if full:
            out += [
                msg.tick_price(req_id, t(msg.TICK_HIGH), q.high, ZERO, 0),
                msg.tick_price(req_id, t(msg.TICK_LOW), q.low, ZERO, 0),
                msg.tick_price(req_id, t(msg.TICK_CLOSE), q.close, ZERO, 0),
                msg.tick_price(req_id, t(msg.TICK_OPEN), q.open, ZERO, 0),
            ]
        else:
            out += [msg.tick_price(req_id, t(msg.TICK_HIGH), q.high, ZERO, 0),
                    msg.tick_price(req_id, t(msg.TICK_LOW), q.low, ZERO, 0)]
        return out

    def publish_quotes(self, con_ids: list[int]) -> None:
        if self.paused_all or self.connectivity_lost:
            return
        for con_id in con_ids:
            subs = self.quote_subs.get(con_id)
            if not subs or con_id in self.paused:
                continue
            for (session, req_id), sub in list(subs.items()):
                session.send_many(self.quote_ticks(req_id, con_id, sub.delayed, full=False))
