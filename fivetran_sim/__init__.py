"""A fake Fivetran REST API for tests, demos and benchmarks of tap-fivetran-meta.

Example:
    >>> from fivetran_sim import Simulator, SimConfig, FaultRule
    >>> with Simulator(SimConfig(connections=50, seed=7)) as sim:  # doctest: +SKIP
    ...     sim.add_fault(FaultRule(path=r"/v1/groups$", kind="http_error", status=503, count=1))
"""

from __future__ import annotations

from fivetran_sim.config import SimConfig
from fivetran_sim.faults import FaultRule
from fivetran_sim.model import SCENARIOS
from fivetran_sim.simulator import Simulator

__all__ = ["SCENARIOS", "FaultRule", "SimConfig", "Simulator"]
