"""The connection supervisor: connect with backoff and jitter, reconcile, watch, reconnect.

States follow `ibkr.trading.v1.BrokerConnectionState`. Orders are accepted (and health is SERVING) only in
CONNECTED, i.e. connected *and* reconciled. IB notices are handled by class (`ib.errors`): 1100 suspends
trading, 1101/1102 reconcile again (1101 also restores market data), 1300 reconnects. A staleness watchdog
probes a silent socket and reconnects when the probe goes unanswered. Every state change is published on
the bus and set on the `ibkr_bridge_connection_state` gauge.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable

from ibkr.trading.v1 import event_pb2, reconciliation_pb2, system_pb2

from services.gateway_bridge.config import BridgeSettings
from services.gateway_bridge.convert import now_timestamp
from services.gateway_bridge.domain.backoff import Backoff
from services.gateway_bridge.domain.events import ErrorSeen
from services.gateway_bridge.domain.farms import Farm
from services.gateway_bridge.domain.guard import LiveTradingRefused, check_accounts, check_port
from services.gateway_bridge.ib.errors import ErrorClass, classify
from services.gateway_bridge.ib.session import IbSession
from services.gateway_bridge.lease import Lease
from services.gateway_bridge.orders import OrderService
from services.gateway_bridge.publisher import Publisher

log = logging.getLogger("services.gateway_bridge.supervisor")
State = system_pb2.BrokerConnectionState

# IB notice class → (connection state to enter, reconcile afterwards?, market data lost?)
NOTICE_ACTIONS: dict[ErrorClass, tuple[int, bool, bool]] = {
    ErrorClass.CONNECTIVITY_LOST: (State.BROKER_CONNECTION_STATE_CONNECTIVITY_LOST, False, False),
    ErrorClass.RESTORED_DATA_LOST: (State.BROKER_CONNECTION_STATE_RECONCILING, True, True),
    ErrorClass.RESTORED_DATA_KEPT: (State.BROKER_CONNECTION_STATE_RECONCILING, True, False),
}


class Supervisor:
    """Runs the connection life cycle until `stop()`; `on_ready(bool)` flips health and order intake."""

    def __init__(self, settings: BridgeSettings, session: IbSession, orders: OrderService, publisher: Publisher,
                 on_ready: Callable[[bool], Awaitable[None]],
                 on_market_data_lost: Callable[[], Awaitable[None]] | None = None,
                 on_state: Callable[[int], None] | None = None,
                 lease: Lease | None = None,
                 on_reconciled: Callable[[], None] | None = None,
                 on_farm: Callable[[Farm], None] | None = None) -> None:
        self._s, self._session, self._orders, self._publisher = settings, session, orders, publisher
        self._on_ready = on_ready
        self._on_market_data_lost = on_market_data_lost
        self._on_state = on_state or (lambda s: None)
        self._lease = lease
        self._on_reconciled = on_reconciled or (lambda: None)
        self._on_farm = on_farm or (lambda farm: None)
        self.state = State.BROKER_CONNECTION_STATE_DISCONNECTED
        self.last_error = ""
        self.connect_time: float | None = None
        self.last_reconcile_wall: float | None = None
        self.accounts: list[str] = []
        self._closed = asyncio.Event()
        self._notices: asyncio.Queue[ErrorSeen] = asyncio.Queue()
        self._stopping = False
        self._backoff = Backoff(settings.bridge_reconnect_initial_seconds, settings.bridge_reconnect_max_seconds)

    # Hooks the order service calls from its event pump.
    def session_closed(self) -> None:
        self._closed.set()

    def notice(self, ev: ErrorSeen) -> None:
        klass = classify(ev.code)
        farm = self._orders.farms.on_notice(ev.code, ev.message)
        if farm is not None:  # informational at IB: the session state stays; readiness per kind (domain.farms)
            log.log(logging.INFO if farm.connected else logging.WARNING, "IB data farm %s: %s", ev.code, ev.message)
            self._on_farm(farm)
            if not farm.connected:
                self.last_error = f"{ev.code}: {ev.message}"
        if klass in NOTICE_ACTIONS or klass is ErrorClass.SOCKET_RESET:
            self._notices.put_nowait(ev)
        elif klass in (ErrorClass.CLIENT_ID_IN_USE, ErrorClass.PACING_VIOLATION):
            log.warning("IB notice %s: %s", ev.code, ev.message)
            self.last_error = f"{ev.code}: {ev.message}"

    async def _set_state(self, state: int, message: str = "", code: int | None = None,
                         market_data_lost: bool = False) -> None:
        if state == self.state:
            return
        previous, self.state = self.state, state
        self._on_state(state)
        change = event_pb2.ConnectionStateChange(state=state, previous_state=previous, message=message,
                                                 market_data_lost=market_data_lost,
                                                 bridge_instance_id=self._s.bridge_instance_id)
        if code is not None:
            change.broker_code = code
        log.info("IB connection %s → %s %s", State.Name(previous), State.Name(state), message)
        await self._publisher.publish("connection_state_change", change)
        await self._on_ready(state == State.BROKER_CONNECTION_STATE_CONNECTED)

    async def run(self) -> None:
        """Connect, reconcile, serve, and start over after any loss, until stopped."""
        check_port(self._s.ib_port, allow_live=self._s.allow_live_trading)
        while not self._stopping:
            if self._lease is not None and not self._lease.held:
                await self._set_state(State.BROKER_CONNECTION_STATE_STANDBY, "waiting for the active lease")
                await self._lease.acquire()
            try:
                await self._connect_once()
            except LiveTradingRefused as exc:
                self.last_error = str(exc)
                log.error("refusing live trading: %s", exc)
                self._session.disconnect()
                await self._set_state(State.BROKER_CONNECTION_STATE_DISCONNECTED, self.last_error)
                raise
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - any failure means: back off and try again
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("IB session failed: %s", self.last_error)
            self._session.disconnect()
            self._orders.ready = False
            await self._orders.on_disconnected()
            await self._set_state(State.BROKER_CONNECTION_STATE_DISCONNECTED, self.last_error)
            if not self._stopping:
                await asyncio.sleep(self._backoff.next())

    async def _connect_once(self) -> None:
        await self._set_state(State.BROKER_CONNECTION_STATE_CONNECTING)
        self._closed.clear()
        self._orders.begin_session()
        self.accounts = await self._session.connect(self._s.ib_host, self._s.ib_port, self._s.ib_client_id,
                                                    self._s.bridge_connect_timeout_seconds)
        check_accounts(self.accounts, allow_live=self._s.allow_live_trading)
        self.connect_time = time.time()
        await self._reconcile(market_data_lost=True)  # a new session holds no market-data lines yet
        self._backoff.reset()
        await self._watch()

    async def _reconcile(self, code: int | None = None, market_data_lost: bool = False) -> None:
        self._orders.ready = False
        await self._set_state(State.BROKER_CONNECTION_STATE_RECONCILING, "reconciling", code, market_data_lost)
        account = self.accounts[0] if len(self.accounts) == 1 else self._s.account_id
        run = reconciliation_pb2.ReconciliationRun(run_id=str(uuid.uuid4()), start_time=now_timestamp(),
                                                   trigger="connect" if code is None else f"ib-{code}")
        counts = await self._orders.reconcile(account, self._s.bridge_ib_request_timeout_seconds * 2)
        run.orders_resolved, run.succeeded = counts["resolved_not_at_broker"], True
        run.complete_time.CopyFrom(now_timestamp())
        await self._publisher.publish("reconciliation_completed", event_pb2.ReconciliationCompleted(run=run),
                                      account_id=account)
        if market_data_lost and self._on_market_data_lost is not None:
            await self._on_market_data_lost()
        log.info("reconciled with IB", extra=counts)
        self._on_reconciled()
        self.last_reconcile_wall = time.time()
        self._orders.ready = True
        await self._set_state(State.BROKER_CONNECTION_STATE_CONNECTED, "connected and reconciled", code)

    async def _watch(self) -> None:
        """Until the socket dies: handle notices and probe a silent socket."""
        period = max(0.05, min(self._s.bridge_staleness_seconds / 2, self._s.bridge_lease_ttl_seconds / 6))
        while not self._stopping:
            closed = asyncio.ensure_future(self._closed.wait())
            notice = asyncio.ensure_future(self._notices.get())
            done, _ = await asyncio.wait({closed, notice}, timeout=period, return_when=asyncio.FIRST_COMPLETED)
            for task in (closed, notice):
                if task not in done:
                    task.cancel()
            if not self._session.connected:
                raise ConnectionError("the IB socket closed")
            if self._lease is not None and not self._lease.held:
                raise ConnectionError("the active lease was lost: stepping down to standby")
            if closed in done:
                self._closed.clear()  # a late close of an earlier, failed attempt: this session is alive
            if notice in done:
                await self._handle_notice(notice.result())
            elif time.monotonic() - self._session.last_message_time > self._s.bridge_staleness_seconds:
                await self._session.probe()  # DEADLINE_EXCEEDED here ends the session: reconnect

    async def _handle_notice(self, ev: ErrorSeen) -> None:
        klass = classify(ev.code)
        if klass is ErrorClass.SOCKET_RESET:
            raise ConnectionError(f"IB {ev.code}: {ev.message}")
        state, reconcile, data_lost = NOTICE_ACTIONS[klass]
        if not reconcile:
            self._orders.ready = False
            await self._set_state(state, ev.message, ev.code)
            return
        await self._reconcile(ev.code, data_lost)

    async def stop(self) -> None:
        self._stopping = True
        self._closed.set()
        with contextlib.suppress(Exception):
            self._session.disconnect()
        if self._lease is not None:
            await self._lease.release()
