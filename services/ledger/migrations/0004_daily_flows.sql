-- Daily P&L the way IB shows it needs, per instrument, the previous session's close and the day's traded
-- quantity and cash flow: daily = quantity × mark × multiplier − overnight quantity × close × multiplier
-- + the day's cash flow (fills and commissions).
ALTER TABLE positions ADD COLUMN close_price numeric;

CREATE TABLE daily_flows (
    account_id      text NOT NULL,
    trade_date      date NOT NULL,
    instrument_key  text NOT NULL,
    quantity        numeric NOT NULL DEFAULT 0,
    cash_flow       numeric NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, trade_date, instrument_key)
);
