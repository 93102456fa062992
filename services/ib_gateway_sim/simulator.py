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
from decimal import Decimal
from typing import Self

from .account import Account, CommissionSchedule
from .broker import Broker, InjectedReject
from .broker_log import BrokerLog, LogEntry
from .config import SimConfig
from .gateway import Gateway
from .instruments import Instrument, Universe
from .market import Market
from .matching import Execution, SimOrder

log = logging.getLogger("ibkr.sim")

DATA_MAINTAINED = (1102, "Connectivity between IB and Trader Workstation has been restored - data maintained.")
DATA_LOST = (1101, "Connectivity between IB and Trader Workstation has been restored - data lost.")
LOST = (1100, "Connectivity between IB and Trader Workstation has been lost.")


@dataclass
class SimState:
    """Everything a reset rebuilds from the seed (a restart with state kept keeps it)."""

    universe: Universe
    market: Market
    account: Account
    broker: Broker
    log: BrokerLog


class Simulator:
    def __init__(self, config: SimConfig | None = None) -> None:
        self.config = config or SimConfig.for_tests()
        self.universe = Universe.load(self.config.sim_universe_path)
        self.gateway = Gateway(universe=self.universe, server_version=self.config.sim_server_version,
                               host=self.config.bind_host)
        self.seed = self.config.sim_seed
        self.state = self._build_state(self.seed)
        self.tick_interval = self.config.sim_tick_interval_ms / 1000
        self._tasks: list[asyncio.Task] = []
        self._started = False
        self._restore_handle: asyncio.TimerHandle | None = None
        self._restart_task: asyncio.Task | None = None
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
        return SimState(self.universe, market, account, broker, blog)

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
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        if self._restore_handle:
            self._restore_handle.cancel()
        if self._restart_task and not self._restart_task.done():
            self._restart_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._restart_task
        await self.gateway.close()
        self._started = False

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _run_market(self) -> None:
        while True:
            if self.tick_interval <= 0:
                await asyncio.sleep(0.25)
                self.broker.expire()
                continue
            await asyncio.sleep(self.tick_interval)
            if not self.gateway.market_paused:
                self.step_market()
            self.broker.expire()

    async def _run_account_push(self) -> None:
        interval = self.config.sim_account_push_interval_ms / 1000
        if interval <= 0:
            return
        while True:
            await asyncio.sleep(interval)
            if self.account.positions and not self.gateway.market_paused:
                self.gateway.push_account({c for c, p in self.account.positions.items() if p.quantity},
                                          positions=False)

    # ------------------------------------------------------------------------------ market control

    def instrument(self, key: str | int) -> Instrument:
        """An instrument by conId or symbol (KeyError when unknown)."""
        inst = self.universe.by_con_id(int(key)) if isinstance(key, int) or str(key).isdigit() else \
            self.universe.by_symbol(str(key))
        if inst is None:
            raise KeyError(key)
        return inst

    def _quotes_changed(self, con_ids: list[int]) -> None:
        self.gateway.publish_quotes(con_ids)
        self.broker.on_quotes(con_ids)

    def step_market(self, steps: int = 1, symbols: list[str | int] | None = None) -> None:
        """Advance the random walk (or the pending price paths) `steps` times."""
        con_ids = [self.instrument(s).con_id for s in symbols] if symbols else None
        for _ in range(steps):
            self._quotes_changed(self.market.step(con_ids))

    def set_price(self, symbol: str | int, price: Decimal) -> None:
        inst = self.instrument(symbol)
        self.market.set_price(inst.con_id, Decimal(price))
        self._quotes_changed([inst.con_id])

    def set_quote(self, symbol: str | int, **parts: Decimal | None) -> None:
        inst = self.instrument(symbol)
        self.market.set_quote(inst.con_id, **parts)
        self._quotes_changed([inst.con_id])

    def set_price_path(self, symbol: str | int, prices: list[Decimal]) -> None:
        self.market.set_path(self.instrument(symbol).con_id, [Decimal(p) for p in prices])

    def pause_market_data(self) -> None:
        self.gateway.market_paused = True

    def resume_market_data(self) -> None:
        self.gateway.market_paused = False
        con_ids = [c for c, subs in self.gateway.quote_subs.items() if subs]
        self.gateway.publish_quotes(con_ids)

    def set_session(self, session: str) -> None:
        if session not in ("rth", "extended", "closed"):
            raise ValueError(session)
        self.broker.set_session(session)

    def end_of_day(self) -> None:
        self.broker.end_of_day()

    # ------------------------------------------------------------------------------ faults

    def reject_next_orders(self, code: int = 201, message: str = "", count: int = 1) -> None:
        text = message or "Order rejected - reason:Rejected by the simulator's control service"
        self.broker.rejects.extend(InjectedReject(code, text) for _ in range(count))

    def set_response_delay(self, seconds: float) -> None:
        self.gateway.response_delay = max(0.0, seconds)

    def drop_connections(self) -> int:
        return self.gateway.drop_all()

    def interrupt_connectivity(self, *, data_lost: bool = False, duration: float | None = None) -> None:
        """Send 1100 now; after `duration` seconds (None: wait for `restore_connectivity`) 1101 or 1102."""
        self.gateway.connectivity_lost = True
        self.broker.halted = True
        self.gateway.broadcast_error(*LOST)
        if self._restore_handle:
            self._restore_handle.cancel()
            self._restore_handle = None
        if duration is not None:
            loop = asyncio.get_running_loop()
            self._restore_handle = loop.call_later(duration, self.restore_connectivity, data_lost)

    def restore_connectivity(self, data_lost: bool = False) -> None:
        self._restore_handle = None
        if not self.gateway.connectivity_lost:
            return
        self.gateway.connectivity_lost = False
        self.broker.halted = False
        if data_lost:
            self.gateway.drop_market_data_subscriptions()
        self.gateway.broadcast_error(*(DATA_LOST if data_lost else DATA_MAINTAINED))
        for code, text in ((2104, "Market data farm connection is OK:usfarm"),
                           (2106, "HMDS data farm connection is OK:ushmds")):
            self.gateway.broadcast_error(code, text)
        self.broker.on_quotes(list(self.market.quotes))

    async def restart(self, *, keep_state: bool = True, downtime: float = 0.0, seed: int | None = None) -> None:
        """Like IB Gateway's daily restart: every socket dies, the port is closed for `downtime` seconds,
        then the gateway listens again on the same port (with its orders and positions, or reset)."""
        await self.gateway.close()
        if not keep_state:
            self.reset(seed if seed is not None else self.seed)
        self.gateway.connectivity_lost = False
        self.broker.halted = False
        if downtime > 0:
            await asyncio.sleep(downtime)
        await self.gateway.listen(self.tws_port)

    def restart_in_background(self, *, keep_state: bool = True, downtime: float = 0.0,
                              seed: int | None = None) -> None:
        self._restart_task = asyncio.get_running_loop().create_task(
            self.restart(keep_state=keep_state, downtime=downtime, seed=seed))

    def reset(self, seed: int | None = None) -> None:
        """Back to the starting state of `seed` (default: the configured one). Clients stay connected."""
        self.seed = self.config.sim_seed if seed is None else seed
        self.gateway.quote_subs.clear()
        for s in self.gateway.sessions:
            s.mkt.clear()
        self.state = self._build_state(self.seed)

    # ------------------------------------------------------------------------------ broker truth

    def log_entries(self, after_seq: int = 0, kinds: set[str] | None = None) -> list[LogEntry]:
        return self.state.log.entries(after_seq, kinds)

    def executions(self) -> list[Execution]:
        return list(self.broker.executions)

    def orders(self) -> list[SimOrder]:
        return sorted(self.broker.orders.values(), key=lambda o: o.perm_id)
