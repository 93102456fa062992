"""Start-up state and readiness: the book rebuilt from the ledger (a real LedgerService on port 0 serving the
positions and working orders the ledger would hold), a clear health signal when the ledger is absent, and
the decision on the bus joining the order's trace."""

from __future__ import annotations

from decimal import Decimal

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from ibkr.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from ibkr.risk.v1 import risk_pb2
from ibkr.trading.v1 import instrument_pb2, order_pb2, portfolio_pb2
from prometheus_client import generate_latest

from services.common.bus import EventBus
from services.common.money import decimal_to_proto
from services.common.server import SERVER_KEEPALIVE_OPTIONS
from services.risk.rebuild import LEDGER_REBUILD_HEALTH
from services.risk.tests.conftest import ACCOUNT, eventually, spec
from tools.infra import free_port


class Ledger(ledger_pb2_grpc.LedgerServiceServicer):
    """Answers like a ledger holding 70 AAPL and one working MSFT buy of 40."""

    async def ListPositions(self, request, context):
        return ledger_pb2.ListPositionsResponse(positions=[portfolio_pb2.Position(
            account_id=request.account_id, instrument=instrument_pb2.Instrument(symbol="AAPL"),
            quantity=decimal_to_proto(Decimal(70)), average_cost=decimal_to_proto(Decimal(100)))])

    async def ListOrders(self, request, context):
        assert order_pb2.ORDER_STATUS_SUBMITTED in request.statuses
        order = order_pb2.Order(order_id="ord_x", client_order_id="from-ledger", account_id=request.account_id,
                                status=order_pb2.ORDER_STATUS_SUBMITTED, spec=spec(symbol="MSFT", quantity="40"))
        return ledger_pb2.ListOrdersResponse(orders=[order])


async def health(risk, service: str = "") -> int:
    reply = await health_pb2_grpc.HealthStub(risk.channel).Check(health_pb2.HealthCheckRequest(service=service))
    return reply.status


async def test_first_start_rebuilds_positions_and_working_orders_from_the_ledger(risk_factory):
    server = grpc.aio.server(options=SERVER_KEEPALIVE_OPTIONS)
    ledger_pb2_grpc.add_LedgerServiceServicer_to_server(Ledger(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        risk = await risk_factory(ledger_address=f"127.0.0.1:{port}")
        state = await risk.stub.GetRiskState(risk_pb2.GetRiskStateRequest(account_id=ACCOUNT))
        by_symbol = {e.instrument.symbol: e for e in state.exposures}
        assert by_symbol["AAPL"].position_quantity.value == "70"
        assert by_symbol["MSFT"].open_buy_quantity.value == "40" and state.open_orders == 1
        assert await health(risk, LEDGER_REBUILD_HEALTH) == health_pb2.HealthCheckResponse.SERVING
    finally:
        await server.stop(0)


async def test_without_a_ledger_risk_serves_from_its_own_state_and_health_says_so(risk_factory):
    risk = await risk_factory(ledger_address=f"127.0.0.1:{free_port()}")  # nothing listens there
    assert await health(risk) == health_pb2.HealthCheckResponse.SERVING
    assert await health(risk, LEDGER_REBUILD_HEALTH) == health_pb2.HealthCheckResponse.NOT_SERVING
    assert "ibkr_risk_ledger_rebuild_ok 0.0" in _metrics(risk)


async def test_the_published_decision_joins_the_trace_of_the_order(risk, gateway):
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    await risk.stub.SubmitOrder(risk_pb2.SubmitOrderRequest(account_id=ACCOUNT, client_order_id="t-1", order=spec()),
                                metadata=(("traceparent", f"00-{trace_id}-00f067aa0ba902b7-01"),))
    bus = EventBus(risk.redis, risk.app.settings.bus_stream, None)

    async def entry():
        found = [e for e in await bus.read_after("0") if e.event_type == "risk_decision"]
        return found[0] if found else None
    published = await eventually(entry)
    assert published.trace_context["traceparent"].split("-")[1] == trace_id


def _metrics(risk) -> str:
    return generate_latest(risk.app.registry).decode()


async def test_risk_starts_and_gates_orders_while_the_bus_is_down(risk_factory, gateway):
    risk = await risk_factory(redis_url=f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    assert await health(risk) == health_pb2.HealthCheckResponse.SERVING
    reply = await risk.stub.SubmitOrder(risk_pb2.SubmitOrderRequest(account_id=ACCOUNT, client_order_id="nb-1",
                                                                    order=spec()))
    assert reply.decision.outcome == 1 and len(gateway[0].placed) == 1
