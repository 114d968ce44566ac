"""Synthesize every DirectFanz stack: `state`, one per environment, `delivery`, and `migration` when an
environment's config has a `[migration]` section.

    python main.py          # or: cdktf synth

writes cdktf.out/stacks/<stack>/cdk.tf.json. An invalid environment config
stops here with one line naming the environment, the field and the reason.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")  # before jsii starts

import modules  # noqa: F401  (first: registers the provider stub that keeps imports fast)

# isort: split
from cdktf import App

from environments import ConfigError, EnvironmentConfig, load_environments
from environments.config import ENVIRONMENTS_DIR
from stacks.delivery import DeliveryStack
from stacks.environment import EnvironmentStack
from stacks.migration import MigrationStack
from stacks.state import StateStack


def build_app(configs: list[EnvironmentConfig], outdir: str = "cdktf.out") -> App:
    app = App(outdir=outdir)
    prod = next(config for config in configs if config.is_prod)
    state = StateStack(app, prod)
    for config in configs:
        EnvironmentStack(app, config, state.store)
    staging = next(config for config in configs if config.name == "staging")
    DeliveryStack(app, staging, prod, state.store)
    for config in configs:
        if config.migration:  # opt-in; the config allows one migrated environment
            MigrationStack(app, config, state.store)
    return app


def main() -> int:
    try:
        # DIRECTFANZ_ENVIRONMENTS_DIR lets an operator (or a test) synthesize another set of configs.
        configs = load_environments(directory=Path(os.environ.get("DIRECTFANZ_ENVIRONMENTS_DIR", ENVIRONMENTS_DIR)))
    except ConfigError as error:
        print(f"config error: {error}", file=sys.stderr)
        return 2
    build_app(configs, outdir=os.environ.get("CDKTF_OUTDIR", "cdktf.out")).synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
