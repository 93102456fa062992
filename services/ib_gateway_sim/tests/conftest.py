"""Fixtures: an in-process simulator on an ephemeral port and real ib_async clients over real sockets."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable

import pytest
from ib_async import IB

from services.ib_gateway_sim import SimConfig, Simulator

logging.getLogger("ib_async").setLevel(logging.CRITICAL)


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    simulator = Simulator(SimConfig.for_tests())
    await simulator.start()
    try:
        yield simulator
    finally:
        await simulator.stop()


async def connect(sim: Simulator, client_id: int = 1, **kwargs) -> IB:
    ib = IB()
    kwargs.setdefault("timeout", 5)
    kwargs.setdefault("raiseSyncErrors", True)
    await ib.connectAsync("127.0.0.1", sim.tws_port, clientId=client_id, **kwargs)
    return ib


@pytest.fixture
async def ib(sim: Simulator) -> AsyncIterator[IB]:
    client = await connect(sim, 1)
    try:
        yield client
    finally:
        client.disconnect()


async def until(predicate: Callable[[], object], timeout: float = 5.0) -> None:
    """Wait until `predicate()` is truthy (a correctness wait, never a timing assertion)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.005)


class Recorder:
    """Records the message ids ib_async decodes, in arrival order."""

    def __init__(self, ib: IB) -> None:
        self.messages: list[list[str]] = []
        decoder = ib.client.decoder
        original = decoder.interpret

        def interpret(fields):
            self.messages.append(list(fields))
            return original(fields)

        decoder.interpret = interpret

    def ids(self) -> list[int]:
        return [int(m[0]) for m in self.messages]

    def clear(self) -> None:
        self.messages.clear()
