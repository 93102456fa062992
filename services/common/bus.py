"""The event bus on Redis Streams: publish, tail, and consumer groups with at-least-once delivery.

Each entry holds the serialized event (`event`), its payload type (`type`), the account (`account`) and
the publisher's W3C trace context (`traceparent`, `tracestate`), so a consumer's span joins the trace of
whatever caused the event. Delivery to a group is at least once: consumers must be idempotent and XACK
only after their own commit.

The Redis client must be created with `decode_responses=False` (payloads are protobuf bytes).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis
from opentelemetry import context as otel_context
from redis.exceptions import ResponseError

from services.common.telemetry import extract_context as _extract_from_carrier
from services.common.telemetry import inject_context

FIELD_EVENT = b"event"
FIELD_TYPE = b"type"
FIELD_ACCOUNT = b"account"
TRACE_FIELDS = (b"traceparent", b"tracestate")
DEAD_LETTER_SUFFIX = ":dead"


def _text(value: bytes | str | None) -> str:
    if value is None:
        return ""
    return value.decode() if isinstance(value, bytes) else value


def _raw(value: bytes | str | None) -> bytes:
    if value is None:
        return b""
    return value.encode() if isinstance(value, str) else value


@dataclass(frozen=True)
class BusEntry:
    """One stream entry, decoded."""

    stream_id: str
    payload: bytes
    event_type: str
    account: str
    trace_context: Mapping[str, str] = field(default_factory=dict)
    fields: Mapping[bytes, bytes] = field(default_factory=dict, repr=False)

    def extract_context(self) -> otel_context.Context:
        """The OTel context of the publisher: `tracer.start_as_current_span(..., context=entry.extract_context())`."""
        return _extract_from_carrier(self.trace_context)

    @classmethod
    def from_redis(cls, stream_id: bytes | str, raw_fields: Mapping[Any, Any]) -> BusEntry:
        fields = {_raw(k): _raw(v) for k, v in raw_fields.items()}
        trace_context = {_text(k): _text(fields[k]) for k in TRACE_FIELDS if fields.get(k)}
        return cls(
            stream_id=_text(stream_id),
            payload=fields.get(FIELD_EVENT, b""),
            event_type=_text(fields.get(FIELD_TYPE)),
            account=_text(fields.get(FIELD_ACCOUNT)),
            trace_context=trace_context,
            fields=fields,
        )


def stream_id_key(stream_id: str) -> tuple[int, int]:
    """Sort key for stream ids (`ms-seq`); string order is wrong ("10-0" < "9-0")."""
    ms, _, seq = stream_id.partition("-")
    return int(ms), int(seq or 0)


def _messages(reply: Any) -> list[tuple[Any, Any]]:
    """(id, fields) pairs of an XREAD/XREADGROUP reply for one stream, under RESP2 or RESP3."""
    if not reply:
        return []
    if isinstance(reply, dict):  # RESP3: {stream: [[(id, fields), ...]]}
        return [m for batches in reply.values() for batch in batches for m in batch]
    return [m for _name, messages in reply for m in messages]  # RESP2: [[stream, [(id, fields), ...]]]


def _entries(reply: Any) -> list[BusEntry]:
    # A pending entry deleted from the stream comes back with no fields (nil or {}): nothing to process.
    return [BusEntry.from_redis(sid, fields) for sid, fields in _messages(reply) if fields]


class EventBus:
    """Publishes to and tails one stream. `EventBus(redis, "ibkr:events", maxlen=1_000_000)`."""

    def __init__(self, redis: aioredis.Redis, stream: str, maxlen: int | None) -> None:
        self._redis = redis
        self.stream = stream
        self._maxlen = maxlen

    async def publish(self, payload: bytes, *, event_type: str, account: str) -> str:
        """XADD the event with the current trace context; returns its stream id.

        Trimming is approximate (`MAXLEN ~`), which lets Redis drop whole macro-nodes cheaply.
        """
        fields: dict[bytes, bytes] = {
            FIELD_EVENT: payload,
            FIELD_TYPE: event_type.encode(),
            FIELD_ACCOUNT: account.encode(),
        }
        for key, value in inject_context().items():
            fields[key.encode()] = value.encode()
        stream_id = await self._redis.xadd(
            self.stream, fields, maxlen=self._maxlen, approximate=self._maxlen is not None
        )
        return _text(stream_id)

    async def read_after(self, last_id: str, count: int = 100, block_ms: int | None = None) -> list[BusEntry]:
        """Up to `count` entries after `last_id` (`"0"` from the start, `"$"` only new ones).

        With `block_ms`, waits that long for at least one; keep passing the last id you saw so nothing
        published between two calls is missed.
        """
        reply = await self._redis.xread({self.stream: last_id}, count=count, block=block_ms)
        return _entries(reply)


@dataclass(frozen=True)
class GroupLag:
    """XINFO GROUPS for one group: entries delivered but unacked, and entries not yet delivered.

    `lag` is None when Redis cannot tell (e.g. after trimming past the group's position).
    """

    pending: int
    lag: int | None


class ConsumerGroup:
    """One consumer in a consumer group on a stream.

    `ConsumerGroup(redis, "ibkr:events", "ledger", consumer="ledger-1")`; call `ensure()` once at start.
    """

    def __init__(
        self,
        redis: aioredis.Redis,
        stream: str,
        group: str,
        consumer: str,
        *,
        dead_letter_maxlen: int | None = 100_000,
    ) -> None:
        self._redis = redis
        self.stream = stream
        self.group = group
        self.consumer = consumer
        self.dead_letter_stream = stream + DEAD_LETTER_SUFFIX
        self._dead_maxlen = dead_letter_maxlen

    async def ensure(self, start_id: str = "0") -> bool:
        """Create the group (and the stream) if missing; True when it was created.

        `start_id="0"` delivers everything already in the stream to a new group, which is what a
        system of record wants; `"$"` only what is published from now on.
        """
        try:
            await self._redis.xgroup_create(self.stream, self.group, id=start_id, mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
            return False
        return True

    async def read(
        self, count: int = 100, block_ms: int | None = None, *, pending_after: str | None = None
    ) -> list[BusEntry]:
        """New entries for this consumer, or with `pending_after` its own unacked ones after that id.

        After a restart, drain what this consumer was given but never acked before reading new entries::

            cursor = "0"
            while batch := await group.read(100, pending_after=cursor):
                ...  # process, ack
                cursor = batch[-1].stream_id

        Pending entries that were trimmed from the stream meanwhile are acked and skipped: there is nothing
        left to process.
        """
        start = ">" if pending_after is None else pending_after
        reply = await self._redis.xreadgroup(
            self.group,
            self.consumer,
            {self.stream: start},
            count=count,
            block=block_ms if pending_after is None else None,
        )
        if pending_after is not None:
            await self._ack_trimmed(reply)
        return _entries(reply)

    async def _ack_trimmed(self, reply: Any) -> None:
        gone = [sid for sid, fields in _messages(reply) if not fields]
        if gone:
            await self._redis.xack(self.stream, self.group, *gone)

    async def ack(self, ids: Iterable[str]) -> int:
        """XACK the ids; returns how many were pending. Call only after your own commit."""
        ids = list(ids)
        if not ids:
            return 0
        return int(await self._redis.xack(self.stream, self.group, *ids))

    async def autoclaim(self, min_idle_ms: int, count: int = 100) -> list[BusEntry]:
        """Take over up to `count` entries other consumers left unacked for `min_idle_ms` (XAUTOCLAIM).

        Scans the whole pending list (XAUTOCLAIM pages through it) until `count` are claimed. Claiming bumps
        each entry's delivery count, which `delivery_counts` reads for poison detection.
        """
        claimed: list[BusEntry] = []
        cursor = "0-0"
        while len(claimed) < count:
            reply = await self._redis.xautoclaim(
                self.stream,
                self.group,
                self.consumer,
                min_idle_time=min_idle_ms,
                start_id=cursor,
                count=count - len(claimed),
            )
            cursor = _text(reply[0])
            claimed.extend(BusEntry.from_redis(sid, f) for sid, f in reply[1] if f)
            if cursor == "0-0":
                break
        return claimed

    async def delivery_counts(self, ids: Sequence[str]) -> dict[str, int]:
        """How many times each pending id has been delivered (XPENDING); ids not pending are absent."""
        if not ids:
            return {}
        async with self._redis.pipeline(transaction=False) as pipe:
            for stream_id in ids:
                pipe.xpending_range(self.stream, self.group, min=stream_id, max=stream_id, count=1)
            replies = await pipe.execute()
        counts: dict[str, int] = {}
        for reply in replies:
            for item in reply:
                counts[_text(item["message_id"])] = int(item["times_delivered"])
        return counts

    async def dead_letter(self, entry: BusEntry, reason: str) -> str:
        """Move a poison entry to `<stream>:dead` (with why, where from) and ack it, atomically.

        Returns the dead-letter stream id.
        """
        fields = dict(entry.fields)
        fields.update(
            {
                b"dead_reason": reason.encode(),
                b"source_stream": self.stream.encode(),
                b"source_id": entry.stream_id.encode(),
                b"group": self.group.encode(),
                b"consumer": self.consumer.encode(),
            }
        )
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.xadd(
                self.dead_letter_stream,
                fields,
                maxlen=self._dead_maxlen,
                approximate=self._dead_maxlen is not None,
            )
            pipe.xack(self.stream, self.group, entry.stream_id)
            dead_id, _acked = await pipe.execute()
        return _text(dead_id)

    async def lag(self) -> GroupLag:
        """This group's pending and lag from XINFO GROUPS (for the `ibkr_*_lag` gauges)."""
        for info in await self._redis.xinfo_groups(self.stream):
            if _text(info.get("name")) == self.group:
                lag = info.get("lag")
                return GroupLag(pending=int(info.get("pending") or 0), lag=None if lag is None else int(lag))
        raise LookupError(f"no consumer group {self.group!r} on {self.stream!r}")
