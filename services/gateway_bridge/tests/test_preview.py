"""PreviewOrder: IB's what-if through the bridge (validated and qualified like PlaceOrder, never placed), and the
pure mapping of IB's what-if `OrderState` (strings, sentinels, empty values) to `OrderPreview`."""

from __future__ import annotations

from decimal import Decimal

import grpc
import pytest
from ib_async import OrderState
from ibkr.gateway.v1 import gateway_pb2
from ibkr.trading.v1 import order_pb2

from services.common.money import money_from_proto as _money_from_proto
from services.gateway_bridge.convert import preview_to_proto
from services.gateway_bridge.ib.numbers import UNSET_DOUBLE

from .conftest import until
from .test_orders_e2e import error_details, spec

UNSET = "1.7976931348623157E308"


def money_from_proto(pb) -> Decimal:
    return _money_from_proto(pb, "preview")[0]


def preview_request(order_spec: order_pb2.OrderSpec, account: str = "DU1234567") -> gateway_pb2.PreviewOrderRequest:
    return gateway_pb2.PreviewOrderRequest(account_id=account, order=order_spec)


# ---------------------------------------------------------------- the mapping (pure)

def test_mapping_reads_strings_as_decimals_and_keeps_the_commission_currency():
    state = OrderState(initMarginBefore="1000.50", initMarginChange="2500.25", initMarginAfter="3500.75",
                       maintMarginBefore="900", maintMarginChange="2000.1", maintMarginAfter="2900.1",
                       equityWithLoanBefore="1000000.00", equityWithLoanChange="-1.00", equityWithLoanAfter="999999.00",
                       commission=1.0, minCommission=0.35, maxCommission=1.5, commissionCurrency="EUR",
                       warningText="check margin")
    p = preview_to_proto(state, currency="USD", notional=Decimal("1000.5"), notional_currency="USD")
    assert money_from_proto(p.initial_margin.change) == Decimal("2500.25")
    assert money_from_proto(p.initial_margin.after) == Decimal("3500.75")
    assert p.initial_margin.before.currency_code == "USD"
    assert money_from_proto(p.equity_with_loan.change) == Decimal(-1)
    assert money_from_proto(p.maintenance_margin.before) == Decimal(900)
    assert money_from_proto(p.commission) == Decimal(1) and p.commission.currency_code == "EUR"
    assert money_from_proto(p.min_commission) == Decimal("0.35")
    assert money_from_proto(p.max_commission) == Decimal("1.5")
    assert money_from_proto(p.estimated_notional) == Decimal("1000.5")
    assert p.warning_text == "check margin"


def test_mapping_leaves_sentinels_and_empty_strings_absent():
    state = OrderState(initMarginBefore=UNSET, initMarginChange="", initMarginAfter="5000",
                       maintMarginBefore="", maintMarginChange=UNSET, maintMarginAfter="",
                       equityWithLoanBefore=str(UNSET_DOUBLE), equityWithLoanChange="1.7976931348623157e+308",
                       equityWithLoanAfter="  ",
                       commission=UNSET_DOUBLE, minCommission=-1.0, maxCommission=float("nan"),
                       commissionCurrency="", warningText="")
    p = preview_to_proto(state)
    assert not p.initial_margin.HasField("before") and not p.initial_margin.HasField("change")
    assert money_from_proto(p.initial_margin.after) == Decimal(5000)
    assert not p.HasField("maintenance_margin") and not p.HasField("equity_with_loan")
    for field in ("commission", "min_commission", "max_commission", "estimated_notional"):
        assert not p.HasField(field), field
    assert p.warning_text == ""


def test_mapping_of_an_empty_state_is_an_empty_preview():
    assert preview_to_proto(OrderState()) == order_pb2.OrderPreview()


def test_mapping_drops_figures_money_cannot_hold():
    p = preview_to_proto(OrderState(initMarginChange="1e25", initMarginAfter="0.0000000001", commission=2.5,
                                    commissionCurrency="not a currency"))
    assert not p.initial_margin.HasField("change")
    assert money_from_proto(p.initial_margin.after) == Decimal(0)
    assert not p.HasField("commission")  # an amount in an unknown currency is not a number we can state


