"""Resuming beyond the bus retention: replay from the ledger's stored events, then bridge to the bus.

The ledger stores every bus event except quotes, keyed by its stream id (`LedgerService.ListEvents`). A
resume whose token the bus no longer covers is served from there up to the ledger's last committed stream
id, and from the bus after that. The plan is refused (so the caller gets RESUME_TOKEN_EXPIRED and starts a
fresh stream with a snapshot) whenever the ledger cannot vouch for completeness: entries still pending in
its consumer group, or a token older than anything it has stored.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
from ibkr.ledger.v1 import ledger_pb2
from ibkr.trading.v1 import event_pb2

from services.common.errors import DomainError, FailedPrecondition
from services.edge.downstream import Downstream
from services.edge.filters import EventFilter, event_type_for_payload
from services.edge.hub import StreamItem, payload_symbol
from services.edge.resume import ORIGIN, StreamPosition

UNSTORED_PAYLOADS = frozenset({"quote_update"})
"""What the ledger does not keep: a resume through it has a gap for these, reported with a GAP marker."""


def expired(message: str, token: str) -> FailedPrecondition:
    """The RESUME_TOKEN_EXPIRED refusal."""
    return FailedPrecondition("RESUME_TOKEN_EXPIRED", message, metadata={"resume_token": token})


async def ledger_horizon(down: Downstream, context: grpc.aio.ServicerContext | None, token: str) -> StreamPosition:
    """The stream position up to which the ledger holds every stored event; refuses when it cannot say."""
    try:
        status = (await down.call(down.ledger.GetIngestStatus, ledger_pb2.GetIngestStatusRequest(), context)).status
    except DomainError:
        raise expired("the resume token is older than the bus retention and the ledger cannot replay now; "
                      "start a new stream for a fresh snapshot", token) from None
    if status.pending_events or not status.last_committed_stream_id:
        raise expired("the resume token is older than the bus retention and the ledger is still catching up; "
                      "start a new stream for a fresh snapshot", token)
    return StreamPosition.parse(status.last_committed_stream_id)


async def ledger_items(down: Downstream, context: grpc.aio.ServicerContext | None, flt: EventFilter,
                       event_types: list[int], after: StreamPosition, upto: StreamPosition,
                       page_size: int = 500) -> AsyncIterator[StreamItem]:
    """Stored events in `(after, upto]` for the filter's account and types, oldest first."""
    token = ""
    while True:
        reply = await down.call(down.ledger.ListEvents, ledger_pb2.ListEventsRequest(
            account_id=flt.account_id, after_stream_id="" if after == ORIGIN else str(after),
            event_types=event_types, page_size=page_size, page_token=token), context)
        for stored in reply.events:
            position = StreamPosition.parse(stored.stream_id)
            if position > upto:
                return
            payload = stored.event.WhichOneof("payload") or ""
            yield StreamItem(position, payload, stored.event.account_id,
                             stored.event.symbol or payload_symbol(stored.event, payload), stored.event)
        token = reply.next_page_token
        if not token:
            return


def unstored_types(flt: EventFilter) -> list[int]:
    """The event types the caller wants that a ledger replay cannot contain."""
    wanted = UNSTORED_PAYLOADS if not flt.payloads else UNSTORED_PAYLOADS & flt.payloads
    return [event_pb2.EventType.Value(event_type_for_payload(p)) for p in sorted(wanted)]
