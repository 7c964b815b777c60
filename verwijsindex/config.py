"""Settings, read once from `VERWIJSINDEX_*` environment variables and checked at start.

A misconfiguration should stop the process with a sentence a beheerder understands, not
surface later as a stack trace in the middle of a request.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from verwijsindex.notify.smtp import parse_smtp_url

DEFAULT_DATABASE_URL = "sqlite:///instance/verwijsindex.db"
DEFAULT_BASE_URL = "http://localhost:8080"
MAX_TOKEN_LIFETIME_SECONDS = 3600  # NL GOV OAuth profile: access tokens live at most an hour


class ConfigError(Exception):
    """The environment does not describe a usable installation."""


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    keys_dir: Path = field(default_factory=lambda: Path("keys"))
    smtp_url: str | None = None
    base_url: str = DEFAULT_BASE_URL
    token_lifetime_seconds: int = MAX_TOKEN_LIFETIME_SECONDS
    # `development` allows webhook receivers on http://localhost; production wants https
    # to a public address.
    environment: str = "production"
    mail_from: str | None = None
    # Where Flask-Limiter keeps its counters: `redis://host:port` shares them between all
    # gunicorn workers (and hosts); `memory://` counts per worker process (development).
    ratelimit_storage_url: str = "memory://"
    # The `iss` of our tokens. Unset, it is derived from the signing key (see
    # `tokens.installation_issuer`), not from the base URL: `serve` defaults that to the
    # address it listens on, and a token must work on any address with the same keys.
    token_issuer: str | None = None
    # A folder with the organisation's own texts for the footer's pages
    # (toegankelijkheid.txt, privacyverklaring.txt, contact.txt); unset, a Dutch default.
    info_pages_dir: Path | None = None

    @property
    def development(self) -> bool:
        return self.environment == "development"

    @property
    def sender_address(self) -> str:
        """The From of our mails: VERWIJSINDEX_MAIL_FROM, or noreply@ the public host."""
        if self.mail_from:
            return self.mail_from
        host = urlsplit(self.base_url).hostname or "localhost"
        return f"Verwijsindex <noreply@{host}>"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        settings = cls(
            database_url=env.get("VERWIJSINDEX_DATABASE_URL") or DEFAULT_DATABASE_URL,
            keys_dir=Path(env.get("VERWIJSINDEX_KEYS_DIR") or "keys"),
            smtp_url=env.get("VERWIJSINDEX_SMTP_URL") or None,
            base_url=env.get("VERWIJSINDEX_BASE_URL") or DEFAULT_BASE_URL,
            environment=env.get("VERWIJSINDEX_ENVIRONMENT") or "production",
            mail_from=env.get("VERWIJSINDEX_MAIL_FROM") or None,
            ratelimit_storage_url=env.get("VERWIJSINDEX_RATELIMIT_STORAGE_URL") or "memory://",
            token_issuer=env.get("VERWIJSINDEX_TOKEN_ISSUER") or None,
            info_pages_dir=Path(env["VERWIJSINDEX_INFO_PAGES_DIR"])
            if env.get("VERWIJSINDEX_INFO_PAGES_DIR")
            else None,
        )
        settings.check()
        return settings

    def check(self) -> None:
        scheme = self.database_url.split(":", 1)[0]
        if not (scheme.startswith("sqlite") or scheme.startswith("postgresql")):
            raise ConfigError(
                "VERWIJSINDEX_DATABASE_URL must be a SQLAlchemy URL for SQLite or PostgreSQL, "
                "e.g. postgresql+psycopg://user@host/dbname"
            )
        base = urlsplit(self.base_url)
        if base.scheme not in ("http", "https") or not base.netloc:
            raise ConfigError("VERWIJSINDEX_BASE_URL must be an absolute http(s) URL")
        if self.environment not in ("production", "development"):
            raise ConfigError("VERWIJSINDEX_ENVIRONMENT must be production or development")
        if self.smtp_url is not None:
            try:
                parse_smtp_url(self.smtp_url)
            except ValueError as error:
                raise ConfigError(f"VERWIJSINDEX_SMTP_URL: {error}") from None
        if self.token_issuer is not None and (
            self.token_issuer != self.token_issuer.strip() or not self.token_issuer
        ):
            raise ConfigError("VERWIJSINDEX_TOKEN_ISSUER must not be blank or padded")
        if not 60 <= self.token_lifetime_seconds <= MAX_TOKEN_LIFETIME_SECONDS:
            raise ConfigError("token lifetime must be between 60 and 3600 seconds")
