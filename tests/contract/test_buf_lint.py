"""The protos pass `buf lint` (STANDARD + COMMENTS), run with buf from npm exactly as `make lint` does."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tools import gen_protos

ROOT = Path(__file__).resolve().parents[2]


def test_buf_lint_passes_on_every_proto() -> None:
    if shutil.which("npx") is None:
        pytest.skip("npx is not installed, so buf (npm @bufbuild/buf) cannot run")
    gen_protos.prepare_deps()  # buf.yaml's second module: the googleapis protos from the installed wheel
    listed = subprocess.run(
        ["npx", "--no-install", "buf", "ls-files"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert listed.returncode == 0, listed.stderr
    ours = [line for line in listed.stdout.splitlines() if line.startswith("protos/ibkr/")]
    assert len(ours) == len(gen_protos.proto_files()), "buf does not see every proto under protos/ibkr"

    result = subprocess.run(
        ["npx", "--no-install", "buf", "lint"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"buf lint failed:\n{result.stdout}{result.stderr}"
