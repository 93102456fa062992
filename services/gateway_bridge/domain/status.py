"""The normalized order status, mirroring `ibkr.trading.v1.OrderStatus` value for value.

Kept as a plain IntEnum so the pure state machine needs no generated code; a unit test checks that names and
numbers match the proto enum.
"""

from __future__ import annotations

import enum


class Status(enum.IntEnum):
    """Normalized order status (the proto's `ORDER_STATUS_<name>`)."""

    UNSPECIFIED = 0
    PENDING_SUBMIT = 1
    SUBMITTED = 2
    PARTIALLY_FILLED = 3
    FILLED = 4
    PENDING_CANCEL = 5
    CANCELLED = 6
    REJECTED = 7
    INACTIVE = 8
    UNKNOWN = 9
    PENDING_REPLACE = 10
    EXPIRED = 11


TERMINAL: frozenset[Status] = frozenset({Status.FILLED, Status.CANCELLED, Status.REJECTED, Status.EXPIRED})
"""Statuses an order never leaves."""

WORKING: frozenset[Status] = frozenset({Status.SUBMITTED, Status.PARTIALLY_FILLED, Status.INACTIVE})
"""The broker holds the order and it may still fill."""

LOCAL_PENDING: frozenset[Status] = frozenset({Status.PENDING_CANCEL, Status.PENDING_REPLACE})
"""We asked the broker for a change it has not confirmed yet."""

ACKNOWLEDGED: frozenset[Status] = WORKING | TERMINAL | LOCAL_PENDING
"""Statuses that prove the broker has seen the order (PlaceOrder returns on the first of these)."""

# Monotonic rank of broker-reported statuses: an observation with a lower rank than the current status is
# stale (IB often repeats or reorders orderStatus) and is ignored. UNKNOWN shares the lowest rank so that any
# broker evidence resolves it.
RANK: dict[Status, int] = {
    Status.UNSPECIFIED: -1,
    Status.PENDING_SUBMIT: 0,
    Status.UNKNOWN: 0,
    Status.SUBMITTED: 1,
    Status.INACTIVE: 1,
    Status.PENDING_REPLACE: 1,
    Status.PARTIALLY_FILLED: 2,
    Status.PENDING_CANCEL: 3,
    Status.FILLED: 9,
    Status.CANCELLED: 9,
    Status.REJECTED: 9,
    Status.EXPIRED: 9,
}
