"""Pure cores without sockets: framing, message layouts (checked with ib_async's own decoder at every
version), the placeOrder walker, account arithmetic, matching rules and the seeded market."""

from __future__ import annotations

from decimal import Decimal

import pytest
from ib_async import LimitOrder, MarketOrder, Order, Stock
from ib_async.client import Client
from ib_async.decoder import Decoder
from ib_async.order import PriceCondition
from ib_async.wrapper import Wrapper

from services.ib_gateway_sim import messages as msg
from services.ib_gateway_sim import wire
from services.ib_gateway_sim.account import Account, CommissionSchedule
from services.ib_gateway_sim.config import DEFAULT_UNIVERSE
from services.ib_gateway_sim.instruments import Universe
from services.ib_gateway_sim.market import Market
from services.ib_gateway_sim.matching import (
    Execution,
    OrderRequest,
    SimOrder,
    init_trailing,
    match,
    update_trailing,
)

VERSIONS = [157, 163, 170, 176, 178]
UNIVERSE = Universe.load(DEFAULT_UNIVERSE)
AAPL = UNIVERSE.by_symbol("AAPL")
D = Decimal


# ------------------------------------------------------------------------------------------- framing


def test_frames_split_across_reads_and_coalesced_reads_decode_the_same() -> None:
    data = b"API\0" + b"\0\0\0\x09v157..178" + wire.encode(["71", "2", "7", ""]) + wire.encode(["49", "1"])
    whole = wire.FrameDecoder().feed(data)
    dec = wire.FrameDecoder()
    pieces = [f for i in range(len(data)) for f in dec.feed(data[i : i + 1])]
    assert whole == pieces == [wire.Hello(157, 178, ""), ["71", "2", "7", ""], ["49", "1"]]


@pytest.mark.parametrize(("text", "expected"), [
    ("v157..178", 178), ("v100..163", 163), ("v157..200 +PACEAPI", 178), ("v178", 178), ("v179..190", None),
    ("v100..150", None)])
def test_version_negotiation_takes_the_highest_common_version(text: str, expected: int | None) -> None:
    assert wire.negotiate(wire.parse_hello(text.encode()), 157, 178) == expected


def test_garbage_opening_is_a_framing_error() -> None:
    with pytest.raises(wire.FramingError):
        wire.FrameDecoder().feed(b"GET / HTTP/1.1\r\n")


# ------------------------------------------------------------------------------ layouts vs ib_async


class Capture(Wrapper):
    def __init__(self) -> None:
        super().__init__(None)  # type: ignore[arg-type]
        self.calls: list[tuple] = []

    def openOrder(self, orderId, contract, order, orderState):
        self.calls.append(("openOrder", orderId, contract, order, orderState))

    def execDetails(self, reqId, contract, execution):
        self.calls.append(("execDetails", reqId, contract, execution))

    def completedOrder(self, contract, order, orderState):
        self.calls.append(("completedOrder", contract, order, orderState))

    def contractDetails(self, reqId, contractDetails):
        self.calls.append(("contractDetails", reqId, contractDetails))


def decode(fields: list[str], sv: int) -> tuple:
    wrapper = Capture()
    decoder = Decoder(wrapper, sv)
    decoder.logger.disabled = True
    decoder.interpret(fields)
    assert wrapper.calls, f"ib_async could not decode {fields[:3]}"
    return wrapper.calls[0]


def sample_order(**changes: object) -> SimOrder:
    req = OrderRequest(order_id=42, con_id=AAPL.con_id, symbol="AAPL", sec_type="STK", exchange="SMART",
                       action="BUY", total_quantity=D(100), order_type="LMT", lmt_price=D("189.50"), tif="GTC",
                       order_ref="coid-9", oca_group="g", outside_rth=True)
    req = req.amended(**changes)
    return SimOrder(req=req, client_id=7, perm_id=123456, con_id=AAPL.con_id, account="DU1234567", status="Submitted")


