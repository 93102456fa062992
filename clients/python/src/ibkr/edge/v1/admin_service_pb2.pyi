from ibkr.trading.v1 import order_pb2 as _order_pb2
from ibkr.trading.v1 import reconciliation_pb2 as _reconciliation_pb2
from ibkr.trading.v1 import risk_policy_pb2 as _risk_policy_pb2
from ibkr.trading.v1 import risk_types_pb2 as _risk_types_pb2
from ibkr.trading.v1 import system_pb2 as _system_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetTradingStateRequest(_message.Message):
    __slots__ = ("account_id", "global_scope")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    GLOBAL_SCOPE_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    global_scope: bool
    def __init__(self, account_id: _Optional[str] = ..., global_scope: _Optional[bool] = ...) -> None: ...

class GetTradingStateResponse(_message.Message):
    __slots__ = ("trading_state",)
    TRADING_STATE_FIELD_NUMBER: _ClassVar[int]
    trading_state: _risk_types_pb2.AccountTradingState
    def __init__(self, trading_state: _Optional[_Union[_risk_types_pb2.AccountTradingState, _Mapping]] = ...) -> None: ...

class SetTradingStateRequest(_message.Message):
    __slots__ = ("account_id", "global_scope", "state", "reason", "cancel_open_orders", "request_id")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    GLOBAL_SCOPE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    CANCEL_OPEN_ORDERS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    global_scope: bool
    state: _risk_types_pb2.TradingState
    reason: str
    cancel_open_orders: bool
    request_id: str
    def __init__(self, account_id: _Optional[str] = ..., global_scope: _Optional[bool] = ..., state: _Optional[_Union[_risk_types_pb2.TradingState, str]] = ..., reason: _Optional[str] = ..., cancel_open_orders: _Optional[bool] = ..., request_id: _Optional[str] = ...) -> None: ...

class SetTradingStateResponse(_message.Message):
    __slots__ = ("trading_state", "cancelled_orders")
    TRADING_STATE_FIELD_NUMBER: _ClassVar[int]
    CANCELLED_ORDERS_FIELD_NUMBER: _ClassVar[int]
    trading_state: _risk_types_pb2.AccountTradingState
    cancelled_orders: _containers.RepeatedCompositeFieldContainer[_order_pb2.Order]
    def __init__(self, trading_state: _Optional[_Union[_risk_types_pb2.AccountTradingState, _Mapping]] = ..., cancelled_orders: _Optional[_Iterable[_Union[_order_pb2.Order, _Mapping]]] = ...) -> None: ...

class GetRiskPolicyRequest(_message.Message):
    __slots__ = ("version",)
    VERSION_FIELD_NUMBER: _ClassVar[int]
    version: int
    def __init__(self, version: _Optional[int] = ...) -> None: ...

class GetRiskPolicyResponse(_message.Message):
    __slots__ = ("policy", "shadow_policy")
    POLICY_FIELD_NUMBER: _ClassVar[int]
    SHADOW_POLICY_FIELD_NUMBER: _ClassVar[int]
    policy: _risk_policy_pb2.RiskPolicy
    shadow_policy: _risk_policy_pb2.RiskPolicy
    def __init__(self, policy: _Optional[_Union[_risk_policy_pb2.RiskPolicy, _Mapping]] = ..., shadow_policy: _Optional[_Union[_risk_policy_pb2.RiskPolicy, _Mapping]] = ...) -> None: ...

class UpdateRiskPolicyRequest(_message.Message):
    __slots__ = ("policy", "slot", "expected_version", "change_reason", "validate_only", "request_id")
    POLICY_FIELD_NUMBER: _ClassVar[int]
    SLOT_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    CHANGE_REASON_FIELD_NUMBER: _ClassVar[int]
    VALIDATE_ONLY_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    policy: _risk_policy_pb2.RiskPolicy
    slot: _risk_policy_pb2.RiskPolicySlot
    expected_version: int
    change_reason: str
    validate_only: bool
    request_id: str
    def __init__(self, policy: _Optional[_Union[_risk_policy_pb2.RiskPolicy, _Mapping]] = ..., slot: _Optional[_Union[_risk_policy_pb2.RiskPolicySlot, str]] = ..., expected_version: _Optional[int] = ..., change_reason: _Optional[str] = ..., validate_only: _Optional[bool] = ..., request_id: _Optional[str] = ...) -> None: ...

class UpdateRiskPolicyResponse(_message.Message):
    __slots__ = ("policy",)
    POLICY_FIELD_NUMBER: _ClassVar[int]
    policy: _risk_policy_pb2.RiskPolicy
    def __init__(self, policy: _Optional[_Union[_risk_policy_pb2.RiskPolicy, _Mapping]] = ...) -> None: ...

class GetSystemStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetSystemStatusResponse(_message.Message):
    __slots__ = ("broker_connection", "services", "ledger_ingest", "reconciliation_reports", "global_trading_state")
    BROKER_CONNECTION_FIELD_NUMBER: _ClassVar[int]
    SERVICES_FIELD_NUMBER: _ClassVar[int]
    LEDGER_INGEST_FIELD_NUMBER: _ClassVar[int]
    RECONCILIATION_REPORTS_FIELD_NUMBER: _ClassVar[int]
    GLOBAL_TRADING_STATE_FIELD_NUMBER: _ClassVar[int]
    broker_connection: _system_pb2.ConnectionStatus
    services: _containers.RepeatedCompositeFieldContainer[_system_pb2.ServiceHealth]
    ledger_ingest: _system_pb2.IngestStatus
    reconciliation_reports: _containers.RepeatedCompositeFieldContainer[_reconciliation_pb2.ReconciliationReport]
    global_trading_state: _risk_types_pb2.AccountTradingState
    def __init__(self, broker_connection: _Optional[_Union[_system_pb2.ConnectionStatus, _Mapping]] = ..., services: _Optional[_Iterable[_Union[_system_pb2.ServiceHealth, _Mapping]]] = ..., ledger_ingest: _Optional[_Union[_system_pb2.IngestStatus, _Mapping]] = ..., reconciliation_reports: _Optional[_Iterable[_Union[_reconciliation_pb2.ReconciliationReport, _Mapping]]] = ..., global_trading_state: _Optional[_Union[_risk_types_pb2.AccountTradingState, _Mapping]] = ...) -> None: ...
