"""The mails professionals receive, in Dutch, as plain text and HTML.

A mail says only that something happened and where to look. It carries no personal data at all:
no names (not even the recipient's), no BSN, no birth date, no organisation, no case content,
because mail leaves our control (relays, mailbox rules, forwarding, a shared inbox). The link
leads to the verwijsindex, where the reader logs in and sees what they are entitled to see.
"""

from __future__ import annotations

import html
import re
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from enum import StrEnum
from urllib.parse import urlsplit


class MailKind(StrEnum):
    MATCH_CREATED = "match_created"
    MATCH_GROWN = "match_grown"
    REGISSEUR_DESIGNATED = "regisseur_designated"
    FOLLOW_UP_REMINDER = "follow_up_reminder"
    INFORMATIEPLICHT_REVIEW = "informatieplicht_review"
    SIGNALS_LEFT_BEHIND = "signals_left_behind"
    # To a regievoerder (Jeugdwet 7.1.2.3 c-e, g): the link leads to their monitoring page.
    REGIE_MATCH = "regie_match"
    REGIE_MOVE = "regie_move"
    # To a new or re-invited person: the link is their invitation (`/uitnodiging#<code>`).
    INVITATION = "invitation"


GREETING = "Beste collega,"
LINK_INTRO = "Bekijk het in de verwijsindex:"
FOOTER = (
    "U ontvangt dit bericht omdat u deelneemt aan de verwijsindex. Dit bericht bevat bewust "
    "geen gegevens over de jeugdige of andere betrokkenen; die ziet u alleen na inloggen. "
    "Dit is een automatisch bericht: beantwoorden heeft geen zin."
)

# Every text a professional can receive, in one place so it can be reviewed at a glance
# (also for privacy: nothing here is filled in except the link).
TEXTS: dict[MailKind, tuple[str, tuple[str, ...]]] = {
    MailKind.MATCH_CREATED: (
        "Nieuwe match in de verwijsindex",
        (
            "Er is een nieuwe match in de verwijsindex: een of meer collega's hebben een signaal "
            "afgegeven over een jeugdige over wie ook u een signaal heeft afgegeven.",
            "Neem contact op met uw collega's en stem af wie wat doet. In de verwijsindex ziet "
            "u wie zij zijn en hoe u ze bereikt.",
        ),
    ),
    MailKind.MATCH_GROWN: (
        "Er is een collega bijgekomen in uw match",
        (
            "Er is een collega bijgekomen in een match waarin u deelneemt: nog een hulpverlener "
            "heeft een signaal afgegeven over dezelfde jeugdige.",
            "Neem contact op met uw nieuwe collega en stem de hulp met elkaar af.",
        ),
    ),
    MailKind.REGISSEUR_DESIGNATED: (
        "Er is een procesregisseur aangewezen",
        (
            "In een match waarin u deelneemt is een procesregisseur aangewezen. Die coördineert "
            "voortaan de samenwerking rond de jeugdige.",
            "Kijk in de verwijsindex wie de procesregisseur is en stem uw hulp met hem of haar af.",
        ),
    ),
    MailKind.FOLLOW_UP_REMINDER: (
        "Herinnering: match nog niet opgevolgd",
        (
            "Een match waarin u deelneemt is nog niet als opgevolgd gemarkeerd.",
            "Neem contact op met uw collega's en markeer de match daarna in de verwijsindex als "
            "opgevolgd.",
        ),
    ),
    MailKind.INFORMATIEPLICHT_REVIEW: (
        "Herinnering: uitstel informatieplicht verlopen",
        (
            "U heeft het informeren van de ouders of de jeugdige over uw signaal uitgesteld, "
            "en de datum waarop u dat uitstel zou heroverwegen is verstreken.",
            "Informeer de ouders of de jeugdige alsnog en leg dat vast, of leg een nieuw, "
            "gemotiveerd uitstel vast.",
        ),
    ),
    # To an organisation's coordinators (Jeugdwet 7.1.3.3); `{count}` is the only thing
    # filled in: a number, never who left or which children.
    MailKind.SIGNALS_LEFT_BEHIND: (
        "Signalen overdragen in de verwijsindex",
        (
            "Een professional van uw organisatie is gedeactiveerd en heeft nog {count} actieve "
            "signalen in de verwijsindex. Die blijven staan: de zorg is niet met de collega "
            "vertrokken.",
            "Draag de signalen over aan een collega. Tot dat gebeurt, noemt de verwijsindex u "
            "als contactpersoon bij de matches van deze signalen.",
        ),
    ),
    MailKind.REGIE_MATCH: (
        "Nieuwe match in uw gemeente",
        (
            "In de verwijsindex is een match ontstaan of gegroeid in een gemeente waarvoor u "
            "regievoerder bent.",
            "U ziet in de verwijsindex wie er betrokken zijn en of zij de match opvolgen.",
        ),
    ),
    MailKind.INVITATION: (
        "Uitnodiging voor de verwijsindex",
        (
            "De beheerder van de verwijsindex heeft u uitgenodigd. Met de link hieronder kiest "
            "u een wachtwoord en stelt u de tweede stap in (een authenticator-app).",
            "De link werkt één keer en is zeven dagen geldig. Deel hem met niemand. Verwacht u "
            "deze uitnodiging niet, neem dan contact op met uw beheerder.",
        ),
    ),
    MailKind.REGIE_MOVE: (
        "Verhuizing gemeld in de verwijsindex",
        (
            "Er is een signaal afgegeven over een jeugdige die eerder in een andere gemeente "
            "signalen had, met een gemeente waarvoor u regievoerder bent.",
            "U ziet in de verwijsindex de matches in uw gemeente en wie erbij betrokken zijn.",
        ),
    ),
}


