"""SIGTERM in a real process: health NOT_SERVING first, then stop(grace), then the shutdown callbacks."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.common.server import run_until_signal, set_serving
from services.common.tests.probe import SERVICE, start_probe_server

REPO_ROOT = Path(__file__).resolve().parents[3]
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


async def test_sigterm_sets_not_serving_then_stops_and_runs_shutdown_callbacks() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.common.tests.sigterm_server",
        cwd=REPO_ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        line = (await asyncio.wait_for(process.stdout.readline(), 20)).decode()
        assert line.startswith("port "), line
        port = int(line.split()[1])

        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            watch = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest(service=SERVICE))
            seen = [(await watch.read()).status]
            process.send_signal(signal.SIGTERM)
            seen.append((await asyncio.wait_for(watch.read(), 10)).status)
            await asyncio.wait_for(watch.code(), 10)  # the stream is ended by stop(grace)

        out, err = await asyncio.wait_for(process.communicate(), 20)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()

    assert seen == [SERVING, NOT_SERVING]
    assert process.returncode == 0, err.decode()
    assert out.decode().splitlines() == ["dependencies closed", "returned"]
    assert "shutdown callback failed" in err.decode()


async def test_stop_event_shuts_down_in_process_and_late_readiness_cannot_undo_it() -> None:
    probe = await start_probe_server()
    await set_serving(probe.health, [SERVICE], True)
    stop = asyncio.Event()
    calls: list[str] = []

    async def closing() -> None:
        calls.append("closed")

    runner = asyncio.create_task(
        run_until_signal(probe.server, probe.health, grace=0.1, on_shutdown=[closing], stop=stop)
    )
    await asyncio.sleep(0)
    stop.set()
    await asyncio.wait_for(runner, 10)

    assert calls == ["closed"]
    await set_serving(probe.health, [SERVICE], True)
    request = health_pb2.HealthCheckRequest(service=SERVICE)
    assert (await probe.health.Check(request, None)).status == NOT_SERVING
