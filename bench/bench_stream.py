"""Stream fan-out through the edge: bus → edge hub → N StreamEvents subscribers, beside a raw gRPC fan-out.

    python -m bench.bench_stream            (under 3 minutes)

Scenarios (issue 7 goals in brackets): 100 subscribers × 100 events/s [p99 ≤ 25 ms] and 500 subscribers ×
10 events/s [p99 ≤ 100 ms]. Lag = client receive wall time − the event's `event_time`, stamped just before
XADD, so it covers Redis, the edge's one reader, its fan-out and the gRPC stream. The baseline runs the same
shapes, fed by the same publisher through Redis, against a bare grpc.aio server that XREADs the stream and
hands each entry's bytes to per-subscriber queues (no parsing, filters, auth, interceptors or tokens): what
Redis and gRPC alone cost here, in the same run, over exactly the span the edge is measured on. Then edge memory per idle subscriber, from
its RSS with 0 and with 1,000 idle streams (10 shared connections) [≤ 64 KB].

    python -m bench.bench_stream --only 100x100 --client python     (one scenario; grpc.aio subscribers)

Fairness on a small machine: the edge (or the baseline server), the publisher and the subscribers each run in
their own processes (subscribers split over WORKERS processes), so neither side starves the other inside one
event loop. Subscribers are Node (@grpc/grpc-js, `bench/stream_subscriber.js`) when `clients/node` has its
modules installed (`make node-client`), else grpc.aio: Node costs about half the CPU per received message, and
every core-second the clients burn is one the measured server cannot have. Each row prints the CPU the server
and the subscribers used during the measurement and the load average, so a saturated run shows as one.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import grpc
import redis.asyncio as aioredis
from ibkr.edge.v1 import event_service_pb2 as events
from ibkr.trading.v1 import event_pb2, order_pb2

from bench.stats import line, summary_ms
from services.common.bus import EventBus

WARMUP_S = 2.0
MEASURE_S = 6.0
SCENARIOS = ((100, 100), (500, 10))  # (subscribers, events per second)
IDLE_SUBSCRIBERS = 1000
CHANNELS = 10
ACCOUNT = "DU1234567"
_RAW = "bench.Fan"


# -- the raw baseline server (runs in its own process) ------------------------------------------------------

async def _raw_server(redis_url: str, stream: str) -> None:
    """The minimal bus fan-out: XREAD the stream, hand each entry's event bytes to per-subscriber queues.

    The same span as the edge (XADD → Redis → one reader → gRPC stream → client, lag stamped before XADD by
    the same publisher in another process) with nothing else: no parsing, no filters, no auth, no interceptors,
    no resume tokens. A stream whose 1,024-entry queue is full drops entries (the edge would cut it).
    """
    queues: set[asyncio.Queue] = set()

    async def subscribe(request: bytes, context):
        queue: asyncio.Queue = asyncio.Queue(maxsize=1024)
        queues.add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            queues.discard(queue)

    async def reader() -> None:
        redis = aioredis.Redis.from_url(redis_url)
        last = "$"
        while True:
            reply = await redis.xread({stream: last}, count=500, block=1000)
            for _name, entries in reply or ():
                for entry_id, fields in entries:
                    last = entry_id
                    for queue in tuple(queues):
                        if not queue.full():
                            queue.put_nowait(fields[b"event"])

    server = grpc.aio.server()
    handler = grpc.unary_stream_rpc_method_handler(subscribe, lambda b: b, lambda b: b)
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(_RAW, {"Subscribe": handler}),))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    task = asyncio.create_task(reader())
    await asyncio.sleep(0.2)  # the first XREAD is parked on "$" before the port is announced
    print(port, flush=True)
    await server.wait_for_termination()
    task.cancel()


def _spawn(argv: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, *argv], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True, start_new_session=True)


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


WORKERS = 2
NODE_WORKER = Path(__file__).with_name("stream_subscriber.js")
NODE_MODULES = Path(__file__).resolve().parent.parent / "clients" / "node" / "node_modules" / "@grpc" / "grpc-js"


def default_client() -> str:
    """Node subscribers when its modules and a node binary are there, else grpc.aio ones."""
    return "node" if NODE_MODULES.is_dir() and shutil.which("node") else "python"


CLIENT = default_client()


async def _consume_worker(target: str, key: str, subscribers: int, seconds: float) -> None:
    """A subscriber process: open streams, wait for 'go' on stdin, record lags for `seconds`, print them."""
    channels = [grpc.aio.insecure_channel(target) for _ in range(max(1, CHANNELS // WORKERS))]
    if key:
        method = [c.unary_stream("/ibkr.edge.v1.EventService/StreamEvents",
                                 request_serializer=events.StreamEventsRequest.SerializeToString,
                                 response_deserializer=events.StreamEventsResponse.FromString) for c in channels]
        calls = [method[i % len(method)](events.StreamEventsRequest(skip_snapshot=True),
                                         metadata=(("authorization", f"Bearer {key}"),)) for i in range(subscribers)]
        decode = _event_sent_ns
    else:
        method = [c.unary_stream(f"/{_RAW}/Subscribe", lambda b: b, lambda b: b) for c in channels]
        calls = [method[i % len(method)](b"") for i in range(subscribers)]
        decode = _raw_sent_ns
    samples: list[float] = []
    measuring = asyncio.Event()
    cut = [0]

    async def consume(call) -> None:
        try:
            async for frame in call:
                sent_ns = decode(frame)
                if sent_ns is not None and measuring.is_set():
                    samples.append((time.time_ns() - sent_ns) / 1e9)
        except grpc.aio.AioRpcError as err:
            if err.code() == grpc.StatusCode.RESOURCE_EXHAUSTED:
                cut[0] += 1

    tasks = [asyncio.create_task(consume(c)) for c in calls]
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)  # warm-up is over
    measuring.set()
    await asyncio.sleep(seconds)
    measuring.clear()
    for call in calls:
        call.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    print(cut[0], " ".join(f"{x:.6f}" for x in samples), flush=True)


def _raw_sent_ns(frame: bytes) -> int:
    return event_pb2.Event.FromString(frame).event_time.ToNanoseconds()


def _worker(target: str, key: str, subscribers: int) -> subprocess.Popen:
    if CLIENT == "node":
        argv = ["node", str(NODE_WORKER), target, key or "-", str(subscribers), str(MEASURE_S),
                str(max(1, CHANNELS // WORKERS))]
    else:
        argv = [sys.executable, "-m", "bench.bench_stream", "--worker", target, key or "-", str(subscribers),
                str(MEASURE_S)]
    return subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (its threads included)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Run:
    """One scenario's result: lags (seconds), streams cut, and the CPU each side used while measuring."""

    lags: list[float]
    cut: int
    server_cores: float
    client_cores: float
    load: float

    skipped: int = 0

    def note(self) -> str:
        return (f"cpu: server {self.server_cores:.2f} cores, subscribers {self.client_cores:.2f} cores "
                f"({CLIENT}); load {self.load:.2f}; publisher skipped {self.skipped} ticks")