@pytest.mark.parametrize("sv", VERSIONS)
def test_open_order_decodes_in_ib_async_at_every_version(sv: int) -> None:
    fields = msg.open_order(sv, sample_order(), AAPL)
    expected = 127 - (1 if sv >= 177 else 0) + 1 - (5 if sv < 170 else 0) - sum(sv < v for v in (159, 160, 162))
    assert len(fields) == expected
    _, order_id, contract, order, state = decode(fields, sv)
    assert (order_id, order.clientId, order.permId, order.orderRef) == (42, 7, 123456, "coid-9")
    assert (order.totalQuantity, order.lmtPrice, order.tif, order.outsideRth) == (100.0, 189.5, "GTC", True)
    assert contract.conId == AAPL.con_id and state.status == "Submitted" and order.ocaGroup == "g"


def test_open_order_cache_follows_status_and_modifications() -> None:
    order = sample_order()
    first = msg.open_order(178, order, AAPL)
    order.status = "Filled"
    assert msg.open_order(178, order, AAPL)[85] == "Filled" and first[85] == "Submitted"
    order.req = order.req.amended(lmt_price=D("190.00"))
    assert msg.open_order(178, order, AAPL)[16] == "190.00"


@pytest.mark.parametrize("sv", VERSIONS)
def test_what_if_open_order_carries_margins_ib_async_accepts(sv: int) -> None:
    state = {k: "1.00" for k in ("initMarginBefore", "maintMarginBefore", "equityWithLoanBefore",
                                 "initMarginChange", "maintMarginChange", "equityWithLoanChange",
                                 "initMarginAfter", "maintMarginAfter", "equityWithLoanAfter", "commission",
                                 "minCommission", "maxCommission")}
    state["commissionCurrency"] = "USD"
    _, _, _, order, st = decode(msg.open_order(sv, sample_order(what_if=True), AAPL, what_if=state), sv)
    assert order.whatIf and st.initMarginChange == "1.00" and st.commission == 1.0


@pytest.mark.parametrize("sv", VERSIONS)
def test_completed_order_and_exec_details_decode_at_every_version(sv: int) -> None:
    from datetime import UTC, datetime

    order = sample_order()
    order.status = "Filled"
    order.filled = D(100)
    order.completed_at = datetime(2025, 1, 6, 15, 30, tzinfo=UTC)
    _, _contract, o, st = decode(msg.completed_order(sv, order, AAPL), sv)
    assert (o.permId, o.filledQuantity, st.status, st.completedTime) == (123456, 100.0, "Filled", "20250106 15:30:00 UTC")
    ex = Execution(exec_id="e.1", time=order.completed_at, account="DU1234567", con_id=AAPL.con_id,
                   exchange="NASDAQ", side="BOT", shares=D(100), price=D("189.50"), perm_id=123456, client_id=7,
                   order_id=42, cum_qty=D(100), avg_price=D("189.50"), order_ref="coid-9", last_liquidity=2)
    _, req_id, _, e = decode(msg.exec_details(sv, -1, ex, AAPL), sv)
    assert (req_id, e.execId, e.shares, e.price, e.permId, e.side) == (-1, "e.1", 100.0, 189.5, 123456, "BOT")
    assert e.time == order.completed_at


@pytest.mark.parametrize("sv", VERSIONS)
def test_contract_details_decode_at_every_version(sv: int) -> None:
    _, req_id, cd = decode(msg.contract_details(sv, 9, AAPL, "SMART"), sv)
    assert (req_id, cd.contract.conId, cd.contract.primaryExchange, cd.minTick) == (9, 265598, "NASDAQ", 0.01)
    assert cd.longName == "APPLE INC"


# ----------------------------------------------------------------------------- placeOrder walker


def client_fields(sv: int, contract: Stock, order: Order) -> list[str]:
    sent: list[str] = []
    client = Client(Wrapper(None))  # type: ignore[arg-type]
    client._serverVersion = sv
    client.connState = Client.CONNECTED
    client.sendMsg = sent.append  # type: ignore[method-assign]
    client.placeOrder(order.orderId or 5, contract, order)
    return sent[0].split("\0")[:-1]


STOCK = Stock("AAPL", "SMART", "USD", conId=265598)


