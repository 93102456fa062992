"""Fixtures for the common runtime's tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest

from services.common.tests.probe import ProbeServer, start_probe_server


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests must not see the developer's IBKR_*/OTEL_* variables."""
    import os

    for key in list(os.environ):
        if key.startswith(("IBKR_", "OTEL_")) and key not in ("IBKR_REDIS_URL", "IBKR_DATABASE_URL"):
            monkeypatch.delenv(key)


@pytest.fixture
async def probe() -> AsyncIterator[ProbeServer]:
    server = await start_probe_server()
    yield server
    await server.server.stop(None)


@pytest.fixture
async def channel(probe: ProbeServer) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(probe.address) as ch:
        yield ch
