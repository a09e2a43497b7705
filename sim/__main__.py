"""``python -m sim [overrides]``: the Hydra app (see README and ``docs/configuration.md``)."""

from sim.cli import main

if __name__ == "__main__":
    main()
