"""The CLI's tables and lines show Decimals and Money exactly, aligned, with short enum names."""

from __future__ import annotations

from google.protobuf.timestamp_pb2 import Timestamp
from google.type import decimal_pb2, money_pb2
from ibkr.client import builders, cli_format
from ibkr.edge.v1 import event_service_pb2
from ibkr.trading.v1 import event_pb2, execution_pb2, instrument_pb2, order_pb2, portfolio_pb2


def dec(text: str) -> decimal_pb2.Decimal:
    return decimal_pb2.Decimal(value=text)


def test_orders_table_shows_exact_decimals_and_short_names() -> None:
    spec = builders.order_spec("AAPL", "buy", "100.000000001", limit_price="187.5")
    order = order_pb2.Order(order_id="o-1", client_order_id="c-1", spec=spec, status=order_pb2.ORDER_STATUS_FILLED,
                            filled_quantity=dec("100.000000001"), average_fill_price=dec("187.4999"))
    lines = cli_format.orders_table([order]).splitlines()
    assert lines[0].split() == ["ORDER", "ID", "CLIENT", "ORDER", "ID", "SYMBOL", "SIDE", "QTY", "TYPE", "LIMIT",
                                "STOP", "STATUS", "FILLED", "AVG", "PRICE"]
    assert lines[1].split() == ["o-1", "c-1", "AAPL", "buy", "100.000000001", "limit", "187.5", "filled",
                                "100.000000001", "187.4999"]


def test_numbers_are_right_aligned_under_their_header() -> None:
    text = cli_format.table(("NAME", "QTY"), [("a", "1"), ("b", "1000.25")])
    assert text.splitlines() == ["NAME  QTY", "a           1", "b     1000.25"]


def test_fills_and_positions_show_money_with_its_currency() -> None:
    fill = execution_pb2.Fill(
        execution_id="x-1", order_id="o-1", client_order_id="c-1",
        instrument=instrument_pb2.Instrument(symbol="MSFT"), side=order_pb2.ORDER_SIDE_SELL, quantity=dec("3"),
        price=dec("410.01"), commission=money_pb2.Money(currency_code="USD", units=1, nanos=50_000_000),
        fill_time=Timestamp(seconds=1_700_000_000),
    )
    assert cli_format.fills_table([fill]).splitlines()[1].split() == [
        "2023-11-14T22:13:20Z", "x-1", "o-1", "c-1", "MSFT", "sell", "3", "410.01", "1.05", "USD"]
    position = portfolio_pb2.Position(
        account_id="DU1", instrument=instrument_pb2.Instrument(symbol="MSFT"), quantity=dec("-3"),
        average_cost=dec("410.01"), unrealized_pnl=money_pb2.Money(currency_code="USD", units=-2, nanos=-500_000_000),
    )
    assert cli_format.positions_table([position]).splitlines()[1].split() == [
        "DU1", "MSFT", "-3", "410.01", "-2.5", "USD"]


def test_watch_lines_name_events_and_markers_and_skip_heartbeats() -> None:
    fill = event_pb2.Event(account_id="DU1", fill=execution_pb2.Fill(
        execution_id="x-1", order_id="o-1", client_order_id="c-1", instrument=instrument_pb2.Instrument(symbol="AAPL"),
        side=order_pb2.ORDER_SIDE_BUY, quantity=dec("2"), price=dec("187.25")))
    frames = [
        event_service_pb2.StreamEventsResponse(
            marker=event_pb2.StreamMarker(type=event_pb2.STREAM_MARKER_TYPE_SNAPSHOT_END)),
        event_service_pb2.StreamEventsResponse(event=fill),
        event_service_pb2.StreamEventsResponse(heartbeat=event_pb2.Heartbeat()),
    ]
    assert [cli_format.frame_line(f) for f in frames] == [
        "-- snapshot end", "DU1 fill x-1 order o-1 (c-1): buy 2 AAPL @ 187.25", None]


def test_account_and_pnl_events_show_their_amounts() -> None:
    usd = money_pb2.Money(currency_code="USD", units=1000, nanos=500_000_000)
    account = event_pb2.Event(account_update=event_pb2.AccountUpdate(
        account=portfolio_pb2.AccountSummary(net_liquidation=usd, buying_power=usd)))
    pnl = event_pb2.Event(pnl_update=event_pb2.PnlUpdate(pnl=portfolio_pb2.Pnl(
        instrument=instrument_pb2.Instrument(symbol="AAPL"), daily_pnl=usd)))
    assert cli_format.event_line(account) == "account net liquidation 1000.5 USD buying power 1000.5 USD"
    assert cli_format.event_line(pnl) == "pnl AAPL daily 1000.5 USD"
