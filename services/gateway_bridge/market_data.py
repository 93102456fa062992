"""Market data: reference-counted streaming lines within the budget, quotes on the bus, snapshots.

Lines survive reconnects: `restore()` re-requests every line (after a new session, and after IB 1101
"data lost"), so subscribers never have to know the socket flapped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from ib_async import Contract, Ticker
from ibkr.trading.v1 import event_pb2, instrument_pb2, market_data_pb2

from services.common.errors import ResourceExhausted, Unavailable
from services.gateway_bridge.contracts import ContractResolver
from services.gateway_bridge.domain.farms import Kind
from services.gateway_bridge.domain.lines import LineBook, LineBudgetExceeded
from services.gateway_bridge.ib.quotes import quote_from_ticker
from services.gateway_bridge.ib.session import IbSession
from services.gateway_bridge.publisher import Publisher

log = logging.getLogger("services.gateway_bridge.market_data")


class MarketData:
    """Owns the streaming lines. Quotes are coalesced per instrument and published by one task."""

    def __init__(self, session: IbSession, contracts: ContractResolver, publisher: Publisher, budget: int) -> None:
        self._session, self._contracts, self._publisher = session, contracts, publisher
        self.book = LineBook(budget)
        self._lines: dict[int, tuple[Contract, instrument_pb2.Instrument]] = {}
        self._dirty: dict[int, Ticker] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        session.on_tickers = self._on_tickers

    def start(self) -> None:
        self._task = asyncio.create_task(self._publish_loop(), name="bridge-quotes")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _on_tickers(self, tickers: set[Ticker]) -> None:
        for ticker in tickers:
            con_id = ticker.contract.conId if ticker.contract else 0
            if con_id in self._lines:
                self._dirty[con_id] = ticker
        if self._dirty:
            self._wake.set()

    async def _publish_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._dirty = self._dirty, {}
            for con_id, ticker in batch.items():
                line = self._lines.get(con_id)
                if line is not None:
                    quote = quote_from_ticker(ticker, line[1])
                    await self._publisher.publish("quote_update", event_pb2.QuoteUpdate(quote=quote),
                                                  symbol=line[1].symbol)

    async def subscribe(self, subscriber: str, instruments: list[instrument_pb2.Instrument],
                        timeout: float | None = None) -> list[tuple[instrument_pb2.Instrument, int]]:
        """Hold a line per instrument for `subscriber`; RESOURCE_EXHAUSTED beyond the budget (all or nothing)."""
        if not self._session.connected:
            raise Unavailable("BROKER_UNAVAILABLE", "not connected to IB")
        contracts = [await self._contracts.resolve(i, timeout, "instruments.symbol") for i in instruments]
        async with self._lock:
            try:
                opened = self.book.add(subscriber, [c.conId for c in contracts])
            except LineBudgetExceeded as err:
                raise ResourceExhausted("MARKET_DATA_LINES_EXHAUSTED", str(err),
                                        metadata={"budget": self.book.budget}) from None
            for contract in contracts:
                if contract.conId in opened:
                    self._lines[contract.conId] = (contract, self._contracts.instrument(contract))
                    await self._session.subscribe_market_data(contract)
        return [(self._lines[c.conId][1], self.book.count(c.conId)) for c in contracts]

    async def unsubscribe(self, subscriber: str, instruments: list[instrument_pb2.Instrument] | None,
                          timeout: float | None = None) -> list[tuple[instrument_pb2.Instrument, int]]:
        """Release lines; a line closes when its last holder leaves."""
        keys = None if instruments is None else \
            [(await self._contracts.resolve(i, timeout, "instruments.symbol")).conId for i in instruments]
        async with self._lock:
            affected = list(self.book.holders) if keys is None else keys
            infos = {k: self._lines[k][1] for k in affected if k in self._lines}
            for key in self.book.remove(subscriber, keys):
                contract, _ = self._lines.pop(key)
                if self._session.connected:
                    await self._session.unsubscribe_market_data(contract)
        return [(inst, self.book.count(k)) for k, inst in infos.items()]

    async def restore(self) -> None:
        """Re-request every held line (new session, or IB 1101: subscriptions were lost)."""
        async with self._lock:
            for contract, _ in self._lines.values():
                with contextlib.suppress(Exception):
                    await self._session.unsubscribe_market_data(contract)
                await self._session.subscribe_market_data(contract)
        log.info("market data restored", extra={"lines": len(self._lines)})

    async def quote(self, inst: instrument_pb2.Instrument, timeout: float | None) -> market_data_pb2.Quote:
        """The live line's quote when one is held, else a one-off snapshot under a deadline."""
        contract = await self._contracts.resolve(inst, timeout)
        line = self._lines.get(contract.conId)
        ticker = self._session.ticker(contract) if line else None
        if ticker is None:
            if not self._session.connected:
                raise Unavailable("BROKER_UNAVAILABLE", "not connected to IB")
            self._contracts.farms.require(Kind.DATA_FARM_KIND_MARKET_DATA)  # a snapshot would only time out
            ticker = await self._session.snapshot(contract, timeout)
        return quote_from_ticker(ticker, self._contracts.instrument(contract))
