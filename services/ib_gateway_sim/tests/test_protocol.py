"""Handshake and version negotiation, every negotiated version ib_async can use, the blocking API, and bad
client input (which gets IB's error and leaves the connection and the simulator standing)."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from decimal import Decimal

import pytest
from ib_async import IB, LimitOrder, MarketOrder, Stock

from services.ib_gateway_sim import Simulator

from .conftest import until
from .rawclient import RawClient, ThreadedSim, errors_in


@pytest.fixture(scope="module")
def threaded() -> Iterator[ThreadedSim]:
    sim = ThreadedSim().start()
    try:
        yield sim
    finally:
        sim.stop()


@pytest.mark.parametrize("version", [157, 163, 170, 176, 178])
async def test_every_version_ib_async_negotiates_works_end_to_end(sim: Simulator, version: int) -> None:
    ib = IB()
    ib.client.MaxClientVersion = version
    await ib.connectAsync("127.0.0.1", sim.tws_port, clientId=4, timeout=5, raiseSyncErrors=True)
    try:
        assert ib.client.serverVersion() == version
        [aapl] = await ib.qualifyContractsAsync(Stock("AAPL", "SMART", "USD"))
        assert aapl.conId == 265598
        [ticker] = await ib.reqTickersAsync(aapl)
        assert ticker.last == 190.0
        trade = ib.placeOrder(aapl, MarketOrder("BUY", 10))
        resting = ib.placeOrder(aapl, LimitOrder("BUY", 1, 100.0, orderRef="stay"))
        await until(lambda: trade.isDone() and trade.fills and trade.fills[0].commissionReport.commission == 1)
        [fill] = await ib.reqExecutionsAsync()
        assert fill.execution.permId == trade.order.permId
        [done] = await ib.reqCompletedOrdersAsync(False)
        assert done.orderStatus.status == "Filled"
        await until(lambda: resting.orderStatus.status == "Submitted")
    finally:
        ib.disconnect()
    again = IB()
    again.client.MaxClientVersion = version
    await again.connectAsync("127.0.0.1", sim.tws_port, clientId=4, timeout=5, raiseSyncErrors=True)
    try:
        assert [t.order.orderRef for t in again.openTrades()] == ["stay"]
    finally:
        again.disconnect()


def test_blocking_api_connects_trades_and_sees_the_position(threaded: ThreadedSim) -> None:
    ib = IB()
    ib.connect("127.0.0.1", threaded.port, clientId=30, timeout=5)
    try:
        [aapl] = ib.qualifyContracts(Stock("AAPL", "SMART", "USD"))
        ticker = ib.reqMktData(aapl)
        trade = ib.placeOrder(aapl, MarketOrder("BUY", 10))
        for _ in range(500):
            if trade.isDone() and trade.fills and trade.fills[0].commissionReport.execId and ib.positions():
                break
            ib.sleep(0.01)
        assert trade.orderStatus.status == "Filled"
        assert ib.positions()[0].position == 10
        threaded.call(threaded.sim.set_price, "AAPL", Decimal("192.00"))
        for _ in range(500):
            if ticker.last == 192.0:
                break
            ib.sleep(0.01)
        assert ticker.last == 192.0
        assert [f.execution.execId for f in ib.reqExecutions()] == [trade.fills[0].execution.execId]
        ib.cancelMktData(aapl)
        sell = ib.placeOrder(aapl, MarketOrder("SELL", 10))
        for _ in range(500):
            if sell.isDone():
                break
            ib.sleep(0.01)
    finally:
        ib.disconnect()


def test_handshake_answers_with_the_clients_highest_version(threaded: ThreadedSim) -> None:
    client = RawClient(threaded.port, None, "v100..163")
    assert client.server_version == 163
    client.close()
    client = RawClient(threaded.port, None, "v157..200 +PACEAPI")
    assert client.server_version == 178
    client.close()


def test_client_that_needs_a_newer_server_is_disconnected(threaded: ThreadedSim) -> None:
    client = RawClient(threaded.port, None, "")
    v = b"v179..200"
    client.sock.sendall(struct.pack(">I", len(v)) + v)
    assert client.closed()


def test_connection_that_does_not_start_with_api_is_closed(threaded: ThreadedSim) -> None:
    import socket

    sock = socket.create_connection(("127.0.0.1", threaded.port), timeout=5)
    sock.sendall(b"GET / HTTP/1.1\r\n\r\n")
    assert sock.recv(100) == b""
    sock.close()
    RawClient(threaded.port, 31).close()  # the simulator still serves others


def test_nexvalidid_and_managed_accounts_have_exactly_three_fields(threaded: ThreadedSim) -> None:
    client = RawClient(threaded.port, None)
    client.send(["71", "2", "32", ""])
    got = client.until(lambda f: f[0] == "9")
    got += client.ping()
    by_id = {m[0]: m for m in got}
    assert len(by_id["9"]) == 3 and len(by_id["15"]) == 3 and by_id["15"][2] == "DU1234567"
    assert ("53" in by_id) and [c for _, c, _ in errors_in(got, info=True)][:3] == [2104, 2106, 2158]
    client.close()


def test_unknown_message_id_gets_505_and_the_connection_survives(threaded: ThreadedSim) -> None:
    client = RawClient(threaded.port, 33)
    client.send(["9999", "1", "x"])
    client.send(["not-a-number"])
    got = client.ping()
    assert [c for _, c, _ in errors_in(got)] == [505, 505]
    client.close()


def test_malformed_order_fields_get_320_with_the_order_id(threaded: ThreadedSim) -> None:
    client = RawClient(threaded.port, 34)
    client.send(["3", "77", "265598", "AAPL", "STK"])  # far too short
    client.send(["3", "78", "abc"] + [""] * 40)  # conId is not an integer
    got = client.ping()
    assert [(r, c) for r, c, _ in errors_in(got)] == [(77, 320), (78, 320)]
    client.close()


def test_request_before_start_api_is_refused_politely(threaded: ThreadedSim) -> None:
    client = RawClient(threaded.port, None)
    client.send(["49", "1"])
    client.send(["71", "2", "35", ""])
    got = client.until(lambda f: f[0] == "9")
    assert (-1, 321) in [(r, c) for r, c, _ in errors_in(got)]
    client.close()


def test_oversized_frame_closes_only_that_connection(threaded: ThreadedSim) -> None:
    bystander = RawClient(threaded.port, 36)
    client = RawClient(threaded.port, 37)
    client.sock.sendall(struct.pack(">I", 64 * 1024 * 1024) + b"\0" * 16)
    assert client.closed()
    assert bystander.ping()[-1][0] == "49"
    bystander.close()
