"""The raw gRPC hop as the services pay it: the echo server in its own process, called at a steady rate.

`bench.echo` measures back-to-back calls with client and server on one event loop: the cheapest a hop can be.
Between two processes at an order rate (tens per second) each side has gone idle before the next call, and
waking grpc's poller thread and the event loop on both sides costs more than the call itself (on the 2-core
VMs measured, 0.35 ms back to back became 1.2-1.3 ms at 30/s). A latency measured at that rate between
processes is only comparable with a hop measured the same way.
Run `python -m bench.echo_process` to print both.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import grpc

from bench.echo import _identity, measure_unary_echo, start_echo_server

_UNARY = "/bench.Echo/Unary"


async def _serve() -> None:
    server, port = await start_echo_server()
    print(port, flush=True)
    await server.wait_for_termination()


async def start_echo_child() -> tuple[asyncio.subprocess.Process, int]:
    """The echo server in a child process; returns (the process, its port). Terminate it when done."""
    child = await asyncio.create_subprocess_exec(sys.executable, "-m", "bench.echo_process", "--serve",
                                                 cwd=Path(__file__).resolve().parent.parent,
                                                 stdout=asyncio.subprocess.PIPE)
    assert child.stdout is not None
    return child, int(await child.stdout.readline())


async def measure_unary_echo_between_processes(n: int, rate_per_second: float, warmup: int = 20,
                                               payload: bytes = b"x" * 200) -> list[float]:
    """Unary echo round trips (seconds) to an echo server in a child process, one call every
    1/rate_per_second seconds (0: back to back)."""
    child, port = await start_echo_child()
    try:
        period = 1 / rate_per_second if rate_per_second else 0.0
        samples = []
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            call = channel.unary_unary(_UNARY, _identity, _identity)
            for i in range(n + warmup):
                started = time.perf_counter()
                await call(payload, timeout=10)
                elapsed = time.perf_counter() - started
                if i >= warmup:
                    samples.append(elapsed)
                if period:
                    await asyncio.sleep(max(0.0, period - elapsed))
        return samples
    finally:
        child.terminate()
        await child.wait()


async def _main() -> None:
    from bench.stats import line, summary_ms

    print(line("raw gRPC unary echo, one process, back to back", summary_ms(await measure_unary_echo())))
    print(line("raw gRPC unary echo, two processes, back to back",
               summary_ms(await measure_unary_echo_between_processes(300, 0))))
    print(line("raw gRPC unary echo, two processes, 30/s",
               summary_ms(await measure_unary_echo_between_processes(150, 30))))


if __name__ == "__main__":
    asyncio.run(_serve() if sys.argv[1:] == ["--serve"] else _main())
