import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.type import decimal_pb2 as _decimal_pb2
from google.type import money_pb2 as _money_pb2
from ibkr.trading.v1 import instrument_pb2 as _instrument_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PositionDrift(_message.Message):
    __slots__ = ("account_id", "instrument", "ledger_quantity", "broker_quantity", "quantity_difference", "ledger_average_cost", "broker_average_cost", "first_detected_time", "age")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    INSTRUMENT_FIELD_NUMBER: _ClassVar[int]
    LEDGER_QUANTITY_FIELD_NUMBER: _ClassVar[int]
    BROKER_QUANTITY_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_DIFFERENCE_FIELD_NUMBER: _ClassVar[int]
    LEDGER_AVERAGE_COST_FIELD_NUMBER: _ClassVar[int]
    BROKER_AVERAGE_COST_FIELD_NUMBER: _ClassVar[int]
    FIRST_DETECTED_TIME_FIELD_NUMBER: _ClassVar[int]
    AGE_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    instrument: _instrument_pb2.Instrument
    ledger_quantity: _decimal_pb2.Decimal
    broker_quantity: _decimal_pb2.Decimal
    quantity_difference: _decimal_pb2.Decimal
    ledger_average_cost: _decimal_pb2.Decimal
    broker_average_cost: _decimal_pb2.Decimal
    first_detected_time: _timestamp_pb2.Timestamp
    age: _duration_pb2.Duration
    def __init__(self, account_id: _Optional[str] = ..., instrument: _Optional[_Union[_instrument_pb2.Instrument, _Mapping]] = ..., ledger_quantity: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., broker_quantity: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., quantity_difference: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., ledger_average_cost: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., broker_average_cost: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., first_detected_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., age: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class CashDrift(_message.Message):
    __slots__ = ("account_id", "ledger_balance", "broker_balance", "difference", "first_detected_time", "age")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    LEDGER_BALANCE_FIELD_NUMBER: _ClassVar[int]
    BROKER_BALANCE_FIELD_NUMBER: _ClassVar[int]
    DIFFERENCE_FIELD_NUMBER: _ClassVar[int]
    FIRST_DETECTED_TIME_FIELD_NUMBER: _ClassVar[int]
    AGE_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    ledger_balance: _money_pb2.Money
    broker_balance: _money_pb2.Money
    difference: _money_pb2.Money
    first_detected_time: _timestamp_pb2.Timestamp
    age: _duration_pb2.Duration
    def __init__(self, account_id: _Optional[str] = ..., ledger_balance: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., broker_balance: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., difference: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., first_detected_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., age: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class ReconciliationReport(_message.Message):
    __slots__ = ("account_id", "report_time", "in_sync", "position_drifts", "cash_drifts", "last_in_sync_time")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    REPORT_TIME_FIELD_NUMBER: _ClassVar[int]
    IN_SYNC_FIELD_NUMBER: _ClassVar[int]
    POSITION_DRIFTS_FIELD_NUMBER: _ClassVar[int]
    CASH_DRIFTS_FIELD_NUMBER: _ClassVar[int]
    LAST_IN_SYNC_TIME_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    report_time: _timestamp_pb2.Timestamp
    in_sync: bool
    position_drifts: _containers.RepeatedCompositeFieldContainer[PositionDrift]
    cash_drifts: _containers.RepeatedCompositeFieldContainer[CashDrift]
    last_in_sync_time: _timestamp_pb2.Timestamp
    def __init__(self, account_id: _Optional[str] = ..., report_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., in_sync: _Optional[bool] = ..., position_drifts: _Optional[_Iterable[_Union[PositionDrift, _Mapping]]] = ..., cash_drifts: _Optional[_Iterable[_Union[CashDrift, _Mapping]]] = ..., last_in_sync_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ReconciliationRun(_message.Message):
    __slots__ = ("run_id", "trigger", "start_time", "complete_time", "orders_checked", "orders_adopted", "orders_resolved", "executions_recovered", "events_emitted", "succeeded", "error_message")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    TRIGGER_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    COMPLETE_TIME_FIELD_NUMBER: _ClassVar[int]
    ORDERS_CHECKED_FIELD_NUMBER: _ClassVar[int]
    ORDERS_ADOPTED_FIELD_NUMBER: _ClassVar[int]
    ORDERS_RESOLVED_FIELD_NUMBER: _ClassVar[int]
    EXECUTIONS_RECOVERED_FIELD_NUMBER: _ClassVar[int]
    EVENTS_EMITTED_FIELD_NUMBER: _ClassVar[int]
    SUCCEEDED_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    trigger: str
    start_time: _timestamp_pb2.Timestamp
    complete_time: _timestamp_pb2.Timestamp
    orders_checked: int
    orders_adopted: int
    orders_resolved: int
    executions_recovered: int
    events_emitted: int
    succeeded: bool
    error_message: str
    def __init__(self, run_id: _Optional[str] = ..., trigger: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., complete_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., orders_checked: _Optional[int] = ..., orders_adopted: _Optional[int] = ..., orders_resolved: _Optional[int] = ..., executions_recovered: _Optional[int] = ..., events_emitted: _Optional[int] = ..., succeeded: _Optional[bool] = ..., error_message: _Optional[str] = ...) -> None: ...
