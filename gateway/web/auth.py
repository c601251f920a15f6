"""Staff sign-in: argon2 password checks, signed session cookies, CSRF tokens, a sign-in rate limit."""
from __future__ import annotations

import hmac
import secrets
from collections import deque
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from starlette.requests import Request

from gateway.config_web import WebConfig, WebUser

_hasher = PasswordHasher()
# Verified when the name is unknown, so a wrong name takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not a password anyone has")


def hash_password(password: str) -> str:
    """An argon2id hash for [[web.users]] password_hash."""
    return _hasher.hash(password)


def check_password(config: WebConfig, name: str, password: str) -> WebUser | None:
    """The user when `password` is theirs, else None (argon2 runs either way). CPU-bound: call off the loop."""
    user = config.user(name)
    try:
        _hasher.verify(user.password_hash if user and user.password_hash else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    return user if user is not None and user.password_hash else None


class LoginLimiter:
    """Events per key (failed sign-ins per address and name; replies per status link) in a sliding window."""

    MAX_KEYS = 100_000  # beyond this, the longest-quiet keys are forgotten: memory stays bounded under attack

    def __init__(self, *, attempts: int, window_seconds: float):
        self.attempts, self.window = attempts, timedelta(seconds=window_seconds)
        self.failures: dict[str, deque[datetime]] = {}

    def _recent(self, key: str, now: datetime) -> deque[datetime]:
        times = self.failures.setdefault(key, deque())
        while times and now - times[0] > self.window:
            times.popleft()
        if not times:
            del self.failures[key]  # no memory kept for keys that went quiet
            return deque()
        return times

    def blocked(self, keys: list[str], now: datetime) -> bool:
        return any(len(self._recent(key, now)) >= self.attempts for key in keys)

    def failed(self, keys: list[str], now: datetime) -> None:
        for key in keys:
            self._recent(key, now)
            self.failures.setdefault(key, deque()).append(now)
        while len(self.failures) > self.MAX_KEYS:
            del self.failures[next(iter(self.failures))]  # dicts keep insertion order: the oldest first


def client_address(request: Request, config: WebConfig) -> str:
    """Who is asking: the peer, or behind a proxy of ours (proxy_addresses) the address it forwards.

    Behind a reverse proxy every peer is the proxy: keyed by it, five wrong passwords from anyone
    would lock every member of staff out of signing in.
    """
    peer = request.client.host if request.client else "?"
    forwarded = request.headers.get("x-forwarded-for", "")
    if peer in config.proxy_addresses and forwarded:
        return forwarded.split(",")[-1].strip() or peer  # the hop our proxy added itself
    return peer


def current_user(request: Request, config: WebConfig) -> WebUser | None:
    """The signed-in user, if the session names one still configured (removing a user signs them out),
    else the one a trusted reverse proxy vouches for (web.proxy_user_header, off by default)."""
    name = request.session.get("user")
    if name:
        return config.user(name)
    if config.proxy_user_header and request.client is not None and request.client.host in config.proxy_addresses:
        vouched = request.headers.get(config.proxy_user_header, "")
        return config.user(vouched) if vouched else None
    return None


def csrf_token(request: Request) -> str:
    """This session's CSRF token, made on first use; every form carries it as `csrf`."""
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(24)
    return token


def csrf_ok(request: Request, submitted: str | None) -> bool:
    expected = request.session.get("csrf")
    return bool(expected and submitted) and hmac.compare_digest(expected, submitted)


def may_act(user: WebUser | None, level: int) -> bool:
    """Engineers act on tickets at their levels; viewers (directors) read only."""
    return user is not None and user.role == "engineer" and level in user.levels
