"""Runs the whole suite as real processes: the simulator (unless a gateway is configured) and the services.

One implementation serves `make run` (fixed DESIGN ports) and the e2e tests (free ports, a private bus
stream), so the tests exercise exactly what users run.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tools import infra

REPO_ROOT = Path(__file__).resolve().parent.parent

# name → (module, env prefix, default gRPC port, default metrics port); start order follows dependencies.
SERVICES: dict[str, tuple[str, str, int, int]] = {
    "sim": ("services.ib_gateway_sim", "SIM", 50055, 9105),
    "ledger": ("services.ledger", "LEDGER", 50054, 9104),
    "bridge": ("services.gateway_bridge", "BRIDGE", 50053, 9103),
    "risk": ("services.risk", "RISK", 50052, 9102),
    "edge": ("services.edge", "EDGE", 50051, 9101),
}
SIM_TWS_PORT = 4002
STANDBY = "bridge-standby"  # the second gateway_bridge replica; only the Redis lease holder connects to IB


@dataclasses.dataclass
class Ports:
    """Where each process listens."""

    grpc: dict[str, int]
    metrics: dict[str, int]
    sim_tws: int

    @classmethod
    def defaults(cls) -> Ports:
        grpc_ports = {n: s[2] for n, s in SERVICES.items()} | {STANDBY: 50063}
        metrics_ports = {n: s[3] for n, s in SERVICES.items()} | {STANDBY: 9113}
        return cls(grpc_ports, metrics_ports, SIM_TWS_PORT)

    @classmethod
    def free(cls) -> Ports:
        names = [*SERVICES, STANDBY]
        ports = iter(infra.free_ports(2 * len(names) + 1))
        return cls({n: next(ports) for n in names}, {n: next(ports) for n in names}, next(ports))


@dataclasses.dataclass
class SuiteSettings:
    """Everything the supervisor needs to start the processes."""

    run_dir: Path
    database_url: str
    redis_url: str
    ports: Ports
    ib_host: str | None = None  # None: start the simulator
    ib_port: int | None = None
    bus_stream: str = "ibkr:events"
    account_id: str = "DU1234567"
    internal_token: str = dataclasses.field(default_factory=lambda: secrets.token_urlsafe(24))
    extra_env: dict[str, str] = dataclasses.field(default_factory=dict)
    bridge_standby: bool = False


class ServiceProcess:
    """One child process with its log file, started in its own process group so nothing is orphaned."""

    def __init__(self, name: str, module: str, env: dict[str, str], log_path: Path) -> None:
        self.name, self.module, self.env, self.log_path = name, module, env, log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the child for its lifetime
        self.proc = subprocess.Popen(infra.supervised([sys.executable, "-m", self.module]), env=self.env,
                                     cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, grace: float = 10.0) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        return self.proc.returncode

    def kill(self) -> None:
        """SIGKILL the whole process group (crash tests)."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""


def health_status(address: str, service: str = "", timeout: float = 1.0) -> int:
    """The health.v1 status of one server (UNKNOWN when it does not answer)."""
    try:
        with grpc.insecure_channel(address) as channel:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=timeout)
            return reply.status
    except grpc.RpcError:
        return health_pb2.HealthCheckResponse.UNKNOWN


