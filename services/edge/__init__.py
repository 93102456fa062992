"""The edge: the suite's public gRPC face (authentication, authorization, routing, event fan-out)."""
