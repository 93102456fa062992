"""Internal token: attached by the internal channel, enforced by the server interceptor."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from opentelemetry.trace import NoOpTracerProvider
from pydantic import SecretStr

from services.common.channels import InternalAuthServerInterceptor, make_internal_channel
from services.common.config import CommonSettings
from services.common.errors import Unauthenticated, domain_error_from_rpc_error
from services.common.tests.probe import STREAM, UNARY, ProbeServer, finished_spans, start_probe_server

TOKEN = "s3cr3t-token"


@pytest.fixture
async def guarded() -> AsyncIterator[ProbeServer]:
    settings = CommonSettings(internal_token=SecretStr(TOKEN))
    server = await start_probe_server(settings, (InternalAuthServerInterceptor(settings.internal_token),))
    yield server
    await server.server.stop(None)


def channel_with(address: str, token: str | None) -> grpc.aio.Channel:
    settings = CommonSettings(internal_token=SecretStr(token) if token else None)
    return make_internal_channel(address, NoOpTracerProvider(), settings)


async def test_call_with_the_right_token_passes(guarded: ProbeServer) -> None:
    async with channel_with(guarded.address, TOKEN) as channel:
        assert await channel.unary_unary(UNARY)(b"ok", timeout=5) == b"ok"
        assert [m async for m in channel.unary_stream(STREAM)(b"stream:1", timeout=5)] == [b"0"]


@pytest.mark.parametrize(
    ("token", "reason"), [(None, "INTERNAL_TOKEN_MISSING"), ("wrong", "INTERNAL_TOKEN_INVALID")]
)
async def test_call_without_the_right_token_is_unauthenticated(guarded: ProbeServer, token, reason) -> None:
    async with channel_with(guarded.address, token) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as unary:
            await channel.unary_unary(UNARY)(b"ok", timeout=5)
        with pytest.raises(grpc.aio.AioRpcError) as stream:
            [m async for m in channel.unary_stream(STREAM)(b"stream:1", timeout=5)]

    for caught in (unary, stream):
        err = domain_error_from_rpc_error(caught.value)
        assert isinstance(err, Unauthenticated)
        assert err.reason == reason
    await finished_spans(guarded, 2)
    value = guarded.registry.get_sample_value
    assert (
        value(
            "grpc_server_handled_total",
            {
                "grpc_service": "ibkr.test.v1.ProbeService",
                "grpc_method": "Unary",
                "grpc_type": "unary",
                "grpc_code": "UNAUTHENTICATED",
            },
        )
        == 1
    )


async def test_health_needs_no_token(guarded: ProbeServer) -> None:
    async with channel_with(guarded.address, None) as channel:
        response = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
    assert response.status == health_pb2.HealthCheckResponse.NOT_SERVING


async def test_no_configured_token_disables_the_check() -> None:
    server = await start_probe_server(CommonSettings(), (InternalAuthServerInterceptor(None),))
    try:
        async with channel_with(server.address, None) as channel:
            assert await channel.unary_unary(UNARY)(b"ok", timeout=5) == b"ok"
    finally:
        await server.server.stop(None)
