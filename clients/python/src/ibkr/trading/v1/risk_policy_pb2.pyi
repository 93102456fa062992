import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.type import decimal_pb2 as _decimal_pb2
from ibkr.trading.v1 import risk_types_pb2 as _risk_types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RiskPolicySlot(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RISK_POLICY_SLOT_UNSPECIFIED: _ClassVar[RiskPolicySlot]
    RISK_POLICY_SLOT_LIVE: _ClassVar[RiskPolicySlot]
    RISK_POLICY_SLOT_SHADOW: _ClassVar[RiskPolicySlot]

class PriceReference(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PRICE_REFERENCE_UNSPECIFIED: _ClassVar[PriceReference]
    PRICE_REFERENCE_LAST: _ClassVar[PriceReference]
    PRICE_REFERENCE_MIDPOINT: _ClassVar[PriceReference]
    PRICE_REFERENCE_NBBO_FAR_SIDE: _ClassVar[PriceReference]
    PRICE_REFERENCE_CLOSE: _ClassVar[PriceReference]
RISK_POLICY_SLOT_UNSPECIFIED: RiskPolicySlot
RISK_POLICY_SLOT_LIVE: RiskPolicySlot
RISK_POLICY_SLOT_SHADOW: RiskPolicySlot
PRICE_REFERENCE_UNSPECIFIED: PriceReference
PRICE_REFERENCE_LAST: PriceReference
PRICE_REFERENCE_MIDPOINT: PriceReference
PRICE_REFERENCE_NBBO_FAR_SIDE: PriceReference
PRICE_REFERENCE_CLOSE: PriceReference

class RestrictedListRule(_message.Message):
    __slots__ = ("allowed_symbols", "denied_symbols")
    ALLOWED_SYMBOLS_FIELD_NUMBER: _ClassVar[int]
    DENIED_SYMBOLS_FIELD_NUMBER: _ClassVar[int]
    allowed_symbols: _containers.RepeatedScalarFieldContainer[str]
    denied_symbols: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, allowed_symbols: _Optional[_Iterable[str]] = ..., denied_symbols: _Optional[_Iterable[str]] = ...) -> None: ...

class MaxOrderQuantityRule(_message.Message):
    __slots__ = ("max_quantity",)
    MAX_QUANTITY_FIELD_NUMBER: _ClassVar[int]
    max_quantity: _decimal_pb2.Decimal
    def __init__(self, max_quantity: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ...) -> None: ...

class MaxOrderNotionalRule(_message.Message):
    __slots__ = ("max_notional",)
    MAX_NOTIONAL_FIELD_NUMBER: _ClassVar[int]
    max_notional: _decimal_pb2.Decimal
    def __init__(self, max_notional: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ...) -> None: ...

class PriceCollarRule(_message.Message):
    __slots__ = ("max_deviation_percent", "reference", "require_fresh_quote_for_market_orders")
    MAX_DEVIATION_PERCENT_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    REQUIRE_FRESH_QUOTE_FOR_MARKET_ORDERS_FIELD_NUMBER: _ClassVar[int]
    max_deviation_percent: _decimal_pb2.Decimal
    reference: PriceReference
    require_fresh_quote_for_market_orders: bool
    def __init__(self, max_deviation_percent: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., reference: _Optional[_Union[PriceReference, str]] = ..., require_fresh_quote_for_market_orders: _Optional[bool] = ...) -> None: ...

class MaxPositionRule(_message.Message):
    __slots__ = ("max_quantity", "max_notional")
    MAX_QUANTITY_FIELD_NUMBER: _ClassVar[int]
    MAX_NOTIONAL_FIELD_NUMBER: _ClassVar[int]
    max_quantity: _decimal_pb2.Decimal
    max_notional: _decimal_pb2.Decimal
    def __init__(self, max_quantity: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., max_notional: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ...) -> None: ...

class MaxGrossExposureRule(_message.Message):
    __slots__ = ("max_gross_exposure", "max_leverage")
    MAX_GROSS_EXPOSURE_FIELD_NUMBER: _ClassVar[int]
    MAX_LEVERAGE_FIELD_NUMBER: _ClassVar[int]
    max_gross_exposure: _decimal_pb2.Decimal
    max_leverage: _decimal_pb2.Decimal
    def __init__(self, max_gross_exposure: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., max_leverage: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ...) -> None: ...

class BuyingPowerRule(_message.Message):
    __slots__ = ("max_usage_percent",)
    MAX_USAGE_PERCENT_FIELD_NUMBER: _ClassVar[int]
    max_usage_percent: _decimal_pb2.Decimal
    def __init__(self, max_usage_percent: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ...) -> None: ...

class DailyLossLimitRule(_message.Message):
    __slots__ = ("max_daily_loss", "trip_state")
    MAX_DAILY_LOSS_FIELD_NUMBER: _ClassVar[int]
    TRIP_STATE_FIELD_NUMBER: _ClassVar[int]
    max_daily_loss: _decimal_pb2.Decimal
    trip_state: _risk_types_pb2.TradingState
    def __init__(self, max_daily_loss: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., trip_state: _Optional[_Union[_risk_types_pb2.TradingState, str]] = ...) -> None: ...

class OrderRateRule(_message.Message):
    __slots__ = ("window", "max_orders", "max_notional")
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    MAX_ORDERS_FIELD_NUMBER: _ClassVar[int]
    MAX_NOTIONAL_FIELD_NUMBER: _ClassVar[int]
    window: _duration_pb2.Duration
    max_orders: _decimal_pb2.Decimal
    max_notional: _decimal_pb2.Decimal
    def __init__(self, window: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., max_orders: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., max_notional: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ...) -> None: ...

class DuplicateOrderRule(_message.Message):
    __slots__ = ("window",)
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    window: _duration_pb2.Duration
    def __init__(self, window: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class MaxOpenOrdersRule(_message.Message):
    __slots__ = ("max_open_orders",)
    MAX_OPEN_ORDERS_FIELD_NUMBER: _ClassVar[int]
    max_open_orders: _decimal_pb2.Decimal
    def __init__(self, max_open_orders: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ...) -> None: ...

class MaxWorkingOrdersPerSideRule(_message.Message):
    __slots__ = ("max_working_orders",)
    MAX_WORKING_ORDERS_FIELD_NUMBER: _ClassVar[int]
    max_working_orders: _decimal_pb2.Decimal
    def __init__(self, max_working_orders: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ...) -> None: ...

class RiskRule(_message.Message):
    __slots__ = ("rule_id", "description", "disabled", "account_id", "symbol", "control", "restricted_list", "max_order_quantity", "max_order_notional", "price_collar", "max_position", "max_gross_exposure", "buying_power", "daily_loss_limit", "order_rate", "duplicate_order", "max_open_orders", "max_working_orders_per_side")
    RULE_ID_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    DISABLED_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    CONTROL_FIELD_NUMBER: _ClassVar[int]
    RESTRICTED_LIST_FIELD_NUMBER: _ClassVar[int]
    MAX_ORDER_QUANTITY_FIELD_NUMBER: _ClassVar[int]
    MAX_ORDER_NOTIONAL_FIELD_NUMBER: _ClassVar[int]
    PRICE_COLLAR_FIELD_NUMBER: _ClassVar[int]
    MAX_POSITION_FIELD_NUMBER: _ClassVar[int]
    MAX_GROSS_EXPOSURE_FIELD_NUMBER: _ClassVar[int]
    BUYING_POWER_FIELD_NUMBER: _ClassVar[int]
    DAILY_LOSS_LIMIT_FIELD_NUMBER: _ClassVar[int]
    ORDER_RATE_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_ORDER_FIELD_NUMBER: _ClassVar[int]
    MAX_OPEN_ORDERS_FIELD_NUMBER: _ClassVar[int]
    MAX_WORKING_ORDERS_PER_SIDE_FIELD_NUMBER: _ClassVar[int]
    rule_id: str
    description: str
    disabled: bool
    account_id: str
    symbol: str
    control: _risk_types_pb2.MarketAccessControl
    restricted_list: RestrictedListRule
    max_order_quantity: MaxOrderQuantityRule
    max_order_notional: MaxOrderNotionalRule
    price_collar: PriceCollarRule
    max_position: MaxPositionRule
    max_gross_exposure: MaxGrossExposureRule
    buying_power: BuyingPowerRule
    daily_loss_limit: DailyLossLimitRule
    order_rate: OrderRateRule
    duplicate_order: DuplicateOrderRule
    max_open_orders: MaxOpenOrdersRule
    max_working_orders_per_side: MaxWorkingOrdersPerSideRule
    def __init__(self, rule_id: _Optional[str] = ..., description: _Optional[str] = ..., disabled: _Optional[bool] = ..., account_id: _Optional[str] = ..., symbol: _Optional[str] = ..., control: _Optional[_Union[_risk_types_pb2.MarketAccessControl, str]] = ..., restricted_list: _Optional[_Union[RestrictedListRule, _Mapping]] = ..., max_order_quantity: _Optional[_Union[MaxOrderQuantityRule, _Mapping]] = ..., max_order_notional: _Optional[_Union[MaxOrderNotionalRule, _Mapping]] = ..., price_collar: _Optional[_Union[PriceCollarRule, _Mapping]] = ..., max_position: _Optional[_Union[MaxPositionRule, _Mapping]] = ..., max_gross_exposure: _Optional[_Union[MaxGrossExposureRule, _Mapping]] = ..., buying_power: _Optional[_Union[BuyingPowerRule, _Mapping]] = ..., daily_loss_limit: _Optional[_Union[DailyLossLimitRule, _Mapping]] = ..., order_rate: _Optional[_Union[OrderRateRule, _Mapping]] = ..., duplicate_order: _Optional[_Union[DuplicateOrderRule, _Mapping]] = ..., max_open_orders: _Optional[_Union[MaxOpenOrdersRule, _Mapping]] = ..., max_working_orders_per_side: _Optional[_Union[MaxWorkingOrdersPerSideRule, _Mapping]] = ...) -> None: ...

class RiskPolicy(_message.Message):
    __slots__ = ("version", "rules", "currency", "quote_max_age", "create_time", "created_by", "change_reason")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    RULES_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    QUOTE_MAX_AGE_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    CHANGE_REASON_FIELD_NUMBER: _ClassVar[int]
    version: int
    rules: _containers.RepeatedCompositeFieldContainer[RiskRule]
    currency: str
    quote_max_age: _duration_pb2.Duration
    create_time: _timestamp_pb2.Timestamp
    created_by: str
    change_reason: str
    def __init__(self, version: _Optional[int] = ..., rules: _Optional[_Iterable[_Union[RiskRule, _Mapping]]] = ..., currency: _Optional[str] = ..., quote_max_age: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created_by: _Optional[str] = ..., change_reason: _Optional[str] = ...) -> None: ...

class RiskPolicyViolation(_message.Message):
    __slots__ = ("rule_id", "field", "description")
    RULE_ID_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    rule_id: str
    field: str
    description: str
    def __init__(self, rule_id: _Optional[str] = ..., field: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...
