"""childwelfare-sim: a reproducible simulation-and-evaluation framework for child-welfare policy.

A synthetic Danish municipality (``sim.world``), its child-protection agency (``sim.agency``), policies,
trial designs and the exact truth of their effects, driven by Hydra configs (``python -m sim``).
"""

__version__ = "0.1.0"
