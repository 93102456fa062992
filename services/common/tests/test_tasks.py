"""cancel_and_wait: background tasks stop, failures are reported, not raised."""

from __future__ import annotations

import asyncio
import logging

import pytest

from services.common.tasks import cancel_and_wait


async def test_a_running_task_is_cancelled_and_has_ended_when_it_returns() -> None:
    cleaned = []

    async def loop() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            cleaned.append(True)

    task = asyncio.create_task(loop())
    await asyncio.sleep(0)
    await cancel_and_wait(task)
    assert task.cancelled() and cleaned == [True]


async def test_no_task_is_nothing_to_stop() -> None:
    await cancel_and_wait(None)


async def test_a_task_that_had_failed_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    async def boom() -> None:
        raise RuntimeError("lost the connection")

    task = asyncio.create_task(boom(), name="tail")
    await asyncio.sleep(0)
    with caplog.at_level(logging.ERROR, logger="services.common.tasks"):
        await cancel_and_wait(task)
    [record] = caplog.records
    assert record.task == "tail" and "lost the connection" in str(record.exc_info[1])

