"""IB Gateway simulator throughput: orders/s from one ib_async client (its throttle disabled) and from a raw
pipelining client, connect+sync time, and the simulator's CPU per order; beside a raw asyncio socket echo
measured in the same run on the same machine.

The simulator runs as its own process (`python -m services.ib_gateway_sim`), as in the suite, with its
random walk ticking every 250 ms. Run: `python -m bench.bench_sim` (about 30 s).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import struct
import subprocess
import sys
import time
from pathlib import Path

from ib_async import IB, MarketOrder, Stock

from bench.stats import line, summary_ms

ORDERS = 4000
RAW_ORDERS = 8000
CONNECTS = 30
ECHO_ROUNDS = 2000
REPO = Path(__file__).resolve().parent.parent


# ------------------------------------------------------------------------------------ baseline


async def echo_baseline() -> tuple[dict[str, float], float]:
    """Round trip of one small framed message over a loopback asyncio socket, and pipelined msgs/s."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readexactly(4)
                body = await reader.readexactly(struct.unpack(">I", head)[0])
                writer.write(head + body)
        except (asyncio.IncompleteReadError, ConnectionResetError):
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    frame = _frame(["49", "1", "x" * 11])
    samples = []
    for _ in range(ECHO_ROUNDS):
        t0 = time.perf_counter()
        writer.write(frame)
        await reader.readexactly(len(frame))
        samples.append(time.perf_counter() - t0)
    n = 20000
    t0 = time.perf_counter()
    writer.write(frame * n)
    await reader.readexactly(len(frame) * n)
    pipelined = n / (time.perf_counter() - t0)
    writer.close()
    server.close()
    await server.wait_closed()
    return summary_ms(samples), pipelined


# ------------------------------------------------------------------------------------ simulator process


