"""Generated from protos/ibkr/ledger/v1 by tools/gen_protos.py. Do not edit."""
