"""Sending one mail over SMTP, with failures reduced to reasons that are safe to store.

Configured by one URL (`VERWIJSINDEX_SMTP_URL`) so an operator sets host, port, TLS mode and
credentials in one place. TLS is always verified: a mail relay that cannot prove who it is would
learn which professionals are involved with a child, which is itself sensitive.
"""

from __future__ import annotations

import contextlib
import math
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Literal
from urllib.parse import parse_qsl, unquote, urlsplit

from verwijsindex.notify.errors import DeliveryError, network_failure

Security = Literal["plain", "starttls", "ssl"]

_SCHEMES: dict[str, tuple[Security, int]] = {
    "smtp": ("plain", 25),
    "smtp+starttls": ("starttls", 587),
    "smtps": ("ssl", 465),
}
_QUERY_PARAMETERS = frozenset({"cafile", "timeout"})
DEFAULT_TIMEOUT = 30.0


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to deliver mail; `password` is kept out of `repr` so it never gets logged."""

    host: str
    port: int
    security: Security
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    cafile: str | None = None
    timeout: float = DEFAULT_TIMEOUT


def parse_smtp_url(url: str) -> SmtpSettings:
    """Read `smtp://`, `smtp+starttls://` or `smtps://[user:pass@]host[:port][?cafile=..&timeout=..]`.

    Meant to run at start-up so a typo fails loudly there rather than at the first match.
    Error messages name the part that is wrong but never repeat the URL, which may carry the
    password.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES:
        known = ", ".join(f"{name}://" for name in _SCHEMES)
        raise ValueError(f"SMTP URL: unknown scheme {scheme!r}; use one of {known}")
    security, default_port = _SCHEMES[scheme]
    if not parts.hostname:
        raise ValueError("SMTP URL: the host is missing")
    try:
        port = parts.port or default_port
    except ValueError:
        raise ValueError("SMTP URL: the port is not a number between 1 and 65535") from None
    if parts.path not in ("", "/") or parts.fragment:
        raise ValueError("SMTP URL: a path or fragment means nothing here; remove it")
    options: dict[str, str] = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name not in _QUERY_PARAMETERS:
            raise ValueError(f"SMTP URL: unknown parameter {name!r}; known: cafile, timeout")
        if name in options:
            raise ValueError(f"SMTP URL: parameter {name!r} is given twice")
        options[name] = value
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    if not (username or "").isascii() or not (password or "").isascii():
        # smtplib's AUTH encodes credentials as ASCII; fail here rather than at the first mail.
        raise ValueError("SMTP URL: user name and password must be ASCII")
    return SmtpSettings(
        host=parts.hostname,
        port=port,
        security=security,
        username=username,
        password=password,
        cafile=options.get("cafile") or None,
        timeout=_parse_timeout(options.get("timeout")),
    )


def _parse_timeout(raw: str | None) -> float:
    if raw is None:
        return DEFAULT_TIMEOUT
    try:
        timeout = float(raw)
    except ValueError:
        timeout = math.nan
    if not (math.isfinite(timeout) and timeout > 0):
        raise ValueError("SMTP URL: timeout must be a positive number of seconds")
    return timeout


class MailSender:
    """Delivers one message per connection; the outbox sends few mails, so no pooling."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._tls: ssl.SSLContext | None = None

    def _tls_context(self) -> ssl.SSLContext:
        """Made once: loading the trust store costs tens of milliseconds per mail."""
        if self._tls is None:
            self._tls = ssl.create_default_context(cafile=self.settings.cafile)
        return self._tls

    def send(self, message: EmailMessage) -> None:
        """Hand `message` to the relay, or raise `DeliveryError` with a safe reason.

        Exceptions are raised `from None`: the original carries the server's reply, which may
        echo the recipient's address, and must not reach a log through the traceback.
        """
        try:
            self._send(message)
        except (
            smtplib.SMTPException,
            OSError,  # includes ssl.SSLError, TimeoutError, ConnectionRefusedError
        ) as error:
            raise _delivery_error(error) from None

    def _send(self, message: EmailMessage) -> None:
        settings = self.settings
        connection: smtplib.SMTP
        if settings.security == "ssl":
            connection = smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=settings.timeout, context=self._tls_context()
            )
        else:
            connection = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        try:
            if settings.security == "starttls":
                # Raises SMTPNotSupportedError when the server does not offer it: we never
                # fall back to sending in the clear.
                connection.starttls(context=self._tls_context())
            if settings.username is not None:
                connection.login(settings.username, settings.password or "")
            connection.send_message(message)
            # The relay has accepted the message; a failing goodbye changes nothing.
            with contextlib.suppress(smtplib.SMTPException, OSError):
                connection.quit()
        finally:
            connection.close()


def _delivery_error(error: Exception) -> DeliveryError:
    """Map a failure to a reason built from codes and categories only, never reply text."""
    if isinstance(error, smtplib.SMTPAuthenticationError):
        # A configuration problem the operator fixes; retrying then delivers.
        return DeliveryError("SMTP authentication failed")
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _reply in error.recipients.values()]
        return _by_code(max(codes) if codes else 0)
    if isinstance(error, smtplib.SMTPResponseException):
        return _by_code(error.smtp_code)
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return DeliveryError("SMTP server does not offer STARTTLS or AUTH")
    if isinstance(error, smtplib.SMTPServerDisconnected):
        # smtplib turns a read that timed out into "Connection unexpectedly closed".
        if isinstance(error.__context__, TimeoutError):
            return DeliveryError("timeout")
        return DeliveryError("connection closed by server")
    if (on_the_way := network_failure(error)) is not None:
        return on_the_way
    if isinstance(error, smtplib.SMTPException):
        return DeliveryError("SMTP error")
    return DeliveryError("network error")


def _by_code(code: int) -> DeliveryError:
    """5xx is the server's final word (e.g. 550 no such mailbox); anything else may pass."""
    return DeliveryError(f"SMTP {code}", permanent=500 <= code <= 599)
