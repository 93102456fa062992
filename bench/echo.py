"""The raw gRPC baseline: a unary and a server-streaming echo over loopback with grpc.aio and no protobuf,
no interceptors and no work, i.e. the cost of one gRPC hop on this machine right now. `ServerProcess` runs a
server (the echo or any other) in a process of its own, as production runs every hop."""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from collections.abc import Awaitable, Callable
from multiprocessing.connection import Connection
from typing import Any, Self

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


async def start_echo_server(parse: Callable[[bytes], bytes] = _identity,
                            serialize: Callable[[bytes], bytes] = _identity) -> tuple[grpc.aio.Server, int]:
    """A server offering bench.Echo/Unary and bench.Echo/Stream on an ephemeral loopback port (Unary's request
    deserializer and response serializer may be replaced, e.g. by timed identities)."""
    server = grpc.aio.server()
    handlers = {
        "Unary": grpc.unary_unary_rpc_method_handler(_unary, parse, serialize),
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


# -- servers in their own process ----------------------------------------------------------------------------
# In production every hop's server is a process of its own. Measured in one process, the client's CPU and the
# server's share one interpreter and one event loop, so every figure carries both; these helpers run a server
# in a child process (spawned: a fresh interpreter) and talk to it over a pipe: its port, a "mark" when the
# warm-up is over, and "stop", which returns what the server measured since the mark plus its process CPU time.


class Served:
    """What a server started in a child reports: its port, a hook run at the mark, and its results."""

    def __init__(self, port: int, finish: Callable[[], Awaitable[dict[str, Any]]] | None = None,
                 mark: Callable[[], None] | None = None) -> None:
        self.port = port
        self.finish = finish
        self.mark = mark


ServeTarget = Callable[..., Awaitable[Served]]


def _child_main(conn: Connection, target: ServeTarget, args: tuple) -> None:
    asyncio.run(_child(conn, target, args))


async def _child(conn: Connection, target: ServeTarget, args: tuple) -> None:
    served = await target(*args)
    conn.send(served.port)
    loop = asyncio.get_running_loop()
    cpu0 = time.process_time()
    while (message := await loop.run_in_executor(None, conn.recv)) != "stop":
        if message == "mark":
            cpu0 = time.process_time()
            if served.mark is not None:
                served.mark()
            conn.send("marked")
    cpu = time.process_time() - cpu0
    result = await served.finish() if served.finish is not None else {}
    conn.send({**result, "cpu_seconds": cpu})


class ServerProcess:
    """`target(*args)` (an async function returning `Served`) serving in a spawned child process.

    with ServerProcess(serve_echo) as echo:   # echo.port
        ...; echo.mark(); ...
        results = echo.stop()                  # what the server measured since the mark, and its CPU time
    """

    def __init__(self, target: ServeTarget, *args: Any, start_timeout: float = 60.0) -> None:
        self._conn, child = multiprocessing.get_context("spawn").Pipe()
        self._process = multiprocessing.get_context("spawn").Process(
            target=_child_main, args=(child, target, args), daemon=True)
        self._process.start()
        child.close()
        if not self._conn.poll(start_timeout):
            self._process.kill()
            raise RuntimeError(f"{getattr(target, '__name__', target)} did not start in {start_timeout} s")
        self.port: int = self._conn.recv()
        self.results: dict[str, Any] | None = None

    def mark(self) -> None:
        """Start measuring now (the warm-up is over); returns once the server has, so no call is missed."""
        self._conn.send("mark")
        if not self._conn.poll(30) or self._conn.recv() != "marked":
            raise RuntimeError("server process did not acknowledge the mark")

    def stop(self, timeout: float = 30.0) -> dict[str, Any]:
        """Stop the server; returns its results (`cpu_seconds`: the child's CPU time since the mark)."""
        if self.results is None:
            self._conn.send("stop")
            if not self._conn.poll(timeout):
                self._process.kill()
                raise RuntimeError("server process did not stop in time")
            self.results = self._conn.recv()
            self._process.join(timeout)
        return self.results

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.results is None:
            try:
                self.stop()
            finally:
                if self._process.is_alive():
                    self._process.kill()


async def serve_echo() -> Served:
    """The raw echo, as a `ServerProcess` target: `ServerProcess(serve_echo)`."""
    server, port = await start_echo_server()

    async def finish() -> dict[str, Any]:
        await server.stop(0)
        return {}

    return Served(port, finish)


def echo_call(channel: grpc.aio.Channel) -> grpc.aio.UnaryUnaryMultiCallable:
    """The unary echo method on a channel to an echo server."""
    return channel.unary_unary(f"/{_SERVICE}/Unary", _identity, _identity)


if __name__ == "__main__":
    asyncio.run(_main())
