"""The mails professionals receive: Dutch, text and HTML, and free of personal data."""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest

from verwijsindex.notify.mails import TEXTS, MailKind, build_mail

TO = "j.jansen@wijkteam.example.nl"
SENDER = "verwijsindex@gemeente.example.nl"
LINK = "https://verwijsindex.example.nl/matches/7f3a2c9e-1b4d-4e8a-9c0f-2d6b5a8e1f44"
DUTCH_SUBJECTS = {
    MailKind.MATCH_CREATED: "Nieuwe match in de verwijsindex",
    MailKind.MATCH_GROWN: "Er is een collega bijgekomen in uw match",
    MailKind.REGISSEUR_DESIGNATED: "Er is een procesregisseur aangewezen",
    MailKind.FOLLOW_UP_REMINDER: "Herinnering: match nog niet opgevolgd",
    MailKind.INFORMATIEPLICHT_REVIEW: "Herinnering: uitstel informatieplicht verlopen",
    MailKind.SIGNALS_LEFT_BEHIND: "Signalen overdragen in de verwijsindex",
    MailKind.REGIE_MATCH: "Nieuwe match in uw gemeente",
    MailKind.REGIE_MOVE: "Verhuizing gemeld in de verwijsindex",
    MailKind.INVITATION: "Uitnodiging voor de verwijsindex",
}


def _parts(message: EmailMessage) -> tuple[str, str]:
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert isinstance(plain, EmailMessage) and isinstance(html, EmailMessage)
    return plain.get_content(), html.get_content()


def _sent(kind: MailKind, link: str = LINK) -> EmailMessage:
    """The mail as the relay receives it: serialised and parsed again."""
    raw = build_mail(kind, to=TO, sender=SENDER, link=link).as_bytes()
    parsed = message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_every_kind_has_a_text_and_its_own_subject() -> None:
    assert set(TEXTS) == set(MailKind)
    assert len({subject for subject, _ in TEXTS.values()}) == len(MailKind)


@pytest.mark.parametrize("kind", list(MailKind))
def test_each_mail_is_multipart_alternative_with_text_and_html_in_utf8(kind: MailKind) -> None:
    message = _sent(kind)
    assert message.get_content_type() == "multipart/alternative"
    types = [part.get_content_type() for part in message.iter_parts()]
    assert types == ["text/plain", "text/html"]
    assert all(part.get_content_charset() == "utf-8" for part in message.iter_parts())


@pytest.mark.parametrize("kind", list(MailKind))
def test_each_mail_has_a_dutch_subject_and_the_usual_headers(kind: MailKind) -> None:
    message = _sent(kind)
    assert message["Subject"] == DUTCH_SUBJECTS[kind]
    assert message["To"] == TO
    assert message["From"] == SENDER
    assert re.fullmatch(r"<[^@<>]+@gemeente\.example\.nl>", str(message["Message-ID"]))
    assert message["Date"] is not None
    assert message["Auto-Submitted"] == "auto-generated"


@pytest.mark.parametrize("kind", list(MailKind))
def test_each_mail_greets_a_colleague_and_says_where_to_look(kind: MailKind) -> None:
    plain, html = _parts(_sent(kind))
    assert plain.startswith("Beste collega,")
    assert "<p>Beste collega,</p>" in html
    assert LINK in plain
    assert f'<a href="{LINK}">' in html
    for text in (plain, html):
        assert "deelneemt aan de verwijsindex" in text
        assert "bewust geen gegevens" in text


@pytest.mark.parametrize("kind", list(MailKind))
def test_no_mail_body_carries_an_address_or_a_bsn_like_number(kind: MailKind) -> None:
    for body in _parts(_sent(kind)):
        assert TO not in body
        assert "jansen" not in body.lower()
        assert "@" not in body
        assert not re.search(r"\d{9}", body)


def test_the_html_part_escapes_the_link() -> None:
    link = 'https://verwijsindex.example.nl/matches?id=1&view="full"<x>'
    plain, html = _parts(_sent(MailKind.MATCH_CREATED, link))
    assert link in plain
    assert link not in html
    assert (
        'href="https://verwijsindex.example.nl/matches?id=1&amp;view=&quot;full&quot;&lt;x&gt;"'
        in html
    )


def test_the_html_part_loads_nothing_from_elsewhere() -> None:
    _, html = _parts(_sent(MailKind.MATCH_GROWN))
    assert "<img" not in html
    assert "<link" not in html
    assert "<script" not in html
    assert "style" not in html


def test_dutch_characters_survive_transport() -> None:
    plain, html = _parts(_sent(MailKind.REGISSEUR_DESIGNATED))
    assert "coördineert" in plain
    assert "coördineert" in html


@pytest.mark.parametrize("link", ["javascript:alert(1)", "/matches/1", "mailto:x@example.nl"])
def test_a_link_that_is_not_an_absolute_web_address_is_refused(link: str) -> None:
    with pytest.raises(ValueError, match="absolute"):
        build_mail(MailKind.MATCH_CREATED, to=TO, sender=SENDER, link=link)


def test_the_coordinators_mail_carries_only_the_count_of_signals_left_behind() -> None:
    raw = build_mail(
        MailKind.SIGNALS_LEFT_BEHIND,
        to=TO,
        sender=SENDER,
        link="https://verwijsindex.example.nl/coordinatie",
        count=7,
    ).as_bytes()
    parsed = message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    text, html = _parts(parsed)
    assert "nog 7 actieve signalen" in text and "nog 7 actieve signalen" in html
    assert "{count}" not in text + html
    for kind in MailKind:  # no other mail has anything filled in
        plain, _ = _parts(_sent(kind))
        assert "{count}" not in plain
