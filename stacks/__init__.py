"""Stacks: the one place per stack where modules are wired together."""
