"""Risk's calls to the gateway bridge, each with a deadline (the configured one, shortened by what is left
of the caller's), and with the bridge's errors relayed unchanged as `DomainError`s.

The order RPCs (place, replace, cancel, cancel all, close position) sit on the order path, so they go over
a lean channel of their own (`order_channel`): the same target, load balancing and bridge health checking
as the shared channel, but no client interceptors. grpc.aio runs every intercepted call through extra tasks,
which cost about as much as the rest of risk's work; `Bridge` does what those interceptors did inline: a
CLIENT span with the same name and attributes, the W3C trace context and the internal token as metadata.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from decimal import Decimal

import grpc
from google.protobuf import duration_pb2
from ibkr.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from ibkr.trading.v1 import instrument_pb2
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from pydantic import SecretStr

from services.common.channels import CLIENT_KEEPALIVE_OPTIONS, INTERNAL_TOKEN_KEY
from services.common.errors import domain_error_from_rpc_error
from services.common.telemetry import (
    INSTRUMENTATION_NAME,
    UnrecordedSpans,
    _rpc_attributes,
    _status_attrs,
    inject_context,
    never_records,
)
from services.gateway_bridge.client import SERVICE_CONFIG, gateway_target
from services.risk.core.model import Quote
from services.risk.wire import varint

WhileWaiting = Callable[[], None] | None
log = logging.getLogger("services.risk.bridge")

# The bridge's answers to GetQuote that mean the instrument does not exist: relayed as they are.
UNKNOWN_INSTRUMENT = frozenset({grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT})


def _dec(pb) -> Decimal | None:
    return Decimal(pb.value) if pb.value else None


def _run_while_waiting(work: Callable[[], None]) -> None:
    # The request is already sent: a failure here must not lose the bridge's answer, so it is only logged.
    try:
        work()
    except Exception:
        log.exception("work overlapping a bridge call failed")


def _hold(_obj: object) -> None:
    """Nothing: scheduled with an object, it keeps that object alive until the loop runs it."""


def _answer_and_bytes(raw: bytes) -> tuple[gateway_pb2.PlaceOrderResponse, bytes]:
    return gateway_pb2.PlaceOrderResponse.FromString(raw), raw


def place_order_request_bytes(account_id: str, client_order_id: str, spec: bytes, decision_id: str) -> bytes:
    """A serialized PlaceOrderRequest from its parts (`spec`: the serialized OrderSpec), without building one.

    Fields 1-4 (account_id, client_order_id, order, risk_decision_id) in one join, as it runs between the order's
    check and its send; an empty string is written as an empty field, which parses the same as an absent one."""
    account, key, decision = account_id.encode(), client_order_id.encode(), decision_id.encode()
    return b"".join((b"\x0a", varint(len(account)), account, b"\x12", varint(len(key)), key,
                     b"\x1a", varint(len(spec)), spec, b"\x22", varint(len(decision)), decision))


def order_channel(addresses: str) -> grpc.aio.Channel:
    """The lean channel for order RPCs (see the module docstring). Close it on shutdown."""
    options = (*CLIENT_KEEPALIVE_OPTIONS, ("grpc.service_config", json.dumps(SERVICE_CONFIG)))
    return grpc.aio.insecure_channel(gateway_target(addresses), options=options)


class Bridge:
    """A GatewayService client for the calls risk makes."""

    def __init__(self, channel: grpc.aio.Channel, timeout: float, clock: Callable[[], float], *,
                 orders: grpc.aio.Channel | None = None, tracer_provider: trace.TracerProvider | None = None,
                 token: SecretStr | str | None = None) -> None:
        self._stub = gateway_pb2_grpc.GatewayServiceStub(channel)
        self._orders = gateway_pb2_grpc.GatewayServiceStub(orders) if orders is not None else None
        # PlaceOrder in bytes both ways: risk sends a request it encoded itself and relays the answer as it came.
        self._place_encoded = orders.unary_unary(
            "/ibkr.gateway.v1.GatewayService/PlaceOrder", response_deserializer=_answer_and_bytes,
            _registered_method=True) if orders is not None else None
        provider = tracer_provider or trace.get_tracer_provider()
        self._tracer = provider.get_tracer(INSTRUMENTATION_NAME)
        self._unrecorded = UnrecordedSpans(provider) if never_records(provider) else None
        secret = token.get_secret_value() if isinstance(token, SecretStr) else token
        self._token = ((INTERNAL_TOKEN_KEY, secret),) if secret else ()
        self._timeout = timeout
        self._clock = clock

    def _deadline(self, remaining: float | None) -> float:
        return self._timeout if remaining is None else max(0.001, min(self._timeout, remaining))

    async def _call(self, method: Callable[..., Awaitable], request, remaining: float | None):
        try:
            return await method(request, timeout=self._deadline(remaining))
        except grpc.aio.AioRpcError as err:
            raise domain_error_from_rpc_error(err) from err

    async def _order_call(self, name: str, request, remaining: float | None, while_waiting: WhileWaiting = None,
                          method: Callable | None = None):
        """An order RPC over the lean channel (its `method` there, default: the stub's), traced and
        authenticated inline (or the shared channel).

        `while_waiting` runs once the request is on its way (so its work overlaps the bridge's), before the
        answer is awaited."""
        if self._orders is None:
            if while_waiting is not None:
                while_waiting()
            return await self._call(getattr(self._stub, name), request, remaining)
        if self._unrecorded is not None:
            span = self._unrecorded.child()
        else:
            span_name, attributes = _rpc_attributes(f"/ibkr.gateway.v1.GatewayService/{name}")
            span = self._tracer.start_span(span_name, kind=SpanKind.CLIENT, attributes=attributes)
        metadata = (*self._token, *inject_context(trace.set_span_in_context(span)).items())
        code = grpc.StatusCode.OK
        call = None
        try:
            call = (method or getattr(self._orders, name))(request, timeout=self._deadline(remaining), metadata=metadata)
            if while_waiting is not None:
                await asyncio.sleep(0)  # grpc's invocation task, queued by the call, sends the request first
                _run_while_waiting(while_waiting)
            answer = await call
            # The finished call's teardown (grpc's call objects: as long as the rest of the response mapping) is left
            # to the next loop turn, after the caller's response is on its way: the loop holds the last reference.
            asyncio.get_running_loop().call_soon(_hold, call)
            return answer
        except grpc.aio.AioRpcError as err:
            code = err.code()
            raise domain_error_from_rpc_error(err) from err
        except BaseException:
            code = grpc.StatusCode.CANCELLED
            if call is not None:
                call.cancel()  # also when cancelled before awaiting it, or the call would go on unobserved
            raise
        finally:
            if self._unrecorded is None:
                _status_attrs(span, code, None)
                span.end()

    async def place_encoded(self, request: bytes, remaining: float | None = None, while_waiting: WhileWaiting = None
                            ) -> tuple[gateway_pb2.PlaceOrderResponse, bytes]:
        """PlaceOrder with a serialized request (`place_order_request_bytes`); the answer parsed, and its bytes
        as the bridge sent them (so risk can relay them without serializing the order again)."""
        if self._place_encoded is None:
            reply = await self._order_call("PlaceOrder", gateway_pb2.PlaceOrderRequest.FromString(request),
                                           remaining, while_waiting)
            return reply, reply.SerializeToString()
        return await self._order_call("PlaceOrder", request, remaining, while_waiting, self._place_encoded)

    async def cancel(self, request: gateway_pb2.CancelOrderRequest, remaining: float | None = None
                     ) -> gateway_pb2.CancelOrderResponse:
        return await self._order_call("CancelOrder", request, remaining)

    async def cancel_all(self, request: gateway_pb2.CancelAllOrdersRequest, remaining: float | None = None
                         ) -> gateway_pb2.CancelAllOrdersResponse:
        return await self._order_call("CancelAllOrders", request, remaining)

    async def close_position(self, request: gateway_pb2.ClosePositionRequest, remaining: float | None = None,
                             while_waiting: WhileWaiting = None) -> gateway_pb2.ClosePositionResponse:
        return await self._order_call("ClosePosition", request, remaining, while_waiting)

    async def get_order(self, request: gateway_pb2.GetOrderRequest, remaining: float | None = None
                        ) -> gateway_pb2.GetOrderResponse:
        return await self._call(self._stub.GetOrder, request, remaining)

    async def replace(self, request: gateway_pb2.ReplaceOrderRequest, remaining: float | None = None,
                      while_waiting: WhileWaiting = None) -> gateway_pb2.ReplaceOrderResponse:
        return await self._order_call("ReplaceOrder", request, remaining, while_waiting)

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
