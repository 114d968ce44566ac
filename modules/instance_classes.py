"""What AWS offers the data tier, as plain data: the modules size from it and the environment config validates
against it. No provider bindings here, so the config loads without starting CDKTF's runtime.
"""

from __future__ import annotations

# Memory (GiB) of the Aurora PostgreSQL instance classes the stacks may run: Graviton memory-optimized and
# burstable classes (Aurora "Hardware specifications for DB instance classes",
# https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Concepts.DBInstanceClass.Summary.html).
# The alarms derive Aurora's default max_connections from it; add a class here before using it.
AURORA_INSTANCE_MEMORY_GIB: dict[str, int] = {
    **{f"db.{family}.{size}": gib for family in ("r6g", "r7g", "r8g")
       for size, gib in (("large", 16), ("xlarge", 32), ("2xlarge", 64), ("4xlarge", 128), ("8xlarge", 256),
                         ("12xlarge", 384), ("16xlarge", 512))},
    "db.t4g.medium": 4,
    "db.t4g.large": 8,
}

# ElastiCache Auto Scaling runs only on these families and sizes (checked 2026-11-25, AutoScaling.html).
CACHE_AUTOSCALING_NODE_TYPE = r"^cache\.(r7g|r6g|r6gd|r5|m7g|m6g|m5|c7gn)\.(large|xlarge|2xlarge)$"


def default_max_connections(instance_class: str) -> int:
    """Aurora PostgreSQL's default, LEAST(DBInstanceClassMemory / 9531392, 5000), from the class's memory.

    An upper bound (DBInstanceClassMemory is a little below the class's memory): alarms take a fraction of it.
    The environment config admits only the classes in AURORA_INSTANCE_MEMORY_GIB.
    """
    return min(AURORA_INSTANCE_MEMORY_GIB[instance_class] * 2**30 // 9531392, 5000)
