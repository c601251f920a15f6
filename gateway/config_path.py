"""Where config.toml is; apart from gateway.config so that `gateway ingest` can find it without pydantic."""
from __future__ import annotations

from pathlib import Path
from typing import Mapping


def find_config_path(explicit: str | None, environ: Mapping[str, str]) -> Path:
    """--config PATH, else $GATEWAY_CONFIG, else ./config.toml."""
    return Path(explicit or environ.get("GATEWAY_CONFIG") or "config.toml")
