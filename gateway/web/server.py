"""Run the web face with uvicorn on the caller's event loop, on a socket we bind ourselves."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import socket

import uvicorn

from gateway.config_web import WebConfig
from gateway.errors import ConfigError

log = logging.getLogger(__name__)


class _Server(uvicorn.Server):
    """uvicorn without its own signal handlers: `gateway serve` owns SIGTERM/SIGINT and stops us itself."""

    @contextlib.contextmanager
    def capture_signals(self):
        yield


def bind(config: WebConfig) -> socket.socket:
    """A listening socket on [web] host:port; ConfigError naming the fix when it cannot be had."""
    try:
        sock = socket.create_server((config.host, config.port), reuse_port=False, backlog=128)
    except OSError as exc:
        raise ConfigError(f"web.port: cannot listen on {config.host}:{config.port} ({exc.strerror}); stop what "
                          f"uses it, or choose another web.host/web.port (GATEWAY_WEB__PORT), or set web.enabled "
                          f"= false") from None
    sock.setblocking(False)
    return sock


class WebServer:
    """The running HTTP server: start() binds and serves in a task, stop() lets requests in flight end."""

    def __init__(self, app, config: WebConfig):
        self.config = config
        self.sock = bind(config)
        # proxy_headers off: gateway.web.auth.client_address reads X-Forwarded-For from our own proxies
        # only, and the proxy's own address stays visible for web.proxy_user_header.
        self.server = _Server(uvicorn.Config(app, lifespan="off", access_log=False, log_level="warning",
                                             server_header=False, timeout_graceful_shutdown=10, proxy_headers=False))
        self.task: asyncio.Task | None = None

    @property
    def address(self) -> str:
        host, port = self.sock.getsockname()[:2]
        return f"{host}:{port}"

    @property
    def port(self) -> int:
        return self.sock.getsockname()[1]

    async def start(self) -> None:
        self.task = asyncio.create_task(self.server.serve(sockets=[self.sock]), name="web")
        for _ in range(500):  # started within milliseconds; the socket queues early clients meanwhile
            if self.server.started or self.task.done():
                break
            await asyncio.sleep(0.01)
        if self.task.done():
            self.task.result()

    async def stop(self) -> None:
        self.server.should_exit = True
        if self.task is not None:
            await asyncio.gather(self.task, return_exceptions=True)
        self.sock.close()
