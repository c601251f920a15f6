"""Where config.toml is; apart from gateway.config so that `gateway ingest` can find it without pydantic."""
from __future__ import annotations

from collections.abc import Mapping

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path


def config_file(explicit: str | None, environ: Mapping[str, str]) -> str:
    """--config PATH, else $GATEWAY_CONFIG, else ./config.toml; a string, as pathlib costs a pipe process time."""
    return explicit or environ.get("GATEWAY_CONFIG") or "config.toml"


def find_config_path(explicit: str | None, environ: Mapping[str, str]) -> Path:
    """config_file() as a Path."""
    from pathlib import Path

    return Path(config_file(explicit, environ))
