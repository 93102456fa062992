"""Which trace each order belongs to, so the IB callbacks that arrive later (order status, execution,
commission) continue the trace of the request that placed the order, and the events they publish carry it
onto the bus for the ledger and the edge."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping

from services.common.telemetry import inject_context


class OrderTraces:
    """W3C trace carriers by order id, bounded: the oldest orders' traces are forgotten first (an order's
    late callbacks then simply start no trace, which loses nothing but a span link)."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._capacity = capacity
        self._carriers: OrderedDict[str, dict[str, str]] = OrderedDict()

    def remember(self, order_id: str) -> None:
        """Bind the current trace (the placing request's span) to an order."""
        carrier = inject_context()
        if not carrier:
            return
        self._carriers[order_id] = carrier
        self._carriers.move_to_end(order_id)
        while len(self._carriers) > self._capacity:
            self._carriers.popitem(last=False)

    def get(self, order_id: str | None) -> Mapping[str, str] | None:
        """The carrier bound to an order, if any."""
        return self._carriers.get(order_id) if order_id else None