@pytest.mark.parametrize("sv", VERSIONS)
def test_place_order_walker_reads_what_ib_async_wrote(sv: int) -> None:
    order = LimitOrder("SELL", 25, 191.25, tif="GTD", goodTillDate="20300101 10:00:00 UTC", orderRef="x",
                       outsideRth=True, ocaGroup="o", ocaType=2, parentId=3, transmit=False, allOrNone=True)
    req = msg.parse_place_order(client_fields(sv, STOCK, order), sv)
    assert (req.action, req.total_quantity, req.order_type, req.lmt_price) == ("SELL", D(25), "LMT", D("191.25"))
    assert (req.tif, req.good_till_date, req.order_ref) == ("GTD", "20300101 10:00:00 UTC", "x")
    assert (req.outside_rth, req.oca_group, req.oca_type, req.parent_id) == (True, "o", 2, 3)
    assert (req.transmit, req.all_or_none, req.unsupported, req.what_if) == (False, True, "", False)


@pytest.mark.parametrize("sv", VERSIONS)
def test_place_order_walker_finds_trailing_and_what_if_fields(sv: int) -> None:
    trail = Order(action="SELL", totalQuantity=5, orderType="TRAIL LIMIT", trailingPercent=1.5, trailStopPrice=180.0,
                  lmtPriceOffset=0.1, whatIf=True)
    req = msg.parse_place_order(client_fields(sv, STOCK, trail), sv)
    assert (req.trailing_percent, req.trail_stop_price, req.lmt_price_offset) == (D("1.5"), D("180.0"), D("0.1"))
    assert req.what_if


@pytest.mark.parametrize("sv", VERSIONS)
def test_unsupported_sections_are_walked_and_named(sv: int) -> None:
    algo = LimitOrder("BUY", 1, 100.0, algoStrategy="Adaptive")
    cond = LimitOrder("BUY", 1, 100.0, conditions=[PriceCondition(price=100.0, conId=265598, exch="SMART")])
    assert "algo" in msg.parse_place_order(client_fields(sv, STOCK, algo), sv).unsupported
    cond_req = msg.parse_place_order(client_fields(sv, STOCK, cond), sv)
    assert cond_req.unsupported == "conditional orders" and cond_req.lmt_price == D("100.0")


def test_too_short_or_non_numeric_orders_are_parse_errors() -> None:
    with pytest.raises(msg.ParseError):
        msg.parse_place_order(["3", "1", "0"], 178)
    fields = client_fields(178, STOCK, MarketOrder("BUY", 1))
    fields[17] = "lots"
    with pytest.raises(msg.ParseError):
        msg.parse_place_order(fields, 178)


# ------------------------------------------------------------------------------------- account


def test_commission_has_a_minimum_and_a_cap_per_order() -> None:
    sched = CommissionSchedule()
    assert sched.for_order(AAPL, D(10), D(1900)) == D("1.00")
    assert sched.for_order(AAPL, D(1000), D(190000)) == D("5.00")
    penny = UNIVERSE.by_symbol("F")
    assert sched.for_order(penny, D(100000), D(10000)) == D("100.00")  # capped at 1% of value, not 500
    eur = UNIVERSE.by_symbol("EUR")
    assert sched.for_order(eur, D(1000000), D(1085000)) == D("21.70")  # 0.2 bps


def test_average_cost_includes_commission_and_realized_pnl_nets_both_sides() -> None:
    acct = Account("DU1", D(100000))
    assert acct.apply_fill(AAPL, "BUY", D(100), D(10), D(1)).realized is None
    assert acct.position(AAPL.con_id).average_cost == D("10.01")
    result = acct.apply_fill(AAPL, "SELL", D(40), D(12), D(1))
    assert result.realized == D(40) * (D(12) - D("10.01")) - 1
    assert acct.cash == D(100000) - D(1001) + D(479)


def test_a_fill_through_zero_closes_then_opens_the_other_way() -> None:
    acct = Account("DU1", D(100000))
    acct.apply_fill(AAPL, "BUY", D(100), D(10), D(0))
    result = acct.apply_fill(AAPL, "SELL", D(150), D(11), D(0))
    assert result.realized == D(100) and result.position == D(-50)
    assert acct.position(AAPL.con_id).average_cost == D(11)


