"""config.toml's [smtp] table after the environment overlay, for `gateway ingest` to find serve.

Read by gateway.config_source, the reader gateway.config validates, so the hand-off and serve see
the same table whatever GATEWAY_* variables are set. Nothing here validates: the caller checks the
few values it uses, and anything odd sends the mail down the ordinary path, where gateway.config
says what is wrong.
"""
from __future__ import annotations

from gateway.config_source import overlaid
from gateway.errors import ConfigError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping


def smtp_settings(path: str, environ: Mapping[str, str]) -> dict | None:
    """The [smtp] table as gateway.config sees it; None when the file or the overlay cannot be read."""
    try:
        table = overlaid(path, environ).get("smtp", {})
    except ConfigError:
        return None
    return table if isinstance(table, dict) else None
