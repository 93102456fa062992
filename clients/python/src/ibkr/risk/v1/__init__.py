"""Generated from protos/ibkr/risk/v1 by tools/gen_protos.py. Do not edit."""
