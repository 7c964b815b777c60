"""The floor: a bare Flask JSON endpoint under the same gunicorn settings as the real service.

It parses the JSON body and answers a small 201, nothing else, so ``ours / bare`` throughput says
how much of the framework-plus-server budget the real endpoint spends on its own work (auth,
validation, pseudonymisation, matching, audit, commit). Same path as the real API so the same
wrk script drives all three apps.
"""

from __future__ import annotations

import uuid

from flask import Flask, Response, jsonify, request

app = Flask(__name__)


@app.post("/api/v1/signals")
def post_signal() -> tuple[Response, int]:
    """Parse the body (the minimum any JSON API pays) and answer 201 with a fresh id."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or "bsn" not in body:
        return jsonify({"title": "bad request"}), 400
    return jsonify({"id": str(uuid.uuid4()), "status": "active", "matches": []}), 201


@app.get("/health")
def health() -> Response:
    """Readiness probe for the orchestrator."""
    return jsonify({"status": "ok"})
