"""The Node client (clients/node) against an edge double: the example sees its fill, errors are typed.

The server is an edge double (see edge_doubles) so the Node client's own mechanics (key header, Decimal
strings, stream reading, rich-status decoding) are checked without the whole suite; the real edge is
driven through the same example in tests/e2e/test_clients.py.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from edge_doubles import (
    Events,
    ScriptedEvents,
    ServerThread,
    Trading,
    rich_status,
    server_thread_fixture,  # noqa: F401 (the server_thread fixture)
    too_slow,
    unavailable,
)
from ibkr.edge.v1 import event_service_pb2_grpc, trading_service_pb2_grpc

REPO_ROOT = Path(__file__).resolve().parents[3]
NODE_DIR = REPO_ROOT / "clients" / "node"

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")


@pytest.fixture(scope="module", autouse=True)
def proto_deps() -> None:
    """The googleapis protos the Node loader includes (`make node-client` installs the npm packages)."""
    subprocess.run([sys.executable, "-m", "tools.gen_protos", "--deps-only"], cwd=REPO_ROOT, check=True,
                   capture_output=True)
    assert (NODE_DIR / "node_modules" / "@grpc" / "grpc-js").is_dir(), "run `make node-client` first"


def node(args: list[str], address: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "IBKR_API_URL": address, "IBKR_API_KEY": "node-key",
                   "IBKR_TIMEOUT_SECONDS": "60", **env}
    return subprocess.run(["node", *args], cwd=NODE_DIR, env=environment, capture_output=True, text=True,
                          timeout=120, check=False)


def serve(server_thread: ServerThread, trading: Trading) -> str:
    return server_thread.serve(
        (trading_service_pb2_grpc.add_TradingServiceServicer_to_server, trading),
        (event_service_pb2_grpc.add_EventServiceServicer_to_server, Events(trading)),
    )


def test_the_node_example_places_an_order_and_exits_0_on_its_fill(server_thread: ServerThread) -> None:
    trading = Trading()
    result = node(["examples/place_and_watch.js", "MSFT", "0.5"], serve(server_thread, trading))
    assert result.returncode == 0, result.stdout + result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert "placed" in lines[0]
    assert lines[-1]["fill"]["execution_id"] == "x-1"
    [request] = trading.requests
    assert request.order.quantity.value == "0.5"
    assert request.order.instrument.symbol == "MSFT"
    assert trading.keys == ["Bearer node-key"]


def test_the_node_example_exits_1_with_the_error_reason_on_a_risk_denial(server_thread: ServerThread) -> None:
    denial = rich_status(grpc.StatusCode.FAILED_PRECONDITION, "denied by risk rule max-qty", "RISK_RULE_VIOLATION",
                         {"rule_id": "max-qty"})
    result = node(["examples/place_and_watch.js"], serve(server_thread, Trading(denial)))
    assert result.returncode == 1
    error = json.loads(result.stdout.splitlines()[-1])["error"]
    assert (error["code"], error["reason"], error["metadata"]) == (
        "FAILED_PRECONDITION", "RISK_RULE_VIOLATION", {"rule_id": "max-qty"}
    )


def test_the_node_client_refuses_a_number_as_a_decimal() -> None:
    script = (
        "const { decimal } = require('.');"
        "try { decimal(0.1); process.exit(3); } catch (e) { if (!(e instanceof TypeError)) process.exit(4); }"
        "if (decimal('0.10').value !== '0.10' || decimal(5n).value !== '5') process.exit(5);"
    )
    result = subprocess.run(["node", "-e", script], cwd=NODE_DIR, capture_output=True, text=True, timeout=60,
                            check=False)
    assert result.returncode == 0, result.stderr


def test_the_node_stream_resumes_after_cuts_with_the_last_token_and_loses_nothing(
    server_thread: ServerThread,
) -> None:
    servicer = ScriptedEvents(12, cuts=[(3, unavailable()), (4, too_slow())])
    address = server_thread.serve((event_service_pb2_grpc.add_EventServiceServicer_to_server, servicer))
    script = (
        "const { createClient } = require('.');"
        "(async () => {"
        "  const client = createClient({ apiKey: 'node-key' });"
        "  const ids = [];"
        "  for await (const frame of client.streamEvents({}, { backoffMs: 10 })) {"
        "    if (frame.event) ids.push(frame.event.event_id);"
        "  }"
        "  console.log(JSON.stringify(ids)); client.close();"
        "})().catch((e) => { console.error(e); process.exit(1); });"
    )
    result = node(["-e", script], address)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [f"e{i}" for i in range(12)]
    assert servicer.tokens == ["", "2", "6"]
    assert servicer.keys == ["Bearer node-key"] * 3