async def _measure(target: str, key: str, subscribers: int, server_pid: int, start_load, stop_load) -> Run:
    """Spread `subscribers` over worker processes, run the load; lags after the warm-up, streams cut, CPU."""
    share = [subscribers // WORKERS + (1 if i < subscribers % WORKERS else 0) for i in range(WORKERS)]
    workers = [_worker(target, key, n) for n in share]
    try:
        loop = asyncio.get_running_loop()
        # Bounded waits: a worker that died or hung fails the run instead of hanging the benchmark.
        for worker in workers:
            ready = await asyncio.wait_for(loop.run_in_executor(None, worker.stdout.readline), 60)
            if ready.strip() != "ready":
                raise RuntimeError(f"subscriber worker failed to start (exit code {worker.poll()})")
        await asyncio.sleep(1.0)  # every stream established
        await start_load()
        await asyncio.sleep(WARMUP_S)
        started = time.monotonic()
        cpu0 = [cpu_seconds(p) for p in (server_pid, *(w.pid for w in workers))]
        for worker in workers:
            worker.stdin.write("go\n")
            worker.stdin.flush()
        await asyncio.sleep(MEASURE_S)
        cpu1 = [cpu_seconds(p) for p in (server_pid, *(w.pid for w in workers))]
        elapsed, load = time.monotonic() - started, os.getloadavg()[0]
        outputs = [await asyncio.wait_for(loop.run_in_executor(None, w.stdout.readline), 60) for w in workers]
        await stop_load()
        rows = [out.split() for out in outputs]
        used = [(b - a) / elapsed for a, b in zip(cpu0, cpu1, strict=True)]
        return Run([float(x) for row in rows for x in row[1:]], sum(int(row[0]) for row in rows if row),
                   used[0], sum(used[1:]), load)
    finally:
        for worker in workers:
            _stop(worker)


async def bench_raw(redis_url: str, redis: aioredis.Redis, subscribers: int, rate: float) -> Run:
    stream = f"bench:{uuid.uuid4().hex[:8]}:raw"
    proc = _spawn(["-m", "bench.bench_stream", "--raw-server", redis_url, stream])
    publisher = Publisher(EventBus(redis, stream, maxlen=100_000), rate)
    try:
        port = int(proc.stdout.readline())
        run = await _measure(f"127.0.0.1:{port}", "", subscribers, proc.pid, publisher.start, publisher.stop)
        run.skipped = publisher.skipped
        return run
    finally:
        _stop(proc)
        await redis.delete(stream)


# -- the edge ------------------------------------------------------------------------------------------------

class EdgeProcess:
    """`python -m services.edge` on free ports against the local Redis, with one bench key."""

    def __init__(self, redis_url: str, run_dir: Path) -> None:
        from services.edge.keys import ApiKeyStore
        from tools import infra

        self.port = infra.free_port()
        self.stream = f"bench:{uuid.uuid4().hex[:8]}:events"
        self.redis_url = redis_url
        keys = run_dir / "keys.json"
        self.key = ApiKeyStore(keys).create(name="bench", role="viewer", accounts=[ACCOUNT])
        env = {k: v for k, v in os.environ.items() if not k.startswith("IBKR_")}
        env.update({"IBKR_EDGE_GRPC_PORT": str(self.port), "IBKR_EDGE_METRICS_PORT": "0",
                    "IBKR_REDIS_URL": redis_url, "IBKR_BUS_STREAM": self.stream, "IBKR_EDGE_API_KEYS_FILE": str(keys),
                    "IBKR_EDGE_MAX_STREAMS_PER_KEY": "5000", "IBKR_EDGE_RATE_LIMIT_PER_SECOND": "0",
                    "IBKR_EDGE_HEARTBEAT_SECONDS": "30", "IBKR_LOG_LEVEL": "WARNING"})
        self.proc = _spawn(["-m", "services.edge"], env)

    async def wait_ready(self) -> None:
        from grpc_health.v1 import health_pb2, health_pb2_grpc

        async with grpc.aio.insecure_channel(f"127.0.0.1:{self.port}") as channel:
            for _ in range(200):
                try:
                    reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=1)
                    if reply.status == health_pb2.HealthCheckResponse.SERVING:
                        return
                except grpc.aio.AioRpcError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError("edge did not become SERVING")

    def rss_kb(self) -> int:
        for row in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if row.startswith("VmRSS:"):
                return int(row.split()[1])
        raise RuntimeError("no VmRSS")

    def channels(self) -> list[grpc.aio.Channel]:
        return [grpc.aio.insecure_channel(f"127.0.0.1:{self.port}") for _ in range(CHANNELS)]

    def open_stream(self, channels: list[grpc.aio.Channel], i: int):
        stub = channels[i % len(channels)].unary_stream(
            "/ibkr.edge.v1.EventService/StreamEvents", request_serializer=events.StreamEventsRequest.SerializeToString,
            response_deserializer=events.StreamEventsResponse.FromString)
        return stub(events.StreamEventsRequest(skip_snapshot=True), metadata=(("authorization", f"Bearer {self.key}"),))


