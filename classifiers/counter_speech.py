"""Counter-speech and sympathy: strong feeling aimed at a group's attackers or its mistreatment, not at the group.

The hate head reads strong feeling next to a group word as hate, whoever the feeling is aimed at. On a probe
written for stop 22 by a helper who never saw our data, it flagged 14 of 40 such posts: "I can't stand racists
who target Poles in Workington." 0.88, "Antisemites disgust me." 0.89, "I hate how Muslims get treated in this
town." 0.76. After an incident a council's feed fills with exactly these posts, and read as hate they would
raise the tension index because people stand up for their neighbours. :func:`counter_speech` finds the
sentence that aims the feeling elsewhere, and ``Heads`` scales the post like a denial (:mod:`classifiers.negation`,
``DENIAL_FACTOR``). The shapes, each with the group named by :data:`classifiers.negation.GROUPS`:

* **at attackers**: hostility at racists, bigots, homophobes ..., or at "people / anyone / the lads who hate,
  abuse, target, attack, shout at ..." a group, either as the object of the writer's feeling ("I can't stand
  racists who target Poles") or as the subject of a condemnation ("People who hate gay people disgust me",
  "Antisemites are scum"). Those who *defend* a group are not attackers: "People who welcome refugees
  disgust me" is left to the head;
* **at mistreatment**: the writer's feeling aimed at how a group is treated or what is done to it ("I hate
  how Muslims get treated", "It makes my blood boil the way disabled people are spoken to", "I hate that
  Traveller kids get turned away"), where what follows the group names a harm (:data:`HARMS`) and no
  resentment ("I hate that asylum seekers get free hotels", "...taking over Carlisle": :data:`RESENTMENT`);
* **sympathy**: worry, fear or sorrow *for* a group ("worried sick for the Polish families");
* **questions about prejudice**: "Why do people hate Travellers so much?".

None counts when the post says elsewhere that the group (or "they") is something pejorative
(:func:`classifiers.negation.affirms_pejorative`), when another sentence speaking of the group or "they"
carries a pejorative word ("Why do people hate Travellers? Because they rob everything."), when the
matched sentence itself goes on to one ("..., parasites the lot of them"), or when it is sarcasm ("said no
one ever"). Quoted text is the quoted person's, not the writer's, and is left out of every check.
"""

from __future__ import annotations

import re

from .negation import GROUPS, PEJORATIVE, affirms_pejorative, sentences, valence

_ADVERBS = r"(?:really|just|fucking|truly|genuinely|honestly|absolutely|seriously|bloody|actually|do|all|so|still|" \
           r"simply|utterly|completely|totally|personally|always|now|proper)"
