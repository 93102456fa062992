import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from ibkr.trading.v1 import execution_pb2 as _execution_pb2
from ibkr.trading.v1 import market_data_pb2 as _market_data_pb2
from ibkr.trading.v1 import order_pb2 as _order_pb2
from ibkr.trading.v1 import portfolio_pb2 as _portfolio_pb2
from ibkr.trading.v1 import reconciliation_pb2 as _reconciliation_pb2
from ibkr.trading.v1 import risk_types_pb2 as _risk_types_pb2
from ibkr.trading.v1 import system_pb2 as _system_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class EventType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EVENT_TYPE_UNSPECIFIED: _ClassVar[EventType]
    EVENT_TYPE_ORDER_UPDATE: _ClassVar[EventType]
    EVENT_TYPE_FILL: _ClassVar[EventType]
    EVENT_TYPE_COMMISSION: _ClassVar[EventType]
    EVENT_TYPE_POSITION_UPDATE: _ClassVar[EventType]
    EVENT_TYPE_ACCOUNT_UPDATE: _ClassVar[EventType]
    EVENT_TYPE_PNL_UPDATE: _ClassVar[EventType]
    EVENT_TYPE_QUOTE_UPDATE: _ClassVar[EventType]
    EVENT_TYPE_CONNECTION_STATE_CHANGE: _ClassVar[EventType]
    EVENT_TYPE_RISK_DECISION: _ClassVar[EventType]
    EVENT_TYPE_TRADING_STATE_CHANGE: _ClassVar[EventType]
    EVENT_TYPE_RECONCILIATION_DRIFT: _ClassVar[EventType]
    EVENT_TYPE_RECONCILIATION_COMPLETED: _ClassVar[EventType]

class StreamMarkerType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STREAM_MARKER_TYPE_UNSPECIFIED: _ClassVar[StreamMarkerType]
    STREAM_MARKER_TYPE_SNAPSHOT_BEGIN: _ClassVar[StreamMarkerType]
    STREAM_MARKER_TYPE_SNAPSHOT_END: _ClassVar[StreamMarkerType]
    STREAM_MARKER_TYPE_RESUMED: _ClassVar[StreamMarkerType]
    STREAM_MARKER_TYPE_GAP: _ClassVar[StreamMarkerType]
    STREAM_MARKER_TYPE_BROKER_DISCONNECTED: _ClassVar[StreamMarkerType]
    STREAM_MARKER_TYPE_BROKER_RECONNECTED: _ClassVar[StreamMarkerType]

class ResumeSource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RESUME_SOURCE_UNSPECIFIED: _ClassVar[ResumeSource]
    RESUME_SOURCE_BUS: _ClassVar[ResumeSource]
    RESUME_SOURCE_LEDGER: _ClassVar[ResumeSource]
EVENT_TYPE_UNSPECIFIED: EventType
EVENT_TYPE_ORDER_UPDATE: EventType
EVENT_TYPE_FILL: EventType
EVENT_TYPE_COMMISSION: EventType
EVENT_TYPE_POSITION_UPDATE: EventType
EVENT_TYPE_ACCOUNT_UPDATE: EventType
EVENT_TYPE_PNL_UPDATE: EventType
EVENT_TYPE_QUOTE_UPDATE: EventType
EVENT_TYPE_CONNECTION_STATE_CHANGE: EventType
EVENT_TYPE_RISK_DECISION: EventType
EVENT_TYPE_TRADING_STATE_CHANGE: EventType
EVENT_TYPE_RECONCILIATION_DRIFT: EventType
EVENT_TYPE_RECONCILIATION_COMPLETED: EventType
STREAM_MARKER_TYPE_UNSPECIFIED: StreamMarkerType
STREAM_MARKER_TYPE_SNAPSHOT_BEGIN: StreamMarkerType
STREAM_MARKER_TYPE_SNAPSHOT_END: StreamMarkerType
STREAM_MARKER_TYPE_RESUMED: StreamMarkerType
STREAM_MARKER_TYPE_GAP: StreamMarkerType
STREAM_MARKER_TYPE_BROKER_DISCONNECTED: StreamMarkerType
STREAM_MARKER_TYPE_BROKER_RECONNECTED: StreamMarkerType
RESUME_SOURCE_UNSPECIFIED: ResumeSource
RESUME_SOURCE_BUS: ResumeSource
RESUME_SOURCE_LEDGER: ResumeSource

