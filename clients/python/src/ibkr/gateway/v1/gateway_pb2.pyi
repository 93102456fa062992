import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.type import decimal_pb2 as _decimal_pb2
from ibkr.trading.v1 import execution_pb2 as _execution_pb2
from ibkr.trading.v1 import instrument_pb2 as _instrument_pb2
from ibkr.trading.v1 import market_data_pb2 as _market_data_pb2
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

class DataFarmKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DATA_FARM_KIND_UNSPECIFIED: _ClassVar[DataFarmKind]
    DATA_FARM_KIND_MARKET_DATA: _ClassVar[DataFarmKind]
    DATA_FARM_KIND_HISTORICAL: _ClassVar[DataFarmKind]
    DATA_FARM_KIND_SECURITY_DEFINITION: _ClassVar[DataFarmKind]
DATA_FARM_KIND_UNSPECIFIED: DataFarmKind
DATA_FARM_KIND_MARKET_DATA: DataFarmKind
DATA_FARM_KIND_HISTORICAL: DataFarmKind
DATA_FARM_KIND_SECURITY_DEFINITION: DataFarmKind

class PlaceOrderRequest(_message.Message):
    __slots__ = ("account_id", "client_order_id", "order", "risk_decision_id")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    RISK_DECISION_ID_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    client_order_id: str
    order: _order_pb2.OrderSpec
    risk_decision_id: str
    def __init__(self, account_id: _Optional[str] = ..., client_order_id: _Optional[str] = ..., order: _Optional[_Union[_order_pb2.OrderSpec, _Mapping]] = ..., risk_decision_id: _Optional[str] = ...) -> None: ...

class PlaceOrderResponse(_message.Message):
    __slots__ = ("order", "child_orders")
    ORDER_FIELD_NUMBER: _ClassVar[int]
    CHILD_ORDERS_FIELD_NUMBER: _ClassVar[int]
    order: _order_pb2.Order
    child_orders: _containers.RepeatedCompositeFieldContainer[_order_pb2.Order]
    def __init__(self, order: _Optional[_Union[_order_pb2.Order, _Mapping]] = ..., child_orders: _Optional[_Iterable[_Union[_order_pb2.Order, _Mapping]]] = ...) -> None: ...

