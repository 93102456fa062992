from ibkr.trading.v1 import portfolio_pb2 as _portfolio_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetAccountRequest(_message.Message):
    __slots__ = ("account_id",)
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    def __init__(self, account_id: _Optional[str] = ...) -> None: ...

class GetAccountResponse(_message.Message):
    __slots__ = ("account",)
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    account: _portfolio_pb2.AccountSummary
    def __init__(self, account: _Optional[_Union[_portfolio_pb2.AccountSummary, _Mapping]] = ...) -> None: ...

class ListPositionsRequest(_message.Message):
    __slots__ = ("account_id", "page_size", "page_token", "symbol")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    page_size: int
    page_token: str
    symbol: str
    def __init__(self, account_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., symbol: _Optional[str] = ...) -> None: ...

class ListPositionsResponse(_message.Message):
    __slots__ = ("positions", "next_page_token")
    POSITIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    positions: _containers.RepeatedCompositeFieldContainer[_portfolio_pb2.Position]
    next_page_token: str
    def __init__(self, positions: _Optional[_Iterable[_Union[_portfolio_pb2.Position, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetPnlRequest(_message.Message):
    __slots__ = ("account_id", "symbol")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    symbol: str
    def __init__(self, account_id: _Optional[str] = ..., symbol: _Optional[str] = ...) -> None: ...

class GetPnlResponse(_message.Message):
    __slots__ = ("pnl", "position_pnls")
    PNL_FIELD_NUMBER: _ClassVar[int]
    POSITION_PNLS_FIELD_NUMBER: _ClassVar[int]
    pnl: _portfolio_pb2.Pnl
    position_pnls: _containers.RepeatedCompositeFieldContainer[_portfolio_pb2.Pnl]
    def __init__(self, pnl: _Optional[_Union[_portfolio_pb2.Pnl, _Mapping]] = ..., position_pnls: _Optional[_Iterable[_Union[_portfolio_pb2.Pnl, _Mapping]]] = ...) -> None: ...
