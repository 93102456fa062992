"""Pure domain logic of the bridge: no I/O, no IB vocabulary."""
