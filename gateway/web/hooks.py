"""POST /hooks/tracker/<name>: a tracker's own webhook telling us one of our hand-offs was closed."""
from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gateway.errors import GatewayError
from gateway.handoff.inbound import authentic, closed_issue, mark_closed
from gateway.web.deps import deps

log = logging.getLogger(__name__)
MAX_BODY = 1024 * 1024  # issue events are a few kB; a tracker never sends megabytes


async def tracker_hook(request: Request) -> Response:
    """204 done or not ours to act on, 401 signature wrong, 404 no such tracker, 413 too big, 503 try again."""
    d = deps(request)
    tracker = d.settings.tracker(request.path_params["name"])
    if tracker is None:
        return JSONResponse({"error": "no such tracker"}, status_code=404)
    if int(request.headers.get("content-length") or 0) > MAX_BODY:
        return JSONResponse({"error": "too large"}, status_code=413)
    body = await request.body()
    keys = d.tracker_keys.get(tracker.name)
    if len(body) > MAX_BODY:
        return JSONResponse({"error": "too large"}, status_code=413)
    if not authentic(tracker, keys.secret if keys else "", request.headers, body, d.clock.now()):
        log.warning("hooks: refused a request to /hooks/tracker/%s from %s: signature missing or wrong (secret_env %s)",
                    tracker.name, request.client.host if request.client else "?", tracker.secret_env or "not set")
        return JSONResponse({"error": "signature missing or wrong"}, status_code=401)
    closed = closed_issue(tracker, request.headers, body)
    if closed is None:
        return Response(status_code=204)
    try:
        async with d.db.transaction() as session:
            ticket = await mark_closed(session, tracker=tracker, closed=closed, now=d.clock.now(),
                                       notifier=d.ingestor.notifier)
    except GatewayError as exc:
        log.warning("hooks: %s: %s", tracker.name, exc)
        return JSONResponse({"error": "try again"}, status_code=503)
    if ticket is not None:
        log.info("hooks: %s closed the issue of ticket %s", tracker.name, ticket.id)
        d.wake()
    return Response(status_code=204)
