"""EventService.StreamEvents: snapshot (or replay), then live deltas from the hub, with a token on every frame.

Frame order on a fresh stream: SNAPSHOT_BEGIN, the snapshot events, SNAPSHOT_END, live events. On a resumed
stream: RESUMED, the replayed events after the token, live events. Heartbeats fill idle time. Every frame's
`resume_token` is the bus position up to which the caller has seen everything it asked for; resuming with
it replays exactly the events after it.

A subscriber whose queue overflows is cut: the stream ends with RESOURCE_EXHAUSTED (reason
SUBSCRIBER_TOO_SLOW, the last token in ErrorInfo metadata `resume_token`). The hub decides the cut without
waiting; because the handler may be parked inside a gRPC send to a slow reader, the cut is delivered by a
separate task that aborts the call and cancels the handler, so server-side resources are freed at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from ibkr.edge.v1 import event_service_pb2 as pb
from ibkr.edge.v1 import event_service_pb2_grpc
from ibkr.trading.v1 import event_pb2, system_pb2

from services.common.errors import (
    FieldViolation,
    InvalidArgument,
    ResourceExhausted,
    to_rpc_status,
)
from services.edge import ledger_replay, resume
from services.edge import validation as val
from services.edge.downstream import Downstream
from services.edge.filters import EventFilter, payload_for_event_type
from services.edge.hub import StreamHub, StreamItem
from services.edge.resume import StreamPosition
from services.edge.snapshot import take_snapshot

_log = logging.getLogger("services.edge.events")

# Broker connection state → the marker a stream shows for it (as data).
BROKER_MARKERS: dict[int, int] = {
    system_pb2.BROKER_CONNECTION_STATE_DISCONNECTED: event_pb2.STREAM_MARKER_TYPE_BROKER_DISCONNECTED,
    system_pb2.BROKER_CONNECTION_STATE_CONNECTIVITY_LOST: event_pb2.STREAM_MARKER_TYPE_BROKER_DISCONNECTED,
    system_pb2.BROKER_CONNECTION_STATE_CONNECTED: event_pb2.STREAM_MARKER_TYPE_BROKER_RECONNECTED,
}


@dataclass
class _StreamState:
    """What the cutter needs to know about one stream."""

    token: str
    task: asyncio.Task | None
    ending: bool = False

    def claim_end(self) -> bool:
        """True for the first of (handler, cutter) to end the stream; the other stands aside."""
        if self.ending:
            return False
        self.ending = True
        return True


def _marker(kind: int, message: str = "", **details: object) -> event_pb2.StreamMarker:
    return event_pb2.StreamMarker(type=kind, message=message, **details)  # type: ignore[arg-type]


def _too_slow(token: str) -> ResourceExhausted:
    return ResourceExhausted("SUBSCRIBER_TOO_SLOW",
                             "the stream fell too far behind and was cut; resume with the last resume_token",
                             metadata={"resume_token": token})


class EventServicer(event_service_pb2_grpc.EventServiceServicer):
    """StreamEvents over the shared hub."""

    def __init__(self, hub: StreamHub, downstream: Downstream, *, queue_size: int, heartbeat_seconds: float) -> None:
        self._hub = hub
        self._down = downstream
        self._queue_size = queue_size
        self._heartbeat = heartbeat_seconds
        self._cutters: set[asyncio.Task] = set()

    def _parse(self, request: pb.StreamEventsRequest) -> tuple[EventFilter, StreamPosition | None]:
        v = val.Violations()
        val.check_enum_list(v, request, "event_types", "event_types")
        val.check_symbols(v, request.symbols)
        v.raise_if_any()
        after = None
        if request.resume_token:
            try:
                after = resume.decode(self._hub.stream, request.resume_token)
            except resume.InvalidResumeToken as err:
                raise InvalidArgument("INVALID_FIELD", f"resume_token: {err}", metadata={"field": "resume_token"},
                                      field_violations=[FieldViolation("resume_token", str(err),
                                                                       "INVALID_RESUME_TOKEN")]) from None
        payloads = [payload_for_event_type(event_pb2.EventType.Name(t)) for t in request.event_types]
        return EventFilter.build(request.account_id, payloads, request.symbols), after

    async def StreamEvents(self, request: pb.StreamEventsRequest,
                           context: grpc.aio.ServicerContext) -> AsyncIterator[pb.StreamEventsResponse]:
        flt, after = self._parse(request)
        hub = self._hub
        state = _StreamState(token="", task=asyncio.current_task())
        sub, joined = hub.subscribe(flt, self._queue_size, lambda: self._schedule_cut(context, state))
        encode = lambda position: resume.encode(hub.stream, position)
        try:
            # Headers now: the caller learns the stream is live (joined the hub) before any frame exists.
            await context.send_initial_metadata((("x-ibkr-stream", "joined"),))
            if after is not None:
                last = after
                async for position, frame in self._resume(request, flt, after, joined, context):
                    last = max(last, position)
                    state.token = frame.resume_token
                    yield frame
                last = max(last, joined)
            else:
                last = joined
                state.token = encode(joined)
                if not request.skip_snapshot:
                    async for frame in self._snapshot(request.account_id, flt, state.token, context):
                        yield frame
            while True:
                item = await sub.next(self._heartbeat)
                if sub.cut:
                    if state.claim_end():
                        raise _too_slow(state.token)
                    await asyncio.Future()  # the cutter is ending this call; wait to be cancelled
                if item is None:
                    if not sub.queue:
                        # Everything the hub dispatched so far has reached this stream (or was filtered out).
                        last = max(last, hub.position)
                    state.token = encode(last)
                    yield pb.StreamEventsResponse(heartbeat=_heartbeat(), resume_token=state.token)
                    continue
                if item.position <= last:
                    continue  # already replayed (the token was ahead of this hub when we joined)
                last = item.position
                for frame in self._frames(item, flt, encode(item.position)):
                    state.token = frame.resume_token
                    yield frame
        finally:
            hub.unsubscribe(sub)

    async def _resume(self, request: pb.StreamEventsRequest, flt: EventFilter, after: StreamPosition,
                      joined: StreamPosition, context: grpc.aio.ServicerContext,
                      ) -> AsyncIterator[tuple[StreamPosition, pb.StreamEventsResponse]]:
        """RESUMED, then every event after the token up to the join point: from the bus while it retains
        them, else from the ledger and then the bus; a GAP marker names anything that cannot be replayed."""
        hub, token = self._hub, request.resume_token
        encode = lambda position: resume.encode(hub.stream, position)
        if await hub.is_retained(after):
            yield after, _resumed(token, event_pb2.RESUME_SOURCE_BUS)
            async for item in hub.replay(after, joined):
                for frame in self._frames(item, flt, encode(item.position)):
                    yield item.position, frame
            return
        horizon = await ledger_replay.ledger_horizon(self._down, context, token)
        if horizon < after:
            raise ledger_replay.expired("the resume token is beyond what the ledger has stored and older than "
                                        "the bus retention; start a new stream for a fresh snapshot", token)
        bridge = min(horizon, joined)
        yield after, _resumed(token, event_pb2.RESUME_SOURCE_LEDGER)
        async for item in ledger_replay.ledger_items(self._down, context, flt, list(request.event_types), after,
                                                     bridge):
            for frame in self._frames(item, flt, encode(item.position)):
                yield item.position, frame
        if bridge < joined:
            if await hub.is_retained(bridge):
                async for item in hub.replay(bridge, joined):
                    for frame in self._frames(item, flt, encode(item.position)):
                        yield item.position, frame
            else:
                yield joined, _gap(encode(bridge), encode(joined), [], "events between the ledger's last commit "
                                   "and this stream's start are no longer on the bus")
        missing = ledger_replay.unstored_types(flt)
        if missing:
            yield joined, _gap(token, encode(joined), missing, "quotes are not stored by the ledger; "
                               "the ones before this point were not replayed")

    def _frames(self, item: StreamItem, flt: EventFilter, token: str) -> list[Any]:
        frames: list[Any] = []
        if flt.matches(item.payload, item.account_id, item.symbol):
            frames.append(encoded_event_frame(item, token))
        if item.payload == "connection_state_change":
            change = item.event.connection_state_change
            kind = BROKER_MARKERS.get(change.state)
            if kind is not None:
                frames.append(pb.StreamEventsResponse(marker=_marker(kind, change.message), resume_token=token))
        return frames

    async def _snapshot(self, account_id: str, flt: EventFilter, token: str,
                        context: grpc.aio.ServicerContext) -> AsyncIterator[pb.StreamEventsResponse]:
        yield pb.StreamEventsResponse(marker=_marker(event_pb2.STREAM_MARKER_TYPE_SNAPSHOT_BEGIN,
                                                     "current state follows"), resume_token=token)
        snap = await take_snapshot(self._down, account_id, flt, context)
        for event in snap.events:
            yield pb.StreamEventsResponse(event=event, resume_token=token)
        note = f"snapshot incomplete: {', '.join(snap.missing)} unavailable" if snap.missing else "live events follow"
        yield pb.StreamEventsResponse(marker=_marker(event_pb2.STREAM_MARKER_TYPE_SNAPSHOT_END, note),
                                      resume_token=token)

    def _schedule_cut(self, context: grpc.aio.ServicerContext, state: _StreamState) -> None:
        # Called synchronously from the hub's dispatch; the handler may be parked in a send to the slow
        # reader, so it cannot notice by itself. A task aborts the call and cancels the handler.
        if state.task is None or state.task.done():
            return
        task = asyncio.get_running_loop().create_task(self._cut(context, state))
        self._cutters.add(task)
        task.add_done_callback(self._cutters.discard)

    async def _cut(self, context: grpc.aio.ServicerContext, state: _StreamState) -> None:
        await asyncio.sleep(0)  # let a handler that is merely waiting on its queue end the stream itself
        if not state.claim_end():
            return
        # The status queues behind what the transport already holds, so the abort completes only once the
        # reader drains (or leaves); the handler is cancelled now so the server frees the stream at once.
        abort = asyncio.ensure_future(context.abort_with_status(to_rpc_status(_too_slow(state.token))))
        await asyncio.sleep(0)
        if state.task is not None and not state.task.done():
            state.task.cancel()
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await abort


class EncodedFrame(bytes):
    """A `StreamEventsResponse` already serialized; the stream's serializer passes it through as is."""

    resume_token: str


