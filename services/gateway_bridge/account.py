"""Account values, positions with marks, and P&L: kept current from IB pushes, readable and published.

Account values arrive in bursts (one message per tag); they are coalesced and published as one
`AccountUpdate` (plus an account `PnlUpdate` when a P&L tag changed) shortly after the burst.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Callable

from ibkr.trading.v1 import event_pb2, portfolio_pb2

from services.common.errors import NotFound
from services.common.money import decimal_to_proto
from services.gateway_bridge.convert import now_timestamp
from services.gateway_bridge.domain.events import AccountValueSeen, PortfolioSeen
from services.gateway_bridge.ib.account import PNL_TAGS, summary
from services.gateway_bridge.ib.account import money as _money
from services.gateway_bridge.publisher import Publisher

COALESCE_SECONDS = 0.2


@dataclasses.dataclass
class _Account:
    values: dict[tuple[str, str], str] = dataclasses.field(default_factory=dict)
    pnl_changed: bool = False


class AccountBook:
    """Latest account values and portfolio lines per account."""

    def __init__(self, publisher: Publisher, on_pnl: Callable[[portfolio_pb2.Pnl], None] | None = None) -> None:
        self._publisher = publisher
        self._on_pnl = on_pnl or (lambda pnl: None)
        self._accounts: dict[str, _Account] = {}
        self.portfolio: dict[tuple[str, int], PortfolioSeen] = {}
        self._pending: set[str] = set()
        self._flush: asyncio.Task[None] | None = None

    def on_value(self, ev: AccountValueSeen) -> None:
        account = self._accounts.setdefault(ev.account_id, _Account())
        key = (ev.key, ev.currency)
        if account.values.get(key) == ev.value:
            return
        account.values[key] = ev.value
        account.pnl_changed |= ev.key in PNL_TAGS
        self._pending.add(ev.account_id)
        if self._flush is None or self._flush.done():
            self._flush = asyncio.create_task(self._publish_soon())

    def on_portfolio(self, ev: PortfolioSeen) -> portfolio_pb2.Pnl:
        """Keep the portfolio line; returns the position's P&L for the caller to publish (in its order)."""
        self.portfolio[(ev.account_id, ev.instrument.con_id)] = ev
        return self.position_pnl(ev)

    async def _publish_soon(self) -> None:
        await asyncio.sleep(COALESCE_SECONDS)
        pending, self._pending = self._pending, set()
        for account_id in sorted(pending):
            summary_pb = self.summary(account_id)
            await self._publisher.publish("account_update", event_pb2.AccountUpdate(account=summary_pb),
                                          account_id=account_id)
            state = self._accounts[account_id]
            if state.pnl_changed:
                state.pnl_changed = False
                pnl = _pnl_of(summary_pb)  # not account_pnl(): that builds the whole summary again
                self._on_pnl(pnl)
                await self._publisher.publish("pnl_update", event_pb2.PnlUpdate(pnl=pnl), account_id=account_id)

    def summary(self, account_id: str) -> portfolio_pb2.AccountSummary:
        account = self._accounts.get(account_id)
        if account is None:
            raise NotFound("ACCOUNT_NOT_FOUND", f"no values for account {account_id}",
                           metadata={"account_id": account_id})
        out = summary(account_id, account.values)
        out.update_time.CopyFrom(now_timestamp())
        return out

    def account_pnl(self, account_id: str) -> portfolio_pb2.Pnl:
        return _pnl_of(self.summary(account_id))

    def position_pnl(self, ev: PortfolioSeen, currency: str = "USD") -> portfolio_pb2.Pnl:
        pnl = portfolio_pb2.Pnl(account_id=ev.account_id, instrument=ev.instrument, update_time=now_timestamp())
        pnl.position_quantity.CopyFrom(decimal_to_proto(ev.quantity))
        currency = ev.instrument.currency or currency
        for field, value in (("unrealized_pnl", ev.unrealized_pnl), ("realized_pnl", ev.realized_pnl),
                             ("market_value", ev.market_value)):
            if value is not None:
                getattr(pnl, field).CopyFrom(_money(value, currency))
        return pnl

    def enrich(self, position: portfolio_pb2.Position) -> portfolio_pb2.Position:
        """A position with the mark, market value and P&L of its portfolio line, when known."""
        line = self.portfolio.get((position.account_id, position.instrument.con_id))
        if line is None:
            return position
        out = portfolio_pb2.Position()
        out.CopyFrom(position)
        currency = position.instrument.currency or "USD"
        if line.market_price is not None:
            out.market_price.CopyFrom(decimal_to_proto(line.market_price))
        for field, value in (("market_value", line.market_value), ("unrealized_pnl", line.unrealized_pnl),
                             ("realized_pnl", line.realized_pnl)):
            if value is not None:
                getattr(out, field).CopyFrom(_money(value, currency))
        return out

    async def stop(self) -> None:
        if self._flush is not None:
            self._flush.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flush


def _pnl_of(s: portfolio_pb2.AccountSummary) -> portfolio_pb2.Pnl:
    """The account-level P&L carried by a summary."""
    pnl = portfolio_pb2.Pnl(account_id=s.account_id, update_time=now_timestamp())
    for field in ("realized_pnl", "unrealized_pnl"):
        if s.HasField(field):
            getattr(pnl, field).CopyFrom(getattr(s, field))
    return pnl
