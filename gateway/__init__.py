"""Support Gateway: an email help desk."""
