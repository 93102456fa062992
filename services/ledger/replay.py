"""Re-ingesting a range of bus events (from the bus, or from the ledger's own stored copies). Booking is
idempotent, so a replay applies only what is missing and reports the rest as duplicates. The range is
booked by `streaming.book_range`: one transaction (per TRANSACTION_MAX events), positions carried in memory."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator

import redis.asyncio as aioredis

from services.common.bus import FIELD_EVENT, BusEntry
from services.ledger.bulk import breathe
from services.ledger.events import PoisonEvent, decode, decode_fields
from services.ledger.records import IngestEvent
from services.ledger.sqlfile import Queries
from services.ledger.store import LedgerStore
from services.ledger.streaming import book_range

CHUNK = 2000
"""Entries per XRANGE, the chunk a replay books at a time (a chunk is six statements; 2,000 took less of
Postgres's CPU than 1,000, the journal still goes 1,000 entries a statement so the tail stays short)."""
FIRST_CHUNK = 200
"""Entries of the first XRANGE: Postgres has nothing to do until the first chunk is decoded."""
DECODE_SLICE = 50
"""Entries decoded between two turns of the event loop."""
TRANSACTION_MAX = 50_000
"""Events per replay transaction: a longer range is booked in several, each against what the previous
committed (one transaction keeps its whole range in memory)."""


def parse_stream_id(text: str) -> tuple[int, int]:
    """`1700000000000-3` or `1700000000000` → (ms, seq); ValueError otherwise."""
    ms, _, seq = text.partition("-")
    if not ms.isdigit() or (seq and not seq.isdigit()):
        raise ValueError(f"not a stream id: {text!r}")
    return int(ms), int(seq or 0)


@dataclasses.dataclass
class ReplayResult:
    """Counts of a replay."""

    read: int = 0
    applied: int = 0
    duplicates: int = 0
    failed: int = 0


class Replayer:
    """Replays ranges of one stream into one ledger."""

    def __init__(self, store: LedgerStore, redis: aioredis.Redis, stream: str, queries: Queries | None = None) -> None:
        self._store = store
        self._redis = redis
        self._stream = stream
        self._q = queries or store.q

    def _decode(self, entries: list[BusEntry], result: ReplayResult) -> list[IngestEvent]:
        events: list[IngestEvent] = []
        for entry in entries:
            try:
                events.append(decode(entry, self._stream))
            except PoisonEvent:
                result.failed += 1
        result.read += len(entries)
        return events

    async def _decode_sliced(self, reply: list, result: ReplayResult) -> list[IngestEvent]:
        """`_decode` of an XRANGE reply, a slice at a time with a turn of the event loop between: the booking's
        statements go to Postgres as soon as the previous one is done, not after the whole chunk is decoded."""
        events: list[IngestEvent] = []
        stream = self._stream
        for i in range(0, len(reply), DECODE_SLICE):
            for sid, fields in reply[i:i + DECODE_SLICE]:
                if not fields:
                    continue
                result.read += 1
                try:
                    payload = fields.get(FIELD_EVENT)
                    if payload is None:  # a client that decodes responses, or no event field: the general path
                        events.append(decode(BusEntry.from_redis(sid, fields), stream))
                        continue
                    tp, ts = fields.get(b"traceparent"), fields.get(b"tracestate")
                    events.append(decode_fields(sid.decode(), payload, tp.decode() if tp else "",
                                                ts.decode() if ts else "", stream))
                except PoisonEvent:
                    result.failed += 1
            await breathe()
        return events

    async def _read(self, cursor: str, end: str, count: int = CHUNK) -> tuple[list, str | None]:
        """One chunk of raw entries from `cursor`, and the cursor after it (None at the end of the range)."""
        reply = await self._redis.xrange(self._stream, min=cursor, max=end or "+", count=count)
        if len(reply) < count:
            return reply, None
        last_id = reply[-1][0]
        last_ms, last_seq = parse_stream_id(last_id.decode() if isinstance(last_id, bytes) else last_id)
        return reply, f"{last_ms}-{last_seq + 1}"

    async def _bus_chunks(self, start: str, end: str, result: ReplayResult) -> AsyncIterator[list[IngestEvent]]:
        """XRANGE start..end in chunks, decoded; the next chunk is read while the current one is decoded."""
        pending: asyncio.Task | None = asyncio.create_task(self._read(start, end, FIRST_CHUNK))
        try:
            while pending is not None:
                reply, cursor = await pending
                pending = asyncio.create_task(self._read(cursor, end)) if cursor else None
                yield await self._decode_sliced(reply, result)
        finally:
            if pending is not None:
                pending.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):  # the first error is the one raised
                    await pending

    async def _book(self, chunks: AsyncIterator[list[IngestEvent]], result: ReplayResult, dry_run: bool) -> None:
        """Book the chunks, TRANSACTION_MAX events per transaction (memory stays bounded on long ranges)."""
        more = True
        while more:
            more = False

            async def window() -> AsyncIterator[list[IngestEvent]]:
                nonlocal more
                taken = 0
                async for chunk in chunks:
                    yield chunk
                    taken += len(chunk)
                    if taken >= TRANSACTION_MAX:
                        more = True
                        return
            booked = await book_range(self._store, window(), dry_run=dry_run)
            result.applied += booked.events_new
            result.duplicates += booked.events_duplicate

    async def from_bus(self, start: str, end: str, *, dry_run: bool = False) -> ReplayResult:
        """XRANGE start..end (end empty: to the end of the stream), booked in one transaction (see bulk.py)."""
        result = ReplayResult()
        chunks = self._bus_chunks(start, end, result)
        try:
            await self._book(chunks, result, dry_run)
        finally:
            await chunks.aclose()
        return result

    async def from_stored(self, start: str, end: str, *, dry_run: bool = False) -> ReplayResult:
        """The same from the ledger's stored copies (beyond the bus's retention)."""
        lo = parse_stream_id(start)
        hi = parse_stream_id(end) if end else (2**62, 2**62)
        rows = await self._store.pool.fetch(self._q["stored_events_between"], self._stream, *lo, *hi)
        result = ReplayResult()

        async def chunks() -> AsyncIterator[list[IngestEvent]]:
            for i in range(0, len(rows), CHUNK):
                yield self._decode([BusEntry(r["stream_id"], r["payload"], r["event_type"], r["account_id"],
                                             {k: r[k] for k in ("traceparent", "tracestate") if r[k]})
                                    for r in rows[i:i + CHUNK]], result)
        await self._book(chunks(), result, dry_run)
        return result