def start_simulator() -> tuple[subprocess.Popen, int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IBKR_")}
    env.update({"IBKR_SIM_TWS_PORT": "0", "IBKR_SIM_GRPC_PORT": "0", "IBKR_SIM_METRICS_PORT": "0",
                "IBKR_LOG_LEVEL": "INFO", "PYTHONUNBUFFERED": "1"})
    proc = subprocess.Popen([sys.executable, "-m", "services.ib_gateway_sim"], cwd=REPO, env=env,
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    assert proc.stderr is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        raw = proc.stderr.readline()
        if not raw:
            break
        try:
            entry = json.loads(raw)
        except ValueError:
            continue
        if entry.get("message") == "ready":
            return proc, int(entry["tws_port"])
    proc.kill()
    raise RuntimeError("simulator did not start")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ------------------------------------------------------------------------------------ measurements


async def connect_sync(port: int) -> dict[str, float]:
    samples = []
    for i in range(CONNECTS):
        ib = IB()
        t0 = time.perf_counter()
        await ib.connectAsync("127.0.0.1", port, clientId=100 + i, timeout=5, raiseSyncErrors=True)
        samples.append(time.perf_counter() - t0)
        ib.disconnect()
        await asyncio.sleep(0.01)
    return summary_ms(samples)


async def ib_async_orders(port: int, pid: int) -> tuple[float, float]:
    ib = IB()
    await ib.connectAsync("127.0.0.1", port, clientId=1, timeout=5, raiseSyncErrors=True)
    ib.client.MaxRequests = 0  # ib_async's own 45 msg/s throttle off
    [aapl] = await ib.qualifyContractsAsync(Stock("AAPL", "SMART", "USD"))
    done = asyncio.Event()
    count = 0

    def on_commission(trade, fill, report) -> None:
        nonlocal count
        count += 1
        if count == ORDERS:
            done.set()

    ib.commissionReportEvent += on_commission
    cpu0 = cpu_seconds(pid)
    client0 = time.process_time()
    t0 = time.perf_counter()
    for i in range(ORDERS):
        ib.placeOrder(aapl, MarketOrder("BUY" if i % 2 == 0 else "SELL", 1))
        if i % 200 == 199:
            await asyncio.sleep(0)  # let replies in, as a real client would
    await asyncio.wait_for(done.wait(), 120)
    elapsed = time.perf_counter() - t0
    cpu = cpu_seconds(pid) - cpu0
    client_cpu = time.process_time() - client0
    filled = sum(1 for t in ib.trades() if t.orderStatus.status == "Filled")
    ib.disconnect()
    assert filled == ORDERS, f"only {filled} of {ORDERS} filled"
    return ORDERS / elapsed, cpu / ORDERS, client_cpu / ORDERS


async def raw_orders(port: int, pid: int) -> tuple[float, float]:
    """Pre-encoded placeOrder frames (the ones ib_async writes), pipelined; waits for every commission."""
    sys.path.insert(0, str(REPO))
    from services.ib_gateway_sim.tests.test_fuzz import PLACE_ORDER

    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    v = b"v157..178"
    writer.write(b"API\0" + struct.pack(">I", len(v)) + v)
    writer.write(_frame(["71", "2", "2", ""]))
    frames = []
    for i in range(RAW_ORDERS):
        fields = list(PLACE_ORDER)
        fields[1] = str(1_000_000 + i)
        fields[16] = "BUY" if i % 2 == 0 else "SELL"
        fields[17] = "1"
        fields[18] = "MKT"
        fields[19] = ""
        frames.append(_frame(fields))
    cpu0 = cpu_seconds(pid)
    t0 = time.perf_counter()
    writer.write(b"".join(frames))
    seen = 0
    buf = b""
    unpack = struct.Struct(">I").unpack_from
    while seen < RAW_ORDERS:
        buf += await reader.read(1 << 20)
        pos, size = 0, len(buf)
        while size - pos >= 4:
            (n,) = unpack(buf, pos)
            if size - pos - 4 < n:
                break
            if buf[pos + 4 : pos + 7] == b"59\x00":
                seen += 1
            pos += 4 + n
        buf = buf[pos:]
    elapsed = time.perf_counter() - t0
    cpu = cpu_seconds(pid) - cpu0
    writer.close()
    return RAW_ORDERS / elapsed, cpu / RAW_ORDERS


def _frame(fields: list[str]) -> bytes:
    payload = ("\0".join(fields) + "\0").encode()
    return struct.pack(">I", len(payload)) + payload


async def main() -> None:
    logging.getLogger("ib_async").setLevel(logging.CRITICAL)
    echo, echo_rate = await echo_baseline()
    proc, port = start_simulator()
    try:
        connect = await connect_sync(port)
        rate, cpu, client_cpu = await ib_async_orders(port, proc.pid)
        raw_rate, raw_cpu = await raw_orders(port, proc.pid)
    finally:
        proc.terminate()
        proc.wait(10)
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print("baseline (same run):")
    print(line("  asyncio socket echo round trip", echo))
    print(f"  {'asyncio socket echo, pipelined':46} {echo_rate:10,.0f} msgs/s")
    print("simulator:")
    print(line("  ib_async connect + full startup sync", connect))
    print(f"  {'orders/s, one ib_async client (MKT, filled)':46} {rate:10,.0f} orders/s"
          f"   sim CPU {cpu * 1e6:6.0f} us/order   ib_async CPU {client_cpu * 1e6:6.0f} us/order")
    print(f"  {'orders/s, raw pipelined client (MKT, filled)':46} {raw_rate:10,.0f} orders/s"
          f"   sim CPU {raw_cpu * 1e6:6.0f} us/order")
    print(f"  {'simulator capacity (1 / sim CPU per order)':46} {1 / raw_cpu:10,.0f} orders/s"
          f"   target >= 2,000; one ib_async client is CPU-bound at ~{1 / client_cpu:,.0f} orders/s")
    print("  (each filled order = openOrder + orderStatus + execDetails + openOrder + orderStatus + "
          "commissionReport + account/position pushes)")


if __name__ == "__main__":
    asyncio.run(main())
