"""Operator views of the synthesized stacks, none of which needs an AWS account.

- `architecture`: the picture of tiers and paths per environment (DOT, SVG, PNG).
- `diff`: the change review between two revisions or two synth directories.
- `cost`: the monthly estimate per environment from `pricing/prices.toml`.
- `reference`: module inputs, environment settings and stack outputs (docs/reference.md).

Each is a module with a `main()`: `python -m tools.views.<name> --help`.
"""
