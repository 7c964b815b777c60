"""Keys in `keys/` and encryption at rest of contact data (contract 2.3)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from verwijsindex.crypto import (
    AEAD_KEY_FILE,
    AUDIT_KEY_FILE,
    CHECKPOINT_KEY_FILE,
    CHECKPOINT_PUBLIC_KEY_FILE,
    JWT_KEY_FILE,
    PSEUDONYM_KEY_FILE,
    FieldCipher,
    KeyFileError,
    ensure_keys,
    load_checkpoint_key,
    load_keys,
)

ALL_KEY_FILES = {
    PSEUDONYM_KEY_FILE,
    AEAD_KEY_FILE,
    JWT_KEY_FILE,
    AUDIT_KEY_FILE,
    CHECKPOINT_KEY_FILE,
}
KEY = bytes(range(32))
OTHER_KEY = bytes(range(100, 132))
CONTEXT = "professionals.phone:6f1c1a8e-8f3e-4d2c-9d7e-1b2a3c4d5e6f"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- FieldCipher ----------------------------------------------------------------------------


@pytest.mark.parametrize("plaintext", ["+31 6 1234 5678", "", "Anne-Marie van 't Hek — ü ✓"])
def test_a_field_decrypts_to_what_was_encrypted(plaintext: str) -> None:
    cipher = FieldCipher(KEY)
    assert cipher.decrypt(cipher.encrypt(plaintext, CONTEXT), CONTEXT) == plaintext


def test_a_field_decrypts_with_a_new_cipher_on_the_same_key() -> None:
    """What one process writes another must read."""
    blob = FieldCipher(KEY).encrypt("jan@example.org", CONTEXT)
    assert FieldCipher(KEY).decrypt(blob, CONTEXT) == "jan@example.org"


def test_the_ciphertext_does_not_contain_the_plaintext() -> None:
    plaintext = "jan.de.vries@example.org"
    blob = FieldCipher(KEY).encrypt(plaintext, CONTEXT)
    assert plaintext.encode() not in blob
    assert plaintext.encode("utf-16-le") not in blob
    assert b"jan.de.vries" not in blob


def test_the_same_plaintext_encrypts_differently_each_time() -> None:
    """A fresh nonce per field: equal phone numbers must not show as equal blobs."""
    cipher = FieldCipher(KEY)
    assert cipher.encrypt("+31 6 1234 5678", CONTEXT) != cipher.encrypt("+31 6 1234 5678", CONTEXT)


@pytest.mark.parametrize(
    "other_context",
    [
        "professionals.phone:00000000-0000-0000-0000-000000000000",  # another row
        "professionals.email:6f1c1a8e-8f3e-4d2c-9d7e-1b2a3c4d5e6f",  # another column
        "",
    ],
)
def test_a_field_copied_to_another_row_or_column_fails_to_decrypt(other_context: str) -> None:
    cipher = FieldCipher(KEY)
    blob = cipher.encrypt("+31 6 1234 5678", CONTEXT)
    with pytest.raises(InvalidTag):
        cipher.decrypt(blob, other_context)


def test_a_field_encrypted_under_another_key_is_refused() -> None:
    blob = FieldCipher(OTHER_KEY).encrypt("+31 6 1234 5678", CONTEXT)
    with pytest.raises(KeyFileError, match="another key"):
        FieldCipher(KEY).decrypt(blob, CONTEXT)


def test_a_tampered_field_fails_to_decrypt() -> None:
    cipher = FieldCipher(KEY)
    blob = bytearray(cipher.encrypt("+31 6 1234 5678", CONTEXT))
    blob[-1] ^= 0x01
    with pytest.raises(InvalidTag):
        cipher.decrypt(bytes(blob), CONTEXT)


def test_the_cipher_names_its_key_without_revealing_it() -> None:
    cipher = FieldCipher(KEY)
    assert cipher.key_id == FieldCipher(KEY).key_id
    assert cipher.key_id != FieldCipher(OTHER_KEY).key_id
    assert KEY.hex() not in cipher.key_id
    assert cipher.key_id not in KEY.hex()


# --- ensure_keys ----------------------------------------------------------------------------


def test_ensure_keys_creates_every_key_as_a_private_file_in_a_private_directory(
    tmp_path: Path,
) -> None:
    keys_dir = tmp_path / "keys"
    created = ensure_keys(keys_dir)
    assert set(created) == ALL_KEY_FILES | {CHECKPOINT_PUBLIC_KEY_FILE}
    assert _mode(keys_dir) == 0o700
    # No temporary files left.
    assert {p.name for p in keys_dir.iterdir()} == ALL_KEY_FILES | {CHECKPOINT_PUBLIC_KEY_FILE}
    for name in ALL_KEY_FILES | {CHECKPOINT_PUBLIC_KEY_FILE}:
        assert _mode(keys_dir / name) == 0o600, name


def test_ensure_keys_makes_private_files_even_under_a_lax_umask(tmp_path: Path) -> None:
    previous = os.umask(0)
    try:
        ensure_keys(tmp_path / "keys")
    finally:
        os.umask(previous)
    assert _mode(tmp_path / "keys") == 0o700
    for name in ALL_KEY_FILES:
        assert _mode(tmp_path / "keys" / name) == 0o600, name


def test_ensure_keys_creates_nothing_the_second_time(tmp_path: Path) -> None:
    keys_dir = tmp_path / "keys"
    ensure_keys(keys_dir)
    before = {name: (keys_dir / name).read_bytes() for name in ALL_KEY_FILES}
    assert ensure_keys(keys_dir) == []
    assert {name: (keys_dir / name).read_bytes() for name in ALL_KEY_FILES} == before


def test_ensure_keys_never_overwrites_an_existing_key(tmp_path: Path) -> None:
    keys_dir = tmp_path / "keys"
    keys_dir.mkdir(mode=0o700)
    own_key = ("ab" * 32 + "\n").encode()
    (keys_dir / PSEUDONYM_KEY_FILE).write_bytes(own_key)
    created = ensure_keys(keys_dir)
    assert set(created) == ALL_KEY_FILES - {PSEUDONYM_KEY_FILE} | {CHECKPOINT_PUBLIC_KEY_FILE}
    assert (keys_dir / PSEUDONYM_KEY_FILE).read_bytes() == own_key
    assert load_keys(keys_dir).pseudonym_key == bytes.fromhex("ab" * 32)


def test_ensure_keys_makes_different_keys_for_different_installations(tmp_path: Path) -> None:
    ensure_keys(tmp_path / "one")
    ensure_keys(tmp_path / "two")
    one, two = load_keys(tmp_path / "one"), load_keys(tmp_path / "two")
    assert one.pseudonym_key != two.pseudonym_key
    assert one.cipher.key_id != two.cipher.key_id
    assert one.signing.kid != two.signing.kid


def test_the_pseudonym_and_field_keys_are_distinct(tmp_path: Path) -> None:
    ensure_keys(tmp_path)
    assert (tmp_path / PSEUDONYM_KEY_FILE).read_bytes() != (tmp_path / AEAD_KEY_FILE).read_bytes()


# --- load_keys ------------------------------------------------------------------------------


def test_created_keys_load_and_work(tmp_path: Path) -> None:
    ensure_keys(tmp_path)
    ring = load_keys(tmp_path)
    assert len(ring.pseudonym_key) == 32
    blob = ring.cipher.encrypt("x", CONTEXT)
    assert load_keys(tmp_path).cipher.decrypt(blob, CONTEXT) == "x"
    assert ring.signing.kid == load_keys(tmp_path).signing.kid
    assert b"PUBLIC KEY" in ring.signing.public_pem
    assert b"PRIVATE" not in ring.signing.public_pem


@pytest.mark.parametrize("missing", sorted(ALL_KEY_FILES - {CHECKPOINT_KEY_FILE}))
def test_a_missing_key_file_is_a_key_file_error_that_says_what_to_do(
    tmp_path: Path, missing: str
) -> None:
    ensure_keys(tmp_path)
    (tmp_path / missing).unlink()
    with pytest.raises(KeyFileError) as caught:
        load_keys(tmp_path)
    message = str(caught.value)
    assert missing in message
    assert "verwijsindex serve" in message


def test_a_missing_checkpoint_key_is_a_key_file_error_when_a_checkpoint_is_made(
    tmp_path: Path,
) -> None:
    """Loaded only where checkpoints are signed, so other commands work without it."""
    ensure_keys(tmp_path)
    (tmp_path / CHECKPOINT_KEY_FILE).unlink()
    load_keys(tmp_path)
    with pytest.raises(KeyFileError) as caught:
        load_checkpoint_key(tmp_path)
    assert CHECKPOINT_KEY_FILE in str(caught.value)
    assert "verwijsindex serve" in str(caught.value)


def test_a_missing_keys_directory_is_a_key_file_error(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="verwijsindex"):
        load_keys(tmp_path / "nowhere")


@pytest.mark.parametrize("name", [PSEUDONYM_KEY_FILE, AEAD_KEY_FILE])
@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        (b"not hex at all\n", "hexadecimal"),
        (b"\xff\xfe" + b"00" * 31, "hexadecimal"),
        (b"ab" * 16 + b"\n", "32 bytes"),
        (b"ab" * 33 + b"\n", "32 bytes"),
        (b"", "32 bytes"),
    ],
)
def test_a_malformed_symmetric_key_file_is_a_key_file_error(
    tmp_path: Path, name: str, content: bytes, complaint: str
) -> None:
    ensure_keys(tmp_path)
    (tmp_path / name).write_bytes(content)
    with pytest.raises(KeyFileError, match=complaint) as caught:
        load_keys(tmp_path)
    assert name in str(caught.value)


def test_a_symmetric_key_file_may_end_with_whitespace(tmp_path: Path) -> None:
    ensure_keys(tmp_path)
    (tmp_path / AEAD_KEY_FILE).write_bytes(b"cd" * 32 + b"\r\n  ")
    assert load_keys(tmp_path).cipher.key_id == FieldCipher(bytes.fromhex("cd" * 32)).key_id


@pytest.mark.parametrize(
    "content",
    [b"", b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", b"\x00" * 40],
)
def test_a_malformed_signing_key_file_is_a_key_file_error(tmp_path: Path, content: bytes) -> None:
    ensure_keys(tmp_path)
    (tmp_path / JWT_KEY_FILE).write_bytes(content)
    with pytest.raises(KeyFileError, match="PEM private key") as caught:
        load_keys(tmp_path)
    assert JWT_KEY_FILE in str(caught.value)


def test_a_signing_key_that_is_not_rsa_is_a_key_file_error(tmp_path: Path) -> None:
    ensure_keys(tmp_path)
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    (tmp_path / JWT_KEY_FILE).write_bytes(pem)
    with pytest.raises(KeyFileError, match="RSA"):
        load_keys(tmp_path)


def test_a_password_protected_signing_key_is_a_key_file_error(tmp_path: Path) -> None:
    """An operator who protects the PEM with a passphrase must get a KeyFileError naming the
    file, not a bare TypeError from the cryptography library."""
    ensure_keys(tmp_path)
    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret passphrase"),
    )
    (tmp_path / JWT_KEY_FILE).write_bytes(pem)
    with pytest.raises(KeyFileError) as caught:
        load_keys(tmp_path)
    assert JWT_KEY_FILE in str(caught.value)


def test_key_file_errors_do_not_echo_the_key_material(tmp_path: Path) -> None:
    ensure_keys(tmp_path)
    secret = "ab" * 31  # 31 bytes: well-formed hex, wrong length
    (tmp_path / PSEUDONYM_KEY_FILE).write_text(secret)
    with pytest.raises(KeyFileError) as caught:
        load_keys(tmp_path)
    assert secret not in str(caught.value)
