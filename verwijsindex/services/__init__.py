"""Use cases: the only layer that opens transactions and commits.

`api`, `web` and `cli` call these functions and nothing below them.
"""

from verwijsindex.services.core import Actor, Clock, Core, system_clock

__all__ = ["Actor", "Clock", "Core", "system_clock"]
