"""`ibkr.sim.v1.SimulatorControlService`: a thin servicer over `Simulator`'s Python control API.

Validate the request, call the simulator, map the result back. Errors are `DomainError`s (the shared
interceptor turns them into `google.rpc.Status`): an unknown symbol is NOT_FOUND (UNKNOWN_SYMBOL), a bad
field INVALID_ARGUMENT with a field violation.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from google.protobuf import duration_pb2, timestamp_pb2
from ibkr.sim.v1 import sim_pb2, sim_pb2_grpc
from ibkr.trading.v1 import instrument_pb2, market_data_pb2, order_pb2

from services.common.errors import FieldViolation, InvalidArgument, NotFound
from services.common.money import decimal_from_proto, decimal_to_proto, money_to_proto

from .instruments import Instrument
from .matching import Execution, SimOrder
from .simulator import REQUEST_IDS, Simulator

SERVICE_NAME = sim_pb2.DESCRIPTOR.services_by_name["SimulatorControlService"].full_name

_SIDE = {"BUY": order_pb2.ORDER_SIDE_BUY, "SELL": order_pb2.ORDER_SIDE_SELL,
         "BOT": order_pb2.ORDER_SIDE_BUY, "SLD": order_pb2.ORDER_SIDE_SELL}
_SEC_TYPE = {"STK": instrument_pb2.SECURITY_TYPE_STOCK, "CASH": instrument_pb2.SECURITY_TYPE_FOREX}
_FARMS = {sim_pb2.DATA_FARM_MARKET_DATA: "market_data", sim_pb2.DATA_FARM_HISTORICAL: "historical",
          sim_pb2.DATA_FARM_SECURITY_DEFINITION: "secdef"}
_SESSION = {sim_pb2.TRADING_SESSION_REGULAR: "rth", sim_pb2.TRADING_SESSION_EXTENDED: "extended",
            sim_pb2.TRADING_SESSION_CLOSED: "closed"}
_SESSION_BACK = {v: k for k, v in _SESSION.items()}


def _invalid(field: str, description: str) -> InvalidArgument:
    return InvalidArgument("INVALID_FIELD", f"{field}: {description}",
                           field_violations=[FieldViolation(field, description, "INVALID_FIELD")])


def _seconds(d: duration_pb2.Duration, field: str, default: float | None = None) -> float | None:
    if d.seconds == 0 and d.nanos == 0:
        return default
    value = d.seconds + d.nanos / 1e9
    if value < 0:
        raise _invalid(field, "must not be negative")
    return value


def _duration(seconds: float) -> duration_pb2.Duration:
    d = duration_pb2.Duration()
    d.FromNanoseconds(int(seconds * 1e9))
    return d


def _ts(t: datetime | None) -> timestamp_pb2.Timestamp | None:
    if t is None:
        return None
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(t.astimezone(UTC))
    return ts


def _opt_decimal(x: Decimal | None):  # type: ignore[no-untyped-def]
    return decimal_to_proto(x) if x is not None else None


class SimulatorControlServicer(sim_pb2_grpc.SimulatorControlServiceServicer):
    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    # ------------------------------------------------------------------------------ helpers

    def _instrument(self, symbol: str, field: str = "symbol") -> Instrument:
        if not symbol:
            raise _invalid(field, "a symbol is required")
        try:
            return self.sim.instrument(symbol.upper())
        except KeyError:
            raise NotFound("UNKNOWN_SYMBOL", f"{symbol!r} is not in the simulator's universe",
                           metadata={"symbol": symbol}) from None

    def _quote(self, inst: Instrument) -> market_data_pb2.Quote:
        q = self.sim.market.quote(inst.con_id)
        return market_data_pb2.Quote(
            instrument=instrument_pb2.Instrument(
                symbol=inst.symbol, security_type=_SEC_TYPE.get(inst.sec_type, 0), exchange=inst.default_exchange,
                currency=inst.currency, con_id=inst.con_id, primary_exchange=inst.primary_exchange),
            bid_price=decimal_to_proto(q.bid), bid_size=decimal_to_proto(q.bid_size),
            ask_price=decimal_to_proto(q.ask), ask_size=decimal_to_proto(q.ask_size),
            last_price=decimal_to_proto(q.last), last_size=decimal_to_proto(q.last_size),
            volume=decimal_to_proto(q.volume), close_price=decimal_to_proto(q.close),
            open_price=decimal_to_proto(q.open), high_price=decimal_to_proto(q.high),
            low_price=decimal_to_proto(q.low), quote_time=_ts(datetime.now(UTC)),
            data_type=market_data_pb2.MARKET_DATA_TYPE_REALTIME,
        )

    def _symbols(self, symbols) -> list[str]:  # type: ignore[no-untyped-def]
        return [self._instrument(s, "symbols").symbol for s in symbols]

    # ------------------------------------------------------------------------------ prices

    async def SetPrice(self, request, context):
        inst = self._instrument(request.symbol)
        last = decimal_from_proto(request.last_price, "last_price", required=True)
        if last is None or last <= 0:
            raise _invalid("last_price", "must be positive")
        parts = {}
        for name in ("bid_price", "ask_price", "bid_size", "ask_size"):
            value = decimal_from_proto(getattr(request, name), name, required=False) \
                if request.HasField(name) else None
            if value is not None and value <= 0:
                raise _invalid(name, "must be positive")
            parts[name] = value
        bid, ask = parts["bid_price"], parts["ask_price"]
        if bid is not None and ask is not None and bid > ask:
            raise _invalid("bid_price", "must not be above ask_price")
        self.sim.set_price(inst.con_id, last, bid=bid, ask=ask, bid_size=parts["bid_size"],
                           ask_size=parts["ask_size"])
        return sim_pb2.SetPriceResponse(quote=self._quote(inst))

    async def SetPricePath(self, request, context):
        inst = self._instrument(request.symbol)
        if not request.prices:
            raise _invalid("prices", "at least one price is required")
        prices = []
        for i, p in enumerate(request.prices):
            value = decimal_from_proto(p, f"prices[{i}]", required=True)
            if value is None or value <= 0:
                raise _invalid(f"prices[{i}]", "must be positive")
            prices.append(value)
        interval = _seconds(request.step_interval, "step_interval", 0.1)
        end = self.sim.play_price_path(inst.con_id, prices, interval or 0.0, loop=request.loop)
        return sim_pb2.SetPricePathResponse(end_time=_ts(end))

    async def PauseMarketData(self, request, context):
        symbols = self._symbols(request.symbols)
        return sim_pb2.PauseMarketDataResponse(paused_symbols=self.sim.pause_market_data(symbols or None))

    async def ResumeMarketData(self, request, context):
        symbols = self._symbols(request.symbols)
        return sim_pb2.ResumeMarketDataResponse(paused_symbols=self.sim.resume_market_data(symbols or None))

    async def StepMarket(self, request, context):
        if request.steps < 0:
            raise _invalid("steps", "must not be negative")
        symbols = self._symbols(request.symbols)
        self.sim.step_market(request.steps or 1, symbols or None)
        return sim_pb2.StepMarketResponse(quotes=[self._quote(self.sim.instrument(s)) for s in symbols])

    async def SetTradingSession(self, request, context):
        session = _SESSION.get(request.session)
        if session is None:
            raise _invalid("session", "a trading session is required")
        self.sim.set_session(session)
        return sim_pb2.SetTradingSessionResponse(session=request.session)

    async def EndTradingDay(self, request, context):
        before = {o.perm_id: (o.status, o.filled) for o in self.sim.orders() if o.perm_id and not o.is_done}
        self.sim.end_of_day()
        after = {o.perm_id: o for o in self.sim.orders() if o.perm_id in before}
        auction = sum(1 for p, o in after.items() if o.filled > before[p][1])
        expired = sum(1 for p, o in after.items() if o.status == "Cancelled")
        return sim_pb2.EndTradingDayResponse(auction_fill_count=auction, expired_order_count=expired)

    # ------------------------------------------------------------------------------ faults

    async def RejectNextOrder(self, request, context):
        if request.code <= 0:
            raise _invalid("code", "an IB error code such as 201 is required")
        if request.count < 0:
            raise _invalid("count", "must not be negative")
        symbol = self._instrument(request.symbol).symbol if request.symbol else ""
        pending = self.sim.reject_next_orders(request.code, request.message, request.count or 1, symbol)
        return sim_pb2.RejectNextOrderResponse(pending_rejections=pending)

    async def SetResponseDelay(self, request, context):
        delay = _seconds(request.delay, "delay", 0.0) or 0.0
        unknown = [t for t in request.request_types if t not in REQUEST_IDS]
        if unknown:
            raise _invalid("request_types", f"unknown request type(s) {', '.join(unknown)}; known: "
                                            f"{', '.join(sorted(REQUEST_IDS))}")
        self.sim.set_response_delay(delay, list(request.request_types), drop=request.drop)
        return sim_pb2.SetResponseDelayResponse(delay=_duration(delay))

    async def DropConnections(self, request, context):
        client_id = request.client_id if request.HasField("client_id") else None
        refuse = _seconds(request.refuse_duration, "refuse_duration", 0.0) or 0.0
        return sim_pb2.DropConnectionsResponse(dropped_count=self.sim.drop_connections(client_id, refuse))

    async def SendConnectivitySequence(self, request, context):
        seq = request.sequence
        if seq == sim_pb2.CONNECTIVITY_SEQUENCE_UNSPECIFIED:
            raise _invalid("sequence", "a connectivity sequence is required")
        outage = _seconds(request.outage, "outage", 1.0)
        if seq == sim_pb2.CONNECTIVITY_SEQUENCE_LOST:
            outage = None
        data_lost = seq == sim_pb2.CONNECTIVITY_SEQUENCE_LOST_RESTORED_DATA_LOST
        sent = self.sim.interrupt_connectivity(data_lost=data_lost, duration=outage,
                                               suspend=request.suspend_during_outage)
        return sim_pb2.SendConnectivitySequenceResponse(client_count=sent)

    async def SendDataFarmNotice(self, request, context):
        kind = _FARMS.get(request.farm)
        if kind is None:
            raise _invalid("farm", "a data farm is required")
        code, sent = self.sim.send_data_farm_notice(kind, request.connected, request.name)
        return sim_pb2.SendDataFarmNoticeResponse(code=code, client_count=sent)

    async def CorrectExecution(self, request, context):
        if not request.execution_id:
            raise _invalid("execution_id", "is required")
        price = decimal_from_proto(request.price, "price", required=True)
        if price is None or price <= 0:
            raise _invalid("price", "must be positive")
        corrected = self.sim.correct_execution(request.execution_id, price)
        if corrected is None:
            raise NotFound("UNKNOWN_EXECUTION", f"no execution {request.execution_id}",
                           metadata={"execution_id": request.execution_id})
        return sim_pb2.CorrectExecutionResponse(execution=self._execution(corrected))

    async def RestartGateway(self, request, context):
        downtime = _seconds(request.downtime, "downtime", 1.0) or 0.0
        ready = self.sim.restart_in_background(keep_state=request.keep_state, downtime=downtime)
        return sim_pb2.RestartGatewayResponse(ready_time=_ts(ready))

    async def Reset(self, request, context):
        seed = self.sim.reset(request.seed, drop_connections=request.drop_connections)
        return sim_pb2.ResetResponse(seed=seed)

    # ------------------------------------------------------------------------------ truth

    def _execution(self, ex: Execution) -> sim_pb2.BrokerExecution:
        inst = self.sim.universe.by_con_id(ex.con_id)
        return sim_pb2.BrokerExecution(
            execution_id=ex.exec_id, order_id=ex.order_id, perm_id=ex.perm_id, client_id=ex.client_id,
            order_ref=ex.order_ref, account_id=ex.account, symbol=inst.symbol if inst else "",
            side=_SIDE[ex.side], quantity=decimal_to_proto(ex.shares), price=decimal_to_proto(ex.price),
            commission=money_to_proto(ex.commission, ex.commission_currency), execution_time=_ts(ex.time),
            exchange=ex.exchange, superseded_execution_id=ex.supersedes,
        )

    def _order(self, o: SimOrder, executions: list[sim_pb2.BrokerExecution]) -> sim_pb2.BrokerOrder:
        inst = self.sim.universe.by_con_id(o.con_id)
        r = o.req
        return sim_pb2.BrokerOrder(
            order_id=o.order_id, perm_id=o.perm_id, client_id=o.client_id, order_ref=r.order_ref,
            account_id=o.account, symbol=inst.symbol if inst else r.symbol, side=_SIDE.get(r.action, 0),
            quantity=decimal_to_proto(r.total_quantity), order_type=r.order_type,
            limit_price=_opt_decimal(r.lmt_price), aux_price=_opt_decimal(r.aux_price),
            time_in_force=r.tif or "DAY", status=o.status if o.transmitted or o.reject_code else "PendingSubmit",
            filled_quantity=decimal_to_proto(o.filled),
            average_fill_price=_opt_decimal(o.avg_fill_price if o.filled else None),
            parent_id=r.parent_id, oca_group=r.oca_group, modification_count=o.modifications,
            create_time=_ts(o.create_time), update_time=_ts(o.update_time or o.create_time),
            reject_code=o.reject_code, executions=executions,
        )

    async def GetBrokerLog(self, request, context):
        start = request.start_time.ToDatetime(tzinfo=UTC) if request.HasField("start_time") else None
        by_perm: dict[int, list[sim_pb2.BrokerExecution]] = {}
        executions = []
        for ex in self.sim.executions():
            if request.account_id and ex.account != request.account_id:
                continue
            if request.order_ref and ex.order_ref != request.order_ref:
                continue
            pb = self._execution(ex)
            by_perm.setdefault(ex.perm_id, []).append(pb)
            executions.append(pb)
        orders = []
        for o in self.sim.orders():
            if request.order_ref and o.req.order_ref != request.order_ref:
                continue
            if request.account_id and o.account != request.account_id:
                continue
            if start is not None and o.create_time is not None and o.create_time < start:
                continue
            orders.append(self._order(o, by_perm.get(o.perm_id, []) if o.perm_id else []))
        if start is not None:
            executions = [e for e in executions if e.execution_time.ToDatetime(tzinfo=UTC) >= start]
        return sim_pb2.GetBrokerLogResponse(orders=orders, executions=executions)

    async def GetSimulatorStatus(self, request, context):
        sim = self.sim
        gw = sim.gateway
        clients = [
            sim_pb2.ConnectedClient(client_id=s.client_id, remote_address=s.peer, server_version=s.sv,
                                    connect_time=_ts(s.connect_time))
            for s in sorted(gw.ready_sessions(), key=lambda s: s.client_id or 0)
        ]
        return sim_pb2.GetSimulatorStatusResponse(
            seed=sim.seed, api_port=sim.tws_port, server_version=gw.server_version,
            account_ids=[sim.account.account_id], clients=clients, paused_symbols=sim.paused_symbols(),
            response_delay=_duration(gw.response_delay), pending_rejections=len(sim.broker.rejects),
            accepting_connections=gw.accepting, order_count=len(sim.broker.received),
            execution_count=len(sim.broker.executions), start_time=_ts(sim.state.start_time),
        )
