import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.type import date_pb2 as _date_pb2
from google.type import decimal_pb2 as _decimal_pb2
from google.type import money_pb2 as _money_pb2
from ibkr.trading.v1 import event_pb2 as _event_pb2
from ibkr.trading.v1 import execution_pb2 as _execution_pb2
from ibkr.trading.v1 import order_pb2 as _order_pb2
from ibkr.trading.v1 import portfolio_pb2 as _portfolio_pb2
from ibkr.trading.v1 import reconciliation_pb2 as _reconciliation_pb2
from ibkr.trading.v1 import system_pb2 as _system_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class LedgerAccountType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LEDGER_ACCOUNT_TYPE_UNSPECIFIED: _ClassVar[LedgerAccountType]
    LEDGER_ACCOUNT_TYPE_CASH: _ClassVar[LedgerAccountType]
    LEDGER_ACCOUNT_TYPE_POSITION: _ClassVar[LedgerAccountType]
    LEDGER_ACCOUNT_TYPE_COMMISSION: _ClassVar[LedgerAccountType]
    LEDGER_ACCOUNT_TYPE_REALIZED_PNL: _ClassVar[LedgerAccountType]
    LEDGER_ACCOUNT_TYPE_EQUITY: _ClassVar[LedgerAccountType]
LEDGER_ACCOUNT_TYPE_UNSPECIFIED: LedgerAccountType
LEDGER_ACCOUNT_TYPE_CASH: LedgerAccountType
LEDGER_ACCOUNT_TYPE_POSITION: LedgerAccountType
LEDGER_ACCOUNT_TYPE_COMMISSION: LedgerAccountType
LEDGER_ACCOUNT_TYPE_REALIZED_PNL: LedgerAccountType
LEDGER_ACCOUNT_TYPE_EQUITY: LedgerAccountType

class GetOrderRequest(_message.Message):
    __slots__ = ("account_id", "order_id", "client_order_id")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    order_id: str
    client_order_id: str
    def __init__(self, account_id: _Optional[str] = ..., order_id: _Optional[str] = ..., client_order_id: _Optional[str] = ...) -> None: ...

class GetOrderResponse(_message.Message):
    __slots__ = ("order", "events", "fills")
    ORDER_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    FILLS_FIELD_NUMBER: _ClassVar[int]
    order: _order_pb2.Order
    events: _containers.RepeatedCompositeFieldContainer[_order_pb2.OrderEvent]
    fills: _containers.RepeatedCompositeFieldContainer[_execution_pb2.Fill]
    def __init__(self, order: _Optional[_Union[_order_pb2.Order, _Mapping]] = ..., events: _Optional[_Iterable[_Union[_order_pb2.OrderEvent, _Mapping]]] = ..., fills: _Optional[_Iterable[_Union[_execution_pb2.Fill, _Mapping]]] = ...) -> None: ...

