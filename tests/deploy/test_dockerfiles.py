"""deploy/docker: one Dockerfile per service, structurally linted (pinned base, multi-stage, non-root,
healthcheck, the right entry point, only existing sources), and the healthcheck script against a real server."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from tests.deploy.deploylib import DOCKER_DIR, REPO_ROOT, SUITE

PINNED_BASE = re.compile(r"^python:3\.11\.\d+-slim-bookworm(@sha256:[0-9a-f]{64})?$")


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    out, buf = [], ""
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if not buf and (not stripped or stripped.startswith("#")):
            continue
        buf += stripped.removesuffix("\\").strip() + " "
        if not stripped.endswith("\\"):
            word, _, rest = buf.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
            buf = ""
    return out


def resolve_args(instrs: list[tuple[str, str]], text: str) -> str:
    defaults = dict(re.match(r"(\w+)=(\S+)", a).groups() for i, a in instrs if i == "ARG" and "=" in a)
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: defaults.get(m.group(1) or m.group(2), m.group(0)), text)


@pytest.mark.parametrize("name", sorted(SUITE))
def test_dockerfile_is_multi_stage_pinned_non_root_with_healthcheck(name):
    path = DOCKER_DIR / f"{name}.Dockerfile"
    instrs = instructions(path)
    froms = [resolve_args(instrs, a).split()[0] for i, a in instrs if i == "FROM"]
    assert len(froms) >= 2, "multi-stage: build and runtime"
    for image in froms:
        assert PINNED_BASE.match(image), f"{image} is not an exact python:3.11.x-slim-bookworm tag"
    assert "latest" not in path.read_text()
    runtime = instrs[max(i for i, (ins, _) in enumerate(instrs) if ins == "FROM"):]
    users = [a for i, a in runtime if i == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0"), "the runtime stage must end as a non-root USER"
    assert any(i == "HEALTHCHECK" and "/app/healthcheck.py" in a for i, a in runtime)
    pkg = SUITE[name][0]
    assert ("ENTRYPOINT", f'["python", "-m", "services.{pkg}"]') in runtime
    assert any(i == "EXPOSE" and str(SUITE[name][2]) in a.split() and str(SUITE[name][3]) in a.split()
               for i, a in runtime)
    assert any(i == "RUN" and "-c requirements.lock" in a for i, a in instrs), "dependencies from the lock file"


@pytest.mark.parametrize("name", sorted(SUITE))
def test_every_copied_source_exists_and_is_not_ignored(name):
    instrs = instructions(DOCKER_DIR / f"{name}.Dockerfile")
    ignore = (DOCKER_DIR / f"{name}.Dockerfile.dockerignore").read_text()
    for ins, args in instrs:
        if ins != "COPY" or args.startswith("--from"):
            continue
        *sources, _dest = args.split()
        for source in sources:
            assert (REPO_ROOT / source).exists(), f"COPY {source}: not in the repository"
            top = source.split("/")[0]
            assert f"!{top}" in ignore, f"{source} is excluded by the .dockerignore"


def test_there_is_one_dockerfile_per_service_and_nothing_else():
    assert sorted(p.name.removesuffix(".Dockerfile") for p in DOCKER_DIR.glob("*.Dockerfile")) == sorted(SUITE)


@pytest.fixture
def health_server():
    server = grpc.server(__import__("concurrent.futures").futures.ThreadPoolExecutor(2))
    servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield servicer, f"127.0.0.1:{port}"
    server.stop(None)


def _load_healthcheck():
    spec = importlib.util.spec_from_file_location("ibkr_healthcheck", DOCKER_DIR / "healthcheck.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


healthcheck = _load_healthcheck()


def run_healthcheck(*args: str) -> int:
    return healthcheck.main(list(args))


def test_healthcheck_script_exits_zero_only_when_serving(health_server):
    servicer, address = health_server
    servicer.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
    assert run_healthcheck(address) == 1
    servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    assert run_healthcheck(address) == 0
    assert run_healthcheck(address, "--service", "ibkr.edge.v1.TradingService") == 1  # unknown service


def test_healthcheck_script_runs_as_the_images_run_it(health_server):
    servicer, address = health_server
    servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    result = subprocess.run([sys.executable, str(DOCKER_DIR / "healthcheck.py")], capture_output=True, check=False,
                            timeout=30, env={"IBKR_HEALTH_PORT": address.rsplit(":", 1)[1], "PATH": "/usr/bin"})
    assert result.returncode == 0, result.stderr


def test_healthcheck_script_fails_when_nothing_listens():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert run_healthcheck(f"127.0.0.1:{port}", "--timeout", "0.5") == 1
