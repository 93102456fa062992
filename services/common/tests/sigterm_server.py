"""A probe server run as its own process by test_shutdown: prints its port, serves until SIGTERM."""

from __future__ import annotations

import asyncio
import sys

from services.common.server import run_until_signal, set_serving
from services.common.tests.probe import SERVICE, start_probe_server


async def main() -> None:
    probe = await start_probe_server()
    await set_serving(probe.health, [SERVICE], True)

    async def close_dependencies() -> None:
        print("dependencies closed", flush=True)

    def failing_callback() -> None:
        raise RuntimeError("a failing callback must not stop the others")

    print(f"port {probe.port}", flush=True)
    await run_until_signal(
        probe.server, probe.health, grace=0.5, on_shutdown=[failing_callback, close_dependencies]
    )
    print("returned", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
    sys.exit(0)
