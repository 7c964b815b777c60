"""gunicorn's sync worker, answering the requests gunicorn refuses itself in the API's format.

A request line over `limit_request_line`, a header over `limit_request_field_size`, too
many headers or a malformed request never reach the app: gunicorn answers them on its own,
as an HTML page, and logs the offending text (which a client controls, and may hold a BSN).
This worker answers them as RFC 9457 problem+json with the API's standard headers, and
logs only the kind of error and the client address.
"""

from __future__ import annotations

import json
import ssl
import traceback
from datetime import datetime
from typing import Any

from gunicorn.http import errors  # type: ignore[import-untyped]
from gunicorn.http.wsgi import Response, default_environ  # type: ignore[import-untyped]
from gunicorn.util import write_nonblock  # type: ignore[import-untyped]
from gunicorn.workers.sync import SyncWorker  # type: ignore[import-untyped]

from verwijsindex.version import API_VERSION

# gunicorn's own choice of status for what it refuses (the rest is 400 or, for errors
# that are not the client's, 500).
_STATUS_OF: list[tuple[type[BaseException], int, str]] = [
    (errors.LimitRequestLine, 414, "URI Too Long"),
    (errors.LimitRequestHeaders, 431, "Request Header Fields Too Large"),
    (errors.UnsupportedTransferCoding, 501, "Not Implemented"),
    (errors.ExpectationFailed, 417, "Expectation Failed"),
    (errors.ForbiddenProxyRequest, 403, "Forbidden"),
    (ssl.SSLError, 403, "Forbidden"),
    (errors.ConfigurationProblem, 500, "Internal Server Error"),
    (errors.InvalidResponseHeader, 500, "Internal Server Error"),
    (errors.InvalidResponseHeaderName, 500, "Internal Server Error"),
    (errors.ParseException, 400, "Bad Request"),
]
_DETAIL = {
    400: "The request is not valid HTTP.",
    403: "This request is not allowed.",
    414: "The request line is too long.",
    417: "The expectation in the Expect header cannot be met.",
    431: "A request header, or all of them together, is too large.",
    500: "Something went wrong on our side.",
    501: "This transfer coding is not supported.",
}
# As the app sends them (verwijsindex.api.SECURITY_HEADERS): kept here too, because this
# module must not import the app into gunicorn before the app is loaded.
_HEADERS = {
    "Content-Type": "application/problem+json",
    "API-Version": API_VERSION,
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "Connection": "close",
}


def refusal(error: BaseException) -> tuple[int, str]:
    for kind, status, reason in _STATUS_OF:
        if isinstance(error, kind):
            return status, reason
    return 500, "Internal Server Error"


def problem_response(status: int, reason: str) -> bytes:
    """A complete HTTP/1.1 response carrying a problem+json body, as the app would send."""
    body = json.dumps(
        {
            "type": "about:blank" if status >= 500 else f"urn:verwijsindex:problem:{status}",
            "title": reason,
            "status": status,
            "detail": _DETAIL.get(status, reason),
        }
    ).encode()
    head = [f"HTTP/1.1 {status} {reason}"]
    head += [f"{name}: {value}" for name, value in _HEADERS.items()]
    head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


class ProblemWorker(SyncWorker):  # type: ignore[misc]  # gunicorn has no type hints
    """`SyncWorker` whose own error answers are problem+json and whose log says no more
    than what went wrong, never the request line or header it happened in."""

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        started = datetime.now()
        ip = addr[0] if addr else ""
        status, reason = refusal(exc)
        if status >= 500:
            # Not the client's doing: the stack is what an operator needs; the message is
            # left out, as it may quote the request.
            stack = "".join(traceback.format_tb(exc.__traceback__))
            self.log.error(
                "error handling a request from ip=%s: %s\n%s", ip, type(exc).__name__, stack
            )
        else:
            self.log.warning("refused a request from ip=%s: %s", ip, type(exc).__name__)
        if req is not None:
            environ = default_environ(req, client, self.cfg)
            environ["REMOTE_ADDR"] = ip
            response = Response(req, client, self.cfg)
            response.status = f"{status} {reason}"
            self.log.access(response, req, environ, datetime.now() - started)
        try:
            write_nonblock(client, problem_response(status, reason))
        except OSError:  # the client may be gone; there is nothing left to tell it
            self.log.debug("could not send the error response")
