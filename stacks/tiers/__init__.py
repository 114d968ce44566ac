"""The environment stack's tiers, in the order it builds them: foundation, data, edge, streaming, compute,
observability, outputs. Each is a function that adds its constructs to the stack and returns a frozen record of
what later tiers need; nothing is changed after a later tier has read it, except through named grants.
"""
