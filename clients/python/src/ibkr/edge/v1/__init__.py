"""Generated from protos/ibkr/edge/v1 by tools/gen_protos.py. Do not edit."""
