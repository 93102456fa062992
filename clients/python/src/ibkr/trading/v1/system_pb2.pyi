import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class BrokerConnectionState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BROKER_CONNECTION_STATE_UNSPECIFIED: _ClassVar[BrokerConnectionState]
    BROKER_CONNECTION_STATE_DISCONNECTED: _ClassVar[BrokerConnectionState]
    BROKER_CONNECTION_STATE_CONNECTING: _ClassVar[BrokerConnectionState]
    BROKER_CONNECTION_STATE_RECONCILING: _ClassVar[BrokerConnectionState]
    BROKER_CONNECTION_STATE_CONNECTED: _ClassVar[BrokerConnectionState]
    BROKER_CONNECTION_STATE_CONNECTIVITY_LOST: _ClassVar[BrokerConnectionState]
    BROKER_CONNECTION_STATE_STANDBY: _ClassVar[BrokerConnectionState]

class ServingStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SERVING_STATUS_UNSPECIFIED: _ClassVar[ServingStatus]
    SERVING_STATUS_SERVING: _ClassVar[ServingStatus]
    SERVING_STATUS_NOT_SERVING: _ClassVar[ServingStatus]
    SERVING_STATUS_UNREACHABLE: _ClassVar[ServingStatus]
BROKER_CONNECTION_STATE_UNSPECIFIED: BrokerConnectionState
BROKER_CONNECTION_STATE_DISCONNECTED: BrokerConnectionState
BROKER_CONNECTION_STATE_CONNECTING: BrokerConnectionState
BROKER_CONNECTION_STATE_RECONCILING: BrokerConnectionState
BROKER_CONNECTION_STATE_CONNECTED: BrokerConnectionState
BROKER_CONNECTION_STATE_CONNECTIVITY_LOST: BrokerConnectionState
BROKER_CONNECTION_STATE_STANDBY: BrokerConnectionState
SERVING_STATUS_UNSPECIFIED: ServingStatus
SERVING_STATUS_SERVING: ServingStatus
SERVING_STATUS_NOT_SERVING: ServingStatus
SERVING_STATUS_UNREACHABLE: ServingStatus

class ConnectionStatus(_message.Message):
    __slots__ = ("state", "host", "port", "client_id", "server_version", "managed_accounts", "connect_time", "last_message_time", "last_reconcile_time", "bridge_instance_id", "lease_held", "last_error", "market_data_lines_in_use", "market_data_line_budget", "pacing_queue_depth")
    STATE_FIELD_NUMBER: _ClassVar[int]
    HOST_FIELD_NUMBER: _ClassVar[int]
    PORT_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    SERVER_VERSION_FIELD_NUMBER: _ClassVar[int]
    MANAGED_ACCOUNTS_FIELD_NUMBER: _ClassVar[int]
    CONNECT_TIME_FIELD_NUMBER: _ClassVar[int]
    LAST_MESSAGE_TIME_FIELD_NUMBER: _ClassVar[int]
    LAST_RECONCILE_TIME_FIELD_NUMBER: _ClassVar[int]
    BRIDGE_INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    LEASE_HELD_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    MARKET_DATA_LINES_IN_USE_FIELD_NUMBER: _ClassVar[int]
    MARKET_DATA_LINE_BUDGET_FIELD_NUMBER: _ClassVar[int]
    PACING_QUEUE_DEPTH_FIELD_NUMBER: _ClassVar[int]
    state: BrokerConnectionState
    host: str
    port: int
    client_id: int
    server_version: int
    managed_accounts: _containers.RepeatedScalarFieldContainer[str]
    connect_time: _timestamp_pb2.Timestamp
    last_message_time: _timestamp_pb2.Timestamp
    last_reconcile_time: _timestamp_pb2.Timestamp
    bridge_instance_id: str
    lease_held: bool
    last_error: str
    market_data_lines_in_use: int
    market_data_line_budget: int
    pacing_queue_depth: int
    def __init__(self, state: _Optional[_Union[BrokerConnectionState, str]] = ..., host: _Optional[str] = ..., port: _Optional[int] = ..., client_id: _Optional[int] = ..., server_version: _Optional[int] = ..., managed_accounts: _Optional[_Iterable[str]] = ..., connect_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_message_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_reconcile_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., bridge_instance_id: _Optional[str] = ..., lease_held: _Optional[bool] = ..., last_error: _Optional[str] = ..., market_data_lines_in_use: _Optional[int] = ..., market_data_line_budget: _Optional[int] = ..., pacing_queue_depth: _Optional[int] = ...) -> None: ...

class ServiceHealth(_message.Message):
    __slots__ = ("service_name", "address", "status", "message")
    SERVICE_NAME_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    service_name: str
    address: str
    status: ServingStatus
    message: str
    def __init__(self, service_name: _Optional[str] = ..., address: _Optional[str] = ..., status: _Optional[_Union[ServingStatus, str]] = ..., message: _Optional[str] = ...) -> None: ...

class IngestStatus(_message.Message):
    __slots__ = ("stream", "consumer_group", "lag_events", "pending_events", "last_committed_stream_id", "last_event_time", "last_commit_time", "lag", "dead_lettered_events")
    STREAM_FIELD_NUMBER: _ClassVar[int]
    CONSUMER_GROUP_FIELD_NUMBER: _ClassVar[int]
    LAG_EVENTS_FIELD_NUMBER: _ClassVar[int]
    PENDING_EVENTS_FIELD_NUMBER: _ClassVar[int]
    LAST_COMMITTED_STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    LAST_EVENT_TIME_FIELD_NUMBER: _ClassVar[int]
    LAST_COMMIT_TIME_FIELD_NUMBER: _ClassVar[int]
    LAG_FIELD_NUMBER: _ClassVar[int]
    DEAD_LETTERED_EVENTS_FIELD_NUMBER: _ClassVar[int]
    stream: str
    consumer_group: str
    lag_events: int
    pending_events: int
    last_committed_stream_id: str
    last_event_time: _timestamp_pb2.Timestamp
    last_commit_time: _timestamp_pb2.Timestamp
    lag: _duration_pb2.Duration
    dead_lettered_events: int
    def __init__(self, stream: _Optional[str] = ..., consumer_group: _Optional[str] = ..., lag_events: _Optional[int] = ..., pending_events: _Optional[int] = ..., last_committed_stream_id: _Optional[str] = ..., last_event_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_commit_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., lag: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., dead_lettered_events: _Optional[int] = ...) -> None: ...
