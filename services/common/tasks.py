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
