"""config.toml's [smtp] table with the GATEWAY_SMTP__* overlay, for `gateway ingest` to find serve.

Only tomli and the overlay: gateway.config (pydantic) would cost a pipe process more than its
whole hand-off. tomli, not the stdlib's tomllib (the same parser, vendored), because tomllib loads
typing and string at import, about 9 ms of every pipe process here; tomli 2.5 does not. Nothing
here validates: the caller checks the few values it uses, and anything odd sends the mail down
the ordinary path, where gateway.config says what is wrong.
"""
from __future__ import annotations

import os
from collections.abc import Mapping

import tomli

DEFAULT = "config.toml"
# The overlay this module applies itself; any other GATEWAY_SMTP* variable could change the table in
# a way it does not follow (GATEWAY_SMTP, lower case, ADDRESSES as a TOML array), so then: None.
OVERLAY = {"GATEWAY_SMTP__HOST": "host", "GATEWAY_SMTP__PORT": "port",
           "GATEWAY_SMTP__MAX_MESSAGE_BYTES": "max_message_bytes"}
IGNORED = {"GATEWAY_SMTP__HOSTNAME", "GATEWAY_SMTP__MAX_RECIPIENTS", "GATEWAY_SMTP__TLS_CERT",
           "GATEWAY_SMTP__TLS_KEY"}  # nothing to do with where serve listens


def smtp_settings(path: str, environ: Mapping[str, str]) -> dict | None:
    """The [smtp] table as gateway.config would see it after the environment overlay; None when
    the file cannot be read, is not TOML, or the overlay is one this module does not follow."""
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except FileNotFoundError:
        # As gateway.config: only the default ./config.toml may be missing (then all is default).
        return {} if os.path.normpath(path) == DEFAULT else None
    except (OSError, UnicodeDecodeError):
        return None
    try:
        table = tomli.loads(text).get("smtp", {})
    except tomli.TOMLDecodeError:
        return None
    if not isinstance(table, dict):
        return None
    for name, value in environ.items():
        if not name.upper().startswith("GATEWAY_SMTP") or name in IGNORED:
            continue
        if name not in OVERLAY or value.startswith(("'", '"')):
            return None  # quoted: gateway.config reads it as TOML; leave that to it
        try:
            table[OVERLAY[name]] = value if name == "GATEWAY_SMTP__HOST" else int(value)
        except ValueError:
            return None
    return table

