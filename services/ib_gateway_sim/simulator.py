"""`Simulator`: the embeddable whole (state, TWS socket, timers) and the Python control API.

    sim = Simulator(SimConfig.for_tests())
    await sim.start()          # binds the TWS socket (port 0 = ephemeral)
    ib = IB(); await ib.connectAsync("127.0.0.1", sim.tws_port, clientId=1)
    sim.set_price("AAPL", Decimal("191.25"))
    await sim.stop()

No module globals: every piece of state hangs off one instance, so tests can run several side by side.
The gRPC control service (`control.py`) is a thin mapping onto the public methods here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Self

from .account import Account, CommissionSchedule
from .broker import Broker, InjectedReject
from .broker_log import BrokerLog, LogEntry
from .config import DEFAULT_UNIVERSE, SimConfig
from .gateway import Gateway
from .instruments import Instrument, Universe
from .market import Market
from .matching import Execution, SimOrder

log = logging.getLogger("ibkr.sim")

LOST = (1100, "Connectivity between IB and Trader Workstation has been lost.")
DATA_LOST = (1101, "Connectivity between IB and Trader Workstation has been restored - data lost.")
DATA_MAINTAINED = (1102, "Connectivity between IB and Trader Workstation has been restored - data maintained.")
# farm kind -> (broken code, OK code, IB's label, usual farm name)
DATA_FARMS = {
    "market_data": (2103, 2104, "Market", "usfarm"),
    "historical": (2105, 2106, "HMDS", "ushmds"),
    "secdef": (2157, 2158, "Sec-def", "secdefnj"),
}
FARMS_OK = ((2104, "Market data farm connection is OK:usfarm"), (2106, "HMDS data farm connection is OK:ushmds"))

# TWS API request names (ib_async's client method names) -> message ids, for SetResponseDelay
REQUEST_IDS = {
    "reqMktData": 1, "cancelMktData": 2, "placeOrder": 3, "cancelOrder": 4, "reqOpenOrders": 5,
    "reqAccountUpdates": 6, "reqExecutions": 7, "reqIds": 8, "reqContractDetails": 9, "reqAutoOpenOrders": 15,
    "reqAllOpenOrders": 16, "reqManagedAccts": 17, "reqCurrentTime": 49, "reqGlobalCancel": 58,
    "reqMarketDataType": 59, "reqPositions": 61, "reqAccountSummary": 62, "cancelAccountSummary": 63,
    "cancelPositions": 64, "startApi": 71, "reqPositionsMulti": 74, "reqAccountUpdatesMulti": 76,
    "reqPnL": 92, "cancelPnL": 93, "reqPnLSingle": 94, "cancelPnLSingle": 95, "reqCompletedOrders": 99,
}


@dataclass
class SimState:
    """Everything a reset rebuilds from the seed (a restart with state kept keeps it)."""

    market: Market
    account: Account
    broker: Broker
    log: BrokerLog
    start_time: datetime


class Simulator:
    def __init__(self, config: SimConfig | None = None) -> None:
        self.config = config or SimConfig.for_tests()
        self.universe = Universe.load(self.config.sim_universe_path or DEFAULT_UNIVERSE)
        self.gateway = Gateway(universe=self.universe, server_version=self.config.sim_server_version,
                               host=self.config.bind_host)
        self.seed = self.config.sim_seed
        self.pinned: set[int] = set()  # con ids held at a set price (no random walk)
        self.state = self._build_state(self.seed)
        self.tick_interval = self.config.sim_tick_interval_ms / 1000
        self._tasks: list[asyncio.Task] = []
        self._paths: dict[int, asyncio.Task] = {}
        self._background: set[asyncio.Task] = set()
        self._restore_handle: asyncio.TimerHandle | None = None
        self._started = False
        self.tws_port = 0

    # ------------------------------------------------------------------------------ lifecycle

    def _build_state(self, seed: int) -> SimState:
        cfg = self.config
        market = Market(self.universe, seed, cfg.sim_volatility_bps)
        account = Account(cfg.sim_account_id, cfg.sim_starting_cash, cfg.sim_base_currency,
                          cfg.sim_margin_multiplier)
        schedule = CommissionSchedule(cfg.sim_commission_per_share, cfg.sim_commission_min,
                                      cfg.sim_commission_max_pct, cfg.sim_fx_commission_bps)
        blog = BrokerLog()
        broker = Broker(account=account, universe=self.universe, market=market, schedule=schedule,
                        sink=self.gateway, seed=seed, log=blog, first_order_id=cfg.sim_first_order_id)
        broker.session = cfg.sim_session
        account.start_day(broker.marks())
        self.gateway.broker = broker
        return SimState(market, account, broker, blog, datetime.now(UTC))

    @property
    def broker(self) -> Broker:
        return self.state.broker

    @property
    def market(self) -> Market:
        return self.state.market

    @property
    def account(self) -> Account:
        return self.state.account

    async def start(self) -> None:
        """Bind the TWS socket (config port; 0 = ephemeral) and start the market and account timers."""
        if self._started:
            return
        self.tws_port = await self.gateway.listen(self.config.sim_tws_port)
        self._tasks.append(asyncio.create_task(self._run_market(), name="sim-market"))
        self._tasks.append(asyncio.create_task(self._run_account_push(), name="sim-account"))
        self._started = True

    async def stop(self) -> None:
        if self._restore_handle:
            self._restore_handle.cancel()
        tasks = [*self._tasks, *self._paths.values(), *self._background]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        self._paths.clear()
        self._background.clear()
        await self.gateway.close()
        self._started = False

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def _spawn(self, coro) -> asyncio.Task:  # type: ignore[no-untyped-def]
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    async def _run_market(self) -> None:
        while True:
            await asyncio.sleep(self.tick_interval if self.tick_interval > 0 else 0.25)
            if self.tick_interval > 0:
                self.step_market()
            self.broker.expire()

    async def _run_account_push(self) -> None:
        interval = self.config.sim_account_push_interval_ms / 1000
        if interval <= 0:
            return
        while True:
            await asyncio.sleep(interval)
            held = {c for c, p in self.account.positions.items() if p.quantity}
            if held and not self.gateway.paused_all:
                self.gateway.push_account(held, positions=False)

    # ------------------------------------------------------------------------------ market control

    def instrument(self, key: str | int) -> Instrument:
        """An instrument by conId or symbol (KeyError when unknown)."""
        inst = self.universe.by_con_id(int(key)) if isinstance(key, int) or str(key).isdigit() else \
            self.universe.by_symbol(str(key))
        if inst is None:
            raise KeyError(key)
        return inst

    def _quotes_changed(self, con_ids: list[int]) -> None:
        if con_ids:
            self.gateway.publish_quotes(con_ids)
            self.broker.on_quotes(con_ids)

    def step_market(self, steps: int = 1, symbols: list[str | int] | None = None) -> None:
        """Advance the random walk (and pending `set_path` prices) `steps` times. Pinned and paused
        instruments stay where they are unless named explicitly."""
        if symbols:
            con_ids = [self.instrument(s).con_id for s in symbols]
        else:
            if self.gateway.paused_all:
                return
            con_ids = [c for c in self.market.quotes if c not in self.pinned and c not in self.gateway.paused]
        for _ in range(steps):
            self._quotes_changed(self.market.step(con_ids))

    def set_price(self, symbol: str | int, price: Decimal, *, bid: Decimal | None = None,
                  ask: Decimal | None = None, bid_size: Decimal | None = None,
                  ask_size: Decimal | None = None) -> None:
        """Trade at `price` now (the book re-centres unless bid/ask are given); the random walk of this
        instrument stops until `resume_market_data` or `reset`. Resting orders are re-evaluated at once."""
        inst = self.instrument(symbol)
        self.pinned.add(inst.con_id)
        self.market.set_price(inst.con_id, Decimal(price))
        if any(x is not None for x in (bid, ask, bid_size, ask_size)):
            self.market.set_quote(inst.con_id, bid=bid, ask=ask, bid_size=bid_size, ask_size=ask_size)
        self._quotes_changed([inst.con_id])

    def set_quote(self, symbol: str | int, **parts: Decimal | None) -> None:
        inst = self.instrument(symbol)
        self.pinned.add(inst.con_id)
        self.market.set_quote(inst.con_id, **parts)
        self._quotes_changed([inst.con_id])

    def set_price_path(self, symbol: str | int, prices: list[Decimal]) -> None:
        """The next random-walk steps of this instrument take these prices, in order."""
        self.market.set_path(self.instrument(symbol).con_id, [Decimal(p) for p in prices])

    def play_price_path(self, symbol: str | int, prices: list[Decimal], interval: float = 0.1,
                        loop: bool = False) -> datetime | None:
        """Trade at each price in turn, `interval` seconds apart (0: all at once, synchronously).
        Returns when the path ends (None when looping)."""
        inst = self.instrument(symbol)
        old = self._paths.pop(inst.con_id, None)
        if old is not None:
            old.cancel()
        prices = [Decimal(p) for p in prices]
        if interval <= 0 and not loop:
            for p in prices:
                self.set_price(inst.con_id, p)
            return datetime.now(UTC)

        async def play() -> None:
            try:
                while True:
                    for i, p in enumerate(prices):
                        if i or interval <= 0:
                            await asyncio.sleep(max(interval, 0.001))
                        self.set_price(inst.con_id, p)
                    if not loop:
                        return
            finally:
                if self._paths.get(inst.con_id) is asyncio.current_task():
                    del self._paths[inst.con_id]

        self._paths[inst.con_id] = asyncio.get_running_loop().create_task(play())
        return None if loop else datetime.now(UTC) + timedelta(seconds=interval * (len(prices) - 1))

    def pause_market_data(self, symbols: list[str | int] | None = None) -> list[str]:
        """Stop streaming (and moving) these instruments, or all of them."""
        if symbols:
            self.gateway.paused |= {self.instrument(s).con_id for s in symbols}
        else:
            self.gateway.paused_all = True
        return self.paused_symbols()

    def resume_market_data(self, symbols: list[str | int] | None = None) -> list[str]:
        """Resume streaming and the random walk (also of instruments pinned by `set_price`)."""
        if symbols:
            con_ids = {self.instrument(s).con_id for s in symbols}
            self.gateway.paused -= con_ids
            self.pinned -= con_ids
        else:
            con_ids = set(self.gateway.paused) | set(self.gateway.quote_subs)
            self.gateway.paused_all = False
            self.gateway.paused.clear()
            self.pinned.clear()
        self.gateway.publish_quotes(sorted(con_ids))
        return self.paused_symbols()

    def paused_symbols(self) -> list[str]:
        if self.gateway.paused_all:
            return sorted(i.symbol for i in self.universe)
        return sorted(self.universe.by_con_id(c).symbol for c in self.gateway.paused)

    def set_session(self, session: str) -> None:
        """Trading session: "rth", "extended" (only outsideRth orders work) or "closed"."""
        if session not in ("rth", "extended", "closed"):
            raise ValueError(session)
        self.broker.set_session(session)

    def end_of_day(self) -> None:
        """Closing auction (MOC/LOC), DAY orders expire, daily P&L restarts."""
        self.broker.end_of_day()

    # ------------------------------------------------------------------------------ faults

    def reject_next_orders(self, code: int = 201, message: str = "", count: int = 1, symbol: str = "") -> int:
        text = message or "Order rejected - reason:Rejected by the simulator's control service"
        self.broker.rejects.extend(InjectedReject(code, text, symbol) for _ in range(max(1, count)))
        return len(self.broker.rejects)

    def set_response_delay(self, seconds: float, request_types: list[str] | None = None,
                           drop: bool = False) -> None:
        """Delay (or with `drop`, swallow) requests of these types (ib_async method names), or all."""
        ids = None
        if request_types:
            unknown = [t for t in request_types if t not in REQUEST_IDS]
            if unknown:
                raise KeyError(", ".join(unknown))
            ids = {REQUEST_IDS[t] for t in request_types}
        self.gateway.response_delay = max(0.0, seconds)
        self.gateway.delay_types = ids
        self.gateway.drop_responses = drop

    def drop_connections(self, client_id: int | None = None, refuse_for: float = 0.0) -> int:
        """Abort client sockets (all, or one clientId); with `refuse_for`, also refuse new ones that long."""
        dropped = self.gateway.drop_all(client_id)
        if refuse_for > 0:
            self._spawn(self._refuse(refuse_for))
        return dropped

    async def _refuse(self, seconds: float) -> None:
        await self.gateway.stop_listening()
        await asyncio.sleep(seconds)
        if self.gateway.server is None:
            await self.gateway.listen(self.tws_port)

    def interrupt_connectivity(self, *, data_lost: bool = False, duration: float | None = None,
                               suspend: bool = True) -> int:
        """Send 1100 now; after `duration` seconds (None: only on `restore_connectivity`) 1101 or 1102.
        With `suspend`, market data and matching stop during the outage, as at IB."""
        if suspend:
            self.gateway.connectivity_lost = True
            self.broker.halted = True
        sent = self.gateway.broadcast_error(*LOST)
        if self._restore_handle:
            self._restore_handle.cancel()
            self._restore_handle = None
        if duration is not None:
            loop = asyncio.get_running_loop()
            self._restore_handle = loop.call_later(duration, self.restore_connectivity, data_lost)
        return sent

    def send_data_farm_notice(self, kind: str, connected: bool, name: str = "") -> tuple[int, int]:
        """IB's farm notice to every client: `kind` is market_data, historical or secdef. Returns (code,
        clients reached). Informational at IB: nothing else changes in the simulator."""
        broken, ok, label, default = DATA_FARMS[kind]
        code = ok if connected else broken
        text = f"{label} data farm connection is {'OK' if connected else 'broken'}:{name or default}"
        return code, self.gateway.broadcast_error(code, text)

    def correct_execution(self, exec_id: str, price: Decimal) -> Execution | None:
        """Correct an execution as IB does (see `Broker.correct_execution`); None for an unknown id."""
        return self.broker.correct_execution(exec_id, price)

    def restore_connectivity(self, data_lost: bool = False) -> None:
        self._restore_handle = None
        self.gateway.connectivity_lost = False
        self.broker.halted = False
        if data_lost:
            self.gateway.drop_market_data_subscriptions()
        self.gateway.broadcast_error(*(DATA_LOST if data_lost else DATA_MAINTAINED))
        for code, text in FARMS_OK:
            self.gateway.broadcast_error(code, text)
        self.broker.on_quotes(list(self.market.quotes))

    async def restart(self, *, keep_state: bool = True, downtime: float = 0.0, seed: int | None = None) -> None:
        """Like IB Gateway's daily restart: every socket dies, the port is closed for `downtime` seconds,
        then the gateway listens again on the same port (with its orders and positions, or reset)."""
        await self.gateway.close()
        if not keep_state:
            self.reset(seed if seed is not None else self.seed)
        if self._restore_handle:
            self._restore_handle.cancel()
            self._restore_handle = None
        self.gateway.connectivity_lost = False
        self.broker.halted = False
        if downtime > 0:
            await asyncio.sleep(downtime)
        await self.gateway.listen(self.tws_port)

    def restart_in_background(self, *, keep_state: bool = True, downtime: float = 0.0) -> datetime:
        self._spawn(self.restart(keep_state=keep_state, downtime=downtime))
        return datetime.now(UTC) + timedelta(seconds=downtime)

    def reset(self, seed: int | None = None, *, drop_connections: bool = False) -> int:
        """Back to the starting state of `seed` (default: the configured one): prices, account, orders,
        executions, ids and faults. Clients stay connected unless `drop_connections`."""
        self.seed = self.config.sim_seed if seed is None else seed
        for task in self._paths.values():
            task.cancel()
        self._paths.clear()
        if self._restore_handle:
            self._restore_handle.cancel()
            self._restore_handle = None
        gw = self.gateway
        gw.quote_subs.clear()
        gw.paused.clear()
        gw.paused_all = gw.connectivity_lost = gw.drop_responses = False
        gw.response_delay, gw.delay_types = 0.0, None
        self.pinned.clear()
        for s in gw.sessions:
            s.mkt.clear()
        if drop_connections:
            gw.drop_all()
        self.state = self._build_state(self.seed)
        return self.seed

    # ------------------------------------------------------------------------------ broker truth

    def log_entries(self, after_seq: int = 0, kinds: set[str] | None = None) -> list[LogEntry]:
        return self.state.log.entries(after_seq, kinds)

    def executions(self) -> list[Execution]:
        return list(self.broker.executions)

    def orders(self) -> list[SimOrder]:
        """Every order the broker received (rejected ones too), in arrival order."""
        return list(self.broker.received)
