"""A subscriber that reads one message a second is cut when its queue fills, while 100 others receive every
event; the cut one gets RESOURCE_EXHAUSTED with its last token and resumes without loss."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from services.edge.tests.test_stream_events import next_frame, open_stream, order_event, publish
from services.edge.tests.test_trading import details

EVENTS = 200
OTHERS = 100
QUEUE = 64
RATE = 100  # events per second: 10,000 deliveries per second across the others


@pytest.fixture
def edge_overrides():
    return {"edge_subscriber_queue_size": QUEUE, "edge_max_streams_per_key": 1000, "edge_heartbeat_seconds": 30}


async def _collect(call, n: int) -> list[str]:
    seen = []
    while len(seen) < n:
        frame = await call.read()
        if frame.WhichOneof("frame") == "event":
            seen.append(frame.event.order_update.message)
    return seen


async def test_slow_subscriber_is_cut_while_100_others_get_every_event_and_it_resumes_without_loss(harness):
    others = [open_stream(harness, skip_snapshot=True) for _ in range(OTHERS)]
    # The slow reader's own connection, with a small HTTP/2 window, so the server feels its slowness at once.
    slow_channel = grpc.aio.insecure_channel(f"127.0.0.1:{harness.edge.port}", options=[
        ("grpc.http2.bdp_probe", 0), ("grpc.http2.lookahead_bytes", 1024)])
    slow = open_stream(type("H", (), {"channel": slow_channel, "auth": harness.auth})(), skip_snapshot=True)
    await asyncio.gather(*(c.initial_metadata() for c in [*others, slow]))  # each has joined the hub
    while harness.edge.hub.subscriber_count < OTHERS + 1:
        await asyncio.sleep(0.01)

    slow_frames: list = []

    async def read_one_per_second() -> None:
        while True:
            slow_frames.append(await slow.read())
            await asyncio.sleep(1.0)

    reader = asyncio.create_task(read_one_per_second())
    for i in range(EVENTS):
        await publish(harness, order_event(n=i))
        await asyncio.sleep(1 / RATE)
    received = await asyncio.gather(*(_collect(c, EVENTS) for c in others))
    assert all(seen == [str(i) for i in range(EVENTS)] for seen in received)
    while harness.edge.hub.subscriber_count > OTHERS:  # the slow one was detached by the cut
        await asyncio.sleep(0.01)
    reader.cancel()

    # Draining what was already in flight ends with the cut's status, carrying a token to resume from.
    seen = [f.event.order_update.message for f in slow_frames if f.WhichOneof("frame") == "event"]
    token = next((f.resume_token for f in reversed(slow_frames) if f.resume_token), "")
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        while True:
            frame = await slow.read()
            if frame.WhichOneof("frame") == "event":
                seen.append(frame.event.order_update.message)
            token = frame.resume_token or token
    assert exc.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert details(exc.value)[0] == "SUBSCRIBER_TOO_SLOW"
    assert len(seen) < EVENTS

    resumed = open_stream(harness, skip_snapshot=True, resume_token=token)
    await next_frame(resumed, "marker")
    seen += await _collect(resumed, EVENTS - len(seen))
    assert seen == [str(i) for i in range(EVENTS)]
    for call in [*others, resumed]:
        call.cancel()
    await slow_channel.close()
