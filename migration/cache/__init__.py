"""Redis cache: rebuild from PostgreSQL and cluster-mode compatibility check."""
