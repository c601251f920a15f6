"""The web face: staff board and ticket pages, customers' status pages, health and metrics."""
