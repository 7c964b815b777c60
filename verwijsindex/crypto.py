"""Keys in `keys/` and encryption at rest of contact data and justifications.

Three keys, each in its own file with mode 0600, created on first run:

- `pseudonym.key`: HMAC key for BSN pseudonyms (see `pseudonym.py`);
- `aead.key`: AES-256-GCM key for names, phones, e-mails, justifications, TOTP secrets;
- `jwt-signing.pem`: RSA key that signs access tokens (RS256);
- `audit.key`: HMAC key of the audit log's chain (see `audit.py`);
- `audit-checkpoint.pem`: Ed25519 key that signs the chain's checkpoints (see
  `audit_anchor.py`), with its public half in `audit-checkpoint.pub.pem` for witnesses.

None of them is ever stored in the database: a stolen database alone reveals neither who
the children are nor who the professionals are.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PSEUDONYM_KEY_FILE = "pseudonym.key"
AEAD_KEY_FILE = "aead.key"
JWT_KEY_FILE = "jwt-signing.pem"
AUDIT_KEY_FILE = "audit.key"
CHECKPOINT_KEY_FILE = "audit-checkpoint.pem"
CHECKPOINT_PUBLIC_KEY_FILE = "audit-checkpoint.pub.pem"

_NONCE_BYTES = 12
_KEY_ID_BYTES = 8


class KeyFileError(Exception):
    """A key file is missing, unreadable or malformed."""


def _key_id(material: bytes) -> str:
    """A short public name for a key: not secret, reveals nothing about the key."""
    return hashlib.sha256(b"key-id:" + material).hexdigest()[:_KEY_ID_BYTES]


def _write_new_file(path: Path, content: bytes) -> None:
    """Create `path` with mode 0600 unless it exists; safe when several processes race.

    The content is written to a private temporary file and hard-linked into place, which
    fails atomically if another process got there first; its key then wins for everyone.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def ensure_keys(keys_dir: Path) -> list[str]:
    """Create whichever keys are missing; returns the names of the files created."""
    keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    created = []
    makers: tuple[tuple[str, Callable[[], bytes]], ...] = (
        (PSEUDONYM_KEY_FILE, _new_symmetric_key),
        (AEAD_KEY_FILE, _new_symmetric_key),
        (JWT_KEY_FILE, _new_rsa_pem),
        (AUDIT_KEY_FILE, _new_symmetric_key),
        (CHECKPOINT_KEY_FILE, _new_ed25519_pem),
    )
    for name, make in makers:
        path = keys_dir / name
        if not path.exists():
            _write_new_file(path, make())
            created.append(name)
    public = keys_dir / CHECKPOINT_PUBLIC_KEY_FILE
    if not public.exists():
        # Not secret, but private like its neighbours: the operator hands witnesses a copy.
        _write_new_file(public, _public_pem(load_checkpoint_key(keys_dir)))
        created.append(CHECKPOINT_PUBLIC_KEY_FILE)
    return created


