"""The public servicers, one file per service; each is thin (validate → downstream → map back)."""
