"""Market data types (live, frozen, delayed), unknown contracts and an FX pair, as ib_async sees them."""

from __future__ import annotations

from decimal import Decimal

from ib_async import IB, Contract, Forex, MarketOrder, Stock

from services.ib_gateway_sim import Simulator

from .conftest import until


async def test_delayed_market_data_arrives_on_the_delayed_tick_types(sim: Simulator, ib: IB) -> None:
    [aapl] = await ib.qualifyContractsAsync(Stock("AAPL", "SMART", "USD"))
    codes = []
    ib.errorEvent += lambda req_id, code, text, contract: codes.append(code)
    ib.reqMarketDataType(3)
    ticker = ib.reqMktData(aapl)
    await until(lambda: ticker.marketDataType == 3 and ticker.last == 190.0 and ticker.bid > 0)
    assert 10167 in codes
    sim.set_price("AAPL", Decimal("191.00"))
    await until(lambda: ticker.last == 191.0)


async def test_frozen_market_data_is_served_while_the_feed_is_paused(sim: Simulator, ib: IB) -> None:
    [msft] = await ib.qualifyContractsAsync(Stock("MSFT", "SMART", "USD"))
    sim.pause_market_data()
    ib.reqMarketDataType(2)
    ticker = ib.reqMktData(msft)
    await until(lambda: ticker.marketDataType == 2 and ticker.last == 410.0)


async def test_market_data_for_an_unknown_con_id_is_error_200(ib: IB) -> None:
    codes = []
    ib.errorEvent += lambda req_id, code, text, contract: codes.append(code)
    ib.reqMktData(Contract(conId=123, secType="STK", exchange="SMART"))
    await until(lambda: 200 in codes)


async def test_fx_pair_qualifies_quotes_and_trades_with_the_fx_commission(sim: Simulator, ib: IB) -> None:
    [eur] = await ib.qualifyContractsAsync(Forex("EURUSD"))
    assert (eur.conId, eur.secType, eur.exchange) == (12087792, "CASH", "IDEALPRO")
    [ticker] = await ib.reqTickersAsync(eur)
    assert ticker.last == 1.085
    sim.set_quote("EUR", ask_size=Decimal(10_000_000))
    trade = ib.placeOrder(eur, MarketOrder("BUY", 1_000_000))
    await until(lambda: trade.isDone() and trade.fills and trade.fills[0].commissionReport.execId)
    price = Decimal(str(trade.fills[0].execution.price))
    expected = (price * 1_000_000 * Decimal("0.2") / 10000).quantize(Decimal("0.01"))
    assert Decimal(str(trade.fills[0].commissionReport.commission)) == expected
