"""Typed configuration: schema, validation, and composing ``conf/`` with overrides."""

from sim.config.load import CONF_DIR, compose_config, friendly_message, to_config, validate_config
from sim.config.schema import Config, WorldConfig, register_configs
from sim.config.validate import ConfigError

__all__ = [
    "CONF_DIR",
    "Config",
    "ConfigError",
    "WorldConfig",
    "compose_config",
    "friendly_message",
    "register_configs",
    "to_config",
    "validate_config",
]