# ---------------------------------------------------------------- through the bridge and the simulator

async def test_limit_order_preview_returns_margin_and_commission_and_places_nothing(bridge, sim):
    reply = await bridge.stub.PreviewOrder(preview_request(
        spec(qty="100", order_type=order_pb2.ORDER_TYPE_LIMIT, limit="150")), timeout=10)
    p = reply.preview
    assert money_from_proto(p.initial_margin.change) > 0
    assert money_from_proto(p.initial_margin.after) == \
        money_from_proto(p.initial_margin.before) + money_from_proto(p.initial_margin.change)
    assert money_from_proto(p.maintenance_margin.change) > 0
    assert money_from_proto(p.equity_with_loan.before) == Decimal(1000000)
    assert money_from_proto(p.commission) > 0 and p.commission.currency_code == "USD"
    assert money_from_proto(p.estimated_notional) == Decimal(15000)
    # Nothing was placed: no order at the broker, nothing in its log, nothing open at the bridge.
    assert not sim.broker.orders and not sim.executions()
    assert not sim.log_entries() and not sim.orders()
    opened = await bridge.stub.ListOpenOrders(gateway_pb2.ListOpenOrdersRequest(), timeout=5)
    assert not opened.orders


async def test_market_order_preview_has_no_notional(bridge, sim):
    p = (await bridge.stub.PreviewOrder(preview_request(spec(qty="10")), timeout=10)).preview
    assert money_from_proto(p.initial_margin.change) > 0 and not p.HasField("estimated_notional")
    assert not sim.broker.orders


async def test_unknown_symbol_is_not_found(bridge, sim):
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await bridge.stub.PreviewOrder(preview_request(spec("NOSUCHSYM")), timeout=10)
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    info, _ = error_details(err.value)
    assert info.reason == "UNKNOWN_SYMBOL" and info.metadata["field"] == "order.instrument.symbol"
    assert not sim.broker.orders


async def test_zero_quantity_is_invalid_argument_naming_the_field(bridge, sim):
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await bridge.stub.PreviewOrder(preview_request(
            spec(qty="0", order_type=order_pb2.ORDER_TYPE_LIMIT, limit="150")), timeout=10)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    _, fields = error_details(err.value)
    assert "order.quantity" in fields
    assert not sim.broker.orders


async def test_missing_order_and_bad_account_are_invalid_argument(bridge):
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await bridge.stub.PreviewOrder(gateway_pb2.PreviewOrderRequest(account_id="DU1234567"), timeout=10)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "order" in error_details(err.value)[1]
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await bridge.stub.PreviewOrder(preview_request(spec(), account="nope"), timeout=10)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "account_id" in error_details(err.value)[1]


async def test_broker_refusal_is_failed_precondition_with_the_ib_code(bridge, sim):
    with pytest.raises(grpc.aio.AioRpcError) as err:  # the simulator trades whole shares of AAPL only
        await bridge.stub.PreviewOrder(preview_request(spec(qty="0.5")), timeout=10)
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    info, _ = error_details(err.value)
    assert info.reason == "PREVIEW_REJECTED" and info.metadata["broker_error_code"] == "321"
    assert "multiple" in err.value.details()
    assert not sim.broker.orders


async def test_an_unanswered_what_if_is_deadline_exceeded(bridge, sim):
    await bridge.stub.ResolveInstrument(gateway_pb2.ResolveInstrumentRequest(instrument=spec().instrument), timeout=10)
    sim.set_response_delay(0.0, ["placeOrder"], drop=True)
    try:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await bridge.stub.PreviewOrder(preview_request(spec()), timeout=1.5)
    finally:
        sim.set_response_delay(0.0)
    assert err.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert error_details(err.value)[0].reason == "BROKER_TIMEOUT"
    assert not sim.broker.orders


async def test_preview_while_disconnected_is_unavailable(bridge, sim):
    sim.restart_in_background(keep_state=True, downtime=1.0)
    await until(lambda: not bridge.app.orders.ready)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await bridge.stub.PreviewOrder(preview_request(spec()), timeout=5)
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    assert error_details(err.value)[0].reason == "BROKER_UNAVAILABLE"
    await bridge.wait_serving(timeout=20)
