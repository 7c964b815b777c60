"""What every use case needs: settings, database, keys, the clock, and who is acting."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol

import cachetools
from sqlalchemy.orm import Session

from verwijsindex.audit import AuditEntry, AuditLog, Who
from verwijsindex.config import Settings
from verwijsindex.crypto import KeyRing
from verwijsindex.db import Database
from verwijsindex.domain import (
    Bsn,
    Forbidden,
    Professional,
    Role,
    Unauthenticated,
    local_date,
    start_of_local_day,
)
from verwijsindex.federation.settings import FederationSettings
from verwijsindex.federation.staged import StagedPseudonym
from verwijsindex.federation.staged import stage as stage_blinds
from verwijsindex.pseudonym import Pseudonymiser
from verwijsindex.services.pipeline import BEFORE_COMMIT
from verwijsindex.services.standing import (
    CACHED_CREDENTIALS,
    Credential,
    Standing,
    standing_of,
    withheld_from,
)
from verwijsindex.services.unit_of_work import PreCommitStep, Transaction
from verwijsindex.tokens import TokenAuthority, TokenClaims, installation_issuer

__all__ = ["Acting", "Actor", "AuthCache", "Clock", "Core", "Transaction", "system_clock"]

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


class Acting(Protocol):
    """Whoever a transaction acts for, as the audit log names them."""

    @property
    def who(self) -> Who: ...


@dataclass(frozen=True, slots=True)
class Actor:
    """The professional on whose behalf a request acts, the system client if any, and the
    kind of credential that acted.

    With a system token, `professional.roles` are only the roles a system token may carry
    and `withheld` holds the rest (contract section 4), so that a role check anywhere,
    `require()` or `professional.has_role()`, refuses oversight powers to a system token.
    Build one with `Actor.through_system` or `Actor.through_personal_token`.
    """

    professional: Professional
    client_id: uuid.UUID | None = None
    credential: Credential | None = None
    withheld: frozenset[Role] = frozenset()

    def __post_init__(self) -> None:
        system = self.credential == "system"
        if system != (self.client_id is not None):
            raise ValueError("a system client acts exactly when the credential is `system`")
        if self.professional.roles & withheld_from(self.credential, self.professional.roles):
            raise ValueError("a system token cannot carry oversight roles")

    @classmethod
    def through_system(cls, professional: Professional, client_id: uuid.UUID) -> Actor:
        withheld = withheld_from("system", professional.roles)
        carried = replace(professional, roles=professional.roles - withheld)
        return cls(carried, client_id, "system", withheld)

    @classmethod
    def through_personal_token(cls, professional: Professional) -> Actor:
        return cls(professional, None, "personal")

    @property
    def id(self) -> uuid.UUID:
        return self.professional.id

    @property
    def held_roles(self) -> frozenset[Role]:
        """Every role the person held when this actor was resolved, withheld ones too."""
        return self.professional.roles | self.withheld

    @property
    def who(self) -> Who:
        return Who(
            self.professional.id,
            self.client_id,
            tuple(sorted(r.value for r in self.professional.roles)),
            self.credential,
        )

    def require(self, role: Role) -> None:
        if role in self.withheld:
            raise Forbidden(
                f"The role {role.value} acts only in person (the web UI with its second "
                "factor, or a personal token), never through a system token."
            )
        if not self.professional.has_role(role):
            raise Forbidden(f"This requires the role {role.value}.")


# How long a resolved caller is reused, so that a request needs no transaction of its own
# just to learn who is calling. It does not delay a deactivation, revocation or withdrawn
# role: every use case's transaction confirms the caller's standing (`standing_of`). Token
# expiry is checked on every request.
ACTOR_CACHE_SECONDS = 10


class AuthCache:
    """Per-process caches of verified tokens and resolved actors (thread-safe)."""

    def __init__(self, size: int = 10_000) -> None:
        self._lock = threading.Lock()
        self._claims: cachetools.LRUCache[str, TokenClaims] = cachetools.LRUCache(size)
        self._actors: cachetools.TTLCache[tuple[str, str | None], Actor] = cachetools.TTLCache(
            size, ttl=ACTOR_CACHE_SECONDS
        )

    def claims(self, tokens: TokenAuthority, bearer: str, now: datetime) -> TokenClaims:
        """The token's claims; the signature is checked once per token, expiry every time."""
        with self._lock:
            cached = self._claims.get(bearer)
        if cached is None:
            cached = tokens.verify(bearer, now)
            with self._lock:
                self._claims[bearer] = cached
        else:
            tokens.check_times(cached, now)
        return cached

    def actor(self, key: tuple[str, str | None]) -> Actor | None:
        with self._lock:
            return self._actors.get(key)

    def remember(self, key: tuple[str, str | None], actor: Actor) -> None:
        with self._lock:
            self._actors[key] = actor

    def forget(self, professional_id: uuid.UUID) -> None:
        """Drop every cached actor for this person (rare: their standing changed)."""
        with self._lock:
            stale = [k for k, a in self._actors.items() if a.id == professional_id]
            for key in stale:
                self._actors.pop(key, None)


