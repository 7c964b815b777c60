"""The `verwijsindex` command (contract section 8), installed by `pip install -e .`.

Commands live in modules by purpose; importing them attaches them to `main`.
"""

from verwijsindex.cli import admin, audit, federation, importing, operations, setup, worker
from verwijsindex.cli.base import main

__all__ = ["admin", "audit", "federation", "importing", "main", "operations", "setup", "worker"]
