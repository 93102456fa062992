import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.type import decimal_pb2 as _decimal_pb2
from google.type import money_pb2 as _money_pb2
from ibkr.trading.v1 import market_data_pb2 as _market_data_pb2
from ibkr.trading.v1 import order_pb2 as _order_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ConnectivitySequence(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONNECTIVITY_SEQUENCE_UNSPECIFIED: _ClassVar[ConnectivitySequence]
    CONNECTIVITY_SEQUENCE_LOST_RESTORED_DATA_MAINTAINED: _ClassVar[ConnectivitySequence]
    CONNECTIVITY_SEQUENCE_LOST_RESTORED_DATA_LOST: _ClassVar[ConnectivitySequence]
    CONNECTIVITY_SEQUENCE_LOST: _ClassVar[ConnectivitySequence]

class DataFarm(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DATA_FARM_UNSPECIFIED: _ClassVar[DataFarm]
    DATA_FARM_MARKET_DATA: _ClassVar[DataFarm]
    DATA_FARM_HISTORICAL: _ClassVar[DataFarm]
    DATA_FARM_SECURITY_DEFINITION: _ClassVar[DataFarm]

class TradingSession(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TRADING_SESSION_UNSPECIFIED: _ClassVar[TradingSession]
    TRADING_SESSION_REGULAR: _ClassVar[TradingSession]
    TRADING_SESSION_EXTENDED: _ClassVar[TradingSession]
    TRADING_SESSION_CLOSED: _ClassVar[TradingSession]
CONNECTIVITY_SEQUENCE_UNSPECIFIED: ConnectivitySequence
CONNECTIVITY_SEQUENCE_LOST_RESTORED_DATA_MAINTAINED: ConnectivitySequence
CONNECTIVITY_SEQUENCE_LOST_RESTORED_DATA_LOST: ConnectivitySequence
CONNECTIVITY_SEQUENCE_LOST: ConnectivitySequence
DATA_FARM_UNSPECIFIED: DataFarm
DATA_FARM_MARKET_DATA: DataFarm
DATA_FARM_HISTORICAL: DataFarm
DATA_FARM_SECURITY_DEFINITION: DataFarm
TRADING_SESSION_UNSPECIFIED: TradingSession
TRADING_SESSION_REGULAR: TradingSession
TRADING_SESSION_EXTENDED: TradingSession
TRADING_SESSION_CLOSED: TradingSession

class SetPriceRequest(_message.Message):
    __slots__ = ("symbol", "last_price", "bid_price", "ask_price", "bid_size", "ask_size")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    LAST_PRICE_FIELD_NUMBER: _ClassVar[int]
    BID_PRICE_FIELD_NUMBER: _ClassVar[int]
    ASK_PRICE_FIELD_NUMBER: _ClassVar[int]
    BID_SIZE_FIELD_NUMBER: _ClassVar[int]
    ASK_SIZE_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    last_price: _decimal_pb2.Decimal
    bid_price: _decimal_pb2.Decimal
    ask_price: _decimal_pb2.Decimal
    bid_size: _decimal_pb2.Decimal
    ask_size: _decimal_pb2.Decimal
    def __init__(self, symbol: _Optional[str] = ..., last_price: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., bid_price: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., ask_price: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., bid_size: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., ask_size: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ...) -> None: ...

class SetPriceResponse(_message.Message):
    __slots__ = ("quote",)
    QUOTE_FIELD_NUMBER: _ClassVar[int]
    quote: _market_data_pb2.Quote
    def __init__(self, quote: _Optional[_Union[_market_data_pb2.Quote, _Mapping]] = ...) -> None: ...

class SetPricePathRequest(_message.Message):
    __slots__ = ("symbol", "prices", "step_interval", "loop")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    PRICES_FIELD_NUMBER: _ClassVar[int]
    STEP_INTERVAL_FIELD_NUMBER: _ClassVar[int]
    LOOP_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    prices: _containers.RepeatedCompositeFieldContainer[_decimal_pb2.Decimal]
    step_interval: _duration_pb2.Duration
    loop: bool
    def __init__(self, symbol: _Optional[str] = ..., prices: _Optional[_Iterable[_Union[_decimal_pb2.Decimal, _Mapping]]] = ..., step_interval: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., loop: _Optional[bool] = ...) -> None: ...

class SetPricePathResponse(_message.Message):
    __slots__ = ("end_time",)
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    end_time: _timestamp_pb2.Timestamp
    def __init__(self, end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class PauseMarketDataRequest(_message.Message):
    __slots__ = ("symbols",)
    SYMBOLS_FIELD_NUMBER: _ClassVar[int]
    symbols: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, symbols: _Optional[_Iterable[str]] = ...) -> None: ...

class PauseMarketDataResponse(_message.Message):
    __slots__ = ("paused_symbols",)
    PAUSED_SYMBOLS_FIELD_NUMBER: _ClassVar[int]
    paused_symbols: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, paused_symbols: _Optional[_Iterable[str]] = ...) -> None: ...

class ResumeMarketDataRequest(_message.Message):
    __slots__ = ("symbols",)
    SYMBOLS_FIELD_NUMBER: _ClassVar[int]
    symbols: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, symbols: _Optional[_Iterable[str]] = ...) -> None: ...

class ResumeMarketDataResponse(_message.Message):
    __slots__ = ("paused_symbols",)
    PAUSED_SYMBOLS_FIELD_NUMBER: _ClassVar[int]
    paused_symbols: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, paused_symbols: _Optional[_Iterable[str]] = ...) -> None: ...