# the writer's own feeling: "I (really) can't stand", "we're sick of", "it makes my blood boil"
_FEELING = (
    r"(?:(?:i|we)(?:\s+" + _ADVERBS + r"){0,3}(?:\s+|(?=['’]))"
    r"(?:hate|despise|detest|loathe|abhor|can'?t stand|cannot stand|can'?t bear|cannot bear|can'?t abide|"
    r"cannot abide|(?:am|'m|are|'re)\s+(?:so\s+|really\s+|fucking\s+|bloody\s+)?(?:sick(?: to death)?|tired|"
    r"fed up|disgusted|sickened|appalled|ashamed|angry|furious|livid)(?:\s+(?:of|with|by|at|about))?)"
    r"|(?<![\w'])(?:so\s+|really\s+)?(?:sick(?: to death)?|tired|fed up|disgusted|sickened|appalled|ashamed|angry|"
    r"furious|livid)\s+(?:of|with|by|at|about)"
    r"|(?:it\s+)?(?:really\s+|honestly\s+)?(?:makes|made)\s+(?:me|us)\s+(?:so\s+)?(?:sick|angry|furious|ashamed|mad|"
    r"livid|sad|cry)"
    r"|(?:it\s+)?(?:really\s+|honestly\s+)?(?:(?:makes|make|made)\s+my\s+blood\s+boil|boils\s+my\s+blood)"
    r"|it\s+breaks\s+my\s+heart"
    r"|(?:it'?s|it\s+is)\s+(?:so\s+|absolutely\s+|bloody\s+)?(?:disgusting|shameful|sickening|heartbreaking|"
    r"appalling|vile|a disgrace|disgraceful|awful|horrible)"
    r")"
)
_ATTACK_VERBS = (
    r"(?:hate|hates|hated|abuse|abuses|abused|attack|attacks|attacked|target|targets|targeted|harass|harasses|"
    r"harassed|bully|bullies|bullied|insult|insults|insulted|threaten|threatens|threatened|spit|spat|shout|shouts|"
    r"shouted|yell|yelled|scream|screamed|chant|chanted|smash|smashed|vandalise|vandalised|vandalize|vandalized|"
    r"spray|sprayed|scrawl|scrawled|daub|daubed|mock|mocks|mocked|pick on|picked on|go after|went after|troll|"
    r"trolls|trolled|discriminate|discriminates|discriminated|beat|beats|beat up|assault|assaulted|intimidate|"
    r"intimidated|stir up hatred|spread hate|spread lies|call|called|blame|blames|blamed|blaming|attacking|abusing|"
    r"targeting|harassing|bullying|threatening|insulting|mocking)"
)
# people who attack groups; never followed by a group word ("the racist arabs" is hostility at Arabs)
_BIGOTS = (r"(?:racists?|bigots?|antisemites?|anti-semites?|homophobes?|transphobes?|islamophobes?|xenophobes?|"
           r"misogynists?|fascists?|nazis?|neo-nazis?|thugs|rioters|trolls|haters|(?:racist|bigoted)\s+(?:thugs|idiots|"
           r"scum|morons|mob|gang|trolls|lads|blokes|men|people|pricks|clowns|cowards|bastards|louts|yobs))"
           r"(?!\s+" + GROUPS + r")")
_PEOPLE_WHO = (
    r"(?:(?:the|those|these|all|any)\s+)?(?:people|folk|folks|those|anyone|anybody|everyone|men|blokes|lads|idiots|"
    r"cowards|morons|scumbags|clowns|ones|person|man|woman|guy|bloke|lad|gang|mob|kids|youths)\s+(?:who|that)\s+"
    r"(?:[\w']+\s+){0,2}?" + _ATTACK_VERBS + r"\b"
)
_ATTACKERS = r"(?:(?:the|those|these|all|any)\s+)?(?:" + _BIGOTS + r"|" + _PEOPLE_WHO + r")"
_CONDEMNED_BY = (
    r"(?:disgust|disgusts|sicken|sickens|repulse|repulses|appal|appals|make\s+me\s+sick|makes\s+me\s+sick|"
    r"make\s+me\s+(?:so\s+)?(?:angry|ashamed|furious)|should\s+be\s+ashamed|have\s+no\s+place|has\s+no\s+place|"
    r"need\s+locking\s+up|should\s+be\s+(?:locked\s+up|arrested|prosecuted|jailed|banned|named\s+and\s+shamed)|"
    r"(?:are|is|were|'re)\s+(?P<predicate>[^.!?;,]{1,40})(?=[\s.!?;,]|$))"
)
# the writer's feeling aimed at attackers, or attackers as the subject of a condemnation: a bigot word closely
# followed by its verb with no group between ("racist pieces of shit ... black kids are killed" is not one), or
# "people who <attack> <group> ..." whose relative clause holds the group
_AT_ATTACKERS = re.compile(
    r"(?:^|[,;:]\s*|\b(?:and|but|so)\s+)" + _FEELING + r"\s+" + _ATTACKERS
    + r"|^(?:honestly[,]?\s+|and\s+)?(?:(?:the|those|these|all|any)\s+)?(?:" + _BIGOTS
    + r"(?:[\s,]+(?!" + GROUPS + r"\b)[\w'-]+){0,4}?|" + _PEOPLE_WHO + r"(?:[\s,]+[\w'-]+){0,8}?)[\s,]+"
    + _CONDEMNED_BY,
    re.IGNORECASE)
