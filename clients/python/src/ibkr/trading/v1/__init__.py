"""Generated from protos/ibkr/trading/v1 by tools/gen_protos.py. Do not edit."""
