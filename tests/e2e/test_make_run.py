"""`make run` on embedded defaults: the suite comes up, the grpcurl commands it prints work as printed, and
Ctrl-C stops every process it started."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time

import pytest

from tools import infra
from tools.suite import REPO_ROOT, SIM_TWS_PORT, STANDBY, Ports

BANNER_END = "Ctrl-C stops everything."


def read_banner(proc: subprocess.Popen, timeout: float) -> list[str]:
    """Lines up to the end of the banner; a reader thread, because the banner arrives in one chunk."""
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        for line in proc.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    seen, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            continue
        if line is None:
            break
        seen.append(line)
        if line.startswith(BANNER_END):
            return seen
    raise AssertionError("make run did not come up:\n" + "\n".join(seen[-60:]))


def run_printed(command: str, timeout: float) -> subprocess.CompletedProcess:
    path = f"{os.path.dirname(sys.executable)}:{os.environ['PATH']}"
    return subprocess.run(["bash", "-c", command], cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "PATH": path}, check=False)


def design_ports() -> list[int]:
    """Every port `make run` listens on: each service, the bridge standby and the simulator's TWS socket."""
    return [*Ports.defaults().grpc.values(), SIM_TWS_PORT]


@pytest.fixture
def make_run():
    busy = [p for p in design_ports() if infra.port_answers("127.0.0.1", p)]
    if busy:
        pytest.skip(f"the DESIGN ports {busy} are taken (is `make run` already running here?)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("IBKR_")}
    proc = subprocess.Popen([sys.executable, "-m", "tools.run_suite"], cwd=REPO_ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield proc, read_banner(proc, timeout=180)
    finally:
        if proc.poll() is None:  # the test failed before Ctrl-C: stop it the way a user would, then harder
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def test_make_run_comes_up_serves_the_printed_grpcurl_commands_and_stops_cleanly(make_run):
    proc, banner = make_run
    commands = [line for line in banner if line.startswith("grpcurl ")]
    assert len(commands) >= 4, banner
    for command in commands:
        if "StreamEvents" in command:
            result = run_printed(f"timeout 5 {command}", timeout=30)
            assert "resume" in result.stdout.lower(), result.stdout + result.stderr
        else:
            result = run_printed(command, timeout=30)
            assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    assert (REPO_ROOT / ".run" / "api-key").read_text().strip()

    assert any(line.lstrip().startswith(STANDBY) for line in banner), "make run runs the bridge standby"

    proc.send_signal(signal.SIGINT)
    assert proc.wait(60) == 0
    assert [p for p in design_ports() if infra.port_answers("127.0.0.1", p)] == []
    assert not (REPO_ROOT / ".run" / "postgres" / "postmaster.pid").exists(), "embedded Postgres left running"
