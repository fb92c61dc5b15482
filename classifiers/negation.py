"""Denials of a negative description of a group: "Refugees are not criminals."

The hate head reads such a denial as the negated hate it resembles ("Refugees are not welcome
here"): both put a group, a copula and a negation together, and the learned features barely see
which way the predicate points (stop 19: 51 denials in training, still 12 of 19 held-out ones
right; "Refugees are not criminals." scored 0.84). :func:`denial` finds the sentence that denies
a *pejorative* description, and ``Heads`` scales that post's hate and offensive probabilities by
``DENIAL_FACTOR`` (the mass goes to "normal"). A denial is:

* a sentence ``[No,] [the|our|most|all|these...] <group> [up to 6 words] are|is|were|was not|n't|
  never [all|just|a|too...] <predicate>``, where the group is one of :data:`GROUPS` (a protected
  group noun, or a nationality or faith adjective with people/family/lads/community...);
* whose predicate's first sentiment-bearing word (within its first three content words) is
  pejorative: negative in VADER's lexicon (valence <= -0.5) or one of :data:`PEJORATIVE` (the
  dehumanising words VADER does not know: vermin, parasites, scroungers...), and not one of
  :data:`MISFORTUNE` (denying that a group are victims, persecuted or desperate is hostile, not
  a defence);
* in a post where nothing else says the group, or "they", *are* something pejorative ("Muslims
  are not terrorists. They are all rapists though." and "Immigrants aren't stupid, they're
  parasites" are not denials).

The same holds for a pejorative statement about a group that a framing clause at the start of the
sentence denies or condemns (:func:`_embedded`): "Nobody here thinks X are a disease", "I'd never
say X are vermin", "I don't believe for a second that ...", "It's not true that ...", "the lie
that ...", "Don't let anyone tell you ...", "Stop calling X scroungers", "Calling X groomers is
racist". A disclaimer is not a denial: "I'm not saying X are vermin, but ..." and any frame
followed by ", but" are left to the head.

``Heads`` scales the conspiracy score of a denial by the same factor: rebutting a smear about a
group ("Jews do not control the banks. That's an ancient conspiracy theory.") is not conspiracy
framing, and the conspiracy head, which learned that group-plus-claim sentences are, flagged half
of hate_contrast's denials.

Negated positives ("Gay people are not normal", "Disabled people are not worth the money")
are left to the head, as are denials in other shapes ("I don't hate X", "The idea that X are
Y is a myth", "Saying that X are Y is vile").
"""

from __future__ import annotations

import re
from functools import lru_cache

# hate_contrast's negation val split allows any factor up to 0.7; denials written while shaping the rule
# scored up to 0.87 (val: 0.67), so 0.25 keeps them well under the 0.48 threshold (see the hate model card)
DENIAL_FACTOR = 0.25

_PEOPLE = r"(?:people|persons|folk|families|family|lads|men|women|girls|boys|kids|children|community|communities|" \
          r"workers|neighbours|neighbors|residents|students|youths?|couples?)"
_ADJECTIVES = (
    "black", "white", "asian", "african", "arab", "indian", "pakistani", "bangladeshi", "chinese", "polish",
    "romanian", "bulgarian", "lithuanian", "latvian", "albanian", "kurdish", "iraqi", "iranian", "afghan",
    "syrian", "eritrean", "sudanese", "somali", "nigerian", "ukrainian", "eastern european", "irish", "scottish",
    "english", "welsh", "roma", "muslim", "jewish", "christian", "catholic", "hindu", "sikh", "gay", "lesbian",
    "bisexual", "trans", "transgender", "non-binary", "disabled", "autistic", "deaf", "blind", "migrant",
    "immigrant", "refugee", "foreign", "traveller", "traveler", "gypsy",
)
_NOUNS = (
    "muslims", "jews", "christians", "catholics", "hindus", "sikhs", "immigrants", "migrants", "refugees",
    "asylum seekers", "foreigners", "asians", "africans", "arabs", "indians", "pakistanis", "somalis", "poles",
    "romanians", "eastern europeans", "gypsies", "travellers", "travelers", "roma", "gays", "lesbians",
    "bisexuals", "homosexuals", "trans women", "trans men", "transgender people", "wheelchair users", "women",
    "girls",
)
GROUPS = r"(?:(?:" + "|".join(_ADJECTIVES) + r")\s+" + _PEOPLE + r"|" + "|".join(_NOUNS) + r")"
# dehumanising or pejorative words VADER's lexicon does not have
PEJORATIVE = frozenset("""
    vermin scum parasites parasite animals invaders scroungers scrounger freeloaders freeloader diseased filthy
    paedophiles pedophiles paedos subhuman sub-human rats cockroaches illegals freaks perverts groomers
    extremists backward naughty confused promiscuous threat danger menace mentally sneaky savages predators
    degenerates disease diseases plague pests pest filth trash garbage infestation swarm lice leeches
    """.split())
# words whose denial is hostile: it takes sympathy away from the group
MISFORTUNE = frozenset("""
    victims victim poor suffering persecuted oppressed desperate vulnerable scared afraid fleeing starving
    struggling hungry homeless endangered traumatised traumatized
    """.split())
_SKIP = frozenset("all just simply a an some too so very really the our your that such any more less being as "
                  "even".split())

_DENIAL = re.compile(
    r"^(?:no[,.!]?\s+)?(?:(?:the|our|most|all|these|those|many)\s+)?" + GROUPS + r"\b(?:\s+[\w'-]+){0,6}?\s+"
    r"(?:are|is|were|was)\s*(?:n't|\s+not|\s+never)\s+(?P<predicate>[^.!?;,]+)", re.IGNORECASE)
