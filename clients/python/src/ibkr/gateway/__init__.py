"""Generated from protos/ibkr/gateway by tools/gen_protos.py. Do not edit."""
