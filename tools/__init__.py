"""Developer tooling: code generation, infrastructure resolution and the `make run` supervisor."""
