"""The committed stubs under clients/python/src/ibkr are exactly what tools/gen_protos.py generates."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_committed_stubs_match_the_protos() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tools.gen_protos", "--check"],
        cwd=ROOT,
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"stale generated code, run `make protos`:\n{result.stdout}{result.stderr}"
