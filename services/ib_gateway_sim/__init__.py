"""IB Gateway simulator: a paper gateway speaking the TWS API wire protocol (server version 157..178).

Embed it with `Simulator(SimConfig.for_tests())`; run it alone with `python -m services.ib_gateway_sim`.
"""

from .config import SimConfig
from .simulator import Simulator

__all__ = ["SimConfig", "Simulator"]