def _new_ed25519_pem() -> bytes:
    return ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _public_pem(key: ed25519.Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_checkpoint_key(keys_dir: Path) -> ed25519.Ed25519PrivateKey:
    """The key that signs audit checkpoints; only the processes that make them need it."""
    try:
        key = serialization.load_pem_private_key(
            _read(keys_dir, CHECKPOINT_KEY_FILE), password=None
        )
    except (ValueError, TypeError):
        key = None
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise KeyFileError(
            f"key file {keys_dir / CHECKPOINT_KEY_FILE} must be an unencrypted Ed25519 PEM key"
        )
    return key


def load_checkpoint_public_key(path: Path) -> ed25519.Ed25519PublicKey:
    """A checkpoint key's public half, as a witness holds it."""
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except OSError as error:
        raise KeyFileError(f"cannot read public key {path}: {error.strerror}") from None
    except ValueError:
        key = None
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise KeyFileError(f"{path} must hold an Ed25519 public key (PEM)")
    return key


def _new_symmetric_key() -> bytes:
    return secrets.token_hex(32).encode("ascii") + b"\n"


def _new_rsa_pem() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _read(keys_dir: Path, name: str) -> bytes:
    path = keys_dir / name
    try:
        return path.read_bytes()
    except OSError as error:
        raise KeyFileError(
            f"cannot read key {path}: {error.strerror}; run `verwijsindex serve` "
            "or `verwijsindex db upgrade` once to create the keys"
        ) from None


def _read_hex_key(keys_dir: Path, name: str) -> bytes:
    try:
        key = bytes.fromhex(_read(keys_dir, name).decode("ascii").strip())
    except ValueError:
        raise KeyFileError(f"key file {keys_dir / name} is not 64 hexadecimal characters") from None
    if len(key) != 32:
        raise KeyFileError(f"key file {keys_dir / name} must hold 32 bytes")
    return key


class FieldCipher:
    """AES-256-GCM for single fields, bound to where they live.

    The associated data names the table, column and row, so a ciphertext copied to another
    row or column fails to decrypt instead of showing one professional's phone as another's.
    Layout: key id (8 ASCII bytes) || nonce (12) || ciphertext with tag.
    """

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)
        self.key_id = _key_id(key)
        self._key_id_bytes = self.key_id.encode("ascii")

    def encrypt(self, plaintext: str, context: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode("utf-8"), context.encode("utf-8"))
        return self._key_id_bytes + nonce + sealed

    def decrypt(self, blob: bytes, context: str) -> str:
        if blob[:_KEY_ID_BYTES] != self._key_id_bytes:
            raise KeyFileError("field was encrypted with another key")
        nonce = blob[_KEY_ID_BYTES : _KEY_ID_BYTES + _NONCE_BYTES]
        sealed = blob[_KEY_ID_BYTES + _NONCE_BYTES :]
        return self._aead.decrypt(nonce, sealed, context.encode("utf-8")).decode("utf-8")


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_pem: bytes
    public_pem: bytes


@dataclass(frozen=True)
class KeyRing:
    pseudonym_key_id: str
    pseudonym_key: bytes
    cipher: FieldCipher
    signing: SigningKey
    audit_key: bytes

    def lookup(self, purpose: str, value: str) -> str:
        """A keyed hash to find a row by an encrypted value (e.g. an e-mail address at login).

        The purpose is part of the input, so a lookup can never equal a BSN's pseudonym
        made with the same key."""
        message = f"lookup:{purpose}:{value}".encode()
        # hmac.digest: the same HMAC-SHA256 in one call, a third faster than hmac.new (a
        # sync computes two per item of a 10,000-item body).
        return hmac.digest(self.pseudonym_key, message, "sha256").hex()


def load_keys(keys_dir: Path) -> KeyRing:
    pseudonym_key = _read_hex_key(keys_dir, PSEUDONYM_KEY_FILE)
    aead_key = _read_hex_key(keys_dir, AEAD_KEY_FILE)
    private_pem = _read(keys_dir, JWT_KEY_FILE)
    try:
        private = serialization.load_pem_private_key(private_pem, password=None)
    except (ValueError, TypeError):  # TypeError: the key is protected by a password
        raise KeyFileError(
            f"key file {keys_dir / JWT_KEY_FILE} must be an unencrypted PEM private key"
        ) from None
    if not isinstance(private, rsa.RSAPrivateKey):
        raise KeyFileError(f"key file {keys_dir / JWT_KEY_FILE} must hold an RSA key")
    public_der = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    kid = base64.urlsafe_b64encode(hashlib.sha256(public_der).digest()[:12]).decode("ascii")
    return KeyRing(
        pseudonym_key_id=_key_id(pseudonym_key),
        pseudonym_key=pseudonym_key,
        cipher=FieldCipher(aead_key),
        signing=SigningKey(kid=kid, private_pem=private_pem, public_pem=public_pem),
        audit_key=_read_hex_key(keys_dir, AUDIT_KEY_FILE),
    )
