"""grpc_server_* observations made on the loop turn after the response (tracing without an exporter, so no
exemplar): none is lost for errors, aborts, streams, client cancels and a server stopped with a call in flight."""
from __future__ import annotations

import asyncio

import grpc
import pytest

from services.common.config import CommonSettings
from services.common.metrics import GrpcServerMetrics, new_registry
from services.common.server import ServiceSpec, build_server
from services.common.telemetry import build_tracer_provider
from services.common.tests.probe import SERVICE, STREAM, UNARY, ProbeServicer, add_probe_to_server


def handled(registry, method):
    return {s.labels["grpc_code"]: s.value for f in registry.collect() for s in f.samples
            if s.name == "grpc_server_handled_total" and s.labels["grpc_method"] == method}


async def test_deferred_observations_are_all_made() -> None:
    settings = CommonSettings()
    registry = new_registry()
    server, port, _ = await build_server(
        services=[ServiceSpec(add_probe_to_server, ProbeServicer(), SERVICE)], settings=settings, port=0,
        tracer_provider=build_tracer_provider("probe", settings), metrics=GrpcServerMetrics(registry))
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as ch:
        unary, stream = ch.unary_unary(UNARY), ch.unary_stream(STREAM)
        assert await unary(b"ok", timeout=5) == b"ok"
        for req in (b"invalid", b"boom"):
            with pytest.raises(grpc.aio.AioRpcError):
                await unary(req, timeout=5)
        assert [m async for m in stream(b"stream:3", timeout=5)] == [b"0", b"1", b"2"]
        with pytest.raises(grpc.aio.AioRpcError):
            [m async for m in stream(b"stream-invalid", timeout=5)]
        call = unary(b"slow", timeout=5)
        await asyncio.sleep(0.2)
        call.cancel()
        await asyncio.sleep(0.2)
        inflight = asyncio.ensure_future(unary(b"slow", timeout=5))
        await asyncio.sleep(0.2)
        await server.stop(0)
        with pytest.raises(grpc.aio.AioRpcError):
            await inflight
    await asyncio.sleep(0.1)
    assert handled(registry, "Unary") == {"OK": 1.0, "INVALID_ARGUMENT": 1.0, "INTERNAL": 1.0, "CANCELLED": 2.0}
    assert handled(registry, "Stream") == {"OK": 1.0, "INVALID_ARGUMENT": 1.0}