class Publisher:
    """Publishes order-update events at a fixed rate, each stamped with its send time.

    When this process was starved past a tick it skips the missed ticks instead of publishing them in a
    burst: a burst of the bench's own making would show as fan-out lag. Skips are counted and printed."""

    def __init__(self, bus: EventBus, rate: float) -> None:
        self.bus, self.rate = bus, rate
        self.task: asyncio.Task | None = None
        self.skipped = 0
        self._running = True

    async def _run(self) -> None:
        interval, next_at, n = 1 / self.rate, time.perf_counter(), 0
        while self._running:
            n += 1
            next_at += interval
            now = time.perf_counter()
            if now > next_at + interval:
                missed = int((now - next_at) / interval)
                self.skipped += missed
                next_at += missed * interval
            await asyncio.sleep(max(0.0, next_at - now))
            order = order_pb2.Order(order_id=f"ord-{n}", account_id=ACCOUNT, status=order_pb2.ORDER_STATUS_SUBMITTED)
            order.spec.instrument.symbol = "AAPL"
            event = event_pb2.Event(event_id=str(uuid.uuid4()), account_id=ACCOUNT, symbol="AAPL", source="bench",
                                    order_update=event_pb2.OrderUpdate(order=order))
            event.event_time.FromNanoseconds(time.time_ns())
            await self.bus.publish(event.SerializeToString(), event_type="order_update", account=ACCOUNT)

    async def start(self) -> None:
        self.task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        # A flag, not task.cancel(): a cancellation landing inside XADD can be swallowed by the Redis client,
        # and the loop would then publish forever.
        self._running = False
        if self.task is not None:
            await asyncio.wait_for(self.task, 10)


