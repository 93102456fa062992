"""LedgerService: validate → query → map back. No SQL and no arithmetic here."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import grpc
from ibkr.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from ibkr.trading.v1 import event_pb2, order_pb2, system_pb2

from services.common.errors import FieldViolation, InvalidArgument, NotFound
from services.ledger import mapping
from services.ledger.events import enum_name
from services.ledger.ingest import IngestState
from services.ledger.pagination import InvalidPageToken, PageTokens, page_size
from services.ledger.pnl import account_pnl, position_daily, position_pnl
from services.ledger.reads import LedgerReader, Window
from services.ledger.replay import parse_stream_id


def _invalid(field: str, description: str, reason: str = "INVALID_FIELD") -> InvalidArgument:
    return InvalidArgument(reason, f"{field}: {description}", metadata={"field": field},
                           field_violations=[FieldViolation(field, description, reason)])


def _require(value: str, field: str) -> str:
    if not value:
        raise _invalid(field, "is required")
    return value


def _window(request: Any) -> Window:
    start = request.start_time.ToDatetime(tzinfo=UTC) if request.HasField("start_time") else None
    end = request.end_time.ToDatetime(tzinfo=UTC) if request.HasField("end_time") else None
    if start and end and end <= start:
        raise _invalid("end_time", "must be after start_time")
    return Window(start, end)


def _size(request: Any) -> int:
    try:
        return page_size(request.page_size)
    except ValueError:
        raise _invalid("page_size", "must not be negative") from None


class LedgerServicer(ledger_pb2_grpc.LedgerServiceServicer):
    """The ledger's gRPC API. RPCs not overridden answer UNIMPLEMENTED."""

    def __init__(self, reader: LedgerReader, tokens: PageTokens, ingest_state: IngestState, *,
                 stream: str = "", group: str = "", reconciler: Any = None, replayer: Any = None,
                 store: Any = None, default_account: str = "",
                 today: Callable[[], date] = lambda: datetime.now(UTC).date()) -> None:
        self._reader = reader
        self._tokens = tokens
        self._ingest = ingest_state
        self._stream, self._group = stream, group
        self._reconciler = reconciler
        self._replayer = replayer
        self._store = store
        self._default_account = default_account
        self._today = today

    def _after(self, request: Any, list_name: str, filters: dict[str, Any]) -> list[Any] | None:
        if not request.page_token:
            return None
        try:
            return self._tokens.decode(request.page_token, list_name, filters)
        except InvalidPageToken as exc:
            raise _invalid("page_token", str(exc), "INVALID_PAGE_TOKEN") from None

    def _next(self, list_name: str, filters: dict[str, Any], position: list[Any] | None) -> str:
        return "" if position is None else self._tokens.encode(list_name, filters, position)

    async def ListFills(self, request: ledger_pb2.ListFillsRequest, context: grpc.aio.ServicerContext,
                        ) -> ledger_pb2.ListFillsResponse:
        account = _require(request.account_id, "account_id")
        window, size = _window(request), _size(request)
        filters = {"a": account, "s": request.symbol, "o": request.order_id, "c": request.client_order_id,
                   "w": [str(window.start), str(window.end)], "i": request.include_superseded}
        page = await self._reader.list_fills(
            account, symbol=request.symbol, order_id=request.order_id, client_order_id=request.client_order_id,
            window=window, include_superseded=request.include_superseded,
            after=self._after(request, "fills", filters), size=size)
        return ledger_pb2.ListFillsResponse(fills=[mapping.fill(r) for r in page.rows],
                                            next_page_token=self._next("fills", filters, page.next_position))

    async def ListPositions(self, request: ledger_pb2.ListPositionsRequest, context: grpc.aio.ServicerContext,
                            ) -> ledger_pb2.ListPositionsResponse:
        account = _require(request.account_id, "account_id")
        size = _size(request)
        filters = {"a": account, "s": request.symbol, "c": request.include_closed}
        page = await self._reader.list_positions(account, symbol=request.symbol,
                                                 include_closed=request.include_closed,
                                                 after=self._after(request, "positions", filters), size=size)
        return ledger_pb2.ListPositionsResponse(positions=[mapping.position(r) for r in page.rows],
                                                next_page_token=self._next("positions", filters, page.next_position))

    async def ListOrders(self, request: ledger_pb2.ListOrdersRequest, context: grpc.aio.ServicerContext,
                         ) -> ledger_pb2.ListOrdersResponse:
        account = _require(request.account_id, "account_id")
        window, size = _window(request), _size(request)
        statuses = sorted({enum_name(order_pb2.OrderStatus, s, "ORDER_STATUS_") for s in request.statuses})
        if "UNSPECIFIED" in statuses:
            raise _invalid("statuses", "ORDER_STATUS_UNSPECIFIED is not a status")
        origin = "" if request.origin == 0 else enum_name(order_pb2.OrderOrigin, request.origin, "ORDER_ORIGIN_")
        filters = {"a": account, "s": request.symbol, "st": statuses, "o": origin,
                   "w": [str(window.start), str(window.end)]}
        page = await self._reader.list_orders(account, symbol=request.symbol, statuses=statuses, origin=origin,
                                              window=window, after=self._after(request, "orders", filters),
                                              size=size)
        return ledger_pb2.ListOrdersResponse(orders=[mapping.order(r) for r in page.rows],
                                             next_page_token=self._next("orders", filters, page.next_position))

    async def GetOrder(self, request: ledger_pb2.GetOrderRequest, context: grpc.aio.ServicerContext,
                       ) -> ledger_pb2.GetOrderResponse:
        account = _require(request.account_id, "account_id")
        key = request.WhichOneof("key")
        value = getattr(request, key) if key else ""
        if not value:
            raise _invalid("order_id", "order_id or client_order_id is required")
        found = await self._reader.get_order(account, request.order_id, request.client_order_id)
        if found is None:
            raise NotFound("ORDER_NOT_FOUND", f"no order {value!r} in account {account}",
                           metadata={key: value, "account_id": account})
        row, events, fills, decisions = found
        history = sorted([mapping.order_event(e) for e in events] + [mapping.risk_decision_event(d) for d in decisions],
                         key=lambda e: (e.event_time.seconds, e.event_time.nanos))
        return ledger_pb2.GetOrderResponse(order=mapping.order(row), events=history,
                                           fills=[mapping.fill(f) for f in fills])

    async def ListJournalEntries(self, request: ledger_pb2.ListJournalEntriesRequest,
                                 context: grpc.aio.ServicerContext) -> ledger_pb2.ListJournalEntriesResponse:
        account = _require(request.account_id, "account_id")
        window, size = _window(request), _size(request)
        filters = {"a": account, "l": request.ledger_account, "x": request.execution_id,
                   "w": [str(window.start), str(window.end)]}
        page, postings = await self._reader.list_journal_entries(
            account, ledger_account=request.ledger_account, execution_id=request.execution_id, window=window,
            after=self._after(request, "journal", filters), size=size)
        return ledger_pb2.ListJournalEntriesResponse(
            entries=[mapping.journal_entry(r, postings.get(r["entry_id"], [])) for r in page.rows],
            next_page_token=self._next("journal", filters, page.next_position))

    async def GetPnl(self, request: ledger_pb2.GetPnlRequest, context: grpc.aio.ServicerContext,
                     ) -> ledger_pb2.GetPnlResponse:
        account = _require(request.account_id, "account_id")
        if request.HasField("trade_date"):
            d = request.trade_date
            try:
                day = date(d.year, d.month, d.day)
            except ValueError:
                raise _invalid("trade_date", "is not a valid date") from None
        else:
            day = self._today()
        daily, positions, flows = await self._reader.pnl(account, day)
        # Marks are only current: a past day's P&L is its realized part.
        dailies = ([position_daily(p, flows.get(p["instrument_key"])) for p in positions]
                   if day == self._today() else [None] * len(positions))
        return ledger_pb2.GetPnlResponse(
            pnl=account_pnl(account, daily, positions, dailies if day == self._today() else None),
            position_pnls=[position_pnl(p, d) for p, d in zip(positions, dailies, strict=True)
                           if not request.symbol or p["symbol"] == request.symbol])

    async def ListEvents(self, request: ledger_pb2.ListEventsRequest, context: grpc.aio.ServicerContext,
                         ) -> ledger_pb2.ListEventsResponse:
        try:
            size = page_size(request.page_size, default=500, maximum=5000)
            after = parse_stream_id(request.after_stream_id) if request.after_stream_id else (0, 0)
        except ValueError as exc:
            raise _invalid("after_stream_id" if "stream" in str(exc) else "page_size", str(exc)) from None
        types = sorted({enum_name(event_pb2.EventType, t, "EVENT_TYPE_").lower() for t in request.event_types})
        if "unspecified" in types:
            raise _invalid("event_types", "EVENT_TYPE_UNSPECIFIED is not a type")
        filters = {"a": request.account_id, "t": types, "from": list(after)}
        position = self._after(request, "events", filters)
        start = tuple(position) if position else after
        rows, more = await self._reader.list_events(self._stream, request.account_id, types, start, size)
        out = ledger_pb2.ListEventsResponse()
        for r in rows:
            stored = out.events.add(stream_id=r["stream_id"])
            stored.event.ParseFromString(r["payload"])
        if more and rows:
            out.next_page_token = self._tokens.encode("events", filters, list(parse_stream_id(rows[-1]["stream_id"])))
        return out

    async def ReplayEvents(self, request: ledger_pb2.ReplayEventsRequest, context: grpc.aio.ServicerContext,
                           ) -> ledger_pb2.ReplayEventsResponse:
        if self._replayer is None:
            raise NotFound("REPLAY_UNAVAILABLE", "replay is not configured")
        for field in ("start_stream_id", "end_stream_id"):
            value = getattr(request, field)
            if field == "start_stream_id" and not value:
                raise _invalid(field, "is required")
            try:
                if value:
                    parse_stream_id(value)
            except ValueError as exc:
                raise _invalid(field, str(exc)) from None
        replay = self._replayer.from_stored if request.from_stored_events else self._replayer.from_bus
        result = await replay(request.start_stream_id, request.end_stream_id, dry_run=request.dry_run)
        return ledger_pb2.ReplayEventsResponse(events_read=result.read, events_applied=result.applied,
                                               duplicates_skipped=result.duplicates, events_failed=result.failed)

    async def RebuildBalances(self, request: ledger_pb2.RebuildBalancesRequest, context: grpc.aio.ServicerContext,
                              ) -> ledger_pb2.RebuildBalancesResponse:
        if self._store is None:
            raise NotFound("REBUILD_UNAVAILABLE", "rebuild is not configured")
        result = await self._store.rebuild(request.account_id, dry_run=request.dry_run)
        return ledger_pb2.RebuildBalancesResponse(
            entries_replayed=result.entries, journal_balanced=result.balanced,
            positions=[mapping.position(p) for p in result.positions],
            differences=[mapping.rebuild_difference(stored, rebuilt) for stored, rebuilt in result.differences])

    async def GetIngestStatus(self, request: ledger_pb2.GetIngestStatusRequest, context: grpc.aio.ServicerContext,
                              ) -> ledger_pb2.GetIngestStatusResponse:
        s = self._ingest
        status = system_pb2.IngestStatus(stream=self._stream, consumer_group=self._group,
                                         last_committed_stream_id=s.last_committed_stream_id,
                                         dead_lettered_events=s.dead_lettered)
        if s.lag is not None:
            status.lag_events = s.lag
        if s.pending is not None:
            status.pending_events = s.pending
        if s.last_commit_time:
            status.last_commit_time.FromDatetime(s.last_commit_time)
        if s.last_event_time:
            status.last_event_time.FromDatetime(s.last_event_time)
        return ledger_pb2.GetIngestStatusResponse(status=status)

    async def GetReconciliationReport(self, request: ledger_pb2.GetReconciliationReportRequest,
                                      context: grpc.aio.ServicerContext,
                                      ) -> ledger_pb2.GetReconciliationReportResponse:
        # Empty means the suite's own account (IBKR_ACCOUNT_ID), which the edge's status page asks about.
        account = _require(request.account_id or self._default_account, "account_id")
        if self._reconciler is None:
            raise NotFound("RECONCILIATION_UNAVAILABLE", "reconciliation is not configured")
        report = await self._reconciler.report(account, refresh=request.refresh)
        return ledger_pb2.GetReconciliationReportResponse(report=report)

