"""Signed checkpoints of the audit chain, kept where the database administrator cannot
rewrite them.

A checkpoint says "at `issuedAt`, chain c had reached place N with MAC M", one entry for
every chain that has a head (checkpoints from before there were several chains name chain 0
only), signed with the Ed25519 key `keys/audit-checkpoint.pem`. `verified: true` adds "and
the issuer had verified every record up to there", which lets a later verification start
from it instead of from the first record.

Each checkpoint goes three ways:

1. appended as one JSON line to `audit-anchors.jsonl` in the anchor directory
   (`VERWIJSINDEX_AUDIT_ANCHOR_DIR`, default the keys directory): the copy `audit verify`
   trusts, on a file system the database administrator cannot write;
2. logged on the logger `verwijsindex.audit.checkpoint` (stderr, so the journal or syslog
   keeps it too);
3. stored in `audit_checkpoints` and served at `GET /api/v1/audit-checkpoints`, so an
   external witness can keep its own copy.

A line is `{"payload": "<the signed JSON, as a string>", "signature": "<base64>"}`: the
signature covers the exact UTF-8 bytes of `payload`, so a witness checks it with the public
key `audit-checkpoint.pub.pem` and any Ed25519 library, without re-serialising anything.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import json
import logging
import os
import sys
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from verwijsindex.audit_verify import MAIN_CHAIN, ChainPoint

FORMAT = "verwijsindex-audit-checkpoint/1"
ANCHOR_FILE = "audit-anchors.jsonl"
ANCHOR_DIR_ENV = "VERWIJSINDEX_AUDIT_ANCHOR_DIR"
log = logging.getLogger("verwijsindex.audit.checkpoint")


class ForgedCheckpoint(ValueError):
    """A line that is not a checkpoint signed with this service's checkpoint key."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    id: uuid.UUID
    issued_at: datetime
    chains: tuple[ChainPoint, ...]
    verified: bool
    key_id: str
    payload: str  # the signed bytes
    signature: str

    @property
    def label(self) -> str:
        return f"checkpoint {self.id} of {self.issued_at:%Y-%m-%d %H:%M:%S} UTC"

    def point(self, chain: int = MAIN_CHAIN) -> ChainPoint | None:
        return next((p for p in self.chains if p.chain == chain), None)

    def line(self) -> str:
        return json.dumps({"payload": self.payload, "signature": self.signature})


