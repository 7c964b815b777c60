"""The integrators' documentation page at `/api/v1/docs` (issue 12 item 5), through the app.

It must work offline (every asset from this service, served from the swagger-ui-bundle
package), keep the API's security headers with a policy that allows only this origin, stay
out of the OpenAPI document, and serve nothing of the package beyond what the page uses.
The page rendered in a real browser is tested in tests/browser/test_api_docs.py.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from flask.testing import FlaskClient
from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]

from tests.e2e.test_conventions import SECURITY_HEADERS, assert_problem

DOCS = "/api/v1/docs"


class _References(HTMLParser):
    """Every address a page makes the browser fetch or run: `src` and `href` attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str]] = []
        self.inline_scripts = 0
        self.inline_styles = 0
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name in ("src", "href"):
            if values.get(name):
                self.found.append((tag, values[name] or ""))
        self._in_script = tag == "script"
        self.inline_styles += tag == "style" or "style" in values

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_scripts += 1

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False


def _references(client: FlaskClient) -> _References:
    response = client.get(DOCS)
    assert response.status_code == 200
    parser = _References()
    parser.feed(response.get_data(as_text=True))
    return parser


def test_the_docs_page_is_public_html_with_the_security_headers(client: FlaskClient) -> None:
    response = client.get(DOCS)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert response.mimetype_params.get("charset") == "utf-8"
    assert "<title>verwijsindex API" in response.get_data(as_text=True)
    assert response.headers["API-Version"]
    for name, value in SECURITY_HEADERS.items():
        if name == "Content-Security-Policy":
            assert value in response.headers[name]
        else:
            assert response.headers[name] == value, name


def test_the_page_references_only_local_assets_that_answer_with_their_content_type(
    client: FlaskClient,
) -> None:
    parser = _references(client)
    assert parser.inline_scripts == 0 and parser.inline_styles == 0
    expected = {"script": "text/javascript", "link": None}
    page_url = f"http://localhost{DOCS}"
    kinds: set[str] = set()
    for tag, reference in parser.found:
        assert not urlsplit(reference).scheme and not reference.startswith("//"), reference
        url = urlsplit(urljoin(page_url, reference))
        assert url.netloc == "localhost" and url.path.startswith(f"{DOCS}/"), reference
        response = client.get(url.path)
        assert response.status_code == 200, reference
        mimetype = expected[tag] or {".css": "text/css", ".png": "image/png"}[Path(url.path).suffix]
        assert response.mimetype == mimetype, (reference, response.mimetype)
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        kinds.add(Path(url.path).suffix)
    assert kinds == {".css", ".js", ".png"}


def test_the_bundle_is_the_packages_own_file_unchanged(client: FlaskClient) -> None:
    for name in ("swagger-ui-bundle.js", "swagger-ui.css"):
        response = client.get(f"{DOCS}/{name}")
        assert response.status_code == 200
        assert response.data == (Path(str(swagger_ui_path)) / name).read_bytes(), name


def test_the_initializer_renders_our_document_and_asks_no_other_host(
    client: FlaskClient,
) -> None:
    [initializer] = [r for t, r in _references(client).found if r.endswith("docs.js")]
    script = client.get(urljoin(f"{DOCS}", initializer)).get_data(as_text=True)
    assert "validatorUrl: null" in script  # else Swagger UI sends the document elsewhere
    assert not re.search(r"https?:", script)
    page = client.get(DOCS).get_data(as_text=True)
    assert 'data-openapi-url="openapi.json"' in page  # relative to /api/v1/docs
    assert client.get(urljoin(DOCS, "openapi.json")).status_code == 200


def test_the_policy_allows_this_origin_only_and_no_inline_code(client: FlaskClient) -> None:
    for path in (DOCS, f"{DOCS}/swagger-ui-bundle.js"):
        policy = client.get(path).headers["Content-Security-Policy"]
        directives = dict(part.strip().partition(" ")[::2] for part in policy.split(";"))
        assert directives["default-src"] == "'none'"
        assert directives["script-src"] == "'self'"
        assert directives["style-src"] == "'self'"
        assert directives["connect-src"] == "'self'"
        assert directives["frame-ancestors"] == "'none'"
        assert "unsafe" not in policy and "http" not in policy and "*" not in policy


@pytest.mark.parametrize(
    "path",
    [
        f"{DOCS}/",
        f"{DOCS}/index.html",  # the package's petstore page
        f"{DOCS}/swagger-initializer.js",  # the package's petstore initializer
        f"{DOCS}/oauth2-redirect.html",
        f"{DOCS}/..%2F__init__.py",
        f"{DOCS}/nothing.js",
    ],
)
def test_nothing_beyond_the_pages_assets_is_served(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert "Location" not in response.headers
    assert_problem(response, 404)


def test_the_docs_are_read_only(client: FlaskClient) -> None:
    response = client.post(DOCS, data="x", content_type="text/plain")
    assert_problem(response, 405)
    assert "GET" in response.headers["Allow"]


def test_the_docs_routes_are_not_operations_of_the_openapi_document(
    client: FlaskClient,
) -> None:
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert not [path for path in paths if path.startswith("/docs")]
