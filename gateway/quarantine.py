"""Re-run quarantined mail through ingest (after a fix), and release what now goes through."""
from __future__ import annotations

from gateway.errors import NotFound
from gateway.ingest import Ingestor, Outcome
from gateway.pipeline.context import HISTORY_SOURCE
from gateway.store.blobs import get_blob
from gateway.store.repo import get_quarantine


async def retry(ingestor: Ingestor, entry_id: int) -> Outcome:
    """Ingest the held bytes again; on success the entry is released and points at its ticket."""
    async with ingestor.db.transaction() as session:
        entry = await get_quarantine(session, entry_id)
        raw = await get_blob(session, entry.raw_sha256)
        source, envelope_from, recipients = entry.source, entry.envelope_from, tuple(entry.recipients or ())
    if raw is None:
        raise NotFound(f"quarantine entry {entry_id}: its raw bytes are missing from the blob store")
    # Imported history stays history (no mail out, no SLA clocks); live mail is labelled as retried.
    outcome = await ingestor.ingest(raw, source=source if source == HISTORY_SOURCE else f"quarantine-retry:{source}",
                                    envelope_from=envelope_from, recipients=recipients)
    if outcome.status != "quarantined":
        async with ingestor.db.transaction() as session:
            entry = await get_quarantine(session, entry_id)
            entry.status, entry.ticket_id = "released", outcome.ticket_id
    return outcome