class Core:
    """What every use case needs, wired once per process: settings, database, keys, clock,
    and the steps every transaction runs before it commits (`services.pipeline`)."""

    def __init__(
        self,
        settings: Settings,
        database: Database,
        keys: KeyRing,
        clock: Clock = system_clock,
        before_commit: Sequence[PreCommitStep] = BEFORE_COMMIT,
    ) -> None:
        self.settings = settings
        self.database = database
        self.keys = keys
        self.clock = clock
        self.pseudonymiser = Pseudonymiser(keys.pseudonym_key_id, keys.pseudonym_key)
        self.tokens = TokenAuthority(
            keys.signing,
            settings.token_issuer or installation_issuer(keys.signing),
            timedelta(seconds=settings.token_lifetime_seconds),
        )
        self.auth_cache = AuthCache()
        self.audit_log = AuditLog(keys.audit_key)
        self.before_commit = tuple(before_commit)
        # Federation (docs/federation.md): off unless VERWIJSINDEX_FEDERATION_* name this
        # region, the hub and the key holder. Off, no transaction sends a statement more.
        self.federation = FederationSettings.from_env()

    def now(self) -> datetime:
        return self.clock()

    def federation_blinds(self, people: Iterable[tuple[str, Bsn]]) -> tuple[StagedPseudonym, ...]:
        """Federation on: each (local pseudonym, BSN) blinded for the key holder, to be
        staged in the use case's transaction (`tx.staged_pseudonyms`); off: nothing, at no
        cost. Local work only, never a network call."""
        if not self.federation.region_enabled:
            return ()
        return stage_blinds(self.keys.cipher, people)

    # Pure rules of the domain; kept here for callers that reach them through `Core`.
    local_date = staticmethod(local_date)
    start_of_local_day = staticmethod(start_of_local_day)

    @contextmanager
    def transaction(self, *, write: bool, actor: Acting | None = None) -> Iterator[Transaction]:
        now = self.now()
        with self.database.unit_of_work(write=write) as uow:
            if isinstance(actor, Actor) and actor.credential in CACHED_CREDENTIALS:
                self._confirm_standing(uow.session, actor)
            yield Transaction(
                uow=uow,
                keys=self.keys,
                now=now,
                audit_log=self.audit_log,
                before_commit=self.before_commit,
                who=actor.who if actor else None,
                federation=self.federation.region_enabled,
            )

    def _confirm_standing(self, session: Session, actor: Actor) -> None:
        """One indexed statement in the use case's own transaction: the cached caller is
        still active, its client not revoked, and no role it holds was withdrawn."""
        standing = standing_of(
            session, actor.id, actor.professional.organisation.id, actor.held_roles, actor.client_id
        )
        if standing is not Standing.UNCHANGED:
            self.auth_cache.forget(actor.id)
        if standing is Standing.LOST:
            raise Unauthenticated(
                "This token no longer grants access: its professional was deactivated or "
                "lost a role, or its system client was revoked."
            )

    def record_denied(self, actor: Acting | None, entry: AuditEntry) -> None:
        """Audit a refused access in a transaction of its own: the use case's own
        transaction is rolled back with the error, and the refusal must still be on record."""
        with self.transaction(write=True, actor=actor) as tx:
            tx.record(entry.denied())
            tx.commit()
