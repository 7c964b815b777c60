"""Privacy endpoints under /api/v1: subject access requests (contract section 5)."""

from __future__ import annotations

from verwijsindex.api.blueprint import Blueprint

blp = Blueprint("privacy", __name__, url_prefix="/api/v1", description="Subject access")
