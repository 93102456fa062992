"""The ledger's queries: keyset pages over commit-ordered keys, and P&L. Returns rows; the servicer maps.

Lists are paged on `seq` (or `entry_id`), values issued under the writer lock and therefore in commit order:
a row committed while a caller pages has a key beyond every page already served, so no row is served twice
and none that existed when paging began is skipped.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import asyncpg

from services.ledger.sqlfile import Queries

Row = asyncpg.Record


@dataclasses.dataclass(frozen=True)
class Page:
    """Rows of one page and the keyset position after its last row (None when there is no next page)."""

    rows: list[Row]
    next_position: list[Any] | None


@dataclasses.dataclass(frozen=True)
class Window:
    """A half-open time range; None ends are open."""

    start: datetime | None = None
    end: datetime | None = None


class LedgerReader:
    """Read queries over one ledger schema."""

    def __init__(self, pool: asyncpg.Pool, queries: Queries | None = None) -> None:
        self.pool = pool
        self.q = queries or Queries.load()

    async def _page(self, query: str, args: list[Any], size: int, key: str) -> Page:
        # Fetch one extra row to know whether a next page exists without a count query.
        rows = await self.pool.fetch(self.q[query], *args, size + 1)
        more = len(rows) > size
        rows = rows[:size]
        return Page(rows, [rows[-1][key]] if more else None)

    async def list_fills(self, account_id: str, *, symbol: str = "", order_id: str = "", client_order_id: str = "",
                         window: Window = Window(), include_superseded: bool = False,
                         after: list[Any] | None = None, size: int = 100) -> Page:
        """Fills, newest first."""
        return await self._page("list_fills", [account_id, symbol, order_id, client_order_id, window.start,
                                               window.end, include_superseded, after[0] if after else None],
                                size, "seq")

    async def list_positions(self, account_id: str, *, symbol: str = "", include_closed: bool = False,
                             after: list[Any] | None = None, size: int = 100) -> Page:
        """Positions by symbol; the keyset is (symbol, instrument key)."""
        rows = await self.pool.fetch(self.q["list_positions"], account_id, symbol, include_closed,
                                     after[0] if after else None, after[1] if after else None, size + 1)
        more = len(rows) > size
        rows = rows[:size]
        return Page(rows, [rows[-1]["symbol"], rows[-1]["instrument_key"]] if more else None)

    async def list_orders(self, account_id: str, *, symbol: str = "", statuses: list[str] | None = None,
                          origin: str = "", window: Window = Window(), after: list[Any] | None = None,
                          size: int = 100) -> Page:
        """Orders, newest first."""
        return await self._page("list_orders", [account_id, symbol, statuses or [], origin, window.start,
                                                window.end, after[0] if after else None], size, "seq")

    async def get_order(self, account_id: str, order_id: str = "", client_order_id: str = "",
                        ) -> tuple[Row, list[Row], list[Row], list[Row]] | None:
        """An order with its events, fills and risk decisions (oldest first), or None."""
        async with self.pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
            row = await conn.fetchrow(self.q["get_order"], account_id, order_id, client_order_id)
            if row is None:
                return None
            events = await conn.fetch(self.q["order_events_of"], row["order_id"])
            fills = await conn.fetch(self.q["fills_of_order"], account_id, row["order_id"])
            decisions = await conn.fetch(self.q["risk_decisions_of"], account_id, row["client_order_id"],
                                         row["order_id"])
        return row, events, fills, decisions

    async def list_journal_entries(self, account_id: str, *, ledger_account: str = "", execution_id: str = "",
                                   window: Window = Window(), after: list[Any] | None = None, size: int = 100,
                                   ) -> tuple[Page, dict[int, list[Row]]]:
        """Entries, oldest first, with their postings by entry id."""
        async with self.pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
            rows = await conn.fetch(self.q["list_journal_entries"], account_id, ledger_account, execution_id,
                                    window.start, window.end, after[0] if after else None, size + 1)
            more = len(rows) > size
            rows = rows[:size]
            postings: dict[int, list[Row]] = {}
            for p in await conn.fetch(self.q["postings_for_entries"], [r["entry_id"] for r in rows]):
                postings.setdefault(p["entry_id"], []).append(p)
        return Page(rows, [rows[-1]["entry_id"]] if more else None), postings

    async def pnl(self, account_id: str, trade_date: date) -> tuple[list[Row], list[Row], dict[str, Row]]:
        """The day's realized P&L per currency, the account's positions, and the day's flows by instrument."""
        async with self.pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
            daily = await conn.fetch(self.q["daily_pnl_of"], account_id, trade_date)
            positions = await conn.fetch(self.q["positions_of_account"], account_id, "")
            flows = {r["instrument_key"]: r for r in await conn.fetch(self.q["daily_flows_of"], account_id, trade_date)}
        return daily, positions, flows

    async def positions_and_cash(self, account_id: str) -> tuple[list[Row], dict[str, Decimal]]:
        """All positions of an account and its cash per currency, read consistently (reconciliation)."""
        async with self.pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
            positions = await conn.fetch(self.q["positions_of_account"], account_id, "")
            cash = {r["currency"]: r["balance"] for r in await conn.fetch(self.q["cash_balances"], account_id)}
        return positions, cash

    async def list_events(self, stream: str, account_id: str, types: list[str], after: tuple[int, int], size: int,
                          ) -> tuple[list[Row], bool]:
        """Stored events after a stream position, in stream order; and whether more follow."""
        rows = await self.pool.fetch(self.q["list_events"], stream, account_id, types, after[0], after[1], size + 1)
        return rows[:size], len(rows) > size

    async def open_positions(self) -> dict[tuple[str, str], Decimal]:
        """Non-zero quantity per (account, symbol), for the position gauges."""
        return {(r["account_id"], r["symbol"]): r["quantity"]
                for r in await self.pool.fetch(self.q["open_positions_by_symbol"])}
