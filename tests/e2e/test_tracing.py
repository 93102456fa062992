"""One order is one trace: the edge, risk and bridge spans share its trace id, exported over OTLP."""

from __future__ import annotations

import uuid

from ibkr.edge.v1 import trading_service_pb2, trading_service_pb2_grpc

from tests.e2e.helpers import market


def services_in(trace) -> set[str]:
    return {span.service_name for span in trace}


async def test_one_order_is_one_trace_across_edge_risk_and_bridge(suite, otlp, edge_channel, auth):
    client_order_id = f"trace-{uuid.uuid4().hex[:10]}"
    stub = trading_service_pb2_grpc.TradingServiceStub(edge_channel)
    await stub.PlaceOrder(trading_service_pb2.PlaceOrderRequest(client_order_id=client_order_id,
                                                                 order=market("IBM", "1")), metadata=auth, timeout=15)

    def placed_here(trace) -> bool:
        names = services_in(trace)
        has_place = any(s.name.endswith("TradingService/PlaceOrder") for s in trace)
        return has_place and all(any(part in n for n in names) for part in ("edge", "risk", "bridge"))

    trace = await otlp.wait_for_trace_async(placed_here, timeout=30)
    assert len({span.trace_id for span in trace}) == 1
    server_spans = {s.name for s in trace if s.kind == "SERVER"}
    assert {"ibkr.edge.v1.TradingService/PlaceOrder", "ibkr.risk.v1.RiskService/SubmitOrder",
            "ibkr.gateway.v1.GatewayService/PlaceOrder"} <= server_spans
