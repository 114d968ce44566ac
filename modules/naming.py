"""Physical names scoped by project and environment, within AWS's length limits.

Every named resource goes through `Names`, so that two environments in one
account never collide (the earlier attempt grew `-v2` suffixes). A name longer
than its limit keeps its start and ends in a short hash of the full name, so it
stays unique and stable.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

# AWS limits we meet: load balancers and target groups 32, buckets 63, most others 64+.
LOAD_BALANCER_LIMIT = 32
BUCKET_LIMIT = 63
DEFAULT_LIMIT = 64


@dataclass(frozen=True)
class Names:
    project: str
    environment: str

    @property
    def prefix(self) -> str:
        return f"{self.project}-{self.environment}"

    def __call__(self, *parts: str, limit: int = DEFAULT_LIMIT) -> str:
        name = "-".join([self.prefix, *parts]).lower()
        if len(name) <= limit:
            return name
        digest = hashlib.sha256(name.encode()).hexdigest()[:6]
        return f"{name[: limit - 7].rstrip('-')}-{digest}"

    def path(self, *parts: str) -> str:
        """A hierarchical name: /directfanz/prod/database (Secrets Manager, SSM)."""
        return "/" + "/".join([self.project, self.environment, *parts])
