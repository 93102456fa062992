import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.type import decimal_pb2 as _decimal_pb2
from google.type import money_pb2 as _money_pb2
from ibkr.trading.v1 import instrument_pb2 as _instrument_pb2
from ibkr.trading.v1 import order_pb2 as _order_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Fill(_message.Message):
    __slots__ = ("execution_id", "order_id", "client_order_id", "account_id", "instrument", "side", "quantity", "price", "commission", "realized_pnl", "fill_time", "exchange", "correction", "superseded_execution_id", "broker_order_id", "perm_id", "cumulative_quantity", "average_price", "origin")
    EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    INSTRUMENT_FIELD_NUMBER: _ClassVar[int]
    SIDE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    COMMISSION_FIELD_NUMBER: _ClassVar[int]
    REALIZED_PNL_FIELD_NUMBER: _ClassVar[int]
    FILL_TIME_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    CORRECTION_FIELD_NUMBER: _ClassVar[int]
    SUPERSEDED_EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    BROKER_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    PERM_ID_FIELD_NUMBER: _ClassVar[int]
    CUMULATIVE_QUANTITY_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_PRICE_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    execution_id: str
    order_id: str
    client_order_id: str
    account_id: str
    instrument: _instrument_pb2.Instrument
    side: _order_pb2.OrderSide
    quantity: _decimal_pb2.Decimal
    price: _decimal_pb2.Decimal
    commission: _money_pb2.Money
    realized_pnl: _money_pb2.Money
    fill_time: _timestamp_pb2.Timestamp
    exchange: str
    correction: bool
    superseded_execution_id: str
    broker_order_id: int
    perm_id: int
    cumulative_quantity: _decimal_pb2.Decimal
    average_price: _decimal_pb2.Decimal
    origin: _order_pb2.OrderOrigin
    def __init__(self, execution_id: _Optional[str] = ..., order_id: _Optional[str] = ..., client_order_id: _Optional[str] = ..., account_id: _Optional[str] = ..., instrument: _Optional[_Union[_instrument_pb2.Instrument, _Mapping]] = ..., side: _Optional[_Union[_order_pb2.OrderSide, str]] = ..., quantity: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., price: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., commission: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., realized_pnl: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., fill_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., exchange: _Optional[str] = ..., correction: _Optional[bool] = ..., superseded_execution_id: _Optional[str] = ..., broker_order_id: _Optional[int] = ..., perm_id: _Optional[int] = ..., cumulative_quantity: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., average_price: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., origin: _Optional[_Union[_order_pb2.OrderOrigin, str]] = ...) -> None: ...

class Commission(_message.Message):
    __slots__ = ("execution_id", "account_id", "order_id", "commission", "realized_pnl", "report_time")
    EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    COMMISSION_FIELD_NUMBER: _ClassVar[int]
    REALIZED_PNL_FIELD_NUMBER: _ClassVar[int]
    REPORT_TIME_FIELD_NUMBER: _ClassVar[int]
    execution_id: str
    account_id: str
    order_id: str
    commission: _money_pb2.Money
    realized_pnl: _money_pb2.Money
    report_time: _timestamp_pb2.Timestamp
    def __init__(self, execution_id: _Optional[str] = ..., account_id: _Optional[str] = ..., order_id: _Optional[str] = ..., commission: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., realized_pnl: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., report_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
