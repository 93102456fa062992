"""AIP-158 pagination of the bridge's List RPCs: keyset pages behind opaque tokens, through the simulator."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from ibkr.gateway.v1 import gateway_pb2
from ibkr.trading.v1 import order_pb2

from services.common.errors import InvalidArgument
from services.gateway_bridge.paging import encode_token, paginate

from .conftest import until
from .test_orders_e2e import error_details, place, spec

# ---------------------------------------------------------------- pure


def test_an_item_leaving_between_pages_makes_no_other_item_skip_or_repeat():
    items = list(range(10))
    first, token = paginate(items, lambda i: [i], ("f",), 3, "")
    assert first == [0, 1, 2] and token
    items.remove(1)  # an order filled between the two calls
    second, token = paginate(items, lambda i: [i], ("f",), 3, token)
    assert second == [3, 4, 5]


def test_the_last_page_has_no_token_and_page_size_zero_means_the_default():
    page, token = paginate(list(range(5)), lambda i: [i], (), 0, "")
    assert page == [0, 1, 2, 3, 4] and token == ""


@pytest.mark.parametrize("token", ["abc", "5", encode_token(("f",), [3])[:-1] + "0",
                                   encode_token(("f",), [3]).replace(".", "x.")])
def test_a_token_not_issued_by_the_server_is_invalid_argument(token):
    with pytest.raises(InvalidArgument) as err:
        paginate(list(range(5)), lambda i: [i], ("f",), 2, token)
    assert err.value.metadata["field"] == "page_token"


def test_a_token_replayed_with_other_filters_is_invalid_argument():
    token = encode_token(("open_orders", "", "AAPL"), [1])
    with pytest.raises(InvalidArgument):
        paginate(list(range(5)), lambda i: [i], ("open_orders", "", "MSFT"), 2, token)


# ---------------------------------------------------------------- through the bridge and the simulator


async def _all_pages(call, request, field: str) -> list[list]:
    pages = []
    while True:
        reply = await call(request, timeout=5)
        pages.append(list(getattr(reply, field)))
        if not reply.next_page_token:
            return pages
        request.page_token = reply.next_page_token


async def test_open_orders_come_in_pages_of_the_size_asked_each_once(bridge, unique_name):
    for i in range(5):
        await bridge.stub.PlaceOrder(place(f"{unique_name}-{i}", spec(qty="1", order_type=order_pb2.ORDER_TYPE_LIMIT,
                                                                     limit="100")), timeout=10)
    pages = await _all_pages(bridge.stub.ListOpenOrders, gateway_pb2.ListOpenOrdersRequest(page_size=2), "orders")
    assert [len(p) for p in pages] == [2, 2, 1]
    ids = [o.client_order_id for p in pages for o in p]
    assert sorted(ids) == sorted(f"{unique_name}-{i}" for i in range(5))


async def test_executions_come_in_pages_oldest_first_each_once(bridge, unique_name):
    for i in range(3):
        await bridge.stub.PlaceOrder(place(f"{unique_name}-m{i}", spec(qty="1")), timeout=10)

    await until(lambda: len(bridge.app.orders._joiner.waiting()) == 0)  # commissions joined
    for _ in range(500):  # recorded through the writer: poll the RPC itself (a correctness wait)
        if len((await bridge.stub.ListExecutions(gateway_pb2.ListExecutionsRequest(), timeout=5)).fills) == 3:
            break
        await asyncio.sleep(0.01)
    pages = await _all_pages(bridge.stub.ListExecutions, gateway_pb2.ListExecutionsRequest(page_size=2), "fills")
    assert [len(p) for p in pages] == [2, 1]
    fills = [f for p in pages for f in p]
    assert len({f.execution_id for f in fills}) == 3
    times = [(f.fill_time.seconds, f.fill_time.nanos) for f in fills]
    assert times == sorted(times)


@pytest.mark.parametrize("rpc, request_type", [("ListOpenOrders", gateway_pb2.ListOpenOrdersRequest),
                                               ("ListExecutions", gateway_pb2.ListExecutionsRequest),
                                               ("ListPositions", gateway_pb2.ListPositionsRequest)])
async def test_tampered_token_or_negative_size_is_invalid_argument_naming_the_field(bridge, rpc, request_type):
    call = getattr(bridge.stub, rpc)
    for request, field in ((request_type(page_token="eyJmIjoiMCJ9.0000000000000000"), "page_token"),
                           (request_type(page_size=-1), "page_size")):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await call(request, timeout=5)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert error_details(err.value)[1] == [field]


async def test_open_orders_token_replayed_with_another_symbol_is_invalid_argument(bridge, unique_name):
    for i in range(3):
        await bridge.stub.PlaceOrder(place(f"{unique_name}-{i}", spec(qty="1", order_type=order_pb2.ORDER_TYPE_LIMIT,
                                                                     limit="100")), timeout=10)
    first = await bridge.stub.ListOpenOrders(gateway_pb2.ListOpenOrdersRequest(symbol="AAPL", page_size=1), timeout=5)
    assert first.next_page_token
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await bridge.stub.ListOpenOrders(gateway_pb2.ListOpenOrdersRequest(symbol="MSFT", page_size=1,
                                                                          page_token=first.next_page_token), timeout=5)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
