"""The footer's pages: toegankelijkheidsverklaring, privacyverklaring, contact (issue 14
item 9). Public: a person who cannot log in must still find whom to ask.

Each installation writes its own text: a plain-text file per page in the folder named by
VERWIJSINDEX_INFO_PAGES_DIR (`toegankelijkheid.txt`, `privacyverklaring.txt`,
`contact.txt`; paragraphs separated by a blank line). Plain text, not HTML, so a text
file cannot put a script or a form on the site. Without a file the page shows a sensible
Dutch default that says who to ask.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint
from werkzeug.wrappers import Response

from verwijsindex.web.context import core
from verwijsindex.web.pages import page

bp = Blueprint("web_info", __name__)


@dataclass(frozen=True)
class InfoPage:
    slug: str
    title: str
    default: str


PAGES = {
    info.slug: info
    for info in (
        InfoPage(
            "toegankelijkheid",
            "Toegankelijkheidsverklaring",
            "De verwijsindex wil voor iedereen bruikbaar zijn, ook met een schermlezer, "
            "alleen een toetsenbord of een klein scherm. De pagina's worden getoetst aan de "
            "richtlijnen voor toegankelijkheid (WCAG 2.1, niveau AA); elke pagina wordt bij "
            "elke wijziging automatisch gecontroleerd.\n\n"
            "Loopt u toch ergens tegenaan? Meld het bij de beheerder van de verwijsindex "
            "in uw organisatie of regio. Vermeld welke pagina het was en wat er misging.",
        ),
        InfoPage(
            "privacyverklaring",
            "Privacyverklaring",
            "De verwijsindex legt vast dát een hulpverlener bij een jeugdige betrokken is, "
            "nooit waarom. Het burgerservicenummer wordt niet opgeslagen: alleen een "
            "versleutelde afgeleide ervan, waarmee signalen over dezelfde jeugdige bij "
            "elkaar komen. Contactgegevens van hulpverleners worden versleuteld bewaard en "
            "elke inzage wordt vastgelegd.\n\n"
            "Een signaal is hoogstens twee jaar actief en wordt daarna hoogstens vijf jaar "
            "bewaard; alle gegevens over een jeugdige worden verwijderd zodra hij of zij 23 "
            "jaar wordt.\n\n"
            "Wilt u weten of de verwijsindex gegevens over u of uw kind bevat, of wilt u "
            "gegevens laten verwijderen? Neem contact op met de functionaris "
            "gegevensbescherming van uw gemeente.",
        ),
        InfoPage(
            "contact",
            "Contact",
            "Heeft u een vraag over het gebruik van de verwijsindex, kunt u niet inloggen of "
            "bent u uw wachtwoord of authenticator-app kwijt? Neem contact op met de "
            "beheerder van de verwijsindex in uw organisatie of regio: die kan u een nieuwe "
            "uitnodiging sturen.\n\n"
            "Vragen over privacy stelt u aan de functionaris gegevensbescherming van uw "
            "gemeente.",
        ),
    )
}


def paragraphs(text: str) -> list[str]:
    """Blank-line-separated paragraphs, each as one line."""
    return [" ".join(block.split()) for block in text.split("\n\n") if block.strip()]


def text_of(info: InfoPage, folder: Path | None) -> str:
    """The installation's own text if it wrote one, else the default."""
    if folder is not None:
        own = folder / f"{info.slug}.txt"
        if own.is_file():
            return own.read_text(encoding="utf-8")
    return info.default


@bp.get("/toegankelijkheid", defaults={"slug": "toegankelijkheid"})
@bp.get("/privacyverklaring", defaults={"slug": "privacyverklaring"})
@bp.get("/contact", defaults={"slug": "contact"})
def info_page(slug: str) -> Response:
    info = PAGES[slug]
    text = text_of(info, core().settings.info_pages_dir)
    return page("web/info/page.html", title=info.title, paragraphs=paragraphs(text))
