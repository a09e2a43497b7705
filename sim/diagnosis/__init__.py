"""Design diagnosis: many replications of a trial design (draw, fit, compare with the truth) summarised as
diagnosands with Monte Carlo standard errors.

- :mod:`sim.diagnosis.diagnosands`: decision rules and the diagnosands (power, bias, RMSE, coverage, ...)
  as small named functions over one table of replications, each with its Monte Carlo standard error;
- :mod:`sim.diagnosis.store`: every replication's result written atomically as it finishes, keyed by its
  design point and seed, checked on reading; worlds cached by their config and seed;
- :mod:`sim.diagnosis.plan`: a design point: what its replications depend on, and the keys of its records;
- :mod:`sim.diagnosis.replicate`: one replication (draw, fit, compare) in a process that keeps its trial,
  compiled model and worlds;
- :mod:`sim.diagnosis.runner`: the replications in parallel (processes or Ray, :mod:`sim.diagnosis.ray_backend`),
  with a progress bar, and the design's worlds simulated once into the store;
- :mod:`sim.diagnosis.power`: where a power curve crosses a target (the minimum detectable effect, the size for
  a target power) and bisection on the size;
- :mod:`sim.diagnosis.sweep`: a sweep's design points side by side.

``python -m sim experiment=diagnose`` (:mod:`sim.experiments.diagnose`) puts them together; docs/diagnose.md
explains every diagnosand.
"""
