"""PostgreSQL migration: schema, chunked parallel COPY, verification, run state."""
