"""Risk's calls to the gateway bridge, each with a deadline (the configured one, shortened by what is left
of the caller's), and with the bridge's errors relayed unchanged as `DomainError`s.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal

import grpc
from google.protobuf import duration_pb2
from ibkr.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from ibkr.trading.v1 import instrument_pb2

from services.common.errors import domain_error_from_rpc_error
from services.risk.core.model import Quote

# The bridge's answers to GetQuote that mean the instrument does not exist: relayed as they are.
UNKNOWN_INSTRUMENT = frozenset({grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT})


def _dec(pb) -> Decimal | None:
    return Decimal(pb.value) if pb.value else None


class Bridge:
    """A GatewayService client for the calls risk makes."""

    def __init__(self, channel: grpc.aio.Channel, timeout: float, clock: Callable[[], float]) -> None:
        self._stub = gateway_pb2_grpc.GatewayServiceStub(channel)
        self._timeout = timeout
        self._clock = clock

    def _deadline(self, remaining: float | None) -> float:
        return self._timeout if remaining is None else max(0.001, min(self._timeout, remaining))

    async def _call(self, method: Callable[..., Awaitable], request, remaining: float | None):
        try:
            return await method(request, timeout=self._deadline(remaining))
        except grpc.aio.AioRpcError as err:
            raise domain_error_from_rpc_error(err) from err

    async def place(self, request: gateway_pb2.PlaceOrderRequest, remaining: float | None = None
                    ) -> gateway_pb2.PlaceOrderResponse:
        return await self._call(self._stub.PlaceOrder, request, remaining)

    async def cancel(self, request: gateway_pb2.CancelOrderRequest, remaining: float | None = None
                     ) -> gateway_pb2.CancelOrderResponse:
        return await self._call(self._stub.CancelOrder, request, remaining)

    async def cancel_all(self, request: gateway_pb2.CancelAllOrdersRequest, remaining: float | None = None
                         ) -> gateway_pb2.CancelAllOrdersResponse:
        return await self._call(self._stub.CancelAllOrders, request, remaining)

    async def close_position(self, request: gateway_pb2.ClosePositionRequest, remaining: float | None = None
                             ) -> gateway_pb2.ClosePositionResponse:
        return await self._call(self._stub.ClosePosition, request, remaining)

    async def get_order(self, request: gateway_pb2.GetOrderRequest, remaining: float | None = None
                        ) -> gateway_pb2.GetOrderResponse:
        return await self._call(self._stub.GetOrder, request, remaining)

    async def replace(self, request: gateway_pb2.ReplaceOrderRequest, remaining: float | None = None
                      ) -> gateway_pb2.ReplaceOrderResponse:
        return await self._call(self._stub.ReplaceOrder, request, remaining)

    def quote_lookup(self, timeout: float) -> Callable[[str], Awaitable[Quote | None]]:
        """A lookup for the gate: the bridge's quote of a US stock, or None when it has none in time."""

        async def lookup(symbol: str) -> Quote | None:
            request = gateway_pb2.GetQuoteRequest(
                instrument=instrument_pb2.Instrument(symbol=symbol, security_type=instrument_pb2.SECURITY_TYPE_STOCK),
                timeout=duration_pb2.Duration(nanos=int(min(timeout, 0.999) * 1e9)))
            try:
                reply = await self._stub.GetQuote(request, timeout=timeout)
            except grpc.aio.AioRpcError as err:
                if err.code() == grpc.StatusCode.NOT_FOUND:
                    # An unknown symbol is the caller's mistake, not a missing price: say so, as the bridge did.
                    raise domain_error_from_rpc_error(err) from err
                return None  # no quote: the reference price, else a denial, decides
            q = reply.quote
            return Quote(self._clock(), _dec(q.bid_price), _dec(q.ask_price), _dec(q.last_price), _dec(q.close_price))

        return lookup