_SUBJECT = r"(?:(?:the|our|all|these|those|so\s+many|many|some|local|young|innocent|ordinary)\s+){0,2}"
_AT_MISTREATMENT = re.compile(
    r"(?:^|[,;:]\s*|\b(?:and|but|so)\s+)" + _FEELING + r"\s+(?:(?:how|that|the\s+way|when|it\s+when|seeing|to\s+see|"
    r"watching|hearing|reading|about\s+how)\s+)" + _SUBJECT + GROUPS + r"\b(?P<complement>[^.!?;]*)",
    re.IGNORECASE)
# what follows the group in "I hate how <group> ...": a harm done to them
HARMS = re.compile(
    r"\b(?:treated|spoken\s+(?:to|about|of)|talked\s+(?:to|about)|portrayed|described|depicted|targeted|attacked|"
    r"abused|harassed|bullied|blamed|scapegoated|demoni[sz]ed|vilified|stereotyped|insulted|mocked|spat|"
    r"shouted\s+at|threatened|turned\s+away|refused|excluded|ignored|left\s+out|locked\s+out|sleep(?:ing)?\s+rough|"
    r"in\s+fear|have\s+to|has\s+to|had\s+to|forced\s+to|made\s+to|can'?t\s+get|cannot\s+get|dying|died|drown(?:ed)?|"
    r"hurt|beaten|assaulted|discriminated|pushed\s+out|looked\s+down\s+on|called\s+names|stared\s+at|singled\s+out|"
    r"picked\s+on|profiled|stopped\s+and\s+searched|made\s+to\s+feel|get\s+abuse|gets\s+abuse|getting\s+abuse)\b",
    re.IGNORECASE)
# resentment in the same shape: "I hate that <group> get free hotels / are taking over"
RESENTMENT = re.compile(
    r"\b(?:free|freebies|better\s+than|before\s+(?:us|our|locals)|priority|handouts?|benefits|special\s+treatment|"
    r"first\s+in\s+line|jump(?:ing)?\s+the\s+queue|given|get\s+away\s+with|allowed|taking\s+over|take\s+over|"
    r"taking\s+our|breeding|invading|flooding|swarming|royalty|pampered|spoilt|spoiled|put\s+up\s+in|hotels?|"
    r"while\s+(?:our|we|british)|instead\s+of\s+(?:our|us|locals))\b",
    re.IGNORECASE)
_SYMPATHY = re.compile(
    r"(?<!\bwho\s)(?<!\bthat\s)\b(?:worried(?:\s+sick)?|sick\s+with\s+worry|worrying|scared|afraid|frightened|"
    r"terrified|fearful|heartbroken|gutted|heart\s+goes\s+out|hearts\s+go\s+out|thoughts\s+are|praying|feel\s+for|"
    r"feeling\s+for|solidarity|stand|stands|standing|stood)\s+(?:so\s+much\s+)?(?:for|to|with|about|by)\s+"
    + _SUBJECT + GROUPS + r"\b",
    re.IGNORECASE)
_QUESTION = re.compile(
    r"^(?:but\s+|so\s+|honestly[,]?\s+)?(?:why|how\s+come|what\s+makes)\s+(?:\w+\s+){0,8}?(?:hate|hates|hatred|"
    r"hostility|racism|"
    r"prejudice|abuse|discrimination|resentment|bigotry)\s+(?:\w+\s+){0,2}?" + _SUBJECT + GROUPS + r"\b[^.!?]*\?",
    re.IGNORECASE)
_SARCASM = re.compile(r"\bsaid\s+no\s*(?:one|body)\s+ever\b|\b/s\b|\bnot!", re.IGNORECASE)
_THEY = re.compile(r"\b(?:" + GROUPS + r"|they|them|their|theirs|these\s+people|those\s+people)\b", re.IGNORECASE)
_QUOTED = re.compile(r"\"[^\"]*\"|“[^”]*”|‘[^’]*’|(?<![\w])'[^']+'(?![\w])")
_WORD = re.compile(r"[\w'-]+")


