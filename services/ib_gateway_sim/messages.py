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

from datetime import UTC, datetime
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


_time_cache: dict[int, str] = {}


def ib_time(t: datetime) -> str:
    """Execution / completion time as ib_async parses it: "YYYYMMDD HH:MM:SS UTC" (cached per second)."""
    key = int(t.timestamp())
    text = _time_cache.get(key)
    if text is None:
        if len(_time_cache) > 64:
            _time_cache.clear()
        text = _time_cache[key] = t.astimezone(UTC).strftime("%Y%m%d %H:%M:%S UTC")
    return text


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


# constant runs of openOrder fields for a plain order
_OO_BLOCK_A = ("0", "", "-1", "0", "", "", "", "", "")
_OO_BLOCK_B = ("", "", "", "0", "0", "0", "", "", "", "", "0", "", "")
_OO_EMPTY_STATE = ("",) * 14


def open_order(sv: int, order: SimOrder, inst: Instrument, *, what_if: dict[str, str] | None = None) -> list[str]:
    """openOrder (5) for a plain order: 127 fields at sv >= 170 (see the protocol reference §4.1).

    Everything but the status is cached on the order until its parameters (or trailing stop) change, so
    the second openOrder of a fill costs a list copy.
    """
    if what_if is None:
        key = (sv, id(order.req), order.trail_stop, order.client_id, order.perm_id)
        cached = order.wire_cache
        if cached is None or cached[0] != key:
            full = _open_order(sv, order, inst, None)
            cached = order.wire_cache = (key, full, full.index(_STATUS_MARK))
        fields = list(cached[1])
        fields[cached[2]] = order.status
        return fields
    return _open_order(sv, order, inst, what_if)


_STATUS_MARK = "\x00status\x00"


def _open_order(sv: int, order: SimOrder, inst: Instrument, what_if: dict[str, str] | None) -> list[str]:
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
        *_OO_BLOCK_A,  # shortSaleSlot .. stockRangeUpper
        str(r.display_size), b(r.block_order), b(r.sweep_to_fill), b(r.all_or_none), opt_int(r.min_qty),
        str(r.oca_type), "0", "0", "",  # eTradeOnly, firmQuoteOnly, nbboPriceCap
        str(r.parent_id), str(r.trigger_method), "", "",  # volatility, volatilityType
        "", "",  # deltaNeutralOrderType, deltaNeutralAuxPrice
        "0", "", dec(trail_stop), dec(r.trailing_percent),  # continuousUpdate .. trailingPercent
        *_OO_BLOCK_B,  # basisPoints .. clearingIntent
        b(r.not_held),  # optOutSmartRouting, clearingAccount, clearingIntent, notHeld
        "0",  # deltaNeutralContract present
        "",  # algoStrategy
        "0", b(r.what_if), _STATUS_MARK if what_if is None else order.status,
    ]
    if what_if:
        f += [what_if[k] for k in ("initMarginBefore", "maintMarginBefore", "equityWithLoanBefore",
                                   "initMarginChange", "maintMarginChange", "equityWithLoanChange",
                                   "initMarginAfter", "maintMarginAfter", "equityWithLoanAfter",
                                   "commission", "minCommission", "maxCommission", "commissionCurrency")]
        f.append(what_if.get("warningText", ""))
    else:
        f += _OO_EMPTY_STATE  # margins, commission, min, max, currency, warningText
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
        ib_time(order.completed_at) if order.completed_at else "", order.completed_status,
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


def _int(v: str, name: str) -> int | None:
    if v == "":
        return None
    try:
        n = int(v)
    except ValueError:
        return Cursor([v], 0).i(name)
    return None if n == UNSET_INT else n


_HUGE = Decimal("1e300")


def _dec(v: str, name: str) -> Decimal | None:
    if v == "":
        return None
    try:
        x = Decimal(v)
    except InvalidOperation:
        if v in ("Infinite", "-Infinite"):
            return None
        raise ParseError(f"invalid number {v[:40]!r} for {name}") from None
    if not x.is_finite() or abs(x) >= _HUGE:
        return None
    return x


def _bool(v: str, name: str) -> bool:
    if v == "0" or v == "":
        return False
    if v == "1":
        return True
    return Cursor([v], 0).b(name)


