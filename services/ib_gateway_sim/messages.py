"""Every message the simulator sends, as pure builders returning field lists, and the request parsers.

Layouts follow ib_async 2.1.0's decoder at the negotiated server version (157..178). The version-dependent
branches are: faProfile (< 177), pendingPriceRevision (>= 178), issuerId (>= 176), the error's
advancedOrderRejectJson (>= 166), the contractDetails layout (< 164, == 163, >= 164), and the order fields
duration (159/158), postToAts (160), autoCancelParent (162), advancedErrorOverride (166),
manualOrderTime (169) and the PEG BEST/MID block (170).

Formatting rules: ints as integer literals, bools as "0"/"1", prices and sizes as plain decimals, unset
numbers as "" (ib_async keeps its own default then). Never "nan"/"inf".
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

from .instruments import Instrument
from .matching import Execution, OrderRequest, SimOrder

UNSET_DOUBLE_TEXT = "1.7976931348623157E308"
UNSET_INT = 2147483647


def dec(value: Decimal | None) -> str:
    return "" if value is None else format(value, "f")


def b(value: bool) -> str:
    return "1" if value else "0"


def opt_int(value: int | None) -> str:
    return "" if value is None else str(value)


def ib_time(t: datetime) -> str:
    """Execution / completion time as ib_async parses it: "YYYYMMDD HH:MM:SS UTC"."""
    return t.strftime("%Y%m%d %H:%M:%S UTC")


# ----------------------------------------------------------------------------------------- handshake


def handshake_reply(version: int, now: datetime) -> list[str]:
    return [str(version), now.strftime("%Y%m%d %H:%M:%S UTC")]


def next_valid_id(order_id: int) -> list[str]:
    return ["9", "1", str(order_id)]


def managed_accounts(accounts: list[str]) -> list[str]:
    return ["15", "1", ",".join(accounts)]


def error(sv: int, req_id: int, code: int, message: str, advanced_json: str = "") -> list[str]:
    fields = ["4", "2", str(req_id), str(code), message.replace("\0", " ")]
    if sv >= 166:
        fields.append(advanced_json)
    return fields


def current_time(epoch: int) -> list[str]:
    return ["49", "1", str(epoch)]


# ---------------------------------------------------------------------------------------- orders


def _contract11(inst: Instrument, exchange: str) -> list[str]:
    """conId .. tradingClass without primaryExchange (openOrder, completedOrder, execDetails)."""
    return [str(inst.con_id), inst.symbol, inst.sec_type, "", "0", "", "", exchange or inst.default_exchange,
            inst.currency, inst.local_symbol, inst.trading_class]


def order_status(order: SimOrder, parent_id: int = 0) -> list[str]:
    return [
        "3", str(order.order_id), order.status, dec(order.filled), dec(order.remaining),
        dec(order.avg_fill_price), str(order.perm_id), str(parent_id or order.req.parent_id),
        dec(order.last_fill_price), str(order.client_id), order.why_held, "0",
    ]


def open_order(sv: int, order: SimOrder, inst: Instrument, *, what_if: dict[str, str] | None = None) -> list[str]:
    """openOrder (5) for a plain order: 127 fields at sv >= 170 (see the protocol reference §4.1)."""
    r = order.req
    trail_stop = order.trail_stop if order.trail_stop is not None else r.trail_stop_price
    f = ["5", str(r.order_id)]
    f += _contract11(inst, r.exchange)
    f += [
        r.action, dec(r.total_quantity), r.order_type, dec(r.lmt_price), dec(r.aux_price), r.tif or "DAY",
        r.oca_group, order.account, r.open_close or "O", str(r.origin), r.order_ref, str(order.client_id),
        str(order.perm_id), b(r.outside_rth), b(r.hidden), dec(r.discretionary_amt) or "0", r.good_after_time,
        "",  # sharesAllocation
        "", "", "",  # faGroup, faMethod, faPercentage
    ]
    if sv < 177:
        f.append("")  # faProfile
    f += [
        r.model_code, r.good_till_date, r.rule80a, dec(r.percent_offset), "",  # settlingFirm
        "0", "", "-1", "0",  # shortSaleSlot, designatedLocation, exemptCode, auctionStrategy
        "", "", "", "", "",  # startingPrice, stockRefPrice, delta, stockRangeLower, stockRangeUpper
        str(r.display_size), b(r.block_order), b(r.sweep_to_fill), b(r.all_or_none), opt_int(r.min_qty),
        str(r.oca_type), "0", "0", "",  # eTradeOnly, firmQuoteOnly, nbboPriceCap
        str(r.parent_id), str(r.trigger_method), "", "",  # volatility, volatilityType
        "", "",  # deltaNeutralOrderType, deltaNeutralAuxPrice
        "0", "", dec(trail_stop), dec(r.trailing_percent), "", "",  # continuousUpdate .. basisPointsType
        "",  # comboLegsDescrip
        "0", "0", "0",  # comboLegs, orderComboLegs, smartComboRoutingParams
        "", "", "",  # scaleInitLevelSize, scaleSubsLevelSize, scalePriceIncrement
        "",  # hedgeType
        "0", "", "", b(r.not_held),  # optOutSmartRouting, clearingAccount, clearingIntent, notHeld
        "0",  # deltaNeutralContract present
        "",  # algoStrategy
        "0", b(r.what_if), order.status,
    ]
    if what_if:
        f += [what_if[k] for k in ("initMarginBefore", "maintMarginBefore", "equityWithLoanBefore",
                                   "initMarginChange", "maintMarginChange", "equityWithLoanChange",
                                   "initMarginAfter", "maintMarginAfter", "equityWithLoanAfter",
                                   "commission", "minCommission", "maxCommission", "commissionCurrency")]
        f.append(what_if.get("warningText", ""))
    else:
        f += [""] * 9 + ["", "", "", "", ""]  # margins, commission, min, max, currency, warningText
    f += [
        "0", "0",  # randomizeSize, randomizePrice
        "0",  # conditions
        "", "", dec(trail_stop), dec(r.lmt_price_offset), "", "", "", "0",  # adjusted* .. adjustableTrailingUnit
        "", "", "",  # softDollarTier name, value, displayName
        dec(r.cash_qty), "0", "0", "0", "0",  # cashQty, dontUseAutoPriceForHedge, isOmsContainer, ..., usePriceMgmtAlgo
    ]
    if sv >= 159:
        f.append("")  # duration
    if sv >= 160:
        f.append("")  # postToAts
    if sv >= 162:
        f.append(b(r.auto_cancel_parent))
    if sv >= 170:
        f += ["", "", "", "", ""]
    return f


def open_order_end() -> list[str]:
    return ["53", "1"]


def completed_order(sv: int, order: SimOrder, inst: Instrument) -> list[str]:
    """completedOrder (101): 96 fields at sv >= 170 (protocol reference §4.4)."""
    r = order.req
    f = ["101"] + _contract11(inst, r.exchange)
    f += [
        r.action, dec(r.total_quantity), r.order_type, dec(r.lmt_price), dec(r.aux_price), r.tif or "DAY",
        r.oca_group, order.account, r.open_close or "O", str(r.origin), r.order_ref, str(order.perm_id),
        b(r.outside_rth), b(r.hidden), dec(r.discretionary_amt) or "0", r.good_after_time, "", "", "",
    ]
    if sv < 177:
        f.append("")
    f += [
        r.model_code, r.good_till_date, r.rule80a, dec(r.percent_offset), "", "0", "", "-1",
        "", "", "", "", "",  # startingPrice .. stockRangeUpper
        str(r.display_size), b(r.sweep_to_fill), b(r.all_or_none), opt_int(r.min_qty), str(r.oca_type),
        str(r.trigger_method), "", "", "", "",  # volatility, volatilityType, dnType, dnAux
        "0", "", dec(order.trail_stop), dec(r.trailing_percent), "",  # continuousUpdate .. comboLegsDescrip
        "0", "0", "0", "", "", "",  # combo counts, scale sizes and increment
        "", "", "", b(r.not_held), "0", "",  # hedgeType, clearing*, notHeld, dnc, algoStrategy
        "0", order.status, "0", "0",  # solicited, status, randomizeSize, randomizePrice
        "0",  # conditions
        dec(order.trail_stop), dec(r.lmt_price_offset), dec(r.cash_qty), "0", "0",
        "", dec(order.filled), "0", b(r.auto_cancel_parent), "", "0", "0", str(order.parent_perm_id),
        order.completed_time, order.completed_status,
    ]
    if sv >= 170:
        f += ["", "", "", "", ""]
    return f


def completed_orders_end() -> list[str]:
    return ["102"]


def exec_details(sv: int, req_id: int, ex: Execution, inst: Instrument) -> list[str]:
    f = ["11", str(req_id), str(ex.order_id)] + _contract11(inst, ex.order_exchange)
    f += [
        ex.exec_id, ib_time(ex.time), ex.account, ex.exchange, ex.side, dec(ex.shares), dec(ex.price),
        str(ex.perm_id), str(ex.client_id), "0", dec(ex.cum_qty), dec(ex.avg_price), ex.order_ref, "", "",
        "", str(ex.last_liquidity),
    ]
    if sv >= 178:
        f.append("0")
    return f


def exec_details_end(req_id: int) -> list[str]:
    return ["55", "1", str(req_id)]


def commission_report(ex: Execution) -> list[str]:
    realized = UNSET_DOUBLE_TEXT if ex.realized_pnl is None else dec(ex.realized_pnl)
    return ["59", "1", ex.exec_id, dec(ex.commission), ex.commission_currency, realized, UNSET_DOUBLE_TEXT, ""]


# ------------------------------------------------------------------------------------- contracts


def contract_details(sv: int, req_id: int, inst: Instrument, exchange: str) -> list[str]:
    head = ["10"]
    if sv < 164:
        head.append("8")
    f = head + [
        str(req_id), inst.symbol, inst.sec_type, "", "0", "", exchange, inst.currency, inst.local_symbol,
        inst.trading_class, inst.trading_class, str(inst.con_id), dec(inst.min_tick),
    ]
    if sv < 164:
        f.append("1")  # mdSizeMultiplier
    tz = "US/Eastern"
    f += [
        "", inst.order_types, inst.valid_exchanges, "1", "0", inst.long_name, inst.primary_exchange, "",
        inst.industry, inst.category, "", tz,
        "", "",  # tradingHours, liquidHours (the simulator trades whenever its session says so)
        "", "",  # evRule, evMultiplier
        "0",  # secIdList count
        "1", "", "", "26" if not inst.is_fx else "239", "", inst.stock_type,
    ]
    if sv == 163:
        f.append("1")
    elif sv >= 164:
        f += [dec(inst.size_increment), dec(inst.size_increment), dec(inst.size_increment)]
    return f


def contract_details_end(req_id: int) -> list[str]:
    return ["52", "1", str(req_id)]


# ------------------------------------------------------------------------------------ market data

TICK_BID, TICK_ASK, TICK_LAST = 1, 2, 4
TICK_HIGH, TICK_LOW, TICK_VOLUME, TICK_CLOSE, TICK_OPEN = 6, 7, 8, 9, 14
TICK_LAST_TIMESTAMP = 45
DELAYED = {1: 66, 2: 67, 4: 68, 6: 72, 7: 73, 8: 74, 9: 75, 14: 76, 45: 88}


def tick_price(req_id: int, tick_type: int, price: Decimal, size: Decimal | None, mask: int = 0) -> list[str]:
    return ["1", "6", str(req_id), str(tick_type), dec(price), "" if size is None else dec(size), str(mask)]


def tick_size(req_id: int, tick_type: int, size: Decimal) -> list[str]:
    return ["2", "6", str(req_id), str(tick_type), dec(size)]


def tick_string(req_id: int, tick_type: int, value: str) -> list[str]:
    return ["46", "6", str(req_id), str(tick_type), value]


def market_data_type(req_id: int, data_type: int) -> list[str]:
    return ["58", "1", str(req_id), str(data_type)]


def tick_req_params(req_id: int, min_tick: Decimal, bbo_exchange: str = "9c0001", permissions: int = 3) -> list[str]:
    return ["81", str(req_id), dec(min_tick), bbo_exchange, str(permissions)]


def tick_snapshot_end(req_id: int) -> list[str]:
    return ["57", "1", str(req_id)]


# --------------------------------------------------------------------------------------- account


def position(account: str, inst: Instrument, qty: Decimal, avg_cost: Decimal) -> list[str]:
    return ["61", "3", account, str(inst.con_id), inst.symbol, inst.sec_type, "", "0", "", "",
            inst.primary_exchange, inst.currency, inst.local_symbol, inst.trading_class, dec(qty), dec(avg_cost)]


def position_end() -> list[str]:
    return ["62", "1"]


def update_account_value(key: str, value: str, currency: str, account: str) -> list[str]:
    return ["6", "2", key, value, currency, account]


def update_portfolio(inst: Instrument, qty: Decimal, price: Decimal, value: Decimal, avg: Decimal,
                     unrealized: Decimal, realized: Decimal, account: str) -> list[str]:
    return ["7", "8", str(inst.con_id), inst.symbol, inst.sec_type, "", "0", "", "", inst.primary_exchange,
            inst.currency, inst.local_symbol, inst.trading_class, dec(qty), dec(price), dec(value), dec(avg),
            dec(unrealized), dec(realized), account]


def update_account_time(now: datetime) -> list[str]:
    return ["8", "1", now.strftime("%H:%M")]


def account_download_end(account: str) -> list[str]:
    return ["54", "1", account]


def account_summary(req_id: int, account: str, tag: str, value: str, currency: str) -> list[str]:
    return ["63", "1", str(req_id), account, tag, value, currency]


def account_summary_end(req_id: int) -> list[str]:
    return ["64", "1", str(req_id)]


def account_update_multi(req_id: int, account: str, model: str, key: str, value: str, currency: str) -> list[str]:
    return ["73", "1", str(req_id), account, model, key, value, currency]


def account_update_multi_end(req_id: int) -> list[str]:
    return ["74", "1", str(req_id)]


def pnl(req_id: int, daily: Decimal, unrealized: Decimal, realized: Decimal) -> list[str]:
    return ["94", str(req_id), dec(daily), dec(unrealized), dec(realized)]


def pnl_single(req_id: int, pos: Decimal, daily: Decimal, unrealized: Decimal, realized: Decimal,
               value: Decimal) -> list[str]:
    return ["95", str(req_id), dec(pos), dec(daily), dec(unrealized), dec(realized), dec(value)]


# ------------------------------------------------------------------------------------ parsing input


class ParseError(ValueError):
    """A request field could not be read; answered with error 320 and the connection stays up."""


class Cursor:
    """Reads fields left to right; past `strict_until` missing fields read as empty."""

    def __init__(self, fields: list[str], pos: int = 1, strict_until: int = 0) -> None:
        self.fields = fields
        self.pos = pos
        self.strict_until = strict_until

    def s(self, name: str = "field") -> str:
        if self.pos >= len(self.fields):
            if self.pos < self.strict_until:
                raise ParseError(f"message too short: {name} missing")
            self.pos += 1
            return ""
        v = self.fields[self.pos]
        self.pos += 1
        return v

    def i(self, name: str = "field") -> int | None:
        v = self.s(name)
        if v == "":
            return None
        try:
            n = int(v)
        except ValueError:
            try:
                f = Decimal(v)
            except InvalidOperation:
                raise ParseError(f"invalid integer {v[:40]!r} for {name}") from None
            if f != f.to_integral_value():
                raise ParseError(f"invalid integer {v[:40]!r} for {name}") from None
            n = int(f)
        return None if n == UNSET_INT else n

    def i0(self, name: str = "field") -> int:
        v = self.i(name)
        return 0 if v is None else v

    def d(self, name: str = "field") -> Decimal | None:
        v = self.s(name)
        if v == "" or v in ("Infinite", "-Infinite"):
            return None
        try:
            x = Decimal(v)
        except InvalidOperation:
            raise ParseError(f"invalid number {v[:40]!r} for {name}") from None
        if not x.is_finite() or abs(x) >= Decimal("1e300"):
            return None
        return x

    def b(self, name: str = "field") -> bool:
        v = self.s(name)
        if v in ("", "0", "false", "False"):
            return False
        if v in ("1", "true", "True"):
            return True
        raise ParseError(f"invalid boolean {v[:40]!r} for {name}")

    def skip(self, n: int) -> None:
        self.pos += max(0, n)


# ib_async's OrderCondition field counts after the type field (PriceCondition has 6, Time 3, Margin 3,
# Execution 4, Volume 5, PercentChange 5)
_CONDITION_FIELDS = {1: 6, 3: 3, 4: 3, 5: 4, 6: 5, 7: 5}


def parse_place_order(fields: list[str], sv: int) -> OrderRequest:
    """placeOrder (3): walk every conditional section as ib_async writes it at server version `sv`.

    Features the simulator does not execute are recorded in `unsupported` instead of raising, so the
    caller can answer with a clean reject that names them.
    """
    c = Cursor(fields, 1, strict_until=35)
    order_id = c.i("orderId")
    if order_id is None:
        raise ParseError("orderId missing")
    r = OrderRequest(order_id=order_id)
    r.con_id = c.i0("conId")
    r.symbol, r.sec_type, r.last_trade_date = c.s(), c.s(), c.s()
    r.strike, r.right, r.multiplier = c.s(), c.s(), c.s()
    r.exchange, r.primary_exchange, r.currency = c.s(), c.s(), c.s()
    r.local_symbol, r.trading_class = c.s(), c.s()
    c.skip(2)  # secIdType, secId
    r.action = c.s("action").upper()
    qty = c.d("totalQuantity")
    r.total_quantity = qty if qty is not None else Decimal(0)
    r.order_type = c.s("orderType").upper()
    r.lmt_price = c.d("lmtPrice")
    r.aux_price = c.d("auxPrice")
    r.tif = c.s("tif").upper()
    r.oca_group = c.s()
    r.account = c.s()
    r.open_close = c.s()
    r.origin = c.i0("origin")
    r.order_ref = c.s()
    r.transmit = c.b("transmit")
    r.parent_id = c.i0("parentId")
    r.block_order = c.b("blockOrder")
    r.sweep_to_fill = c.b("sweepToFill")
    r.display_size = c.i0("displaySize")
    r.trigger_method = c.i0("triggerMethod")
    r.outside_rth = c.b("outsideRth")
    r.hidden = c.b("hidden")
    unsupported: list[str] = []
    if r.sec_type == "BAG":
        unsupported.append("combo (BAG) orders")
        c.skip(8 * c.i0("comboLegs"))
        c.skip(c.i0("orderComboLegs"))
        c.skip(2 * c.i0("smartComboRoutingParams"))
    c.s()  # deprecated sharesAllocation
    r.discretionary_amt = c.d("discretionaryAmt")
    r.good_after_time = c.s()
    r.good_till_date = c.s()
    fa = [c.s(), c.s(), c.s()]
    if sv < 177:
        fa.append(c.s())
    if any(fa):
        unsupported.append("financial-advisor allocations")
    r.model_code = c.s()
    c.i("shortSaleSlot")
    c.s()  # designatedLocation
    c.i("exemptCode")
    r.oca_type = c.i0("ocaType")
    r.rule80a = c.s()
    c.s()  # settlingFirm
    r.all_or_none = c.b("allOrNone")
    r.min_qty = c.i("minQty")
    r.percent_offset = c.d("percentOffset")
    c.b("eTradeOnly")
    c.b("firmQuoteOnly")
    c.d("nbboPriceCap")
    c.i("auctionStrategy")
    for name in ("startingPrice", "stockRefPrice", "delta", "stockRangeLower", "stockRangeUpper"):
        c.d(name)
    c.b("overridePercentageConstraints")
    volatility = c.d("volatility")
    c.i("volatilityType")
    if volatility is not None or r.order_type.startswith("VOL"):
        unsupported.append("volatility orders")
    dn_type = c.s()
    c.d("deltaNeutralAuxPrice")
    if dn_type:
        unsupported.append("delta-neutral orders")
        c.skip(8)
    c.b("continuousUpdate")
    c.i("referencePriceType")
    r.trail_stop_price = c.d("trailStopPrice")
    r.trailing_percent = c.d("trailingPercent")
    scale_init = c.i("scaleInitLevelSize")
    c.i("scaleSubsLevelSize")
    increment = c.d("scalePriceIncrement")
    if increment is not None and increment > 0:
        c.skip(7)
    if scale_init is not None or (increment is not None and increment > 0):
        unsupported.append("scale orders")
    c.s()  # scaleTable
    c.s()  # activeStartTime
    c.s()  # activeStopTime
    hedge = c.s()
    if hedge:
        c.s()
        unsupported.append("hedge orders")
    c.b("optOutSmartRouting")
    c.s()  # clearingAccount
    c.s()  # clearingIntent
    r.not_held = c.b("notHeld")
    if c.b("deltaNeutralContract"):
        c.skip(3)
        unsupported.append("delta-neutral contracts")
    algo = c.s()
    if algo:
        c.skip(2 * c.i0("algoParams"))
        unsupported.append(f"algo orders ({algo})")
    c.s()  # algoId
    r.what_if = c.b("whatIf")
    c.s()  # orderMiscOptions
    c.b("solicited")
    c.b("randomizeSize")
    c.b("randomizePrice")
    if r.order_type in ("PEG BENCH", "PEGBENCH"):
        c.skip(5)
    n_conditions = c.i0("conditions")
    if n_conditions:
        unsupported.append("conditional orders")
        for _ in range(min(n_conditions, 1000)):
            kind = c.i0("conditionType")
            if kind not in _CONDITION_FIELDS:
                raise ParseError(f"unknown order condition type {kind}")
            c.skip(_CONDITION_FIELDS[kind])
        c.b("conditionsIgnoreRth")
        c.b("conditionsCancelOrder")
    adjusted = c.s()
    if adjusted and adjusted != "None":
        unsupported.append("adjusted (attached) orders")
    c.d("triggerPrice")
    r.lmt_price_offset = c.d("lmtPriceOffset")
    for name in ("adjustedStopPrice", "adjustedStopLimitPrice", "adjustedTrailingAmount"):
        c.d(name)
    c.i("adjustableTrailingUnit")
    c.s()  # extOperator
    c.s()  # softDollarTier name
    c.s()  # softDollarTier value
    r.cash_qty = c.d("cashQty")
    c.skip(4)  # mifid2 fields
    c.b("dontUseAutoPriceForHedge")
    c.b("isOmsContainer")
    c.b("discretionaryUpToLimitPrice")
    c.s()  # usePriceMgmtAlgo
    if sv >= 158:
        c.i("duration")
    if sv >= 160:
        c.i("postToAts")
    if sv >= 162:
        r.auto_cancel_parent = c.b("autoCancelParent")
    if sv >= 166:
        c.s()  # advancedErrorOverride
    if sv >= 169:
        r.manual_order_time = c.s()
    r.unsupported = "; ".join(unsupported)
    return r


def order_request_from_contract_fields(fields: list[str], start: int) -> dict[str, object]:
    """The 12 contract fields ib_async writes (conId .. tradingClass) as keyword arguments for resolve()."""
    c = Cursor(fields, start, strict_until=start + 12)
    con_id = c.i0("conId")
    symbol, sec_type = c.s(), c.s()
    c.skip(4)  # lastTradeDate, strike, right, multiplier
    exchange, primary, currency, local_symbol = c.s(), c.s(), c.s(), c.s()
    c.s()  # tradingClass
    return {"con_id": con_id, "symbol": symbol, "sec_type": sec_type, "exchange": exchange,
            "primary_exchange": primary, "currency": currency, "local_symbol": local_symbol}
