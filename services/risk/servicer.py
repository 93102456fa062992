"""`ibkr.risk.v1.RiskService`: thin handlers — validate the request, call the gate / trading states /
policy manager, map the result back. Errors are raised as `DomainError`s; the error interceptor turns
them into rich statuses.
"""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import UTC, datetime

import grpc
from ibkr.gateway.v1 import gateway_pb2
from ibkr.risk.v1 import risk_pb2, risk_pb2_grpc
from ibkr.trading.v1 import instrument_pb2, order_pb2, risk_policy_pb2, risk_types_pb2

from services.common.errors import NotFound
from services.common.money import decimal_from_proto, decimal_to_proto
from services.risk.bridge import Bridge, WhileWaiting, place_order_request_bytes
from services.risk.core.model import Side, TradingState
from services.risk.decision_codec import decision_to_proto, submit_order_response_bytes
from services.risk.gate import Gate
from services.risk.idempotency import Idempotency
from services.risk.policy_codec import PolicyInvalid, policy_from_proto, violations_to_proto
from services.risk.policy_manager import SLOTS, PolicyManager, invalid_policy
from services.risk.trading_state import GLOBAL
from services.risk.validation import intent_from_spec, invalid, require_text

_STATES = {risk_types_pb2.TRADING_STATE_ACTIVE: TradingState.ACTIVE,
           risk_types_pb2.TRADING_STATE_REDUCING: TradingState.REDUCING,
           risk_types_pb2.TRADING_STATE_HALTED: TradingState.HALTED}


# OrderSpec fields a modification may change (instrument, side and order type cannot change).
MUTABLE_SPEC_FIELDS = ("quantity", "limit_price", "stop_price", "time_in_force", "outside_rth", "trailing_amount",
                       "trailing_percent", "trailing_limit_offset", "good_till_time", "display_quantity")


def merge_spec(current: order_pb2.OrderSpec, change: order_pb2.OrderSpec, paths: list[str]) -> order_pb2.OrderSpec:
    """The spec after a modification: `paths` (default: every mutable field) taken from `change`."""
    merged = order_pb2.OrderSpec()
    merged.CopyFrom(current)
    for path in paths or MUTABLE_SPEC_FIELDS:
        if path not in MUTABLE_SPEC_FIELDS:
            raise invalid("update_mask", f"{path} cannot be changed (mutable: {', '.join(MUTABLE_SPEC_FIELDS)})")
        field = order_pb2.OrderSpec.DESCRIPTOR.fields_by_name[path]
        if field.message_type is not None:
            if change.HasField(path):
                getattr(merged, path).CopyFrom(getattr(change, path))
            elif paths:
                merged.ClearField(path)
        elif paths or getattr(change, path):
            setattr(merged, path, getattr(change, path))
    return merged


def _page(page_size: int, default: int, cap: int) -> int:
    if page_size < 0:
        raise invalid("page_size", "must not be negative")
    return min(page_size or default, cap)


def _serialize(response: object) -> bytes:
    return response if response.__class__ is bytes else response.SerializeToString()


class _Registration:
    """Stands in for the server while the generated registration runs, to take its handler table."""

    def __init__(self) -> None:
        self.service = ""
        self.handlers: dict[str, grpc.RpcMethodHandler] = {}

    def add_generic_rpc_handlers(self, generic_handlers: object) -> None:
        """The same handlers come through `add_registered_method_handlers`."""

    def add_registered_method_handlers(self, service: str, handlers: dict[str, grpc.RpcMethodHandler]) -> None:
        self.service, self.handlers = service, dict(handlers)


def add_risk_service_to_server(servicer: RiskServicer, server: grpc.aio.Server) -> None:
    """`risk_pb2_grpc.add_RiskServiceServicer_to_server`, except that SubmitOrder may answer bytes already
    serialized (see `RiskServicer.SubmitOrder`)."""
    table = _Registration()
    risk_pb2_grpc.add_RiskServiceServicer_to_server(servicer, table)
    handlers = table.handlers
    handlers["SubmitOrder"] = handlers["SubmitOrder"]._replace(response_serializer=_serialize)
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(table.service, handlers),))
    server.add_registered_method_handlers(table.service, handlers)


