"""The ingest pipeline: small named steps over one explicit MailContext."""
