"""The gateway bridge: the one process that owns the IB session (through ib_async).

Layout (nautilus_trader's IB adapter style):

- `domain/`  pure logic with no I/O and no IB vocabulary: order state machine, fill/commission join,
  pacing bucket, backoff, paper-only guard, order intents and their validation.
- `ib/`      everything that speaks IB: mapping tables (status strings, error codes, order fields), sentinel
  parsing, and the ib_async session wrapper (the only vendor I/O).
- `store.py` Postgres (schema `bridge`), queries in `sql/`.
- `orders.py`, `session_manager.py`, ...  the domain services wiring the two together.
- `servicer.py` the thin gRPC servicer; `server.py` builds it; `client.py` is the channel peers use.
"""