class Event(_message.Message):
    __slots__ = ("event_id", "event_time", "account_id", "source", "symbol", "order_update", "fill", "commission", "position_update", "account_update", "pnl_update", "quote_update", "connection_state_change", "risk_decision", "trading_state_change", "reconciliation_drift", "reconciliation_completed")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    ORDER_UPDATE_FIELD_NUMBER: _ClassVar[int]
    FILL_FIELD_NUMBER: _ClassVar[int]
    COMMISSION_FIELD_NUMBER: _ClassVar[int]
    POSITION_UPDATE_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_UPDATE_FIELD_NUMBER: _ClassVar[int]
    PNL_UPDATE_FIELD_NUMBER: _ClassVar[int]
    QUOTE_UPDATE_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_STATE_CHANGE_FIELD_NUMBER: _ClassVar[int]
    RISK_DECISION_FIELD_NUMBER: _ClassVar[int]
    TRADING_STATE_CHANGE_FIELD_NUMBER: _ClassVar[int]
    RECONCILIATION_DRIFT_FIELD_NUMBER: _ClassVar[int]
    RECONCILIATION_COMPLETED_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    event_time: _timestamp_pb2.Timestamp
    account_id: str
    source: str
    symbol: str
    order_update: OrderUpdate
    fill: _execution_pb2.Fill
    commission: _execution_pb2.Commission
    position_update: PositionUpdate
    account_update: AccountUpdate
    pnl_update: PnlUpdate
    quote_update: QuoteUpdate
    connection_state_change: ConnectionStateChange
    risk_decision: RiskDecisionEvent
    trading_state_change: TradingStateChange
    reconciliation_drift: ReconciliationDrift
    reconciliation_completed: ReconciliationCompleted
    def __init__(self, event_id: _Optional[str] = ..., event_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., account_id: _Optional[str] = ..., source: _Optional[str] = ..., symbol: _Optional[str] = ..., order_update: _Optional[_Union[OrderUpdate, _Mapping]] = ..., fill: _Optional[_Union[_execution_pb2.Fill, _Mapping]] = ..., commission: _Optional[_Union[_execution_pb2.Commission, _Mapping]] = ..., position_update: _Optional[_Union[PositionUpdate, _Mapping]] = ..., account_update: _Optional[_Union[AccountUpdate, _Mapping]] = ..., pnl_update: _Optional[_Union[PnlUpdate, _Mapping]] = ..., quote_update: _Optional[_Union[QuoteUpdate, _Mapping]] = ..., connection_state_change: _Optional[_Union[ConnectionStateChange, _Mapping]] = ..., risk_decision: _Optional[_Union[RiskDecisionEvent, _Mapping]] = ..., trading_state_change: _Optional[_Union[TradingStateChange, _Mapping]] = ..., reconciliation_drift: _Optional[_Union[ReconciliationDrift, _Mapping]] = ..., reconciliation_completed: _Optional[_Union[ReconciliationCompleted, _Mapping]] = ...) -> None: ...

class OrderUpdate(_message.Message):
    __slots__ = ("order", "previous_status", "message", "broker_error_code")
    ORDER_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_STATUS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    BROKER_ERROR_CODE_FIELD_NUMBER: _ClassVar[int]
    order: _order_pb2.Order
    previous_status: _order_pb2.OrderStatus
    message: str
    broker_error_code: int
    def __init__(self, order: _Optional[_Union[_order_pb2.Order, _Mapping]] = ..., previous_status: _Optional[_Union[_order_pb2.OrderStatus, str]] = ..., message: _Optional[str] = ..., broker_error_code: _Optional[int] = ...) -> None: ...

class PositionUpdate(_message.Message):
    __slots__ = ("position",)
    POSITION_FIELD_NUMBER: _ClassVar[int]
    position: _portfolio_pb2.Position
    def __init__(self, position: _Optional[_Union[_portfolio_pb2.Position, _Mapping]] = ...) -> None: ...

class AccountUpdate(_message.Message):
    __slots__ = ("account",)
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    account: _portfolio_pb2.AccountSummary
    def __init__(self, account: _Optional[_Union[_portfolio_pb2.AccountSummary, _Mapping]] = ...) -> None: ...

class PnlUpdate(_message.Message):
    __slots__ = ("pnl",)
    PNL_FIELD_NUMBER: _ClassVar[int]
    pnl: _portfolio_pb2.Pnl
    def __init__(self, pnl: _Optional[_Union[_portfolio_pb2.Pnl, _Mapping]] = ...) -> None: ...

class QuoteUpdate(_message.Message):
    __slots__ = ("quote",)
    QUOTE_FIELD_NUMBER: _ClassVar[int]
    quote: _market_data_pb2.Quote
    def __init__(self, quote: _Optional[_Union[_market_data_pb2.Quote, _Mapping]] = ...) -> None: ...

