"""Error mapping: a real rich status from a real gRPC server becomes the right typed `IbkrError`.

The server is an edge double (see edge_doubles): the real edge cannot be asked for an arbitrary status.
"""

from __future__ import annotations

import grpc
import pytest
from edge_doubles import (
    ServerThread,
    authorization,
    rich_status,
    server_thread_fixture,  # noqa: F401 (the server_thread fixture)
)
from ibkr.client import (
    AlreadyExists,
    AsyncClient,
    FailedPrecondition,
    IbkrError,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    ResumeTokenExpired,
    RetryPolicy,
    RiskRejected,
    Unauthenticated,
    Unavailable,
)
from ibkr.edge.v1 import trading_service_pb2_grpc


class FailingTrading(trading_service_pb2_grpc.TradingServiceServicer):
    """Answers every GetOrder with the status it was given."""

    def __init__(self, status: grpc.Status) -> None:
        self.status = status
        self.headers: list[str] = []

    async def GetOrder(self, request, context):
        self.headers.append(authorization(context))
        await context.abort_with_status(self.status)


def serve(server_thread: ServerThread, status: grpc.Status) -> tuple[str, FailingTrading]:
    servicer = FailingTrading(status)
    return server_thread.serve((trading_service_pb2_grpc.add_TradingServiceServicer_to_server, servicer)), servicer


@pytest.mark.parametrize(
    ("code", "reason", "expected"),
    [
        (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_FIELD", InvalidArgument),
        (grpc.StatusCode.NOT_FOUND, "ORDER_NOT_FOUND", NotFound),
        (grpc.StatusCode.ALREADY_EXISTS, "CLIENT_ORDER_ID_REUSED", AlreadyExists),
        (grpc.StatusCode.FAILED_PRECONDITION, "TRADING_HALTED", FailedPrecondition),
        (grpc.StatusCode.FAILED_PRECONDITION, "RISK_RULE_VIOLATION", RiskRejected),
        (grpc.StatusCode.FAILED_PRECONDITION, "RESUME_TOKEN_EXPIRED", ResumeTokenExpired),
        (grpc.StatusCode.UNAUTHENTICATED, "API_KEY_INVALID", Unauthenticated),
        (grpc.StatusCode.PERMISSION_DENIED, "ROLE_REQUIRED", PermissionDenied),
        (grpc.StatusCode.RESOURCE_EXHAUSTED, "RATE_LIMITED", ResourceExhausted),
        (grpc.StatusCode.UNAVAILABLE, "BROKER_UNAVAILABLE", Unavailable),
        (grpc.StatusCode.DATA_LOSS, "SOMETHING", IbkrError),
    ],
)
async def test_each_status_code_and_reason_raises_its_error_type_with_the_reason(
    server_thread: ServerThread, code: grpc.StatusCode, reason: str, expected: type[IbkrError]
) -> None:
    address, _ = serve(server_thread, rich_status(code, "told you so", reason, {"k": "v"}))
    async with AsyncClient(address, "key", retry=RetryPolicy(max_attempts=2, initial_backoff_seconds=0.01)) as client:
        with pytest.raises(expected) as raised:
            await client.get_order("o-1")
    error = raised.value
    assert type(error) is expected
    assert (error.code, error.reason, error.domain, error.metadata) == (code, reason, "ibkr.local", {"k": "v"})
    assert error.message == "told you so"


async def test_a_risk_denial_carries_the_rule_and_the_metadata(server_thread: ServerThread) -> None:
    status = rich_status(
        grpc.StatusCode.FAILED_PRECONDITION, "denied by risk rule max-qty: 500 > 100", "RISK_RULE_VIOLATION",
        {"rule_id": "max-qty", "threshold": "100", "observed": "500"},
    )
    address, _ = serve(server_thread, status)
    async with AsyncClient(address, "key") as client:
        with pytest.raises(RiskRejected) as raised:
            await client.get_order("o-1")
    assert raised.value.rule_id == "max-qty"
    assert raised.value.metadata["observed"] == "500"
    assert isinstance(raised.value, FailedPrecondition)


async def test_bad_input_carries_its_field_violations(server_thread: ServerThread) -> None:
    status = rich_status(
        grpc.StatusCode.INVALID_ARGUMENT, "order.quantity: must be positive", "INVALID_FIELD",
        violations=[("order.quantity", "must be positive"), ("order.limit_price", "required for LIMIT")],
    )
    address, _ = serve(server_thread, status)
    async with AsyncClient(address, "key") as client:
        with pytest.raises(InvalidArgument) as raised:
            await client.get_order("o-1")
    fields = [(v.field, v.description) for v in raised.value.field_violations]
    assert fields == [("order.quantity", "must be positive"), ("order.limit_price", "required for LIMIT")]


async def test_a_status_without_details_falls_back_to_the_code_name_as_reason(server_thread: ServerThread) -> None:
    class PlainStatus(grpc.Status):
        code = grpc.StatusCode.NOT_FOUND
        details = "no such order"
        trailing_metadata = ()

    address, _ = serve(server_thread, PlainStatus())
    async with AsyncClient(address, "key") as client:
        with pytest.raises(NotFound) as raised:
            await client.get_order("o-1")
    assert raised.value.reason == "NOT_FOUND"
    assert raised.value.message == "no such order"
    assert raised.value.field_violations == ()


async def test_the_api_key_is_sent_as_a_bearer_authorization_header(server_thread: ServerThread) -> None:
    address, servicer = serve(server_thread, rich_status(grpc.StatusCode.NOT_FOUND, "x", "ORDER_NOT_FOUND"))
    async with AsyncClient(address, "secret-key") as client:
        with pytest.raises(NotFound):
            await client.get_order(client_order_id="c-1")
    assert servicer.headers == ["Bearer secret-key"]


def test_the_blocking_client_raises_the_same_typed_errors(server_thread: ServerThread) -> None:
    from ibkr.client import Client

    address, _ = serve(server_thread, rich_status(grpc.StatusCode.PERMISSION_DENIED, "viewer", "ROLE_REQUIRED"))
    with Client(address, "key") as client, pytest.raises(PermissionDenied) as raised:
        client.get_order("o-1")
    assert raised.value.reason == "ROLE_REQUIRED"
