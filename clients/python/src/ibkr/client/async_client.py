"""`AsyncClient`: the public API of the edge as asyncio methods, Decimal in, typed errors out.

Every method wraps one RPC (or pages through a List) of the generated stubs. Responses are the generated
messages; read their `google.type.Decimal`/`Money` fields with `ibkr.client.decimal_value`/`money_value`,
or convert a whole message with `ibkr.client.to_python`. A failed call raises an `IbkrError` subclass.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, Self, TypeVar

import grpc
from google.protobuf import duration_pb2, field_mask_pb2, timestamp_pb2
from grpc import aio

from ibkr.client import builders
from ibkr.client.channel import RetryPolicy, TlsConfig, open_channel
from ibkr.client.config import resolve_settings
from ibkr.client.decimals import DecimalInput, optional_proto_decimal
from ibkr.client.errors import error_from_rpc_error
from ibkr.client.resume import Backoff, resuming_event_stream
from ibkr.edge.v1 import (
    admin_service_pb2,
    admin_service_pb2_grpc,
    event_service_pb2,
    event_service_pb2_grpc,
    market_data_service_pb2,
    market_data_service_pb2_grpc,
    portfolio_service_pb2,
    portfolio_service_pb2_grpc,
    trading_service_pb2,
    trading_service_pb2_grpc,
)
from ibkr.trading.v1 import (
    execution_pb2,
    instrument_pb2,
    market_data_pb2,
    order_pb2,
    portfolio_pb2,
    risk_policy_pb2,
    risk_types_pb2,
)

Response = TypeVar("Response")
SymbolOrInstrument = str | instrument_pb2.Instrument


def new_client_order_id() -> str:
    """A fresh idempotency key (`py-` + 32 hex digits), within the 48-character limit."""
    return f"py-{uuid.uuid4().hex}"


def _timestamp(value: datetime | None) -> timestamp_pb2.Timestamp | None:
    if value is None:
        return None
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(value)
    return ts


class AsyncClient:
    """An asyncio client of the edge. Use as `async with AsyncClient(target, api_key) as client:`.

    `target` is `host:port`; `api_key` is sent as `authorization: Bearer <key>` on every call; `tls`
    turns on TLS (and mutual TLS with a client pair); `account_id` is the default account of every call
    (empty lets the edge pick the key's only account); `timeout` is the deadline of unary calls in
    seconds. UNAVAILABLE is retried by the channel per `retry`; `stream_events` reconnects per `backoff`.
    """

    def __init__(
        self,
        target: str,
        api_key: str | None,
        *,
        tls: TlsConfig | None = None,
        account_id: str = "",
        timeout: float | None = 10.0,
        retry: RetryPolicy | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        self._channel: aio.Channel = open_channel(target, api_key, tls=tls, retry=retry or RetryPolicy())
        self.account_id = account_id
        self.timeout = timeout
        self.backoff = backoff or Backoff()
        self.trading = trading_service_pb2_grpc.TradingServiceStub(self._channel)
        self.portfolio = portfolio_service_pb2_grpc.PortfolioServiceStub(self._channel)
        self.market_data = market_data_service_pb2_grpc.MarketDataServiceStub(self._channel)
        self.events = event_service_pb2_grpc.EventServiceStub(self._channel)
        self.admin = admin_service_pb2_grpc.AdminServiceStub(self._channel)

    @classmethod
    def from_env(cls, **kwargs: Any) -> AsyncClient:
        """A client configured from `IBKR_API_URL`, `IBKR_API_KEY`/`IBKR_API_KEY_FILE` or `.run/api-key`."""
        settings = resolve_settings()
        return cls(settings.target, settings.api_key, tls=settings.tls, **kwargs)

    async def close(self) -> None:
        """Close the channel (cancelling open streams)."""
        await self._channel.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def wait_ready(self, timeout: float = 10.0) -> None:
        """Wait until the channel is connected (raises `TimeoutError`)."""
        await asyncio.wait_for(self._channel.channel_ready(), timeout)

    def _account(self, account_id: str | None) -> str:
        return self.account_id if account_id is None else account_id

    async def _call(self, method: Callable[..., Awaitable[Response]], request: Any) -> Response:
        try:
            return await method(request, timeout=self.timeout)
        except grpc.RpcError as error:
            raise error_from_rpc_error(error) from None

    # ---- TradingService -------------------------------------------------------------------------

    async def place_order(
        self,
        symbol: SymbolOrInstrument | order_pb2.OrderSpec,
        side: builders.EnumInput | None = None,
        quantity: DecimalInput | None = None,
        *,
        limit_price: DecimalInput | None = None,
        stop_price: DecimalInput | None = None,
        order_type: builders.EnumInput | None = None,
        time_in_force: builders.EnumInput = "day",
        outside_rth: bool = False,
        client_order_id: str | None = None,
        account_id: str | None = None,
    ) -> order_pb2.Order:
        """Place an order and return it (PENDING_SUBMIT or later).

        `place_order("AAPL", "buy", 10, limit_price="187.5")`, or an `OrderSpec` as the only positional
        argument. The type follows from the prices unless given. Without `client_order_id` a fresh one is
        made; pass your own to make the call idempotent across your process restarts too.
        """
        spec = self._spec(symbol, side, quantity, limit_price, stop_price, order_type, time_in_force, outside_rth)
        request = trading_service_pb2.PlaceOrderRequest(
            account_id=self._account(account_id),
            client_order_id=client_order_id or new_client_order_id(),
            order=spec,
        )
        response = await self._call(self.trading.PlaceOrder, request)
        return response.order

    @staticmethod
    def _spec(
        symbol: SymbolOrInstrument | order_pb2.OrderSpec,
        side: builders.EnumInput | None,
        quantity: DecimalInput | None,
        limit_price: DecimalInput | None,
        stop_price: DecimalInput | None,
        order_type: builders.EnumInput | None,
        time_in_force: builders.EnumInput,
        outside_rth: bool,
    ) -> order_pb2.OrderSpec:
        if isinstance(symbol, order_pb2.OrderSpec):
            return symbol
        if side is None or quantity is None:
            raise TypeError("side and quantity are required unless an OrderSpec is given")
        return builders.order_spec(
            symbol, side, quantity, limit_price=limit_price, stop_price=stop_price, type_=order_type,
            tif=time_in_force, outside_rth=outside_rth,
        )

    async def preview_order(
        self,
        symbol: SymbolOrInstrument | order_pb2.OrderSpec,
        side: builders.EnumInput | None = None,
        quantity: DecimalInput | None = None,
        *,
        limit_price: DecimalInput | None = None,
        stop_price: DecimalInput | None = None,
        order_type: builders.EnumInput | None = None,
        time_in_force: builders.EnumInput = "day",
        outside_rth: bool = False,
        account_id: str | None = None,
    ) -> trading_service_pb2.PreviewOrderResponse:
        """Ask risk and the broker what an order would do; places nothing. A denial is in the answer."""
        spec = self._spec(symbol, side, quantity, limit_price, stop_price, order_type, time_in_force, outside_rth)
        request = trading_service_pb2.PreviewOrderRequest(account_id=self._account(account_id), order=spec)
        return await self._call(self.trading.PreviewOrder, request)

    async def replace_order(
        self,
        order_id: str | None = None,
        *,
        client_order_id: str | None = None,
        quantity: DecimalInput | None = None,
        limit_price: DecimalInput | None = None,
        stop_price: DecimalInput | None = None,
        time_in_force: builders.EnumInput | None = None,
        request_id: str | None = None,
        account_id: str | None = None,
    ) -> order_pb2.Order:
        """Modify a working order; only the fields given change (they form the update mask)."""
        spec = order_pb2.OrderSpec()
        paths: list[str] = []
        for name, value in (("quantity", quantity), ("limit_price", limit_price), ("stop_price", stop_price)):
            proto = optional_proto_decimal(value, name)
            if proto is not None:
                getattr(spec, name).CopyFrom(proto)
                paths.append(name)
        if time_in_force is not None:
            spec.time_in_force = builders.time_in_force(time_in_force)
            paths.append("time_in_force")
        if not paths:
            raise ValueError("replace_order needs at least one of quantity, limit_price, stop_price, time_in_force")
        request = trading_service_pb2.ReplaceOrderRequest(
            account_id=self._account(account_id),
            order=spec,
            update_mask=field_mask_pb2.FieldMask(paths=paths),
            request_id=request_id or uuid.uuid4().hex,
            **self._order_key(order_id, client_order_id),
        )
        return (await self._call(self.trading.ReplaceOrder, request)).order

    @staticmethod
    def _order_key(order_id: str | None, client_order_id: str | None) -> dict[str, str]:
        if (order_id is None) == (client_order_id is None):
            raise TypeError("give exactly one of order_id and client_order_id")
        return {"order_id": order_id} if order_id is not None else {"client_order_id": client_order_id or ""}

    async def cancel_order(
        self, order_id: str | None = None, *, client_order_id: str | None = None, account_id: str | None = None
    ) -> order_pb2.Order:
        """Request the cancellation of an order (always allowed, whatever the trading state)."""
        request = trading_service_pb2.CancelOrderRequest(
            account_id=self._account(account_id), **self._order_key(order_id, client_order_id)
        )
        return (await self._call(self.trading.CancelOrder, request)).order

    async def cancel_all_orders(
        self,
        *,
        symbol: str = "",
        side: builders.EnumInput | None = None,
        request_id: str | None = None,
        account_id: str | None = None,
    ) -> trading_service_pb2.CancelAllOrdersResponse:
        """Request the cancellation of every working order (optionally of one symbol or side)."""
        request = trading_service_pb2.CancelAllOrdersRequest(
            account_id=self._account(account_id),
            symbol=symbol,
            side=builders.side(side) if side is not None else 0,
            request_id=request_id or uuid.uuid4().hex,
        )
        return await self._call(self.trading.CancelAllOrders, request)

    async def close_position(
        self,
        symbol: SymbolOrInstrument,
        quantity: DecimalInput | None = None,
        *,
        limit_price: DecimalInput | None = None,
        time_in_force: builders.EnumInput = "day",
        cancel_open_orders: bool = False,
        client_order_id: str | None = None,
        account_id: str | None = None,
    ) -> order_pb2.Order:
        """Place the order that closes a position (all of it unless `quantity`); LIMIT when priced."""
        request = trading_service_pb2.ClosePositionRequest(
            account_id=self._account(account_id),
            instrument=builders.instrument(symbol),
            quantity=optional_proto_decimal(quantity, "quantity"),
            order_type=builders.order_type("limit" if limit_price is not None else "market"),
            limit_price=optional_proto_decimal(limit_price, "limit_price"),
            client_order_id=client_order_id or new_client_order_id(),
            cancel_open_orders=cancel_open_orders,
            time_in_force=builders.time_in_force(time_in_force),
        )
        return (await self._call(self.trading.ClosePosition, request)).order

    async def get_order(
        self, order_id: str | None = None, *, client_order_id: str | None = None, account_id: str | None = None
    ) -> order_pb2.Order:
        """One order, by the suite's id or by your `client_order_id`."""
        return (await self.get_order_history(order_id, client_order_id=client_order_id,
                                             account_id=account_id, include_history=False)).order

    async def get_order_history(
        self,
        order_id: str | None = None,
        *,
        client_order_id: str | None = None,
        account_id: str | None = None,
        include_history: bool = True,
    ) -> trading_service_pb2.GetOrderResponse:
        """An order with its event history and fills, oldest first."""
        request = trading_service_pb2.GetOrderRequest(
            account_id=self._account(account_id),
            include_history=include_history,
            **self._order_key(order_id, client_order_id),
        )
        return await self._call(self.trading.GetOrder, request)

    async def list_orders(
        self,
        *,
        symbol: str = "",
        statuses: Iterable[builders.EnumInput] = (),
        open_only: bool = False,
        start_time: datetime | None = None,
        end_time: datetime | None = None,
        page_size: int = 0,
        page_token: str = "",
        account_id: str | None = None,
    ) -> trading_service_pb2.ListOrdersResponse:
        """One page of orders, newest first; pass `next_page_token` back for the next page."""
        request = trading_service_pb2.ListOrdersRequest(
            account_id=self._account(account_id),
            page_size=page_size,
            page_token=page_token,
            symbol=symbol,
            statuses=[builders.enum_value(order_pb2.OrderStatus, s, "ORDER_STATUS_") for s in statuses],
            open_only=open_only,
            start_time=_timestamp(start_time),
            end_time=_timestamp(end_time),
        )
        return await self._call(self.trading.ListOrders, request)

    async def iter_orders(self, **filters: Any) -> AsyncIterator[order_pb2.Order]:
        """Every order matching the filters of `list_orders`, across all pages."""
        token = ""
        while True:
            page = await self.list_orders(page_token=token, **filters)
            for order in page.orders:
                yield order
            token = page.next_page_token
            if not token:
                return

    async def list_fills(
        self,
        *,
        symbol: str = "",
        order_id: str = "",
        client_order_id: str = "",
        start_time: datetime | None = None,
        end_time: datetime | None = None,
        page_size: int = 0,
        page_token: str = "",
        account_id: str | None = None,
    ) -> trading_service_pb2.ListFillsResponse:
        """One page of fills, newest first."""
        request = trading_service_pb2.ListFillsRequest(
            account_id=self._account(account_id),
            page_size=page_size,
            page_token=page_token,
            symbol=symbol,
            order_id=order_id,
            client_order_id=client_order_id,
            start_time=_timestamp(start_time),
            end_time=_timestamp(end_time),
        )
        return await self._call(self.trading.ListFills, request)

    async def iter_fills(self, **filters: Any) -> AsyncIterator[execution_pb2.Fill]:
        """Every fill matching the filters of `list_fills`, across all pages."""
        token = ""
        while True:
            page = await self.list_fills(page_token=token, **filters)
            for fill in page.fills:
                yield fill
            token = page.next_page_token
            if not token:
                return

    # ---- PortfolioService -----------------------------------------------------------------------

    async def get_account(self, *, account_id: str | None = None) -> portfolio_pb2.AccountSummary:
        """The account summary as the broker reports it."""
        request = portfolio_service_pb2.GetAccountRequest(account_id=self._account(account_id))
        return (await self._call(self.portfolio.GetAccount, request)).account

    async def list_positions(
        self, *, symbol: str = "", account_id: str | None = None
    ) -> list[portfolio_pb2.Position]:
        """Every open position (all pages), by symbol."""
        positions: list[portfolio_pb2.Position] = []
        token = ""
        while True:
            request = portfolio_service_pb2.ListPositionsRequest(
                account_id=self._account(account_id), symbol=symbol, page_token=token
            )
            page = await self._call(self.portfolio.ListPositions, request)
            positions.extend(page.positions)
            token = page.next_page_token
            if not token:
                return positions

    async def get_pnl(self, *, symbol: str = "", account_id: str | None = None) -> portfolio_service_pb2.GetPnlResponse:
        """The account's P&L and each position's."""
        request = portfolio_service_pb2.GetPnlRequest(account_id=self._account(account_id), symbol=symbol)
        return await self._call(self.portfolio.GetPnl, request)

    # ---- MarketDataService ----------------------------------------------------------------------

    async def get_quote(self, symbol: SymbolOrInstrument) -> market_data_pb2.Quote:
        """A quote snapshot; NotFound for an unknown instrument."""
        request = market_data_service_pb2.GetQuoteRequest(instrument=builders.instrument(symbol))
        return (await self._call(self.market_data.GetQuote, request)).quote

    async def stream_quotes(
        self, symbols: Iterable[SymbolOrInstrument], *, min_interval: timedelta | None = None
    ) -> AsyncIterator[market_data_pb2.Quote]:
        """Quotes: the current one of each instrument, then changes (heartbeats are skipped)."""
        interval = None
        if min_interval is not None:
            interval = duration_pb2.Duration()
            interval.FromTimedelta(min_interval)
        request = market_data_service_pb2.StreamQuotesRequest(
            instruments=[builders.instrument(s) for s in symbols], min_interval=interval
        )
        call = self.market_data.StreamQuotes(request)
        try:
            async for frame in call:
                if frame.HasField("quote"):
                    yield frame.quote
        except grpc.RpcError as error:
            raise error_from_rpc_error(error) from None
        finally:
            call.cancel()

    # ---- EventService ---------------------------------------------------------------------------

    def stream_events(
        self,
        *,
        event_types: Iterable[builders.EnumInput] = (),
        symbols: Iterable[str] = (),
        resume_token: str = "",
        skip_snapshot: bool = False,
        account_id: str | None = None,
        backoff: Backoff | None = None,
    ) -> AsyncIterator[event_service_pb2.StreamEventsResponse]:
        """Frames of the event stream (events, heartbeats, markers), resuming by itself after a cut.

        A fresh stream starts with a snapshot between SNAPSHOT_BEGIN and SNAPSHOT_END markers. After an
        UNAVAILABLE or RESOURCE_EXHAUSTED cut it reconnects with the last frame's `resume_token` (with
        backoff), so every event arrives exactly once. Raises `ResumeTokenExpired` when the token is past
        the server's retention, and any other error as it comes.
        """
        request = event_service_pb2.StreamEventsRequest(
            account_id=self._account(account_id),
            event_types=[builders.event_type(t) for t in event_types],
            resume_token=resume_token,
            symbols=list(symbols),
            skip_snapshot=skip_snapshot,
        )
        return resuming_event_stream(self.events.StreamEvents, request, backoff or self.backoff)

    # ---- AdminService ---------------------------------------------------------------------------

    async def get_trading_state(
        self, *, global_scope: bool = False, account_id: str | None = None
    ) -> risk_types_pb2.AccountTradingState:
        """The account's trading state (ACTIVE / REDUCING / HALTED), or the global one."""
        request = admin_service_pb2.GetTradingStateRequest(
            account_id=self._account(account_id), global_scope=global_scope
        )
        return (await self._call(self.admin.GetTradingState, request)).trading_state

    async def set_trading_state(
        self,
        state: builders.EnumInput,
        reason: str,
        *,
        global_scope: bool = False,
        cancel_open_orders: bool = False,
        request_id: str | None = None,
        account_id: str | None = None,
    ) -> admin_service_pb2.SetTradingStateResponse:
        """Set the trading state (admin role); optionally cancel every open order in scope."""
        request = admin_service_pb2.SetTradingStateRequest(
            account_id=self._account(account_id),
            global_scope=global_scope,
            state=builders.trading_state(state),
            reason=reason,
            cancel_open_orders=cancel_open_orders,
            request_id=request_id or uuid.uuid4().hex,
        )
        return await self._call(self.admin.SetTradingState, request)

    async def halt(self, reason: str, **kwargs: Any) -> admin_service_pb2.SetTradingStateResponse:
        """The kill switch: set HALTED (see `set_trading_state` for the options)."""
        return await self.set_trading_state("halted", reason, **kwargs)

    async def resume_trading(self, reason: str, **kwargs: Any) -> admin_service_pb2.SetTradingStateResponse:
        """Set ACTIVE again after a halt."""
        return await self.set_trading_state("active", reason, **kwargs)

    async def get_risk_policy(self, *, version: int = 0) -> admin_service_pb2.GetRiskPolicyResponse:
        """The live and shadow risk policies (or a past live version)."""
        return await self._call(self.admin.GetRiskPolicy, admin_service_pb2.GetRiskPolicyRequest(version=version))

    async def update_risk_policy(
        self,
        policy: risk_policy_pb2.RiskPolicy,
        change_reason: str,
        *,
        slot: builders.EnumInput = "live",
        expected_version: int = 0,
        validate_only: bool = False,
        request_id: str | None = None,
    ) -> risk_policy_pb2.RiskPolicy:
        """Validate and install a new live or shadow policy; returns it with its new version."""
        request = admin_service_pb2.UpdateRiskPolicyRequest(
            policy=policy,
            slot=builders.enum_value(risk_policy_pb2.RiskPolicySlot, slot, "RISK_POLICY_SLOT_"),
            expected_version=expected_version,
            change_reason=change_reason,
            validate_only=validate_only,
            request_id=request_id or uuid.uuid4().hex,
        )
        return (await self._call(self.admin.UpdateRiskPolicy, request)).policy

    async def get_system_status(self) -> admin_service_pb2.GetSystemStatusResponse:
        """IB connection, each service's health, ledger lag, reconciliation reports, global state."""
        return await self._call(self.admin.GetSystemStatus, admin_service_pb2.GetSystemStatusRequest())
