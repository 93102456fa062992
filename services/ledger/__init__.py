"""The ledger: the suite's system of record in Postgres (orders, fills, commissions, a double-entry
journal, positions and P&L, reconciliation with the broker)."""
