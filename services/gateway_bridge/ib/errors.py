"""IB error/notice codes, classified by data (field notes §2.3), never by if/elif chains.

`classify(code)` answers what kind of message it is; the session and the order state machine act on the
class. Exact codes win over ranges; unknown codes are WARNINGs (never cancel an order on a code we do not
understand: that is how ib_async #191 lost a fill).
"""

from __future__ import annotations

import enum

from services.gateway_bridge.domain.state_machine import ErrorEffect


class ErrorClass(enum.Enum):
    """What an IB message code means to the bridge."""

    ORDER_REJECTED = "order_rejected"  # terminal reject of the order named by reqId
    ORDER_CANCELLED = "order_cancelled"  # cancel confirmation (202), terminal
    ORDER_WARNING = "order_warning"  # informational for an order; it stays alive
    CANCEL_REJECTED = "cancel_rejected"  # our cancel failed: reconcile, never retry
    MODIFY_REJECTED = "modify_rejected"  # our replace failed: the old order stands
    UNKNOWN_CONTRACT = "unknown_contract"  # 200: no security definition
    CONNECTIVITY_LOST = "connectivity_lost"  # 1100
    RESTORED_DATA_LOST = "restored_data_lost"  # 1101: resubscribe market data, reconcile
    RESTORED_DATA_KEPT = "restored_data_kept"  # 1102: reconcile
    SOCKET_RESET = "socket_reset"  # 1300: reconnect
    FARM_OK = "farm_ok"  # 2104/2106/2158
    FARM_BROKEN = "farm_broken"  # 2103/2105/2157
    FARM_INACTIVE = "farm_inactive"  # 2107/2108: benign
    PACING_VIOLATION = "pacing_violation"  # 100
    MARKET_DATA_LINES = "market_data_lines"  # 101: too many tickers
    CLIENT_ID_IN_USE = "client_id_in_use"  # 326
    INFO = "info"  # anything else informational


CODE_CLASS: dict[int, ErrorClass] = {
    100: ErrorClass.PACING_VIOLATION,
    101: ErrorClass.MARKET_DATA_LINES,
    103: ErrorClass.ORDER_REJECTED,  # duplicate order id
    104: ErrorClass.MODIFY_REJECTED,  # cannot modify a filled order
    105: ErrorClass.MODIFY_REJECTED,  # modified order does not match the original
    110: ErrorClass.ORDER_WARNING,  # price does not conform to the tick; a reject only on a new order (below)
    161: ErrorClass.CANCEL_REJECTED,  # cancel attempted when the order is not cancellable
    200: ErrorClass.UNKNOWN_CONTRACT,
    201: ErrorClass.ORDER_REJECTED,
    202: ErrorClass.ORDER_CANCELLED,
    321: ErrorClass.ORDER_REJECTED,  # validation error: a reject before acceptance (ib_async calls it a warning)
    326: ErrorClass.CLIENT_ID_IN_USE,
    329: ErrorClass.MODIFY_REJECTED,
    399: ErrorClass.ORDER_WARNING,  # e.g. "will not be placed until market open"
    404: ErrorClass.ORDER_WARNING,  # shares being located for a short sale
    1100: ErrorClass.CONNECTIVITY_LOST,
    1101: ErrorClass.RESTORED_DATA_LOST,
    1102: ErrorClass.RESTORED_DATA_KEPT,
    1300: ErrorClass.SOCKET_RESET,
    2103: ErrorClass.FARM_BROKEN,
    2104: ErrorClass.FARM_OK,
    2105: ErrorClass.FARM_BROKEN,
    2106: ErrorClass.FARM_OK,
    2107: ErrorClass.FARM_INACTIVE,
    2108: ErrorClass.FARM_INACTIVE,
    2157: ErrorClass.FARM_BROKEN,
    2158: ErrorClass.FARM_OK,
    10147: ErrorClass.CANCEL_REJECTED,  # order id to cancel not found
    10148: ErrorClass.CANCEL_REJECTED,  # order cannot be cancelled (already done)
    10349: ErrorClass.ORDER_WARNING,  # changed by a preset (e.g. TIF): NOT terminal
}

# (first, last, class) — consulted after CODE_CLASS. NautilusTrader's policy: 200–399 reject before acceptance,
# 2100–2199 informational.
RANGE_CLASS: tuple[tuple[int, int, ErrorClass], ...] = (
    (2100, 2199, ErrorClass.INFO),
    (200, 399, ErrorClass.ORDER_REJECTED),
)

# Codes that reject a *new* order (not yet acknowledged) although they are only warnings for a live one.
REJECT_WHEN_PENDING: frozenset[int] = frozenset({110})

ORDER_EFFECT: dict[ErrorClass, ErrorEffect] = {
    ErrorClass.ORDER_REJECTED: ErrorEffect.REJECT,
    ErrorClass.UNKNOWN_CONTRACT: ErrorEffect.REJECT,
    ErrorClass.ORDER_CANCELLED: ErrorEffect.CANCELLED,
    ErrorClass.ORDER_WARNING: ErrorEffect.WARNING,
    ErrorClass.CANCEL_REJECTED: ErrorEffect.CANCEL_REJECTED,
    ErrorClass.MODIFY_REJECTED: ErrorEffect.MODIFY_REJECTED,
    ErrorClass.PACING_VIOLATION: ErrorEffect.WARNING,
    ErrorClass.INFO: ErrorEffect.WARNING,
}
"""The effect of a code on the order its reqId names; classes absent here do not concern orders."""


def classify(code: int) -> ErrorClass:
    """The class of an IB message code (unknown codes are INFO)."""
    if code in CODE_CLASS:
        return CODE_CLASS[code]
    for first, last, klass in RANGE_CLASS:
        if first <= code <= last:
            return klass
    return ErrorClass.INFO


def order_effect(code: int, *, acknowledged: bool) -> ErrorEffect:
    """What `code` does to the order it names; `acknowledged` says whether the broker already accepted it."""
    if not acknowledged and code in REJECT_WHEN_PENDING:
        return ErrorEffect.REJECT
    return ORDER_EFFECT.get(classify(code), ErrorEffect.WARNING)
