import datetime

from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.type import decimal_pb2 as _decimal_pb2
from ibkr.trading.v1 import instrument_pb2 as _instrument_pb2
from ibkr.trading.v1 import order_pb2 as _order_pb2
from ibkr.trading.v1 import risk_policy_pb2 as _risk_policy_pb2
from ibkr.trading.v1 import risk_types_pb2 as _risk_types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SubmitOrderRequest(_message.Message):
    __slots__ = ("account_id", "client_order_id", "order", "principal")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    PRINCIPAL_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    client_order_id: str
    order: _order_pb2.OrderSpec
    principal: str
    def __init__(self, account_id: _Optional[str] = ..., client_order_id: _Optional[str] = ..., order: _Optional[_Union[_order_pb2.OrderSpec, _Mapping]] = ..., principal: _Optional[str] = ...) -> None: ...

class SubmitOrderResponse(_message.Message):
    __slots__ = ("order", "child_orders", "decision")
    ORDER_FIELD_NUMBER: _ClassVar[int]
    CHILD_ORDERS_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    order: _order_pb2.Order
    child_orders: _containers.RepeatedCompositeFieldContainer[_order_pb2.Order]
    decision: _risk_types_pb2.RiskDecision
    def __init__(self, order: _Optional[_Union[_order_pb2.Order, _Mapping]] = ..., child_orders: _Optional[_Iterable[_Union[_order_pb2.Order, _Mapping]]] = ..., decision: _Optional[_Union[_risk_types_pb2.RiskDecision, _Mapping]] = ...) -> None: ...

class CheckOrderRequest(_message.Message):
    __slots__ = ("account_id", "order", "principal")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    PRINCIPAL_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    order: _order_pb2.OrderSpec
    principal: str
    def __init__(self, account_id: _Optional[str] = ..., order: _Optional[_Union[_order_pb2.OrderSpec, _Mapping]] = ..., principal: _Optional[str] = ...) -> None: ...

class CheckOrderResponse(_message.Message):
    __slots__ = ("decision", "shadow_decision")
    DECISION_FIELD_NUMBER: _ClassVar[int]
    SHADOW_DECISION_FIELD_NUMBER: _ClassVar[int]
    decision: _risk_types_pb2.RiskDecision
    shadow_decision: _risk_types_pb2.RiskDecision
    def __init__(self, decision: _Optional[_Union[_risk_types_pb2.RiskDecision, _Mapping]] = ..., shadow_decision: _Optional[_Union[_risk_types_pb2.RiskDecision, _Mapping]] = ...) -> None: ...

