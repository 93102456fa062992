"""Generated from protos/ibkr/risk by tools/gen_protos.py. Do not edit."""
