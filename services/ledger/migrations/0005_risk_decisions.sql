-- Risk decisions (RiskDecisionEvent), append-only: the audit of why each request was admitted or denied,
-- joined to an order's history by its client_order_id (a denied new order never gets an order id).
CREATE TABLE risk_decisions (
    decision_id      text PRIMARY KEY,
    account_id       text NOT NULL,
    client_order_id  text NOT NULL DEFAULT '',
    order_id         text NOT NULL DEFAULT '',
    request_type     text NOT NULL,
    outcome          text NOT NULL,
    denied_rule_id   text NOT NULL DEFAULT '',
    policy_version   bigint NOT NULL DEFAULT 0,
    shadow           boolean NOT NULL DEFAULT false,
    decision_time    timestamptz NOT NULL,
    trace_id         text NOT NULL DEFAULT '',
    decision         bytea NOT NULL,
    recorded_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX risk_decisions_client_order ON risk_decisions (account_id, client_order_id);

CREATE TRIGGER risk_decisions_append_only BEFORE UPDATE OR DELETE ON risk_decisions
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
