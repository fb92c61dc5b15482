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
import re
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


# ---------------------------------------------------------------- the larger hate / offensive sets (issue 25)
# DynaHate target codes (README_dynahate_columns.md) and SBIC target words -> our groups; unmapped codes
# (working class, old, notgiven...) give no group.
DYNAHATE_TARGETS = {
    "bla": "race_ethnicity", "african": "race_ethnicity", "asi": "race_ethnicity", "arab": "race_ethnicity",
    "mixed": "race_ethnicity", "non": "race_ethnicity", "indig": "race_ethnicity", "ethnic": "race_ethnicity",
    "trav": "race_ethnicity", "east": "race_ethnicity", "south": "race_ethnicity", "chinese": "race_ethnicity",
    "pak": "race_ethnicity", "jew": "religion", "mus": "religion", "immig": "migrants", "ref": "migrants",
    "for": "migrants", "asylum": "migrants", "gay": "sexuality", "bis": "sexuality", "trans": "gender_identity",
    "gendermin": "gender_identity", "dis": "disability", "wom": "women",
}
SBIC_TARGETS = (
    (r"black|african|asian|latin|hispanic|mexican|native american|arab|indian|chinese|japanese|korean|"
     r"people of color|non-white|minorit|ethnic|race|romani|gypsy|pakistani", "race_ethnicity"),
    (r"jew|muslim|islam|christian|hindu|sikh|catholic|religio|atheist", "religion"),
    (r"immigrant|refugee|migrant|foreigner|illegal", "migrants"),
    (r"gay|lesbian|bisexual|queer|lgbt|homosexual", "sexuality"),
    (r"trans|non-binary|nonbinary|gender", "gender_identity"),
    (r"disab|autis|mental|retard|deaf|blind|wheelchair|downs", "disability"),
    (r"\bwom[ae]n|girl|female|feminis|mothers", "women"),
)


def _dynahate_targets(code: str) -> tuple[str, ...]:
    found = set()
    for part in re.split(r"[,\s]+", code or ""):
        for piece in part.replace("wom", ".wom").split("."):
            if piece in DYNAHATE_TARGETS:
                found.add(DYNAHATE_TARGETS[piece])
    return tuple(sorted(found))


def dynahate(root: Path) -> list[Example]:
    """Vidgen et al. 2021 (adversarial, human-written). Train (reconstructed: text and label only) is cut 90/10
    into train / val by the text's hash; the official dev split is our test (the official test split is held
    out and not here). label 1 = hate; ``kind`` the hate type and ``targets`` the groups, where given (dev)."""
    d = root / "dynahate_train"
    out = [Example(r["text"], int(r["label"] == "hate"), hash_split(r["text"], test=0.0, val=0.1, salt="dyn"),
                   "dynahate") for r in _csv(d / "train.csv")]
    for r in _csv(d / "dev.csv"):
        targets = _dynahate_targets(r.get("target", ""))
        out.append(Example(r["text"], int(r["label"] == "hate"), "test", "dynahate", targets=targets,
                           kind=r.get("type", ""), has_targets=r.get("target") not in ("notgiven", "")))
    return out


def measuring_hate_speech(root: Path) -> list[Example]:
    """Measuring Hate Speech, Röttger et al.'s balanced binary subset; their train / dev / test files as splits."""
    split = {"train": "train", "dev": "val", "test": "test"}
    return [Example(r["text"], int(r["label_hate_maj"]), split[r["rottger_split"]], "mhs")
            for r in _csv(root / "measuring_hate_speech" / "mhs_binary_rottger2022.csv")]


def hateval(root: Path) -> list[Example]:
    """HatEval 2019 English: hate against immigrants and women (HS), official train / dev / test."""
    d = root / "hateval2019_en"
    out = []
    for split, name in (("train", "train"), ("val", "dev"), ("test", "test")):
        for r in _csv(d / f"data_HATEVAL_original_data_hateval2019_en_{name}.csv"):
            out.append(Example(r["text"], int(r["HS"]), split, "hateval", kind="aggressive" if r["AG"] == "1" else ""))
    return out


def olid(root: Path) -> list[Example]:
    """OLID / OffensEval 2019 level A: offensive (1) or not; train cut 90/10 by hash, official test."""
    d = root / "olid_offenseval2019"
    out = [Example(r["tweet"], int(r["subtask_a"] == "OFF"), hash_split(r["tweet"], test=0.0, val=0.1, salt="olid"),
                   "olid") for r in _csv(d / "data_OLID_original_data_olid-training-v1.0.tsv", delimiter="\t")]
    gold = {r["id"]: r["label"] for r in _csv(d / "data_OLID_original_data_labels-levela.csv",
                                              fieldnames=["id", "label"])}
    out += [Example(r["tweet"], int(gold[r["id"]] == "OFF"), "test", "olid")
            for r in _csv(d / "data_OLID_original_data_testset-levela.tsv", delimiter="\t") if r["id"] in gold]
    return out


def ethos(root: Path) -> list[Example]:
    """ETHOS binary (YouTube, Reddit): hate when at least half the annotators said so; hashed 70/10/20."""
    return [Example(r["comment"], int(float(r["isHate"]) >= 0.5), hash_split(r["comment"], 0.2, 0.1, "eth"), "ethos")
            for r in _csv(root / "ethos" / "ethos_ethos_data_Ethos_Dataset_Binary.csv", delimiter=";")
            if r.get("comment", "").strip()]


def _sbic_targets(minority: str) -> tuple[str, ...]:
    low = minority.lower()
    return tuple(sorted({g for pattern, g in SBIC_TARGETS if re.search(pattern, low)}))


def sbic(root: Path) -> list[Example]:
    """Social Bias Frames (aggregated): offensive (1) when the mean offensiveYN is at least 0.5; ``targets`` from
    the annotators' target minority words. Only dev and test are here: dev is cut 90/10 into train / val by
    hash, test stays test."""
    d = root / "sbic"
    out = []
    for name, test in (("dev", False), ("tst", True)):
        for r in _csv(d / f"SBIC.v2.agg.{name}.csv"):
            text = (r.get("post") or "").strip()
            if not text:
                continue
            split = "test" if test else hash_split(text, test=0.0, val=0.1, salt="sbic")
            out.append(Example(text, int(float(r["offensiveYN"] or 0) >= 0.5), split, "sbic",
                               targets=_sbic_targets(r.get("targetMinority", "")), has_targets=True))
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
    # the hate model's sets (issue 25; ../shared/data/README.md: research use and unstated licences may train)
    "dynahate": ("none stated (research use; cite Vidgen et al. 2021)", True),
    "mhs": ("CC BY 4.0 (Measuring Hate Speech; Röttger et al.'s subset states none)", True),
    "hateval": ("research use (SemEval-2019 Task 5 usage agreement)", True),
    "olid": ("research use (OffensEval 2019)", True),
    "ethos": ("GPL-3.0", True),
    "sbic": ("CC BY 4.0", True),
}
