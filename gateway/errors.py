"""The gateway's small exception hierarchy; every message names the thing and the fix."""


class GatewayError(Exception):
    """Base of every error the gateway raises on purpose."""


class ConfigError(GatewayError):
    """The configuration is wrong; the message names the key and the fix."""


class TempFail(GatewayError):
    """Something outside us failed (database, disk, relay): the source must try again later."""


class UsageError(GatewayError):
    """A command was called wrongly."""


class NotFound(GatewayError):
    """A ticket, row or file the caller named does not exist."""


class Quarantine(GatewayError):
    """Raised by a step: keep the raw mail in quarantine with this reason, answer 'accepted'."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class Discard(GatewayError):
    """Raised by a step: the mail is accepted and deliberately not processed further."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class Duplicate(Discard):
    """Raised by the dedupe step: we already hold this mail.

    note: a row (the copy's Event) to add once this mail's own writes are rolled back, or None.
    """

    def __init__(self, reason: str, note: object | None = None):
        super().__init__(reason)
        self.note = note


class TransientSendError(GatewayError):
    """The relay or disk failed in a way that may pass: try this outbox row again later."""


class PermanentSendError(GatewayError):
    """The relay refused this mail for good (5xx): retrying would get the same answer."""
