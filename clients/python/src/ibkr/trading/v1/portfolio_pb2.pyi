import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.type import decimal_pb2 as _decimal_pb2
from google.type import money_pb2 as _money_pb2
from ibkr.trading.v1 import instrument_pb2 as _instrument_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AccountType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACCOUNT_TYPE_UNSPECIFIED: _ClassVar[AccountType]
    ACCOUNT_TYPE_PAPER: _ClassVar[AccountType]
    ACCOUNT_TYPE_LIVE: _ClassVar[AccountType]
ACCOUNT_TYPE_UNSPECIFIED: AccountType
ACCOUNT_TYPE_PAPER: AccountType
ACCOUNT_TYPE_LIVE: AccountType

class Position(_message.Message):
    __slots__ = ("account_id", "instrument", "quantity", "average_cost", "market_price", "market_value", "unrealized_pnl", "realized_pnl", "daily_pnl", "update_time")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    INSTRUMENT_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_COST_FIELD_NUMBER: _ClassVar[int]
    MARKET_PRICE_FIELD_NUMBER: _ClassVar[int]
    MARKET_VALUE_FIELD_NUMBER: _ClassVar[int]
    UNREALIZED_PNL_FIELD_NUMBER: _ClassVar[int]
    REALIZED_PNL_FIELD_NUMBER: _ClassVar[int]
    DAILY_PNL_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    instrument: _instrument_pb2.Instrument
    quantity: _decimal_pb2.Decimal
    average_cost: _decimal_pb2.Decimal
    market_price: _decimal_pb2.Decimal
    market_value: _money_pb2.Money
    unrealized_pnl: _money_pb2.Money
    realized_pnl: _money_pb2.Money
    daily_pnl: _money_pb2.Money
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, account_id: _Optional[str] = ..., instrument: _Optional[_Union[_instrument_pb2.Instrument, _Mapping]] = ..., quantity: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., average_cost: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., market_price: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., market_value: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., unrealized_pnl: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., realized_pnl: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., daily_pnl: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class AccountValue(_message.Message):
    __slots__ = ("key", "value", "currency")
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    key: str
    value: str
    currency: str
    def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ..., currency: _Optional[str] = ...) -> None: ...

class CashBalance(_message.Message):
    __slots__ = ("balance", "base_balance")
    BALANCE_FIELD_NUMBER: _ClassVar[int]
    BASE_BALANCE_FIELD_NUMBER: _ClassVar[int]
    balance: _money_pb2.Money
    base_balance: _money_pb2.Money
    def __init__(self, balance: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., base_balance: _Optional[_Union[_money_pb2.Money, _Mapping]] = ...) -> None: ...

class AccountSummary(_message.Message):
    __slots__ = ("account_id", "account_type", "base_currency", "net_liquidation", "total_cash", "settled_cash", "buying_power", "available_funds", "excess_liquidity", "initial_margin", "maintenance_margin", "equity_with_loan", "gross_position_value", "realized_pnl", "unrealized_pnl", "leverage", "cash_balances", "values", "update_time")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_TYPE_FIELD_NUMBER: _ClassVar[int]
    BASE_CURRENCY_FIELD_NUMBER: _ClassVar[int]
    NET_LIQUIDATION_FIELD_NUMBER: _ClassVar[int]
    TOTAL_CASH_FIELD_NUMBER: _ClassVar[int]
    SETTLED_CASH_FIELD_NUMBER: _ClassVar[int]
    BUYING_POWER_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_FUNDS_FIELD_NUMBER: _ClassVar[int]
    EXCESS_LIQUIDITY_FIELD_NUMBER: _ClassVar[int]
    INITIAL_MARGIN_FIELD_NUMBER: _ClassVar[int]
    MAINTENANCE_MARGIN_FIELD_NUMBER: _ClassVar[int]
    EQUITY_WITH_LOAN_FIELD_NUMBER: _ClassVar[int]
    GROSS_POSITION_VALUE_FIELD_NUMBER: _ClassVar[int]
    REALIZED_PNL_FIELD_NUMBER: _ClassVar[int]
    UNREALIZED_PNL_FIELD_NUMBER: _ClassVar[int]
    LEVERAGE_FIELD_NUMBER: _ClassVar[int]
    CASH_BALANCES_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    account_type: AccountType
    base_currency: str
    net_liquidation: _money_pb2.Money
    total_cash: _money_pb2.Money
    settled_cash: _money_pb2.Money
    buying_power: _money_pb2.Money
    available_funds: _money_pb2.Money
    excess_liquidity: _money_pb2.Money
    initial_margin: _money_pb2.Money
    maintenance_margin: _money_pb2.Money
    equity_with_loan: _money_pb2.Money
    gross_position_value: _money_pb2.Money
    realized_pnl: _money_pb2.Money
    unrealized_pnl: _money_pb2.Money
    leverage: _decimal_pb2.Decimal
    cash_balances: _containers.RepeatedCompositeFieldContainer[CashBalance]
    values: _containers.RepeatedCompositeFieldContainer[AccountValue]
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, account_id: _Optional[str] = ..., account_type: _Optional[_Union[AccountType, str]] = ..., base_currency: _Optional[str] = ..., net_liquidation: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., total_cash: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., settled_cash: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., buying_power: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., available_funds: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., excess_liquidity: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., initial_margin: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., maintenance_margin: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., equity_with_loan: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., gross_position_value: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., realized_pnl: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., unrealized_pnl: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., leverage: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., cash_balances: _Optional[_Iterable[_Union[CashBalance, _Mapping]]] = ..., values: _Optional[_Iterable[_Union[AccountValue, _Mapping]]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Pnl(_message.Message):
    __slots__ = ("account_id", "instrument", "daily_pnl", "unrealized_pnl", "realized_pnl", "position_quantity", "market_value", "update_time")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    INSTRUMENT_FIELD_NUMBER: _ClassVar[int]
    DAILY_PNL_FIELD_NUMBER: _ClassVar[int]
    UNREALIZED_PNL_FIELD_NUMBER: _ClassVar[int]
    REALIZED_PNL_FIELD_NUMBER: _ClassVar[int]
    POSITION_QUANTITY_FIELD_NUMBER: _ClassVar[int]
    MARKET_VALUE_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    instrument: _instrument_pb2.Instrument
    daily_pnl: _money_pb2.Money
    unrealized_pnl: _money_pb2.Money
    realized_pnl: _money_pb2.Money
    position_quantity: _decimal_pb2.Decimal
    market_value: _money_pb2.Money
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, account_id: _Optional[str] = ..., instrument: _Optional[_Union[_instrument_pb2.Instrument, _Mapping]] = ..., daily_pnl: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., unrealized_pnl: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., realized_pnl: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., position_quantity: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., market_value: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
