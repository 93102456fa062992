"""Generated from protos/ibkr/ledger by tools/gen_protos.py. Do not edit."""
