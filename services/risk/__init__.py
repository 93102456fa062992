"""The risk service: the in-line pre-trade gate every order passes before the gateway bridge.

Layout: `core/` holds the pure model (order intents, policy, rules, evaluation, the exposure book);
`gate.py` does the atomic check-and-reserve and forwards to the bridge; `servicer.py` maps gRPC to it;
`store/` persists policy versions, trading states, reservations and positions in Postgres (schema `risk`);
`feed.py` keeps the book current from the bus; `rebuild.py` restores it at start from the ledger.
"""
