"""The self-resuming event stream: reconnect with the last resume token after a cut, with backoff.

A stream is cut when the edge or the network goes away (UNAVAILABLE) or when the edge drops a reader that
fell behind (RESOURCE_EXHAUSTED, reason SUBSCRIBER_TOO_SLOW, after frames had flowed). Both are resumable:
the edge replays every event after the token with no gap and no duplicate. A RESOURCE_EXHAUSTED refusal at
the start of a stream (rate limit, too many streams for the key) is not a cut and is raised, as is any
other error and `ResumeTokenExpired`.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import grpc
from grpc import aio

from ibkr.client.errors import IbkrError, ResumeTokenExpired, error_from_rpc_error
from ibkr.edge.v1 import event_service_pb2

SUBSCRIBER_TOO_SLOW = "SUBSCRIBER_TOO_SLOW"


def is_resumable(error: IbkrError, frames_received: int) -> bool:
    """Whether a stream ended by `error` should be resumed with its last token."""
    if isinstance(error, ResumeTokenExpired):
        return False
    if error.code is grpc.StatusCode.UNAVAILABLE:
        return True
    return error.code is grpc.StatusCode.RESOURCE_EXHAUSTED and (
        error.reason == SUBSCRIBER_TOO_SLOW or frames_received > 0
    )


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter between reconnects; `max_attempts` consecutive failed
    reconnects (no frame received in between) give up and raise the last error. 0 means never give up."""

    initial_seconds: float = 0.2
    max_seconds: float = 10.0
    multiplier: float = 2.0
    max_attempts: int = 10

    def delay(self, attempt: int) -> float:
        """The pause before reconnect number `attempt` (1-based)."""
        ceiling = min(self.max_seconds, self.initial_seconds * self.multiplier ** (attempt - 1))
        # Full jitter keeps many clients cut at once by a restarting edge from reconnecting in lockstep.
        return random.uniform(ceiling / 2, ceiling)


OpenStream = Callable[[event_service_pb2.StreamEventsRequest], aio.UnaryStreamCall]


async def resuming_event_stream(
    open_stream: OpenStream,
    request: event_service_pb2.StreamEventsRequest,
    backoff: Backoff,
) -> AsyncIterator[event_service_pb2.StreamEventsResponse]:
    """Frames of StreamEvents across reconnects; each retry sends the last frame's resume token.

    The iterator ends when the server ends the stream normally. `ResumeTokenExpired` is raised as is: the
    caller must decide how to rebuild its state (a new stream starts with a snapshot).
    """
    token = request.resume_token
    failures = 0
    while True:
        attempt_request = event_service_pb2.StreamEventsRequest()
        attempt_request.CopyFrom(request)
        attempt_request.resume_token = token
        call = open_stream(attempt_request)
        received = 0
        try:
            async for frame in call:
                failures = 0
                received += 1
                if frame.resume_token:
                    token = frame.resume_token
                yield frame
            return
        except grpc.RpcError as rpc_error:
            error: IbkrError = error_from_rpc_error(rpc_error)
            if not is_resumable(error, received):
                raise error from None
            failures += 1
            if backoff.max_attempts and failures > backoff.max_attempts:
                raise error from None
            await asyncio.sleep(backoff.delay(failures))
        finally:
            call.cancel()  # no-op when finished; frees the call when the consumer stops early