class ListOrdersRequest(_message.Message):
    __slots__ = ("account_id", "symbol", "statuses", "origin", "start_time", "end_time", "page_size", "page_token")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    symbol: str
    statuses: _containers.RepeatedScalarFieldContainer[_order_pb2.OrderStatus]
    origin: _order_pb2.OrderOrigin
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    page_size: int
    page_token: str
    def __init__(self, account_id: _Optional[str] = ..., symbol: _Optional[str] = ..., statuses: _Optional[_Iterable[_Union[_order_pb2.OrderStatus, str]]] = ..., origin: _Optional[_Union[_order_pb2.OrderOrigin, str]] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListOrdersResponse(_message.Message):
    __slots__ = ("orders", "next_page_token")
    ORDERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    orders: _containers.RepeatedCompositeFieldContainer[_order_pb2.Order]
    next_page_token: str
    def __init__(self, orders: _Optional[_Iterable[_Union[_order_pb2.Order, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListFillsRequest(_message.Message):
    __slots__ = ("account_id", "symbol", "order_id", "client_order_id", "start_time", "end_time", "include_superseded", "page_size", "page_token")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_SUPERSEDED_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    symbol: str
    order_id: str
    client_order_id: str
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    include_superseded: bool
    page_size: int
    page_token: str
    def __init__(self, account_id: _Optional[str] = ..., symbol: _Optional[str] = ..., order_id: _Optional[str] = ..., client_order_id: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., include_superseded: _Optional[bool] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListFillsResponse(_message.Message):
    __slots__ = ("fills", "next_page_token")
    FILLS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    fills: _containers.RepeatedCompositeFieldContainer[_execution_pb2.Fill]
    next_page_token: str
    def __init__(self, fills: _Optional[_Iterable[_Union[_execution_pb2.Fill, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListPositionsRequest(_message.Message):
    __slots__ = ("account_id", "symbol", "include_closed", "page_size", "page_token")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_CLOSED_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    symbol: str
    include_closed: bool
    page_size: int
    page_token: str
    def __init__(self, account_id: _Optional[str] = ..., symbol: _Optional[str] = ..., include_closed: _Optional[bool] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListPositionsResponse(_message.Message):
    __slots__ = ("positions", "next_page_token")
    POSITIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    positions: _containers.RepeatedCompositeFieldContainer[_portfolio_pb2.Position]
    next_page_token: str
    def __init__(self, positions: _Optional[_Iterable[_Union[_portfolio_pb2.Position, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetPnlRequest(_message.Message):
    __slots__ = ("account_id", "symbol", "trade_date")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    TRADE_DATE_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    symbol: str
    trade_date: _date_pb2.Date
    def __init__(self, account_id: _Optional[str] = ..., symbol: _Optional[str] = ..., trade_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ...) -> None: ...

class GetPnlResponse(_message.Message):
    __slots__ = ("pnl", "position_pnls")
    PNL_FIELD_NUMBER: _ClassVar[int]
    POSITION_PNLS_FIELD_NUMBER: _ClassVar[int]
    pnl: _portfolio_pb2.Pnl
    position_pnls: _containers.RepeatedCompositeFieldContainer[_portfolio_pb2.Pnl]
    def __init__(self, pnl: _Optional[_Union[_portfolio_pb2.Pnl, _Mapping]] = ..., position_pnls: _Optional[_Iterable[_Union[_portfolio_pb2.Pnl, _Mapping]]] = ...) -> None: ...

class JournalPosting(_message.Message):
    __slots__ = ("ledger_account", "account_type", "amount", "quantity", "symbol")
    LEDGER_ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_TYPE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    ledger_account: str
    account_type: LedgerAccountType
    amount: _money_pb2.Money
    quantity: _decimal_pb2.Decimal
    symbol: str
    def __init__(self, ledger_account: _Optional[str] = ..., account_type: _Optional[_Union[LedgerAccountType, str]] = ..., amount: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., quantity: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., symbol: _Optional[str] = ...) -> None: ...

class JournalEntry(_message.Message):
    __slots__ = ("entry_id", "account_id", "entry_time", "create_time", "description", "execution_id", "event_id", "postings")
    ENTRY_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    ENTRY_TIME_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    POSTINGS_FIELD_NUMBER: _ClassVar[int]
    entry_id: str
    account_id: str
    entry_time: _timestamp_pb2.Timestamp
    create_time: _timestamp_pb2.Timestamp
    description: str
    execution_id: str
    event_id: str
    postings: _containers.RepeatedCompositeFieldContainer[JournalPosting]
    def __init__(self, entry_id: _Optional[str] = ..., account_id: _Optional[str] = ..., entry_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., description: _Optional[str] = ..., execution_id: _Optional[str] = ..., event_id: _Optional[str] = ..., postings: _Optional[_Iterable[_Union[JournalPosting, _Mapping]]] = ...) -> None: ...

class ListJournalEntriesRequest(_message.Message):
    __slots__ = ("account_id", "ledger_account", "execution_id", "start_time", "end_time", "page_size", "page_token")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    LEDGER_ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    ledger_account: str
    execution_id: str
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    page_size: int
    page_token: str
    def __init__(self, account_id: _Optional[str] = ..., ledger_account: _Optional[str] = ..., execution_id: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListJournalEntriesResponse(_message.Message):
    __slots__ = ("entries", "next_page_token")
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[JournalEntry]
    next_page_token: str
    def __init__(self, entries: _Optional[_Iterable[_Union[JournalEntry, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetReconciliationReportRequest(_message.Message):
    __slots__ = ("account_id", "refresh")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    REFRESH_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    refresh: bool
    def __init__(self, account_id: _Optional[str] = ..., refresh: _Optional[bool] = ...) -> None: ...

class GetReconciliationReportResponse(_message.Message):
    __slots__ = ("report",)
    REPORT_FIELD_NUMBER: _ClassVar[int]
    report: _reconciliation_pb2.ReconciliationReport
    def __init__(self, report: _Optional[_Union[_reconciliation_pb2.ReconciliationReport, _Mapping]] = ...) -> None: ...

class GetIngestStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetIngestStatusResponse(_message.Message):
    __slots__ = ("status",)
    STATUS_FIELD_NUMBER: _ClassVar[int]
    status: _system_pb2.IngestStatus
    def __init__(self, status: _Optional[_Union[_system_pb2.IngestStatus, _Mapping]] = ...) -> None: ...

class StoredEvent(_message.Message):
    __slots__ = ("stream_id", "event")
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    stream_id: str
    event: _event_pb2.Event
    def __init__(self, stream_id: _Optional[str] = ..., event: _Optional[_Union[_event_pb2.Event, _Mapping]] = ...) -> None: ...

class ListEventsRequest(_message.Message):
    __slots__ = ("account_id", "after_stream_id", "event_types", "page_size", "page_token")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    AFTER_STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPES_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    after_stream_id: str
    event_types: _containers.RepeatedScalarFieldContainer[_event_pb2.EventType]
    page_size: int
    page_token: str
    def __init__(self, account_id: _Optional[str] = ..., after_stream_id: _Optional[str] = ..., event_types: _Optional[_Iterable[_Union[_event_pb2.EventType, str]]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListEventsResponse(_message.Message):
    __slots__ = ("events", "next_page_token")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[StoredEvent]
    next_page_token: str
    def __init__(self, events: _Optional[_Iterable[_Union[StoredEvent, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ReplayEventsRequest(_message.Message):
    __slots__ = ("start_stream_id", "end_stream_id", "from_stored_events", "dry_run", "request_id")
    START_STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    END_STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_STORED_EVENTS_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    start_stream_id: str
    end_stream_id: str
    from_stored_events: bool
    dry_run: bool
    request_id: str
    def __init__(self, start_stream_id: _Optional[str] = ..., end_stream_id: _Optional[str] = ..., from_stored_events: _Optional[bool] = ..., dry_run: _Optional[bool] = ..., request_id: _Optional[str] = ...) -> None: ...

class ReplayEventsResponse(_message.Message):
    __slots__ = ("events_read", "events_applied", "duplicates_skipped", "events_failed")
    EVENTS_READ_FIELD_NUMBER: _ClassVar[int]
    EVENTS_APPLIED_FIELD_NUMBER: _ClassVar[int]
    DUPLICATES_SKIPPED_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FAILED_FIELD_NUMBER: _ClassVar[int]
    events_read: int
    events_applied: int
    duplicates_skipped: int
    events_failed: int
    def __init__(self, events_read: _Optional[int] = ..., events_applied: _Optional[int] = ..., duplicates_skipped: _Optional[int] = ..., events_failed: _Optional[int] = ...) -> None: ...

class RebuildBalancesRequest(_message.Message):
    __slots__ = ("account_id", "dry_run", "request_id")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    dry_run: bool
    request_id: str
    def __init__(self, account_id: _Optional[str] = ..., dry_run: _Optional[bool] = ..., request_id: _Optional[str] = ...) -> None: ...

class RebuildBalancesResponse(_message.Message):
    __slots__ = ("entries_replayed", "positions", "differences", "journal_balanced")
    ENTRIES_REPLAYED_FIELD_NUMBER: _ClassVar[int]
    POSITIONS_FIELD_NUMBER: _ClassVar[int]
    DIFFERENCES_FIELD_NUMBER: _ClassVar[int]
    JOURNAL_BALANCED_FIELD_NUMBER: _ClassVar[int]
    entries_replayed: int
    positions: _containers.RepeatedCompositeFieldContainer[_portfolio_pb2.Position]
    differences: _containers.RepeatedCompositeFieldContainer[_reconciliation_pb2.PositionDrift]
    journal_balanced: bool
    def __init__(self, entries_replayed: _Optional[int] = ..., positions: _Optional[_Iterable[_Union[_portfolio_pb2.Position, _Mapping]]] = ..., differences: _Optional[_Iterable[_Union[_reconciliation_pb2.PositionDrift, _Mapping]]] = ..., journal_balanced: _Optional[bool] = ...) -> None: ...
