"""Errors the operator sees as one clear line (bad input, unreachable servers, drift)."""


class MigrationError(Exception):
    """A problem the operator must fix; its message is printed as a single line, nothing else."""
