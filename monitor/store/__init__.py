"""Storage: SQLAlchemy 2 tables, Alembic migrations and the ``Store`` every stage goes through."""

from monitor.store.database import IngestResult, Store

__all__ = ["IngestResult", "Store"]
