"""Refused accesses are audited too, after the refused transaction has been rolled back.

A use case raises `Refusal(error, entry)`; `records_refusals` writes the entry (outcome
`denied`) in a transaction of its own once the use case's transaction is closed (on SQLite
a second writer inside the first would wait for its own lock), then raises the domain error.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

from verwijsindex.audit import AuditEntry
from verwijsindex.domain import DomainError
from verwijsindex.services.core import Acting, Core

P = ParamSpec("P")
R = TypeVar("R")
A = TypeVar("A", bound=Acting)


class Refusal(Exception):
    def __init__(self, error: DomainError, entry: AuditEntry) -> None:
        super().__init__(error.detail)
        self.error = error
        self.entry = entry


def records_refusals(
    use_case: Callable[Concatenate[Core, A, P], R],
) -> Callable[Concatenate[Core, A, P], R]:
    def wrapper(core: Core, actor: A, /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return use_case(core, actor, *args, **kwargs)
        except Refusal as refusal:
            core.record_denied(actor, refusal.entry)
            raise refusal.error from None

    functools.update_wrapper(wrapper, use_case)
    return wrapper
