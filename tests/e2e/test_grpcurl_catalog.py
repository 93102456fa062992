"""The README's grpcurl catalog (one command per public RPC) works against the running suite: every command as
printed with the real grpcurl binary (only the address, key files and order-id prefix differ), then the same
calls through `buf curl` over reflection as a third-party client."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import pytest

from tests.e2e.conftest import ACCOUNT_ID
from tools.grpcurl_catalog import EXAMPLES, Example, grpcurl_argv, render
from tools.run_suite import create_dev_key
from tools.suite import REPO_ROOT

STREAM_SECONDS = 6


@pytest.fixture(scope="module")
def admin_key_file(suite):
    return create_dev_key(suite.settings.run_dir, ACCOUNT_ID, role="admin")


def _shell(command: str, timeout: float) -> subprocess.CompletedProcess:
    path = f"{os.path.dirname(sys.executable)}:{os.environ['PATH']}"
    return subprocess.run(["bash", "-c", command], cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "PATH": path}, check=False)


def _check(example: Example, result: subprocess.CompletedProcess, client: str) -> None:
    where = f"{client} {example.full_method} ({example.title}):\n{result.stdout}\n{result.stderr}"
    if example.streaming:
        # Cut by the time limit on purpose; what matters is that frames arrived.
        assert result.stdout.lstrip().startswith("{"), where
    else:
        assert result.returncode == 0, where
        json.loads(result.stdout or "{}")


def test_every_readme_command_works_with_grpcurl(suite, admin_key_file):
    run = f"grpcurl-{uuid.uuid4().hex[:8]}"
    for example in EXAMPLES:
        command = render(grpcurl_argv(example, edge=suite.address("edge"), trader_key=str(suite.api_key_file),
                                      admin_key=str(admin_key_file), run=run))
        if example.streaming:
            command = f"timeout {STREAM_SECONDS} {command}"
        _check(example, _shell(command, timeout=60), "grpcurl")


def test_every_catalog_call_works_through_buf_curl(suite, api_key, admin_key_file):
    run = f"buf-{uuid.uuid4().hex[:8]}"
    admin_key = admin_key_file.read_text().strip()
    for example in EXAMPLES:
        result = subprocess.run(
            ["npx", "--no-install", "buf", "curl", "--protocol", "grpc", "--http2-prior-knowledge",
             "-H", f"authorization: Bearer {admin_key if example.admin else api_key}", "-d", example.json_body(run),
             "--timeout", f"{STREAM_SECONDS}s" if example.streaming else "30s",
             f"http://{suite.address('edge')}/{example.full_method}"],
            cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False)
        _check(example, result, "buf curl")
