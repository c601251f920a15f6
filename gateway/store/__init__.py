"""Storage: engine and transactions, models, queries, raw bytes."""
