"""Scheduled work: business time, SLA targets and sweeps, escalation, the digest, and their wiring."""