def key_id(public: ed25519.Ed25519PublicKey) -> str:
    """A short public name for the checkpoint key, so a witness knows which one to use."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.urlsafe_b64encode(raw[:9]).decode("ascii")


class CheckpointSigner:
    def __init__(self, key: ed25519.Ed25519PrivateKey) -> None:
        self._key = key
        self.reader = CheckpointReader(key.public_key())

    def sign(self, heads: Sequence[ChainPoint], *, verified: bool, now: datetime) -> Checkpoint:
        payload = json.dumps(
            {
                "format": FORMAT,
                "id": str(uuid.uuid4()),
                "issuedAt": now.astimezone(UTC).isoformat().replace("+00:00", "Z"),
                "keyId": self.reader.key_id,
                "verified": verified,
                "chains": [{"chain": p.chain, "seq": p.seq, "mac": p.mac} for p in heads],
            },
            separators=(",", ":"),
        )
        signature = base64.b64encode(self._key.sign(payload.encode("utf-8"))).decode("ascii")
        return self.reader.parse(payload, signature)


class CheckpointReader:
    """Checks signatures; needs only the public key (what a witness holds)."""

    def __init__(self, public: ed25519.Ed25519PublicKey) -> None:
        self._public = public
        self.key_id = key_id(public)

    def parse(self, payload: str, signature: str) -> Checkpoint:
        try:
            self._public.verify(base64.b64decode(signature, validate=True), payload.encode())
            body = json.loads(payload)
            if body["format"] != FORMAT:
                raise ValueError(body["format"])
            checkpoint_id = uuid.UUID(body["id"])
            issued_at = datetime.fromisoformat(body["issuedAt"])
            label = f"checkpoint {checkpoint_id} of {issued_at:%Y-%m-%d %H:%M:%S} UTC"
            chains = tuple(
                ChainPoint(int(c["seq"]), str(c["mac"]), label, int(c["chain"]))
                for c in body["chains"]
            )
            return Checkpoint(
                checkpoint_id,
                issued_at,
                chains,
                bool(body["verified"]),
                str(body["keyId"]),
                payload,
                signature,
            )
        except (InvalidSignature, binascii.Error, ValueError, KeyError, TypeError, AttributeError):
            raise ForgedCheckpoint("not signed with this service's checkpoint key") from None

    def parse_line(self, line: str) -> Checkpoint:
        try:
            outer = json.loads(line)
            payload, signature = outer["payload"], outer["signature"]
        except (ValueError, KeyError, TypeError):
            raise ForgedCheckpoint("not a checkpoint line") from None
        if not isinstance(payload, str) or not isinstance(signature, str):
            raise ForgedCheckpoint("not a checkpoint line")
        return self.parse(payload, signature)


@dataclass
class AnchorReading:
    """What one or more anchor files hold: genuine checkpoints, and lines that are not."""

    checkpoints: list[Checkpoint] = field(default_factory=list)
    forged: list[str] = field(default_factory=list)  # "FILE line N"

    def newest(self, *, verified: bool = False, chain: int = MAIN_CHAIN) -> ChainPoint | None:
        """The furthest point of `chain` a checkpoint vouches for (only verified ones)."""
        points = [
            point
            for c in self.checkpoints
            if c.verified or not verified
            if (point := c.point(chain)) is not None
        ]
        return max(points, key=lambda p: p.seq, default=None)

    def newest_heads(self, *, verified: bool = False) -> tuple[ChainPoint, ...] | None:
        """For every chain any checkpoint names, the furthest point one vouches for (only
        verified ones); None when there is no such checkpoint at all. Each point is a
        signed claim of its own, so the newest of each chain may come from another one."""
        chosen = [c for c in self.checkpoints if c.verified or not verified]
        if not chosen:
            return None
        chains = sorted({p.chain for c in chosen for p in c.chains})
        return tuple(
            point
            for chain in chains
            if (point := self.newest(verified=verified, chain=chain)) is not None
        )


def anchor_directory(keys_dir: Path) -> Path:
    """`VERWIJSINDEX_AUDIT_ANCHOR_DIR`, or else the keys directory (equally protected)."""
    return Path(os.environ.get(ANCHOR_DIR_ENV) or keys_dir)


def anchor_file(directory: Path) -> Path:
    return directory / ANCHOR_FILE


def read_anchors(paths: Iterable[Path], reader: CheckpointReader) -> AnchorReading:
    """Every line of every file that exists; a missing file holds no anchors."""
    reading = AnchorReading()
    for path in paths:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            continue
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                reading.checkpoints.append(reader.parse_line(line))
            except ForgedCheckpoint:
                reading.forged.append(f"{path} line {number}")
    return reading


def append_anchor(directory: Path, checkpoint: Checkpoint) -> Path:
    """Append one line and flush it to disk; several processes may append at once."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = anchor_file(directory)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, (checkpoint.line() + "\n").encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)  # also releases the lock
    return path


class _CurrentStderr(logging.Handler):
    """Writes to whatever `sys.stderr` is at the time (the journal under systemd)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
            sys.stderr.flush()
        except Exception:
            self.handleError(record)


def log_checkpoint(checkpoint: Checkpoint) -> None:
    """One line on the checkpoint logger; it goes to stderr even if logging is unset."""
    if not log.handlers:
        handler = _CurrentStderr()
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
    log.info("%s", checkpoint.line())
