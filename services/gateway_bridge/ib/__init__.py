"""Everything that speaks IB: vocabulary tables, sentinel parsing and the ib_async session wrapper."""
