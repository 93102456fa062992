"""ib_async's interpolated log lines get the short form; repr() stays ib_async's full one."""

import datetime as dt

from ib_async import CommissionReport, Execution, Fill, LimitOrder, OrderStatus, Position, Stock, Trade

from services.gateway_bridge.ib import log_format


def test_format_is_short_and_repr_unchanged() -> None:
    log_format.install()
    trade = Trade(Stock("AAPL", "SMART", "USD"), LimitOrder("BUY", 1, 100, orderRef="c-1", orderId=7),
                  OrderStatus(orderId=7, status="Submitted"), [], [])
    assert f"{trade}" == ("Trade(orderId=7, permId=0, clientId=0, orderRef='c-1', symbol='AAPL', action=BUY, "
                          "totalQuantity=1, status=Submitted, filled=0.0, remaining=0.0)")
    assert repr(trade).startswith("Trade(contract=Stock(symbol='AAPL'")
    assert format(trade, ">5") == repr(trade)  # a format spec still formats the full text
    fill = Fill(trade.contract, Execution(execId="e-1", orderId=7, shares=1.0, price=100.0),
                CommissionReport(execId="e-1"), dt.datetime(2026, 1, 2, tzinfo=dt.UTC))
    assert "execId='e-1'" in f"{fill}" and "orderId=7" in f"{fill}"
    assert f"{Position('DU1', trade.contract, 3.0, 99.5)}" == "Position(account=DU1, conId=0, position=3.0, avgCost=99.5)"
