"""Each tracker's secrets from the environment variables its config names (read once, in serve or web)."""
from __future__ import annotations

from typing import Mapping

from gateway.config_trackers import TrackerConfig, env_problems
from gateway.errors import ConfigError
from gateway.handoff.http import Keys


def tracker_keys(trackers: tuple[TrackerConfig, ...], environ: Mapping[str, str]) -> dict[str, Keys]:
    """{tracker name: Keys}; ConfigError naming every variable that is not set."""
    found = env_problems(trackers, environ)
    if found:
        raise ConfigError("\n".join(found))
    return {t.name: Keys(token=environ.get(t.token_env or "", ""), user=environ.get(t.user_env or "", ""),
                         secret=environ.get(t.secret_env or "", "")) for t in trackers}
