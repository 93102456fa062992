"""Test helpers that need no event loop: a simulator on a background thread and a raw TWS socket client."""

from __future__ import annotations

import asyncio
import socket
import struct
import threading
from collections.abc import Callable
from typing import Any

from services.ib_gateway_sim import SimConfig, Simulator


class ThreadedSim:
    """A Simulator running on its own event loop in a daemon thread (for blocking clients)."""

    def __init__(self, **config: Any) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="sim-loop", daemon=True)
        self.config = SimConfig.for_tests(**config)
        self.sim: Simulator | None = None

    def start(self) -> ThreadedSim:
        self.thread.start()

        async def boot() -> Simulator:
            sim = Simulator(self.config)
            await sim.start()
            return sim

        self.sim = asyncio.run_coroutine_threadsafe(boot(), self.loop).result(10)
        return self

    @property
    def port(self) -> int:
        assert self.sim is not None
        return self.sim.tws_port

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run a (sync) simulator method on its loop and return the result."""

        async def run() -> Any:
            return fn(*args, **kwargs)

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(10)

    def stop(self) -> None:
        if self.sim is not None:
            asyncio.run_coroutine_threadsafe(self.sim.stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


class RawClient:
    """Speaks the framing by hand (independently of the simulator's codec)."""

    def __init__(self, port: int, client_id: int | None = None, version: str = "v157..178") -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.buf = b""
        v = version.encode()
        self.sock.sendall(b"API\0" + struct.pack(">I", len(v)) + v)
        self.server_version = 0
        self.accounts = ""
        self.next_id = 0
        if version:
            self.server_version = int(self.recv()[0])
        if client_id is not None:
            self.send(["71", "2", str(client_id), ""])
            seen: dict[str, list[str]] = {}

            def ready(fields: list[str]) -> bool:
                seen[fields[0]] = fields
                return "9" in seen and "15" in seen

            self.until(ready)
            self.next_id = int(seen["9"][2])
            self.accounts = seen["15"][2]

    def send(self, fields: list[str]) -> None:
        self.send_raw(("\0".join(fields) + "\0").encode())

    def send_raw(self, payload: bytes) -> None:
        self.sock.sendall(struct.pack(">I", len(payload)) + payload)

    def _read(self, n: int) -> bytes:
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed by the simulator")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv(self) -> list[str]:
        (n,) = struct.unpack(">I", self._read(4))
        fields = self._read(n).decode(errors="backslashreplace").split("\0")
        assert fields[-1] == "", "every field is NUL-terminated"
        return fields[:-1]

    def until(self, predicate: Callable[[list[str]], bool]) -> list[list[str]]:
        got = []
        while True:
            fields = self.recv()
            got.append(fields)
            if predicate(fields):
                return got

    def ping(self) -> list[list[str]]:
        """reqCurrentTime: returns everything received up to and including the answer."""
        self.send(["49", "1"])
        return self.until(lambda f: f[0] == "49")

    def closed(self) -> bool:
        try:
            self.sock.settimeout(2)
            while True:
                if not self.sock.recv(65536):
                    return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except TimeoutError:
            return False

    def close(self) -> None:
        self.sock.close()


def errors_in(messages: list[list[str]], *, info: bool = False) -> list[tuple[int, int, str]]:
    """(reqId, code, text) of every error message; data-farm notices (2100-2199) only with `info`."""
    out = [(int(m[2]), int(m[3]), m[4]) for m in messages if m[0] == "4"]
    return [e for e in out if info or not 2100 <= e[1] < 2200]
