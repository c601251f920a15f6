"""HTTP for the trackers: requests and replies as plain data (adapters stay pure), sent with httpx."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Mapping

from gateway.errors import GatewayError

RESPONSE_EXCERPT = 2000  # characters of each response kept in the attempt log
USER_AGENT = "support-gateway"


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""  # JSON, already encoded: a webhook's signature covers exactly these bytes

    @property
    def line(self) -> str:
        """e.g. "POST https://api.github.com/repos/acme/portal/issues", for the attempt log."""
        return f"{self.method} {self.url}"


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes = b""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            raise TrackerReplyError(f"the answer is not JSON: {self.excerpt(200)!r}") from None

    def excerpt(self, limit: int = RESPONSE_EXCERPT) -> str:
        return self.body.decode("utf-8", "replace")[:limit]


@dataclass(frozen=True)
class Issue:
    """The tracker's issue a delivery made or found: its web address and its number or key."""

    url: str
    ref: str


@dataclass(frozen=True)
class Keys:
    """A tracker's secrets, read from the environment variables its config names."""

    token: str = ""
    user: str = ""
    secret: str = ""


class TrackerReplyError(GatewayError):
    """The tracker answered 2xx with something that is not the documented shape."""


class TransportError(GatewayError):
    """No answer: refused, unreachable, timed out, TLS failure."""


def json_body(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")


def permanent(status: int) -> bool:
    """An answer that will not change on retry: the request itself is wrong (bad field, no such project).

    401/403 are not: a token fixed in the environment and a restart should still deliver the backlog.
    """
    return status in (400, 404, 405, 410, 422)


class HttpTransport:
    """Sends Requests with one httpx.AsyncClient (on the event loop, never blocking it)."""

    def __init__(self, *, timeout: float):
        import httpx  # only a serve with [[trackers]] pays for it

        self.errors = httpx.HTTPError
        self.client = httpx.AsyncClient(timeout=timeout, headers={"User-Agent": USER_AGENT}, follow_redirects=False)

    async def send(self, request: Request) -> Reply:
        started = time.monotonic()
        try:
            response = await self.client.request(request.method, request.url, headers=dict(request.headers),
                                                 params=dict(request.params) or None, content=request.body or None)
        except self.errors as exc:
            raise TransportError(f"{request.line}: {type(exc).__name__}: {exc or 'no answer'}") from None
        return Reply(status=response.status_code, body=response.content, seconds=time.monotonic() - started)

    async def close(self) -> None:
        await self.client.aclose()
