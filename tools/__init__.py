"""Operator and CI tooling around the synthesized stacks."""
