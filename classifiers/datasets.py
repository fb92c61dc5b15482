"""Readers for the labelled sets in ../shared/data (see each folder's SOURCE.txt) and classifiers/data.

Every loader returns a list of ``Example`` rows with a fixed ``split`` (train / val / test). Where a set
has no official split we cut one deterministically from a hash of the text, so a text never moves
between splits across runs and duplicates always land together. ``trainable`` says whether the
licence lets a *default* head be trained on it (MIT / Apache / CC BY / CC0 and our own hand-written
files); research-only and non-commercial sets are evaluation-only.
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

HATE_CLASSES = ("normal", "offensive", "hate")  # class index order used by the hate head
TARGET_GROUPS = ("race_ethnicity", "religion", "migrants", "sexuality", "gender_identity", "disability",
                 "women")
# HateXplain annotator target -> our group (UK hate-crime strands + misogyny). Jewish is filed under
# religion here (antisemitism is recorded as race *or* religion in UK practice); unmapped: Men,
# Economic, Other, None. hate_contrast's "race" is our race_ethnicity.
HATEXPLAIN_TARGETS = {
    "African": "race_ethnicity", "Arab": "race_ethnicity", "Asian": "race_ethnicity",
    "Caucasian": "race_ethnicity", "Hispanic": "race_ethnicity", "Indian": "race_ethnicity",
    "Indigenous": "race_ethnicity", "Minority": "race_ethnicity",
    "Islam": "religion", "Jewish": "religion", "Christian": "religion", "Hindu": "religion",
    "Buddhism": "religion", "Nonreligious": "religion",
    "Refugee": "migrants",
    "Homosexual": "sexuality", "Bisexual": "sexuality", "Asexual": "sexuality", "Heterosexual": "sexuality",
    "Disability": "disability", "Women": "women",
}
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data"
LOCAL_DATA = Path(__file__).resolve().parent / "data"


@dataclass
class Example:
    text: str
    label: int  # class index (hate: HATE_CLASSES) or 0/1
    split: str  # train / val / test
    source: str
    targets: tuple[str, ...] = ()  # TARGET_GROUPS members (hate only; empty when unknown)
    kind: str = ""  # e.g. hate_contrast kind, pheme veracity
    has_targets: bool = False  # whether target annotation exists for this row
    meta: dict = field(default_factory=dict)


def hash_split(text: str, test: float = 0.2, val: float = 0.0, salt: str = "") -> str:
    """Stable split from the text itself: same text -> same split, run after run."""
    h = int(hashlib.sha1((salt + text.strip().lower()).encode("utf-8")).hexdigest()[:8], 16) / 0xFFFFFFFF
    if h < test:
        return "test"
    if h < test + val:
        return "val"
    return "train"


def _jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _csv(path: Path, **kw) -> list[dict]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    return list(csv.DictReader(text.splitlines(), **kw))


# ---------------------------------------------------------------- hate / offensive / targets
def _hx_targets(annotators: list[dict]) -> tuple[str, ...]:
    """A group is a target when at least 2 of the 3 annotators named it (HateXplain's convention)."""
    votes: dict[str, int] = {}
    for a in annotators:
        for g in {HATEXPLAIN_TARGETS[t] for t in a.get("target", []) if t in HATEXPLAIN_TARGETS}:
            votes[g] = votes.get(g, 0) + 1
    return tuple(sorted(g for g, v in votes.items() if v >= 2))


def hatexplain(root: Path) -> list[Example]:
    """Official splits. Train is the 12,288-post reconstruction (no target annotation); val/test are complete."""
    lab = {"normal": 0, "offensive": 1, "hatespeech": 2}
    out = []
    for split, name in (("train", "hatexplain_train_partial.jsonl"), ("val", "hatexplain_val.jsonl"),
                        ("test", "hatexplain_test.jsonl")):
        for d in _jsonl(root / "hatexplain" / name):
            if d.get("label") not in lab:  # undecided posts (no majority) are dropped, as in the paper
                continue
            ann = d.get("annotators")
            out.append(Example(d["text"], lab[d["label"]], split, "hatexplain",
                               targets=_hx_targets(ann) if ann else (), has_targets=bool(ann)))
    return out


def davidson(root: Path) -> list[Example]:
    """Davidson et al. 2017; no official split -> hashed 80/10/10. Class 0 hate, 1 offensive, 2 neither."""
    m = {"0": 2, "1": 1, "2": 0}
    return [Example(r["tweet"], m[r["class"]], hash_split(r["tweet"], test=0.1, val=0.1, salt="dav"),
                    "davidson") for r in _csv(root / "davidson2017" / "data_labeled_data.csv")]


def hate_contrast(local: Path = LOCAL_DATA) -> list[Example]:
    """Hand-written functional contrast cases (another helper's file); absent -> empty."""
    path = local / "hate_contrast.jsonl"
    if not path.exists():
        return []
    lab = {"normal": 0, "offensive": 1, "hate": 2}
    out = []
    for d in _jsonl(path):
        if d.get("label") not in lab:
            continue
        tgt = d.get("target") or []
        tgt = [tgt] if isinstance(tgt, str) else tgt
        tgt = tuple({"race": "race_ethnicity"}.get(t, t) for t in tgt)
        tgt = tuple(t for t in tgt if t in TARGET_GROUPS)
        out.append(Example(d["text"], lab[d["label"]], d.get("split", "train"), "hate_contrast",
                           targets=tgt, kind=d.get("kind", ""), has_targets=True))
    return out


# ---------------------------------------------------------------- conspiracy
def covid_vaccine_conspiracy(root: Path) -> list[Example]:
    rows = _csv(root / "covid_vaccine_conspiracy" / "finaldataset_y.csv")
    return [Example(r["comments"].strip(), int(r["label"]), hash_split(r["comments"], 0.2, 0.1, "cvc"),
                    "covid_vaccine_conspiracy") for r in rows if r.get("comments", "").strip()]


def prct(root: Path) -> list[Example]:
    """Gold = LLM prediction if the annotator confirmed it, else the opposite. CC BY-NC-SA: eval only."""
    out = []
    for r in _csv(root / "prct_replacement_conspiracy" / "data_anonymized_gold_standard.csv"):
        pred = r["Model_Classification"] == "PRCT"
        gold = pred if r["Annotation"] == "True" else not pred
        out.append(Example(r["CommentText"], int(gold), "test", "prct"))
    return out


def pheme(root: Path) -> list[Example]:
    """Rumour source tweets from breaking news: news-style, not conspiracy framing -> negatives (label 0)."""
    return [Example(d["text"], 0, hash_split(d["text"], 0.2, 0.1, "phm"), "pheme", kind=d["veracity"])
            for d in _jsonl(root / "pheme_rumours_veracity" / "pheme_rumour_source_tweets.jsonl")]


def constraint(root: Path) -> list[Example]:
    """COVID fake (1) vs real (0) posts; research use -> eval only (official test split)."""
    d = root / "constraint2021_covid_fakenews"
    return [Example(r["tweet"], int(r["label"] == "fake"), "test", "constraint")
            for r in _csv(d / "data_english_test_with_labels.csv")]


def conspiracy_contrast(local: Path = LOCAL_DATA) -> list[Example]:
    """Our own hand-written conspiracy-framing vs news/criticism examples (fields text,label,kind,split)."""
    path = local / "conspiracy_contrast.jsonl"
    if not path.exists():
        return []
    return [Example(d["text"], int(d["label"]), d.get("split", "train"), "conspiracy_contrast",
                    kind=d.get("kind", "")) for d in _jsonl(path)]


# ---------------------------------------------------------------- mobilisation
def mobilisation(local: Path = LOCAL_DATA, path: Path | None = None) -> list[Example]:
    path = path or local / "mobilisation.jsonl"
    if not path.exists():
        return []
    return [Example(d["text"], int(d["label"]), d.get("split", "train"), "mobilisation",
                    kind=d.get("kind", "")) for d in _jsonl(path)]


def everyday_negatives(local: Path = LOCAL_DATA) -> list[Example]:
    """Hand-written everyday UK local posts (weather, football, markets, roadworks, pub plans...), all label 0
    for mobilisation (see MOBILISATION.md). Fields text,label,kind,split; absent -> empty."""
    path = local / "everyday_negatives.jsonl"
    if not path.exists():
        return []
    return [Example(d["text"], int(d["label"]), d.get("split", "train"), "everyday_negatives",
                    kind=d.get("kind", "")) for d in _jsonl(path)]


def hate_probes(local: Path = LOCAL_DATA) -> list[Example]:
    """Five probes of the hate head written by assistants who never saw our training data (HATE_PROBES.md).
    EVALUATION ONLY (never train on them): ``label`` 1 = hate, 0 = not hate; ``kind`` is "<probe>:<kind>";
    ``meta["seen"]`` says whether the probe helped shape a word rule (probes 1-3 did; probes 4 and 5 are unseen)."""
    path = local / "hate_probes.jsonl"
    if not path.exists():
        return []
    return [Example(d["text"], int(d["label"]), "test", "hate_probes", kind=f"{d['probe']}:{d['kind']}",
                    meta={"probe": int(d["probe"]), "seen": bool(d["seen"])}) for d in _jsonl(path)]


DEMO_SCENARIO = REPO_ROOT / "config" / "demo" / "scenario.jsonl"


def demo_scenario(path: Path = DEMO_SCENARIO) -> list[Example]:
    """The fictional demo feed. EVALUATION ONLY (never train on it): ``kind`` is its ``thread`` field
    (chatter, news, hate, counter, mobilisation, rumour, narrative:<id>, ...); ``label`` is unused (0)."""
    if not path.exists():
        return []
    return [Example(d["text"], 0, "test", "demo", kind=d.get("thread", "")) for d in _jsonl(path)]


SOURCES = {  # name -> (licence, trainable in default heads)
    "hatexplain": ("MIT (repo) / CC BY 4.0 (dataset card)", True),
    "davidson": ("MIT", True),
    "hate_contrast": ("project licence (hand-written for tension-monitor)", True),
    "covid_vaccine_conspiracy": ("MIT", True),
    "pheme": ("CC BY 4.0 (annotations)", True),
    "conspiracy_contrast": ("project licence (hand-written for tension-monitor)", True),
    "mobilisation": ("project licence (hand-written for tension-monitor)", True),
    "everyday_negatives": ("CC0-1.0 (hand-written, fictional, for tension-monitor)", True),
    "feedback": ("analysts' verdicts from the dashboard (post_feedback): the council's own data", True),
    "demo": ("fictional demo feed: evaluation only, never trained on", False),
    "hate_probes": ("CC0-1.0 (written for tension-monitor by assistants blind to the training data): evaluation "
                    "only, never trained on", False),
    "prct": ("CC0 / CC BY-NC-SA 4.0 conflict -> treated as non-commercial: evaluation only", False),
    "constraint": ("research use: evaluation only", False),
}
