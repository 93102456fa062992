"""The ib_async session: the only code that calls IB (vendor I/O, kept apart from domain logic).

Every request passes the pacing gate first and runs under a deadline. Raw wrapper callbacks are tapped
(before ib_async's own interpretation can mislabel them, e.g. treating 10349 as a cancel) and translated
into `domain.events`, which go to `sink` in arrival order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from ib_async import IB, Contract, ExecutionFilter, Order, OrderState, Ticker

from services.common.errors import DeadlineExceeded, FailedPrecondition, Unavailable
from services.gateway_bridge.domain.events import BrokerEvent, SessionClosed
from services.gateway_bridge.domain.pacing import Pacer, Priority
from services.gateway_bridge.ib import log_format, translate
from services.gateway_bridge.ib.errors import REJECT_WHEN_PENDING, ErrorClass, classify

log = logging.getLogger("services.gateway_bridge.ib")

Sink = Callable[[BrokerEvent], None]

# wrapper method → translator taking the same arguments (minus what it ignores). Data, not branches.
_TAPS: dict[str, Callable[..., BrokerEvent | None]] = {
    "openOrder": lambda order_id, contract, order, state: None if order.whatIf else
    translate.open_order(order_id, contract, order, state),
    "completedOrder": translate.completed_order,
    "orderStatus": lambda order_id, status, filled, remaining, avg, perm_id, parent_id, last, client_id, *_:
    translate.order_status(order_id, status, filled, remaining, avg, perm_id, parent_id, last, client_id),
    "execDetails": lambda req_id, contract, execution: translate.execution(contract, execution),
    "commissionReport": translate.commission,
    "error": lambda req_id, code, message, *_: translate.error(req_id, code, message),
    "position": translate.position,
    "updateAccountValue": translate.account_value,
    "updatePortfolio": translate.portfolio,
}


# Error classes that end a what-if request: the broker will not preview this order.
WHAT_IF_REFUSALS = frozenset({ErrorClass.ORDER_REJECTED, ErrorClass.UNKNOWN_CONTRACT})


class IbSession:
    """One IB API connection at a time. Create once; `connect` / `disconnect` as the supervisor decides."""

    def __init__(self, pacer: Pacer, request_timeout: float, sink: Sink) -> None:
        log_format.install()  # ib_async's eager f-string logs: short form, not a full Trade repr per event
        self._pacer = pacer
        self._timeout = request_timeout
        self._sink = sink
        self._ib: IB | None = None
        self.last_message_time = time.monotonic()
        self.server_version = 0
        self.on_tickers: Callable[[set[Ticker]], None] = lambda tickers: None

    @property
    def ib(self) -> IB:
        if self._ib is None or not self._ib.isConnected():
            raise Unavailable("BROKER_UNAVAILABLE", "not connected to IB")
        return self._ib

    @property
    def connected(self) -> bool:
        return self._ib is not None and self._ib.isConnected()

    def _install_taps(self, ib: IB) -> None:
        wrapper = ib.wrapper
        for name, translator in _TAPS.items():
            original = getattr(wrapper, name)

            def tapped(*args: Any, _original=original, _translate=translator, _name=name) -> Any:
                result = _original(*args)
                try:
                    event = _translate(*args)
                except Exception:
                    log.exception("cannot translate IB callback %s", _name)
                    return result
                if event is not None:
                    self._sink(event)
                return result

            setattr(wrapper, name, tapped)
        arrived = wrapper.tcpDataArrived

        def data_arrived() -> None:
            self.last_message_time = time.monotonic()
            arrived()

        wrapper.tcpDataArrived = data_arrived
        ib.disconnectedEvent += lambda: self._sink(SessionClosed())
        ib.pendingTickersEvent += lambda tickers: self.on_tickers(tickers)

    async def connect(self, host: str, port: int, client_id: int, timeout: float) -> list[str]:
        """Connect and run ib_async's start-up sync (positions, open and completed orders, executions),
        whose callbacks flow through the taps. Returns the managed accounts."""
        self.disconnect()
        ib = IB()
        ib.RequestTimeout = self._timeout
        self._install_taps(ib)
        self._ib = ib
        try:
            await ib.connectAsync(host, port, clientId=client_id, timeout=timeout, raiseSyncErrors=True)
        except BaseException:
            self._ib = None
            ib.disconnect()
            raise
        self.last_message_time = time.monotonic()
        self.server_version = ib.client.serverVersion()
        return list(ib.managedAccounts())

    def disconnect(self) -> None:
        ib, self._ib = self._ib, None
        if ib is not None:
            ib.disconnectedEvent.clear()  # a deliberate close is not news to the supervisor
            ib.disconnect()

    async def _deadline(self, awaitable: Any, what: str, timeout: float | None = None) -> Any:
        try:
            return await asyncio.wait_for(awaitable, timeout or self._timeout)
        except TimeoutError:
            raise DeadlineExceeded("BROKER_TIMEOUT", f"IB did not answer {what} in time") from None

    def pacing_full(self) -> bool:
        """True when a new order request would be refused by the pacing gate right now."""
        return self._pacer.full(Priority.ORDER)

    def next_order_id(self) -> int:
        """A fresh order id of this session (never reused within it; IB reuses them across sessions)."""
        return int(self.ib.client.getReqId())

    async def qualify(self, contract: Contract, timeout: float | None = None) -> Contract | None:
        """Contract details for `contract`, or None when IB has no such security (error 200)."""
        await self._pacer.acquire(Priority.ORDER)
        details = await self._deadline(self.ib.reqContractDetailsAsync(contract), "contract details", timeout)
        matching = [d.contract for d in details or [] if d.contract and d.contract.secType == contract.secType]
        if not matching:
            return None
        qualified = matching[0]
        qualified.exchange = contract.exchange or qualified.exchange
        return qualified

    async def place(self, contract: Contract, order: Order, *, paced: bool = True) -> None:
        """Send a new order (order.orderId preset) or a modification (the same live orderId)."""
        if paced:
            await self._pacer.acquire(Priority.ORDER)
        self.ib.placeOrder(contract, order)

    async def what_if(self, contract: Contract, order: Order, timeout: float | None = None) -> OrderState:
        """IB's what-if for `order` (a placeOrder with whatIf set: paced like an order, never working at the
        broker). A broker refusal is FAILED_PRECONDITION (`PREVIEW_REJECTED`) with IB's code and text, as soon
        as it arrives: ib_async treats some refusals (321) as warnings and would leave the request hanging."""
        await self._pacer.acquire(Priority.ORDER)
        ib = self.ib
        refused: asyncio.Future[tuple[int, str]] = asyncio.get_running_loop().create_future()

        def on_error(req_id: int, code: int, message: str, about: Contract | None) -> None:
            if about is contract and req_id > 0 and not refused.done() and \
                    (classify(code) in WHAT_IF_REFUSALS or code in REJECT_WHEN_PENDING):
                refused.set_result((code, message))

        async def answer() -> OrderState | None:
            answered = asyncio.ensure_future(ib.whatIfOrderAsync(contract, order))
            try:
                await asyncio.wait({answered, refused}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                if not answered.done():
                    answered.cancel()
            if refused.done():
                code, message = refused.result()
                raise FailedPrecondition("PREVIEW_REJECTED", f"IB refused the what-if: {message}",
                                         metadata={"broker_error_code": str(code)})
            return answered.result()

        ib.errorEvent += on_error
        try:
            state = await self._deadline(answer(), "what-if order", timeout)
        finally:
            ib.errorEvent -= on_error
            if not refused.done():
                refused.cancel()
        if not isinstance(state, OrderState):  # ib_async ends a failed request with an empty result
            raise FailedPrecondition("PREVIEW_REJECTED", "the broker did not preview the order",
                                     metadata={"broker_error_code": "0"})
        return state

    async def cancel(self, broker_order_id: int) -> None:
        """Send a cancel; cancels go ahead of everything else in the pacing queue."""
        await self._pacer.acquire(Priority.CANCEL)
        self.ib.client.cancelOrder(broker_order_id, "")

    async def request_executions(self, account: str, timeout: float | None = None) -> None:
        """Ask for today's executions (they arrive through the taps). Always with a filter: an empty one can
        hang (ib_async PR #137)."""
        await self._pacer.acquire(Priority.DATA)
        await self._deadline(self.ib.reqExecutionsAsync(ExecutionFilter(acctCode=account)), "executions", timeout)

    async def request_open_orders(self, timeout: float | None = None) -> None:
        await self._pacer.acquire(Priority.DATA)
        await self._deadline(self.ib.reqOpenOrdersAsync(), "open orders", timeout)

    async def request_completed_orders(self, timeout: float | None = None) -> None:
        await self._pacer.acquire(Priority.DATA)
        await self._deadline(self.ib.reqCompletedOrdersAsync(False), "completed orders", timeout)

    async def request_positions(self, timeout: float | None = None) -> None:
        await self._pacer.acquire(Priority.DATA)
        await self._deadline(self.ib.reqPositionsAsync(), "positions", timeout)

    async def probe(self, timeout: float | None = None) -> None:
        """A round trip (reqCurrentTime), for the staleness watchdog."""
        await self._pacer.acquire(Priority.DATA)
        await self._deadline(self.ib.reqCurrentTimeAsync(), "current time", timeout)

    async def subscribe_market_data(self, contract: Contract) -> Ticker:
        await self._pacer.acquire(Priority.DATA)
        return self.ib.reqMktData(contract, "", False, False)

    async def unsubscribe_market_data(self, contract: Contract) -> None:
        await self._pacer.acquire(Priority.DATA)
        self.ib.cancelMktData(contract)

    async def snapshot(self, contract: Contract, timeout: float | None = None) -> Ticker:
        """A one-off quote; on expiry the IB request is cancelled too (no orphan snapshot at the gateway)."""
        await self._pacer.acquire(Priority.DATA)
        ib = self.ib
        try:
            [ticker] = await self._deadline(ib.reqTickersAsync(contract), "quote snapshot", timeout)
        except DeadlineExceeded:
            with contextlib.suppress(Exception):
                ib.cancelMktData(contract)
            raise
        return ticker

    def ticker(self, contract: Contract) -> Ticker | None:
        return self.ib.ticker(contract) if self.connected else None
