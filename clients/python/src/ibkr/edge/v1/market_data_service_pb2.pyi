import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from ibkr.trading.v1 import event_pb2 as _event_pb2
from ibkr.trading.v1 import instrument_pb2 as _instrument_pb2
from ibkr.trading.v1 import market_data_pb2 as _market_data_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetQuoteRequest(_message.Message):
    __slots__ = ("instrument",)
    INSTRUMENT_FIELD_NUMBER: _ClassVar[int]
    instrument: _instrument_pb2.Instrument
    def __init__(self, instrument: _Optional[_Union[_instrument_pb2.Instrument, _Mapping]] = ...) -> None: ...

class GetQuoteResponse(_message.Message):
    __slots__ = ("quote",)
    QUOTE_FIELD_NUMBER: _ClassVar[int]
    quote: _market_data_pb2.Quote
    def __init__(self, quote: _Optional[_Union[_market_data_pb2.Quote, _Mapping]] = ...) -> None: ...

class StreamQuotesRequest(_message.Message):
    __slots__ = ("instruments", "min_interval")
    INSTRUMENTS_FIELD_NUMBER: _ClassVar[int]
    MIN_INTERVAL_FIELD_NUMBER: _ClassVar[int]
    instruments: _containers.RepeatedCompositeFieldContainer[_instrument_pb2.Instrument]
    min_interval: _duration_pb2.Duration
    def __init__(self, instruments: _Optional[_Iterable[_Union[_instrument_pb2.Instrument, _Mapping]]] = ..., min_interval: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class StreamQuotesResponse(_message.Message):
    __slots__ = ("quote", "heartbeat")
    QUOTE_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    quote: _market_data_pb2.Quote
    heartbeat: _event_pb2.Heartbeat
    def __init__(self, quote: _Optional[_Union[_market_data_pb2.Quote, _Mapping]] = ..., heartbeat: _Optional[_Union[_event_pb2.Heartbeat, _Mapping]] = ...) -> None: ...
