"""Generated from protos/ibkr/trading by tools/gen_protos.py. Do not edit."""