class ReplaceOrderRequest(_message.Message):
    __slots__ = ("account_id", "order_id", "client_order_id", "order", "update_mask", "request_id", "risk_decision_id")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    RISK_DECISION_ID_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    order_id: str
    client_order_id: str
    order: _order_pb2.OrderSpec
    update_mask: _field_mask_pb2.FieldMask
    request_id: str
    risk_decision_id: str
    def __init__(self, account_id: _Optional[str] = ..., order_id: _Optional[str] = ..., client_order_id: _Optional[str] = ..., order: _Optional[_Union[_order_pb2.OrderSpec, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ..., request_id: _Optional[str] = ..., risk_decision_id: _Optional[str] = ...) -> None: ...

class ReplaceOrderResponse(_message.Message):
    __slots__ = ("order",)
    ORDER_FIELD_NUMBER: _ClassVar[int]
    order: _order_pb2.Order
    def __init__(self, order: _Optional[_Union[_order_pb2.Order, _Mapping]] = ...) -> None: ...

class CancelOrderRequest(_message.Message):
    __slots__ = ("account_id", "order_id", "client_order_id")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    order_id: str
    client_order_id: str
    def __init__(self, account_id: _Optional[str] = ..., order_id: _Optional[str] = ..., client_order_id: _Optional[str] = ...) -> None: ...

class CancelOrderResponse(_message.Message):
    __slots__ = ("order",)
    ORDER_FIELD_NUMBER: _ClassVar[int]
    order: _order_pb2.Order
    def __init__(self, order: _Optional[_Union[_order_pb2.Order, _Mapping]] = ...) -> None: ...

class CancelAllOrdersRequest(_message.Message):
    __slots__ = ("account_id", "symbol", "side", "request_id")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    SIDE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    symbol: str
    side: _order_pb2.OrderSide
    request_id: str
    def __init__(self, account_id: _Optional[str] = ..., symbol: _Optional[str] = ..., side: _Optional[_Union[_order_pb2.OrderSide, str]] = ..., request_id: _Optional[str] = ...) -> None: ...

class CancelAllOrdersResponse(_message.Message):
    __slots__ = ("orders", "failures")
    ORDERS_FIELD_NUMBER: _ClassVar[int]
    FAILURES_FIELD_NUMBER: _ClassVar[int]
    orders: _containers.RepeatedCompositeFieldContainer[_order_pb2.Order]
    failures: _containers.RepeatedCompositeFieldContainer[_order_pb2.OrderCancelFailure]
    def __init__(self, orders: _Optional[_Iterable[_Union[_order_pb2.Order, _Mapping]]] = ..., failures: _Optional[_Iterable[_Union[_order_pb2.OrderCancelFailure, _Mapping]]] = ...) -> None: ...

class ClosePositionRequest(_message.Message):
    __slots__ = ("account_id", "instrument", "quantity", "order_type", "limit_price", "client_order_id", "cancel_open_orders", "time_in_force", "risk_decision_id")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    INSTRUMENT_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    ORDER_TYPE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CANCEL_OPEN_ORDERS_FIELD_NUMBER: _ClassVar[int]
    TIME_IN_FORCE_FIELD_NUMBER: _ClassVar[int]
    RISK_DECISION_ID_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    instrument: _instrument_pb2.Instrument
    quantity: _decimal_pb2.Decimal
    order_type: _order_pb2.OrderType
    limit_price: _decimal_pb2.Decimal
    client_order_id: str
    cancel_open_orders: bool
    time_in_force: _order_pb2.TimeInForce
    risk_decision_id: str
    def __init__(self, account_id: _Optional[str] = ..., instrument: _Optional[_Union[_instrument_pb2.Instrument, _Mapping]] = ..., quantity: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., order_type: _Optional[_Union[_order_pb2.OrderType, str]] = ..., limit_price: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., client_order_id: _Optional[str] = ..., cancel_open_orders: _Optional[bool] = ..., time_in_force: _Optional[_Union[_order_pb2.TimeInForce, str]] = ..., risk_decision_id: _Optional[str] = ...) -> None: ...

class ClosePositionResponse(_message.Message):
    __slots__ = ("order",)
    ORDER_FIELD_NUMBER: _ClassVar[int]
    order: _order_pb2.Order
    def __init__(self, order: _Optional[_Union[_order_pb2.Order, _Mapping]] = ...) -> None: ...

class GetOrderRequest(_message.Message):
    __slots__ = ("account_id", "order_id", "client_order_id", "perm_id")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    PERM_ID_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    order_id: str
    client_order_id: str
    perm_id: int
    def __init__(self, account_id: _Optional[str] = ..., order_id: _Optional[str] = ..., client_order_id: _Optional[str] = ..., perm_id: _Optional[int] = ...) -> None: ...

class GetOrderResponse(_message.Message):
    __slots__ = ("order",)
    ORDER_FIELD_NUMBER: _ClassVar[int]
    order: _order_pb2.Order
    def __init__(self, order: _Optional[_Union[_order_pb2.Order, _Mapping]] = ...) -> None: ...

class ListOpenOrdersRequest(_message.Message):
    __slots__ = ("account_id", "symbol", "page_size", "page_token")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    symbol: str
    page_size: int
    page_token: str
    def __init__(self, account_id: _Optional[str] = ..., symbol: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListOpenOrdersResponse(_message.Message):
    __slots__ = ("orders", "next_page_token")
    ORDERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    orders: _containers.RepeatedCompositeFieldContainer[_order_pb2.Order]
    next_page_token: str
    def __init__(self, orders: _Optional[_Iterable[_Union[_order_pb2.Order, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListExecutionsRequest(_message.Message):
    __slots__ = ("account_id", "symbol", "start_time", "page_size", "page_token")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    symbol: str
    start_time: _timestamp_pb2.Timestamp
    page_size: int
    page_token: str
    def __init__(self, account_id: _Optional[str] = ..., symbol: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListExecutionsResponse(_message.Message):
    __slots__ = ("fills", "next_page_token")
    FILLS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    fills: _containers.RepeatedCompositeFieldContainer[_execution_pb2.Fill]
    next_page_token: str
    def __init__(self, fills: _Optional[_Iterable[_Union[_execution_pb2.Fill, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class PreviewOrderRequest(_message.Message):
    __slots__ = ("account_id", "order")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    order: _order_pb2.OrderSpec
    def __init__(self, account_id: _Optional[str] = ..., order: _Optional[_Union[_order_pb2.OrderSpec, _Mapping]] = ...) -> None: ...

class PreviewOrderResponse(_message.Message):
    __slots__ = ("preview",)
    PREVIEW_FIELD_NUMBER: _ClassVar[int]
    preview: _order_pb2.OrderPreview
    def __init__(self, preview: _Optional[_Union[_order_pb2.OrderPreview, _Mapping]] = ...) -> None: ...

class ResolveInstrumentRequest(_message.Message):
    __slots__ = ("instrument",)
    INSTRUMENT_FIELD_NUMBER: _ClassVar[int]
    instrument: _instrument_pb2.Instrument
    def __init__(self, instrument: _Optional[_Union[_instrument_pb2.Instrument, _Mapping]] = ...) -> None: ...

class ResolveInstrumentResponse(_message.Message):
    __slots__ = ("details",)
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    details: _instrument_pb2.InstrumentDetails
    def __init__(self, details: _Optional[_Union[_instrument_pb2.InstrumentDetails, _Mapping]] = ...) -> None: ...

class GetQuoteRequest(_message.Message):
    __slots__ = ("instrument", "timeout")
    INSTRUMENT_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    instrument: _instrument_pb2.Instrument
    timeout: _duration_pb2.Duration
    def __init__(self, instrument: _Optional[_Union[_instrument_pb2.Instrument, _Mapping]] = ..., timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class GetQuoteResponse(_message.Message):
    __slots__ = ("quote",)
    QUOTE_FIELD_NUMBER: _ClassVar[int]
    quote: _market_data_pb2.Quote
    def __init__(self, quote: _Optional[_Union[_market_data_pb2.Quote, _Mapping]] = ...) -> None: ...

class QuoteSubscription(_message.Message):
    __slots__ = ("instrument", "reference_count")
    INSTRUMENT_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_COUNT_FIELD_NUMBER: _ClassVar[int]
    instrument: _instrument_pb2.Instrument
    reference_count: int
    def __init__(self, instrument: _Optional[_Union[_instrument_pb2.Instrument, _Mapping]] = ..., reference_count: _Optional[int] = ...) -> None: ...

class SubscribeQuotesRequest(_message.Message):
    __slots__ = ("subscriber_id", "instruments")
    SUBSCRIBER_ID_FIELD_NUMBER: _ClassVar[int]
    INSTRUMENTS_FIELD_NUMBER: _ClassVar[int]
    subscriber_id: str
    instruments: _containers.RepeatedCompositeFieldContainer[_instrument_pb2.Instrument]
    def __init__(self, subscriber_id: _Optional[str] = ..., instruments: _Optional[_Iterable[_Union[_instrument_pb2.Instrument, _Mapping]]] = ...) -> None: ...

class SubscribeQuotesResponse(_message.Message):
    __slots__ = ("subscriptions", "lines_in_use", "line_budget")
    SUBSCRIPTIONS_FIELD_NUMBER: _ClassVar[int]
    LINES_IN_USE_FIELD_NUMBER: _ClassVar[int]
    LINE_BUDGET_FIELD_NUMBER: _ClassVar[int]
    subscriptions: _containers.RepeatedCompositeFieldContainer[QuoteSubscription]
    lines_in_use: int
    line_budget: int
    def __init__(self, subscriptions: _Optional[_Iterable[_Union[QuoteSubscription, _Mapping]]] = ..., lines_in_use: _Optional[int] = ..., line_budget: _Optional[int] = ...) -> None: ...

class UnsubscribeQuotesRequest(_message.Message):
    __slots__ = ("subscriber_id", "instruments", "all")
    SUBSCRIBER_ID_FIELD_NUMBER: _ClassVar[int]
    INSTRUMENTS_FIELD_NUMBER: _ClassVar[int]
    ALL_FIELD_NUMBER: _ClassVar[int]
    subscriber_id: str
    instruments: _containers.RepeatedCompositeFieldContainer[_instrument_pb2.Instrument]
    all: bool
    def __init__(self, subscriber_id: _Optional[str] = ..., instruments: _Optional[_Iterable[_Union[_instrument_pb2.Instrument, _Mapping]]] = ..., all: _Optional[bool] = ...) -> None: ...

class UnsubscribeQuotesResponse(_message.Message):
    __slots__ = ("subscriptions", "lines_in_use")
    SUBSCRIPTIONS_FIELD_NUMBER: _ClassVar[int]
    LINES_IN_USE_FIELD_NUMBER: _ClassVar[int]
    subscriptions: _containers.RepeatedCompositeFieldContainer[QuoteSubscription]
    lines_in_use: int
    def __init__(self, subscriptions: _Optional[_Iterable[_Union[QuoteSubscription, _Mapping]]] = ..., lines_in_use: _Optional[int] = ...) -> None: ...

class ListPositionsRequest(_message.Message):
    __slots__ = ("account_id", "page_size", "page_token")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    page_size: int
    page_token: str
    def __init__(self, account_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListPositionsResponse(_message.Message):
    __slots__ = ("positions", "next_page_token")
    POSITIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    positions: _containers.RepeatedCompositeFieldContainer[_portfolio_pb2.Position]
    next_page_token: str
    def __init__(self, positions: _Optional[_Iterable[_Union[_portfolio_pb2.Position, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetAccountRequest(_message.Message):
    __slots__ = ("account_id",)
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    def __init__(self, account_id: _Optional[str] = ...) -> None: ...

class GetAccountResponse(_message.Message):
    __slots__ = ("account",)
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    account: _portfolio_pb2.AccountSummary
    def __init__(self, account: _Optional[_Union[_portfolio_pb2.AccountSummary, _Mapping]] = ...) -> None: ...

class GetPnlRequest(_message.Message):
    __slots__ = ("account_id", "instrument")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    INSTRUMENT_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    instrument: _instrument_pb2.Instrument
    def __init__(self, account_id: _Optional[str] = ..., instrument: _Optional[_Union[_instrument_pb2.Instrument, _Mapping]] = ...) -> None: ...

class GetPnlResponse(_message.Message):
    __slots__ = ("pnl", "position_pnls")
    PNL_FIELD_NUMBER: _ClassVar[int]
    POSITION_PNLS_FIELD_NUMBER: _ClassVar[int]
    pnl: _portfolio_pb2.Pnl
    position_pnls: _containers.RepeatedCompositeFieldContainer[_portfolio_pb2.Pnl]
    def __init__(self, pnl: _Optional[_Union[_portfolio_pb2.Pnl, _Mapping]] = ..., position_pnls: _Optional[_Iterable[_Union[_portfolio_pb2.Pnl, _Mapping]]] = ...) -> None: ...

class GetConnectionStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetConnectionStatusResponse(_message.Message):
    __slots__ = ("status", "data_farms")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    DATA_FARMS_FIELD_NUMBER: _ClassVar[int]
    status: _system_pb2.ConnectionStatus
    data_farms: _containers.RepeatedCompositeFieldContainer[DataFarmStatus]
    def __init__(self, status: _Optional[_Union[_system_pb2.ConnectionStatus, _Mapping]] = ..., data_farms: _Optional[_Iterable[_Union[DataFarmStatus, _Mapping]]] = ...) -> None: ...

class DataFarmStatus(_message.Message):
    __slots__ = ("name", "kind", "connected", "broker_code", "update_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    CONNECTED_FIELD_NUMBER: _ClassVar[int]
    BROKER_CODE_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    kind: DataFarmKind
    connected: bool
    broker_code: int
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., kind: _Optional[_Union[DataFarmKind, str]] = ..., connected: _Optional[bool] = ..., broker_code: _Optional[int] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ReconcileRequest(_message.Message):
    __slots__ = ("account_id", "request_id")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    request_id: str
    def __init__(self, account_id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class ReconcileResponse(_message.Message):
    __slots__ = ("run",)
    RUN_FIELD_NUMBER: _ClassVar[int]
    run: _reconciliation_pb2.ReconciliationRun
    def __init__(self, run: _Optional[_Union[_reconciliation_pb2.ReconciliationRun, _Mapping]] = ...) -> None: ...
