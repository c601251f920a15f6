"""Transports: bytes in, ingest(), then the source's own word for 'accepted' or 'try again'."""
