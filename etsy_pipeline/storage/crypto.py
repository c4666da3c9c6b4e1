"""Encryption at rest for OAuth tokens and buyer personal data.

Fernet (AES-128-CBC + HMAC) from `cryptography`, wrapped in MultiFernet so keys can be rotated: the first
key of `TOKEN_ENCRYPTION_KEY` encrypts, every listed key decrypts, and `Cipher.rotate` re-encrypts a value
under the first key. Error messages never contain key material or plaintext.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

log = logging.getLogger(__name__)

KEY_FILE_NAME = "token_encryption.key"


class EncryptionError(ValueError):
    """A key is malformed or a ciphertext cannot be decrypted with any configured key."""


def _split(keys: str) -> list[str]:
    return [k.strip() for k in keys.split(",") if k.strip()]


def validate_keys(keys: str) -> None:
    """Check every comma-separated key is a Fernet key; the error says which position is bad."""
    parts = _split(keys)
    if not parts:
        raise EncryptionError("expected one or more comma-separated Fernet keys")
    for position, key in enumerate(parts, start=1):
        try:
            Fernet(key.encode())
        except (ValueError, TypeError):
            raise EncryptionError(
                f"key #{position} is not a Fernet key (32 url-safe base64-encoded bytes; "
                "create one with `etsy-pipeline keys generate`)"
            ) from None


def generate_key() -> str:
    """A new random Fernet key."""
    return Fernet.generate_key().decode()


class Cipher:
    """Encrypts and decrypts text values with the configured keys."""

    def __init__(self, keys: str) -> None:
        validate_keys(keys)
        self._keys = _split(keys)
        self._fernet = MultiFernet([Fernet(k.encode()) for k in self._keys])

    @property
    def primary_key(self) -> str:
        """The key that encrypts (the first configured): what keys other derived secrets, such as the pull's
        record digests, so they stay the same once a rotation is over."""
        return self._keys[0]

    def encrypt(self, plaintext: str) -> bytes:
        return self._fernet.encrypt(plaintext.encode("utf-8"))

    def decrypt(self, token: bytes) -> str:
        try:
            return self._fernet.decrypt(bytes(token)).decode("utf-8")
        except InvalidToken:
            raise EncryptionError(
                "cannot decrypt a stored value with any configured TOKEN_ENCRYPTION_KEY "
                "(was the key that encrypted it removed?)"
            ) from None

    def rotate(self, token: bytes) -> bytes:
        """Re-encrypt under the primary (first) key; the plaintext never leaves this call."""
        try:
            return self._fernet.rotate(bytes(token))
        except InvalidToken:
            raise EncryptionError("cannot rotate a stored value: no configured key decrypts it") from None


def ensure_private_dir(data_dir: Path) -> Path:
    """Create DATA_DIR readable by its owner only (0700): it holds the generated key, dlt's working files and
    the embedded database. A directory that already exists is left as it is (it may be shared on purpose)."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    return data_dir


def load_or_create_key_file(data_dir: Path) -> str:
    """The embedded default's key: generated once under the data directory, readable by its owner only."""
    ensure_private_dir(data_dir)
    path = data_dir / KEY_FILE_NAME
    if path.exists():
        return path.read_text().strip()
    key = generate_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    log.warning(
        "TOKEN_ENCRYPTION_KEY is not set: generated a key in %s. Set TOKEN_ENCRYPTION_KEY in production "
        "and keep it safe; tokens encrypted with a lost key cannot be read.",
        path,
    )
    return key


def cipher_from_settings(token_encryption_key: str | None, data_dir: Path) -> Cipher:
    """The configured cipher, or one over the generated key file when no key is configured.

    Every runtime builds its cipher early, so this is also where a configured installation's DATA_DIR is first
    created, private."""
    ensure_private_dir(data_dir)
    return Cipher(token_encryption_key or load_or_create_key_file(data_dir))
