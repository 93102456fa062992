"""Keeping the quotes of recently traded symbols fresh, so a market order rarely waits for a quote lookup.

A market-priced order needs a quote no older than the policy's quote age; without one from the bus the gate
asks the bridge, a GetQuote round trip on the order's path (2–3 ms in the suite, measured as the slow tail of
PlaceOrder at 10 orders/s: every symbol's first market order after each quote age). Symbols that had a
market-priced order in the last `window` seconds are looked up again in the background before their quote
goes stale. At most `limit` symbols are kept, the most recently traded: each lookup is an IB request that
shares the bridge's pacing with orders, so a handful of symbols costs about one request a second.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from services.common.errors import DomainError
from services.common.tasks import cancel_and_wait, raise_if_cancelling
from services.risk.core.book import MarketBook
from services.risk.core.model import Quote

log = logging.getLogger("services.risk.quote_keeper")
MIN_CHECK_SECONDS = 0.25  # however short the quote age, the keeper never spins


class QuoteKeeper:
    """Refreshes the market's quotes of the symbols `touch`ed lately, in one background task."""

    def __init__(self, lookup: Callable[[str], Awaitable[Quote | None]], market: MarketBook,
                 max_age: Callable[[], float], clock: Callable[[], float], *, limit: int, window: float) -> None:
        self._lookup, self._market, self._max_age, self._clock = lookup, market, max_age, clock
        self._limit, self._window = limit, window
        self._recent: dict[str, float] = {}  # symbol -> last market-priced order; oldest first
        self._task: asyncio.Task[None] | None = None

    def touch(self, symbol: str, now: float) -> None:
        """A market-priced order in `symbol`: keep its quote fresh for the next `window` seconds."""
        self._recent.pop(symbol, None)
        self._recent[symbol] = now
        if len(self._recent) > self._limit:
            del self._recent[next(iter(self._recent))]

    @property
    def symbols(self) -> list[str]:
        """The symbols kept fresh, oldest order first."""
        return list(self._recent)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="risk-quote-keeper")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None

    async def _run(self) -> None:
        while True:
            check = max(MIN_CHECK_SECONDS, self._max_age() / 4)
            await asyncio.sleep(check)
            await self.refresh(check)

    async def refresh(self, check: float) -> None:
        """Look up every kept symbol whose quote would be stale before the check after next."""
        now, max_age = self._clock(), self._max_age()
        for symbol, used in list(self._recent.items()):
            if now - used > self._window:
                self._recent.pop(symbol, None)
                continue
            quote = self._market.quotes.get(symbol)
            if quote is not None and now - quote.received_at < max_age - 2 * check:
                continue
            try:
                fresh = await self._lookup(symbol)
            except DomainError:
                self._recent.pop(symbol, None)  # the bridge says the symbol does not exist
                continue
            except Exception:
                raise_if_cancelling()
                # A background refresh never stops the keeper; the order path still looks up for itself.
                log.debug("quote refresh failed", exc_info=True, extra={"symbol": symbol})
                continue
            if fresh is not None:
                self._market.update(symbol, fresh)
