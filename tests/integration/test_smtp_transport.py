"""Mail delivery against a real SMTP server (aiosmtpd) in this process: plain, SMTPS, STARTTLS,
AUTH, and every way a delivery fails, each reduced to a reason without personal data."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from verwijsindex.notify.errors import DeliveryError
from verwijsindex.notify.mails import MailKind, build_mail
from verwijsindex.notify.smtp import MailSender, SmtpSettings, parse_smtp_url

RECIPIENT = "j.jansen@wijkteam.example.nl"
REFUSED = "onbekend@wijkteam.example.nl"
BUSY = "vol@wijkteam.example.nl"
SENDER = "verwijsindex@gemeente.example.nl"
LINK = "https://verwijsindex.example.nl/matches/42"
USER, PASSWORD = "verwijsindex", "p@ss:word/geheim"


@dataclass
class Tls:
    cafile: Path
    server: ssl.SSLContext


@dataclass
class Inbox:
    """An aiosmtpd handler that keeps what it receives and refuses some recipients."""

    envelopes: list[Envelope] = field(default_factory=list)
    logins: list[bytes] = field(default_factory=list)

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address == REFUSED:  # replies echo the address, as real servers do
            return f"550 5.1.1 <{address}>: Recipient address rejected"
        if address == BUSY:
            return f"451 4.2.2 <{address}>: mailbox busy, try later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


def _authenticator(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    """A self-signed certificate for 127.0.0.1 and localhost, trusted only through `cafile`."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "verwijsindex test SMTP")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    directory = tmp_path_factory.mktemp("tls")
    cafile, keyfile = directory / "cert.pem", directory / "key.pem"
    cafile.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    keyfile.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cafile, keyfile)
    return Tls(cafile=cafile, server=server)


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
def serve(inbox: Inbox) -> Iterator[Any]:
    """Start an SMTP server with the given aiosmtpd options; returns its port."""
    controllers: list[Controller] = []

    def start(**options: Any) -> int:
        port = _free_port()
        controller = Controller(
            inbox, hostname="127.0.0.1", port=port, server_hostname="localhost", **options
        )
        controller.start()
        controllers.append(controller)
        return port

    yield start
    for controller in controllers:
        controller.stop()


def _mail(to: str = RECIPIENT) -> EmailMessage:
    return build_mail(MailKind.MATCH_CREATED, to=to, sender=SENDER, link=LINK)


def _send(url: str, message: EmailMessage | None = None) -> None:
    MailSender(parse_smtp_url(url)).send(message or _mail())


def _failure(url: str, message: EmailMessage | None = None) -> DeliveryError:
    with pytest.raises(DeliveryError) as caught:
        _send(url, message)
    error = caught.value
    # Nothing of the server's reply, the address or the password reaches a log via the traceback.
    logged = "".join(traceback.format_exception(error))
    for secret in (RECIPIENT, REFUSED, BUSY, PASSWORD, "Recipient address rejected"):
        assert secret not in logged
    return error


