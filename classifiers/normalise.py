"""One normalisation of post text, the same for training and for scoring.

What real posts carry around the words must not change the verdict: a link, a mention, a hashtag
block or an emoji appended to "Scum migrants in Workington" is still the same post. So, before the
encoder sees a text (``classifiers.scoring``) and before any training text is encoded
(``classifiers.hate_model``), :func:`normalise`:

* decodes HTML entities (twice: feeds double-escape) and drops markup tags;
* removes links (``https://t.co/..``, ``www.``, bare domains with a path) and the placeholders the
  public sets put in their place (``<url>``, ``URL``, a lone ``http``);
* removes mentions (``@name``) and the sets' placeholders (``@USER``, ``<user>``) and a leading
  ``RT``: who is addressed is not what is said, and the service keeps no handles;
* writes hashtags as words (``#StopTheBoats`` -> ``Stop The Boats``), so a tag that carries the
  message still does;
* removes emoji, pictographs and their joiners and variation selectors (the encoder's vocabulary
  has none of them: each would be one unknown token);
* squeezes a character repeated more than twice to two (``sooooo`` -> ``soo``, ``!!!!`` -> ``!!``)
  and collapses white space.

:func:`add_noise` is the training side of the same promise: it appends or prepends what posts carry
(links, mentions, hashtags, emoji), so the model learns from text that looks like posts, then reads
it through :func:`normalise` as the service does.
"""

from __future__ import annotations

import html
import random
import re
import unicodedata

_TAG = re.compile(r"</?[A-Za-z][^<>]{0,200}>")
_LINK = re.compile(
    r"(?:https?://|www\.)\S+"  # a link with its scheme or www.
    r"|\b(?:[a-z0-9-]+\.)+(?:com|co\.uk|org|net|uk|ly|co|io|me|gl|be|to|tv|info)/\S*"  # t.co/abc, bit.ly/x
    r"|<url>|\bURL\b|(?<![\w/])https?\b(?!:)",  # the public sets' placeholders; a lone "http"
    re.IGNORECASE,
)
_MENTION = re.compile(r"(?<![\w@])@\w{1,30}|<user>", re.IGNORECASE)
_RT = re.compile(r"^\s*RT\b:?", re.IGNORECASE)
_HASHTAG = re.compile(r"(?<![\w&])#(\w+)")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Za-z])(?=[0-9])|(?<=[0-9])(?=[A-Za-z])|(?<=[A-Z])(?=[A-Z][a-z])")
_REPEAT = re.compile(r"(.)\1{2,}", re.DOTALL)
_SPACE = re.compile(r"\s+")
_LEAD = re.compile(r"^[\s:,]+")  # what a removed "RT @name:" or leading mention leaves
_JOINERS = {"\u200d", "\u200c", "\ufe0e", "\ufe0f", "\u20e3"}


def _hashtag_words(match: re.Match) -> str:
    return " " + _CAMEL.sub(" ", match.group(1).replace("_", " ")) + " "


def _is_pictograph(ch: str) -> bool:
    if ch in _JOINERS:
        return True
    cp = ord(ch)
    if 0x1F000 <= cp <= 0x1FAFF or 0x2600 <= cp <= 0x27BF or 0x1F1E6 <= cp <= 0x1F1FF or 0xE0020 <= cp <= 0xE007F:
        return True
    return unicodedata.category(ch) in ("So", "Cs", "Co")


def normalise(text: str) -> str:
    """The text the encoder and every head read (see the module docstring)."""
    if not text:
        return ""
    t = html.unescape(html.unescape(text))
    t = _TAG.sub(" ", t)
    t = _RT.sub(" ", t)
    t = _LINK.sub(" ", t)
    t = _MENTION.sub(" ", t)
    t = _HASHTAG.sub(_hashtag_words, t)
    t = "".join(" " if _is_pictograph(ch) else ch for ch in t)
    t = _REPEAT.sub(r"\1\1", t)
    return _LEAD.sub("", _SPACE.sub(" ", t)).strip()


# ------------------------------------------------------------------ training noise
_NOISE_LINKS = ("https://t.co/{}", "http://bit.ly/{}", "https://www.example.co.uk/news/{}", "www.facebook.com/{}")
_NOISE_MENTIONS = ("@{}", "@{}_{}", "@The{}")
_NOISE_TAGS = ("#news", "#UK", "#breaking", "#Cumbria", "#FBPE", "#tory", "#MondayMotivation", "#politics",
               "#truth", "#WakeUp", "#Saturday", "#football", "#nofilter", "#BBC")
_NOISE_EMOJI = ("😂", "🤣", "😡", "👍", "🙏", "🔥", "💯", "😭", "🇬🇧", "❤️", "🤔", "👀", "😳", "🙄")
_NOISE_WORDS = ("john", "sarah", "mike", "news", "daily", "official", "uk", "real", "local", "the", "1987")


def _token(rng: random.Random, n: int = 8) -> str:
    return "".join(rng.choice("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(n))


def add_noise(text: str, rng: random.Random) -> str:
    """``text`` with one to three of a link, a mention, hashtags or emoji added at its start or end."""
    kinds = rng.sample(("link", "mention", "tags", "emoji"), rng.randint(1, 3))
    for kind in kinds:
        if kind == "link":
            piece = rng.choice(_NOISE_LINKS).format(_token(rng, rng.randint(6, 10)))
        elif kind == "mention":
            piece = rng.choice(_NOISE_MENTIONS).format(*(rng.choice(_NOISE_WORDS).title() for _ in range(2)))
        elif kind == "tags":
            piece = " ".join(rng.sample(_NOISE_TAGS, rng.randint(1, 3)))
        else:
            piece = "".join(rng.choice(_NOISE_EMOJI) for _ in range(rng.randint(1, 3)))
        text = f"{piece} {text}" if kind == "mention" and rng.random() < 0.5 else f"{text} {piece}"
    return text


__all__ = ["normalise", "add_noise"]
