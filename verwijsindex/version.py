"""The API version: OpenAPI `info.version` and the `API-Version` response header."""

API_VERSION = "1.0.0"
