from google.type import date_pb2 as _date_pb2
from google.type import decimal_pb2 as _decimal_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SecurityType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SECURITY_TYPE_UNSPECIFIED: _ClassVar[SecurityType]
    SECURITY_TYPE_STOCK: _ClassVar[SecurityType]
    SECURITY_TYPE_OPTION: _ClassVar[SecurityType]
    SECURITY_TYPE_FUTURE: _ClassVar[SecurityType]
    SECURITY_TYPE_FUTURE_OPTION: _ClassVar[SecurityType]
    SECURITY_TYPE_FOREX: _ClassVar[SecurityType]
    SECURITY_TYPE_INDEX: _ClassVar[SecurityType]
    SECURITY_TYPE_CFD: _ClassVar[SecurityType]
    SECURITY_TYPE_BOND: _ClassVar[SecurityType]
    SECURITY_TYPE_FUND: _ClassVar[SecurityType]
    SECURITY_TYPE_COMMODITY: _ClassVar[SecurityType]
    SECURITY_TYPE_WARRANT: _ClassVar[SecurityType]
    SECURITY_TYPE_CRYPTO: _ClassVar[SecurityType]

class OptionRight(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OPTION_RIGHT_UNSPECIFIED: _ClassVar[OptionRight]
    OPTION_RIGHT_CALL: _ClassVar[OptionRight]
    OPTION_RIGHT_PUT: _ClassVar[OptionRight]
SECURITY_TYPE_UNSPECIFIED: SecurityType
SECURITY_TYPE_STOCK: SecurityType
SECURITY_TYPE_OPTION: SecurityType
SECURITY_TYPE_FUTURE: SecurityType
SECURITY_TYPE_FUTURE_OPTION: SecurityType
SECURITY_TYPE_FOREX: SecurityType
SECURITY_TYPE_INDEX: SecurityType
SECURITY_TYPE_CFD: SecurityType
SECURITY_TYPE_BOND: SecurityType
SECURITY_TYPE_FUND: SecurityType
SECURITY_TYPE_COMMODITY: SecurityType
SECURITY_TYPE_WARRANT: SecurityType
SECURITY_TYPE_CRYPTO: SecurityType
OPTION_RIGHT_UNSPECIFIED: OptionRight
OPTION_RIGHT_CALL: OptionRight
OPTION_RIGHT_PUT: OptionRight

class Instrument(_message.Message):
    __slots__ = ("symbol", "security_type", "exchange", "currency", "con_id", "primary_exchange", "local_symbol", "multiplier", "last_trade_date", "strike", "right")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    SECURITY_TYPE_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    CON_ID_FIELD_NUMBER: _ClassVar[int]
    PRIMARY_EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    LOCAL_SYMBOL_FIELD_NUMBER: _ClassVar[int]
    MULTIPLIER_FIELD_NUMBER: _ClassVar[int]
    LAST_TRADE_DATE_FIELD_NUMBER: _ClassVar[int]
    STRIKE_FIELD_NUMBER: _ClassVar[int]
    RIGHT_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    security_type: SecurityType
    exchange: str
    currency: str
    con_id: int
    primary_exchange: str
    local_symbol: str
    multiplier: _decimal_pb2.Decimal
    last_trade_date: _date_pb2.Date
    strike: _decimal_pb2.Decimal
    right: OptionRight
    def __init__(self, symbol: _Optional[str] = ..., security_type: _Optional[_Union[SecurityType, str]] = ..., exchange: _Optional[str] = ..., currency: _Optional[str] = ..., con_id: _Optional[int] = ..., primary_exchange: _Optional[str] = ..., local_symbol: _Optional[str] = ..., multiplier: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., last_trade_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., strike: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., right: _Optional[_Union[OptionRight, str]] = ...) -> None: ...

class InstrumentDetails(_message.Message):
    __slots__ = ("instrument", "long_name", "min_tick", "min_size", "size_increment", "valid_exchanges", "time_zone")
    INSTRUMENT_FIELD_NUMBER: _ClassVar[int]
    LONG_NAME_FIELD_NUMBER: _ClassVar[int]
    MIN_TICK_FIELD_NUMBER: _ClassVar[int]
    MIN_SIZE_FIELD_NUMBER: _ClassVar[int]
    SIZE_INCREMENT_FIELD_NUMBER: _ClassVar[int]
    VALID_EXCHANGES_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    instrument: Instrument
    long_name: str
    min_tick: _decimal_pb2.Decimal
    min_size: _decimal_pb2.Decimal
    size_increment: _decimal_pb2.Decimal
    valid_exchanges: _containers.RepeatedScalarFieldContainer[str]
    time_zone: str
    def __init__(self, instrument: _Optional[_Union[Instrument, _Mapping]] = ..., long_name: _Optional[str] = ..., min_tick: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., min_size: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., size_increment: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., valid_exchanges: _Optional[_Iterable[str]] = ..., time_zone: _Optional[str] = ...) -> None: ...
