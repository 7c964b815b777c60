"""Small stand-ins that speak the federation protocol of docs/federation.md as real HTTP
servers on loopback: a key holder (OPRF evaluation with `oprf.blind_evaluate`, re-key
factors), a hub (holdings, counterparts, tickets signed with a test identity, lookups,
notices) and another region answering participants. They check the callers' client
assertions with the members' public keys, as the real parties do, and record what they
were sent, so tests can look at the wire.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from verwijsindex.federation import oprf
from verwijsindex.federation.identity import (
    Identity,
    NotAuthenticated,
    b64url,
    from_b64url,
    thumbprint,
    verify,
)

Handler = Callable[[str, str, dict[str, str], Any], tuple[int, dict[str, Any]]]


class Party:
    """One stand-in: a threaded HTTP server calling `handle(method, path, headers, body)`."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.identity = Identity(name, Ed25519PrivateKey.generate())
        self.members: dict[str, Ed25519PublicKey] = {}
        self.seen: set[str] = set()
        self.requests: list[tuple[str, str, Any]] = []
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def enrol(self, name: str, key: Ed25519PublicKey) -> None:
        self.members[name] = key

    def caller(self, headers: dict[str, str]) -> str:
        """The member whose assertion this is (the real parties' check, in short)."""
        token = headers.get("Authorization", "").removeprefix("Bearer ")

        def key_of(iss: str, kid: str) -> Ed25519PublicKey | None:
            key = self.members.get(iss)
            return key if key is not None and thumbprint(key) == kid else None

        def seen(jti: str, exp: int) -> bool:
            with self.lock:
                if jti in self.seen:
                    return True
                self.seen.add(jti)
                return False

        return str(verify(token, self.name, key_of, seen).claims["iss"])

    def handle(
        self, method: str, path: str, headers: dict[str, str], body: Any
    ) -> tuple[int, dict[str, Any]]:
        raise NotImplementedError

    def start(self) -> None:
        party = self

        class RequestHandler(BaseHTTPRequestHandler):
            def _serve(self, method: str) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0") or 0))
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = None
                headers = dict(self.headers.items())
                with party.lock:
                    party.requests.append((method, self.path, body))
                try:
                    status, answer = party.handle(method, self.path, headers, body)
                except NotAuthenticated as refused:
                    status, answer = 401, {"title": "Unauthorized", "detail": str(refused)}
                data = json.dumps(answer).encode()
                self.send_response(status)
                kind = "application/problem+json" if status >= 400 else "application/json"
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), RequestHandler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def bodies(self, path: str) -> list[Any]:
        with self.lock:
            return [b for _, p, b in self.requests if p.split("?")[0] == path]


class KeyHolder(Party):
    def __init__(self) -> None:
        super().__init__("keyholder")
        self.keys = {1: oprf.random_key()}
        self.current = 1

    def rotate(self) -> int:
        self.current += 1
        self.keys[self.current] = oprf.random_key()
        return self.current

    def element(self, bsn: str, version: int | None = None) -> str:
        """What a region should end up with for this BSN: `k_v · H(bsn)` (tests only)."""
        key = self.keys[version or self.current]
        return b64url(oprf.blind_evaluate(key, oprf.hash_to_group(bsn.encode())))

    def handle(
        self, method: str, path: str, headers: dict[str, str], body: Any
    ) -> tuple[int, dict[str, Any]]:
        self.caller(headers)
        parts = urlsplit(path)
        if method == "POST" and parts.path == "/federation/v1/evaluate":
            blinded = body.get("blindedElements") if isinstance(body, dict) else None
            if not isinstance(blinded, list) or not 1 <= len(blinded) <= 1000:
                return 400, {"title": "Bad Request"}
            try:
                evaluated = [
                    b64url(oprf.blind_evaluate(self.keys[self.current], from_b64url(b)))
                    for b in blinded
                ]
            except (oprf.OprfError, ValueError):
                return 400, {"title": "Bad Request", "detail": "invalid element"}
            return 200, {"keyVersion": self.current, "evaluatedElements": evaluated}
        if method == "GET" and parts.path == "/federation/v1/rekey":
            query = parse_qs(parts.query)
            old, new = int(query["from"][0]), int(query["to"][0])
            factor = oprf.rekey_factor(self.keys[old], self.keys[new])
            return 200, {"from": old, "to": new, "factor": b64url(factor)}
        return 404, {"title": "Not Found"}


@dataclass
class Holding:
    status: str
    parents: list[str]


