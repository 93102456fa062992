"""The pure core of the risk service: no I/O, no clocks, no globals; everything is passed in."""
