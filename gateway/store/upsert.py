"""The database's own INSERT (the one with ON CONFLICT), imported only for the dialect in use."""
from __future__ import annotations


def insert_for(dialect: str):
    """sqlalchemy.dialects.<dialect>.insert. PostgreSQL's dialect is a fifth of SQLAlchemy's import time: a
    `gateway import` or `gateway ingest` on SQLite would load it for nothing at every start."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert
