"""Encryption of secrets at rest (gateway passwords, proxy passwords, secret parameters).

Keys are Fernet keys; ``SMSAUTH_SECRET_KEY`` may hold several, comma-separated, for rotation:
the first encrypts, all decrypt. The embedded default (SQLite) generates a key file on first
start and reuses it; a shared database (PostgreSQL) requires the key to be set explicitly, since
every instance must hold the same one.
"""

import base64
import hashlib
import hmac
import json
import os
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from domain.settings import Settings


class SecretKeyError(RuntimeError):
    """The configured key is missing or malformed (a start-up failure, not a user error)."""


class SecretBox:
    """Encrypts and decrypts JSON-able values with the configured keys."""

    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise SecretKeyError("no secret key configured")
        self._keys = list(keys)
        try:
            self._fernet = MultiFernet([Fernet(key.encode()) for key in keys])
        except (ValueError, TypeError) as exc:
            raise SecretKeyError(
                "SMSAUTH_SECRET_KEY must be URL-safe base64 of 32 bytes "
                "(run 'smsauth generate-key')"
            ) from exc

    def encrypt(self, value: Any) -> str:
        return self._fernet.encrypt(json.dumps(value, separators=(",", ":")).encode()).decode()

    def decrypt(self, token: str) -> Any:
        try:
            return json.loads(self._fernet.decrypt(token.encode()))
        except InvalidToken as exc:
            raise SecretKeyError(
                "a stored secret cannot be decrypted with the configured keys"
            ) from exc

    def macs(self, purpose: str, message: str) -> list[str]:
        """HMAC-SHA256 tags of ``message`` under a key derived per purpose from each configured key;
        the first is current, the others still verify during a rotation."""
        return [
            base64.urlsafe_b64encode(
                hmac.new(
                    hashlib.sha256(f"{purpose}:{key}".encode()).digest(),
                    message.encode(),
                    hashlib.sha256,
                ).digest()[:18]
            ).decode()
            for key in self._keys
        ]

    def rotate(self, token: str) -> str:
        """Re-encrypt a token under the first (newest) key."""
        return self._fernet.rotate(token.encode()).decode()


def generate_key() -> str:
    return Fernet.generate_key().decode()


def load_secret_box(settings: Settings) -> SecretBox:
    """Build the box from settings, generating the embedded default's key file when needed."""
    if settings.secret_key:
        return SecretBox([k.strip() for k in settings.secret_key.split(",") if k.strip()])
    if not settings.is_sqlite:
        raise SecretKeyError("SMSAUTH_SECRET_KEY must be set when the database is shared")
    path = Path(settings.key_file)
    if not path.exists():
        _create_key_file(path)
    return SecretBox([path.read_text().strip()])


def _create_key_file(path: Path) -> None:
    """Write a new key atomically (temp file, then link): concurrent first starts agree on one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(generate_key() + "\n")
    try:
        os.link(temp, path)
    except FileExistsError:
        pass  # another worker won the race; use its key
    finally:
        temp.unlink()
