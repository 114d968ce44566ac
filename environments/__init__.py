"""Environment configuration: one TOML file per environment, validated by `config`."""

from environments.config import ConfigError, EnvironmentConfig, load_environments

__all__ = ["ConfigError", "EnvironmentConfig", "load_environments"]
