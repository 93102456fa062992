"""How the `ibkr` CLI shows things: aligned tables and one-line summaries, Decimals printed exactly."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

from google.protobuf.message import Message

from ibkr.client.builders import enum_name
from ibkr.client.decimals import from_proto_decimal, from_proto_money
from ibkr.edge.v1 import admin_service_pb2, event_service_pb2, trading_service_pb2
from ibkr.trading.v1 import (
    event_pb2,
    execution_pb2,
    instrument_pb2,
    market_data_pb2,
    order_pb2,
    portfolio_pb2,
    risk_types_pb2,
    system_pb2,
)


def dec(pb: Message | None) -> str:
    """A `google.type.Decimal` as text ('' when unset)."""
    value = from_proto_decimal(pb)  # type: ignore[arg-type]
    return "" if value is None else str(value)


def money(pb: Message | None) -> str:
    """A `google.type.Money` as `amount CCY` ('' when unset)."""
    value = from_proto_money(pb)  # type: ignore[arg-type]
    return "" if value is None else f"{value.amount} {value.currency}".strip()


def ts(pb: Message) -> str:
    """A Timestamp as RFC 3339 UTC ('' when unset)."""
    if not pb.seconds and not pb.nanos:  # type: ignore[attr-defined]
        return ""
    return pb.ToJsonString()  # type: ignore[attr-defined]


def symbol(instrument: instrument_pb2.Instrument) -> str:
    """The instrument's symbol (its local symbol when it has no plain one)."""
    return instrument.symbol or instrument.local_symbol or (str(instrument.con_id) if instrument.con_id else "")


def table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """Left-aligned columns separated by two spaces; numbers are right-aligned."""
    materialized = [list(map(str, row)) for row in rows]
    widths = [len(h) for h in headers]
    for row in materialized:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]

    def numeric(cell: str) -> bool:
        try:
            Decimal(cell.split(" ")[0])
        except ArithmeticError:
            return False
        return cell != ""

    def line(cells: Sequence[str]) -> str:
        parts = [c.rjust(w) if numeric(c) else c.ljust(w) for c, w in zip(cells, widths, strict=True)]
        return "  ".join(parts).rstrip()

    return "\n".join([line(headers), *(line(row) for row in materialized)])


def status(value: int) -> str:
    """`ORDER_STATUS_FILLED` → `filled`."""
    return enum_name(order_pb2.OrderStatus, value, "ORDER_STATUS_")


def orders_table(orders: Iterable[order_pb2.Order]) -> str:
    """Orders, one per row."""
    headers = ("ORDER ID", "CLIENT ORDER ID", "SYMBOL", "SIDE", "QTY", "TYPE", "LIMIT", "STOP", "STATUS",
               "FILLED", "AVG PRICE")
    rows = (
        (
            o.order_id, o.client_order_id, symbol(o.spec.instrument),
            enum_name(order_pb2.OrderSide, o.spec.side, "ORDER_SIDE_"), dec(o.spec.quantity),
            enum_name(order_pb2.OrderType, o.spec.order_type, "ORDER_TYPE_"), dec(o.spec.limit_price),
            dec(o.spec.stop_price), status(o.status), dec(o.filled_quantity), dec(o.average_fill_price),
        )
        for o in orders
    )
    return table(headers, rows)


def fills_table(fills: Iterable[execution_pb2.Fill]) -> str:
    """Fills, one per row."""
    headers = ("TIME", "EXECUTION ID", "ORDER ID", "CLIENT ORDER ID", "SYMBOL", "SIDE", "QTY", "PRICE",
               "COMMISSION")
    rows = (
        (
            ts(f.fill_time), f.execution_id, f.order_id, f.client_order_id, symbol(f.instrument),
            enum_name(order_pb2.OrderSide, f.side, "ORDER_SIDE_"), dec(f.quantity), dec(f.price),
            money(f.commission),
        )
        for f in fills
    )
    return table(headers, rows)


