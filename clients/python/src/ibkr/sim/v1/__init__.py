"""Generated from protos/ibkr/sim/v1 by tools/gen_protos.py. Do not edit."""