class ConnectionStateChange(_message.Message):
    __slots__ = ("state", "previous_state", "broker_code", "message", "market_data_lost", "bridge_instance_id")
    STATE_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_STATE_FIELD_NUMBER: _ClassVar[int]
    BROKER_CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    MARKET_DATA_LOST_FIELD_NUMBER: _ClassVar[int]
    BRIDGE_INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    state: _system_pb2.BrokerConnectionState
    previous_state: _system_pb2.BrokerConnectionState
    broker_code: int
    message: str
    market_data_lost: bool
    bridge_instance_id: str
    def __init__(self, state: _Optional[_Union[_system_pb2.BrokerConnectionState, str]] = ..., previous_state: _Optional[_Union[_system_pb2.BrokerConnectionState, str]] = ..., broker_code: _Optional[int] = ..., message: _Optional[str] = ..., market_data_lost: _Optional[bool] = ..., bridge_instance_id: _Optional[str] = ...) -> None: ...

class RiskDecisionEvent(_message.Message):
    __slots__ = ("decision",)
    DECISION_FIELD_NUMBER: _ClassVar[int]
    decision: _risk_types_pb2.RiskDecision
    def __init__(self, decision: _Optional[_Union[_risk_types_pb2.RiskDecision, _Mapping]] = ...) -> None: ...

class TradingStateChange(_message.Message):
    __slots__ = ("trading_state", "previous_state", "cancel_open_orders")
    TRADING_STATE_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_STATE_FIELD_NUMBER: _ClassVar[int]
    CANCEL_OPEN_ORDERS_FIELD_NUMBER: _ClassVar[int]
    trading_state: _risk_types_pb2.AccountTradingState
    previous_state: _risk_types_pb2.TradingState
    cancel_open_orders: bool
    def __init__(self, trading_state: _Optional[_Union[_risk_types_pb2.AccountTradingState, _Mapping]] = ..., previous_state: _Optional[_Union[_risk_types_pb2.TradingState, str]] = ..., cancel_open_orders: _Optional[bool] = ...) -> None: ...

class ReconciliationDrift(_message.Message):
    __slots__ = ("report",)
    REPORT_FIELD_NUMBER: _ClassVar[int]
    report: _reconciliation_pb2.ReconciliationReport
    def __init__(self, report: _Optional[_Union[_reconciliation_pb2.ReconciliationReport, _Mapping]] = ...) -> None: ...

class ReconciliationCompleted(_message.Message):
    __slots__ = ("run",)
    RUN_FIELD_NUMBER: _ClassVar[int]
    run: _reconciliation_pb2.ReconciliationRun
    def __init__(self, run: _Optional[_Union[_reconciliation_pb2.ReconciliationRun, _Mapping]] = ...) -> None: ...

class Heartbeat(_message.Message):
    __slots__ = ("server_time",)
    SERVER_TIME_FIELD_NUMBER: _ClassVar[int]
    server_time: _timestamp_pb2.Timestamp
    def __init__(self, server_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Resumed(_message.Message):
    __slots__ = ("resume_token", "source")
    RESUME_TOKEN_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    resume_token: str
    source: ResumeSource
    def __init__(self, resume_token: _Optional[str] = ..., source: _Optional[_Union[ResumeSource, str]] = ...) -> None: ...

class Gap(_message.Message):
    __slots__ = ("from_resume_token", "to_resume_token", "event_types", "message")
    FROM_RESUME_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TO_RESUME_TOKEN_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPES_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    from_resume_token: str
    to_resume_token: str
    event_types: _containers.RepeatedScalarFieldContainer[EventType]
    message: str
    def __init__(self, from_resume_token: _Optional[str] = ..., to_resume_token: _Optional[str] = ..., event_types: _Optional[_Iterable[_Union[EventType, str]]] = ..., message: _Optional[str] = ...) -> None: ...

class StreamMarker(_message.Message):
    __slots__ = ("type", "message", "resumed", "gap")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    RESUMED_FIELD_NUMBER: _ClassVar[int]
    GAP_FIELD_NUMBER: _ClassVar[int]
    type: StreamMarkerType
    message: str
    resumed: Resumed
    gap: Gap
    def __init__(self, type: _Optional[_Union[StreamMarkerType, str]] = ..., message: _Optional[str] = ..., resumed: _Optional[_Union[Resumed, _Mapping]] = ..., gap: _Optional[_Union[Gap, _Mapping]] = ...) -> None: ...
