"""The raw gRPC baseline: a unary and a server-streaming echo over loopback with grpc.aio and no protobuf,
no interceptors and no work, i.e. the cost of one gRPC hop on this machine right now."""

from __future__ import annotations

import asyncio
import time

import grpc

_SERVICE = "bench.Echo"


def _identity(payload: bytes) -> bytes:
    return payload


async def _unary(request: bytes, context) -> bytes:
    return request


async def _stream(request: bytes, context):
    count = int(request or b"1")
    for _ in range(count):
        yield time.perf_counter_ns().to_bytes(8, "big")


async def start_echo_server() -> tuple[grpc.aio.Server, int]:
    """A server offering bench.Echo/Unary and bench.Echo/Stream on an ephemeral loopback port."""
    server = grpc.aio.server()
    handlers = {
        "Unary": grpc.unary_unary_rpc_method_handler(_unary, _identity, _identity),
        "Stream": grpc.unary_stream_rpc_method_handler(_stream, _identity, _identity),
    }
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(_SERVICE, handlers),))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    return server, port


async def measure_unary_echo(n: int = 500, payload: bytes = b"x" * 200, warmup: int = 50) -> list[float]:
    """Sequential unary echo round trips (seconds), after a warm-up."""
    server, port = await start_echo_server()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            call = channel.unary_unary(f"/{_SERVICE}/Unary", _identity, _identity)
            for _ in range(warmup):
                await call(payload)
            samples = []
            for _ in range(n):
                t0 = time.perf_counter()
                await call(payload)
                samples.append(time.perf_counter() - t0)
            return samples
    finally:
        await server.stop(0)


async def _main() -> None:
    from bench.stats import line, summary_ms

    print(line("raw gRPC unary echo (loopback)", summary_ms(await measure_unary_echo())))


if __name__ == "__main__":
    asyncio.run(_main())
