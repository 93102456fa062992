"""Fixtures of the client's unit tests: an edge double server on port 0 (see edge_doubles)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# The doubles live beside the tests; the tests dir is not a package (it may run from the repo root).
sys.path.insert(0, str(Path(__file__).resolve().parent))

from edge_doubles import ServerThread


@pytest.fixture
def server_thread() -> Iterator[ServerThread]:
    """Starts edge-double servers on demand; stops them after the test."""
    servers = ServerThread()
    yield servers
    servers.close()
