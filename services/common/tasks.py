"""Stopping background tasks."""

from __future__ import annotations

import asyncio
import logging

log = logging.getLogger("services.common.tasks")


async def cancel_and_wait(task: asyncio.Task | None) -> None:
    """Cancel `task` (None: nothing to stop) and wait until it has ended.

    A task that had already failed has its exception logged rather than raised: stopping goes on. A
    cancellation of the caller itself, while it waits, still propagates.
    """
    if task is None:
        return
    task.cancel()
    await asyncio.wait((task,))
    if not task.cancelled() and task.exception() is not None:
        log.error("background task had failed before it was stopped", exc_info=task.exception(),
                  extra={"task": task.get_name()})


def raise_if_cancelling() -> None:
    """Call in an `except` that retries I/O in a background loop: re-raises a stop as a cancellation.

    Some clients (redis-py around a blocking read) turn a cancellation that interrupts them into an error of their
    own; a loop that retried on it would take the stop for a failed call and `cancel_and_wait` would wait for ever.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
