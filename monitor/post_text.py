"""How much of a post the stages read: its first ``TEXT_CAP`` characters.

Scoring costs grow with the length of a text (spaCy's tokens and entities, the language
model's reading, the narrative terms): about 0.2 s and 30 MB for 10,000 characters of ordinary
words, 2 s and 300 MB for 100,000, 28 s and 2.8 GB for 1,000,000, and spaCy refuses texts longer
than that (error E088). Some texts cost far more, growing with the square of their length: at
20,000 characters, 10,000 emoji took 30 s (the negativity head's sentiment rules), a run of 20,000
'#' 45 s (spaCy's tokenizer) and one 20,000-letter word 12 s and gigabytes (the respelling of
obfuscated words). A real post is a few hundred characters, a long forum post a few thousand,
and the encoder reads only the first 256 tokens of any text. So the scoring, emerging and
amplification stages read the first ``TEXT_CAP`` characters, cut by the database (``substr``)
so that a 50 MB text never reaches Python whole; the scorer also cuts any run of more than
``WORD_CAP`` characters without a space (no word or link is that long), and records in the
explanation how many characters it did not read (``text_cut``).
"""

from __future__ import annotations

import re

import sqlalchemy as sa

from monitor.store.schema import posts

TEXT_CAP = 5_000
WORD_CAP = 100
_LONG_RUN = re.compile(r"\S{%d,}" % (WORD_CAP + 1))


def capped_text(column: sa.ColumnElement = posts.c.text) -> sa.ColumnElement:
    """The column's first ``TEXT_CAP`` characters, labelled with the column's own name."""
    return sa.func.substr(column, 1, TEXT_CAP).label(column.name)


def text_length(column: sa.ColumnElement = posts.c.text) -> sa.ColumnElement:
    """The column's full length in characters (to say how much was cut)."""
    return sa.func.length(column).label(f"{column.name}_length")


def cap(text: str) -> str:
    """The part of a text the scorer reads: the first ``TEXT_CAP`` characters, each run of
    characters without a space cut to ``WORD_CAP``."""
    text = text if len(text) <= TEXT_CAP else text[:TEXT_CAP]
    return _LONG_RUN.sub(lambda m: m.group(0)[:WORD_CAP], text)
