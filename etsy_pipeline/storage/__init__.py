"""Storage: SQLAlchemy models, engine and sessions, repositories, the Redis cache, embedded PostgreSQL."""
