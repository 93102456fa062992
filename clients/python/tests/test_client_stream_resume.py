"""`stream_events` resumes by itself with the last resume token, so every event arrives exactly once.

The server is an edge double (see edge_doubles) implementing EventService over a fixed event log, cutting
the stream at scripted frames: the real edge cannot be made to drop a connection at an exact event.
"""

from __future__ import annotations

import grpc
import pytest
from edge_doubles import (
    ScriptedEvents,
    ServerThread,
    rich_status,
    server_thread_fixture,  # noqa: F401 (the server_thread fixture)
    too_slow,
    unavailable,
)
from ibkr.client import (
    AsyncClient,
    Backoff,
    Client,
    PermissionDenied,
    ResourceExhausted,
    ResumeTokenExpired,
    RetryPolicy,
    Unavailable,
)
from ibkr.edge.v1 import event_service_pb2_grpc

FAST = Backoff(initial_seconds=0.01, max_seconds=0.02, max_attempts=3)
NO_CHANNEL_RETRY = RetryPolicy(max_attempts=2, initial_backoff_seconds=0.01, max_backoff_seconds=0.01)


def serve(server_thread: ServerThread, servicer: ScriptedEvents) -> str:
    return server_thread.serve((event_service_pb2_grpc.add_EventServiceServicer_to_server, servicer))


async def test_a_stream_cut_twice_resumes_with_the_last_token_and_delivers_every_event_once(
    server_thread: ServerThread,
) -> None:
    servicer = ScriptedEvents(20, cuts=[(3, unavailable()), (5, too_slow())])
    async with AsyncClient(serve(server_thread, servicer), "key", backoff=FAST) as client:
        ids = [f.event.event_id async for f in client.stream_events(account_id="DU1") if f.HasField("event")]
    assert ids == [f"e{i}" for i in range(20)]
    assert servicer.tokens == ["", "2", "7"]
    assert servicer.keys == ["Bearer key"] * 3


async def test_a_stream_started_from_a_token_resumes_after_it(server_thread: ServerThread) -> None:
    servicer = ScriptedEvents(10, cuts=[(2, unavailable())])
    async with AsyncClient(serve(server_thread, servicer), "key", backoff=FAST) as client:
        stream = client.stream_events(resume_token="4")
        ids = [f.event.event_id async for f in stream if f.HasField("event")]
    assert ids == [f"e{i}" for i in range(5, 10)]
    assert servicer.tokens == ["4", "6"]


async def test_an_expired_resume_token_raises_resume_token_expired(server_thread: ServerThread) -> None:
    servicer = ScriptedEvents(10, cuts=[(2, unavailable())], expired=True)
    async with AsyncClient(serve(server_thread, servicer), "key", backoff=FAST) as client:
        seen: list[str] = []
        with pytest.raises(ResumeTokenExpired):
            async for frame in client.stream_events():
                if frame.HasField("event"):
                    seen.append(frame.event.event_id)
    assert seen == ["e0", "e1"]
    assert servicer.tokens == ["", "1"]


async def test_a_permission_error_on_the_stream_is_raised_without_reconnecting(server_thread: ServerThread) -> None:
    denied = rich_status(grpc.StatusCode.PERMISSION_DENIED, "other account", "ACCOUNT_NOT_IN_SCOPE")
    servicer = ScriptedEvents(10, cuts=[(1, denied)])
    async with AsyncClient(serve(server_thread, servicer), "key", backoff=FAST) as client:
        with pytest.raises(PermissionDenied):
            async for _ in client.stream_events():
                pass
    assert servicer.tokens == [""]


async def test_reconnecting_gives_up_after_the_backoff_attempts(server_thread: ServerThread) -> None:
    servicer = ScriptedEvents(10, cuts=[(0, unavailable())] * 10, heartbeat=False)
    async with AsyncClient(
        serve(server_thread, servicer), "key", backoff=FAST, retry=NO_CHANNEL_RETRY
    ) as client:
        with pytest.raises(Unavailable):
            async for _ in client.stream_events():
                pass
    # The first connection plus `max_attempts` reconnects, each possibly retried once by the channel.
    assert FAST.max_attempts + 1 <= len(servicer.tokens) <= 2 * (FAST.max_attempts + 1)


def test_the_blocking_client_streams_across_a_cut_too(server_thread: ServerThread) -> None:
    servicer = ScriptedEvents(6, cuts=[(4, too_slow())])
    with Client(serve(server_thread, servicer), "key", backoff=FAST) as client:
        ids = [f.event.event_id for f in client.stream_events() if f.HasField("event")]
    assert ids == [f"e{i}" for i in range(6)]
    assert servicer.tokens == ["", "3"]


async def test_too_many_streams_at_the_start_is_raised_without_reconnecting(server_thread: ServerThread) -> None:
    refused = rich_status(grpc.StatusCode.RESOURCE_EXHAUSTED, "at most 1 stream", "TOO_MANY_STREAMS")
    servicer = ScriptedEvents(10, cuts=[(0, refused)], heartbeat=False)
    async with AsyncClient(serve(server_thread, servicer), "key", backoff=FAST, retry=NO_CHANNEL_RETRY) as client:
        with pytest.raises(ResourceExhausted) as raised:
            async for _ in client.stream_events():
                pass
    assert raised.value.reason == "TOO_MANY_STREAMS"
    assert servicer.tokens == [""]


async def test_a_slow_subscriber_cut_before_any_frame_still_resumes(server_thread: ServerThread) -> None:
    servicer = ScriptedEvents(4, cuts=[(0, too_slow())], heartbeat=False)
    async with AsyncClient(serve(server_thread, servicer), "key", backoff=FAST) as client:
        ids = [f.event.event_id async for f in client.stream_events() if f.HasField("event")]
    assert ids == ["e0", "e1", "e2", "e3"]
    assert servicer.tokens == ["", ""]


def test_breaking_out_of_a_blocking_stream_cancels_it_and_the_client_closes(server_thread: ServerThread) -> None:
    servicer = ScriptedEvents(1000, cuts=[])
    with Client(serve(server_thread, servicer), "key", backoff=FAST) as client:
        events = client.stream_events()
        ids = []
        for frame in events:
            if frame.HasField("event"):
                ids.append(frame.event.event_id)
            if len(ids) == 3:
                break
        events.close()  # type: ignore[attr-defined]
    assert ids == ["e0", "e1", "e2"]
    assert servicer.tokens == [""]
