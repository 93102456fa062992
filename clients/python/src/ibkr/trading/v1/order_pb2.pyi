import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.rpc import status_pb2 as _status_pb2
from google.type import decimal_pb2 as _decimal_pb2
from google.type import money_pb2 as _money_pb2
from ibkr.trading.v1 import instrument_pb2 as _instrument_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class OrderSide(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ORDER_SIDE_UNSPECIFIED: _ClassVar[OrderSide]
    ORDER_SIDE_BUY: _ClassVar[OrderSide]
    ORDER_SIDE_SELL: _ClassVar[OrderSide]

class OrderType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ORDER_TYPE_UNSPECIFIED: _ClassVar[OrderType]
    ORDER_TYPE_MARKET: _ClassVar[OrderType]
    ORDER_TYPE_LIMIT: _ClassVar[OrderType]
    ORDER_TYPE_STOP: _ClassVar[OrderType]
    ORDER_TYPE_STOP_LIMIT: _ClassVar[OrderType]
    ORDER_TYPE_TRAILING_STOP: _ClassVar[OrderType]
    ORDER_TYPE_TRAILING_STOP_LIMIT: _ClassVar[OrderType]
    ORDER_TYPE_MARKET_ON_CLOSE: _ClassVar[OrderType]
    ORDER_TYPE_LIMIT_ON_CLOSE: _ClassVar[OrderType]

class TimeInForce(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TIME_IN_FORCE_UNSPECIFIED: _ClassVar[TimeInForce]
    TIME_IN_FORCE_DAY: _ClassVar[TimeInForce]
    TIME_IN_FORCE_GTC: _ClassVar[TimeInForce]
    TIME_IN_FORCE_IOC: _ClassVar[TimeInForce]
    TIME_IN_FORCE_FOK: _ClassVar[TimeInForce]
    TIME_IN_FORCE_GTD: _ClassVar[TimeInForce]

class OcaType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OCA_TYPE_UNSPECIFIED: _ClassVar[OcaType]
    OCA_TYPE_CANCEL_WITH_BLOCK: _ClassVar[OcaType]
    OCA_TYPE_REDUCE_WITH_BLOCK: _ClassVar[OcaType]
    OCA_TYPE_REDUCE_NON_BLOCK: _ClassVar[OcaType]

class OrderStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ORDER_STATUS_UNSPECIFIED: _ClassVar[OrderStatus]
    ORDER_STATUS_PENDING_SUBMIT: _ClassVar[OrderStatus]
    ORDER_STATUS_SUBMITTED: _ClassVar[OrderStatus]
    ORDER_STATUS_PARTIALLY_FILLED: _ClassVar[OrderStatus]
    ORDER_STATUS_FILLED: _ClassVar[OrderStatus]
    ORDER_STATUS_PENDING_CANCEL: _ClassVar[OrderStatus]
    ORDER_STATUS_CANCELLED: _ClassVar[OrderStatus]
    ORDER_STATUS_REJECTED: _ClassVar[OrderStatus]
    ORDER_STATUS_INACTIVE: _ClassVar[OrderStatus]
    ORDER_STATUS_UNKNOWN: _ClassVar[OrderStatus]
    ORDER_STATUS_PENDING_REPLACE: _ClassVar[OrderStatus]
    ORDER_STATUS_EXPIRED: _ClassVar[OrderStatus]

class OrderOrigin(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ORDER_ORIGIN_UNSPECIFIED: _ClassVar[OrderOrigin]
    ORDER_ORIGIN_SUITE: _ClassVar[OrderOrigin]
    ORDER_ORIGIN_EXTERNAL: _ClassVar[OrderOrigin]
ORDER_SIDE_UNSPECIFIED: OrderSide
ORDER_SIDE_BUY: OrderSide
ORDER_SIDE_SELL: OrderSide
ORDER_TYPE_UNSPECIFIED: OrderType
ORDER_TYPE_MARKET: OrderType
ORDER_TYPE_LIMIT: OrderType
ORDER_TYPE_STOP: OrderType
ORDER_TYPE_STOP_LIMIT: OrderType
ORDER_TYPE_TRAILING_STOP: OrderType
ORDER_TYPE_TRAILING_STOP_LIMIT: OrderType
ORDER_TYPE_MARKET_ON_CLOSE: OrderType
ORDER_TYPE_LIMIT_ON_CLOSE: OrderType
TIME_IN_FORCE_UNSPECIFIED: TimeInForce
TIME_IN_FORCE_DAY: TimeInForce
TIME_IN_FORCE_GTC: TimeInForce
TIME_IN_FORCE_IOC: TimeInForce
TIME_IN_FORCE_FOK: TimeInForce
TIME_IN_FORCE_GTD: TimeInForce
OCA_TYPE_UNSPECIFIED: OcaType
OCA_TYPE_CANCEL_WITH_BLOCK: OcaType
OCA_TYPE_REDUCE_WITH_BLOCK: OcaType
OCA_TYPE_REDUCE_NON_BLOCK: OcaType
ORDER_STATUS_UNSPECIFIED: OrderStatus
ORDER_STATUS_PENDING_SUBMIT: OrderStatus
ORDER_STATUS_SUBMITTED: OrderStatus
ORDER_STATUS_PARTIALLY_FILLED: OrderStatus
ORDER_STATUS_FILLED: OrderStatus
ORDER_STATUS_PENDING_CANCEL: OrderStatus
ORDER_STATUS_CANCELLED: OrderStatus
ORDER_STATUS_REJECTED: OrderStatus
ORDER_STATUS_INACTIVE: OrderStatus
ORDER_STATUS_UNKNOWN: OrderStatus
ORDER_STATUS_PENDING_REPLACE: OrderStatus
ORDER_STATUS_EXPIRED: OrderStatus
ORDER_ORIGIN_UNSPECIFIED: OrderOrigin
ORDER_ORIGIN_SUITE: OrderOrigin
ORDER_ORIGIN_EXTERNAL: OrderOrigin

class BracketSpec(_message.Message):
    __slots__ = ("take_profit_price", "stop_loss_price", "stop_loss_limit_price", "time_in_force")
    TAKE_PROFIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    STOP_LOSS_PRICE_FIELD_NUMBER: _ClassVar[int]
    STOP_LOSS_LIMIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    TIME_IN_FORCE_FIELD_NUMBER: _ClassVar[int]
    take_profit_price: _decimal_pb2.Decimal
    stop_loss_price: _decimal_pb2.Decimal
    stop_loss_limit_price: _decimal_pb2.Decimal
    time_in_force: TimeInForce
    def __init__(self, take_profit_price: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., stop_loss_price: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., stop_loss_limit_price: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., time_in_force: _Optional[_Union[TimeInForce, str]] = ...) -> None: ...

class OrderSpec(_message.Message):
    __slots__ = ("instrument", "side", "quantity", "order_type", "limit_price", "stop_price", "time_in_force", "outside_rth", "trailing_amount", "trailing_percent", "trailing_limit_offset", "good_till_time", "oca_group", "oca_type", "bracket", "display_quantity")
    INSTRUMENT_FIELD_NUMBER: _ClassVar[int]
    SIDE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    ORDER_TYPE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    STOP_PRICE_FIELD_NUMBER: _ClassVar[int]
    TIME_IN_FORCE_FIELD_NUMBER: _ClassVar[int]
    OUTSIDE_RTH_FIELD_NUMBER: _ClassVar[int]
    TRAILING_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    TRAILING_PERCENT_FIELD_NUMBER: _ClassVar[int]
    TRAILING_LIMIT_OFFSET_FIELD_NUMBER: _ClassVar[int]
    GOOD_TILL_TIME_FIELD_NUMBER: _ClassVar[int]
    OCA_GROUP_FIELD_NUMBER: _ClassVar[int]
    OCA_TYPE_FIELD_NUMBER: _ClassVar[int]
    BRACKET_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_QUANTITY_FIELD_NUMBER: _ClassVar[int]
    instrument: _instrument_pb2.Instrument
    side: OrderSide
    quantity: _decimal_pb2.Decimal
    order_type: OrderType
    limit_price: _decimal_pb2.Decimal
    stop_price: _decimal_pb2.Decimal
    time_in_force: TimeInForce
    outside_rth: bool
    trailing_amount: _decimal_pb2.Decimal
    trailing_percent: _decimal_pb2.Decimal
    trailing_limit_offset: _decimal_pb2.Decimal
    good_till_time: _timestamp_pb2.Timestamp
    oca_group: str
    oca_type: OcaType
    bracket: BracketSpec
    display_quantity: _decimal_pb2.Decimal
    def __init__(self, instrument: _Optional[_Union[_instrument_pb2.Instrument, _Mapping]] = ..., side: _Optional[_Union[OrderSide, str]] = ..., quantity: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., order_type: _Optional[_Union[OrderType, str]] = ..., limit_price: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., stop_price: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., time_in_force: _Optional[_Union[TimeInForce, str]] = ..., outside_rth: _Optional[bool] = ..., trailing_amount: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., trailing_percent: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., trailing_limit_offset: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., good_till_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., oca_group: _Optional[str] = ..., oca_type: _Optional[_Union[OcaType, str]] = ..., bracket: _Optional[_Union[BracketSpec, _Mapping]] = ..., display_quantity: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ...) -> None: ...

class Order(_message.Message):
    __slots__ = ("order_id", "client_order_id", "account_id", "spec", "status", "filled_quantity", "remaining_quantity", "average_fill_price", "last_fill_price", "broker_order_id", "perm_id", "broker_client_id", "origin", "parent_order_id", "child_order_ids", "create_time", "update_time", "submit_time", "done_time", "reject_code", "reject_reason", "broker_error_code", "risk_decision_id", "commission", "revision")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    SPEC_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    FILLED_QUANTITY_FIELD_NUMBER: _ClassVar[int]
    REMAINING_QUANTITY_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_FILL_PRICE_FIELD_NUMBER: _ClassVar[int]
    LAST_FILL_PRICE_FIELD_NUMBER: _ClassVar[int]
    BROKER_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    PERM_ID_FIELD_NUMBER: _ClassVar[int]
    BROKER_CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    PARENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CHILD_ORDER_IDS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    SUBMIT_TIME_FIELD_NUMBER: _ClassVar[int]
    DONE_TIME_FIELD_NUMBER: _ClassVar[int]
    REJECT_CODE_FIELD_NUMBER: _ClassVar[int]
    REJECT_REASON_FIELD_NUMBER: _ClassVar[int]
    BROKER_ERROR_CODE_FIELD_NUMBER: _ClassVar[int]
    RISK_DECISION_ID_FIELD_NUMBER: _ClassVar[int]
    COMMISSION_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    client_order_id: str
    account_id: str
    spec: OrderSpec
    status: OrderStatus
    filled_quantity: _decimal_pb2.Decimal
    remaining_quantity: _decimal_pb2.Decimal
    average_fill_price: _decimal_pb2.Decimal
    last_fill_price: _decimal_pb2.Decimal
    broker_order_id: int
    perm_id: int
    broker_client_id: int
    origin: OrderOrigin
    parent_order_id: str
    child_order_ids: _containers.RepeatedScalarFieldContainer[str]
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    submit_time: _timestamp_pb2.Timestamp
    done_time: _timestamp_pb2.Timestamp
    reject_code: str
    reject_reason: str
    broker_error_code: int
    risk_decision_id: str
    commission: _money_pb2.Money
    revision: int
    def __init__(self, order_id: _Optional[str] = ..., client_order_id: _Optional[str] = ..., account_id: _Optional[str] = ..., spec: _Optional[_Union[OrderSpec, _Mapping]] = ..., status: _Optional[_Union[OrderStatus, str]] = ..., filled_quantity: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., remaining_quantity: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., average_fill_price: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., last_fill_price: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., broker_order_id: _Optional[int] = ..., perm_id: _Optional[int] = ..., broker_client_id: _Optional[int] = ..., origin: _Optional[_Union[OrderOrigin, str]] = ..., parent_order_id: _Optional[str] = ..., child_order_ids: _Optional[_Iterable[str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., submit_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., done_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reject_code: _Optional[str] = ..., reject_reason: _Optional[str] = ..., broker_error_code: _Optional[int] = ..., risk_decision_id: _Optional[str] = ..., commission: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., revision: _Optional[int] = ...) -> None: ...

class OrderEvent(_message.Message):
    __slots__ = ("event_id", "event_time", "status", "previous_status", "filled_quantity", "description", "broker_error_code", "risk_decision_id", "trace_id", "spec")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_STATUS_FIELD_NUMBER: _ClassVar[int]
    FILLED_QUANTITY_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    BROKER_ERROR_CODE_FIELD_NUMBER: _ClassVar[int]
    RISK_DECISION_ID_FIELD_NUMBER: _ClassVar[int]
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    SPEC_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    event_time: _timestamp_pb2.Timestamp
    status: OrderStatus
    previous_status: OrderStatus
    filled_quantity: _decimal_pb2.Decimal
    description: str
    broker_error_code: int
    risk_decision_id: str
    trace_id: str
    spec: OrderSpec
    def __init__(self, event_id: _Optional[str] = ..., event_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., status: _Optional[_Union[OrderStatus, str]] = ..., previous_status: _Optional[_Union[OrderStatus, str]] = ..., filled_quantity: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., description: _Optional[str] = ..., broker_error_code: _Optional[int] = ..., risk_decision_id: _Optional[str] = ..., trace_id: _Optional[str] = ..., spec: _Optional[_Union[OrderSpec, _Mapping]] = ...) -> None: ...

class MarginImpact(_message.Message):
    __slots__ = ("before", "change", "after")
    BEFORE_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    AFTER_FIELD_NUMBER: _ClassVar[int]
    before: _money_pb2.Money
    change: _money_pb2.Money
    after: _money_pb2.Money
    def __init__(self, before: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., change: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., after: _Optional[_Union[_money_pb2.Money, _Mapping]] = ...) -> None: ...

class OrderPreview(_message.Message):
    __slots__ = ("initial_margin", "maintenance_margin", "equity_with_loan", "commission", "min_commission", "max_commission", "warning_text", "estimated_notional")
    INITIAL_MARGIN_FIELD_NUMBER: _ClassVar[int]
    MAINTENANCE_MARGIN_FIELD_NUMBER: _ClassVar[int]
    EQUITY_WITH_LOAN_FIELD_NUMBER: _ClassVar[int]
    COMMISSION_FIELD_NUMBER: _ClassVar[int]
    MIN_COMMISSION_FIELD_NUMBER: _ClassVar[int]
    MAX_COMMISSION_FIELD_NUMBER: _ClassVar[int]
    WARNING_TEXT_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_NOTIONAL_FIELD_NUMBER: _ClassVar[int]
    initial_margin: MarginImpact
    maintenance_margin: MarginImpact
    equity_with_loan: MarginImpact
    commission: _money_pb2.Money
    min_commission: _money_pb2.Money
    max_commission: _money_pb2.Money
    warning_text: str
    estimated_notional: _money_pb2.Money
    def __init__(self, initial_margin: _Optional[_Union[MarginImpact, _Mapping]] = ..., maintenance_margin: _Optional[_Union[MarginImpact, _Mapping]] = ..., equity_with_loan: _Optional[_Union[MarginImpact, _Mapping]] = ..., commission: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., min_commission: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., max_commission: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., warning_text: _Optional[str] = ..., estimated_notional: _Optional[_Union[_money_pb2.Money, _Mapping]] = ...) -> None: ...

class OrderCancelFailure(_message.Message):
    __slots__ = ("order_id", "status")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    status: _status_pb2.Status
    def __init__(self, order_id: _Optional[str] = ..., status: _Optional[_Union[_status_pb2.Status, _Mapping]] = ...) -> None: ...
