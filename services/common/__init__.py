"""Shared runtime every service boots with: config, logging, telemetry, metrics, errors, money, bus, server."""
