"""The Python client of the IBKR Local API: `AsyncClient`, the blocking `Client`, typed errors, Decimals.

    from ibkr.client import Client
    with Client("127.0.0.1:50051", api_key) as client:
        order = client.place_order("AAPL", "buy", 10, limit_price="187.50")
"""

from ibkr.client.async_client import AsyncClient, new_client_order_id
from ibkr.client.channel import RetryPolicy, TlsConfig
from ibkr.client.convert import to_json, to_python
from ibkr.client.decimals import MoneyAmount, from_proto_decimal, from_proto_money, to_decimal
from ibkr.client.errors import (
    AlreadyExists,
    Cancelled,
    DeadlineExceeded,
    FailedPrecondition,
    FieldViolation,
    IbkrError,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    ResumeTokenExpired,
    RiskRejected,
    Unauthenticated,
    Unavailable,
)
from ibkr.client.resume import Backoff
from ibkr.client.sync_client import Client

decimal_value = from_proto_decimal
money_value = from_proto_money

__all__ = [
    "AlreadyExists",
    "AsyncClient",
    "Backoff",
    "Cancelled",
    "Client",
    "DeadlineExceeded",
    "FailedPrecondition",
    "FieldViolation",
    "IbkrError",
    "InvalidArgument",
    "MoneyAmount",
    "NotFound",
    "PermissionDenied",
    "ResourceExhausted",
    "ResumeTokenExpired",
    "RetryPolicy",
    "RiskRejected",
    "TlsConfig",
    "Unauthenticated",
    "Unavailable",
    "decimal_value",
    "from_proto_decimal",
    "from_proto_money",
    "money_value",
    "new_client_order_id",
    "to_decimal",
    "to_json",
    "to_python",
]
