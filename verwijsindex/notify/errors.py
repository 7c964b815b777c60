"""The one error a transport raises, shaped so the outbox can store and show it as is."""

from __future__ import annotations


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
