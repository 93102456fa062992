"""Fault drills that need several real processes (simulator, bridge, ledger); marked `slow`."""
