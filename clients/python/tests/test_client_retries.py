"""Retries come from the channel's service config and apply to UNAVAILABLE only.

The server is an edge double (see edge_doubles) that fails a scripted number of times: the real edge
cannot be made to answer UNAVAILABLE on demand.
"""

from __future__ import annotations

import json

import grpc
import pytest
from edge_doubles import (
    ServerThread,
    rich_status,
    server_thread_fixture,  # noqa: F401 (the server_thread fixture)
)
from ibkr.client import AsyncClient, InvalidArgument, RetryPolicy, Unavailable
from ibkr.client.channel import PUBLIC_SERVICES, service_config
from ibkr.edge.v1 import portfolio_service_pb2, portfolio_service_pb2_grpc
from ibkr.trading.v1 import portfolio_pb2

FAST = RetryPolicy(max_attempts=5, initial_backoff_seconds=0.01, max_backoff_seconds=0.05)


class FlakyPortfolio(portfolio_service_pb2_grpc.PortfolioServiceServicer):
    """GetAccount fails with `failure` for the first `failures` calls, then answers."""

    def __init__(self, failure: grpc.Status, failures: int) -> None:
        self.failure = failure
        self.failures = failures
        self.attempts = 0

    async def GetAccount(self, request, context):
        self.attempts += 1
        if self.attempts <= self.failures:
            await context.abort_with_status(self.failure)
        return portfolio_service_pb2.GetAccountResponse(
            account=portfolio_pb2.AccountSummary(account_id=request.account_id or "DU1")
        )


def serve(server_thread: ServerThread, servicer: FlakyPortfolio) -> str:
    return server_thread.serve((portfolio_service_pb2_grpc.add_PortfolioServiceServicer_to_server, servicer))


async def test_unavailable_twice_then_ok_succeeds_on_the_third_attempt(server_thread: ServerThread) -> None:
    servicer = FlakyPortfolio(rich_status(grpc.StatusCode.UNAVAILABLE, "broker down", "BROKER_UNAVAILABLE"), 2)
    async with AsyncClient(serve(server_thread, servicer), "key", retry=FAST) as client:
        account = await client.get_account(account_id="DU9")
    assert account.account_id == "DU9"
    assert servicer.attempts == 3


async def test_invalid_argument_is_never_retried(server_thread: ServerThread) -> None:
    servicer = FlakyPortfolio(rich_status(grpc.StatusCode.INVALID_ARGUMENT, "bad", "INVALID_FIELD"), 1)
    async with AsyncClient(serve(server_thread, servicer), "key", retry=FAST) as client:
        with pytest.raises(InvalidArgument):
            await client.get_account()
    assert servicer.attempts == 1


async def test_unavailable_beyond_max_attempts_raises_unavailable(server_thread: ServerThread) -> None:
    servicer = FlakyPortfolio(rich_status(grpc.StatusCode.UNAVAILABLE, "down", "BROKER_UNAVAILABLE"), 100)
    policy = RetryPolicy(max_attempts=3, initial_backoff_seconds=0.01, max_backoff_seconds=0.02)
    async with AsyncClient(serve(server_thread, servicer), "key", retry=policy) as client:
        with pytest.raises(Unavailable) as raised:
            await client.get_account()
    assert raised.value.reason == "BROKER_UNAVAILABLE"
    assert servicer.attempts == 3


def test_the_service_config_retries_only_unavailable_on_every_public_service() -> None:
    config = json.loads(service_config(RetryPolicy()))
    [method_config] = config["methodConfig"]
    assert {name["service"] for name in method_config["name"]} == set(PUBLIC_SERVICES)
    assert method_config["retryPolicy"]["retryableStatusCodes"] == ["UNAVAILABLE"]
    assert method_config["retryPolicy"]["maxAttempts"] == 5


def test_the_public_services_listed_are_exactly_those_of_the_edge_protos() -> None:
    from ibkr.edge.v1 import (
        admin_service_pb2,
        event_service_pb2,
        market_data_service_pb2,
        trading_service_pb2,
    )

    modules = (admin_service_pb2, event_service_pb2, market_data_service_pb2, portfolio_service_pb2,
               trading_service_pb2)
    declared = {s.full_name for m in modules for s in m.DESCRIPTOR.services_by_name.values()}
    assert declared == set(PUBLIC_SERVICES)
