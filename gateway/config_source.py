"""config.toml plus the GATEWAY_<SECTION>__<KEY> overlay, as plain data: the one reader serve and the pipe share.

Lean on purpose (tomli and os only): `gateway ingest` reads it on every mail to find a running serve,
and pydantic would cost that process more than its whole hand-off. tomli, not the stdlib's tomllib
(the same parser, vendored), because tomllib loads typing and string at import, about 9 ms of every
pipe process. gateway.config validates what this returns; the hand-off checks the few values it uses.
"""
from __future__ import annotations

import os

import tomli

from gateway.errors import ConfigError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

ENV_PREFIX = "GATEWAY_"
DEFAULT = "config.toml"


def read_file(path: str) -> dict[str, Any]:
    """The file's TOML as a dict; {} when the default ./config.toml is absent. ConfigError (one line) otherwise."""
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except FileNotFoundError:
        if os.path.normpath(path) == DEFAULT:
            return {}  # only the default may be missing: then everything is default
        raise ConfigError(f"{path}: no such config file; pass --config PATH or set GATEWAY_CONFIG") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); fix the file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror}); check the path and its permissions") from None
    try:
        return tomli.loads(text)
    except tomli.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); fix the file") from None


def parse_env_value(text: str) -> Any:
    """A value that parses as TOML (number, boolean, array, inline table) is that; else a string."""
    try:
        return tomli.loads(f"v = {text}")["v"]
    except tomli.TOMLDecodeError:
        return text


def env_overlay(data: dict[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    """Apply GATEWAY_<SECTION>__<KEY>=value and GATEWAY_<TOPLEVEL>=value onto the parsed TOML."""
    merged = {k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items()}
    for name, raw in sorted(environ.items()):
        if not name.startswith(ENV_PREFIX) or name == "GATEWAY_CONFIG" or name.startswith("GATEWAY_TEST_"):
            continue
        path = [part.lower() for part in name[len(ENV_PREFIX):].split("__")]
        if any(not part for part in path):
            raise ConfigError(f"{name}: malformed variable name; use GATEWAY_<SECTION>__<KEY>")
        target = merged
        for part in path[:-1]:
            node = target.get(part)
            node = dict(node) if isinstance(node, dict) else {}
            target[part] = node
            target = node
        target[path[-1]] = parse_env_value(raw)
    return merged


def overlaid(path: str, environ: Mapping[str, str]) -> dict[str, Any]:
    """read_file(path) with the environment laid over it: what gateway.config validates. Raises ConfigError."""
    return env_overlay(read_file(path), environ)
