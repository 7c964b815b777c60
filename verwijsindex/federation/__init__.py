"""Federation between regions (docs/federation.md): OPRF pseudonyms, identities, members,
and the region's client and request-path staging."""
