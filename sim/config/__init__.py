"""Typed configuration: the schema, range checks, and composing ``conf/`` with overrides.

The lowest layer: it imports no other part of the package. The policy, trial and estimator groups are open here
and typed against :class:`Plugins`; ``sim.registry.compose_config`` composes a config with every registered one.
"""

from sim.config.load import CONF_DIR, Plugins, friendly_message
from sim.config.schema import Config, WorldConfig
from sim.config.validate import ConfigError

__all__ = ["CONF_DIR", "Config", "ConfigError", "Plugins", "WorldConfig", "friendly_message"]
