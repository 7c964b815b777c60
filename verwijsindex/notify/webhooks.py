"""Delivering one webhook the Standard Webhooks way, and refusing receivers we must not call.

A webhook URL is chosen by a connected system, so a careless or hostile one could point us at
our own database, a cloud metadata service or anything else inside our network (SSRF). URLs are
checked when subscribing (`receiver_url_problem`) and again at every delivery
(`destination_problem`), then the connection goes to exactly the address that was checked, so
DNS that changes between check and connect (rebinding) gains nothing. Redirects are never
followed: they would lead past the check.
"""

from __future__ import annotations

import base64
import binascii
import http.client
import ipaddress
import re
import secrets
import socket
import ssl
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import SplitResult, urlsplit

from standardwebhooks import Webhook
from standardwebhooks.webhooks import EmptyWebhookSecretError

from verwijsindex.notify.errors import DeliveryError, network_failure

MAX_URL_LENGTH = 2000
MAX_RESPONSE_BYTES = 64 * 1024
USER_AGENT = "verwijsindex-webhooks/1"

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_FORBIDDEN_RANGES = "a loopback, private, link-local, reserved or multicast address"
# Host names in their ASCII (punycode) form. Anything else is refused rather than passed to a
# resolver that might read it differently from us (e.g. stop at a space).
_HOST_NAME = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?")


def new_signing_secret() -> str:
    """A fresh secret for one subscription, in the `whsec_<base64>` form libraries expect."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def receiver_url_problem(url: str, *, allow_http_loopback: bool) -> str | None:
    """Why `url` cannot receive webhooks (English, for an invalidParams entry), or None.

    `allow_http_loopback` is for development and tests: it admits http:// to this machine and
    drops the refusal of private addresses. In production only https to a public host passes.
    """
    if len(url) > MAX_URL_LENGTH:
        return f"the URL is longer than {MAX_URL_LENGTH} characters"
    if any(character.isspace() or not character.isprintable() for character in url):
        return "the URL must not contain spaces or control characters"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not 1..65535
    except ValueError:
        return "the URL cannot be parsed or has an invalid port"
    if not parts.scheme or not parts.netloc:
        return "the URL must be absolute (https://host/path)"
    if "@" in parts.netloc:
        return "the URL must not contain user information"
    if parts.fragment or url.endswith("#"):
        return "the URL must not contain a fragment"
    host = parts.hostname
    if not host:
        return "the URL must name a host"
    if ":" in host and _ip_literal(host) is None:
        return "the URL's host is not a valid IPv6 address"
    if ":" not in host and not _HOST_NAME.fullmatch(host):
        return "the URL's host contains characters not allowed in a host name (use punycode)"
    scheme = parts.scheme.lower()
    if scheme == "http" and allow_http_loopback and _is_loopback(host):
        return None
    if scheme != "https":
        return "the URL must use https"
    if allow_http_loopback:
        return None
    if host == "localhost" or host.endswith(".localhost"):
        return "the host must not be this machine (localhost)"
    literal = _ip_literal(host)
    if literal is not None and _forbidden(literal):
        return f"the host is {_FORBIDDEN_RANGES}"
    return None


def destination_problem(url: str, *, allow_http_loopback: bool) -> str | None:
    """`receiver_url_problem` again at delivery time, plus (in production) what DNS says now.

    A host name that does not resolve is not reported here: that may pass, and the connection
    attempt reports it as a temporary failure.
    """
    try:
        _checked_addresses(url, allow_http_loopback=allow_http_loopback)
    except _Refused as refused:
        return refused.reason
    except OSError:
        pass
    return None


class WebhookSender:
    """POSTs signed payloads; raises `DeliveryError` with a safe reason when that fails.

    `wall_clock` must be real time even in tests that fake the application's clock: receivers
    reject a `webhook-timestamp` more than five minutes off.
    """

    def __init__(
        self,
        *,
        timeout: float = 10.0,
        allow_http_loopback: bool = False,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.timeout = timeout
        self.allow_http_loopback = allow_http_loopback
        self.wall_clock = wall_clock

    def send(self, url: str, secret: str, message_id: str, payload: bytes) -> None:
        """Deliver `payload` (JSON) to `url`; any 2xx answer counts as delivered."""
        try:
            parts, addresses = _checked_addresses(url, allow_http_loopback=self.allow_http_loopback)
            headers = self._headers(secret, message_id, payload)
            status = self._post(parts, addresses, headers, payload)
        except _Refused as refused:
            raise DeliveryError(refused.reason, permanent=True) from None
        except (OSError, http.client.HTTPException) as error:
            raise _delivery_error(error) from None
        if 200 <= status <= 299:
            return
        if 300 <= status <= 399:
            raise DeliveryError(f"HTTP {status} redirect not followed")
        raise DeliveryError(f"HTTP {status}", permanent=status == 410)

    def _headers(self, secret: str, message_id: str, payload: bytes) -> dict[str, str]:
        # Whole seconds, in UTC: the library's sign() replaces the tzinfo instead of converting.
        timestamp = self.wall_clock().astimezone(UTC).replace(microsecond=0)
        try:
            signature = Webhook(secret).sign(message_id, timestamp, payload.decode("utf-8"))
        except (binascii.Error, EmptyWebhookSecretError):
            raise _Refused("the subscription's signing secret is invalid") from None
        return {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "webhook-id": message_id,
            "webhook-timestamp": str(int(timestamp.timestamp())),
            "webhook-signature": signature,
            "Connection": "close",
        }

    def _post(
        self,
        parts: SplitResult,
        addresses: list[str],
        headers: dict[str, str],
        payload: bytes,
    ) -> int:
        host = parts.hostname or ""
        connection: http.client.HTTPConnection
        if parts.scheme.lower() == "http":
            connection = http.client.HTTPConnection(host, parts.port, timeout=self.timeout)
        else:
            # Verified TLS always, to the checked address but with the URL's name for SNI and
            # certificate checking.
            connection = _PinnedHTTPSConnection(
                host, parts.port, addresses, self.timeout, ssl.create_default_context()
            )
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            connection.request("POST", target, body=payload, headers=headers)
            response = connection.getresponse()
            response.read(MAX_RESPONSE_BYTES)  # drained a little, never quoted
            return response.status
        finally:
            connection.close()


class _Refused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to one of `addresses` (when given) instead of whatever DNS answers at connect time."""

    def __init__(
        self,
        host: str,
        port: int | None,
        addresses: list[str],
        timeout: float,
        context: ssl.SSLContext,
    ) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._addresses = addresses
        self._tls = context

    def connect(self) -> None:
        if not self._addresses:
            super().connect()
            return
        last_error: OSError | None = None
        for address in self._addresses:
            try:
                raw = socket.create_connection((address, self.port), self.timeout)
                break
            except OSError as error:
                last_error = error
        else:
            assert last_error is not None
            raise last_error
        self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)