class Hub(Party):
    """Pointers per (region, child), counterparts, tickets and notices, as the spec says."""

    def __init__(self) -> None:
        Party.__init__(self, "hub")
        self.key_version = 1
        self.urls: dict[str, str] = {}
        self.holdings: dict[tuple[str, str], Holding] = {}
        self.notices: list[tuple[int, str, str]] = []  # (seq, region, child)
        self.seq = 0

    def member(self, name: str, key: Ed25519PublicKey, url: str) -> None:
        self.enrol(name, key)
        self.urls[name] = url

    def hold(self, region: str, child: str, status: str, parents: list[str]) -> None:
        """Another region's statement, as if it had published it (with notices)."""
        with self.lock:
            self._store(region, child, status, parents)

    def _store(self, region: str, child: str, status: str, parents: list[str]) -> None:
        before = self.holdings.get((region, child))
        linked = self._linked(region, child, before.parents if before else [])
        if status == "gone":
            self.holdings.pop((region, child), None)
        else:
            self.holdings[(region, child)] = Holding(status, sorted(parents))
        linked |= self._linked(region, child, parents)
        for other, other_child in sorted(linked):
            self.seq += 1
            self.notices.append((self.seq, other, other_child))

    def _linked(self, region: str, child: str, parents: list[str]) -> set[tuple[str, str]]:
        return {
            (r, c)
            for (r, c), h in self.holdings.items()
            if r != region and (c == child or set(h.parents) & set(parents))
        }

    def _result(self, region: str, child: str) -> dict[str, Any]:
        mine = self.holdings.get((region, child))
        parents = set(mine.parents) if mine else set()
        counterparts = []
        for (other, other_child), holding in sorted(self.holdings.items()):
            if other == region:
                continue
            via = sorted(parents & set(holding.parents))
            if other_child == child:
                kind = "client"
            elif via:
                kind = "family"
            else:
                continue
            counterparts.append(
                {
                    "region": other,
                    "url": self.urls[other],
                    "kind": kind,
                    "child": other_child,
                    "status": holding.status,
                    "via": via,
                }
            )
        tickets = {
            other: self.identity.ticket(
                region,
                self.members[region],
                other,
                sorted({c["child"] for c in counterparts if c["region"] == other}),
            )
            for other in sorted({c["region"] for c in counterparts})
        }
        return {"child": child, "counterparts": counterparts, "tickets": tickets}

    def handle(
        self, method: str, path: str, headers: dict[str, str], body: Any
    ) -> tuple[int, dict[str, Any]]:
        region = self.caller(headers)
        parts = urlsplit(path)
        with self.lock:
            if method == "POST" and parts.path == "/federation/v1/holdings":
                if body.get("keyVersion") != self.key_version:
                    return 409, {"title": "Conflict", "currentKeyVersion": self.key_version}
                for holding in body["holdings"]:
                    self._store(region, holding["child"], holding["status"], holding["parents"])
                return 200, {
                    "results": [self._result(region, h["child"]) for h in body["holdings"]]
                }
            if method == "POST" and parts.path == "/federation/v1/lookup":
                if body.get("keyVersion") != self.key_version:
                    return 409, {"title": "Conflict", "currentKeyVersion": self.key_version}
                held = [c for c in body["children"] if (region, c) in self.holdings]
                return 200, {"results": [self._result(region, c) for c in held]}
            if method == "GET" and parts.path == "/federation/v1/notices":
                after = int(parse_qs(parts.query).get("after", ["0"])[0])
                self.notices = [n for n in self.notices if not (n[1] == region and n[0] <= after)]
                mine = [{"seq": s, "child": c} for s, r, c in self.notices if r == region]
                last = max([after, *(n["seq"] for n in mine)])
                return 200, {"notices": mine, "last": last}
        return 404, {"title": "Not Found"}


class OtherRegion(Party):
    """Another region answering participants: `people[F]` are its own signals on child F."""

    def __init__(self, name: str, hub: Hub) -> None:
        super().__init__(name)
        self.hub = hub
        self.people: dict[str, list[dict[str, Any]]] = {}

    def handle(
        self, method: str, path: str, headers: dict[str, str], body: Any
    ) -> tuple[int, dict[str, Any]]:
        if method != "POST" or path != "/federation/v1/participants":
            return 404, {"title": "Not Found"}
        hub_key = self.hub.identity.public_key
        ticket = verify(
            headers.get("Federation-Ticket", ""),
            self.name,
            lambda iss, kid: hub_key if iss == "hub" else None,
            lambda jti, exp: False,
        ).claims
        self.enrol(str(ticket["sub"]), self.hub.members[str(ticket["sub"])])
        self.caller(headers)
        allowed = set(ticket["children"])
        if not set(body["children"]) <= allowed:
            return 401, {"title": "Unauthorized"}
        return 200, {"participants": [p for c in body["children"] for p in self.people.get(c, [])]}

    def signal(
        self,
        child: str,
        ref: str,
        name: str,
        organisation: str,
        sector: str,
        status: str = "active",
    ) -> None:
        self.people.setdefault(child, []).append(
            {
                "ref": ref,
                "child": child,
                "status": status,
                "since": "2026-11-01",
                "professional": {
                    "id": f"p-{name}",
                    "name": name,
                    "email": f"{name.split()[0].lower()}@{self.name}.example",
                    "phone": "+31 6 0000 0000",
                },
                "organisation": {"id": f"o-{organisation}", "name": organisation, "sector": sector},
            }
        )


@dataclass
class Standins:
    keyholder: KeyHolder
    hub: Hub
    b: OtherRegion
    parties: list[Party] = field(default_factory=list)


@contextmanager
def standins(region: str, region_key: Ed25519PublicKey, region_url: str) -> Iterator[Standins]:
    """A key holder, a hub and `regio-b`, with `region` (the one under test) enrolled."""
    keyholder, hub = KeyHolder(), Hub()
    b = OtherRegion("regio-b", hub)
    for party in (keyholder, hub, b):
        party.start()
    keyholder.enrol(region, region_key)
    keyholder.enrol("regio-b", b.identity.public_key)
    hub.member(region, region_key, region_url)
    hub.member("regio-b", b.identity.public_key, b.url)
    try:
        yield Standins(keyholder, hub, b, [keyholder, hub, b])
    finally:
        for party in (keyholder, hub, b):
            party.stop()