class RiskServicer(risk_pb2_grpc.RiskServiceServicer):
    """The gRPC face of the gate."""

    def __init__(self, gate: Gate, bridge: Bridge, policy: PolicyManager) -> None:
        self.gate = gate
        self.bridge = bridge
        self.policy = policy
        self.idempotency = Idempotency(policy.store)

    # -- orders --------------------------------------------------------------------------------------------

    async def SubmitOrder(self, request: risk_pb2.SubmitOrderRequest, context: grpc.aio.ServicerContext) -> bytes:
        """Answers a serialized SubmitOrderResponse (registered so by `add_risk_service_to_server`): the bridge's
        answer as it came, plus the decision; the order is neither copied nor serialized again."""
        require_text(request.client_order_id, "client_order_id")
        intent = intent_from_spec(request.account_id, request.client_order_id, request.order)

        # The deadline left is read when the order is sent: the gate may first have waited for a quote. The bridge
        # call's coroutine is returned for the gate to await (one coroutine fewer on the order path).
        def forward(decision_id: str, while_waiting: WhileWaiting) -> Awaitable[tuple[gateway_pb2.PlaceOrderResponse, bytes]]:
            return self.bridge.place_encoded(place_order_request_bytes(
                intent.account_id, request.client_order_id, request.order.SerializeToString(), decision_id),
                context.time_remaining(), while_waiting)

        (reply, answer), rec = await self.gate.submit(intent, request.order, request.principal, forward,
                                                      lambda r: r[0].order)
        return answer if rec is None else submit_order_response_bytes(answer, rec, reply.order.order_id)

    async def CheckOrder(self, request: risk_pb2.CheckOrderRequest, context: grpc.aio.ServicerContext
                         ) -> risk_pb2.CheckOrderResponse:
        intent = intent_from_spec(request.account_id, "", request.order)
        rec, shadow = await self.gate.check(intent, request.order, request.principal)
        response = risk_pb2.CheckOrderResponse(decision=decision_to_proto(rec))
        if shadow is not None:
            response.shadow_decision.CopyFrom(decision_to_proto(shadow))
        return response

    async def SubmitReplace(self, request: risk_pb2.SubmitReplaceRequest, context: grpc.aio.ServicerContext
                            ) -> risk_pb2.SubmitReplaceResponse:
        """Checks the order at its new spec (its old reservation set aside, so it counts once) and forwards
        the change. Risk needs the complete new spec; `update_mask` is passed on to the bridge."""
        account = require_text(request.account_id, "account_id")
        which = request.WhichOneof("key")
        if which is None or not getattr(request, which):
            raise invalid("order_id", "order_id or client_order_id is required", "REQUIRED")
        book = self.gate.books.account(account)
        if which == "client_order_id":
            key = request.client_order_id
        else:
            key = next((k for k, o in book.open_orders.items() if o.order_id == request.order_id),
                       f"order:{request.order_id}")
        new_spec = request.order
        if request.update_mask.paths or not request.order.HasField("instrument"):
            # A partial change: risk checks the whole order as it would be, so merge onto the current spec.
            current = await self.bridge.get_order(gateway_pb2.GetOrderRequest(
                account_id=account, **{which: getattr(request, which)}), context.time_remaining())
            new_spec = merge_spec(current.order.spec, request.order, list(request.update_mask.paths))
        intent = intent_from_spec(account, key if ":" not in key else "", new_spec)

        async def forward(decision_id: str, while_waiting: WhileWaiting) -> gateway_pb2.ReplaceOrderResponse:
            return await self.bridge.replace(gateway_pb2.ReplaceOrderRequest(
                account_id=account, order=request.order, update_mask=request.update_mask,
                request_id=request.request_id, risk_decision_id=decision_id,
                **{which: getattr(request, which)}), context.time_remaining(), while_waiting)

        reply, rec = await self.gate.submit(
            intent, new_spec, request.principal, forward, lambda r: r.order,
            replaces=key if key in book.open_orders else None,
            request_type=risk_types_pb2.RISK_REQUEST_TYPE_REPLACE_ORDER)
        response = risk_pb2.SubmitReplaceResponse(order=reply.order)
        if rec is not None:
            response.decision.CopyFrom(decision_to_proto(rec))
        return response

    async def SubmitClosePosition(self, request: risk_pb2.SubmitClosePositionRequest,
                                  context: grpc.aio.ServicerContext) -> risk_pb2.SubmitClosePositionResponse:
        """Checks the closing order of a position as risk knows it (a reducing order, so it passes in
        REDUCING) and forwards it to the bridge's ClosePosition."""
        account = require_text(request.account_id, "account_id")
        require_text(request.client_order_id, "client_order_id")
        symbol = require_text(request.instrument.symbol, "instrument.symbol").upper()
        position = self.gate.books.account(account).position(symbol)
        if not position:
            raise NotFound("POSITION_NOT_FOUND", f"no position in {symbol} for {account}",
                           metadata={"symbol": symbol, "account_id": account})
        quantity = abs(position)
        if request.HasField("quantity"):
            quantity = decimal_from_proto(request.quantity, "quantity")
            if quantity <= 0 or quantity > abs(position):
                raise invalid("quantity", f"must be positive and at most the position ({abs(position)})")
        spec = order_pb2.OrderSpec(
            instrument=request.instrument, quantity=decimal_to_proto(quantity),
            side=order_pb2.ORDER_SIDE_SELL if position > 0 else order_pb2.ORDER_SIDE_BUY,
            order_type=request.order_type or order_pb2.ORDER_TYPE_MARKET,
            time_in_force=request.time_in_force or order_pb2.TIME_IN_FORCE_DAY)
        if not spec.instrument.security_type:
            spec.instrument.security_type = instrument_pb2.SECURITY_TYPE_STOCK
        if request.HasField("limit_price"):
            spec.limit_price.CopyFrom(request.limit_price)
        intent = intent_from_spec(account, request.client_order_id, spec)

        async def forward(decision_id: str, while_waiting: WhileWaiting) -> gateway_pb2.ClosePositionResponse:
            return await self.bridge.close_position(gateway_pb2.ClosePositionRequest(
                account_id=account, instrument=request.instrument, quantity=request.quantity,
                order_type=request.order_type, limit_price=request.limit_price,
                client_order_id=request.client_order_id, cancel_open_orders=request.cancel_open_orders,
                time_in_force=request.time_in_force, risk_decision_id=decision_id), context.time_remaining(),
                while_waiting)

        reply, rec = await self.gate.submit(intent, spec, request.principal, forward, lambda r: r.order)
        response = risk_pb2.SubmitClosePositionResponse(order=reply.order)
        if rec is not None:
            response.decision.CopyFrom(decision_to_proto(rec))
        return response

    async def SubmitCancel(self, request: risk_pb2.SubmitCancelRequest, context: grpc.aio.ServicerContext
                           ) -> risk_pb2.SubmitCancelResponse:
        # Cancels always pass, whatever the trading state: they only ever reduce risk.
        account = require_text(request.account_id, "account_id")
        key = request.WhichOneof("key")
        if key is None or not getattr(request, key):
            raise invalid("order_id", "order_id or client_order_id is required", "REQUIRED")
        forwarded = gateway_pb2.CancelOrderRequest(account_id=account, **{key: getattr(request, key)})
        self.gate.record_cancel(account, request.client_order_id, request.order_id, request.principal)
        reply = await self.bridge.cancel(forwarded, context.time_remaining())
        return risk_pb2.SubmitCancelResponse(order=reply.order)

    async def SubmitCancelAll(self, request: risk_pb2.SubmitCancelAllRequest, context: grpc.aio.ServicerContext
                              ) -> risk_pb2.SubmitCancelAllResponse:
        account = require_text(request.account_id, "account_id")
        reply = await self.bridge.cancel_all(gateway_pb2.CancelAllOrdersRequest(
            account_id=account, symbol=request.symbol, side=request.side, request_id=request.request_id),
            context.time_remaining())
        return risk_pb2.SubmitCancelAllResponse(orders=reply.orders, failures=reply.failures)

    # -- trading state -------------------------------------------------------------------------------------

    async def GetTradingState(self, request: risk_pb2.GetTradingStateRequest, context: grpc.aio.ServicerContext
                              ) -> risk_pb2.GetTradingStateResponse:
        scope = GLOBAL if request.global_scope else require_text(request.account_id, "account_id")
        return risk_pb2.GetTradingStateResponse(trading_state=self.gate.states.to_proto(scope))

    async def SetTradingState(self, request: risk_pb2.SetTradingStateRequest, context: grpc.aio.ServicerContext
                              ) -> risk_pb2.SetTradingStateResponse:
        return await self.idempotency.run("SetTradingState", request, risk_pb2.SetTradingStateResponse,
                                          lambda: self._set_trading_state(request, context))

    async def _set_trading_state(self, request: risk_pb2.SetTradingStateRequest,
                                 context: grpc.aio.ServicerContext) -> risk_pb2.SetTradingStateResponse:
        is_global = request.global_scope
        scope = GLOBAL if is_global else require_text(request.account_id, "account_id")
        state = _STATES.get(request.state)
        if state is None:
            raise invalid("state", "is required (UNSPECIFIED or unknown value)", "REQUIRED")
        reason = require_text(request.reason, "reason")
        await self.gate.states.set(scope, state, reason=reason, changed_by=request.principal or "unknown",
                                   cancel_open_orders=request.cancel_open_orders)
        response = risk_pb2.SetTradingStateResponse(trading_state=self.gate.states.to_proto(scope))
        if request.cancel_open_orders:
            accounts = [scope] if scope else sorted(a for a, b in self.gate.books.accounts.items() if b.open_orders)
            for account in accounts:
                reply = await self.bridge.cancel_all(gateway_pb2.CancelAllOrdersRequest(account_id=account),
                                                     context.time_remaining())
                response.cancelled_orders.extend(reply.orders)
        return response

    # -- policy --------------------------------------------------------------------------------------------

    async def GetRiskPolicy(self, request: risk_pb2.GetRiskPolicyRequest, context: grpc.aio.ServicerContext
                            ) -> risk_pb2.GetRiskPolicyResponse:
        live = await self.policy.get("live", request.version)
        if live is None:
            raise NotFound("POLICY_VERSION_NOT_FOUND", f"no live policy version {request.version}",
                           metadata={"version": request.version})
        response = risk_pb2.GetRiskPolicyResponse(policy=live)
        if not request.version:
            shadow = await self.policy.get("shadow")
            if shadow is not None and shadow.rules:
                response.shadow_policy.CopyFrom(shadow)
        return response

    async def UpdateRiskPolicy(self, request: risk_pb2.UpdateRiskPolicyRequest, context: grpc.aio.ServicerContext
                               ) -> risk_pb2.UpdateRiskPolicyResponse:
        if request.slot not in SLOTS:
            raise invalid("slot", "is required (UNSPECIFIED or unknown value)", "REQUIRED")
        reason = require_text(request.change_reason, "change_reason")
        if request.validate_only:
            try:
                policy_from_proto(request.policy)
            except PolicyInvalid as err:
                raise invalid_policy(err) from None
            return risk_pb2.UpdateRiskPolicyResponse(policy=request.policy)

        async def update() -> risk_pb2.UpdateRiskPolicyResponse:
            installed = await self.policy.update(request.policy, request.slot, expected_version=request.expected_version,
                                                 reason=reason, principal=request.principal)
            return risk_pb2.UpdateRiskPolicyResponse(policy=installed)
        return await self.idempotency.run("UpdateRiskPolicy", request, risk_pb2.UpdateRiskPolicyResponse, update)

    async def ValidateRiskPolicy(self, request: risk_pb2.ValidateRiskPolicyRequest,
                                 context: grpc.aio.ServicerContext) -> risk_pb2.ValidateRiskPolicyResponse:
        try:
            policy_from_proto(request.policy)
        except PolicyInvalid as err:
            return risk_pb2.ValidateRiskPolicyResponse(valid=False, violations=violations_to_proto(err.violations))
        return risk_pb2.ValidateRiskPolicyResponse(valid=True)

    async def ListRiskPolicyVersions(self, request: risk_pb2.ListRiskPolicyVersionsRequest,
                                     context: grpc.aio.ServicerContext) -> risk_pb2.ListRiskPolicyVersionsResponse:
        slot = SLOTS.get(request.slot or risk_policy_pb2.RISK_POLICY_SLOT_LIVE)
        if slot is None:
            raise invalid("slot", "unknown value")
        size = _page(request.page_size, 50, 500)
        before = 2**62
        if request.page_token:
            if not request.page_token.isdigit():
                raise invalid("page_token", "not a token this server issued")
            before = int(request.page_token)
        rows = await self.policy.store.list_policy_versions(slot, before, size + 1)
        response = risk_pb2.ListRiskPolicyVersionsResponse(
            policies=[risk_policy_pb2.RiskPolicy.FromString(blob) for _, blob in rows[:size]])
        if len(rows) > size:
            response.next_page_token = str(rows[size - 1][0])
        return response

    async def ListDecisions(self, request: risk_pb2.ListDecisionsRequest, context: grpc.aio.ServicerContext
                            ) -> risk_pb2.ListDecisionsResponse:
        size = _page(request.page_size, 100, 1000)
        before = (request.end_time.ToDatetime(tzinfo=UTC) if request.HasField("end_time")
                  else datetime(9999, 1, 1, tzinfo=UTC))
        if request.page_token:
            try:
                before = datetime.fromisoformat(request.page_token)
            except ValueError:
                raise invalid("page_token", "not a token this server issued") from None
        # What this server decided so far is visible to its own reads.
        await self.gate.publisher.flush()
        await self.gate.store.journal.flush()
        blobs = await self.gate.store.list_decisions(request.account_id, request.client_order_id,
                                                     request.outcome, request.denied_rule_id,
                                                     request.include_shadow, before, size + 1)
        decisions = [risk_types_pb2.RiskDecision.FromString(b) for b in blobs]
        if request.HasField("start_time"):
            start = request.start_time.ToDatetime(tzinfo=UTC)
            decisions = [d for d in decisions if d.decision_time.ToDatetime(tzinfo=UTC) >= start]
        response = risk_pb2.ListDecisionsResponse(decisions=decisions[:size])
        if len(decisions) > size:
            response.next_page_token = decisions[size - 1].decision_time.ToDatetime(tzinfo=UTC).isoformat()
        return response

    # -- state ---------------------------------------------------------------------------------------------

    async def GetRiskState(self, request: risk_pb2.GetRiskStateRequest, context: grpc.aio.ServicerContext
                           ) -> risk_pb2.GetRiskStateResponse:
        account = require_text(request.account_id, "account_id")
        book = self.gate.books.account(account)
        response = risk_pb2.GetRiskStateResponse(
            account_id=account, trading_state=self.gate.states.to_proto(account),
            reserved_buying_power=decimal_to_proto(book.reserved_notional), open_orders=book.open_order_count)
        symbols = sorted(set(book.positions) | {s for s, _ in book.open_qty})
        now = self.gate.clock()
        max_age = float(self.gate.policies.live.quote_max_age_seconds)
        marks = {}
        for symbol in symbols:
            exposure = response.exposures.add()
            exposure.instrument.symbol = symbol
            exposure.position_quantity.CopyFrom(decimal_to_proto(book.position(symbol)))
            exposure.open_buy_quantity.CopyFrom(decimal_to_proto(book.open_quantity(symbol, Side.BUY)))
            exposure.open_sell_quantity.CopyFrom(decimal_to_proto(book.open_quantity(symbol, Side.SELL)))
            exposure.open_buy_orders = book.open_orders_on(symbol, Side.BUY)
            exposure.open_sell_orders = book.open_orders_on(symbol, Side.SELL)
            reserved = sum((o.notional for o in book.open_orders.values() if o.symbol == symbol),
                           start=book.reserved_notional * 0)
            exposure.reserved_notional.CopyFrom(decimal_to_proto(reserved))
            quote = self.gate.books.market.fresh(symbol, now, max_age)
            mark = (quote.last or quote.midpoint) if quote else None
            if mark:
                marks[symbol] = mark
                exposure.mark_price.CopyFrom(decimal_to_proto(mark))
        response.gross_exposure.CopyFrom(decimal_to_proto(book.gross_exposure(marks)))
        if book.net_liquidation is not None:
            response.net_liquidation.CopyFrom(decimal_to_proto(book.net_liquidation))
        if book.daily_pnl is not None:
            response.daily_pnl.CopyFrom(decimal_to_proto(book.daily_pnl))
        return response