def parse_place_order(fields: list[str], sv: int) -> OrderRequest:
    """placeOrder (3): walk every conditional section as ib_async writes it at server version `sv`.

    Features the simulator does not execute are recorded in `unsupported` instead of raising, so the
    caller can answer with a clean reject that names them. Fields the simulator ignores are skipped
    without conversion (this is the hot path of order entry).
    """
    f = fields
    n = len(f)
    if n < 35:
        raise ParseError("message too short: the order fields end before 'hidden'")
    order_id = _int(f[1], "orderId")
    if order_id is None:
        raise ParseError("orderId missing")
    qty = _dec(f[17], "totalQuantity")
    r = OrderRequest(
        order_id=order_id, con_id=_int(f[2], "conId") or 0, symbol=f[3], sec_type=f[4], last_trade_date=f[5],
        strike=f[6], right=f[7], multiplier=f[8], exchange=f[9], primary_exchange=f[10], currency=f[11],
        local_symbol=f[12], trading_class=f[13], action=f[16].upper(),
        total_quantity=qty if qty is not None else Decimal(0), order_type=f[18].upper(),
        lmt_price=_dec(f[19], "lmtPrice"), aux_price=_dec(f[20], "auxPrice"), tif=f[21].upper(),
        oca_group=f[22], account=f[23], open_close=f[24], origin=_int(f[25], "origin") or 0, order_ref=f[26],
        transmit=_bool(f[27], "transmit"), parent_id=_int(f[28], "parentId") or 0,
        block_order=_bool(f[29], "blockOrder"), sweep_to_fill=_bool(f[30], "sweepToFill"),
        display_size=_int(f[31], "displaySize") or 0, trigger_method=_int(f[32], "triggerMethod") or 0,
        outside_rth=_bool(f[33], "outsideRth"), hidden=_bool(f[34], "hidden"),
    )

    def at(i: int) -> str:
        return f[i] if i < n else ""

    def count(i: int, name: str) -> int:
        v = _int(at(i), name) or 0
        if v < 0 or v > 10_000:
            raise ParseError(f"invalid count {v} for {name}")
        return v

    unsupported: list[str] = []
    p = 35
    if r.sec_type == "BAG":
        unsupported.append("combo (BAG) orders")
        p += 1 + 8 * count(p, "comboLegs")
        p += 1 + count(p, "orderComboLegs")
        p += 1 + 2 * count(p, "smartComboRoutingParams")
    # p: deprecated sharesAllocation
    r.discretionary_amt = _dec(at(p + 1), "discretionaryAmt")
    r.good_after_time = at(p + 2)
    r.good_till_date = at(p + 3)
    fa_n = 3 if sv >= 177 else 4
    if any(at(p + 4 + k) for k in range(fa_n)):
        unsupported.append("financial-advisor allocations")
    p += 4 + fa_n
    r.model_code = at(p)
    # p+1 shortSaleSlot, p+2 designatedLocation, p+3 exemptCode
    r.oca_type = _int(at(p + 4), "ocaType") or 0
    r.rule80a = at(p + 5)
    # p+6 settlingFirm
    r.all_or_none = _bool(at(p + 7), "allOrNone")
    r.min_qty = _int(at(p + 8), "minQty")
    r.percent_offset = _dec(at(p + 9), "percentOffset")
    # p+10 eTradeOnly .. p+19 overridePercentageConstraints
    volatility = _dec(at(p + 20), "volatility")
    if volatility is not None or r.order_type.startswith("VOL"):
        unsupported.append("volatility orders")
    dn_type = at(p + 22)
    p += 24
    if dn_type:
        unsupported.append("delta-neutral orders")
        p += 8
    # p continuousUpdate, p+1 referencePriceType
    r.trail_stop_price = _dec(at(p + 2), "trailStopPrice")
    r.trailing_percent = _dec(at(p + 3), "trailingPercent")
    scale_init = _int(at(p + 4), "scaleInitLevelSize")
    increment = _dec(at(p + 6), "scalePriceIncrement")
    p += 7
    if increment is not None and increment > 0:
        p += 7
    if scale_init is not None or (increment is not None and increment > 0):
        unsupported.append("scale orders")
    # p scaleTable, p+1 activeStartTime, p+2 activeStopTime
    hedge = at(p + 3)
    p += 4
    if hedge:
        p += 1
        unsupported.append("hedge orders")
    # p optOutSmartRouting, p+1 clearingAccount, p+2 clearingIntent
    r.not_held = _bool(at(p + 3), "notHeld")
    p += 4
    if _bool(at(p), "deltaNeutralContract"):
        p += 3
        unsupported.append("delta-neutral contracts")
    p += 1
    algo = at(p)
    p += 1
    if algo:
        p += 1 + 2 * count(p, "algoParams")
        unsupported.append(f"algo orders ({algo})")
    # p algoId
    r.what_if = _bool(at(p + 1), "whatIf")
    # p+2 orderMiscOptions, p+3 solicited, p+4 randomizeSize, p+5 randomizePrice
    p += 6
    if r.order_type in ("PEG BENCH", "PEGBENCH"):
        p += 5
    n_conditions = count(p, "conditions")
    p += 1
    if n_conditions:
        unsupported.append("conditional orders")
        for _ in range(n_conditions):
            kind = _int(at(p), "conditionType") or 0
            if kind not in _CONDITION_FIELDS:
                raise ParseError(f"unknown order condition type {kind}")
            p += 1 + _CONDITION_FIELDS[kind]
        p += 2  # conditionsIgnoreRth, conditionsCancelOrder
    adjusted = at(p)
    if adjusted and adjusted != "None":
        unsupported.append("adjusted (attached) orders")
    # p+1 triggerPrice
    r.lmt_price_offset = _dec(at(p + 2), "lmtPriceOffset")
    # p+3..p+5 adjusted prices, p+6 adjustableTrailingUnit, p+7 extOperator, p+8/p+9 softDollarTier
    r.cash_qty = _dec(at(p + 10), "cashQty")
    # p+11..p+14 mifid2, p+15 dontUseAutoPriceForHedge, p+16 isOmsContainer,
    # p+17 discretionaryUpToLimitPrice, p+18 usePriceMgmtAlgo
    p += 19
    if sv >= 158:
        p += 1  # duration
    if sv >= 160:
        p += 1  # postToAts
    if sv >= 162:
        r.auto_cancel_parent = _bool(at(p), "autoCancelParent")
        p += 1
    if sv >= 166:
        p += 1  # advancedErrorOverride
    if sv >= 169:
        r.manual_order_time = at(p)
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
