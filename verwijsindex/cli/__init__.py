"""The `verwijsindex` command (contract section 8), installed by `pip install -e .`.

Commands live in modules by purpose; importing them attaches them to `main`.
"""

from verwijsindex.cli import (
    admin,
    audit,
    federation,
    federation_servers,
    importing,
    operations,
    setup,
    worker,
)
from verwijsindex.cli.base import main

__all__ = [
    "admin",
    "audit",
    "federation",
    "federation_servers",
    "importing",
    "main",
    "operations",
    "setup",
    "worker",
]
