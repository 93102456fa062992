-- The bridge's durable memory: every order intent (persisted BEFORE it is sent to IB, so idempotency by
-- client_order_id survives any crash) and every execution it has seen (so a fill is published once).
CREATE TABLE orders (
    order_id            text PRIMARY KEY,
    -- NULL for orders adopted from outside the suite; UNIQUE enforces one order per idempotency key.
    client_order_id     text UNIQUE,
    account_id          text NOT NULL,
    origin              text NOT NULL CHECK (origin IN ('SUITE', 'EXTERNAL')),
    fingerprint         text NOT NULL DEFAULT '',
    spec                bytea NOT NULL,
    status              text NOT NULL,
    resting_status      text NOT NULL,
    total_quantity      numeric NOT NULL CHECK (total_quantity > 0),
    filled_quantity     numeric NOT NULL DEFAULT 0 CHECK (filled_quantity >= 0),
    avg_fill_price      numeric,
    last_fill_price     numeric,
    broker_order_id     bigint,
    broker_client_id    integer,
    perm_id             bigint,
    parent_order_id     text REFERENCES orders (order_id),
    reject_code         text NOT NULL DEFAULT '',
    reject_reason       text NOT NULL DEFAULT '',
    broker_error_code   integer,
    risk_decision_id    text NOT NULL DEFAULT '',
    commission          numeric,
    commission_currency text,
    sequence            integer NOT NULL DEFAULT 0,
    revision            integer NOT NULL DEFAULT 0,
    create_time         timestamptz NOT NULL DEFAULT now(),
    update_time         timestamptz NOT NULL DEFAULT now(),
    submit_time         timestamptz,
    done_time           timestamptz
);

CREATE INDEX orders_perm_id ON orders (perm_id) WHERE perm_id IS NOT NULL;
CREATE INDEX orders_not_terminal ON orders (status)
    WHERE status NOT IN ('FILLED', 'CANCELLED', 'REJECTED', 'EXPIRED');

CREATE TABLE executions (
    execution_id   text PRIMARY KEY,
    order_id       text REFERENCES orders (order_id),
    -- The serialized ibkr.trading.v1.Fill as published (or to be published).
    fill           bytea NOT NULL,
    commission_known boolean NOT NULL,
    published_at   timestamptz,
    create_time    timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX executions_unpublished ON executions (create_time) WHERE published_at IS NULL;
