"""Hand-off of tickets to the developers' trackers: queue, deliver with retries, hear back when closed."""
