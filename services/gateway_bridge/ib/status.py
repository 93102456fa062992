"""IB order status strings → the normalized `Status` (a data table)."""

from __future__ import annotations

from services.gateway_bridge.domain.status import Status

MAP_ORDER_STATUS: dict[str, Status] = {
    "ApiPending": Status.PENDING_SUBMIT,
    "PendingSubmit": Status.PENDING_SUBMIT,
    "PreSubmitted": Status.SUBMITTED,
    "Submitted": Status.SUBMITTED,
    "ApiUpdate": Status.SUBMITTED,
    "PendingCancel": Status.PENDING_CANCEL,
    "ApiCancelled": Status.CANCELLED,
    "Cancelled": Status.CANCELLED,
    "Filled": Status.FILLED,
    "Inactive": Status.INACTIVE,
}
"""Strings absent here (ib_async's synthetic `ValidationError`, anything new) are ignored: errors reach the
state machine through `ib.errors`, classified by code."""


def map_status(ib_status: str) -> Status | None:
    """The normalized status of an IB status string, or None when it carries no status information."""
    return MAP_ORDER_STATUS.get(ib_status)
