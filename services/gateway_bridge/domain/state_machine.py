"""The one normalized order state machine: pure, monotonic, idempotent.

Every fact about an order (a broker status, a broker error already classified by `ib.tables`, an execution,
a local cancel/replace request, a lost outcome, a reconciliation verdict) is an *observation*. `advance`
folds one observation into an `OrderState` and returns the new state, or `None` when nothing changed, so
duplicated or reordered IB callbacks never produce a second event and a terminal order never comes back.
"""

from __future__ import annotations

import dataclasses
import enum
from decimal import Decimal

from services.gateway_bridge.domain.status import LOCAL_PENDING, RANK, TERMINAL, WORKING, Status

ZERO = Decimal(0)


class ErrorEffect(enum.Enum):
    """What a broker error does to the order it names (the `ib.tables` classification of the code)."""

    REJECT = "reject"  # terminal: the broker refused the order (before or after accepting it)
    CANCELLED = "cancelled"  # terminal: the broker cancelled it (IB 202 carries the reason)
    WARNING = "warning"  # the order is still alive; remember the message only
    CANCEL_REJECTED = "cancel_rejected"  # our cancel failed; the order keeps working (or is already done)
    MODIFY_REJECTED = "modify_rejected"  # our replace failed; the previous spec stays in force


@dataclasses.dataclass(frozen=True)
class OrderState:
    """What the suite knows of one order's life cycle."""

    status: Status
    total_quantity: Decimal
    filled: Decimal = ZERO
    avg_fill_price: Decimal | None = None
    last_fill_price: Decimal | None = None
    # The working status to return to when a pending cancel/replace is refused.
    resting_status: Status = Status.PENDING_SUBMIT
    reject_code: str = ""
    reject_reason: str = ""
    broker_error_code: int | None = None
    sequence: int = 0

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def remaining(self) -> Decimal:
        return ZERO if self.terminal else max(ZERO, self.total_quantity - self.filled)


@dataclasses.dataclass(frozen=True)
class BrokerStatusObserved:
    """The broker reported a status (already mapped from IB's string by `ib.tables.MAP_ORDER_STATUS`)."""

    status: Status
    filled: Decimal
    avg_fill_price: Decimal | None = None
    last_fill_price: Decimal | None = None


@dataclasses.dataclass(frozen=True)
class BrokerErrorObserved:
    """The broker sent an error naming the order."""

    effect: ErrorEffect
    code: int
    message: str


@dataclasses.dataclass(frozen=True)
class ExecutionObserved:
    """An execution of the order: the cumulative quantity and average price after it."""

    cumulative_quantity: Decimal
    avg_price: Decimal | None
    price: Decimal


@dataclasses.dataclass(frozen=True)
class CancelRequested:
    """We sent a cancel."""


@dataclasses.dataclass(frozen=True)
class ReplaceRequested:
    """We sent a modification; `total_quantity` is the new total."""

    total_quantity: Decimal


@dataclasses.dataclass(frozen=True)
class OutcomeLost:
    """The connection (or the process) died while the order was in flight; only the broker knows now."""

    reason: str


@dataclasses.dataclass(frozen=True)
class NotAtBroker:
    """Reconciliation found no trace of the order at the broker (never sent, or refused before acceptance)."""


Observation = (BrokerStatusObserved | BrokerErrorObserved | ExecutionObserved | CancelRequested
               | ReplaceRequested | OutcomeLost | NotAtBroker)


@dataclasses.dataclass(frozen=True)
class Transition:
    """A change worth an `OrderUpdate` event."""

    state: OrderState
    previous_status: Status
    message: str = ""
    broker_error_code: int | None = None


def new_order(total_quantity: Decimal) -> OrderState:
    """The state of an intent persisted and about to be sent."""
    return OrderState(status=Status.PENDING_SUBMIT, total_quantity=total_quantity)


def _refine(status: Status, filled: Decimal, total: Decimal) -> Status:
    """A working order with part of its quantity filled is PARTIALLY_FILLED, whatever IB's string says."""
    if status in WORKING and ZERO < filled < total:
        return Status.PARTIALLY_FILLED
    return status


def _changed(old: OrderState, new: OrderState, message: str = "", code: int | None = None) -> Transition | None:
    if dataclasses.replace(new, sequence=old.sequence) == old:
        return None
    return Transition(dataclasses.replace(new, sequence=old.sequence + 1), old.status, message, code)


def _fill_fields(state: OrderState, filled: Decimal, avg: Decimal | None, last: Decimal | None) -> OrderState:
    # Quantities are monotonic too: a stale callback never un-fills an order.
    if filled <= state.filled:
        return state
    return dataclasses.replace(state, filled=filled, avg_fill_price=avg if avg is not None else state.avg_fill_price,
                               last_fill_price=last if last is not None else state.last_fill_price)


