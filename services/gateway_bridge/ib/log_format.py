"""Short `format()` for the ib_async objects its INFO log lines interpolate.

ib_async logs every order event as `self._logger.info(f"orderStatus: {trade}")`: the f-string is built
before the logger looks at its level, so each placeOrder, openOrder, orderStatus, execDetails, position and
portfolio message pays for a full dataclass repr of the Trade (contract, order with ~150 fields compared
with their defaults, status, fills, log) even when nothing is logged. In a py-spy --gil profile of the bridge
that was ~7 % of its CPU per limit order. f-strings and format() call `__format__`; repr() does not, so
these objects keep their full repr for debugging and for our own `%r` log lines, and only ib_async's
interpolated messages get the short form (ids and status: what one needs to follow an order in the log).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ib_async import CommissionReport, Execution, Fill, PortfolioItem, Position, Trade


def _trade(t: Trade) -> str:
    o, s = t.order, t.orderStatus
    return (f"Trade(orderId={o.orderId}, permId={o.permId}, clientId={o.clientId}, orderRef={o.orderRef!r}, "
            f"symbol={t.contract.symbol!r}, action={o.action}, totalQuantity={o.totalQuantity}, "
            f"status={s.status}, filled={s.filled}, remaining={s.remaining})")


def _execution(e: Execution) -> str:
    return (f"Execution(execId={e.execId!r}, orderId={e.orderId}, permId={e.permId}, side={e.side}, "
            f"shares={e.shares}, price={e.price}, cumQty={e.cumQty})")


def _fill(f: Fill) -> str:
    return f"Fill(symbol={f.contract.symbol!r}, {_execution(f.execution)}, time={f.time})"


def _commission(c: CommissionReport) -> str:
    return f"CommissionReport(execId={c.execId!r}, commission={c.commission}, currency={c.currency})"


def _position(p: Position) -> str:
    return f"Position(account={p.account}, conId={p.contract.conId}, position={p.position}, avgCost={p.avgCost})"


def _portfolio(p: PortfolioItem) -> str:
    return (f"PortfolioItem(account={p.account}, conId={p.contract.conId}, position={p.position}, "
            f"marketPrice={p.marketPrice})")


_SHORT: dict[type, Callable[[Any], str]] = {
    Trade: _trade, Execution: _execution, Fill: _fill, CommissionReport: _commission, Position: _position,
    PortfolioItem: _portfolio,
}


def _formatter(short: Callable[[Any], str]) -> Callable[[Any, str], str]:
    def __format__(self: Any, spec: str) -> str:
        return short(self) if not spec else format(repr(self), spec)
    return __format__


def install() -> None:
    """Idempotent; process-wide (the classes are ib_async's)."""
    for cls, short in _SHORT.items():
        cls.__format__ = _formatter(short)  # type: ignore[method-assign]
