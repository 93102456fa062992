import datetime

from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.type import decimal_pb2 as _decimal_pb2
from ibkr.trading.v1 import execution_pb2 as _execution_pb2
from ibkr.trading.v1 import instrument_pb2 as _instrument_pb2
from ibkr.trading.v1 import order_pb2 as _order_pb2
from ibkr.trading.v1 import risk_types_pb2 as _risk_types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PlaceOrderRequest(_message.Message):
    __slots__ = ("account_id", "client_order_id", "order")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    client_order_id: str
    order: _order_pb2.OrderSpec
    def __init__(self, account_id: _Optional[str] = ..., client_order_id: _Optional[str] = ..., order: _Optional[_Union[_order_pb2.OrderSpec, _Mapping]] = ...) -> None: ...

class PlaceOrderResponse(_message.Message):
    __slots__ = ("order", "child_orders")
    ORDER_FIELD_NUMBER: _ClassVar[int]
    CHILD_ORDERS_FIELD_NUMBER: _ClassVar[int]
    order: _order_pb2.Order
    child_orders: _containers.RepeatedCompositeFieldContainer[_order_pb2.Order]
    def __init__(self, order: _Optional[_Union[_order_pb2.Order, _Mapping]] = ..., child_orders: _Optional[_Iterable[_Union[_order_pb2.Order, _Mapping]]] = ...) -> None: ...

class PreviewOrderRequest(_message.Message):
    __slots__ = ("account_id", "order")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    order: _order_pb2.OrderSpec
    def __init__(self, account_id: _Optional[str] = ..., order: _Optional[_Union[_order_pb2.OrderSpec, _Mapping]] = ...) -> None: ...

class PreviewOrderResponse(_message.Message):
    __slots__ = ("preview", "risk_decision", "shadow_risk_decision")
    PREVIEW_FIELD_NUMBER: _ClassVar[int]
    RISK_DECISION_FIELD_NUMBER: _ClassVar[int]
    SHADOW_RISK_DECISION_FIELD_NUMBER: _ClassVar[int]
    preview: _order_pb2.OrderPreview
    risk_decision: _risk_types_pb2.RiskDecision
    shadow_risk_decision: _risk_types_pb2.RiskDecision
    def __init__(self, preview: _Optional[_Union[_order_pb2.OrderPreview, _Mapping]] = ..., risk_decision: _Optional[_Union[_risk_types_pb2.RiskDecision, _Mapping]] = ..., shadow_risk_decision: _Optional[_Union[_risk_types_pb2.RiskDecision, _Mapping]] = ...) -> None: ...

class ReplaceOrderRequest(_message.Message):
    __slots__ = ("account_id", "order_id", "client_order_id", "order", "update_mask", "request_id")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    order_id: str
    client_order_id: str
    order: _order_pb2.OrderSpec
    update_mask: _field_mask_pb2.FieldMask
    request_id: str
    def __init__(self, account_id: _Optional[str] = ..., order_id: _Optional[str] = ..., client_order_id: _Optional[str] = ..., order: _Optional[_Union[_order_pb2.OrderSpec, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

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
    __slots__ = ("account_id", "instrument", "quantity", "order_type", "limit_price", "client_order_id", "cancel_open_orders", "time_in_force")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    INSTRUMENT_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    ORDER_TYPE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CANCEL_OPEN_ORDERS_FIELD_NUMBER: _ClassVar[int]
    TIME_IN_FORCE_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    instrument: _instrument_pb2.Instrument
    quantity: _decimal_pb2.Decimal
    order_type: _order_pb2.OrderType
    limit_price: _decimal_pb2.Decimal
    client_order_id: str
    cancel_open_orders: bool
    time_in_force: _order_pb2.TimeInForce
    def __init__(self, account_id: _Optional[str] = ..., instrument: _Optional[_Union[_instrument_pb2.Instrument, _Mapping]] = ..., quantity: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., order_type: _Optional[_Union[_order_pb2.OrderType, str]] = ..., limit_price: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., client_order_id: _Optional[str] = ..., cancel_open_orders: _Optional[bool] = ..., time_in_force: _Optional[_Union[_order_pb2.TimeInForce, str]] = ...) -> None: ...

class ClosePositionResponse(_message.Message):
    __slots__ = ("order",)
    ORDER_FIELD_NUMBER: _ClassVar[int]
    order: _order_pb2.Order
    def __init__(self, order: _Optional[_Union[_order_pb2.Order, _Mapping]] = ...) -> None: ...

class GetOrderRequest(_message.Message):
    __slots__ = ("account_id", "order_id", "client_order_id", "include_history")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_HISTORY_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    order_id: str
    client_order_id: str
    include_history: bool
    def __init__(self, account_id: _Optional[str] = ..., order_id: _Optional[str] = ..., client_order_id: _Optional[str] = ..., include_history: _Optional[bool] = ...) -> None: ...

class GetOrderResponse(_message.Message):
    __slots__ = ("order", "history", "fills")
    ORDER_FIELD_NUMBER: _ClassVar[int]
    HISTORY_FIELD_NUMBER: _ClassVar[int]
    FILLS_FIELD_NUMBER: _ClassVar[int]
    order: _order_pb2.Order
    history: _containers.RepeatedCompositeFieldContainer[_order_pb2.OrderEvent]
    fills: _containers.RepeatedCompositeFieldContainer[_execution_pb2.Fill]
    def __init__(self, order: _Optional[_Union[_order_pb2.Order, _Mapping]] = ..., history: _Optional[_Iterable[_Union[_order_pb2.OrderEvent, _Mapping]]] = ..., fills: _Optional[_Iterable[_Union[_execution_pb2.Fill, _Mapping]]] = ...) -> None: ...

class ListOrdersRequest(_message.Message):
    __slots__ = ("account_id", "page_size", "page_token", "symbol", "statuses", "open_only", "start_time", "end_time")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    OPEN_ONLY_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    page_size: int
    page_token: str
    symbol: str
    statuses: _containers.RepeatedScalarFieldContainer[_order_pb2.OrderStatus]
    open_only: bool
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    def __init__(self, account_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., symbol: _Optional[str] = ..., statuses: _Optional[_Iterable[_Union[_order_pb2.OrderStatus, str]]] = ..., open_only: _Optional[bool] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListOrdersResponse(_message.Message):
    __slots__ = ("orders", "next_page_token")
    ORDERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    orders: _containers.RepeatedCompositeFieldContainer[_order_pb2.Order]
    next_page_token: str
    def __init__(self, orders: _Optional[_Iterable[_Union[_order_pb2.Order, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListFillsRequest(_message.Message):
    __slots__ = ("account_id", "page_size", "page_token", "symbol", "order_id", "client_order_id", "start_time", "end_time")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    page_size: int
    page_token: str
    symbol: str
    order_id: str
    client_order_id: str
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    def __init__(self, account_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., symbol: _Optional[str] = ..., order_id: _Optional[str] = ..., client_order_id: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListFillsResponse(_message.Message):
    __slots__ = ("fills", "next_page_token")
    FILLS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    fills: _containers.RepeatedCompositeFieldContainer[_execution_pb2.Fill]
    next_page_token: str
    def __init__(self, fills: _Optional[_Iterable[_Union[_execution_pb2.Fill, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