def _on_status(state: OrderState, obs: BrokerStatusObserved) -> Transition | None:
    state2 = _fill_fields(state, obs.filled, obs.avg_fill_price, obs.last_fill_price)
    if state.terminal:
        return _changed(state, state2)
    target = _refine(obs.status, state2.filled, state2.total_quantity)
    if state.status in LOCAL_PENDING and target in WORKING:
        # IB repeats the working status while our cancel/replace is in flight; a replace is confirmed by it.
        if state.status == Status.PENDING_REPLACE:
            return _changed(state, dataclasses.replace(state2, status=target, resting_status=target), "replaced")
        return _changed(state, dataclasses.replace(state2, resting_status=target))
    if RANK[target] < RANK[state.status] or target == Status.UNSPECIFIED:
        return _changed(state, state2)
    resting = target if target in WORKING else state2.resting_status
    return _changed(state, dataclasses.replace(state2, status=target, resting_status=resting))


_ERROR_STATUS: dict[ErrorEffect, tuple[Status, str]] = {
    ErrorEffect.REJECT: (Status.REJECTED, "BROKER_REJECTED"),
    ErrorEffect.CANCELLED: (Status.CANCELLED, ""),
}


def _on_error(state: OrderState, obs: BrokerErrorObserved) -> Transition | None:
    if state.terminal:
        return None
    if obs.effect in _ERROR_STATUS:
        status, code = _ERROR_STATUS[obs.effect]
        # A broker "reject" of an order that already filled in part is a cancel of the rest, not a reject.
        if status == Status.REJECTED and state.filled > ZERO:
            status, code = Status.CANCELLED, ""
        new = dataclasses.replace(state, status=status, reject_code=code, reject_reason=obs.message,
                                  broker_error_code=obs.code)
        return _changed(state, new, obs.message, obs.code)
    if obs.effect in (ErrorEffect.CANCEL_REJECTED, ErrorEffect.MODIFY_REJECTED) and state.status in LOCAL_PENDING:
        new = dataclasses.replace(state, status=state.resting_status, reject_reason=obs.message,
                                  broker_error_code=obs.code)
        return _changed(state, new, obs.message, obs.code)
    # Warnings never change the status (ib_async #191: treating 10349 as a cancel lost a later fill).
    return _changed(state, dataclasses.replace(state, reject_reason=obs.message, broker_error_code=obs.code),
                    obs.message, obs.code)


def _on_execution(state: OrderState, obs: ExecutionObserved) -> Transition | None:
    new = _fill_fields(state, obs.cumulative_quantity, obs.avg_price, obs.price)
    if not state.terminal and state.status not in LOCAL_PENDING:
        if new.filled >= new.total_quantity:
            new = dataclasses.replace(new, status=Status.FILLED)
        elif new.filled > ZERO and RANK[state.status] <= RANK[Status.PARTIALLY_FILLED]:
            new = dataclasses.replace(new, status=Status.PARTIALLY_FILLED, resting_status=Status.PARTIALLY_FILLED)
    return _changed(state, new)


def advance(state: OrderState, obs: Observation) -> Transition | None:
    """Fold one observation into the state; `None` when it changes nothing (duplicates, stale callbacks)."""
    match obs:
        case BrokerStatusObserved():
            return _on_status(state, obs)
        case BrokerErrorObserved():
            return _on_error(state, obs)
        case ExecutionObserved():
            return _on_execution(state, obs)
        case CancelRequested():
            if state.terminal or state.status == Status.PENDING_CANCEL:
                return None
            resting = state.resting_status if state.status in LOCAL_PENDING else state.status
            return _changed(state, dataclasses.replace(state, status=Status.PENDING_CANCEL, resting_status=resting),
                            "cancel requested")
        case ReplaceRequested():
            if state.terminal:
                return None
            resting = state.resting_status if state.status in LOCAL_PENDING else state.status
            return _changed(state, dataclasses.replace(state, status=Status.PENDING_REPLACE, resting_status=resting,
                                                       total_quantity=obs.total_quantity), "replace requested")
        case OutcomeLost():
            if state.status != Status.PENDING_SUBMIT:
                return None  # the broker acknowledged it: its state is known up to the last callback
            return _changed(state, dataclasses.replace(state, status=Status.UNKNOWN), obs.reason)
        case NotAtBroker():
            if state.status not in (Status.PENDING_SUBMIT, Status.UNKNOWN):
                return None
            new = dataclasses.replace(state, status=Status.REJECTED, reject_code="NOT_ACCEPTED_BY_BROKER",
                                      reject_reason="the broker has no record of the order")
            return _changed(state, new, "not at broker after reconciliation")
    raise TypeError(f"unknown observation {obs!r}")