def _received(inbox: Inbox) -> EmailMessage:
    assert len(inbox.envelopes) == 1
    envelope = inbox.envelopes[0]
    assert envelope.mail_from == SENDER
    assert envelope.rcpt_tos == [RECIPIENT]
    assert isinstance(envelope.content, bytes)
    message = message_from_bytes(envelope.content, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


# --- delivery --------------------------------------------------------------------------------


def test_a_mail_is_delivered_over_plain_smtp_with_both_parts(serve: Any, inbox: Inbox) -> None:
    port = serve()
    _send(f"smtp://127.0.0.1:{port}")
    message = _received(inbox)
    assert message["Subject"] == "Nieuwe match in de verwijsindex"
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
    plain = message.get_body(preferencelist=("plain",))
    assert isinstance(plain, EmailMessage) and LINK in plain.get_content()


def test_a_mail_is_delivered_over_implicit_tls(serve: Any, inbox: Inbox, tls: Tls) -> None:
    port = serve(ssl_context=tls.server)
    _send(f"smtps://127.0.0.1:{port}?cafile={tls.cafile}")
    _received(inbox)


def test_a_mail_is_delivered_after_starttls(serve: Any, inbox: Inbox, tls: Tls) -> None:
    port = serve(tls_context=tls.server, require_starttls=True)
    _send(f"smtp+starttls://localhost:{port}?cafile={tls.cafile}")
    _received(inbox)


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
@pytest.mark.parametrize("scheme", ["smtps", "smtp+starttls"])
def test_login_with_the_right_password_delivers(
    serve: Any, inbox: Inbox, tls: Tls, scheme: str
) -> None:
    # aiosmtpd counts only STARTTLS as TLS; behind implicit TLS it must be told AUTH is safe.
    tls_option: dict[str, Any] = (
        {"ssl_context": tls.server, "auth_require_tls": False}
        if scheme == "smtps"
        else {"tls_context": tls.server}
    )
    port = serve(authenticator=_authenticator, auth_required=True, **tls_option)
    user, password = "verwijsindex", "p%40ss%3Aword%2Fgeheim"  # percent-encoded PASSWORD
    _send(f"{scheme}://{user}:{password}@127.0.0.1:{port}?cafile={tls.cafile}")
    _received(inbox)


def test_login_with_a_wrong_password_fails_without_revealing_it(
    serve: Any, inbox: Inbox, tls: Tls
) -> None:
    port = serve(tls_context=tls.server, authenticator=_authenticator, auth_required=True)
    url = f"smtp+starttls://verwijsindex:hunter2@127.0.0.1:{port}?cafile={tls.cafile}"
    error = _failure(url)
    assert error.reason == "SMTP authentication failed"
    assert not error.permanent  # the operator fixes the configuration, then the retry delivers
    assert "hunter2" not in "".join(traceback.format_exception(error))
    assert inbox.envelopes == []


# --- failures --------------------------------------------------------------------------------


def test_a_refused_recipient_is_a_permanent_failure_without_the_address(
    serve: Any, inbox: Inbox
) -> None:
    port = serve()
    error = _failure(f"smtp://127.0.0.1:{port}", _mail(REFUSED))
    assert (error.reason, error.permanent) == ("SMTP 550", True)
    assert inbox.envelopes == []


def test_a_temporarily_refused_recipient_is_retried(serve: Any) -> None:
    port = serve()
    error = _failure(f"smtp://127.0.0.1:{port}", _mail(BUSY))
    assert (error.reason, error.permanent) == ("SMTP 451", False)


def test_an_untrusted_certificate_is_a_tls_error(serve: Any, inbox: Inbox, tls: Tls) -> None:
    port = serve(ssl_context=tls.server)
    error = _failure(f"smtps://127.0.0.1:{port}")  # system trust store only
    assert (error.reason, error.permanent) == ("TLS error", False)
    assert inbox.envelopes == []


def test_starttls_is_never_skipped_when_the_server_does_not_offer_it(
    serve: Any, inbox: Inbox, tls: Tls
) -> None:
    port = serve()  # no tls_context: no STARTTLS in EHLO
    error = _failure(f"smtp+starttls://127.0.0.1:{port}?cafile={tls.cafile}")
    assert "STARTTLS" in error.reason
    assert inbox.envelopes == []


def test_a_closed_port_is_connection_refused() -> None:
    error = _failure(f"smtp://127.0.0.1:{_free_port()}")
    assert (error.reason, error.permanent) == ("connection refused", False)


def test_a_server_that_never_answers_times_out() -> None:
    with socket.socket() as silent:  # the kernel accepts; nobody ever says 220
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        error = _failure(f"smtp://127.0.0.1:{port}?timeout=0.5")
    assert (error.reason, error.permanent) == ("timeout", False)


# --- the URL ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example.nl", SmtpSettings("mail.example.nl", 25, "plain")),
        ("smtp+starttls://mail.example.nl", SmtpSettings("mail.example.nl", 587, "starttls")),
        ("smtps://mail.example.nl", SmtpSettings("mail.example.nl", 465, "ssl")),
        ("SMTPS://Mail.Example.NL:2465/", SmtpSettings("mail.example.nl", 2465, "ssl")),
        (
            "smtps://a%40b:p%3Aw@mail.example.nl?cafile=/etc/ca.pem&timeout=2.5",
            SmtpSettings("mail.example.nl", 465, "ssl", "a@b", "p:w", "/etc/ca.pem", 2.5),
        ),
        ("smtp://u:@mail.example.nl", SmtpSettings("mail.example.nl", 25, "plain", "u", "")),
    ],
)
def test_an_smtp_url_is_read_into_settings(url: str, expected: SmtpSettings) -> None:
    assert parse_smtp_url(url) == expected


def test_the_password_stays_out_of_the_settings_repr() -> None:
    settings = parse_smtp_url("smtps://user:hunter2@mail.example.nl")
    assert settings.password == "hunter2"
    assert "hunter2" not in repr(settings)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://user:hunter2@mail.example.nl", "unknown scheme"),
        ("smtp+ssl://user:hunter2@mail.example.nl", "unknown scheme"),
        ("smtps://user:hunter2@", "host is missing"),
        ("smtps://user:hunter2@mail.example.nl:smtp", "port"),
        ("smtps://user:hunter2@mail.example.nl:70000", "port"),
        ("smtps://user:hunter2@mail.example.nl?verify=no", "unknown parameter 'verify'"),
        ("smtps://user:hunter2@mail.example.nl?timeout=0", "timeout"),
        ("smtps://user:hunter2@mail.example.nl?timeout=soon", "timeout"),
        ("smtps://user:hunter2@mail.example.nl?timeout=1&timeout=2", "twice"),
        ("smtps://user:hunter2@mail.example.nl/inbox", "path"),
        ("smtps://user:hunter2%C3%B6@mail.example.nl", "ASCII"),
    ],
)
def test_a_bad_smtp_url_is_refused_without_repeating_the_password(url: str, expected: str) -> None:
    with pytest.raises(ValueError, match=expected) as caught:
        parse_smtp_url(url)
    assert "hunter2" not in str(caught.value)
