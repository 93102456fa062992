"""Random frames at the TWS socket: every one gets IB's answer or an error, never a crash, and both the
connection and the simulator keep serving. Property-based with hypothesis."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ib_async import LimitOrder, Stock
from ib_async.client import Client
from ib_async.wrapper import Wrapper

from .rawclient import RawClient, ThreadedSim, errors_in

KNOWN_IDS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 15, 16, 17, 20, 49, 58, 59, 61, 62, 63, 64, 71, 74, 76, 77, 78,
             92, 93, 94, 95, 97, 99]
TOKENS = ["", "0", "1", "-1", "2", "BUY", "SELL", "SSHORT", "MKT", "LMT", "STP", "TRAIL", "STP LMT", "MOC", "AAPL",
          "STK", "BAG", "CASH", "SMART", "NASDAQ", "USD", "DAY", "GTC", "IOC", "GTD", "Infinite", "nan", "1e400",
          "-1e400", "2147483647", "1.7976931348623157E308", "265598", "100", "100.0", "190.005", "O",
          "20250101 10:00:00 UTC", "DU1234567", "DU0000000", "All", "$LEDGER:ALL", "a=b;", "é", "\\u0000"]

field = st.one_of(
    st.sampled_from(TOKENS),
    st.integers(min_value=-(2**63), max_value=2**63).map(str),
    st.decimals(allow_nan=False, allow_infinity=False, places=4).map(str),
    st.text(st.characters(blacklist_characters="\0", blacklist_categories=("Cs",)), max_size=12),
)


def captured_place_order() -> list[str]:
    """The exact placeOrder fields ib_async writes at server version 178 (captured without a socket)."""
    sent: list[str] = []
    client = Client(Wrapper(None))  # type: ignore[arg-type]
    client._serverVersion = 178
    client.connState = Client.CONNECTED
    client.sendMsg = sent.append  # type: ignore[method-assign]
    contract = Stock("AAPL", "SMART", "USD", conId=265598)
    client.placeOrder(9001, contract, LimitOrder("BUY", 100, 150.0, orderRef="fuzz"))
    return sent[0].split("\0")[:-1]


PLACE_ORDER = captured_place_order()


@st.composite
def frames(draw: st.DrawFn) -> list[str]:
    kind = draw(st.sampled_from(["random", "known", "mutated-order"]))
    if kind == "mutated-order":
        fields = list(PLACE_ORDER)
        for _ in range(draw(st.integers(1, 6))):
            i = draw(st.integers(1, len(fields) - 1))
            fields[i] = draw(field)
        cut = draw(st.one_of(st.none(), st.integers(2, len(fields))))
        return fields[:cut] if cut else fields
    msg_id = draw(st.sampled_from(KNOWN_IDS)) if kind == "known" else draw(st.integers(-5, 300))
    return [str(msg_id), *draw(st.lists(field, max_size=40))]


@pytest.fixture(scope="module")
def threaded() -> Iterator[ThreadedSim]:
    sim = ThreadedSim().start()
    try:
        yield sim
    finally:
        sim.stop()


@pytest.fixture(scope="module")
def client(threaded: ThreadedSim) -> Iterator[RawClient]:
    c = RawClient(threaded.port, 50)
    try:
        yield c
    finally:
        c.close()


def test_captured_place_order_is_what_the_reference_describes() -> None:
    assert len(PLACE_ORDER) == 114 and PLACE_ORDER[0] == "3" and PLACE_ORDER[1] == "9001"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(frames(), min_size=1, max_size=5))
def test_random_frames_get_answers_and_never_break_the_connection(client: RawClient, batch: list[list[str]]) -> None:
    for fields in batch:
        client.send(fields)
    got = client.ping()  # the connection still answers, in order
    assert got[-1][0] == "49"
    for req_id, code, text in errors_in(got):
        assert "internal simulator error" not in text, (code, text, batch)


def test_the_simulator_still_trades_after_the_fuzzing(threaded: ThreadedSim, client: RawClient) -> None:
    fresh = RawClient(threaded.port, 51)
    order = list(PLACE_ORDER)
    order[1] = str(fresh.next_id + 1000)
    order[19] = "500"  # a limit far above the market: fills at once
    fresh.send(order)
    got = fresh.until(lambda f: f[0] == "59")
    assert [m[0] for m in got if m[0] in ("5", "3", "11", "59")][-4:] == ["11", "5", "3", "59"]
    fresh.close()


def test_random_bytes_after_the_handshake_close_that_socket_only(threaded: ThreadedSim, client: RawClient) -> None:
    victim = RawClient(threaded.port, 52)
    victim.sock.sendall(b"\xff\xff\xff\xff" + b"garbage")
    assert victim.closed()
    assert client.ping()[-1][0] == "49"

