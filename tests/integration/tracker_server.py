"""A developers' tracker on loopback for the hand-off tests: a real HTTP server that takes our signed webhook.

It refuses the first `fail_first` deliveries (503), checks every signature, and keeps the
Idempotency-Key of each issue it makes: a delivery repeated with the same key gets the same issue,
as a receiver that honours the header does. `hold` makes it stall after making an issue and before
answering, so a test can kill the gateway mid-delivery.
"""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from gateway.handoff.trackers.webhook import signature
from tests.conftest import free_port


class TrackerServer:
    def __init__(self, *, secret: str, fail_first: int = 0):
        self.secret, self.fail_first = secret, fail_first
        self.port = free_port()
        self.lock = threading.Lock()
        self.requests: list[dict] = []  # every POST: key, whether its signature was valid, status answered
        self.issues: dict[str, dict] = {}  # by Idempotency-Key
        self.hold = threading.Event()  # set: stall after making an issue until `release` is set
        self.release = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/issues"

    def start(self) -> "TrackerServer":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def _handler(self):
        tracker = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                key = self.headers.get("Idempotency-Key", "")
                valid = self.headers.get("X-Gateway-Signature", "") == signature(
                    tracker.secret, self.headers.get("X-Gateway-Timestamp", ""), body)
                with tracker.lock:
                    record = {"key": key, "valid": valid, "body": json.loads(body)}
                    tracker.requests.append(record)
                    if not valid:
                        status, answer = 401, {"error": "bad signature"}
                    elif len(tracker.requests) <= tracker.fail_first:
                        status, answer = 503, {"error": "down for maintenance"}
                    else:
                        issue = tracker.issues.get(key)
                        if issue is None:
                            number = len(tracker.issues) + 1
                            issue = {"id": number, "url": f"http://127.0.0.1:{tracker.port}/issues/{number}"}
                            tracker.issues[key] = issue
                        status, answer = 201, issue
                    record["status"] = status
                if status == 201 and tracker.hold.is_set():
                    tracker.release.wait(60)
                data = json.dumps(answer).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the gateway died while we held the answer
                    pass

        return Handler


class FakeGitHub:
    """GitHub's issues API as far as the hand-off uses it (search, create), on loopback.

    The first issue it makes is answered with 502, as when the answer is lost on the way back: the
    gateway must find that issue by its key instead of making a second one.
    """

    def __init__(self, *, token: str, repo: str = "acme/portal"):
        self.token, self.repo = token, repo
        self.port = free_port()
        self.lock = threading.Lock()
        self.requests: list[tuple[str, str]] = []  # (method, path)
        self.issues: list[dict] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "FakeGitHub":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self):
        github = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, status: int, data) -> None:
                raw = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def _authorised(self) -> bool:
                if self.headers.get("Authorization") != f"Bearer {github.token}":
                    self._answer(401, {"message": "Bad credentials"})
                    return False
                return True

            def do_GET(self):
                from urllib.parse import parse_qs, urlsplit

                with github.lock:
                    github.requests.append(("GET", self.path.split("?")[0]))
                if not self._authorised():
                    return
                query = parse_qs(urlsplit(self.path).query).get("q", [""])[0]
                words = [w.strip('"') for w in query.split() if ":" not in w]
                with github.lock:
                    items = [i for i in github.issues if all(w in i["body"] for w in words)]
                self._answer(200, {"total_count": len(items), "incomplete_results": False, "items": items})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                with github.lock:
                    github.requests.append(("POST", self.path))
                if not self._authorised():
                    return
                with github.lock:
                    number = len(github.issues) + 1
                    issue = {"number": number, "title": body["title"], "body": body["body"], "state": "open",
                             "html_url": f"https://github.example/{github.repo}/issues/{number}"}
                    github.issues.append(issue)
                self._answer(502 if number == 1 else 201, {"message": "Bad Gateway"} if number == 1 else issue)

        return Handler
