"""Nothing quoted from a post leaves the store with a handle, link, address, phone number or markup.

``clean_excerpt`` is the one cleaning function; these tests generate the things it must remove
(handles in every character platforms allow, links in every form, e-mail addresses, phone
numbers, HTML and Markdown) inside surrounding wording and check that none survives. The
end-to-end tests in ``test_privacy_outputs.py`` follow the same generated posts through
notifications, the briefing and the dashboard.
"""

from __future__ import annotations

import re
import unicodedata

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from monitor.privacy import EXCERPT_MAX, clean_excerpt, markdown_text, term_text

# Surrounding wording: ordinary words, punctuation, numbers, emoji and other scripts.
WORDS = ("the", "fire", "at", "Workington", "hostel", "they", "said", "(see", "this)", "it's", "—", "&",
         "1,234", "#Workington", "…", "🔥", "Zürich", "Łódź", "مرحبا", "日本", "2026-12-07", "14:00", "0.35",
         "e.g.", "no!", "\"quoted\"", "*bold*", "_x_", "|", "~", "£5", "50%", "a/b", "x=1", "+1")
LETTERS = st.characters(categories=("Lu", "Ll", "Lo", "Nd"), max_codepoint=0xFFFF)
ASCII = "abcdefghijklmnopqrstuvwxyz0123456789"
MARKERS = "[link removed] [account removed] [address removed] [phone removed]"
FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

wording = st.lists(st.sampled_from(WORDS), max_size=12).map(" ".join)
secret = st.text(ASCII, min_size=6, max_size=16).filter(lambda s: not any(s in w.lower() for w in MARKERS.split()))
segment = st.text(st.one_of(LETTERS, st.characters(categories=("Mn", "Mc"), max_codepoint=0xFFFF)),
                  min_size=4, max_size=12).filter(lambda s: unicodedata.category(s[0])[0] in "LN")
handle_body = st.builds(lambda first, rest: first + "".join(sep + seg for sep, seg in rest), segment,
                        st.lists(st.tuples(st.sampled_from(["_", ".", "-", "__", "-_"]), segment), max_size=3))
tld = st.sampled_from(["com", "co.uk", "org", "net", "io", "me", "social", "uk", "de", "xyz", "рф", "xn--p1ai"])
label = st.one_of(secret, st.text(LETTERS, min_size=6, max_size=12))


def forms(value: str) -> set[str]:
    """A generated string and its NFKC form (the cleaner normalises compatibility characters)."""
    return {value, unicodedata.normalize("NFKC", value)}


def survives(piece: str, out: str) -> bool:
    return any(f.casefold() in out.casefold() for f in forms(piece) if f)


@st.composite
def handles(draw) -> tuple[str, list[str]]:
    """An account reference and the parts of it that must not survive."""
    body = draw(handle_body)
    assume(not any(survives(body, w) for w in (*WORDS, MARKERS)))
    kind = draw(st.sampled_from(["plain", "bluesky", "mastodon", "fullwidth", "reddit", "tiktok"]))
    if kind == "bluesky":
        return f"@{body}.bsky.social", [body]
    if kind == "mastodon":
        host = draw(secret)
        return f"@{body}@{host}.{draw(tld)}", [body, host]
    if kind == "fullwidth":
        return f"＠{body}", [body]
    if kind == "reddit":
        name = draw(secret)
        return f"u/{name}", [name]
    if kind == "tiktok":
        return f"tiktok.com/@{body}", [body]
    return f"@{body}", [body]


