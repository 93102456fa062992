"""The bridge process SIGKILLed before send, after send and after fill, then restarted: at most one broker order
per client_order_id, and no fill missing from the bus."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from ibkr.gateway.v1 import gateway_pb2_grpc

from tools.infra import free_port

from .conftest import BusReader, until
from .test_orders_e2e import place, spec

REPO = Path(__file__).resolve().parents[3]


class BridgeProcess:
    """`python -m services.gateway_bridge` as a child process, like tools/suite.py runs it."""

    def __init__(self, env: dict[str, str], port: int, log: Path) -> None:
        self.env, self.port, self.log = env, port, log
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        with open(self.log, "ab") as out:  # noqa: ASYNC230 - a log file handed to the child, not I/O on the loop
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "services.gateway_bridge", env=self.env, cwd=REPO, stdout=out,
                stderr=asyncio.subprocess.STDOUT)

    async def wait_serving(self, timeout: float = 30.0) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with grpc.aio.insecure_channel(f"127.0.0.1:{self.port}") as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            while True:
                try:
                    reply = await stub.Check(health_pb2.HealthCheckRequest(), timeout=1)
                    if reply.status == health_pb2.HealthCheckResponse.SERVING:
                        return
                except grpc.aio.AioRpcError:
                    pass
                assert self.proc is not None and self.proc.returncode is None, self.log.read_text()[-3000:]
                assert loop.time() < deadline, self.log.read_text()[-3000:]
                await asyncio.sleep(0.05)

    async def kill(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        await self.proc.wait()


async def test_sigkill_before_send_after_send_and_after_fill_never_duplicates_or_loses_an_order(
        sim, bridge_dsn, redis_url, unique_name, tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("IBKR_")}
    env.update({
        "IBKR_DATABASE_URL": bridge_dsn, "IBKR_REDIS_URL": redis_url, "IBKR_BUS_STREAM": f"{unique_name}:events",
        "IBKR_IB_HOST": "127.0.0.1", "IBKR_IB_PORT": str(sim.tws_port), "IBKR_IB_CLIENT_ID": "1",
        "IBKR_BRIDGE_GRPC_PORT": str(port), "IBKR_BRIDGE_METRICS_PORT": "0",
        "IBKR_BRIDGE_LEASE_KEY": f"{unique_name}:lease", "IBKR_BRIDGE_LEASE_TTL_SECONDS": "1",
        "IBKR_BRIDGE_RECONNECT_INITIAL_SECONDS": "0.1", "IBKR_LOG_LEVEL": "WARNING"})
    bridge = BridgeProcess(env, port, tmp_path / "bridge.log")
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    stub = gateway_pb2_grpc.GatewayServiceStub(channel)
    bus = BusReader(redis_url, f"{unique_name}:events")

    def at_broker(coid: str) -> list:
        return [o for o in sim.orders() if o.req.order_ref == coid]

    async def fire(coid: str) -> asyncio.Task:
        task = asyncio.ensure_future(stub.PlaceOrder(place(coid, spec()), timeout=10))
        task.add_done_callback(lambda t: t.exception())  # the call may die with the process
        return task

    kill_points = {
        "before-send": lambda coid: True,  # kill as soon as the call is on its way
        "after-send": lambda coid: bool(at_broker(coid)),
        "after-fill": lambda coid: any(e.order_ref == coid for e in sim.executions()),
    }
    try:
        await bridge.start()
        await bridge.wait_serving()
        # Three kills and restarts in a row (each boot costs seconds of imports on a shared machine; set
        # IBKR_TEST_CRASH_ROUNDS to repeat the cycle more).
        for round_ in range(int(os.environ.get("IBKR_TEST_CRASH_ROUNDS", "1"))):
            for point, reached in kill_points.items():
                coid = f"{unique_name}-{point}-{round_}"
                await fire(coid)
                await until(lambda coid=coid, reached=reached: reached(coid))
                await bridge.kill()
                await bridge.start()
                await bridge.wait_serving()
                retry = await stub.PlaceOrder(place(coid, spec()), timeout=10)  # the same request again
                assert retry.order.client_order_id == coid
                assert len(at_broker(coid)) <= 1, f"{point}: a second broker order for {coid}"
        executions = {e.exec_id for e in sim.executions()}

        async def all_fills_published() -> bool:
            published = {e.fill.execution_id for e in await bus.events() if e.WhichOneof("payload") == "fill"}
            return executions <= published

        for _ in range(500):
            if await all_fills_published():
                break
            await asyncio.sleep(0.02)
        assert await all_fills_published(), "a broker execution never reached the bus"
        for coid in {o.req.order_ref for o in sim.orders()}:
            assert len(at_broker(coid)) == 1
    finally:
        await channel.close()
        await bus.close()
        if bridge.proc is not None and bridge.proc.returncode is None:
            await bridge.kill()
