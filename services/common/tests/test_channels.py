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
from services.common.tests.probe import (
    COLLECT,
    ECHO,
    ECHO_WRITTEN,
    STREAM,
    UNARY,
    ProbeServer,
    finished_spans,
    start_probe_server,
)

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


async def _nothing() -> AsyncIterator[bytes]:
    # No request at all: the client has half-closed before the refusal, so the status it sees is the server's
    # (a refusal racing the client's writes can reach it as a transport error instead).
    return
    yield


@pytest.mark.parametrize("token", [None, TOKEN])
async def test_client_and_bidi_streams_are_behind_the_token_too(guarded: ProbeServer, token) -> None:
    codes = {}
    async with channel_with(guarded.address, token) as channel:
        for method, call in ((COLLECT, channel.stream_unary(COLLECT)), (ECHO, channel.stream_stream(ECHO)),
                             (ECHO_WRITTEN, channel.stream_stream(ECHO_WRITTEN))):
            try:
                answer = call(_nothing(), timeout=5)
                await answer if method == COLLECT else [m async for m in answer]
                codes[method] = grpc.StatusCode.OK
            except grpc.aio.AioRpcError as err:
                codes[method] = err.code()
                assert domain_error_from_rpc_error(err).reason == "INTERNAL_TOKEN_MISSING"
    expected = grpc.StatusCode.OK if token else grpc.StatusCode.UNAUTHENTICATED
    assert codes == dict.fromkeys((COLLECT, ECHO, ECHO_WRITTEN), expected)
    await finished_spans(guarded, 3)
    value = guarded.registry.get_sample_value
    for method, kind in (("Collect", "client_stream"), ("Echo", "bidi_stream"), ("EchoWritten", "bidi_stream")):
        labels = {"grpc_service": "ibkr.test.v1.ProbeService", "grpc_method": method, "grpc_type": kind,
                  "grpc_code": expected.name}
        assert value("grpc_server_handled_total", labels) == 1


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