@st.composite
def links(draw) -> tuple[str, list[str]]:
    """A link in one of the forms posts carry, and the parts that must not survive."""
    name, path = draw(label), draw(secret)
    assume(not any(survives(name, w) for w in (*WORDS, MARKERS)))
    host = f"{name}.{draw(tld)}"
    kind = draw(st.sampled_from(["scheme", "www", "bare_path", "bare", "platform", "defanged", "dotted",
                                 "markdown", "anchor", "javascript", "protocol_relative", "data"]))
    scheme = draw(st.sampled_from(["http", "https", "HTTPS", "hxxp", "hxxps", "ftp"]))
    if kind == "scheme":
        return f"{scheme}://{host}/{path}?q=1#{path}", [name, path]
    if kind == "www":
        return f"www.{host}/{path}", [name, path]
    if kind == "bare_path":
        return f"{host}/{path}", [name, path]
    if kind == "bare":
        return host, [name]
    if kind == "platform":
        site = draw(st.sampled_from(["t.me", "wa.me", "facebook.com", "instagram.com", "youtu.be", "x.com",
                                     "m.facebook.com", "chat.whatsapp.com", "discord.gg", "linktr.ee"]))
        return f"{site}/{path}", [path]
    if kind == "defanged":
        return f"{scheme}://{name}[.]{draw(tld)}/{path}", [name, path]
    if kind == "dotted":
        return f"{name}[.]com/{path}", [name, path]
    if kind == "markdown":
        return f"[click here](https://{host}/{path})", [name, path, "]("]
    if kind == "anchor":
        return f"<a href=\"https://{host}/{path}\">read</a>", [name, path, "href"]
    if kind == "javascript":
        return f"[go](javascript:alert('{path}'))", [path, "javascript"]
    if kind == "data":
        return f"data:text/html;base64,{path}", [path]
    return f"//{host}/{path}", [name, path]


@st.composite
def addresses(draw) -> tuple[str, list[str]]:
    local = draw(st.builds(lambda a, b: a + b, secret, st.text(st.sampled_from(ASCII + "._+-"), max_size=8)))
    host = draw(secret)
    return f"{local}@{host}.{draw(tld)}", [local, host]


@st.composite
def phones(draw) -> tuple[str, list[str]]:
    digits = draw(st.text("0123456789", min_size=6, max_size=6))
    kind = draw(st.sampled_from(["uk_mobile", "uk_mobile_spaced", "international", "landline", "double_zero",
                                 "dashed", "us"]))
    number = {
        "uk_mobile": f"077{digits[:2]}9{digits[2:]}0",
        "uk_mobile_spaced": f"077{digits[:2]} 9{digits[1:]}",
        "international": f"+44 77{digits[:2]} 9{digits}",
        "landline": f"(01228) {digits}",
        "double_zero": f"0044 77{digits[:2]} {digits}",
        "dashed": f"+33-1-{digits[:2]}-{digits[2:4]}-{digits[4:]}-99",
        "us": f"(555) {digits[:3]}-{digits[2:]}",
    }[kind]
    return number, [number, digits if kind != "dashed" else number]


@st.composite
def markup(draw) -> tuple[str, list[str]]:
    payload = draw(secret)
    kind = draw(st.sampled_from(["script", "img", "svg", "iframe", "entities", "double_entities", "style",
                                 "comment", "image_md", "unclosed"]))
    text = {
        "script": f"<script>alert('{payload}')</script>",
        "img": f"<img src=x onerror=alert('{payload}')>",
        "svg": f"<svg/onload=alert('{payload}')>",
        "iframe": f"<iframe src=\"https://{payload}.com\"></iframe>",
        "entities": f"&lt;script&gt;{payload}&lt;/script&gt;",
        "double_entities": f"&amp;lt;img src=x onerror={payload}&amp;gt;",
        "style": f"<style>body{{background:url({payload})}}</style>",
        "comment": f"<!-- {payload} -->",
        "image_md": f"![x](https://{payload}.com/a.png)",
        "unclosed": f"<img src=x onerror=alert('{payload}')",
    }[kind]
    return text, [payload, "<", ">", "onerror", "onload", "<script"]


def embedded(piece):
    return st.tuples(wording, piece, wording).map(lambda t: (f"{t[0]} {t[1][0]} {t[2]}", t[1][1]))


