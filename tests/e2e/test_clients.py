"""Issue 7's clients against the real suite: the Python client, the `ibkr` CLI, the Node client and
`buf curl` (a third-party client) each place an order through the real edge and see its fill.

Everything here is real: the processes started by the `suite` fixture (simulator, ledger, bridge, risk,
edge), the real key, real gRPC. The client mechanics the real edge cannot trigger on demand (scripted
UNAVAILABLE, cuts at an exact frame) are tested against edge doubles in clients/python/tests.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.type import decimal_pb2
from ibkr.client import AsyncClient, Client, RiskRejected, Unauthenticated, decimal_value
from ibkr.edge.v1 import event_service_pb2
from ibkr.sim.v1 import sim_pb2, sim_pb2_grpc
from ibkr.trading.v1 import event_pb2, execution_pb2

from tests.e2e.helpers import internal

REPO_ROOT = Path(__file__).resolve().parents[2]
NODE_DIR = REPO_ROOT / "clients" / "node"
FILL_TIMEOUT_SECONDS = 60
SYMBOL = "AAPL"
# A marketable buy limit above the simulator's ask (set by `priced`): it fills at once, and its limit gives
# risk a reference price for its notional rule.
LIMIT = "191"


def coid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="module")
def proto_deps() -> Path:
    """The googleapis protos the Node client and `buf curl --schema` include."""
    subprocess.run([sys.executable, "-m", "tools.gen_protos", "--deps-only"], cwd=REPO_ROOT, check=True,
                   capture_output=True)
    return REPO_ROOT / ".build" / "proto-deps"


@pytest.fixture(scope="module")
def priced(suite) -> None:
    """A current quote for SYMBOL in the simulator, so orders have a market to fill against."""
    def dec(text: str) -> decimal_pb2.Decimal:
        return decimal_pb2.Decimal(value=text)

    with grpc.insecure_channel(suite.address("sim")) as channel:
        sim_pb2_grpc.SimulatorControlServiceStub(channel).SetPrice(
            sim_pb2.SetPriceRequest(symbol=SYMBOL, last_price=dec("190"), bid_price=dec("189.99"),
                                    ask_price=dec("190.01"), bid_size=dec("500"), ask_size=dec("500")),
            metadata=internal(suite), timeout=10,
        )


def eventually(probe: Callable[[], Any], what: str, timeout: float = FILL_TIMEOUT_SECONDS) -> Any:
    """Poll `probe` until it returns something truthy (a bounded wait, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not seen within {timeout}s")
        time.sleep(0.25)


async def _fill_on_stream(
    stream: Any, client_order_id: str
) -> execution_pb2.Fill:
    async with asyncio.timeout(FILL_TIMEOUT_SECONDS):
        async for frame in stream:
            assert isinstance(frame, event_service_pb2.StreamEventsResponse)
            assert frame.resume_token, "every frame carries a resume token"
            event = frame.event
            if frame.HasField("event") and event.HasField("fill") and event.fill.client_order_id == client_order_id:
                return event.fill
    raise AssertionError("the stream ended before the fill")


async def test_python_client_places_an_order_and_sees_its_fill_on_the_stream(suite, api_key, priced) -> None:
    client_order_id = coid("py")
    async with AsyncClient(suite.address("edge"), api_key) as client:
        stream = client.stream_events(event_types=["order_update", "fill"]).__aiter__()
        try:
            await anext(stream)  # subscribed: the fill cannot slip past
            order = await client.place_order(SYMBOL, "buy", 1, limit_price=LIMIT, client_order_id=client_order_id)
            assert order.client_order_id == client_order_id
            assert decimal_value(order.spec.quantity) == Decimal(1)
            fill = await _fill_on_stream(stream, client_order_id)
        finally:
            await stream.aclose()  # type: ignore[attr-defined]
    assert decimal_value(fill.quantity) == Decimal(1)
    price = decimal_value(fill.price)
    assert isinstance(price, Decimal) and price > 0


async def test_python_client_resumes_the_real_edge_stream_after_a_token_and_sees_a_later_fill(
    suite, api_key, priced
) -> None:
    client_order_id = coid("resume")
    kinds = ["order_update", "fill"]
    async with AsyncClient(suite.address("edge"), api_key) as client:
        first = client.stream_events(event_types=kinds).__aiter__()
        token = (await anext(first)).resume_token
        await first.aclose()  # type: ignore[attr-defined]
        assert token
        await client.place_order(SYMBOL, "buy", 1, limit_price=LIMIT, client_order_id=client_order_id)
        resumed = client.stream_events(event_types=kinds, resume_token=token).__aiter__()
        try:
            opening = await anext(resumed)
            assert opening.marker.type == event_pb2.STREAM_MARKER_TYPE_RESUMED, opening
            fill = await _fill_on_stream(resumed, client_order_id)
        finally:
            await resumed.aclose()  # type: ignore[attr-defined]
    assert decimal_value(fill.quantity) == Decimal(1)


def test_blocking_client_finds_its_fill_and_gets_typed_errors_from_the_real_edge(suite, api_key, priced) -> None:
    client_order_id = coid("sync")
    with Client(suite.address("edge"), api_key) as client:
        order = client.place_order(SYMBOL, "buy", "1", limit_price=LIMIT, client_order_id=client_order_id)
        assert order.client_order_id == client_order_id
        fills = eventually(lambda: client.list_fills(client_order_id=client_order_id).fills, "the fill in ListFills")
        assert [decimal_value(f.quantity) for f in fills] == [Decimal(1)]
        with pytest.raises(RiskRejected) as denied:
            client.place_order(SYMBOL, "buy", 100000, limit_price="150", client_order_id=coid("big"))
        assert denied.value.rule_id
    with Client(suite.address("edge"), "not-a-key") as anonymous, pytest.raises(Unauthenticated):
        anonymous.get_account()


def _ibkr_command() -> list[str]:
    script = Path(sys.executable).parent / "ibkr"
    return [str(script)] if script.exists() else [sys.executable, "-m", "ibkr.client.cli"]


def test_cli_places_an_order_and_waits_for_its_fill(suite, priced) -> None:
    client_order_id = coid("cli")
    env = {**os.environ, "IBKR_API_URL": suite.address("edge"), "IBKR_API_KEY_FILE": str(suite.api_key_file)}
    env.pop("IBKR_API_KEY", None)
    result = subprocess.run(
        [*_ibkr_command(), "--json", "place", SYMBOL, "buy", "1", "--limit", LIMIT, "--client-order-id", client_order_id,
         "--wait",
         "--wait-timeout", str(FILL_TIMEOUT_SECONDS)],
        env=env, capture_output=True, text=True, timeout=FILL_TIMEOUT_SECONDS + 30, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    fills = [line for line in lines if "execution_id" in line]
    assert fills and fills[0]["client_order_id"] == client_order_id
    assert Decimal(fills[0]["quantity"]) == 1

    shown = subprocess.run([*_ibkr_command(), "orders", "--client-order-id", client_order_id], env=env,
                           capture_output=True, text=True, timeout=60, check=False)
    assert shown.returncode == 0, shown.stderr
    assert client_order_id in shown.stdout

    missing = subprocess.run([*_ibkr_command(), "orders", "--client-order-id", coid("none")], env=env,
                             capture_output=True, text=True, timeout=60, check=False)
    assert missing.returncode == 4, missing.stderr


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["positions"], 0), (["account"], 0), (["quote", SYMBOL], 0), (["fills", "--limit", "5"], 0),
        (["orders", "--open"], 0), (["watch", "--count", "1"], 0),
        (["preview", SYMBOL, "buy", "1", "--limit", LIMIT], 0),
        (["quote", "NOSUCHSYM"], 4),
        (["halt", "--reason", "e2e: a trader key may not halt"], 6),  # the dev key is a trader, not an admin
        (["--api-key", "not-a-key", "account"], 6),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else str(v),
)
def test_cli_commands_against_the_real_edge_exit_with_their_documented_codes(suite, priced, argv, code) -> None:
    env = {**os.environ, "IBKR_API_URL": suite.address("edge"), "IBKR_API_KEY_FILE": str(suite.api_key_file)}
    env.pop("IBKR_API_KEY", None)
    result = subprocess.run([*_ibkr_command(), *argv], env=env, capture_output=True, text=True, timeout=60,
                            check=False)
    assert result.returncode == code, result.stdout + result.stderr
    assert bool(result.stdout.strip()) == (code == 0), "output on success, only an error message on failure"


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_node_client_places_an_order_and_sees_its_fill(suite, proto_deps, priced) -> None:
    assert (NODE_DIR / "node_modules" / "@grpc" / "grpc-js").is_dir(), "run `make node-client` first"
    env = {**os.environ, "IBKR_API_URL": suite.address("edge"), "IBKR_API_KEY_FILE": str(suite.api_key_file),
           "IBKR_TIMEOUT_SECONDS": str(FILL_TIMEOUT_SECONDS)}
    env.pop("IBKR_API_KEY", None)
    result = subprocess.run(["node", "examples/place_and_watch.js", SYMBOL, "1", "buy", LIMIT], cwd=NODE_DIR, env=env,
                            capture_output=True, text=True, timeout=FILL_TIMEOUT_SECONDS + 30, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    placed = lines[0]["placed"]
    fill = lines[-1]["fill"]
    assert fill["client_order_id"] == placed["client_order_id"]
    assert Decimal(fill["quantity"]["value"]) == 1


def _buf_curl(suite, api_key: str, method: str, body: dict[str, Any]) -> dict[str, Any]:
    result = subprocess.run(
        ["npx", "--no-install", "buf", "curl", "--protocol", "grpc", "--http2-prior-knowledge", "--schema", ".",
         "-H", f"authorization: Bearer {api_key}", "-d", json.dumps(body), "--timeout", "30s",
         f"http://{suite.address('edge')}/{method}"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, f"buf curl {method}: {result.stdout}{result.stderr}"
    return json.loads(result.stdout or "{}")


def test_buf_curl_places_an_order_and_sees_its_fill(suite, api_key, proto_deps, priced) -> None:
    client_order_id = coid("buf")
    order = {
        "instrument": {"symbol": SYMBOL, "security_type": "SECURITY_TYPE_STOCK"},
        "side": "ORDER_SIDE_BUY", "quantity": {"value": "1"}, "order_type": "ORDER_TYPE_LIMIT",
        "limit_price": {"value": LIMIT},
        "time_in_force": "TIME_IN_FORCE_DAY",
    }
    placed = _buf_curl(suite, api_key, "ibkr.edge.v1.TradingService/PlaceOrder",
                       {"client_order_id": client_order_id, "order": order})
    assert placed["order"]["clientOrderId"] == client_order_id

    def fills() -> list[dict[str, Any]]:
        reply = _buf_curl(suite, api_key, "ibkr.edge.v1.TradingService/ListFills",
                          {"client_order_id": client_order_id})
        return reply.get("fills", [])

    [fill] = eventually(fills, "the fill through buf curl ListFills")
    assert fill["clientOrderId"] == client_order_id
    assert Decimal(fill["quantity"]["value"]) == 1