def _checked_addresses(url: str, *, allow_http_loopback: bool) -> tuple[SplitResult, list[str]]:
    """The URL's parts and the addresses to connect to (empty: let the connection resolve).

    In production every address the name resolves to must be public: one private answer among
    public ones is how rebinding attacks start.
    """
    problem = receiver_url_problem(url, allow_http_loopback=allow_http_loopback)
    if problem is not None:
        raise _Refused(problem)
    parts = urlsplit(url)
    if allow_http_loopback:
        return parts, []
    port = parts.port or 443
    infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    addresses = [str(info[4][0]) for info in infos]
    if any(_forbidden(ipaddress.ip_address(address.split("%")[0])) for address in addresses):
        raise _Refused(f"the host name resolves to {_FORBIDDEN_RANGES}")
    return parts, addresses


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    literal = _ip_literal(host)
    return literal is not None and literal.is_loopback


def _ip_literal(host: str) -> IpAddress | None:
    """`host` as an IP address, including forms like `127.1` or `2130706433` that the C
    resolver accepts as IPv4 and that would otherwise slip past a check on dotted quads."""
    try:
        return ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        pass
    if ":" in host:
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def _forbidden(address: IpAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
        or not address.is_global
    )


def _delivery_error(error: OSError | http.client.HTTPException) -> DeliveryError:
    """Map a failure to a category; the receiver's own words are never kept."""
    if (on_the_way := network_failure(error)) is not None:
        return on_the_way
    if isinstance(error, (ConnectionResetError, BrokenPipeError)):  # incl. RemoteDisconnected
        return DeliveryError("connection closed by receiver")
    if isinstance(error, http.client.HTTPException):
        return DeliveryError("invalid HTTP response")
    return DeliveryError("network error")
