"""Persistence: SQLAlchemy 2.0 tables, Alembic migrations and the repository."""

from oms.persistence.database import Database
from oms.persistence.repository import Page, Repository, WriteBatch

__all__ = ["Database", "Page", "Repository", "WriteBatch"]
