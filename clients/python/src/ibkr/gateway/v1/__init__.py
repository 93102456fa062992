"""Generated from protos/ibkr/gateway/v1 by tools/gen_protos.py. Do not edit."""