# Federation (docs/federation.md, point 5): a match mail whose colleagues include professionals
# of another region says so; `{regions}` is filled with the regions' names (the names of
# verwijsindex instances, saying nothing about the child or the people involved).
OTHER_REGIONS = (
    "Een of meer van deze collega's werken in een andere regio ({regions}). U ziet hen met "
    "hun contactgegevens in de verwijsindex; hun eigen regio informeert hen."
)
_REGION_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def build_mail(
    kind: MailKind,
    *,
    to: str,
    sender: str,
    link: str,
    count: int | None = None,
    regions: tuple[str, ...] = (),
) -> EmailMessage:
    """A multipart/alternative mail (text and HTML, UTF-8) of `kind`, pointing at `link`.

    `link` must be an absolute http(s) URL and, like everything in a mail, must not identify a
    child: pass a link to a match or signal id, never to anything carrying a BSN. `regions`
    (match mails only) names the other regions whose professionals take part.
    """
    if urlsplit(link).scheme not in ("https", "http") or not urlsplit(link).netloc:
        raise ValueError("mail link must be an absolute http(s) URL")
    subject, texts = TEXTS[kind]
    # Only a number is ever filled in (`{count}`), and region names; every other text is fixed.
    paragraphs = tuple(p.replace("{count}", str(count or 0)) for p in texts)
    named = [r for r in regions if _REGION_NAME.match(r)]
    if named and kind in (MailKind.MATCH_CREATED, MailKind.MATCH_GROWN):
        paragraphs += (OTHER_REGIONS.replace("{regions}", ", ".join(named)),)
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = to
    message["Date"] = formatdate(usegmt=True)
    # The sender's domain, not socket.getfqdn(): that can be slow and names an internal host.
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    # RFC 3834: keeps out-of-office replies and other robots from answering.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(_text(paragraphs, link), charset="utf-8", cte="quoted-printable")
    message.add_alternative(
        _html(subject, paragraphs, link), subtype="html", charset="utf-8", cte="quoted-printable"
    )
    return message


def _text(paragraphs: tuple[str, ...], link: str) -> str:
    blocks = [GREETING, *paragraphs, f"{LINK_INTRO}\n{link}", f"-- \n{FOOTER}"]
    return "\n\n".join(blocks) + "\n"


def _html(subject: str, paragraphs: tuple[str, ...], link: str) -> str:
    e = html.escape
    body = "\n".join(f"<p>{e(paragraph)}</p>" for paragraph in (GREETING, *paragraphs))
    return (
        "<!DOCTYPE html>\n"
        '<html lang="nl">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{e(subject)}</title>\n</head>\n<body>\n"
        f"{body}\n"
        f'<p>{e(LINK_INTRO)}<br>\n<a href="{e(link)}">{e(link)}</a></p>\n'
        f"<hr>\n<p><small>{e(FOOTER)}</small></p>\n"
        "</body>\n</html>\n"
    )
