"""Fills are joined with their commissions in any arrival order, once per execution id."""

from decimal import Decimal

from services.gateway_bridge.domain.fills import CommissionInfo, FillJoiner, execution_base


def commission(exec_id, amount="1.0"):
    return CommissionInfo(exec_id, Decimal(amount), "USD", None)


def test_execution_then_commission_releases_one_joined_fill():
    j = FillJoiner()
    assert j.on_execution("e.01", "X") is None
    fill = j.on_commission(commission("e.01"))
    assert fill.execution == "X" and fill.commission.amount == Decimal("1.0")


def test_commission_before_execution_is_joined_when_the_execution_arrives():
    j = FillJoiner()
    assert j.on_commission(commission("e.01")) is None
    fill = j.on_execution("e.01", "X")
    assert fill is not None and fill.commission is not None


def test_replayed_execution_is_ignored():
    j = FillJoiner()
    j.on_commission(commission("e.01"))
    assert j.on_execution("e.01", "X") is not None
    assert j.on_execution("e.01", "X") is None


def test_correction_names_the_execution_it_supersedes():
    j = FillJoiner()
    j.on_commission(commission("0001.abc.01.01"))
    j.on_execution("0001.abc.01.01", "A")
    j.on_commission(commission("0001.abc.01.02"))
    fix = j.on_execution("0001.abc.01.02", "B")
    assert fix.superseded_execution_id == "0001.abc.01.01"
    assert execution_base("0001.abc.01.02") == "0001.abc.01"


def test_fill_flushed_without_commission_gets_the_commission_alone_later():
    j = FillJoiner()
    j.on_execution("e.01", "X")
    fill = j.flush_without_commission("e.01")
    assert fill.commission is None
    late = j.on_commission(commission("e.01"))
    assert isinstance(late, CommissionInfo)


def test_execution_known_from_the_store_is_not_published_again():
    j = FillJoiner()
    j.mark_seen("e.01")
    assert j.on_execution("e.01", "X") is None
