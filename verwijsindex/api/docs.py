"""Rendered API documentation for integrators at `GET /api/v1/docs` (Swagger UI).

Swagger UI comes from the `swagger-ui-bundle` package, so the page works offline and behind
a firewall: no CDN, no fonts or validator badge fetched from elsewhere. Only the files the
page needs are served (a fixed list, not the package directory): the package also ships a
petstore `index.html` and initializer that must not appear on our address.

The page, its initializer and the assets are a plain Flask blueprint, not a flask-smorest
one: they are not API operations and stay out of the OpenAPI document (and out of the ADR
lint). They are public, like the OpenAPI document they render.

Headers: the API's ADR security headers (added to every response by `api.init_app`), with a
Content-Security-Policy that allows this origin's scripts, styles and the document fetch
and nothing else (no inline script or style, no eval) and keeps `frame-ancestors 'none'`.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from flask import Blueprint, Flask, Response, abort, send_file
from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]

from verwijsindex.api.openapi import PREFIX
from verwijsindex.version import API_VERSION

DOCS_PATH = f"{PREFIX}/docs"
# `data:` images: swagger-ui.css draws its icons as inline SVG and PNG data URLs.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_INITIALIZER = "verwijsindex-docs.js"
# The files of the package the page uses (source maps too, for a developer's debugger).
ASSETS: dict[str, str] = {
    "swagger-ui.css": "text/css",
    "swagger-ui.css.map": "application/json",
    "index.css": "text/css",
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui-bundle.js.map": "application/json",
    "favicon-32x32.png": "image/png",
    "favicon-16x16.png": "image/png",
}

# Relative addresses (the page is `.../api/v1/docs`), so the page works wherever the API is
# mounted. The document's address travels in a data attribute: no inline script.
_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>verwijsindex API {version}</title>
<link rel="stylesheet" href="docs/swagger-ui.css">
<link rel="stylesheet" href="docs/index.css">
<link rel="icon" type="image/png" href="docs/favicon-32x32.png" sizes="32x32">
<link rel="icon" type="image/png" href="docs/favicon-16x16.png" sizes="16x16">
</head>
<body>
<div id="swagger-ui" data-openapi-url="openapi.json"></div>
<script src="docs/swagger-ui-bundle.js"></script>
<script src="docs/{initializer}"></script>
</body>
</html>
"""

# validatorUrl null: Swagger UI would otherwise send the document to validator.swagger.io
# for a badge. BaseLayout: no top bar with a box to load other documents from elsewhere.
_INITIALIZER_JS = """"use strict";
window.addEventListener("load", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: new URL(root.dataset.openapiUrl, document.baseURI).href,
    domNode: root,
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    displayRequestDuration: true
  });
});
"""

bp = Blueprint("api_docs", __name__)


def _with_policy(response: Response) -> Response:
    # Set here, so `api.init_app`'s defaults (`frame-ancestors 'none'` alone) do not apply.
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.get(DOCS_PATH)
def page() -> Response:
    """The Swagger UI page rendering `/api/v1/openapi.json`."""
    html = _PAGE.format(version=escape(API_VERSION), initializer=_INITIALIZER)
    return _with_policy(Response(html, mimetype="text/html"))


@bp.get(f"{DOCS_PATH}/{_INITIALIZER}")
def initializer() -> Response:
    return _with_policy(Response(_INITIALIZER_JS, mimetype="text/javascript"))


@bp.get(f"{DOCS_PATH}/<asset>")
def asset(asset: str) -> Response:
    """One file of the Swagger UI bundle; anything not on the list is a 404 problem."""
    content_type = ASSETS.get(asset)
    if content_type is None:
        abort(404)
    path = Path(str(swagger_ui_path)) / asset
    response = send_file(path, mimetype=content_type, conditional=True, etag=True)
    return _with_policy(response)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