# "are scum", "are cowards": words that condemn attackers though VADER does not score them
_CONDEMNING = frozenset("scum cowards cowardly disgrace shameful thugs idiots morons pathetic vile".split())
# negative words that do not disparage the group: the writer's feelings, condemnation, and what attackers do to it
_NOT_DISPARAGING = frozenset("""
    hate hates hated hatred despise detest loathe abhor sick sickened sickening disgusted disgusting disgust
    appalled appalling ashamed angry furious livid sad heartbroken heartbreaking worried worry scared afraid
    frightened fearful awful horrible vile disgrace disgraceful shameful shame cry racism racist racists bigotry
    prejudice abuse hostility discrimination resentment fear pathetic cruel cruelty blame blaming blamed attack
    attacking abusing abused targeting harassing harassment bullying threatening threats insulting mocking
    intimidating intimidation
    """.split())


def counter_speech(text: str) -> str | None:
    """The sentence of ``text`` that aims strong feeling at a group's attackers or mistreatment, or offers it
    sympathy or asks why it meets prejudice; None when there is none or the post also disparages the group."""
    own = _QUOTED.sub(" that ", text or "")  # the writer's own words
    if _SARCASM.search(own):
        return None
    parts = sentences(own)
    for i, sentence in enumerate(parts):
        sentence = sentence.strip(" \"'“”‘’")
        end = _aimed_elsewhere(sentence)
        others = parts[:i] + parts[i + 1:]
        if end is None:
            weak = _weak(sentence)
            if weak is None:
                continue
            if _THEY.search(sentence[weak.end():]) or any(_THEY.search(s) for s in others):
                return None
            end = weak.end()
        if _disparages(sentence[end:]) or any(_THEY.search(s) and _disparages(s) for s in others):
            return None
        if affirms_pejorative(" ".join(parts[:i] + [sentence[end:]] + parts[i + 1:])):
            return None
        return sentence
    return None


def _aimed_elsewhere(sentence: str) -> int | None:
    """Where the matched shape ends in ``sentence``, or None when no shape matches."""
    m = _AT_ATTACKERS.search(sentence)
    if m and (m.group("predicate") is None or _condemns(m.group("predicate"))):
        return m.end()
    m = _AT_MISTREATMENT.search(sentence)
    if m and HARMS.search(m.group("complement")) and not RESENTMENT.search(m.group("complement")):
        return m.end()
    return None


def _weak(sentence: str) -> re.Match | None:
    """Sympathy or a question about prejudice: a weaker cue, so it counts only when the rest of the post is silent
    about the group ("Why do people hate Gypsies? Simple, they nick anything ..." is a rhetorical question)."""
    return _SYMPATHY.search(sentence) or _QUESTION.search(sentence)


def _condemns(predicate: str) -> bool:
    """'are scum', 'are a disgrace', 'are cowards': a pejorative word among the predicate's first words."""
    words = [w.lower().strip("'") for w in _WORD.findall(predicate)][:5]
    return any(w in PEJORATIVE or w in _CONDEMNING or valence().get(w, 0.0) <= -1.5 for w in words)


def _disparages(text: str) -> bool:
    """Whether ``text`` carries a pejorative word (ours or VADER's <= -1.5) that is not a harm done to a group."""
    text = HARMS.sub(" ", text)
    for w in _WORD.findall(text):
        w = w.lower().strip("'")
        if w in PEJORATIVE or w in _CONDEMNING - {"pathetic", "vile", "disgrace", "shameful"}:
            return True
        if valence().get(w, 0.0) <= -1.5 and w not in _NOT_DISPARAGING:
            return True
    return False


__all__ = ["counter_speech", "HARMS", "RESENTMENT"]
