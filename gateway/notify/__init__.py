"""Outbound mail: render templates, queue rows in the outbox, send them."""