def positions_table(positions: Iterable[portfolio_pb2.Position]) -> str:
    """Positions, one per row."""
    headers = ("ACCOUNT", "SYMBOL", "QTY", "AVG COST", "MKT PRICE", "MKT VALUE", "UNREALIZED P&L",
               "REALIZED P&L")
    rows = (
        (
            p.account_id, symbol(p.instrument), dec(p.quantity), dec(p.average_cost), dec(p.market_price),
            money(p.market_value), money(p.unrealized_pnl), money(p.realized_pnl),
        )
        for p in positions
    )
    return table(headers, rows)


def account_table(account: portfolio_pb2.AccountSummary) -> str:
    """The account summary as FIELD / VALUE rows (Money and Decimal fields that are set)."""
    rows: list[tuple[str, str]] = [
        ("account_id", account.account_id),
        ("account_type", enum_name(portfolio_pb2.AccountType, account.account_type, "ACCOUNT_TYPE_")),
        ("base_currency", account.base_currency),
    ]
    for field, value in account.ListFields():
        if field.message_type is not None and field.message_type.full_name == "google.type.Money":
            rows.append((field.name, money(value)))
    if account.HasField("leverage"):
        rows.append(("leverage", dec(account.leverage)))
    if account.HasField("update_time"):
        rows.append(("update_time", ts(account.update_time)))
    return table(("FIELD", "VALUE"), rows)


def quotes_table(quotes: Iterable[market_data_pb2.Quote]) -> str:
    """Quotes, one per row."""
    headers = ("SYMBOL", "BID", "BID SIZE", "ASK", "ASK SIZE", "LAST", "VOLUME", "TIME", "DATA")
    rows = (
        (
            symbol(q.instrument), dec(q.bid_price), dec(q.bid_size), dec(q.ask_price), dec(q.ask_size),
            dec(q.last_price), dec(q.volume), ts(q.quote_time),
            enum_name(market_data_pb2.MarketDataType, q.data_type, "MARKET_DATA_TYPE_"),
        )
        for q in quotes
    )
    return table(headers, rows)


def preview_text(preview: trading_service_pb2.PreviewOrderResponse) -> str:
    """The risk decision (with each rule) and the broker's what-if answer."""
    decision = preview.risk_decision
    outcome = enum_name(risk_types_pb2.RiskDecisionOutcome, decision.outcome, "RISK_DECISION_OUTCOME_")
    lines = [f"risk: {outcome}" + (f" by {decision.denied_rule_id}" if decision.denied_rule_id else "")]
    for result in decision.rule_results:
        rule_outcome = enum_name(risk_types_pb2.RuleOutcome, result.outcome, "RULE_OUTCOME_")
        lines.append(f"  {result.rule_id}: {rule_outcome} {result.message}".rstrip())
    if preview.HasField("preview"):
        p = preview.preview
        lines.append(f"commission: {money(p.commission)}")
        lines.append(f"initial margin change: {money(p.initial_margin.change)}")
        lines.append(f"maintenance margin change: {money(p.maintenance_margin.change)}")
        if p.HasField("estimated_notional"):
            lines.append(f"estimated notional: {money(p.estimated_notional)}")
        if p.warning_text:
            lines.append(f"warning: {p.warning_text}")
    return "\n".join(lines)


def trading_state_text(state: risk_types_pb2.AccountTradingState) -> str:
    """`DU1234567: halted (effective halted) — reason`."""
    def name(value: int) -> str:
        return enum_name(risk_types_pb2.TradingState, value, "TRADING_STATE_")

    who = state.account_id or "global"
    reason = f" - {state.reason}" if state.reason else ""
    return f"{who}: {name(state.state)} (effective {name(state.effective_state)}){reason}"


def system_status_text(response: admin_service_pb2.GetSystemStatusResponse) -> str:
    """The broker connection, each service's health and the ledger's lag."""
    conn = response.broker_connection
    lines = [
        "broker: " + enum_name(system_pb2.BrokerConnectionState, conn.state, "BROKER_CONNECTION_STATE_")
        + (f" {conn.host}:{conn.port}" if conn.host else ""),
        table(
            ("SERVICE", "STATUS", "ADDRESS", "MESSAGE"),
            (
                (s.service_name, enum_name(system_pb2.ServingStatus, s.status, "SERVING_STATUS_"), s.address,
                 s.message)
                for s in response.services
            ),
        ),
    ]
    if response.HasField("ledger_ingest"):
        lines.append(f"ledger lag: {response.ledger_ingest.lag_events} events")
    if response.HasField("global_trading_state"):
        lines.append("trading: " + trading_state_text(response.global_trading_state))
    return "\n".join(lines)


