-- The declared schema of the risk service: what applying every migration in order must produce (a test
-- checks it). Change it together with a new migration. Unqualified names: loaded with search_path set.

CREATE TABLE policy_versions (
    slot          text        NOT NULL CHECK (slot IN ('live', 'shadow')),
    version       bigint      NOT NULL CHECK (version > 0),
    policy        bytea       NOT NULL,             -- serialized ibkr.trading.v1.RiskPolicy
    policy_json   jsonb       NOT NULL,             -- the same, for people reading the table
    seed_digest   text,                             -- set when installed from configuration
    created_by    text        NOT NULL,
    change_reason text        NOT NULL,
    create_time   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (slot, version)
);

CREATE TABLE trading_states (
    scope       text        PRIMARY KEY,            -- '' is the global state, else an account id
    state       smallint    NOT NULL CHECK (state BETWEEN 1 AND 3),
    reason      text        NOT NULL,
    changed_by  text        NOT NULL,
    automatic   boolean     NOT NULL,
    change_time timestamptz NOT NULL DEFAULT now()
);

-- Append-only history of every change, automatic or not.
CREATE TABLE trading_state_changes (
    id                 bigserial   PRIMARY KEY,
    scope              text        NOT NULL,
    previous_state     smallint    NOT NULL,
    state              smallint    NOT NULL CHECK (state BETWEEN 1 AND 3),
    reason             text        NOT NULL,
    changed_by         text        NOT NULL,
    automatic          boolean     NOT NULL,
    cancel_open_orders boolean     NOT NULL,
    change_time        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE reservations (
    key         text        PRIMARY KEY,            -- client_order_id, or 'order:<order_id>'
    account_id  text        NOT NULL,
    symbol      text        NOT NULL,
    side        smallint    NOT NULL CHECK (side IN (-1, 1)),
    remaining   numeric     NOT NULL CHECK (remaining > 0),
    price       numeric     NOT NULL CHECK (price >= 0),
    multiplier  numeric     NOT NULL DEFAULT 1,
    order_id    text        NOT NULL DEFAULT '',
    decision_id text        NOT NULL DEFAULT '',
    create_time timestamptz NOT NULL DEFAULT now(),
    quantity    numeric     CHECK (quantity > 0),     -- the order's whole quantity; NULL: unknown
    revision    integer     NOT NULL DEFAULT 0        -- the order revision (accepted replaces) it belongs to
);
CREATE INDEX reservations_account ON reservations (account_id);

CREATE TABLE positions (
    account_id   text        NOT NULL,
    symbol       text        NOT NULL,
    quantity     numeric     NOT NULL,
    mark         numeric,
    average_cost numeric,
    multiplier   numeric     NOT NULL DEFAULT 1,
    update_time  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, symbol)
);

CREATE TABLE decisions (
    decision_id     text        PRIMARY KEY,
    account_id      text        NOT NULL,
    client_order_id text        NOT NULL,
    outcome         smallint    NOT NULL,
    denied_rule_id  text        NOT NULL,
    policy_version  bigint      NOT NULL,
    shadow          boolean     NOT NULL,
    decision        bytea       NOT NULL,           -- serialized ibkr.trading.v1.RiskDecision
    decision_time   timestamptz NOT NULL
);
CREATE INDEX decisions_account_time ON decisions (account_id, decision_time DESC);

-- The last bus entry whose effects are in the tables above; a restart resumes the tail after it.
CREATE TABLE bus_cursor (
    stream  text PRIMARY KEY,
    last_id text NOT NULL
);

-- Accepted-order history of the rolling-window and duplicate-order rules (kept across restarts).
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