# "Nobody here thinks X are Y", "I'd never say ...", "It's not true that ...", "the lie that ...": a frame that
# denies or condemns the statement after it. "I'm not saying X are Y, but ..." is a disclaimer, not a denial.
_FRAME = (
    r"(?:(?:i|we|you)(?:\s+(?:would|will|could|can|do|did|does)|'d)?\s*(?:never|not|n't)\s+(?:ever\s+|once\s+)?"
    r"(?:say|said|think|thought|believe|believed|claim|claimed|agree|accept|buy)"
    r"|(?:i|we)\s+refuse\s+to\s+(?:believe|accept|say)"
    r"|(?:nobody|no one|no-one|none of us)\s+(?:[\w']+\s+){0,4}?"
    r"(?:thinks|says|believes|claims|is saying|would say|should say|should ever say|should call|calls)"
    r"|(?:don't|do not|never)\s+let\s+(?:anyone|anybody|them|people)\s+tell\s+you"
    r"|it(?:'s|\s+is|\s+was|\s+isn't|\s+would be)\s+(?:simply\s+|just\s+|plainly\s+)?"
    r"(?:not true|untrue|false|a lie|a myth|nonsense|rubbish|wrong to say|wrong to think|racist to say)"
    r"|(?:the|that|this|an old|the old)\s+(?:lie|myth|smear|stereotype|trope)"
    r"|(?:stop|quit)\s+(?:saying|claiming|telling people)"
    r")\s+(?:for a second\s+|for one second\s+)?(?:that\s+)?"
)
_EMBEDDED = re.compile(
    r"^(?:no[,.!]?\s+|honestly[,]?\s+|and\s+)?" + _FRAME + r"(?:(?:the|our|most|all|these|those|many)\s+)?" + GROUPS +
    r"\b(?:\s+[\w'-]+){0,6}?(?:\s+(?:are|is|were|was)|'re)\s+(?!not\b|n't|never\b)(?P<predicate>[^.!?;,]+)",
    re.IGNORECASE)
# "Stop calling Travellers scroungers", "Calling Pakistanis groomers ... is racist"
_CALLING = re.compile(
    r"^(?:(?P<stop>stop|quit|don't|do not|never)\s+(?:calling|call)\s+|calling\s+)(?:(?:the|our|all)\s+)?" + GROUPS +
    r"\s+(?P<predicate>[^.!?;,]+)", re.IGNORECASE)
_CONDEMNED = re.compile(r"\bis\s+(?:wrong|racist|bigoted|vile|disgusting|hateful|ignorant|lazy|cruel|not on|"
                        r"out of order|not ok|not okay|unacceptable)\b", re.IGNORECASE)
_DISCLAIMER = re.compile(r"^(?:i'm|i am|im)\s+not\s+saying\b|,?\s+but\b", re.IGNORECASE)
_AFFIRMED = re.compile(
    r"\b(?:" + GROUPS + r"|they|them|these people|those people)(?:\s+(?:are|is|were)|'re)\s+(?!not\b|n't|never\b)"
    r"(?P<predicate>[^.!?;,]+)", re.IGNORECASE)
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_WORD = re.compile(r"[\w'-]+")


@lru_cache(maxsize=1)
def valence() -> dict[str, float]:
    """VADER's word -> valence lexicon (offline, in the vaderSentiment wheel)."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer().lexicon


def pejorative(predicate: str) -> bool:
    """Whether the predicate's first sentiment-bearing word (of its first three content words) is pejorative."""
    lexicon = valence()
    content = 0
    for word in _WORD.findall(predicate.replace('"', " ")):
        word = word.lower().strip("'")
        if word in _SKIP:
            continue
        if word in MISFORTUNE:
            return False
        if word in PEJORATIVE:
            return True
        v = lexicon.get(word)
        if v is not None and abs(v) >= 0.5:
            return v < 0
        content += 1
        if content >= 3:
            return False
    return False


def sentences(text: str) -> list[str]:
    """``text`` split into sentences (at . ! ? followed by space, and at line breaks)."""
    return [s for s in _SENTENCE.split((text or "").strip()) if s]


def affirms_pejorative(text: str) -> bool:
    """Whether ``text`` says a group, or "they", *are* something pejorative ("They are all rapists though.")."""
    return any(pejorative(a.group("predicate")) for a in _AFFIRMED.finditer(text))


def denial(text: str) -> str | None:
    """The sentence of ``text`` that denies a pejorative description of a group, or None."""
    parts = sentences(text)
    for i, sentence in enumerate(parts):
        sentence = sentence.strip(" \"'“”‘’")
        m = _DENIAL.match(sentence) or _embedded(sentence)
        if not m or not pejorative(m.group("predicate")):
            continue
        if affirms_pejorative(" ".join(parts[:i] + [sentence[m.end("predicate"):]] + parts[i + 1:])):
            return None
        return sentence
    return None


def _embedded(sentence: str):
    """A match whose ``predicate`` a framing clause denies or condemns, or None. The frame must open the
    sentence, and a disclaimer ("I'm not saying ...", a frame followed by ", but") is not a denial."""
    if _DISCLAIMER.search(sentence):
        return None
    m = _EMBEDDED.match(sentence)
    if m:
        return m
    m = _CALLING.match(sentence)
    if m and (m.group("stop") or _CONDEMNED.search(sentence, m.start("predicate"))):
        return m
    return None

