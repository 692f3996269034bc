"""Persistence: SQLAlchemy models, repository functions, Alembic migrations."""
