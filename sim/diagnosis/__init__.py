"""Design diagnosis: many replications of a trial design (draw, fit, compare with the truth) summarised as
diagnosands with Monte Carlo standard errors.

- :mod:`sim.diagnosis.diagnosands`: decision rules and the diagnosands (power, bias, RMSE, coverage, ...)
  as small named functions over one table of replications, each with its Monte Carlo standard error;
- :mod:`sim.diagnosis.store`: every replication's result written atomically as it finishes, keyed by its
  design point and seed, checked on reading; worlds cached by their config and seed;
- :mod:`sim.diagnosis.runner`: the replications themselves, in parallel, with a progress bar;
- :mod:`sim.diagnosis.power`: power curves, the minimum detectable effect and the size for a target power.

``python -m sim experiment=diagnose`` (:mod:`sim.experiments.diagnose`) puts them together; docs/diagnose.md
explains every diagnosand.
"""
