"""An access log with no personal data in it, whatever a client sends.

gunicorn's usual access line holds the request line (path *and* query string), the
Referer, the User-Agent and the Basic-auth user: all chosen by the client, so a client can
put a BSN in any of them (`GET /api/v1/signals?bsn=…`) and have it written to disk in clear
(contract §2). This log therefore writes only what the service itself chose:

    127.0.0.1 [23/Nov/2026:09:30:00 +0000] "GET /api/v1/signals/<uuid:signal_id> HTTP/1.1"
        200 512 1830µs 7c0e…   (on one line)

that is: client address, time, method (from a fixed list, else `OTHER`), the *route
pattern* the request matched (never the raw path, which may carry a BSN too; `-` when no
route matched), protocol, status, bytes sent, duration and the request id also written to
the audit log. The app leaves route and request id in the WSGI environ (`init_app`);
gunicorn's logger (`SafeAccessLogger`, used by `verwijsindex serve`) writes the line,
including for requests gunicorn refuses itself before the app sees them.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

from flask import Flask, Response, request
from gunicorn.glogging import Logger  # type: ignore[import-untyped]

from verwijsindex.audit import request_context

ROUTE_KEY = "verwijsindex.route"
REQUEST_ID_KEY = "verwijsindex.request_id"
LOGGED_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
LOGGED_PROTOCOLS = frozenset({"HTTP/1.0", "HTTP/1.1"})


def _note_route_and_request_id(response: Response) -> Response:
    rule = request.url_rule
    request.environ[ROUTE_KEY] = rule.rule if rule is not None else "-"
    request.environ[REQUEST_ID_KEY] = request_context.get().request_id or "-"
    return response


def init_app(app: Flask) -> None:
    app.after_request(_note_route_and_request_id)


def access_line(
    environ: dict[str, Any], status: str | int | None, sent: int | None, duration: timedelta
) -> str:
    """The access log line for one request, built only from values the service chose."""
    method = environ.get("REQUEST_METHOD", "-")
    protocol = environ.get("SERVER_PROTOCOL", "-")
    code = str(status).split(None, 1)[0] if status else "-"
    microseconds = duration // timedelta(microseconds=1)
    return " ".join(
        [
            str(environ.get("REMOTE_ADDR", "-")),
            time.strftime("[%d/%b/%Y:%H:%M:%S %z]"),
            f'"{method if method in LOGGED_METHODS else "OTHER"}',
            str(environ.get(ROUTE_KEY, "-")),
            f'{protocol if protocol in LOGGED_PROTOCOLS else "-"}"',
            code if code.isdigit() else "-",
            str(sent) if sent is not None else "-",
            f"{microseconds}µs",
            str(environ.get(REQUEST_ID_KEY, "-")),
        ]
    )


class SafeAccessLogger(Logger):  # type: ignore[misc]  # gunicorn has no type hints
    """gunicorn's logger with the access line above instead of `access_log_format`, and
    the application's own log (`verwijsindex.*`) sent to gunicorn's error log."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        application_log = logging.getLogger("verwijsindex")
        application_log.handlers = list(self.error_log.handlers)
        application_log.setLevel(logging.INFO)
        application_log.propagate = False

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        if not self.access_log_enabled:
            return
        line = access_line(environ, resp.status, getattr(resp, "sent", None), request_time)
        self.access_log.info(line)
