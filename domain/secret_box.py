"""Encryption of secrets at rest (gateway passwords, proxy passwords, secret parameters).

Keys are Fernet keys; ``SMSAUTH_SECRET_KEY`` may hold several, comma-separated, for rotation:
the first encrypts, all decrypt. The embedded default (SQLite) generates a key file on first
start and reuses it; the file may hold several keys the same way, and a running process reads it
again when it changes (so ``smsauth rotate-key --new-key`` needs no restart). A shared database
(PostgreSQL) requires the key to be set explicitly, since every instance must hold the same one.
"""

import base64
import fcntl
import hashlib
import hmac
import json
import logging
import os
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from domain.settings import Settings

log = logging.getLogger("smsauth.secrets")


class SecretKeyError(RuntimeError):
    """The configured key is missing or malformed (a start-up failure, not a user error)."""


class SecretBox:
    """Encrypts and decrypts JSON-able values with the configured keys."""

    def __init__(self, keys: list[str]) -> None:
        self._use(keys)

    def _use(self, keys: list[str]) -> None:
        if not keys:
            raise SecretKeyError("no secret key configured")
        try:
            fernets = [Fernet(key.encode()) for key in keys]
        except (ValueError, TypeError) as exc:
            raise SecretKeyError(
                "SMSAUTH_SECRET_KEY must be URL-safe base64 of 32 bytes "
                "(run 'smsauth generate-key')"
            ) from exc
        self._keys, self._first, self._fernet = list(keys), fernets[0], MultiFernet(fernets)

    def _refresh(self) -> None:
        """Pick up changed keys (a key file); fixed keys never change."""

    @property
    def key_count(self) -> int:
        self._refresh()
        return len(self._keys)

    def encrypt(self, value: Any) -> str:
        self._refresh()
        return self._fernet.encrypt(json.dumps(value, separators=(",", ":")).encode()).decode()

    def decrypt(self, token: str) -> Any:
        self._refresh()
        try:
            return json.loads(self._fernet.decrypt(token.encode()))
        except InvalidToken as exc:
            raise SecretKeyError(
                "a stored secret cannot be decrypted with the configured keys"
            ) from exc

    def macs(self, purpose: str, message: str) -> list[str]:
        """HMAC-SHA256 tags of ``message`` under a key derived per purpose from each configured key;
        the first is current, the others still verify during a rotation."""
        self._refresh()
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
        self._refresh()
        try:
            return self._fernet.rotate(token.encode()).decode()
        except InvalidToken as exc:
            raise SecretKeyError(
                "a stored secret cannot be decrypted with the configured keys"
            ) from exc

    def rotated(self, token: str) -> str | None:
        """``token`` re-encrypted under the first key, or None when it already is under it."""
        self._refresh()
        try:
            self._first.decrypt(token.encode())
            return None
        except InvalidToken:
            return self.rotate(token)


class KeyFileBox(SecretBox):
    """A box whose keys live in a file, read again whenever the file changes."""

    def __init__(self, path: Path) -> None:
        self._path, self._stamp, self._problem = path, self._stamp_of(path), ""
        self._use(read_key_file(path))

    @staticmethod
    def _stamp_of(path: Path) -> tuple[int, int, int]:
        stat = path.stat()
        return stat.st_ino, stat.st_mtime_ns, stat.st_size

    def _refresh(self) -> None:
        try:
            stamp = self._stamp_of(self._path)
            if stamp != self._stamp:
                self._use(read_key_file(self._path))
                self._stamp, self._problem = stamp, ""
        except (OSError, SecretKeyError) as error:  # keep serving with the keys already loaded
            if str(error) != self._problem:
                self._problem = str(error)
                log.warning("key file unreadable, keeping the loaded keys: %s", error)


def generate_key() -> str:
    return Fernet.generate_key().decode()


def parse_keys(text: str) -> list[str]:
    """Keys separated by commas (or lines), blanks ignored."""
    return [key.strip() for key in text.replace("\n", ",").split(",") if key.strip()]


def read_key_file(path: Path) -> list[str]:
    keys = parse_keys(path.read_text())
    if not keys:
        raise SecretKeyError(f"the key file {path} holds no key")
    return keys


def load_secret_box(settings: Settings) -> SecretBox:
    """Build the box from settings, generating the embedded default's key file when needed."""
    if settings.secret_key:
        return SecretBox(parse_keys(settings.secret_key))
    if not settings.is_sqlite:
        raise SecretKeyError("SMSAUTH_SECRET_KEY must be set when the database is shared")
    path = Path(settings.key_file)
    if not path.exists():
        _create_key_file(path)
    return KeyFileBox(path)


def add_key_to_file(path: Path) -> str:
    """Put a new key in front of the file's keys (it encrypts from now on); returns it.

    The file is replaced atomically, under a lock so that two concurrent calls keep both keys.
    """
    key = generate_key()
    with open(path.with_name(f".{path.name}.lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        keys = [key, *read_key_file(path)]
        temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(",".join(keys) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    return key


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
