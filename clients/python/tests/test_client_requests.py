"""Every convenience method sends the request its RPC expects, with the key, exact decimals and enums.

The server is a recording edge double (see edge_doubles): it answers every public RPC with an empty
response, so what is checked is the request the client built.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from edge_doubles import (
    Recorder,
    ServerThread,
    server_thread_fixture,  # noqa: F401 (the server_thread fixture)
)
from ibkr.client import AsyncClient, Client
from ibkr.trading.v1 import event_pb2, order_pb2, risk_policy_pb2, risk_types_pb2


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def address(server_thread: ServerThread, recorder: Recorder) -> str:
    return server_thread.serve(*recorder.registrations())


async def test_each_method_calls_its_rpc_with_the_key_and_the_default_account(address: str, recorder: Recorder) -> None:
    async with AsyncClient(address, "k", account_id="DU7") as client:
        await client.place_order("AAPL", "buy", 1)
        await client.preview_order("AAPL", "sell", "2", limit_price="10")
        await client.replace_order("o-1", limit_price="11")
        await client.cancel_order("o-1")
        await client.cancel_all_orders(symbol="AAPL", side="sell")
        await client.close_position("AAPL")
        await client.get_order(client_order_id="c-1")
        await client.get_order_history("o-1")
        await client.list_orders()
        _ = [o async for o in client.iter_orders()]
        await client.list_fills()
        _ = [f async for f in client.iter_fills()]
        await client.get_account()
        await client.list_positions()
        await client.get_pnl()
        await client.get_quote("AAPL")
        _ = [q async for q in client.stream_quotes(["AAPL"])]
        _ = [f async for f in client.stream_events()]
        await client.get_trading_state()
        await client.set_trading_state("reducing", "why")
        await client.halt("stop")
        await client.resume_trading("go")
        await client.get_risk_policy()
        await client.update_risk_policy(risk_policy_pb2.RiskPolicy(), "change")
        await client.get_system_status()
    names = [name for name, _, _ in recorder.calls]
    assert names == [
        "PlaceOrder", "PreviewOrder", "ReplaceOrder", "CancelOrder", "CancelAllOrders", "ClosePosition", "GetOrder",
        "GetOrder", "ListOrders", "ListOrders", "ListFills", "ListFills", "GetAccount", "ListPositions", "GetPnl",
        "GetQuote", "StreamQuotes", "StreamEvents", "GetTradingState", "SetTradingState", "SetTradingState",
        "SetTradingState", "GetRiskPolicy", "UpdateRiskPolicy", "GetSystemStatus",
    ]
    assert {key for _, _, key in recorder.calls} == {"Bearer k"}
    accounts = {request.account_id for _, request, _ in recorder.calls if "account_id" in request.DESCRIPTOR.fields_by_name}
    assert accounts == {"DU7"}


def requests_of(recorder: Recorder, name: str) -> list[Any]:
    return [request for method, request, _ in recorder.calls if method == name]


async def test_replace_sends_only_the_given_fields_in_the_update_mask(address: str, recorder: Recorder) -> None:
    async with AsyncClient(address, "k") as client:
        await client.replace_order(client_order_id="c-1", quantity=5, limit_price="187.50", time_in_force="gtc")
        with pytest.raises(ValueError, match="at least one"):
            await client.replace_order("o-1")
        with pytest.raises(TypeError, match="exactly one"):
            await client.replace_order("o-1", client_order_id="c-1", quantity=1)
    [request] = requests_of(recorder, "ReplaceOrder")
    assert request.client_order_id == "c-1"
    assert list(request.update_mask.paths) == ["quantity", "limit_price", "time_in_force"]
    assert (request.order.quantity.value, request.order.limit_price.value) == ("5", "187.5")
    assert request.order.time_in_force == order_pb2.TIME_IN_FORCE_GTC
    assert request.request_id


async def test_order_types_follow_the_prices_and_ids_are_generated(address: str, recorder: Recorder) -> None:
    async with AsyncClient(address, "k") as client:
        await client.place_order("AAPL", "buy", 1)
        await client.place_order("AAPL", "buy", 1, limit_price="1")
        await client.place_order("AAPL", "sell", 1, stop_price="1")
        await client.place_order("AAPL", "sell", 1, stop_price="1", limit_price="0.99", client_order_id="mine")
    types = [r.order.order_type for r in requests_of(recorder, "PlaceOrder")]
    assert types == [order_pb2.ORDER_TYPE_MARKET, order_pb2.ORDER_TYPE_LIMIT, order_pb2.ORDER_TYPE_STOP,
                     order_pb2.ORDER_TYPE_STOP_LIMIT]
    ids = [r.client_order_id for r in requests_of(recorder, "PlaceOrder")]
    assert ids[3] == "mine" and len(set(ids)) == 4 and all(0 < len(i) <= 48 for i in ids)


async def test_filters_enums_and_times_are_sent_as_proto_values(address: str, recorder: Recorder) -> None:
    start = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    async with AsyncClient(address, "k") as client:
        await client.list_orders(statuses=["filled", "ORDER_STATUS_CANCELLED"], open_only=True, start_time=start)
        _ = [f async for f in client.stream_events(event_types=["fill", "order_update"], symbols=["AAPL"],
                                                   resume_token="t-1", skip_snapshot=True)]
        _ = [q async for q in client.stream_quotes(["AAPL"], min_interval=timedelta(milliseconds=250))]
        await client.halt("fat finger", global_scope=True, cancel_open_orders=True)
        with pytest.raises(ValueError, match="one of"):
            await client.place_order("AAPL", "hold", 1)
    [orders] = requests_of(recorder, "ListOrders")
    assert list(orders.statuses) == [order_pb2.ORDER_STATUS_FILLED, order_pb2.ORDER_STATUS_CANCELLED]
    assert orders.start_time.ToDatetime(tzinfo=UTC) == start and orders.open_only
    [events] = requests_of(recorder, "StreamEvents")
    assert list(events.event_types) == [event_pb2.EVENT_TYPE_FILL, event_pb2.EVENT_TYPE_ORDER_UPDATE]
    assert (list(events.symbols), events.resume_token, events.skip_snapshot) == (["AAPL"], "t-1", True)
    [quotes] = requests_of(recorder, "StreamQuotes")
    assert quotes.min_interval.ToTimedelta() == timedelta(milliseconds=250)
    [halt] = requests_of(recorder, "SetTradingState")
    assert (halt.state, halt.global_scope, halt.cancel_open_orders) == (risk_types_pb2.TRADING_STATE_HALTED, True,
                                                                         True)


def test_the_blocking_client_offers_every_async_method(address: str, recorder: Recorder) -> None:
    public = {n for n in vars(AsyncClient) if not n.startswith("_") and callable(getattr(AsyncClient, n))}
    public -= {"from_env", "close"}
    assert public <= set(vars(Client))
    with Client(address, "k") as client:
        client.get_system_status()
        assert list(client.iter_orders()) == []
    assert [name for name, _, _ in recorder.calls] == ["GetSystemStatus", "ListOrders"]


def test_a_blocking_client_with_bad_arguments_leaves_no_thread_behind() -> None:
    import threading

    def loop_threads() -> int:
        return sum(t.name == "ibkr-client" for t in threading.enumerate())

    before = loop_threads()
    with pytest.raises(TypeError):
        Client("127.0.0.1:1", "k", no_such_option=1)
    assert loop_threads() == before
