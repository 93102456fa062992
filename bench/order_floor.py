"""The floor under PlaceOrder→ack at 10 orders/s, measured in the same run as the suite's orders.

What the order path cannot avoid, each measured alone at the orders' pace: three cross-process gRPC hops
(client→edge, edge→risk, risk→bridge; `bench.echo_process`'s echo server in its own process, called once per
round), the intent's durable INSERT (asyncpg, synchronous_commit on, the suite's own database server, the
statement `bench.bench_bridge.measure_intent_commit` times) and raw ib_async placeOrder→Submitted of a market
order against the suite's simulator (the acknowledgement `bench.bench_bridge.measure_raw_ib` waits for).

The four take turns inside every 100 ms round, each at a fixed offset, so each is called exactly 10 times a
second, all see the same machine load, and a run costs one pass instead of four. The offsets keep each call
clear of the previous one's after-effects on a quiet machine (the suite order's fill cascade, the raw order's
account and position pushes).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable

import asyncpg
import grpc
from ib_async import IB, MarketOrder, Stock
from ibkr.edge.v1 import trading_service_pb2_grpc

from bench.bench_bridge import INTENT_INSERT, INTENT_SPEC, INTENT_TABLE, raw_submitted
from bench.echo import _identity
from bench.echo_process import start_echo_child

ROUND_SECONDS = 0.1  # 10 of each call per second
# Offset of each call inside a round (seconds), in the order they run.
OFFSETS = {"raw_ib": 0.0, "suite": 0.030, "hop": 0.065, "insert": 0.080}
RAW_CLIENT_ID = 9  # the suite's bridge is client 1


async def measure_with_floor(edge_address: str, key: str, database_url: str, tws_port: int, orders: int,
                             place: Callable[[trading_service_pb2_grpc.TradingServiceStub, int,
                                              tuple[tuple[str, str], ...]], Awaitable[object]],
                             warmed_up: Callable[[], None] = lambda: None,
                             warmup: int = 10) -> dict[str, list[float]]:
    """Round trips (seconds) per kind ("suite", "hop", "insert", "raw_ib") over `orders` measured rounds.

    `place(stub, n, metadata)` sends the suite's n-th order; `warmed_up` runs after the warm-up rounds.
    """
    logging.getLogger("ib_async").setLevel(logging.CRITICAL)
    child, echo_port = await start_echo_child()
    conn = await asyncpg.connect(database_url, server_settings={"synchronous_commit": "on"})
    ib = IB()
    try:
        await conn.execute(INTENT_TABLE)
        await ib.connectAsync("127.0.0.1", tws_port, clientId=RAW_CLIENT_ID, timeout=30)
        [contract] = await ib.qualifyContractsAsync(Stock("AAPL", "SMART", "USD"))
        run = uuid.uuid4().hex[:8]
        auth = (("authorization", f"Bearer {key}"),)
        async with grpc.aio.insecure_channel(edge_address) as edge, \
                grpc.aio.insecure_channel(f"127.0.0.1:{echo_port}") as echo_channel:
            stub = trading_service_pb2_grpc.TradingServiceStub(edge)
            echo = echo_channel.unary_unary("/bench.Echo/Unary", _identity, _identity)

            async def raw_ib(n: int) -> None:
                await raw_submitted(ib, contract, MarketOrder("BUY" if n % 2 == 0 else "SELL", 1,
                                                              orderRef=f"floor-{run}-{n}"))

            async def insert(n: int) -> None:
                await conn.fetchrow(INTENT_INSERT, f"{run}-{n}", INTENT_SPEC)

            calls: dict[str, Callable[[int], Awaitable[object]]] = {
                "raw_ib": raw_ib, "suite": lambda n: place(stub, n, auth),
                "hop": lambda n: echo(b"x" * 200, timeout=10), "insert": insert}
            samples: dict[str, list[float]] = {name: [] for name in OFFSETS}
            round_at = time.perf_counter()
            for n in range(warmup + orders):
                if n == warmup:
                    warmed_up()
                    samples = {name: [] for name in OFFSETS}
                for name, offset in OFFSETS.items():
                    await asyncio.sleep(max(0.0, round_at + offset - time.perf_counter()))
                    t0 = time.perf_counter()
                    await calls[name](n)
                    samples[name].append(time.perf_counter() - t0)
                round_at += ROUND_SECONDS
            return samples
    finally:
        ib.disconnect()
        await conn.close()
        child.terminate()
        await child.wait()
