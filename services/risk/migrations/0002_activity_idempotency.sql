-- Accepted-order history for the rolling-window (order rate / notional) and duplicate-order rules, so they
-- survive a restart. Written behind the order path; rows older than the longest window are pruned.

CREATE TABLE activity (
    account_id      text        NOT NULL,
    client_order_id text        NOT NULL,
    accept_time     timestamptz NOT NULL,
    notional        numeric     NOT NULL,
    symbol          text        NOT NULL,
    side            smallint    NOT NULL CHECK (side IN (-1, 1)),
    quantity        numeric     NOT NULL,
    order_type      smallint    NOT NULL,
    limit_price     numeric,
    stop_price      numeric,
    PRIMARY KEY (account_id, accept_time, client_order_id)
);
CREATE INDEX activity_time ON activity (accept_time);

-- Answers of SetTradingState and UpdateRiskPolicy by request_id (AIP-155): a retry with the same id and the
-- same parameters gets the original answer; the same id with other parameters is refused.
CREATE TABLE idempotency (
    method      text        NOT NULL,
    request_id  text        NOT NULL,
    digest      text        NOT NULL,               -- sha256 of the request without its request_id
    response    bytea       NOT NULL,               -- the serialized response first given
    create_time timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (method, request_id)
);