class Suite:
    """Starts, watches and stops the suite's processes."""

    def __init__(self, settings: SuiteSettings) -> None:
        self.settings = settings
        self.processes: dict[str, ServiceProcess] = {}

    @property
    def start_sim(self) -> bool:
        return self.settings.ib_host is None

    def address(self, name: str) -> str:
        return f"127.0.0.1:{self.settings.ports.grpc[name]}"

    def metrics_ports(self) -> dict[str, int]:
        """The metrics port of every process this suite is running (what a Prometheus should scrape)."""
        return {name: self.settings.ports.metrics[name] for name in self.processes}

    @property
    def bridge_addresses(self) -> str:
        """What peers dial: the bridge, or both replicas (their channel routes to whichever is SERVING)."""
        replicas = ["bridge", STANDBY] if self.settings.bridge_standby else ["bridge"]
        return ",".join(self.address(n) for n in replicas)

    def env_for(self, name: str, *, client_id: int = 1) -> dict[str, str]:
        s, p = self.settings, self.settings.ports
        env = {k: v for k, v in os.environ.items() if not k.startswith("IBKR_")}
        env.update({
            "PYTHONUNBUFFERED": "1",
            "IBKR_DATABASE_URL": s.database_url,
            "IBKR_REDIS_URL": s.redis_url,
            "IBKR_BUS_STREAM": s.bus_stream,
            "IBKR_INTERNAL_TOKEN": s.internal_token,
            "IBKR_IB_HOST": s.ib_host or "127.0.0.1",
            "IBKR_IB_PORT": str(s.ib_port or p.sim_tws),
            "IBKR_IB_CLIENT_ID": str(client_id),
            "IBKR_ACCOUNT_ID": s.account_id,
            "IBKR_SIM_TWS_PORT": str(p.sim_tws),
            "IBKR_EDGE_API_KEYS_FILE": str(s.run_dir / "api-keys.json"),
        })
        for svc, (_, prefix, _, _) in SERVICES.items():
            env[f"IBKR_{prefix}_GRPC_PORT"] = str(p.grpc[svc])
            env[f"IBKR_{prefix}_METRICS_PORT"] = str(p.metrics[svc])
        env["IBKR_RISK_ADDRESS"] = self.address("risk")
        env["IBKR_BRIDGE_ADDRESS"] = self.bridge_addresses
        env["IBKR_LEDGER_ADDRESS"] = self.address("ledger")
        env.update({k: str(v) for k, v in s.extra_env.items()})
        return env

    def start(self, timeout: float = 60.0) -> None:
        names = [n for n in SERVICES if n != "sim" or self.start_sim]
        try:
            for name in names:
                self.start_one(name)
                self.wait_serving(name, timeout)
                if name == "bridge" and self.settings.bridge_standby:
                    self.start_standby()
        except BaseException:
            self.stop()
            raise

    def start_standby(self, timeout: float = 30.0) -> ServiceProcess:
        """The second bridge replica on its own ports; it answers health (NOT_SERVING) until it holds the lease."""
        p = self.settings.ports
        proc = self.start_one("bridge", process_name=STANDBY, client_id=1, extra_env={
            "IBKR_BRIDGE_GRPC_PORT": str(p.grpc[STANDBY]), "IBKR_BRIDGE_METRICS_PORT": str(p.metrics[STANDBY])})
        deadline = time.monotonic() + timeout
        while health_status(self.address(STANDBY)) == health_pb2.HealthCheckResponse.UNKNOWN:
            if not proc.alive() or time.monotonic() > deadline:
                raise RuntimeError(f"{STANDBY} did not come up:\n{proc.tail()}")
            time.sleep(0.1)
        return proc

    def start_one(self, name: str, *, process_name: str | None = None, client_id: int = 1,
                  extra_env: dict[str, str] | None = None) -> ServiceProcess:
        env = self.env_for(name, client_id=client_id)
        env.update(extra_env or {})
        key = process_name or name
        proc = ServiceProcess(key, SERVICES[name][0], env, self.settings.run_dir / "logs" / f"{key}.log")
        proc.start()
        self.processes[key] = proc
        return proc

    def wait_serving(self, name: str, timeout: float = 60.0, *, process_name: str | None = None) -> None:
        proc = self.processes[process_name or name]
        deadline = time.monotonic() + timeout
        while health_status(self.address(process_name or name)) != health_pb2.HealthCheckResponse.SERVING:
            if not proc.alive():
                raise RuntimeError(f"{name} exited with {proc.proc.returncode}:\n{proc.tail()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name} not SERVING after {timeout}s:\n{proc.tail()}")
            time.sleep(0.1)

    def stop(self) -> dict[str, int | None]:
        codes = {}
        for name in reversed(list(self.processes)):
            codes[name] = self.processes[name].stop()
        return codes
