"""Privacy at ingest and on the way out: authors become keyed pseudonyms, never stored
handles; anything quoted from a post leaves the store through ``clean_excerpt`` only.

A pseudonym is HMAC-SHA256(key, "platform:handle"). Without the key nobody can test whether a
given handle is in the store; with it the service can still count distinct authors (for
amplification signals) without ever holding the handle. The key comes from
``TENSION_PSEUDONYM_KEY`` or is generated once into ``<data_dir>/pseudonym.key`` (mode 0600).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import html
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
#
# Everything quoted from a post (or typed by an officer) that leaves the store goes through
# ``clean_excerpt``: pages, the API, every briefing edition, notifications. It returns plain
# text: no markup, links, handles, e-mail addresses or phone numbers; each medium then escapes
# it for itself (Jinja autoescape for HTML, ``markdown_text`` for Markdown and cards).

EXCERPT_MAX = 140
LINK, ACCOUNT, ADDRESS, PHONE = "[link removed]", "[account removed]", "[address removed]", "[phone removed]"

_INVISIBLE = re.compile(r"[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
                        r"\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0]")
_HIDDEN_ELEMENT = re.compile(r"<(script|style|iframe|object|template|noscript)\b.*?(?:</\1\s*>|$)",
                             re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<!--.*?(?:-->|$)|</?[a-z!?][^>]*(?:>|$)", re.IGNORECASE | re.DOTALL)
_NOT_MARKER = r"(?!(?:link|account|address|phone) removed\])"
_MD_LINK = re.compile(rf"!?\[{_NOT_MARKER}([^\]\n]{{0,300}})\]\(([^)\n]{{0,2000}})\)")
_MD_REFERENCE = re.compile(rf"^\s*\[{_NOT_MARKER}[^\]\n]+\]:\s*\S+", re.MULTILINE)
_DOT = re.compile(r"\s?[\[({<]\s*(?:\.|dot)\s*[\])}>]\s?|\s+dot\s+(?=[a-z]{2,}\b)", re.IGNORECASE)
_DEFANGED = re.compile(r"\bh(?:xx|\*\*|tt)p(s?)(?:\[:\]|:)", re.IGNORECASE)
# A scheme (https://, hxxp://, ftp://, //host), www., or a scheme without slashes that runs code
# or reaches a person (javascript:, data:, mailto:, tel:).
_SCHEME_URL = re.compile(r"(?:\b[a-z][a-z0-9+.\-]{0,20}:/{1,3}|(?<![\w/])//(?=\w)|\bwww\d{0,3}\.)\S*",
                         re.IGNORECASE)
_CODE_URL = re.compile(r"\b(?:javascript|vbscript|livescript|data|mailto|tel|sms|callto|file|intent|"
                       r"whatsapp|tg|skype|viber|signal)\s*:\S+", re.IGNORECASE)
_ANY_URL = re.compile(r"\S*://\S*")
_TLDS = ("com|net|org|edu|gov|mil|int|info|biz|name|pro|mobi|app|dev|page|link|site|online|website|"
         "xyz|club|shop|store|blog|news|live|life|world|today|social|network|media|chat|group|zone|"
         "space|tech|cloud|art|fun|lol|moe|wiki|top|icu|vip|one|ink|work|works|email|video|tube|"
         "onion|local|church|party|express|digital|studio|team|community|events|london|scot|wales|"
         r"cymru|xn--[a-z0-9\-]{2,30}|рф|укр|中国|[a-z]{2}")
_LABEL = r"[^\s.@/:?#<>()\[\]{}\"'`,;!|\\*~^=+&$%…“”‘’«»]{1,63}"
# A bare domain (``t.me``, ``example.co.uk``, ``bsky.social``), with anything after it up to a
# space; or any dotted name followed by a path (``something.anything/x``).
_DOMAIN = re.compile(rf"(?<![\w@.\-])(?:(?:{_LABEL}\.)+(?:{_TLDS})(?![\w\-])(?:[:/?#]\S*)?"
                     rf"|(?:{_LABEL}\.)+[^\W\d_]{{2,}}/\S*)", re.IGNORECASE)
# Handles: @ and everything a platform allows after it (letters of any script and their marks,
# digits, _ . -), up to a space or punctuation no platform allows; also user@host (e-mail, or a
# Mastodon account), @user@instance, u/name and /u/name.
_HANDLE_CHARS = r"[^\s@<>()\[\]{}\"'`,;:!?*|~^=+#%$&\\/“”‘’«»„…]"
_LOCAL_CHARS = r"[^\s@<>()\[\]{}\"`,;:\\/“”‘’«»„…]"
_AT = re.compile(rf"({_LOCAL_CHARS}*)[@＠﹫]({_HANDLE_CHARS}+(?:[@＠﹫]{_HANDLE_CHARS}+)?)")
_USER_REF = re.compile(r"(?<![\w/])/?\b(?:u|user)/[\w\-]+", re.IGNORECASE)
# Phone numbers: a run of digit groups with spaces, dots, dashes or brackets between; within it
# + or 00 and 8-15 digits, or a UK 0 and 10-11 digits, is a number (a date after it is not).
_PHONE_RUN = re.compile(r"(?<![\w+:.,/])(?:[+(]\s?){0,2}\d+(?:[\s().\-]{1,3}\d+)*\)?(?!\w)")
_DIGITS = re.compile(r"\d+")
_US_PHONE = re.compile(r"\(\d{3}\)\s?\d{3}[\s.\-]\d{4}\b")
_SPACE_RUN = re.compile(r"\s+")
_PLACEHOLDER = re.compile(r"\[(?:link|account|address|phone) removed\]")


def _url_end(match: re.Match) -> str:
    """A link's replacement; sentence punctuation after it is given back. A bare name ending
    in a capitalised two-letter word ("no.It was") is a missing space, not a domain."""
    found = match.group(0)
    last = found.rsplit(".", 1)[-1]
    if len(last) == 2 and last.isalpha() and last.istitle() and "/" not in found:
        return found
    kept = found.rstrip(".,;:!?)]}'\"’”")
    return LINK + found[len(kept):] if kept else found


def _at(match: re.Match) -> str:
    before, after = match.group(1), match.group(2)
    if before and "@" not in after and "." in after.strip("."):
        return ADDRESS
    return ACCOUNT


def _phone_run(match: re.Match) -> str:
    """The run with its phone numbers replaced. A number starts at a digit group after + or
    (+, or one starting 00 or 0; it ends where its digit count fits that start. Where groups
    could be read more than one way ("+1 2026-12-07 07700 900123"), the reading that covers the
    most digits wins."""
    run = match.group(0)
    groups = list(_DIGITS.finditer(run))
    n = len(groups)
    best: list[tuple[int, list[tuple[int, int]]]] = [(0, [])] * (n + 1)
    for k in range(n - 1, -1, -1):
        best[k] = best[k + 1]
        limits = _number_limits(run, groups, k)
        if limits is None:
            continue
        digits = 0
        for j in range(k, n):
            digits += len(groups[j].group())
            if digits > limits[1]:
                break
            if digits >= limits[0] and digits + best[j + 1][0] > best[k][0]:
                best[k] = (digits + best[j + 1][0], [(k, j), *best[j + 1][1]])
    out, done = [], 0
    for k, j in best[0][1]:
        start = groups[k].start()
        lead = run[max(done, start - 3):start]
        begin = start - len(lead) + min((lead.find(c) for c in "+(" if c in lead), default=len(lead))
        out += [run[done:begin], PHONE]
        done = groups[j].end()
        if run[done:done + 1] == ")" and "(" in run[begin:done]:
            done += 1
    return "".join(out) + run[done:]


def _number_limits(run: str, groups: list[re.Match], k: int) -> tuple[int, int] | None:
    """How many digits a number starting at group ``k`` has: (least, most), or None."""
    first = groups[k].group()
    if "+" in run[max(0, groups[k].start() - 3):groups[k].start()] or (
            first.startswith("00") and len(first) >= 3 and first[2] != "0"):
        return 8, 15
    if first.startswith("0") and len(first) >= 3:
        return 10, 11
    return None


# Each step first checks for the character its pattern cannot match without (a plain substring
# test), so the usual post, with no markup, "@" or link, costs a few scans: the emerging stage
# runs ``term_text`` over every post it clusters.

def _markup_free(text: str) -> str:
    value = text
    for _ in range(3):  # &amp;lt;script&amp;gt; is markup too
        decoded = html.unescape(value)
        if decoded == value:
            break
        value = decoded
    if "<" in value:
        value = _TAG.sub(" ", _HIDDEN_ELEMENT.sub(" ", value)).replace("<", " ").replace(">", " ")
    if "]" in value:
        value = _MD_REFERENCE.sub(LINK, value) if "]:" in value else value
        value = _MD_LINK.sub(lambda m: f" {m.group(1)} {LINK} ", value) if "](" in value else value
    return value.replace(">", " ")


def _personal_data_free(text: str) -> str:
    value, lower = text, text.lower()
    if "xxp" in lower or "**p" in lower or "[:]" in value:
        value = _DEFANGED.sub(lambda m: f"http{m.group(1)}:", value)
    if "dot" in lower or any(c in value for c in "[({<"):
        value = _DOT.sub(".", value)
    if ":" in value or "www" in lower or "//" in value:
        value = _SCHEME_URL.sub(_url_end, value)
        value = _CODE_URL.sub(_url_end, value) if ":" in value else value
        value = _ANY_URL.sub(LINK, value) if "://" in value else value
    if "." in value:
        value = _DOMAIN.sub(_url_end, value)
    if "@" in value:
        value = _AT.sub(_at, value)
    if "/" in value:
        value = _USER_REF.sub(ACCOUNT, value)
    if any(c in value for c in "0123456789"):
        value = _PHONE_RUN.sub(_phone_run, _US_PHONE.sub(PHONE, value))
    return value


def clean_excerpt(text: object, limit: int = EXCERPT_MAX) -> str:
    """Post (or officer) text made safe to quote anywhere: one line of plain text without
    markup, links in any form, handles, e-mail addresses or phone numbers, each replaced by a
    plain marker ("[link removed]"), and without emoji (they print as empty boxes in the PDF's
    fonts and carry no wording). Cut at ``limit`` characters on a word boundary, so a marker is
    never cut in half. The one function every quoting path calls; each medium escapes the result."""
    value = _personal_data_free(_markup_free(_plain_characters(str(text or ""))))
    value = _SPACE_RUN.sub(" ", unicodedata.normalize("NFKC", value)).strip()
    return _shorten(value, limit)


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@functools.cache
def _symbols() -> re.Pattern:
    """Emoji and other symbols, surrogates, private use and everything past the BMP: one
    character class, built on first use."""
    ranges, start = [], None
    for code in range(0x10001):
        dropped = code <= 0xFFFF and unicodedata.category(chr(code)) in ("So", "Cs", "Co")
        if dropped and start is None:
            start = code
        elif not dropped and start is not None:
            ranges.append(f"\\u{start:04x}-\\u{code - 1:04x}")
            start = None
    return re.compile("[" + "".join(ranges) + "\\U00010000-\\U0010ffff]")


@functools.cache
def _folds_with_space() -> dict[int, str]:
    """Characters that are not spaces but whose compatibility form holds one (the ligature ﷻ,
    spacing accents such as ´, Arabic presentation forms), mapped to that form without its
    spaces: folding must never split a handle or a link in two, leaving half of it behind."""
    table = {}
    for point in range(0x80, 0x10000):
        char = chr(point)
        if not char.isspace():
            folded = unicodedata.normalize("NFKC", char)
            if any(c.isspace() for c in folded):
                table[point] = "".join(c for c in folded if not c.isspace())
    return table


def _plain_characters(text: str) -> str:
    """Compatibility forms folded (＠ to @), invisible characters, emoji and symbols dropped and
    control characters made spaces, before any pattern looks at the text."""
    if text.isascii():
        return _CONTROL.sub(" ", text)
    value = unicodedata.normalize("NFKC", text.translate(_folds_with_space()))
    value = _symbols().sub("", _INVISIBLE.sub("", value))
    return _CONTROL.sub(" ", value)


def term_text(text: str | None) -> str:
    """The text with markup, links, handles, addresses and numbers blanked, for counting words
    (emerging narratives' terms): the same patterns as ``clean_excerpt``, without markers."""
    return _PLACEHOLDER.sub(" ", _personal_data_free(_markup_free(_plain_characters(str(text or "")))))


def _shorten(value: str, limit: int) -> str:
    """At most ``limit`` characters, cut at a space where one is near, never inside a marker."""
    if len(value) <= limit:
        return value
    end = limit - 1
    space = value.rfind(" ", 0, end + 1)
    if space >= limit // 2:
        end = space
    for marker in _PLACEHOLDER.finditer(value, 0, end + len(LINK)):
        if marker.start() < end < marker.end():
            end = marker.start()
    return value[:end].rstrip() + "…"


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]#|~])")


def markdown_text(text: object) -> str:
    """Text for a Markdown medium (the briefing's Markdown edition, Teams and Slack cards): no
    raw HTML (``<``, ``>`` and ``&`` become entities) and every Markdown control character
    backslash-escaped, so no link, image, emphasis or heading can be made from it."""
    value = str(text if text is not None else "")
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN_SPECIAL.sub(r"\\\1", value)
