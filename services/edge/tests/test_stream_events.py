"""StreamEvents against real Redis: snapshot then live deltas, scoping and filters, markers, resume with no
gap and no duplicate, expired and bad tokens, and a slow subscriber cut without hurting the others."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import pytest
from ibkr.edge.v1 import event_service_pb2 as events
from ibkr.edge.v1 import event_service_pb2_grpc
from ibkr.trading.v1 import event_pb2, order_pb2, system_pb2

from services.edge import resume
from services.edge.tests.fakes import ACCOUNT, OTHER_ACCOUNT
from services.edge.tests.test_trading import details

MARKER = event_pb2.StreamMarkerType


def order_event(account: str = ACCOUNT, symbol: str = "AAPL", n: int = 0) -> event_pb2.Event:
    order = order_pb2.Order(order_id=f"ord-{n}", account_id=account, status=order_pb2.ORDER_STATUS_SUBMITTED)
    order.spec.instrument.symbol = symbol
    return event_pb2.Event(event_id=str(uuid.uuid4()), account_id=account, symbol=symbol, source="test",
                           order_update=event_pb2.OrderUpdate(order=order, message=str(n)))


def connection_event(state: int) -> event_pb2.Event:
    return event_pb2.Event(event_id=str(uuid.uuid4()), source="test",
                           connection_state_change=event_pb2.ConnectionStateChange(state=state, message="ib"))


async def publish(harness, event: event_pb2.Event) -> str:
    return await harness.bus.publish(event.SerializeToString(), event_type=event.WhichOneof("payload"),
                                     account=event.account_id)


def open_stream(harness, who: str = "viewer", **fields):
    stub = event_service_pb2_grpc.EventServiceStub(harness.channel)
    return stub.StreamEvents(events.StreamEventsRequest(**fields), metadata=harness.auth(who))


async def next_frame(call, kind: str) -> events.StreamEventsResponse:
    """The next frame of `kind` ('event', 'marker', 'heartbeat'), skipping heartbeats otherwise."""
    while True:
        frame = await call.read()
        assert frame is not grpc.aio.EOF
        if frame.WhichOneof("frame") == kind:
            return frame


async def read_until_snapshot_end(call) -> list[events.StreamEventsResponse]:
    frames = []
    while True:
        frame = await call.read()
        frames.append(frame)
        if frame.WhichOneof("frame") == "marker" and frame.marker.type == MARKER.STREAM_MARKER_TYPE_SNAPSHOT_END:
            return frames


async def test_stream_starts_with_a_snapshot_then_delivers_live_events_for_the_callers_account(harness):
    call = open_stream(harness)
    snapshot = await read_until_snapshot_end(call)
    assert snapshot[0].marker.type == MARKER.STREAM_MARKER_TYPE_SNAPSHOT_BEGIN
    kinds = [f.event.WhichOneof("payload") for f in snapshot if f.WhichOneof("frame") == "event"]
    assert kinds == ["position_update", "account_update"]  # no open orders in the fakes yet
    assert all(f.resume_token for f in snapshot)
    await publish(harness, order_event(OTHER_ACCOUNT, n=1))
    await publish(harness, order_event(ACCOUNT, n=2))
    frame = await next_frame(call, "event")
    assert frame.event.order_update.message == "2" and frame.resume_token
    call.cancel()


async def test_stream_without_a_key_is_unauthenticated(harness):
    call = open_stream(harness, who="")
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await call.read()
    assert exc.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_stream_for_an_account_outside_the_key_is_permission_denied(harness):
    call = open_stream(harness, account_id=OTHER_ACCOUNT)
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await call.read()
    assert exc.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_filters_by_event_type_and_symbol(harness):
    call = open_stream(harness, skip_snapshot=True, symbols=["msft"],
                       event_types=[event_pb2.EVENT_TYPE_ORDER_UPDATE])
    await next_frame(call, "heartbeat")  # joined the hub
    await publish(harness, order_event(symbol="AAPL", n=1))
    await publish(harness, order_event(symbol="MSFT", n=2))
    frame = await next_frame(call, "event")
    assert frame.event.order_update.message == "2"
    call.cancel()


async def test_heartbeats_carry_a_resume_token(harness):
    call = open_stream(harness, skip_snapshot=True)
    frame = await next_frame(call, "heartbeat")
    assert frame.resume_token and frame.heartbeat.HasField("server_time")
    call.cancel()


async def test_broker_disconnect_and_reconnect_show_as_markers_even_when_filtered_out(harness):
    call = open_stream(harness, skip_snapshot=True, event_types=[event_pb2.EVENT_TYPE_FILL])
    await next_frame(call, "heartbeat")
    await publish(harness, connection_event(system_pb2.BROKER_CONNECTION_STATE_CONNECTIVITY_LOST))
    await publish(harness, connection_event(system_pb2.BROKER_CONNECTION_STATE_CONNECTED))
    first = await next_frame(call, "marker")
    second = await next_frame(call, "marker")
    assert (first.marker.type, second.marker.type) == (MARKER.STREAM_MARKER_TYPE_BROKER_DISCONNECTED,
                                                      MARKER.STREAM_MARKER_TYPE_BROKER_RECONNECTED)
    call.cancel()


async def test_resume_after_disconnect_in_a_burst_of_1000_delivers_each_event_once_in_order(harness):
    call = open_stream(harness, skip_snapshot=True)
    await next_frame(call, "heartbeat")
    burst = asyncio.create_task(_publish_burst(harness, 1000))
    seen: list[str] = []
    token = ""
    while len(seen) < 300:  # disconnect in the middle of the burst
        frame = await call.read()
        token = frame.resume_token or token
        if frame.WhichOneof("frame") == "event":
            seen.append(frame.event.order_update.message)
    call.cancel()
    await burst
    resumed = open_stream(harness, skip_snapshot=True, resume_token=token)
    first = await resumed.read()
    assert first.marker.type == MARKER.STREAM_MARKER_TYPE_RESUMED
    assert first.marker.resumed.source == event_pb2.RESUME_SOURCE_BUS
    while len(seen) < 1000:
        frame = await resumed.read()
        if frame.WhichOneof("frame") == "event":
            seen.append(frame.event.order_update.message)
    resumed.cancel()
    assert seen == [str(i) for i in range(1000)]


async def _publish_burst(harness, n: int) -> None:
    for i in range(n):
        await publish(harness, order_event(n=i))


async def test_resume_token_beyond_bus_retention_is_failed_precondition_resume_token_expired(harness):
    await publish(harness, order_event(n=0))
    call = open_stream(harness, skip_snapshot=True)
    token = (await next_frame(call, "heartbeat")).resume_token
    call.cancel()
    for i in range(1, 5):
        await publish(harness, order_event(n=i))
    await harness.bus._redis.xtrim(harness.settings.bus_stream, maxlen=1, approximate=False)
    resumed = open_stream(harness, skip_snapshot=True, resume_token=token)
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await resumed.read()
    assert exc.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert details(exc.value)[0] == "RESUME_TOKEN_EXPIRED"


@pytest.mark.parametrize("token", ["garbage!", "AAAA", "ATvGrPoAAAAAAAAAAAAAAAAAAAAA"])
async def test_malformed_or_foreign_resume_token_is_invalid_argument(harness, token):
    call = open_stream(harness, resume_token=token)
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await call.read()
    assert exc.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert details(exc.value)[1] == ["resume_token"]


async def test_resume_beyond_bus_retention_replays_from_the_ledger_then_goes_live(harness):
    ids = [await publish(harness, order_event(n=i)) for i in range(5)]
    stored = await harness.bus._redis.xrange(harness.settings.bus_stream)
    for stream_id, fields in stored:
        event = event_pb2.Event.FromString(fields[b"event"])
        harness.state.stored_events.append((stream_id.decode(), event))
    harness.state.ingest = system_pb2.IngestStatus(last_committed_stream_id=ids[-1])
    token = resume.encode(harness.settings.bus_stream, resume.StreamPosition.parse(ids[1]))
    await harness.bus._redis.xtrim(harness.settings.bus_stream, maxlen=0, approximate=False)
    call = open_stream(harness, resume_token=token, event_types=[event_pb2.EVENT_TYPE_ORDER_UPDATE])
    first = await call.read()
    assert first.marker.resumed.source == event_pb2.RESUME_SOURCE_LEDGER
    replayed = [(await next_frame(call, "event")).event.order_update.message for _ in range(3)]
    assert replayed == ["2", "3", "4"]
    await publish(harness, order_event(n=5))
    assert (await next_frame(call, "event")).event.order_update.message == "5"
    call.cancel()


async def test_resume_beyond_retention_while_the_ledger_is_behind_is_expired(harness):
    ids = [await publish(harness, order_event(n=i)) for i in range(3)]
    harness.state.ingest = system_pb2.IngestStatus(last_committed_stream_id=ids[-1], pending_events=2)
    token = resume.encode(harness.settings.bus_stream, resume.StreamPosition.parse(ids[0]))
    await harness.bus._redis.xtrim(harness.settings.bus_stream, maxlen=0, approximate=False)
    call = open_stream(harness, resume_token=token)
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await call.read()
    assert details(exc.value)[0] == "RESUME_TOKEN_EXPIRED"


async def test_ledger_resume_reports_quotes_as_a_gap(harness):
    ids = [await publish(harness, order_event(n=i)) for i in range(2)]
    harness.state.ingest = system_pb2.IngestStatus(last_committed_stream_id=ids[-1])
    token = resume.encode(harness.settings.bus_stream, resume.StreamPosition.parse(ids[0]))
    await harness.bus._redis.xtrim(harness.settings.bus_stream, maxlen=0, approximate=False)
    call = open_stream(harness, resume_token=token)
    await call.read()  # RESUMED
    gap = await next_frame(call, "marker")
    assert gap.marker.type == MARKER.STREAM_MARKER_TYPE_GAP
    assert list(gap.marker.gap.event_types) == [event_pb2.EVENT_TYPE_QUOTE_UPDATE]
    call.cancel()
