"""Generated from protos/ibkr/sim by tools/gen_protos.py. Do not edit."""