def parts(piece: str) -> list[str]:
    """The piece and each run of four or more letters or digits in it: half a handle
    ("-smith-leak") is a leak too."""
    return [piece, *(p for p in re.split(r"[\W_]+", piece) if len(p) >= 4 and p != piece)]


def assert_removed(text: str, pieces: list[str], out: str) -> None:
    for piece in pieces:
        for part in parts(piece):
            if not any(survives(part, w) for w in (*WORDS, MARKERS)):
                assert not survives(part, out), f"{part!r} of {piece!r} survived: {text!r} -> {out!r}"


@FAST
@given(embedded(handles()))
def test_no_handle_survives(case):
    text, pieces = case
    assert_removed(text, pieces, clean_excerpt(text, limit=1000))


@FAST
@given(embedded(links()))
def test_no_link_survives(case):
    text, pieces = case
    assert_removed(text, pieces, clean_excerpt(text, limit=1000))


@FAST
@given(embedded(addresses()))
def test_no_address_survives(case):
    text, pieces = case
    assert_removed(text, pieces, clean_excerpt(text, limit=1000))


@FAST
@given(embedded(phones()))
def test_no_phone_number_survives(case):
    text, pieces = case
    assert_removed(text, pieces, clean_excerpt(text, limit=1000))


@FAST
@given(embedded(markup()))
def test_no_markup_survives(case):
    text, pieces = case
    assert_removed(text, pieces, clean_excerpt(text, limit=1000))


@FAST
@given(st.lists(st.one_of(handles(), links(), addresses(), phones(), markup()), min_size=1, max_size=6),
       wording, st.integers(min_value=20, max_value=EXCERPT_MAX))
def test_a_mixed_post_cut_short_keeps_nothing_and_no_half_marker(found, words, limit):
    text = " ".join(f"{piece} {words}" for piece, _ in found)
    out = clean_excerpt(text, limit=limit)
    for piece, pieces in found:
        assert_removed(text, pieces, out)
    assert len(out) <= limit and "\n" not in out
    body = out.removesuffix("…")
    for marker in ("[link", "[account", "[address", "[phone"):
        assert body.count(marker) == body.count(marker + " removed]")


@FAST
@given(st.text(max_size=400))
def test_any_text_comes_out_one_plain_line_and_cleaning_twice_changes_nothing(text):
    out = clean_excerpt(text, limit=10_000)
    assert "<" not in out and ">" not in out and "\n" not in out and "://" not in out
    assert clean_excerpt(out, limit=10_000) == out
    term_text(text)  # never raises either


def test_the_leaks_found_in_issue_24_are_gone():
    text = ("@john-smith-leak see t.me/evil_chan_handle, facebook.com/john.smith.9999 and "
            "instagram.com/leaky_insta_user <script>alert(1)</script><img src=x onerror=alert(2)>")
    out = clean_excerpt(text)
    assert out == "[account removed] see [link removed], [link removed] and [link removed]"


def test_folding_a_character_into_words_never_splits_a_handle_or_link():
    """U+FDFB's compatibility form is three Arabic words: folded as it was, the end of the handle
    after it survived (found by test_privacy_outputs' generated handles)."""
    assert clean_excerpt("hi @Yĭ啄ﷻŀûŸ久뫁É8__ĐÛ-_Ġ좇ŀŖaaĵŪĄWųÅ there") == "hi [account removed] there"
    assert clean_excerpt("see example´lookalike.com/x now") == "see [link removed] now"


def test_ordinary_wording_numbers_and_times_are_kept():
    text = "Meeting at 14:00 on 2026-12-07: 1,234 posts, 0.35 share (e.g. Workington), £5 - no.It was"
    assert clean_excerpt(text) == text


@FAST
@given(st.text(max_size=200))
def test_markdown_text_leaves_no_raw_html_or_link_syntax(text):
    out = markdown_text(text)
    assert "<" not in out and ">" not in out
    for char in "[]*_`|#":
        assert out.count(char) == out.count("\\" + char)
