"""Federation settings, read from `VERWIJSINDEX_FEDERATION_*` (docs/federation.md).

Every mode has a member name (`VERWIJSINDEX_FEDERATION_NAME`; the hub defaults to `hub`,
the key holder to `keyholder`). A region federates when it names itself, the hub and the
key holder; otherwise it is the stand-alone service it always was.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from verwijsindex.config import ConfigError

NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
DEFAULT_HUB_NAME = "hub"
DEFAULT_KEYHOLDER_NAME = "keyholder"


@dataclass(frozen=True)
class FederationSettings:
    name: str | None = None
    hub_url: str | None = None
    hub_name: str = DEFAULT_HUB_NAME
    # The hub's public signing key (PEM file): a region checks the hub's tickets with it.
    hub_key_file: Path | None = None
    keyholder_url: str | None = None
    keyholder_name: str = DEFAULT_KEYHOLDER_NAME
    # How often a region's worker asks the hub for notices.
    poll_seconds: float = 2.0
    # Key holder: elements one member may have evaluated per minute.
    keyholder_rate_per_minute: int = 6000

    @property
    def region_enabled(self) -> bool:
        return bool(self.name and self.hub_url and self.keyholder_url)

    def member_name(self, default: str) -> str:
        return self.name or default

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> FederationSettings:
        env = os.environ if environ is None else environ
        prefix = "VERWIJSINDEX_FEDERATION_"
        try:
            poll = float(env.get(prefix + "POLL_SECONDS") or 2.0)
            rate = int(env.get("VERWIJSINDEX_KEYHOLDER_RATE_PER_MINUTE") or 6000)
        except ValueError:
            raise ConfigError(
                "VERWIJSINDEX_FEDERATION_POLL_SECONDS and VERWIJSINDEX_KEYHOLDER_RATE_PER_MINUTE "
                "must be numbers"
            ) from None
        settings = cls(
            name=env.get(prefix + "NAME") or None,
            hub_url=(env.get(prefix + "HUB_URL") or "").rstrip("/") or None,
            hub_name=env.get(prefix + "HUB_NAME") or DEFAULT_HUB_NAME,
            hub_key_file=Path(env[prefix + "HUB_KEY"]) if env.get(prefix + "HUB_KEY") else None,
            keyholder_url=(env.get(prefix + "KEYHOLDER_URL") or "").rstrip("/") or None,
            keyholder_name=env.get(prefix + "KEYHOLDER_NAME") or DEFAULT_KEYHOLDER_NAME,
            poll_seconds=poll,
            keyholder_rate_per_minute=rate,
        )
        settings.check()
        return settings

    def check(self) -> None:
        for label, value in (
            ("NAME", self.name),
            ("HUB_NAME", self.hub_name),
            ("KEYHOLDER_NAME", self.keyholder_name),
        ):
            if value is not None and not NAME.match(value):
                raise ConfigError(
                    f"VERWIJSINDEX_FEDERATION_{label} must be lower-case letters, digits and "
                    "hyphens (at most 63), e.g. regio-utrecht"
                )
        for label, url in (("HUB_URL", self.hub_url), ("KEYHOLDER_URL", self.keyholder_url)):
            if url is not None:
                parts = urlsplit(url)
                if parts.scheme not in ("http", "https") or not parts.netloc:
                    raise ConfigError(f"VERWIJSINDEX_FEDERATION_{label} must be an http(s) URL")
        if self.hub_key_file is not None and not self.hub_key_file.is_file():
            raise ConfigError(
                f"VERWIJSINDEX_FEDERATION_HUB_KEY: no file {self.hub_key_file} (the hub's "
                "public key, from `verwijsindex federation public-key` run at the hub)"
            )
        if not 0.05 <= self.poll_seconds <= 3600:
            raise ConfigError("VERWIJSINDEX_FEDERATION_POLL_SECONDS must be 0.05 to 3600")
        if self.keyholder_rate_per_minute < 1:
            raise ConfigError("VERWIJSINDEX_KEYHOLDER_RATE_PER_MINUTE must be at least 1")