def encoded_event_frame(item: StreamItem, token: str) -> EncodedFrame:
    """The event frame for `item`, serialized once per (event, token) and shared by every subscriber."""
    frame = item.cache.get(token)
    if frame is None:
        frame = EncodedFrame(pb.StreamEventsResponse(event=item.event, resume_token=token).SerializeToString())
        frame.resume_token = token
        item.cache[token] = frame
    return frame  # type: ignore[return-value]


def serialize_frame(frame: pb.StreamEventsResponse | bytes) -> bytes:
    """The EventService response serializer: pre-encoded frames as they are, messages serialized."""
    # grpc wants exactly `bytes`; copying a few hundred bytes is far cheaper than re-encoding the event.
    return bytes(frame) if isinstance(frame, bytes) else frame.SerializeToString()


def add_event_service(servicer: EventServicer, server: grpc.aio.Server) -> None:
    """Like the generated `add_EventServiceServicer_to_server`, with the pass-through serializer."""
    handler = grpc.unary_stream_rpc_method_handler(servicer.StreamEvents,
                                                   request_deserializer=pb.StreamEventsRequest.FromString,
                                                   response_serializer=serialize_frame)
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(
        pb.DESCRIPTOR.services_by_name["EventService"].full_name, {"StreamEvents": handler}),))


def _resumed(token: str, source: int) -> pb.StreamEventsResponse:
    return pb.StreamEventsResponse(marker=_marker(
        event_pb2.STREAM_MARKER_TYPE_RESUMED, "replaying events after the resume token",
        resumed=event_pb2.Resumed(resume_token=token, source=source)), resume_token=token)


def _gap(from_token: str, to_token: str, types: list[int], message: str) -> pb.StreamEventsResponse:
    return pb.StreamEventsResponse(marker=_marker(event_pb2.STREAM_MARKER_TYPE_GAP, message, gap=event_pb2.Gap(
        from_resume_token=from_token, to_resume_token=to_token, event_types=types, message=message)),
        resume_token=to_token)


def _heartbeat() -> event_pb2.Heartbeat:
    now = Timestamp()
    now.GetCurrentTime()
    return event_pb2.Heartbeat(server_time=now)
