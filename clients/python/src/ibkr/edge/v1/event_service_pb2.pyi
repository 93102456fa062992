from ibkr.trading.v1 import event_pb2 as _event_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class StreamEventsRequest(_message.Message):
    __slots__ = ("account_id", "event_types", "resume_token", "symbols", "skip_snapshot")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPES_FIELD_NUMBER: _ClassVar[int]
    RESUME_TOKEN_FIELD_NUMBER: _ClassVar[int]
    SYMBOLS_FIELD_NUMBER: _ClassVar[int]
    SKIP_SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    event_types: _containers.RepeatedScalarFieldContainer[_event_pb2.EventType]
    resume_token: str
    symbols: _containers.RepeatedScalarFieldContainer[str]
    skip_snapshot: bool
    def __init__(self, account_id: _Optional[str] = ..., event_types: _Optional[_Iterable[_Union[_event_pb2.EventType, str]]] = ..., resume_token: _Optional[str] = ..., symbols: _Optional[_Iterable[str]] = ..., skip_snapshot: _Optional[bool] = ...) -> None: ...

class StreamEventsResponse(_message.Message):
    __slots__ = ("event", "heartbeat", "marker", "resume_token")
    EVENT_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    MARKER_FIELD_NUMBER: _ClassVar[int]
    RESUME_TOKEN_FIELD_NUMBER: _ClassVar[int]
    event: _event_pb2.Event
    heartbeat: _event_pb2.Heartbeat
    marker: _event_pb2.StreamMarker
    resume_token: str
    def __init__(self, event: _Optional[_Union[_event_pb2.Event, _Mapping]] = ..., heartbeat: _Optional[_Union[_event_pb2.Heartbeat, _Mapping]] = ..., marker: _Optional[_Union[_event_pb2.StreamMarker, _Mapping]] = ..., resume_token: _Optional[str] = ...) -> None: ...
