"""Generated from protos/ibkr/edge by tools/gen_protos.py. Do not edit."""
