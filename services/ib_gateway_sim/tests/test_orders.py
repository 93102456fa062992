"""Order types, time in force, sessions, partial fills, modify/cancel, brackets, OCA, staging and what-if,
driven by unmodified ib_async over a real socket; outcomes are what IB itself would report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from ib_async import IB, LimitOrder, MarketOrder, Order, Stock, StopLimitOrder, StopOrder

from services.ib_gateway_sim import Simulator

from .conftest import connect, until


async def aapl_of(ib: IB) -> Stock:
    [c] = await ib.qualifyContractsAsync(Stock("AAPL", "SMART", "USD"))
    return c


async def settle(ib: IB) -> None:
    """One request/response round trip: everything the simulator sent before it has been processed."""
    await ib.reqCurrentTimeAsync()


async def test_stop_order_waits_presubmitted_then_triggers_and_sells_at_the_bid(sim: Simulator, ib: IB) -> None:
    aapl = await aapl_of(ib)
    trade = ib.placeOrder(aapl, StopOrder("SELL", 10, 185.00))
    await until(lambda: trade.orderStatus.status == "PreSubmitted")
    sim.set_price("AAPL", Decimal("185.50"))
    await settle(ib)
    assert trade.orderStatus.status == "PreSubmitted"
    sim.set_price("AAPL", Decimal("184.90"))
    await until(lambda: trade.orderStatus.status == "Filled")
    assert trade.fills[0].execution.price == float(sim.market.quote(aapl.conId).bid)


async def test_stop_limit_becomes_a_limit_when_triggered(sim: Simulator, ib: IB) -> None:
    aapl = await aapl_of(ib)
    trade = ib.placeOrder(aapl, StopLimitOrder("BUY", 10, 195.50, 195.00))
    await until(lambda: trade.orderStatus.status == "PreSubmitted")
    sim.set_price("AAPL", Decimal("197.00"))  # triggers, but the ask is above the limit
    await until(lambda: trade.orderStatus.status == "Submitted")
    assert not trade.fills
    sim.set_price("AAPL", Decimal("195.20"))
    await until(lambda: trade.orderStatus.status == "Filled")
    assert trade.fills[0].execution.price == 195.5


async def test_trailing_stop_by_amount_follows_the_high_then_triggers(sim: Simulator, ib: IB) -> None:
    aapl = await aapl_of(ib)
    trail = Order(action="SELL", totalQuantity=10, orderType="TRAIL", auxPrice=2.0)
    trade = ib.placeOrder(aapl, trail)
    await until(lambda: trade.orderStatus.status == "PreSubmitted")
    sim.set_price("AAPL", Decimal("195.00"))  # stop moves up to 193
    sim.set_price("AAPL", Decimal("193.50"))
    await settle(ib)
    assert trade.orderStatus.status == "PreSubmitted"
    sim.set_price("AAPL", Decimal("192.90"))
    await until(lambda: trade.orderStatus.status == "Filled")
    assert sim.broker.orders[trade.order.permId].trail_stop == Decimal("193.00")


async def test_trailing_stop_by_percent_for_a_buy(sim: Simulator, ib: IB) -> None:
    aapl = await aapl_of(ib)
    trade = ib.placeOrder(aapl, Order(action="BUY", totalQuantity=5, orderType="TRAIL", trailingPercent=1.0))
    await until(lambda: trade.orderStatus.status == "PreSubmitted")
    sim.set_price("AAPL", Decimal("180.00"))  # stop follows down to 181.80
    sim.set_price("AAPL", Decimal("181.70"))
    await settle(ib)
    assert not trade.fills
    sim.set_price("AAPL", Decimal("181.90"))
    await until(lambda: trade.orderStatus.status == "Filled")


async def test_order_larger_than_the_displayed_size_fills_in_parts(sim: Simulator, ib: IB) -> None:
    aapl = await aapl_of(ib)
    sim.set_quote("AAPL", ask_size=Decimal(200))
    trade = ib.placeOrder(aapl, MarketOrder("BUY", 500))
    await until(lambda: trade.orderStatus.filled == 200)
    assert trade.orderStatus.status == "Submitted" and trade.orderStatus.remaining == 300
    sim.set_quote("AAPL", ask_size=Decimal(1000))
    await until(lambda: trade.orderStatus.status == "Filled")
    await until(lambda: all(f.commissionReport.execId for f in trade.fills))
    assert [f.execution.shares for f in trade.fills] == [200, 300]
    assert [f.execution.cumQty for f in trade.fills] == [200, 500]
    # 500 x 0.005 = 2.50 for the order; the 1.00 minimum is charged on the first part
    assert [f.commissionReport.commission for f in trade.fills] == [1.0, 1.5]


async def test_ioc_takes_the_displayed_size_and_cancels_the_rest(sim: Simulator, ib: IB) -> None:
    aapl = await aapl_of(ib)
    sim.set_quote("AAPL", ask_size=Decimal(300))
    trade = ib.placeOrder(aapl, MarketOrder("BUY", 500, tif="IOC"))
    await until(lambda: trade.orderStatus.status == "Cancelled")
    assert trade.orderStatus.filled == 300


async def test_fok_without_enough_displayed_size_is_cancelled_unfilled(sim: Simulator, ib: IB) -> None:
    aapl = await aapl_of(ib)
    sim.set_quote("AAPL", ask_size=Decimal(300))
    trade = ib.placeOrder(aapl, LimitOrder("BUY", 500, 191.00, tif="FOK"))
    await until(lambda: trade.orderStatus.status == "Cancelled")
    assert not trade.fills


async def test_gtd_order_expires_at_its_time_and_a_past_date_is_rejected(sim: Simulator, ib: IB) -> None:
    aapl = await aapl_of(ib)
    soon = (datetime.now(UTC) + timedelta(seconds=1)).strftime("%Y%m%d %H:%M:%S UTC")
    trade = ib.placeOrder(aapl, LimitOrder("BUY", 1, 150.00, tif="GTD", goodTillDate=soon))
    await until(lambda: trade.orderStatus.status == "Submitted")
    await until(lambda: trade.orderStatus.status == "Cancelled")
    past = ib.placeOrder(aapl, LimitOrder("BUY", 1, 150.00, tif="GTD", goodTillDate="20200101 10:00:00 UTC"))
    await until(lambda: past.orderStatus.status == "Cancelled")
    assert past.log[-1].errorCode == 201


async def test_end_of_day_runs_the_closing_auction_and_expires_day_orders(sim: Simulator, ib: IB) -> None:
    aapl = await aapl_of(ib)
    day = ib.placeOrder(aapl, LimitOrder("BUY", 1, 150.00))
    gtc = ib.placeOrder(aapl, LimitOrder("BUY", 1, 150.00, tif="GTC"))
    moc = ib.placeOrder(aapl, Order(action="BUY", totalQuantity=3, orderType="MOC"))
    loc_out = ib.placeOrder(aapl, Order(action="BUY", totalQuantity=3, orderType="LOC", lmtPrice=150.0))
    await until(lambda: all(t.orderStatus.status == "Submitted" for t in (day, gtc, moc, loc_out)))
    sim.set_price("AAPL", Decimal("191.00"))
    assert not moc.fills
    sim.end_of_day()
    await until(lambda: moc.orderStatus.status == "Filled" and day.orderStatus.status == "Cancelled")
    assert moc.fills[0].execution.price == 191.0
    assert loc_out.orderStatus.status == "Cancelled" and not loc_out.fills
    assert gtc.orderStatus.status == "Submitted"


async def test_outside_rth_orders_work_in_extended_hours_and_others_wait(sim: Simulator, ib: IB) -> None:
    aapl = await aapl_of(ib)
    sim.set_session("extended")
    regular = ib.placeOrder(aapl, LimitOrder("BUY", 1, 195.00))
    extended = ib.placeOrder(aapl, LimitOrder("BUY", 1, 195.00, outsideRth=True))
    await until(lambda: extended.orderStatus.status == "Filled")
    # held until the regular session, with IB's warning 399 (which ib_async shows as ValidationError)
    await until(lambda: regular.orderStatus.status == "ValidationError")
    assert regular.log[-1].errorCode == 399 and not regular.fills
    sim.set_session("rth")
    await until(lambda: regular.orderStatus.status == "Filled")


async def test_modifying_a_resting_limit_reprices_it(sim: Simulator, ib: IB) -> None:
    aapl = await aapl_of(ib)
    order = LimitOrder("BUY", 10, 150.00)
    trade = ib.placeOrder(aapl, order)
    await until(lambda: trade.orderStatus.status == "Submitted")
    perm_id = trade.orderStatus.permId
    order.totalQuantity = 20
    order.lmtPrice = 189.00
    ib.placeOrder(aapl, order)
    await until(lambda: trade.orderStatus.remaining == 20)
    assert [e.message for e in trade.log][-2] == "Modify" and trade.orderStatus.status == "Submitted"
    assert sim.broker.orders[perm_id].quantity == 20 and sim.broker.orders[perm_id].modifications == 1
    order.lmtPrice = 191.00
    ib.placeOrder(aapl, order)
    await until(lambda: trade.orderStatus.status == "Filled")
    assert trade.orderStatus.permId == perm_id and trade.orderStatus.filled == 20
    assert trade.fills[0].execution.price == float(sim.market.quote(aapl.conId).ask)


async def test_cancelling_an_unknown_order_gets_10147(ib: IB) -> None:
    codes = []
    ib.errorEvent += lambda req_id, code, text, contract: codes.append((req_id, code))
    ib.client.cancelOrder(987654)
    await until(lambda: (987654, 10147) in codes)


async def test_global_cancel_cancels_the_open_orders_of_every_client(sim: Simulator, ib: IB) -> None:
    aapl = await aapl_of(ib)
    other = await connect(sim, 2)
    try:
        mine = ib.placeOrder(aapl, LimitOrder("BUY", 1, 150.00))
        theirs = other.placeOrder(aapl, LimitOrder("SELL", 1, 250.00))
        await until(lambda: mine.orderStatus.status == theirs.orderStatus.status == "Submitted")
        assert other.openTrades() == [theirs] and ib.openTrades() == [mine]  # each sees only its own
        ib.reqGlobalCancel()
        await until(lambda: mine.orderStatus.status == theirs.orderStatus.status == "Cancelled")
    finally:
        other.disconnect()


async def test_bracket_fills_the_parent_then_the_take_profit_cancels_the_stop(sim: Simulator, ib: IB) -> None:
    aapl = await aapl_of(ib)
    parent, take_profit, stop_loss = ib.bracketOrder("BUY", 10, 191.00, 200.00, 180.00)
    trades = [ib.placeOrder(aapl, o) for o in (parent, take_profit, stop_loss)]
    await until(lambda: trades[0].orderStatus.status == "Filled")
    await until(lambda: trades[1].orderStatus.status == "Submitted" and trades[2].orderStatus.status == "PreSubmitted")
    sim.set_price("AAPL", Decimal("200.50"))
    await until(lambda: trades[1].orderStatus.status == "Filled" and trades[2].orderStatus.status == "Cancelled")
    assert trades[1].fills[0].execution.price == 200.0
    await until(lambda: not ib.positions())


async def test_cancelling_a_bracket_parent_cancels_its_children(sim: Simulator, ib: IB) -> None:
    aapl = await aapl_of(ib)
    parent, take_profit, stop_loss = ib.bracketOrder("BUY", 10, 150.00, 200.00, 140.00)
    trades = [ib.placeOrder(aapl, o) for o in (parent, take_profit, stop_loss)]
    await until(lambda: trades[0].orderStatus.status == "Submitted")
    await until(lambda: all(t.orderStatus.status == "PreSubmitted" for t in trades[1:]))
    ib.cancelOrder(parent)
    await until(lambda: all(t.orderStatus.status == "Cancelled" for t in trades))


async def test_oca_group_cancels_the_others_when_one_fills(sim: Simulator, ib: IB) -> None:
    aapl = await aapl_of(ib)
    orders = ib.oneCancelsAll([LimitOrder("BUY", 5, 185.00), LimitOrder("BUY", 5, 180.00)], "grp-1", 1)
    trades = [ib.placeOrder(aapl, o) for o in orders]
    await until(lambda: all(t.orderStatus.status == "Submitted" for t in trades))
    sim.set_price("AAPL", Decimal("184.00"))
    await until(lambda: trades[0].orderStatus.status == "Filled" and trades[1].orderStatus.status == "Cancelled")


async def test_transmit_false_is_staged_silently_until_transmitted(sim: Simulator, ib: IB) -> None:
    aapl = await aapl_of(ib)
    order = LimitOrder("BUY", 3, 150.00, transmit=False)
    trade = ib.placeOrder(aapl, order)
    await settle(ib)
    assert trade.orderStatus.status == "PendingSubmit"
    assert sim.log_entries(kinds={"STAGED"})[-1].order_id == order.orderId
    order.transmit = True
    ib.placeOrder(aapl, order)
    await until(lambda: trade.orderStatus.status == "Submitted")


async def test_what_if_returns_margin_and_commission_without_placing(sim: Simulator, ib: IB) -> None:
    aapl = await aapl_of(ib)
    state = await ib.whatIfOrderAsync(aapl, MarketOrder("BUY", 100))
    ask = sim.market.quote(aapl.conId).ask
    assert Decimal(state.initMarginChange) == (ask * 100 / 4).quantize(Decimal("0.01"))
    assert state.commission == 1.0 and state.commissionCurrency == "USD"
    assert Decimal(state.equityWithLoanBefore) == Decimal("1000000.00")
    assert not sim.broker.orders and not sim.executions()


async def test_order_beyond_buying_power_is_rejected_with_201(sim: Simulator, ib: IB) -> None:
    aapl = await aapl_of(ib)
    errors = []
    ib.errorEvent += lambda req_id, code, text, contract: errors.append((code, text))
    trade = ib.placeOrder(aapl, MarketOrder("BUY", 30_000))  # 5.7M of stock on 1M equity x 4
    await until(lambda: trade.orderStatus.status == "Cancelled")
    [(_code, text)] = [e for e in errors if e[0] == 201]
    assert "EQUITY WITH LOAN VALUE" in text
    sim.set_quote("AAPL", ask_size=Decimal(50_000))
    small = ib.placeOrder(aapl, MarketOrder("BUY", 20_000))  # 3.8M fits in 4M of buying power
    await until(lambda: small.orderStatus.status == "Filled")


async def test_unsupported_order_type_is_rejected_cleanly(ib: IB) -> None:
    aapl = await aapl_of(ib)
    errors = []
    ib.errorEvent += lambda req_id, code, text, contract: errors.append(code)
    rel = ib.placeOrder(aapl, Order(action="BUY", totalQuantity=1, orderType="REL", auxPrice=0.01))
    await until(lambda: rel.orderStatus.status == "Cancelled")
    algo = ib.placeOrder(aapl, LimitOrder("BUY", 1, 150.0, algoStrategy="Adaptive"))
    await until(lambda: algo.orderStatus.status == "Cancelled")
    bogus = ib.placeOrder(aapl, Order(action="BUY", totalQuantity=1, orderType="BOGUS"))
    await until(lambda: bogus.orderStatus.status == "ValidationError")  # 321, as IB sends it
    assert errors.count(201) == 2 and 321 in errors
    assert ib.isConnected()


async def test_price_off_the_tick_grid_is_rejected_with_110(ib: IB) -> None:
    aapl = await aapl_of(ib)
    trade = ib.placeOrder(aapl, LimitOrder("BUY", 1, 150.005))
    await until(lambda: trade.orderStatus.status == "Cancelled")
    assert trade.log[-1].errorCode == 110


def _exposure_by_walking(sim: Simulator, con_id: int) -> Decimal:
    """The margin check's working-order exposure computed the slow, obvious way (one step per order)."""
    from services.ib_gateway_sim import matching as mt

    broker, total = sim.broker, Decimal(0)
    for other in broker.working.get(con_id, {}).values():
        if not other.req.parent_id:
            total += broker.account.exposure_increase(con_id, other.side, other.remaining,
                                                      mt.reference_price(other.req, sim.market.quote(con_id)))
    return total


