import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.type import decimal_pb2 as _decimal_pb2
from ibkr.trading.v1 import order_pb2 as _order_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TradingState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TRADING_STATE_UNSPECIFIED: _ClassVar[TradingState]
    TRADING_STATE_ACTIVE: _ClassVar[TradingState]
    TRADING_STATE_REDUCING: _ClassVar[TradingState]
    TRADING_STATE_HALTED: _ClassVar[TradingState]

class MarketAccessControl(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MARKET_ACCESS_CONTROL_UNSPECIFIED: _ClassVar[MarketAccessControl]
    MARKET_ACCESS_CONTROL_CREDIT_THRESHOLD: _ClassVar[MarketAccessControl]
    MARKET_ACCESS_CONTROL_ERRONEOUS_ORDER: _ClassVar[MarketAccessControl]
    MARKET_ACCESS_CONTROL_DUPLICATIVE_ORDER: _ClassVar[MarketAccessControl]
    MARKET_ACCESS_CONTROL_RESTRICTED_SECURITY: _ClassVar[MarketAccessControl]
    MARKET_ACCESS_CONTROL_KILL_SWITCH: _ClassVar[MarketAccessControl]
    MARKET_ACCESS_CONTROL_VENUE_LIMIT: _ClassVar[MarketAccessControl]

class RiskRequestType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RISK_REQUEST_TYPE_UNSPECIFIED: _ClassVar[RiskRequestType]
    RISK_REQUEST_TYPE_NEW_ORDER: _ClassVar[RiskRequestType]
    RISK_REQUEST_TYPE_REPLACE_ORDER: _ClassVar[RiskRequestType]
    RISK_REQUEST_TYPE_CANCEL_ORDER: _ClassVar[RiskRequestType]
    RISK_REQUEST_TYPE_CHECK_ORDER: _ClassVar[RiskRequestType]

class RiskDecisionOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RISK_DECISION_OUTCOME_UNSPECIFIED: _ClassVar[RiskDecisionOutcome]
    RISK_DECISION_OUTCOME_ACCEPTED: _ClassVar[RiskDecisionOutcome]
    RISK_DECISION_OUTCOME_DENIED: _ClassVar[RiskDecisionOutcome]

class RuleOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RULE_OUTCOME_UNSPECIFIED: _ClassVar[RuleOutcome]
    RULE_OUTCOME_PASSED: _ClassVar[RuleOutcome]
    RULE_OUTCOME_DENIED: _ClassVar[RuleOutcome]
    RULE_OUTCOME_SKIPPED: _ClassVar[RuleOutcome]
TRADING_STATE_UNSPECIFIED: TradingState
TRADING_STATE_ACTIVE: TradingState
TRADING_STATE_REDUCING: TradingState
TRADING_STATE_HALTED: TradingState
MARKET_ACCESS_CONTROL_UNSPECIFIED: MarketAccessControl
MARKET_ACCESS_CONTROL_CREDIT_THRESHOLD: MarketAccessControl
MARKET_ACCESS_CONTROL_ERRONEOUS_ORDER: MarketAccessControl
MARKET_ACCESS_CONTROL_DUPLICATIVE_ORDER: MarketAccessControl
MARKET_ACCESS_CONTROL_RESTRICTED_SECURITY: MarketAccessControl
MARKET_ACCESS_CONTROL_KILL_SWITCH: MarketAccessControl
MARKET_ACCESS_CONTROL_VENUE_LIMIT: MarketAccessControl
RISK_REQUEST_TYPE_UNSPECIFIED: RiskRequestType
RISK_REQUEST_TYPE_NEW_ORDER: RiskRequestType
RISK_REQUEST_TYPE_REPLACE_ORDER: RiskRequestType
RISK_REQUEST_TYPE_CANCEL_ORDER: RiskRequestType
RISK_REQUEST_TYPE_CHECK_ORDER: RiskRequestType
RISK_DECISION_OUTCOME_UNSPECIFIED: RiskDecisionOutcome
RISK_DECISION_OUTCOME_ACCEPTED: RiskDecisionOutcome
RISK_DECISION_OUTCOME_DENIED: RiskDecisionOutcome
RULE_OUTCOME_UNSPECIFIED: RuleOutcome
RULE_OUTCOME_PASSED: RuleOutcome
RULE_OUTCOME_DENIED: RuleOutcome
RULE_OUTCOME_SKIPPED: RuleOutcome

class RuleResult(_message.Message):
    __slots__ = ("rule_id", "outcome", "control", "threshold", "observed_value", "unit", "message", "scope_account_id", "scope_symbol")
    RULE_ID_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    CONTROL_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    OBSERVED_VALUE_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    SCOPE_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    SCOPE_SYMBOL_FIELD_NUMBER: _ClassVar[int]
    rule_id: str
    outcome: RuleOutcome
    control: MarketAccessControl
    threshold: _decimal_pb2.Decimal
    observed_value: _decimal_pb2.Decimal
    unit: str
    message: str
    scope_account_id: str
    scope_symbol: str
    def __init__(self, rule_id: _Optional[str] = ..., outcome: _Optional[_Union[RuleOutcome, str]] = ..., control: _Optional[_Union[MarketAccessControl, str]] = ..., threshold: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., observed_value: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., unit: _Optional[str] = ..., message: _Optional[str] = ..., scope_account_id: _Optional[str] = ..., scope_symbol: _Optional[str] = ...) -> None: ...

class RiskDecision(_message.Message):
    __slots__ = ("decision_id", "account_id", "client_order_id", "order_id", "request_type", "outcome", "rule_results", "denied_rule_id", "policy_version", "trading_state", "shadow", "order", "decision_time", "principal")
    DECISION_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_TYPE_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    RULE_RESULTS_FIELD_NUMBER: _ClassVar[int]
    DENIED_RULE_ID_FIELD_NUMBER: _ClassVar[int]
    POLICY_VERSION_FIELD_NUMBER: _ClassVar[int]
    TRADING_STATE_FIELD_NUMBER: _ClassVar[int]
    SHADOW_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    DECISION_TIME_FIELD_NUMBER: _ClassVar[int]
    PRINCIPAL_FIELD_NUMBER: _ClassVar[int]
    decision_id: str
    account_id: str
    client_order_id: str
    order_id: str
    request_type: RiskRequestType
    outcome: RiskDecisionOutcome
    rule_results: _containers.RepeatedCompositeFieldContainer[RuleResult]
    denied_rule_id: str
    policy_version: int
    trading_state: TradingState
    shadow: bool
    order: _order_pb2.OrderSpec
    decision_time: _timestamp_pb2.Timestamp
    principal: str
    def __init__(self, decision_id: _Optional[str] = ..., account_id: _Optional[str] = ..., client_order_id: _Optional[str] = ..., order_id: _Optional[str] = ..., request_type: _Optional[_Union[RiskRequestType, str]] = ..., outcome: _Optional[_Union[RiskDecisionOutcome, str]] = ..., rule_results: _Optional[_Iterable[_Union[RuleResult, _Mapping]]] = ..., denied_rule_id: _Optional[str] = ..., policy_version: _Optional[int] = ..., trading_state: _Optional[_Union[TradingState, str]] = ..., shadow: _Optional[bool] = ..., order: _Optional[_Union[_order_pb2.OrderSpec, _Mapping]] = ..., decision_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., principal: _Optional[str] = ...) -> None: ...

class AccountTradingState(_message.Message):
    __slots__ = ("account_id", "state", "effective_state", "reason", "changed_by", "automatic", "change_time")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_STATE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    CHANGED_BY_FIELD_NUMBER: _ClassVar[int]
    AUTOMATIC_FIELD_NUMBER: _ClassVar[int]
    CHANGE_TIME_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    state: TradingState
    effective_state: TradingState
    reason: str
    changed_by: str
    automatic: bool
    change_time: _timestamp_pb2.Timestamp
    def __init__(self, account_id: _Optional[str] = ..., state: _Optional[_Union[TradingState, str]] = ..., effective_state: _Optional[_Union[TradingState, str]] = ..., reason: _Optional[str] = ..., changed_by: _Optional[str] = ..., automatic: _Optional[bool] = ..., change_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
