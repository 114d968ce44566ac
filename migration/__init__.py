"""DirectFanz data migration: PostgreSQL, S3 content and Redis cache, with proof of zero loss (R11)."""