class RejectNextOrderRequest(_message.Message):
    __slots__ = ("code", "message", "count", "symbol")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    code: int
    message: str
    count: int
    symbol: str
    def __init__(self, code: _Optional[int] = ..., message: _Optional[str] = ..., count: _Optional[int] = ..., symbol: _Optional[str] = ...) -> None: ...

class RejectNextOrderResponse(_message.Message):
    __slots__ = ("pending_rejections",)
    PENDING_REJECTIONS_FIELD_NUMBER: _ClassVar[int]
    pending_rejections: int
    def __init__(self, pending_rejections: _Optional[int] = ...) -> None: ...

class SetResponseDelayRequest(_message.Message):
    __slots__ = ("delay", "request_types", "drop")
    DELAY_FIELD_NUMBER: _ClassVar[int]
    REQUEST_TYPES_FIELD_NUMBER: _ClassVar[int]
    DROP_FIELD_NUMBER: _ClassVar[int]
    delay: _duration_pb2.Duration
    request_types: _containers.RepeatedScalarFieldContainer[str]
    drop: bool
    def __init__(self, delay: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., request_types: _Optional[_Iterable[str]] = ..., drop: _Optional[bool] = ...) -> None: ...

class SetResponseDelayResponse(_message.Message):
    __slots__ = ("delay",)
    DELAY_FIELD_NUMBER: _ClassVar[int]
    delay: _duration_pb2.Duration
    def __init__(self, delay: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class DropConnectionsRequest(_message.Message):
    __slots__ = ("client_id", "refuse_duration")
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    REFUSE_DURATION_FIELD_NUMBER: _ClassVar[int]
    client_id: int
    refuse_duration: _duration_pb2.Duration
    def __init__(self, client_id: _Optional[int] = ..., refuse_duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class DropConnectionsResponse(_message.Message):
    __slots__ = ("dropped_count",)
    DROPPED_COUNT_FIELD_NUMBER: _ClassVar[int]
    dropped_count: int
    def __init__(self, dropped_count: _Optional[int] = ...) -> None: ...

class SendConnectivitySequenceRequest(_message.Message):
    __slots__ = ("sequence", "outage", "suspend_during_outage")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    OUTAGE_FIELD_NUMBER: _ClassVar[int]
    SUSPEND_DURING_OUTAGE_FIELD_NUMBER: _ClassVar[int]
    sequence: ConnectivitySequence
    outage: _duration_pb2.Duration
    suspend_during_outage: bool
    def __init__(self, sequence: _Optional[_Union[ConnectivitySequence, str]] = ..., outage: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., suspend_during_outage: _Optional[bool] = ...) -> None: ...

class SendConnectivitySequenceResponse(_message.Message):
    __slots__ = ("client_count",)
    CLIENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    client_count: int
    def __init__(self, client_count: _Optional[int] = ...) -> None: ...

class SendDataFarmNoticeRequest(_message.Message):
    __slots__ = ("farm", "name", "connected")
    FARM_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CONNECTED_FIELD_NUMBER: _ClassVar[int]
    farm: DataFarm
    name: str
    connected: bool
    def __init__(self, farm: _Optional[_Union[DataFarm, str]] = ..., name: _Optional[str] = ..., connected: _Optional[bool] = ...) -> None: ...

class SendDataFarmNoticeResponse(_message.Message):
    __slots__ = ("code", "client_count")
    CODE_FIELD_NUMBER: _ClassVar[int]
    CLIENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    code: int
    client_count: int
    def __init__(self, code: _Optional[int] = ..., client_count: _Optional[int] = ...) -> None: ...

class CorrectExecutionRequest(_message.Message):
    __slots__ = ("execution_id", "price")
    EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    execution_id: str
    price: _decimal_pb2.Decimal
    def __init__(self, execution_id: _Optional[str] = ..., price: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ...) -> None: ...

class CorrectExecutionResponse(_message.Message):
    __slots__ = ("execution",)
    EXECUTION_FIELD_NUMBER: _ClassVar[int]
    execution: BrokerExecution
    def __init__(self, execution: _Optional[_Union[BrokerExecution, _Mapping]] = ...) -> None: ...

class RestartGatewayRequest(_message.Message):
    __slots__ = ("keep_state", "downtime")
    KEEP_STATE_FIELD_NUMBER: _ClassVar[int]
    DOWNTIME_FIELD_NUMBER: _ClassVar[int]
    keep_state: bool
    downtime: _duration_pb2.Duration
    def __init__(self, keep_state: _Optional[bool] = ..., downtime: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class RestartGatewayResponse(_message.Message):
    __slots__ = ("ready_time",)
    READY_TIME_FIELD_NUMBER: _ClassVar[int]
    ready_time: _timestamp_pb2.Timestamp
    def __init__(self, ready_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ResetRequest(_message.Message):
    __slots__ = ("seed", "drop_connections")
    SEED_FIELD_NUMBER: _ClassVar[int]
    DROP_CONNECTIONS_FIELD_NUMBER: _ClassVar[int]
    seed: int
    drop_connections: bool
    def __init__(self, seed: _Optional[int] = ..., drop_connections: _Optional[bool] = ...) -> None: ...

class ResetResponse(_message.Message):
    __slots__ = ("seed",)
    SEED_FIELD_NUMBER: _ClassVar[int]
    seed: int
    def __init__(self, seed: _Optional[int] = ...) -> None: ...

class BrokerExecution(_message.Message):
    __slots__ = ("execution_id", "order_id", "perm_id", "client_id", "order_ref", "account_id", "symbol", "side", "quantity", "price", "commission", "execution_time", "exchange", "superseded_execution_id")
    EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    PERM_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_REF_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    SIDE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    COMMISSION_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_TIME_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    SUPERSEDED_EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    execution_id: str
    order_id: int
    perm_id: int
    client_id: int
    order_ref: str
    account_id: str
    symbol: str
    side: _order_pb2.OrderSide
    quantity: _decimal_pb2.Decimal
    price: _decimal_pb2.Decimal
    commission: _money_pb2.Money
    execution_time: _timestamp_pb2.Timestamp
    exchange: str
    superseded_execution_id: str
    def __init__(self, execution_id: _Optional[str] = ..., order_id: _Optional[int] = ..., perm_id: _Optional[int] = ..., client_id: _Optional[int] = ..., order_ref: _Optional[str] = ..., account_id: _Optional[str] = ..., symbol: _Optional[str] = ..., side: _Optional[_Union[_order_pb2.OrderSide, str]] = ..., quantity: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., price: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., commission: _Optional[_Union[_money_pb2.Money, _Mapping]] = ..., execution_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., exchange: _Optional[str] = ..., superseded_execution_id: _Optional[str] = ...) -> None: ...

class BrokerOrder(_message.Message):
    __slots__ = ("order_id", "perm_id", "client_id", "order_ref", "account_id", "symbol", "side", "quantity", "order_type", "limit_price", "aux_price", "time_in_force", "status", "filled_quantity", "average_fill_price", "parent_id", "oca_group", "modification_count", "create_time", "update_time", "reject_code", "executions")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    PERM_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_REF_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    SIDE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    ORDER_TYPE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    AUX_PRICE_FIELD_NUMBER: _ClassVar[int]
    TIME_IN_FORCE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    FILLED_QUANTITY_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_FILL_PRICE_FIELD_NUMBER: _ClassVar[int]
    PARENT_ID_FIELD_NUMBER: _ClassVar[int]
    OCA_GROUP_FIELD_NUMBER: _ClassVar[int]
    MODIFICATION_COUNT_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    REJECT_CODE_FIELD_NUMBER: _ClassVar[int]
    EXECUTIONS_FIELD_NUMBER: _ClassVar[int]
    order_id: int
    perm_id: int
    client_id: int
    order_ref: str
    account_id: str
    symbol: str
    side: _order_pb2.OrderSide
    quantity: _decimal_pb2.Decimal
    order_type: str
    limit_price: _decimal_pb2.Decimal
    aux_price: _decimal_pb2.Decimal
    time_in_force: str
    status: str
    filled_quantity: _decimal_pb2.Decimal
    average_fill_price: _decimal_pb2.Decimal
    parent_id: int
    oca_group: str
    modification_count: int
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    reject_code: int
    executions: _containers.RepeatedCompositeFieldContainer[BrokerExecution]
    def __init__(self, order_id: _Optional[int] = ..., perm_id: _Optional[int] = ..., client_id: _Optional[int] = ..., order_ref: _Optional[str] = ..., account_id: _Optional[str] = ..., symbol: _Optional[str] = ..., side: _Optional[_Union[_order_pb2.OrderSide, str]] = ..., quantity: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., order_type: _Optional[str] = ..., limit_price: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., aux_price: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., time_in_force: _Optional[str] = ..., status: _Optional[str] = ..., filled_quantity: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., average_fill_price: _Optional[_Union[_decimal_pb2.Decimal, _Mapping]] = ..., parent_id: _Optional[int] = ..., oca_group: _Optional[str] = ..., modification_count: _Optional[int] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reject_code: _Optional[int] = ..., executions: _Optional[_Iterable[_Union[BrokerExecution, _Mapping]]] = ...) -> None: ...

class GetBrokerLogRequest(_message.Message):
    __slots__ = ("order_ref", "account_id", "start_time")
    ORDER_REF_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    order_ref: str
    account_id: str
    start_time: _timestamp_pb2.Timestamp
    def __init__(self, order_ref: _Optional[str] = ..., account_id: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetBrokerLogResponse(_message.Message):
    __slots__ = ("orders", "executions")
    ORDERS_FIELD_NUMBER: _ClassVar[int]
    EXECUTIONS_FIELD_NUMBER: _ClassVar[int]
    orders: _containers.RepeatedCompositeFieldContainer[BrokerOrder]
    executions: _containers.RepeatedCompositeFieldContainer[BrokerExecution]
    def __init__(self, orders: _Optional[_Iterable[_Union[BrokerOrder, _Mapping]]] = ..., executions: _Optional[_Iterable[_Union[BrokerExecution, _Mapping]]] = ...) -> None: ...

class ConnectedClient(_message.Message):
    __slots__ = ("client_id", "remote_address", "server_version", "connect_time")
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    REMOTE_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    SERVER_VERSION_FIELD_NUMBER: _ClassVar[int]
    CONNECT_TIME_FIELD_NUMBER: _ClassVar[int]
    client_id: int
    remote_address: str
    server_version: int
    connect_time: _timestamp_pb2.Timestamp
    def __init__(self, client_id: _Optional[int] = ..., remote_address: _Optional[str] = ..., server_version: _Optional[int] = ..., connect_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetSimulatorStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetSimulatorStatusResponse(_message.Message):
    __slots__ = ("seed", "api_port", "server_version", "account_ids", "clients", "paused_symbols", "response_delay", "pending_rejections", "accepting_connections", "order_count", "execution_count", "start_time")
    SEED_FIELD_NUMBER: _ClassVar[int]
    API_PORT_FIELD_NUMBER: _ClassVar[int]
    SERVER_VERSION_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_IDS_FIELD_NUMBER: _ClassVar[int]
    CLIENTS_FIELD_NUMBER: _ClassVar[int]
    PAUSED_SYMBOLS_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_DELAY_FIELD_NUMBER: _ClassVar[int]
    PENDING_REJECTIONS_FIELD_NUMBER: _ClassVar[int]
    ACCEPTING_CONNECTIONS_FIELD_NUMBER: _ClassVar[int]
    ORDER_COUNT_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_COUNT_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    seed: int
    api_port: int
    server_version: int
    account_ids: _containers.RepeatedScalarFieldContainer[str]
    clients: _containers.RepeatedCompositeFieldContainer[ConnectedClient]
    paused_symbols: _containers.RepeatedScalarFieldContainer[str]
    response_delay: _duration_pb2.Duration
    pending_rejections: int
    accepting_connections: bool
    order_count: int
    execution_count: int
    start_time: _timestamp_pb2.Timestamp
    def __init__(self, seed: _Optional[int] = ..., api_port: _Optional[int] = ..., server_version: _Optional[int] = ..., account_ids: _Optional[_Iterable[str]] = ..., clients: _Optional[_Iterable[_Union[ConnectedClient, _Mapping]]] = ..., paused_symbols: _Optional[_Iterable[str]] = ..., response_delay: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., pending_rejections: _Optional[int] = ..., accepting_connections: _Optional[bool] = ..., order_count: _Optional[int] = ..., execution_count: _Optional[int] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class StepMarketRequest(_message.Message):
    __slots__ = ("steps", "symbols")
    STEPS_FIELD_NUMBER: _ClassVar[int]
    SYMBOLS_FIELD_NUMBER: _ClassVar[int]
    steps: int
    symbols: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, steps: _Optional[int] = ..., symbols: _Optional[_Iterable[str]] = ...) -> None: ...

class StepMarketResponse(_message.Message):
    __slots__ = ("quotes",)
    QUOTES_FIELD_NUMBER: _ClassVar[int]
    quotes: _containers.RepeatedCompositeFieldContainer[_market_data_pb2.Quote]
    def __init__(self, quotes: _Optional[_Iterable[_Union[_market_data_pb2.Quote, _Mapping]]] = ...) -> None: ...

class SetTradingSessionRequest(_message.Message):
    __slots__ = ("session",)
    SESSION_FIELD_NUMBER: _ClassVar[int]
    session: TradingSession
    def __init__(self, session: _Optional[_Union[TradingSession, str]] = ...) -> None: ...

class SetTradingSessionResponse(_message.Message):
    __slots__ = ("session",)
    SESSION_FIELD_NUMBER: _ClassVar[int]
    session: TradingSession
    def __init__(self, session: _Optional[_Union[TradingSession, str]] = ...) -> None: ...

class EndTradingDayRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class EndTradingDayResponse(_message.Message):
    __slots__ = ("auction_fill_count", "expired_order_count")
    AUCTION_FILL_COUNT_FIELD_NUMBER: _ClassVar[int]
    EXPIRED_ORDER_COUNT_FIELD_NUMBER: _ClassVar[int]
    auction_fill_count: int
    expired_order_count: int
    def __init__(self, auction_fill_count: _Optional[int] = ..., expired_order_count: _Optional[int] = ...) -> None: ...
