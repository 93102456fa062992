"""AIP-155 request ids on risk's admin writes (SetTradingState, UpdateRiskPolicy).

A request carrying a `request_id` is answered once: its answer is stored with a digest of the request (every
field but the id). A retry with the same id and the same parameters gets that stored answer without doing
anything again, across restarts; the same id with other parameters is refused with ALREADY_EXISTS. A request
without an id is simply executed. Failed requests store nothing, so a retry runs them again.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from typing import TypeVar

from google.protobuf.message import Message

from services.common.errors import AlreadyExists
from services.risk.store import RiskStore

M = TypeVar("M", bound=Message)


def request_digest(request: Message) -> str:
    """sha256 of the request without its request_id (deterministic serialization)."""
    copy = type(request)()
    copy.CopyFrom(request)
    copy.ClearField("request_id")
    return hashlib.sha256(copy.SerializeToString(deterministic=True)).hexdigest()


class Idempotency:
    """Runs admin writes at most once per (method, request_id)."""

    def __init__(self, store: RiskStore) -> None:
        self._store = store
        # Admin writes are rare: one lock serializes them, so two concurrent retries of one id cannot both run.
        self._lock = asyncio.Lock()

    async def run(self, method: str, request: Message, response_type: type[M], do: Callable[[], Awaitable[M]]) -> M:
        request_id = request.request_id
        if not request_id:
            return await do()
        digest = request_digest(request)
        async with self._lock:
            found = await self._store.idempotent_answer(method, request_id)
            if found is not None:
                if found[0] != digest:
                    raise AlreadyExists("REQUEST_ID_REUSED",
                                        f"request_id {request_id} was already used with other parameters",
                                        metadata={"request_id": request_id, "method": method})
                return response_type.FromString(found[1])
            response = await do()
            await self._store.save_idempotent_answer(method, request_id, digest, response.SerializeToString())
            return response
