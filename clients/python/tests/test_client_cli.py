"""The `ibkr` CLI: usage errors, exit codes per error, tables and JSON, and `place --wait`.

Commands run in-process through `cli.main` against an edge double (see edge_doubles) that answers with
chosen orders, fills and errors; the real edge is driven through the CLI in tests/e2e/test_clients.py.
"""

from __future__ import annotations

import io
import json

import grpc
import pytest
from edge_doubles import (
    Events,
    ServerThread,
    Trading,
    rich_status,
    server_thread_fixture,  # noqa: F401 (the server_thread fixture)
)
from ibkr.client import cli
from ibkr.client.errors import (
    AlreadyExists,
    FailedPrecondition,
    IbkrError,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    RiskRejected,
    Unauthenticated,
    Unavailable,
)
from ibkr.edge.v1 import (
    event_service_pb2_grpc,
    trading_service_pb2_grpc,
)
from ibkr.trading.v1 import order_pb2


@pytest.fixture
def trading() -> Trading:
    return Trading()


def serve(server_thread: ServerThread, trading: Trading) -> str:
    return server_thread.serve(
        (trading_service_pb2_grpc.add_TradingServiceServicer_to_server, trading),
        (event_service_pb2_grpc.add_EventServiceServicer_to_server, Events(trading)),
    )


def run(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    code = cli.main(argv, stdout=out)
    return code, out.getvalue()


@pytest.mark.parametrize(
    "argv",
    [[], ["place", "AAPL", "buy", "1.5x"], ["place", "AAPL", "hold", "1"], ["nope"], ["quote"]],
)
def test_usage_errors_exit_2(argv: list[str]) -> None:
    assert run(argv)[0] == 2


def test_help_documents_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--help"])[0] == 0
    text = capsys.readouterr().out
    for line in ("0  ok", "2  usage", "3  invalid argument", "4  not found", "5  risk rejected",
                 "6  unauthenticated", "7  unavailable", "1  any other"):
        assert line in text


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (InvalidArgument, 3), (AlreadyExists, 3), (NotFound, 4), (RiskRejected, 5), (FailedPrecondition, 5),
        (Unauthenticated, 6), (PermissionDenied, 6), (Unavailable, 7), (IbkrError, 1),
    ],
)
def test_each_error_type_maps_to_its_documented_exit_code(error: type[IbkrError], code: int) -> None:
    instance = error(error.code_ or grpc.StatusCode.DATA_LOSS, "m")
    assert cli.exit_code_for(instance) == code


def test_place_sends_exact_decimals_and_the_key_from_the_environment(
    server_thread: ServerThread, trading: Trading, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IBKR_API_URL", serve(server_thread, trading))
    monkeypatch.setenv("IBKR_API_KEY", "env-key")
    code, out = run(["place", "AAPL", "BUY", "0.10", "--limit", "187.50", "--client-order-id", "c-1"])
    assert code == 0
    [request] = trading.requests
    assert (request.order.quantity.value, request.order.limit_price.value) == ("0.1", "187.5")
    assert request.order.order_type == order_pb2.ORDER_TYPE_LIMIT
    assert request.client_order_id == "c-1"
    assert trading.keys == ["Bearer env-key"]
    assert "order o-1 (c-1) submitted: buy 0.1 AAPL limit @ 187.5" in out


def test_place_with_json_prints_one_json_object_with_decimals_as_strings(
    server_thread: ServerThread, trading: Trading, tmp_path
) -> None:
    key_file = tmp_path / "key"
    key_file.write_text("file-key\n")
    address = serve(server_thread, trading)
    code, out = run(["place", "MSFT", "sell", "3", "--url", address, "--api-key-file", str(key_file), "--json"])
    assert code == 0
    order = json.loads(out)
    assert order["spec"]["quantity"] == "3"
    assert order["status"] == "ORDER_STATUS_SUBMITTED"
    assert trading.keys == ["Bearer file-key"]


def test_a_risk_denial_exits_5_and_names_the_reason(
    server_thread: ServerThread, capsys: pytest.CaptureFixture[str]
) -> None:
    denial = rich_status(grpc.StatusCode.FAILED_PRECONDITION, "denied by risk rule max-qty", "RISK_RULE_VIOLATION",
                         {"rule_id": "max-qty"})
    address = serve(server_thread, Trading(denial))
    code, _ = run(["--url", address, "--api-key", "k", "place", "AAPL", "buy", "1000000"])
    assert code == 5
    assert "RISK_RULE_VIOLATION" in capsys.readouterr().err


def test_bad_input_exits_3_and_lists_the_fields(server_thread: ServerThread, capsys: pytest.CaptureFixture[str]) -> None:
    bad = rich_status(grpc.StatusCode.INVALID_ARGUMENT, "bad order", "INVALID_FIELD",
                      violations=[("order.quantity", "must be positive")])
    address = serve(server_thread, Trading(bad))
    assert run(["--url", address, "--api-key", "k", "place", "AAPL", "buy", "-1"])[0] == 3
    assert "order.quantity: must be positive" in capsys.readouterr().err


def test_place_wait_follows_the_order_to_its_fill_on_the_event_stream(
    server_thread: ServerThread, trading: Trading
) -> None:
    address = serve(server_thread, trading)
    code, out = run(["--url", address, "--api-key", "k", "place", "AAPL", "buy", "2", "--client-order-id", "c-9",
                     "--wait", "--wait-timeout", "30"])
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("order o-1 (c-9) submitted")
    assert lines[1] == "fill x-1 order o-1 (c-9): buy 2 AAPL @ 187.25"
    assert lines[2].startswith("order o-1 (c-9) filled")
    assert "someone-else" not in out


def test_watch_json_prints_frames_and_stops_after_count(server_thread: ServerThread, trading: Trading) -> None:
    address = serve(server_thread, trading)
    # The double's event stream waits for an order: place one first.
    assert run(["--url", address, "--api-key", "k", "place", "AAPL", "buy", "1", "--client-order-id", "c-2"])[0] == 0
    code, out = run(["--url", address, "--api-key", "k", "--json", "watch", "--count", "2"])
    assert code == 0
    frames = [json.loads(line) for line in out.splitlines()]
    assert frames[0]["marker"]["type"] == "STREAM_MARKER_TYPE_SNAPSHOT_BEGIN"
    assert [f["event"]["fill"]["execution_id"] for f in frames[1:]] == ["x-0", "x-1"]