def test_daily_pnl_equals_the_change_in_net_liquidation() -> None:
    acct = Account("DU1", D(100000))
    marks = {AAPL.con_id: D(190)}
    acct.start_day(marks)
    start = acct.net_liquidation(marks)
    acct.apply_fill(AAPL, "BUY", D(100), D(190), D(1))
    marks[AAPL.con_id] = D(195)
    acct.apply_fill(AAPL, "SELL", D(30), D(195), D(1))
    marks[AAPL.con_id] = D(193)
    assert acct.daily(marks) == acct.net_liquidation(marks) - start


def test_buying_power_is_available_funds_times_the_multiplier() -> None:
    acct = Account("DU1", D(100000), margin_multiplier=D(4))
    acct.apply_fill(AAPL, "BUY", D(100), D(200), D(0))
    snap = acct.margin_snapshot({AAPL.con_id: D(200)})
    assert snap["init_margin"] == D(5000) and snap["buying_power"] == D(380000)


# ------------------------------------------------------------------------------------ matching


def test_a_marketable_order_takes_at_most_the_displayed_size() -> None:
    market = Market(UNIVERSE, 1)
    market.set_quote(AAPL.con_id, bid=D("189.99"), ask=D("190.00"), ask_size=D(300))
    order = sample_order(order_type="MKT", lmt_price=None, total_quantity=D(500))
    m = match(order, market.quote(AAPL.con_id), incoming=True, tick=AAPL.min_tick)
    assert (m.quantity, m.price) == (D(300), D("190.00"))
    aon = sample_order(order_type="MKT", lmt_price=None, total_quantity=D(500), all_or_none=True)
    assert match(aon, market.quote(AAPL.con_id), incoming=True, tick=AAPL.min_tick) is None


def test_a_resting_limit_fills_at_its_limit_an_incoming_one_at_the_touch() -> None:
    market = Market(UNIVERSE, 1)
    market.set_quote(AAPL.con_id, bid=D("187.99"), ask=D("188.00"), ask_size=D(1000))
    order = sample_order()  # buy 100 limit 189.50
    q = market.quote(AAPL.con_id)
    assert match(order, q, incoming=False, tick=AAPL.min_tick).price == D("189.50")
    assert match(order, q, incoming=True, tick=AAPL.min_tick).price == D("188.00")


def test_a_sell_trailing_stop_only_ratchets_up() -> None:
    market = Market(UNIVERSE, 1)
    order = sample_order(action="SELL", order_type="TRAIL", lmt_price=None, aux_price=D(2))
    init_trailing(order, market.quote(AAPL.con_id), AAPL.min_tick)
    assert order.trail_stop == D("188.00")
    market.set_price(AAPL.con_id, D(195))
    update_trailing(order, market.quote(AAPL.con_id), AAPL.min_tick)
    market.set_price(AAPL.con_id, D(191))
    update_trailing(order, market.quote(AAPL.con_id), AAPL.min_tick)
    assert order.trail_stop == D("193.00")


# --------------------------------------------------------------------------------------- market


def test_the_same_seed_walks_the_same_prices_and_another_seed_does_not() -> None:
    def walk(seed: int) -> list[Decimal]:
        market = Market(UNIVERSE, seed)
        for _ in range(50):
            market.step()
        return [market.quote(i.con_id).last for i in UNIVERSE]

    assert walk(3) == walk(3) != walk(4)


def test_an_instruments_walk_does_not_depend_on_the_others() -> None:
    a, b = Market(UNIVERSE, 3), Market(UNIVERSE, 3)
    for _ in range(20):
        a.step([AAPL.con_id])
        b.step()
    assert a.quote(AAPL.con_id).last == b.quote(AAPL.con_id).last


def test_prices_stay_on_the_tick_grid() -> None:
    market = Market(UNIVERSE, 9)
    for _ in range(100):
        market.step()
    for inst in UNIVERSE:
        q = market.quote(inst.con_id)
        for price in (q.bid, q.ask, q.last):
            assert price % inst.min_tick == 0 and price > 0
        assert q.bid < q.ask


def test_universe_has_at_least_twenty_stocks_and_etfs() -> None:
    stocks = [i for i in UNIVERSE if i.sec_type == "STK"]
    assert len(stocks) >= 20 and any(i.stock_type == "ETF" for i in stocks)
    assert len({i.con_id for i in UNIVERSE}) == len(UNIVERSE)

