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
from collections.abc import Callable
from pathlib import Path

from monitor.errors import ConfigError

KEY_FILE = "pseudonym.key"


def secret_file(path: Path, generate: Callable[[], bytes], what: str) -> bytes:
    """The secret in ``path``, created (mode 0600, never overwritten) on first use.

    One implementation for every generated key (pseudonym key, report contact key, session
    secret), so a race between two processes and an unreadable file are handled alike: the
    first writer wins, and a problem is one line naming the file."""
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read {what}: {exc.strerror}") from None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first
        return path.read_bytes().strip()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot create {what}: {exc.strerror}") from None
    secret = generate()
    with os.fdopen(fd, "wb") as handle:
        handle.write(secret + b"\n")
    return secret


def load_or_create_key(env_key: str | None, data_dir: Path) -> bytes:
    if env_key:
        if len(env_key) < 16:
            raise ConfigError("environment: TENSION_PSEUDONYM_KEY: too short (hint: at least 32 random characters)")
        return env_key.encode()
    return secret_file(Path(data_dir) / KEY_FILE, lambda: secrets.token_hex(32).encode(), "pseudonym key")


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


# -- quoting posts without personal data -------------------------------------------------------

EXCERPT_MAX = 140
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_MENTION = re.compile(r"(?<![\w])[@＠][\w.]{1,60}")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_USER_REF = re.compile(r"\b(?:u|user)/[\w-]+", re.IGNORECASE)


def scrub(text: str | None, *, markers: bool = True) -> str:
    """The text with e-mail addresses, links, @mentions and u/names taken out: replaced by a
    marker ("[link removed]") for people to read, or by nothing for term counting."""
    def mark(word: str) -> str:
        return f"[{word} removed]" if markers else " "
    value = _EMAIL.sub(mark("address"), str(text or ""))
    value = _URL.sub(mark("link"), value)
    value = _MENTION.sub(mark("account"), value)
    return _USER_REF.sub(mark("account"), value)


def excerpt(text: str | None, limit: int = EXCERPT_MAX) -> str:
    """Short example wording that may be quoted (briefing, dashboard, clusters, bursts): scrubbed,
    one line, without emoji (they print as empty boxes in the PDF's fonts and carry no wording)."""
    value = scrub(text)
    value = "".join(c for c in value if ord(c) <= 0xFFFF and unicodedata.category(c) != "So")
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"