class SubmitReplaceRequest(_message.Message):
    __slots__ = ("account_id", "order_id", "client_order_id", "order", "update_mask", "request_id", "principal")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PRINCIPAL_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    order_id: str
    client_order_id: str
    order: _order_pb2.OrderSpec
    update_mask: _field_mask_pb2.FieldMask
    request_id: str
    principal: str
    def __init__(self, account_id: _Optional[str] = ..., order_id: _Optional[str] = ..., client_order_id: _Optional[str] = ..., order: _Optional[_Union[_order_pb2.OrderSpec, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ..., request_id: _Optional[str] = ..., principal: _Optional[str] = ...) -> None: ...

class SubmitReplaceResponse(_message.Message):
    __slots__ = ("order", "decision")
    ORDER_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    order: _order_pb2.Order
    decision: _risk_types_pb2.RiskDecision
    def __init__(self, order: _Optional[_Union[_order_pb2.Order, _Mapping]] = ..., decision: _Optional[_Union[_risk_types_pb2.RiskDecision, _Mapping]] = ...) -> None: ...

class SubmitCancelRequest(_message.Message):
    __slots__ = ("account_id", "order_id", "client_order_id", "principal")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    PRINCIPAL_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    order_id: str
    client_order_id: str
    principal: str
    def __init__(self, account_id: _Optional[str] = ..., order_id: _Optional[str] = ..., client_order_id: _Optional[str] = ..., principal: _Optional[str] = ...) -> None: ...

class SubmitCancelResponse(_message.Message):
    __slots__ = ("order",)
    ORDER_FIELD_NUMBER: _ClassVar[int]
    order: _order_pb2.Order
    def __init__(self, order: _Optional[_Union[_order_pb2.Order, _Mapping]] = ...) -> None: ...

class SubmitCancelAllRequest(_message.Message):
    __slots__ = ("account_id", "symbol", "side", "request_id", "principal")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    SIDE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PRINCIPAL_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    symbol: str
    side: _order_pb2.OrderSide
    request_id: str
    principal: str
    def __init__(self, account_id: _Optional[str] = ..., symbol: _Optional[str] = ..., side: _Optional[_Union[_order_pb2.OrderSide, str]] = ..., request_id: _Optional[str] = ..., principal: _Optional[str] = ...) -> None: ...

class SubmitCancelAllResponse(_message.Message):
    __slots__ = ("orders", "failures")
    ORDERS_FIELD_NUMBER: _ClassVar[int]
    FAILURES_FIELD_NUMBER: _ClassVar[int]
    orders: _containers.RepeatedCompositeFieldContainer[_order_pb2.Order]
    failures: _containers.RepeatedCompositeFieldContainer[_order_pb2.OrderCancelFailure]
    def __init__(self, orders: _Optional[_Iterable[_Union[_order_pb2.Order, _Mapping]]] = ..., failures: _Optional[_Iterable[_Union[_order_pb2.OrderCancelFailure, _Mapping]]] = ...) -> None: ...

class SubmitClosePositionRequest(_message.Message):
    __slots__ = ("account_id", "instrument", "quantity", "order_type", "limit_price", "client_order_id", "cancel_open_orders", "time_in_force", "principal")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    INSTRUMENT_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    ORDER_TYPE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CANCEL_OPEN_ORDERS_FIELD_NUMBER: _ClassVar[int]
    TIME_IN_FORCE_FIELD_NUMBER: _ClassVar[int]
    PRINCIPAL_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    instrument: _instrument_pb2.Instrument
    quantity: _decimal_pb2.Decimal
    order_type: _order_pb2.OrderType
    limit_price: _decimal_pb2.Decimal
    client_order_id: str
    cancel_open_orders: bool
    time_in_force: _order_pb2.TimeInForce
    principal: str
    def __init__(self, account_id: _Optional[str] = ..., instrument: _Optional[_Union[_instrument_pb2.Instrument, _Mapping]] = ..., quantity: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., order_type: _Optional[_Union[_order_pb2.OrderType, str]] = ..., limit_price: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., client_order_id: _Optional[str] = ..., cancel_open_orders: _Optional[bool] = ..., time_in_force: _Optional[_Union[_order_pb2.TimeInForce, str]] = ..., principal: _Optional[str] = ...) -> None: ...

class SubmitClosePositionResponse(_message.Message):
    __slots__ = ("order", "decision")
    ORDER_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    order: _order_pb2.Order
    decision: _risk_types_pb2.RiskDecision
    def __init__(self, order: _Optional[_Union[_order_pb2.Order, _Mapping]] = ..., decision: _Optional[_Union[_risk_types_pb2.RiskDecision, _Mapping]] = ...) -> None: ...

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
    __slots__ = ("account_id", "global_scope", "state", "reason", "cancel_open_orders", "request_id", "principal")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    GLOBAL_SCOPE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    CANCEL_OPEN_ORDERS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PRINCIPAL_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    global_scope: bool
    state: _risk_types_pb2.TradingState
    reason: str
    cancel_open_orders: bool
    request_id: str
    principal: str
    def __init__(self, account_id: _Optional[str] = ..., global_scope: _Optional[bool] = ..., state: _Optional[_Union[_risk_types_pb2.TradingState, str]] = ..., reason: _Optional[str] = ..., cancel_open_orders: _Optional[bool] = ..., request_id: _Optional[str] = ..., principal: _Optional[str] = ...) -> None: ...

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
    __slots__ = ("policy", "slot", "expected_version", "change_reason", "validate_only", "request_id", "principal")
    POLICY_FIELD_NUMBER: _ClassVar[int]
    SLOT_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    CHANGE_REASON_FIELD_NUMBER: _ClassVar[int]
    VALIDATE_ONLY_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PRINCIPAL_FIELD_NUMBER: _ClassVar[int]
    policy: _risk_policy_pb2.RiskPolicy
    slot: _risk_policy_pb2.RiskPolicySlot
    expected_version: int
    change_reason: str
    validate_only: bool
    request_id: str
    principal: str
    def __init__(self, policy: _Optional[_Union[_risk_policy_pb2.RiskPolicy, _Mapping]] = ..., slot: _Optional[_Union[_risk_policy_pb2.RiskPolicySlot, str]] = ..., expected_version: _Optional[int] = ..., change_reason: _Optional[str] = ..., validate_only: _Optional[bool] = ..., request_id: _Optional[str] = ..., principal: _Optional[str] = ...) -> None: ...

class UpdateRiskPolicyResponse(_message.Message):
    __slots__ = ("policy",)
    POLICY_FIELD_NUMBER: _ClassVar[int]
    policy: _risk_policy_pb2.RiskPolicy
    def __init__(self, policy: _Optional[_Union[_risk_policy_pb2.RiskPolicy, _Mapping]] = ...) -> None: ...

class ValidateRiskPolicyRequest(_message.Message):
    __slots__ = ("policy",)
    POLICY_FIELD_NUMBER: _ClassVar[int]
    policy: _risk_policy_pb2.RiskPolicy
    def __init__(self, policy: _Optional[_Union[_risk_policy_pb2.RiskPolicy, _Mapping]] = ...) -> None: ...

class ValidateRiskPolicyResponse(_message.Message):
    __slots__ = ("valid", "violations")
    VALID_FIELD_NUMBER: _ClassVar[int]
    VIOLATIONS_FIELD_NUMBER: _ClassVar[int]
    valid: bool
    violations: _containers.RepeatedCompositeFieldContainer[_risk_policy_pb2.RiskPolicyViolation]
    def __init__(self, valid: _Optional[bool] = ..., violations: _Optional[_Iterable[_Union[_risk_policy_pb2.RiskPolicyViolation, _Mapping]]] = ...) -> None: ...

class ListRiskPolicyVersionsRequest(_message.Message):
    __slots__ = ("slot", "page_size", "page_token")
    SLOT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    slot: _risk_policy_pb2.RiskPolicySlot
    page_size: int
    page_token: str
    def __init__(self, slot: _Optional[_Union[_risk_policy_pb2.RiskPolicySlot, str]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListRiskPolicyVersionsResponse(_message.Message):
    __slots__ = ("policies", "next_page_token")
    POLICIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    policies: _containers.RepeatedCompositeFieldContainer[_risk_policy_pb2.RiskPolicy]
    next_page_token: str
    def __init__(self, policies: _Optional[_Iterable[_Union[_risk_policy_pb2.RiskPolicy, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListDecisionsRequest(_message.Message):
    __slots__ = ("account_id", "client_order_id", "outcome", "denied_rule_id", "include_shadow", "start_time", "end_time", "page_size", "page_token")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    DENIED_RULE_ID_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_SHADOW_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    client_order_id: str
    outcome: _risk_types_pb2.RiskDecisionOutcome
    denied_rule_id: str
    include_shadow: bool
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    page_size: int
    page_token: str
    def __init__(self, account_id: _Optional[str] = ..., client_order_id: _Optional[str] = ..., outcome: _Optional[_Union[_risk_types_pb2.RiskDecisionOutcome, str]] = ..., denied_rule_id: _Optional[str] = ..., include_shadow: _Optional[bool] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListDecisionsResponse(_message.Message):
    __slots__ = ("decisions", "next_page_token")
    DECISIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    decisions: _containers.RepeatedCompositeFieldContainer[_risk_types_pb2.RiskDecision]
    next_page_token: str
    def __init__(self, decisions: _Optional[_Iterable[_Union[_risk_types_pb2.RiskDecision, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class SymbolExposure(_message.Message):
    __slots__ = ("instrument", "position_quantity", "open_buy_quantity", "open_sell_quantity", "reserved_notional", "mark_price", "open_buy_orders", "open_sell_orders")
    INSTRUMENT_FIELD_NUMBER: _ClassVar[int]
    POSITION_QUANTITY_FIELD_NUMBER: _ClassVar[int]
    OPEN_BUY_QUANTITY_FIELD_NUMBER: _ClassVar[int]
    OPEN_SELL_QUANTITY_FIELD_NUMBER: _ClassVar[int]
    RESERVED_NOTIONAL_FIELD_NUMBER: _ClassVar[int]
    MARK_PRICE_FIELD_NUMBER: _ClassVar[int]
    OPEN_BUY_ORDERS_FIELD_NUMBER: _ClassVar[int]
    OPEN_SELL_ORDERS_FIELD_NUMBER: _ClassVar[int]
    instrument: _instrument_pb2.Instrument
    position_quantity: _decimal_pb2.Decimal
    open_buy_quantity: _decimal_pb2.Decimal
    open_sell_quantity: _decimal_pb2.Decimal
    reserved_notional: _decimal_pb2.Decimal
    mark_price: _decimal_pb2.Decimal
    open_buy_orders: int
    open_sell_orders: int
    def __init__(self, instrument: _Optional[_Union[_instrument_pb2.Instrument, _Mapping]] = ..., position_quantity: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., open_buy_quantity: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., open_sell_quantity: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., reserved_notional: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., mark_price: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., open_buy_orders: _Optional[int] = ..., open_sell_orders: _Optional[int] = ...) -> None: ...

class GetRiskStateRequest(_message.Message):
    __slots__ = ("account_id",)
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    def __init__(self, account_id: _Optional[str] = ...) -> None: ...

class GetRiskStateResponse(_message.Message):
    __slots__ = ("account_id", "trading_state", "exposures", "gross_exposure", "reserved_buying_power", "net_liquidation", "daily_pnl", "open_orders", "update_time")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    TRADING_STATE_FIELD_NUMBER: _ClassVar[int]
    EXPOSURES_FIELD_NUMBER: _ClassVar[int]
    GROSS_EXPOSURE_FIELD_NUMBER: _ClassVar[int]
    RESERVED_BUYING_POWER_FIELD_NUMBER: _ClassVar[int]
    NET_LIQUIDATION_FIELD_NUMBER: _ClassVar[int]
    DAILY_PNL_FIELD_NUMBER: _ClassVar[int]
    OPEN_ORDERS_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    trading_state: _risk_types_pb2.AccountTradingState
    exposures: _containers.RepeatedCompositeFieldContainer[SymbolExposure]
    gross_exposure: _decimal_pb2.Decimal
    reserved_buying_power: _decimal_pb2.Decimal
    net_liquidation: _decimal_pb2.Decimal
    daily_pnl: _decimal_pb2.Decimal
    open_orders: int
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, account_id: _Optional[str] = ..., trading_state: _Optional[_Union[_risk_types_pb2.AccountTradingState, _Mapping]] = ..., exposures: _Optional[_Iterable[_Union[SymbolExposure, _Mapping]]] = ..., gross_exposure: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., reserved_buying_power: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., net_liquidation: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., daily_pnl: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., open_orders: _Optional[int] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
