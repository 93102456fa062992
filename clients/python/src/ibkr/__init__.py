"""IBKR Local API: generated protobuf/gRPC stubs (ibkr.<domain>.v1) and the client."""
