"""Privacy at ingest: authors become keyed pseudonyms, never stored handles.

A pseudonym is HMAC-SHA256(key, "platform:handle"). Without the key nobody can test whether a
given handle is in the store; with it the service can still count distinct authors (for
amplification signals) without ever holding the handle. The key comes from
``TENSION_PSEUDONYM_KEY`` or is generated once into ``<data_dir>/pseudonym.key`` (mode 0600).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import unicodedata
from pathlib import Path

from monitor.errors import ConfigError

KEY_FILE = "pseudonym.key"


def load_or_create_key(env_key: str | None, data_dir: Path) -> bytes:
    if env_key:
        if len(env_key) < 16:
            raise ConfigError("environment: TENSION_PSEUDONYM_KEY: too short (hint: at least 32 random characters)")
        return env_key.encode()
    path = Path(data_dir) / KEY_FILE
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read pseudonym key: {exc.strerror}") from None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first
        return path.read_bytes().strip()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot create pseudonym key: {exc.strerror}") from None
    key = secrets.token_hex(32).encode()
    with os.fdopen(fd, "wb") as handle:
        handle.write(key + b"\n")
    return key


class Pseudonymiser:
    def __init__(self, key: bytes):
        self._key = key

    def pseudonym(self, platform: str, handle: str) -> str:
        normal = handle.strip().lstrip("@").casefold()
        message = f"{platform.casefold()}:{normal}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()


_SPACE = re.compile(r"\s+")


def content_hash(text: str) -> str:
    """Exact-duplicate key: the same words with case and spacing folded."""
    folded = _SPACE.sub(" ", unicodedata.normalize("NFKC", text)).strip().casefold()
    return hashlib.sha256(folded.encode()).hexdigest()
