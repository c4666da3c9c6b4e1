from __future__ import annotations

import stat
from pathlib import Path

import pytest

from etsy_pipeline.storage.crypto import (
    Cipher,
    EncryptionError,
    cipher_from_settings,
    generate_key,
    load_or_create_key_file,
)


def test_round_trip_and_ciphertext_hides_the_plaintext() -> None:
    cipher = Cipher(generate_key())
    token = cipher.encrypt("12345678.access-token-value")
    assert b"access-token-value" not in token
    assert cipher.decrypt(token) == "12345678.access-token-value"


def test_rotation_moves_values_to_the_new_key() -> None:
    old, new = generate_key(), generate_key()
    stored = Cipher(old).encrypt("refresh-token")
    during = Cipher(f"{new},{old}")
    assert during.decrypt(stored) == "refresh-token"  # old values still readable while rotating
    rotated = during.rotate(stored)
    assert Cipher(new).decrypt(rotated) == "refresh-token"  # the old key can now be removed
    with pytest.raises(EncryptionError):
        Cipher(old).decrypt(rotated)


def test_a_value_no_key_can_read_gives_a_clear_error() -> None:
    stored = Cipher(generate_key()).encrypt("secret")
    with pytest.raises(EncryptionError, match="cannot decrypt a stored value") as excinfo:
        Cipher(generate_key()).decrypt(stored)
    assert "secret" not in str(excinfo.value)


def test_a_malformed_key_is_refused_by_position() -> None:
    with pytest.raises(EncryptionError, match="key #1 is not a Fernet key"):
        Cipher("short")


def test_generated_key_file_is_private_and_reused(tmp_path: Path) -> None:
    first = load_or_create_key_file(tmp_path)
    path = tmp_path / "token_encryption.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_key_file(tmp_path) == first
    value = cipher_from_settings(None, tmp_path).encrypt("x")
    assert Cipher(first).decrypt(value) == "x"
