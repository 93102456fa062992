"""A debug timeline of every suite process, for correlating slow orders with what each process was doing.

Loaded by Python at start-up (`sitecustomize`) when this directory is on PYTHONPATH and
IBKR_BENCH_TIMELINE_DIR names a directory; otherwise it does nothing. It records, with CLOCK_MONOTONIC
timestamps (comparable across processes on Linux, the clock `time.perf_counter` reads):
  - every garbage collection (generation, duration, objects collected),
  - every asyncio callback that ran longer than IBKR_BENCH_TIMELINE_SLOW_MS (default 0.5 ms): its wall and
    thread-CPU time (a callback whose wall time far exceeds its CPU time was preempted or blocked), and
    what it was (the task's coroutine or the callback),
and appends them to `<dir>/<pid>.jsonl` from a background thread twice a second. A bench only: the wrapper
around every callback costs two clock reads and a thread-CPU read per callback.
"""

from __future__ import annotations

import os


def _install(directory: str) -> None:
    import asyncio.events
    import gc
    import json
    import sys
    import threading
    import time

    slow = float(os.environ.get("IBKR_BENCH_TIMELINE_SLOW_MS", "0.5")) / 1e3
    records: list[dict] = []
    clock, cpu = time.perf_counter, time.thread_time
    gc_started: list[float] = [0.0]

    def on_gc(phase: str, info: dict) -> None:
        if phase == "start":
            gc_started[0] = clock()
            return
        records.append({"k": "gc", "t": gc_started[0], "d": clock() - gc_started[0], "gen": info["generation"],
                        "collected": info["collected"]})

    gc.callbacks.append(on_gc)
    original_run = asyncio.events.Handle._run

    def timed_run(self: asyncio.events.Handle) -> None:
        t0, c0 = clock(), cpu()
        original_run(self)
        wall = clock() - t0
        if wall >= slow:
            callback = getattr(self, "_callback", None)
            owner = getattr(callback, "__self__", None)
            what = repr(owner.get_coro()) if isinstance(owner, asyncio.Task) else repr(callback)
            records.append({"k": "slow", "t": t0, "d": wall, "cpu": cpu() - c0, "what": what[:240]})

    asyncio.events.Handle._run = timed_run  # type: ignore[method-assign]
    path = os.path.join(directory, f"{os.getpid()}.jsonl")

    def flush() -> None:
        while True:
            time.sleep(0.5)
            batch = records.copy()
            del records[:len(batch)]  # appends made meanwhile stay for the next round
            if batch:
                name = sys.argv[0] if sys.argv else "?"
                with open(path, "a") as out:
                    out.writelines(json.dumps({"p": name, **r}) + "\n" for r in batch)

    threading.Thread(target=flush, name="bench-timeline", daemon=True).start()


if os.environ.get("IBKR_BENCH_TIMELINE_DIR"):
    _install(os.environ["IBKR_BENCH_TIMELINE_DIR"])
