"""Queries and writes, returning domain objects; one session per unit of work.

Split by subject into mixins over one base (session, field encryption), so every use
case keeps a single `tx.repo`.
"""

from verwijsindex.repository.lifecycle import LifecycleQueries
from verwijsindex.repository.people import PeopleQueries, SystemClient
from verwijsindex.repository.records import RecordQueries, StoredResponse
from verwijsindex.repository.signals import SignalQueries

__all__ = ["Repository", "StoredResponse", "SystemClient"]


class Repository(PeopleQueries, SignalQueries, RecordQueries, LifecycleQueries):
    """Everything a use case reads or writes, bound to its session."""
