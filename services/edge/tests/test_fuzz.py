"""Hypothesis over the public requests (and raw bytes): the edge never answers INTERNAL or UNKNOWN, and a
request it refuses as invalid reaches nothing downstream."""

from __future__ import annotations

import grpc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ibkr.edge.v1 import event_service_pb2 as events
from ibkr.edge.v1 import market_data_service_pb2 as market
from ibkr.edge.v1 import portfolio_service_pb2 as portfolio
from ibkr.edge.v1 import trading_service_pb2 as trading
from ibkr.trading.v1 import instrument_pb2, order_pb2

CALLER_BUGS = {grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN}
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
decimals = st.one_of(st.none(), st.sampled_from(["1", "0", "-1", "1e3", "0.0001", "1.2.3", "NaN", "inf", "", " 1",
                                                 "9" * 40, "1e-30", "+.5"]), text)
enums = st.integers(min_value=-3, max_value=12)


@st.composite
def instruments(draw) -> instrument_pb2.Instrument:
    inst = instrument_pb2.Instrument(symbol=draw(st.sampled_from(["AAPL", "msft", ""]) | text),
                                     security_type=draw(enums), currency=draw(st.sampled_from(["", "USD"]) | text),
                                     con_id=draw(st.integers(min_value=-2, max_value=3)))
    return inst


@st.composite
def specs(draw) -> order_pb2.OrderSpec:
    spec = order_pb2.OrderSpec(instrument=draw(instruments()), side=draw(enums), order_type=draw(enums),
                               time_in_force=draw(enums), oca_type=draw(enums))
    for name in ("quantity", "limit_price", "stop_price", "trailing_amount", "trailing_percent"):
        value = draw(decimals)
        if value is not None:
            getattr(spec, name).value = value
    return spec


def _method(channel: grpc.aio.Channel, path: str, response_type):
    return channel.unary_unary(path, request_serializer=lambda m: m if isinstance(m, bytes) else m.SerializeToString(),
                               response_deserializer=response_type.FromString)


requests = st.one_of(
    st.builds(lambda coid, spec: ("/ibkr.edge.v1.TradingService/PlaceOrder", trading.PlaceOrderResponse,
                                  trading.PlaceOrderRequest(client_order_id=coid, order=spec)), text, specs()),
    st.builds(lambda spec: ("/ibkr.edge.v1.TradingService/PreviewOrder", trading.PreviewOrderResponse,
                            trading.PreviewOrderRequest(order=spec)), specs()),
    st.builds(lambda oid, coid: ("/ibkr.edge.v1.TradingService/CancelOrder", trading.CancelOrderResponse,
                                 trading.CancelOrderRequest(client_order_id=coid) if coid else
                                 trading.CancelOrderRequest(order_id=oid)), text, text),
    st.builds(lambda oid: ("/ibkr.edge.v1.TradingService/GetOrder", trading.GetOrderResponse,
                           trading.GetOrderRequest(order_id=oid)), text),
    st.builds(lambda size, token, symbol, statuses: (
        "/ibkr.edge.v1.TradingService/ListOrders", trading.ListOrdersResponse,
        trading.ListOrdersRequest(page_size=size, page_token=token, symbol=symbol, statuses=statuses)),
        st.integers(-10, 5000), text, text, st.lists(enums, max_size=3)),
    st.builds(lambda inst, qty, otype: ("/ibkr.edge.v1.TradingService/ClosePosition", trading.ClosePositionResponse,
                                        trading.ClosePositionRequest(instrument=inst, order_type=otype)), instruments(),
              decimals, enums),
    st.builds(lambda symbol, side: ("/ibkr.edge.v1.TradingService/CancelAllOrders", trading.CancelAllOrdersResponse,
                                    trading.CancelAllOrdersRequest(symbol=symbol, side=side)), text, enums),
    st.builds(lambda symbol: ("/ibkr.edge.v1.PortfolioService/ListPositions", portfolio.ListPositionsResponse,
                              portfolio.ListPositionsRequest(symbol=symbol)), text),
    st.builds(lambda inst: ("/ibkr.edge.v1.MarketDataService/GetQuote", market.GetQuoteResponse,
                            market.GetQuoteRequest(instrument=inst)), instruments()),
    st.builds(lambda raw: ("/ibkr.edge.v1.TradingService/PlaceOrder", trading.PlaceOrderResponse, raw),
              st.binary(max_size=64)),
)


@SETTINGS
@given(case=requests)
async def test_public_unary_requests_never_get_internal_and_invalid_ones_reach_nothing(harness, case):
    path, response_type, request = case
    before = len(harness.state.calls)
    try:
        await _method(harness.channel, path, response_type)(request, metadata=harness.auth("admin"), timeout=10)
        code = grpc.StatusCode.OK
    except grpc.aio.AioRpcError as err:
        code = err.code()
    assert code not in CALLER_BUGS, (path, request)
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        assert len(harness.state.calls) == before, (path, request)


@SETTINGS
@given(token=text, types=st.lists(enums, max_size=3), symbols=st.lists(text, max_size=3))
async def test_stream_events_requests_never_get_internal(harness, token, types, symbols):
    stream = harness.channel.unary_stream("/ibkr.edge.v1.EventService/StreamEvents",
                                          request_serializer=events.StreamEventsRequest.SerializeToString,
                                          response_deserializer=events.StreamEventsResponse.FromString)
    call = stream(events.StreamEventsRequest(resume_token=token, event_types=types, symbols=symbols,
                                             skip_snapshot=True), metadata=harness.auth("viewer"), timeout=10)
    try:
        await call.read()
        code = grpc.StatusCode.OK
    except grpc.aio.AioRpcError as err:
        code = err.code()
    finally:
        call.cancel()
    assert code not in CALLER_BUGS
