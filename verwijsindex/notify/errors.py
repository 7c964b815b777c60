"""The one error a transport raises, shaped so the outbox can store and show it as is."""

from __future__ import annotations

import socket
import ssl


class DeliveryError(Exception):
    """A delivery attempt failed.

    `reason` is safe to store and show: it never contains an address, a host's reply text, or
    other personal data, only e.g. 'SMTP 550', 'HTTP 500', 'timeout', 'connection refused',
    'TLS error'. A server's reply may echo the recipient's address, so it is dropped, not
    quoted.

    `permanent` says that retrying cannot help (a refused recipient, a receiver that answered
    410 Gone, a destination we refuse to call); the outbox then marks the delivery failed at
    once instead of retrying for a day.
    """

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent

    def __repr__(self) -> str:
        return f"DeliveryError({self.reason!r}, permanent={self.permanent})"


def network_failure(error: BaseException) -> DeliveryError | None:
    """The reason for a failure any transport can meet on the way (TLS, timeout, refused,
    unknown host), or None when it is the transport's own to name."""
    if isinstance(error, ssl.SSLError):
        return DeliveryError("TLS error")
    if isinstance(error, TimeoutError):
        return DeliveryError("timeout")
    if isinstance(error, ConnectionRefusedError):
        return DeliveryError("connection refused")
    if isinstance(error, socket.gaierror):
        return DeliveryError("host name not found")
    return None
