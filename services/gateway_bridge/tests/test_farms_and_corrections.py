"""Driven through the simulator's gRPC control service: IB data farm notices (reflected in the connection
status and in readiness per kind, never in the session state) and execution corrections (a Fill that
supersedes the original on the bus, never a duplicate)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal

import grpc
import pytest
from ibkr.gateway.v1 import gateway_pb2
from ibkr.sim.v1 import sim_pb2, sim_pb2_grpc
from ibkr.trading.v1 import instrument_pb2, system_pb2

from services.ib_gateway_sim.grpc_server import serve_control

from .conftest import until
from .test_orders_e2e import error_details, place, spec

SECDEF, MARKET = gateway_pb2.DATA_FARM_KIND_SECURITY_DEFINITION, gateway_pb2.DATA_FARM_KIND_MARKET_DATA


@pytest.fixture
async def control(sim) -> AsyncIterator[sim_pb2_grpc.SimulatorControlServiceStub]:
    server = await serve_control(sim)
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{server.port}")
    try:
        yield sim_pb2_grpc.SimulatorControlServiceStub(channel)
    finally:
        await channel.close()
        await server.stop()


async def farms(bridge) -> dict[str, gateway_pb2.DataFarmStatus]:
    reply = await bridge.stub.GetConnectionStatus(gateway_pb2.GetConnectionStatusRequest(), timeout=5)
    return {f.name: f for f in reply.data_farms}


async def wait_farm(bridge, name: str, connected: bool) -> gateway_pb2.DataFarmStatus:
    for _ in range(500):  # the notice travels sim → socket → pump: a correctness wait, not a timing one
        farm = (await farms(bridge)).get(name)
        if farm is not None and farm.connected == connected:
            return farm
        await asyncio.sleep(0.01)
    raise AssertionError(f"farm {name} never reported connected={connected}")


async def test_a_broken_secdef_farm_fails_new_instruments_fast_while_orders_in_known_ones_still_go(
        bridge, control, unique_name):
    await bridge.stub.PlaceOrder(place(f"{unique_name}-a", spec(qty="1")), timeout=10)  # AAPL now qualified
    sent = await control.SendDataFarmNotice(sim_pb2.SendDataFarmNoticeRequest(
        farm=sim_pb2.DATA_FARM_SECURITY_DEFINITION, connected=False))
    assert sent.code == 2157 and sent.client_count >= 1
    farm = await wait_farm(bridge, "secdefnj", connected=False)
    assert farm.kind == SECDEF and farm.broker_code == 2157

    status = (await bridge.stub.GetConnectionStatus(gateway_pb2.GetConnectionStatusRequest(), timeout=5)).status
    assert status.state == system_pb2.BROKER_CONNECTION_STATE_CONNECTED  # informational: the session stands
    assert await bridge.health() == 1  # SERVING
    again = await bridge.stub.PlaceOrder(place(f"{unique_name}-b", spec(qty="1")), timeout=10)
    assert again.order.order_id
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await bridge.stub.PlaceOrder(place(f"{unique_name}-c", spec(symbol="MSFT", qty="1")), timeout=10)
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    assert error_details(err.value)[0].reason == "SECDEF_FARM_UNAVAILABLE"

    await control.SendDataFarmNotice(sim_pb2.SendDataFarmNoticeRequest(
        farm=sim_pb2.DATA_FARM_SECURITY_DEFINITION, connected=True))
    assert (await wait_farm(bridge, "secdefnj", connected=True)).broker_code == 2158
    msft = await bridge.stub.PlaceOrder(place(f"{unique_name}-c", spec(symbol="MSFT", qty="1")), timeout=10)
    assert msft.order.order_id


async def test_a_broken_market_data_farm_fails_snapshots_fast_until_it_is_ok_again(bridge, control):
    quote_request = gateway_pb2.GetQuoteRequest(instrument=instrument_pb2.Instrument(
        symbol="AAPL", security_type=instrument_pb2.SECURITY_TYPE_STOCK))
    # Another market-data farm still OK keeps quotes available: only every farm of the kind broken stops them.
    await control.SendDataFarmNotice(sim_pb2.SendDataFarmNoticeRequest(
        farm=sim_pb2.DATA_FARM_MARKET_DATA, name="usfarm.nj", connected=False))
    farm = await wait_farm(bridge, "usfarm.nj", connected=False)
    assert farm.kind == MARKET and farm.broker_code == 2103
    assert (await farms(bridge))["usfarm"].connected  # reported OK at connect
    assert (await bridge.stub.GetQuote(quote_request, timeout=10)).quote.HasField("bid_price")
    await control.SendDataFarmNotice(sim_pb2.SendDataFarmNoticeRequest(
        farm=sim_pb2.DATA_FARM_MARKET_DATA, connected=False))
    await wait_farm(bridge, "usfarm", connected=False)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await bridge.stub.GetQuote(quote_request, timeout=10)
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    assert error_details(err.value)[0].reason == "MARKET_DATA_FARM_UNAVAILABLE"
    await control.SendDataFarmNotice(sim_pb2.SendDataFarmNoticeRequest(
        farm=sim_pb2.DATA_FARM_MARKET_DATA, connected=True))
    await wait_farm(bridge, "usfarm", connected=True)
    assert (await bridge.stub.GetQuote(quote_request, timeout=10)).quote.HasField("bid_price")


async def test_an_exec_correction_supersedes_the_fill_on_the_bus_and_is_never_duplicated(
        bridge, bus, sim, control, unique_name):
    placed = (await bridge.stub.PlaceOrder(place(f"{unique_name}-x", spec(qty="5")), timeout=10)).order

    async def fills():
        return [e.fill for e in await bus.events() if e.WhichOneof("payload") == "fill"]

    for _ in range(500):
        if await fills():
            break
        await asyncio.sleep(0.01)
    [original] = await fills()
    assert original.order_id == placed.order_id and not original.correction

    corrected = (await control.CorrectExecution(sim_pb2.CorrectExecutionRequest(
        execution_id=original.execution_id, price={"value": str(Decimal(original.price.value) + 1)}))).execution
    assert corrected.execution_id.endswith(".02") and corrected.superseded_execution_id == original.execution_id
    for _ in range(500):
        if len(await fills()) == 2:
            break
        await asyncio.sleep(0.01)
    first, second = await fills()
    assert first.execution_id == original.execution_id
    assert second.execution_id == corrected.execution_id and second.correction
    assert second.superseded_execution_id == original.execution_id
    assert second.order_id == placed.order_id and Decimal(second.price.value) == Decimal(original.price.value) + 1

    # A reconnect replays both executions (reqExecutions): nothing is published twice.
    sim.drop_connections()
    await until(lambda: not bridge.app.orders.ready)
    await bridge.wait_serving(timeout=20)
    await bridge.stub.Reconcile(gateway_pb2.ReconcileRequest(), timeout=10)
    assert [f.execution_id for f in await fills()] == [original.execution_id, corrected.execution_id]


async def test_correcting_an_unknown_execution_is_not_found(control):
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await control.CorrectExecution(sim_pb2.CorrectExecutionRequest(execution_id="0000e02a.00000001.01.01",
                                                                       price={"value": "1"}))
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