def _event_sent_ns(frame: events.StreamEventsResponse) -> int | None:
    return frame.event.event_time.ToNanoseconds() if frame.WhichOneof("frame") == "event" else None


async def bench_edge(edge: EdgeProcess, redis: aioredis.Redis, subscribers: int, rate: float) -> Run:
    publisher = Publisher(EventBus(redis, edge.stream, maxlen=100_000), rate)
    run = await _measure(f"127.0.0.1:{edge.port}", edge.key, subscribers, edge.proc.pid, publisher.start,
                         publisher.stop)
    run.skipped = publisher.skipped
    return run


async def bench_idle_memory(edge: EdgeProcess) -> tuple[int, int]:
    """(RSS with no subscribers, RSS with IDLE_SUBSCRIBERS idle ones), in KB."""
    await asyncio.sleep(1.0)
    before = edge.rss_kb()
    channels = edge.channels()
    calls = [edge.open_stream(channels, i) for i in range(IDLE_SUBSCRIBERS)]
    await asyncio.gather(*(c.initial_metadata() for c in calls))
    await asyncio.sleep(1.0)
    after = edge.rss_kb()
    for call in calls:
        call.cancel()
    for channel in channels:
        await channel.close()
    return before, after


async def main(scenarios: tuple[tuple[int, int], ...] = SCENARIOS, idle_memory: bool = True) -> None:
    from tools import infra

    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        redis_endpoint = infra.resolve_redis(Path(tmp), prefer_local=True)
        redis = aioredis.Redis.from_url(redis_endpoint.url)
        edge = EdgeProcess(redis_endpoint.url, Path(tmp))
        try:
            await edge.wait_ready()
            if idle_memory:
                before, after = await bench_idle_memory(edge)
                print(f"edge RSS idle: {before} KB; with {IDLE_SUBSCRIBERS} idle subscribers on {CHANNELS} "
                      f"connections: {after} KB → {(after - before) / IDLE_SUBSCRIBERS:.1f} KB per idle subscriber "
                      f"(goal ≤ 64 KB)", flush=True)
            print(f"subscribers: {CLIENT}, {WORKERS} processes; load average now {os.getloadavg()[0]:.2f} "
                  f"on {os.cpu_count()} cores", flush=True)
            for subscribers, rate in scenarios:
                goal = 25 if rate == 100 else 100
                expected = subscribers * rate * MEASURE_S
                raw = await bench_raw(redis_endpoint.url, redis, subscribers, rate)
                print(line(f"raw gRPC fan-out {subscribers} subs x {rate:g} ev/s", summary_ms(raw.lags))
                      + f"   delivered {len(raw.lags) / expected:.0%}; {raw.note()}", flush=True)
                run = await bench_edge(edge, redis, subscribers, rate)
                print(line(f"edge bus→client {subscribers} subs x {rate:g} ev/s", summary_ms(run.lags))
                      + f"   delivered {len(run.lags) / expected:.0%}, {run.cut} cut as too slow; {run.note()} "
                      f"(goal p99 ≤ {goal} ms)", flush=True)
        finally:
            _stop(edge.proc)
            await redis.delete(edge.stream)
            await redis.aclose()
            redis_endpoint.stop()
    print(f"total {time.monotonic() - started:.0f} s")


def _interrupt(*_: object) -> None:
    with contextlib.suppress(RuntimeError):  # no running loop: nothing to show
        for task in asyncio.all_tasks():
            task.print_stack(limit=6, file=sys.stderr)
    raise KeyboardInterrupt


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--raw-server", nargs=2, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--worker", nargs=4, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--only", action="append", default=None, metavar="SUBSxRATE",
                        help="run only this scenario (e.g. 100x100; repeatable) and skip the idle-memory figure")
    parser.add_argument("--client", choices=("node", "python"), default=None,
                        help="subscriber implementation (default: node when clients/node is installed)")
    args = parser.parse_args()
    if args.client is not None:
        CLIENT = args.client
    if args.raw_server is not None:
        asyncio.run(_raw_server(*args.raw_server))
    elif args.worker is not None:
        target, key, n, seconds = args.worker
        asyncio.run(_consume_worker(target, "" if key == "-" else key, int(n), float(seconds)))
    else:
        # SIGTERM (e.g. `timeout`) unwinds like Ctrl-C, so the edge and workers are always stopped; it first
        # prints where every task was, so a run that hung says where.
        signal.signal(signal.SIGTERM, _interrupt)
        only = tuple(tuple(int(x) for x in o.lower().split("x")) for o in args.only or ())
        asyncio.run(main(only or SCENARIOS, idle_memory=not only))  # type: ignore[arg-type]