def order_line(order: order_pb2.Order) -> str:
    """One line about an order."""
    spec = order.spec
    price = f" @ {dec(spec.limit_price)}" if spec.HasField("limit_price") else ""
    filled = f" filled {dec(order.filled_quantity)}" if order.HasField("filled_quantity") else ""
    avg = f" avg {dec(order.average_fill_price)}" if order.HasField("average_fill_price") else ""
    return (
        f"order {order.order_id or '-'} ({order.client_order_id}) {status(order.status)}: "
        f"{enum_name(order_pb2.OrderSide, spec.side, 'ORDER_SIDE_')} {dec(spec.quantity)} "
        f"{symbol(spec.instrument)} {enum_name(order_pb2.OrderType, spec.order_type, 'ORDER_TYPE_')}"
        f"{price}{filled}{avg}"
    )


def fill_line(fill: execution_pb2.Fill) -> str:
    """One line about a fill."""
    commission = f" commission {money(fill.commission)}" if fill.HasField("commission") else ""
    return (
        f"fill {fill.execution_id} order {fill.order_id} ({fill.client_order_id}): "
        f"{enum_name(order_pb2.OrderSide, fill.side, 'ORDER_SIDE_')} {dec(fill.quantity)} "
        f"{symbol(fill.instrument)} @ {dec(fill.price)}{commission}"
    )


def event_line(event: event_pb2.Event) -> str:
    """One line about an event, by payload."""
    kind = event.WhichOneof("payload") or "event"
    if kind == "order_update":
        text = order_line(event.order_update.order)
    elif kind == "fill":
        text = fill_line(event.fill)
    elif kind == "position_update":
        p = event.position_update.position
        text = f"position {symbol(p.instrument)} {dec(p.quantity)} avg cost {dec(p.average_cost)}"
    elif kind == "quote_update":
        q = event.quote_update.quote
        text = f"quote {symbol(q.instrument)} bid {dec(q.bid_price)} ask {dec(q.ask_price)} last {dec(q.last_price)}"
    elif kind == "connection_state_change":
        text = "broker " + enum_name(
            system_pb2.BrokerConnectionState, event.connection_state_change.state, "BROKER_CONNECTION_STATE_"
        )
    elif kind == "account_update":
        a = event.account_update.account
        text = f"account net liquidation {money(a.net_liquidation)} buying power {money(a.buying_power)}"
    elif kind == "pnl_update":
        p = event.pnl_update.pnl
        amounts = (("daily", p.daily_pnl), ("unrealized", p.unrealized_pnl), ("realized", p.realized_pnl))
        shown = " ".join(f"{label} {money(value)}" for label, value in amounts if money(value))
        text = f"pnl {symbol(p.instrument) or 'account'} {shown}".rstrip()
    elif kind == "risk_decision":
        d = event.risk_decision.decision
        outcome = enum_name(risk_types_pb2.RiskDecisionOutcome, d.outcome, "RISK_DECISION_OUTCOME_")
        text = f"risk {outcome} {d.client_order_id}" + (f" by {d.denied_rule_id}" if d.denied_rule_id else "")
    elif kind == "trading_state_change":
        text = "trading " + trading_state_text(event.trading_state_change.trading_state)
    else:
        text = kind.replace("_", " ") + (f" {event.symbol}" if event.symbol else "")
    stamp = ts(event.event_time)
    return f"{stamp} {event.account_id} {text}".strip()


def frame_line(frame: event_service_pb2.StreamEventsResponse) -> str | None:
    """One line per stream frame; None for heartbeats (the live view stays quiet when idle)."""
    kind = frame.WhichOneof("frame")
    if kind == "event":
        return event_line(frame.event)
    if kind == "marker":
        marker = enum_name(event_pb2.StreamMarkerType, frame.marker.type, "STREAM_MARKER_TYPE_")
        return f"-- {marker.replace('_', ' ')}" + (f": {frame.marker.message}" if frame.marker.message else "")
    return None
