"""Statements built once and shared: the shared one must stay as built whatever a caller adds to it."""
from __future__ import annotations

from gateway.store.db import insert_ignoring_conflicts
from gateway.store.models import Blob, JobRun


async def test_insert_ignoring_conflicts_is_built_once_per_dialect_and_model(db):
    async with db.transaction() as session:
        shared = insert_ignoring_conflicts(session, Blob)
        assert insert_ignoring_conflicts(session, Blob) is shared
        assert insert_ignoring_conflicts(session, JobRun) is not shared
        before = str(shared.compile(dialect=session.bind.dialect))
        shared.values(sha256="x", size=1, data=b"x").returning(Blob.sha256)  # generative: a new statement
        assert str(insert_ignoring_conflicts(session, Blob).compile(dialect=session.bind.dialect)) == before
        assert "ON CONFLICT DO NOTHING" in before
