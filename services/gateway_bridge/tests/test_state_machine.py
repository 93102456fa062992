"""The order state machine: monotonic, idempotent, and explicit about unknown outcomes."""

from decimal import Decimal

from services.gateway_bridge.domain.state_machine import (
    BrokerErrorObserved,
    BrokerStatusObserved,
    CancelRequested,
    ErrorEffect,
    ExecutionObserved,
    NotAtBroker,
    OutcomeLost,
    ReplaceRequested,
    advance,
    new_order,
)
from services.gateway_bridge.domain.status import Status

D = Decimal


def fold(state, *observations):
    for obs in observations:
        t = advance(state, obs)
        if t is not None:
            state = t.state
    return state


def test_submitted_status_acknowledges_a_pending_order():
    t = advance(new_order(D(100)), BrokerStatusObserved(Status.SUBMITTED, D(0)))
    assert t.state.status == Status.SUBMITTED and t.previous_status == Status.PENDING_SUBMIT
    assert t.state.sequence == 1


def test_duplicate_status_produces_no_transition():
    s = fold(new_order(D(100)), BrokerStatusObserved(Status.SUBMITTED, D(0)))
    assert advance(s, BrokerStatusObserved(Status.SUBMITTED, D(0))) is None


def test_stale_status_after_fill_is_ignored_and_terminal_is_never_left():
    s = fold(new_order(D(10)), BrokerStatusObserved(Status.FILLED, D(10), D("1.5")))
    assert s.status == Status.FILLED
    assert advance(s, BrokerStatusObserved(Status.SUBMITTED, D(0))) is None
    assert advance(s, BrokerErrorObserved(ErrorEffect.REJECT, 201, "late")) is None


def test_working_status_with_partial_quantity_becomes_partially_filled():
    s = fold(new_order(D(10)), BrokerStatusObserved(Status.SUBMITTED, D(4), D("2")))
    assert s.status == Status.PARTIALLY_FILLED and s.filled == D(4) and s.remaining == D(6)


def test_filled_quantity_never_decreases():
    s = fold(new_order(D(10)), BrokerStatusObserved(Status.SUBMITTED, D(4)), BrokerStatusObserved(Status.SUBMITTED, D(2)))
    assert s.filled == D(4)


def test_execution_before_status_moves_the_order_forward():
    s = fold(new_order(D(10)), ExecutionObserved(D(10), D("3"), D("3")))
    assert s.status == Status.FILLED and s.avg_fill_price == D(3)


def test_warning_keeps_the_order_alive():
    s = fold(new_order(D(10)), BrokerStatusObserved(Status.SUBMITTED, D(0)),
             BrokerErrorObserved(ErrorEffect.WARNING, 10349, "TIF changed by preset"))
    assert s.status == Status.SUBMITTED and s.broker_error_code == 10349


def test_reject_before_acceptance_is_terminal_with_reason():
    s = fold(new_order(D(10)), BrokerErrorObserved(ErrorEffect.REJECT, 201, "no buying power"))
    assert s.status == Status.REJECTED and s.reject_code == "BROKER_REJECTED" and s.reject_reason == "no buying power"


def test_reject_after_partial_fill_is_a_cancel_of_the_rest():
    s = fold(new_order(D(10)), ExecutionObserved(D(3), D(1), D(1)),
             BrokerErrorObserved(ErrorEffect.REJECT, 201, "margin"))
    assert s.status == Status.CANCELLED and s.filled == D(3)


def test_cancel_request_then_confirmation():
    s = fold(new_order(D(10)), BrokerStatusObserved(Status.SUBMITTED, D(0)), CancelRequested())
    assert s.status == Status.PENDING_CANCEL
    s = fold(s, BrokerStatusObserved(Status.SUBMITTED, D(0)))  # a repeat while the cancel is in flight
    assert s.status == Status.PENDING_CANCEL
    s = fold(s, BrokerStatusObserved(Status.CANCELLED, D(0)))
    assert s.status == Status.CANCELLED and s.remaining == D(0)


def test_refused_cancel_returns_to_the_working_status():
    s = fold(new_order(D(10)), BrokerStatusObserved(Status.SUBMITTED, D(2)), CancelRequested(),
             BrokerErrorObserved(ErrorEffect.CANCEL_REJECTED, 161, "not cancellable"))
    assert s.status == Status.PARTIALLY_FILLED


def test_replace_is_confirmed_by_the_next_working_status():
    s = fold(new_order(D(10)), BrokerStatusObserved(Status.SUBMITTED, D(0)), ReplaceRequested(D(20)))
    assert s.status == Status.PENDING_REPLACE and s.total_quantity == D(20)
    s = fold(s, BrokerStatusObserved(Status.SUBMITTED, D(0)))
    assert s.status == Status.SUBMITTED


def test_lost_outcome_marks_only_unacknowledged_orders_unknown():
    pending = fold(new_order(D(10)), OutcomeLost("disconnected"))
    assert pending.status == Status.UNKNOWN
    working = fold(new_order(D(10)), BrokerStatusObserved(Status.SUBMITTED, D(0)))
    assert advance(working, OutcomeLost("disconnected")) is None


def test_unknown_outcome_is_resolved_by_broker_evidence():
    s = fold(new_order(D(10)), OutcomeLost("crash"), BrokerStatusObserved(Status.FILLED, D(10), D(5)))
    assert s.status == Status.FILLED


def test_unknown_outcome_not_at_broker_is_rejected():
    s = fold(new_order(D(10)), OutcomeLost("crash"), NotAtBroker())
    assert s.status == Status.REJECTED and s.reject_code == "NOT_ACCEPTED_BY_BROKER"


def test_not_at_broker_never_touches_an_acknowledged_order():
    s = fold(new_order(D(10)), BrokerStatusObserved(Status.SUBMITTED, D(0)))
    assert advance(s, NotAtBroker()) is None


def test_fill_after_cancel_updates_quantity_but_not_status():
    s = fold(new_order(D(10)), BrokerStatusObserved(Status.CANCELLED, D(0)))
    s2 = fold(s, ExecutionObserved(D(2), D(1), D(1)))
    assert s2.status == Status.CANCELLED and s2.filled == D(2)