async def test_running_exposure_sums_match_walking_every_resting_order(sim: Simulator, ib: IB) -> None:
    aapl = await aapl_of(ib)
    ask = sim.market.quote(aapl.conId).ask
    low, high = (ask * Decimal("0.9")).quantize(Decimal("0.01")), (ask * Decimal("1.1")).quantize(Decimal("0.01"))
    trades = [ib.placeOrder(aapl, LimitOrder("BUY", q, float(low))) for q in (5, 7, 11)]
    trades += [ib.placeOrder(aapl, LimitOrder("SELL", q, float(high))) for q in (3, 40)]
    await until(lambda: all(t.orderStatus.status == "Submitted" for t in trades))
    assert sim.broker._working_exposure(aapl.conId) == _exposure_by_walking(sim, aapl.conId)
    for side, qty in (("BUY", 10), ("SELL", 25)):  # a long position, then a short one: the reducing side changes
        filled = ib.placeOrder(aapl, MarketOrder(side, qty))
        await until(lambda t=filled: t.orderStatus.status == "Filled")
        assert sim.broker._working_exposure(aapl.conId) == _exposure_by_walking(sim, aapl.conId)
    trades[0].order.totalQuantity = 9  # a modification, a cancel and a fill of a resting order
    ib.placeOrder(aapl, trades[0].order)
    ib.cancelOrder(trades[1].order)
    await until(lambda: trades[1].orderStatus.status == "Cancelled")
    sim.set_price("AAPL", low)
    await until(lambda: trades[2].orderStatus.status == "Filled")
    assert sim.broker._working_exposure(aapl.conId) == _exposure_by_walking(sim, aapl.conId)
