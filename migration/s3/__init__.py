"""S3 content migration: copy with SHA-256 checksums, resumable manifest, verification."""
