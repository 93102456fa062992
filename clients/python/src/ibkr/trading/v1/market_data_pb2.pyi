import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.type import decimal_pb2 as _decimal_pb2
from ibkr.trading.v1 import instrument_pb2 as _instrument_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class MarketDataType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MARKET_DATA_TYPE_UNSPECIFIED: _ClassVar[MarketDataType]
    MARKET_DATA_TYPE_REALTIME: _ClassVar[MarketDataType]
    MARKET_DATA_TYPE_FROZEN: _ClassVar[MarketDataType]
    MARKET_DATA_TYPE_DELAYED: _ClassVar[MarketDataType]
    MARKET_DATA_TYPE_DELAYED_FROZEN: _ClassVar[MarketDataType]
MARKET_DATA_TYPE_UNSPECIFIED: MarketDataType
MARKET_DATA_TYPE_REALTIME: MarketDataType
MARKET_DATA_TYPE_FROZEN: MarketDataType
MARKET_DATA_TYPE_DELAYED: MarketDataType
MARKET_DATA_TYPE_DELAYED_FROZEN: MarketDataType

class Quote(_message.Message):
    __slots__ = ("instrument", "bid_price", "bid_size", "ask_price", "ask_size", "last_price", "last_size", "volume", "close_price", "open_price", "high_price", "low_price", "quote_time", "last_trade_time", "data_type")
    INSTRUMENT_FIELD_NUMBER: _ClassVar[int]
    BID_PRICE_FIELD_NUMBER: _ClassVar[int]
    BID_SIZE_FIELD_NUMBER: _ClassVar[int]
    ASK_PRICE_FIELD_NUMBER: _ClassVar[int]
    ASK_SIZE_FIELD_NUMBER: _ClassVar[int]
    LAST_PRICE_FIELD_NUMBER: _ClassVar[int]
    LAST_SIZE_FIELD_NUMBER: _ClassVar[int]
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    CLOSE_PRICE_FIELD_NUMBER: _ClassVar[int]
    OPEN_PRICE_FIELD_NUMBER: _ClassVar[int]
    HIGH_PRICE_FIELD_NUMBER: _ClassVar[int]
    LOW_PRICE_FIELD_NUMBER: _ClassVar[int]
    QUOTE_TIME_FIELD_NUMBER: _ClassVar[int]
    LAST_TRADE_TIME_FIELD_NUMBER: _ClassVar[int]
    DATA_TYPE_FIELD_NUMBER: _ClassVar[int]
    instrument: _instrument_pb2.Instrument
    bid_price: _decimal_pb2.Decimal
    bid_size: _decimal_pb2.Decimal
    ask_price: _decimal_pb2.Decimal
    ask_size: _decimal_pb2.Decimal
    last_price: _decimal_pb2.Decimal
    last_size: _decimal_pb2.Decimal
    volume: _decimal_pb2.Decimal
    close_price: _decimal_pb2.Decimal
    open_price: _decimal_pb2.Decimal
    high_price: _decimal_pb2.Decimal
    low_price: _decimal_pb2.Decimal
    quote_time: _timestamp_pb2.Timestamp
    last_trade_time: _timestamp_pb2.Timestamp
    data_type: MarketDataType
    def __init__(self, instrument: _Optional[_Union[_instrument_pb2.Instrument, _Mapping]] = ..., bid_price: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., bid_size: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., ask_price: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., ask_size: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., last_price: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., last_size: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., volume: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., close_price: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., open_price: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., high_price: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., low_price: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., quote_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_trade_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., data_type: _Optional[_Union[MarketDataType, str]] = ...) -> None: ...
