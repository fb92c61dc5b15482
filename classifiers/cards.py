"""Model cards (Markdown) for the post-level heads, written by train.py from the measured metrics."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
from collections import Counter
from pathlib import Path

from . import hate_card

WORDING = """## Wording guidance (read before showing any output)

* The scores describe **text**, never a person. Never write "X is a racist/extremist"; write "this post was
  scored as likely hate speech (model estimate)".
* A high `hate` score means *possible* hate speech. If a post may be a criminal offence (e.g. stirring up
  hatred, threats, malicious communications), the wording is **"possible offence - refer to police"** and a
  trained human decides. The tool never decides that an offence has been committed.
* Scores are statistical estimates with the error rates below; aggregate over many posts before acting,
  and check individual posts by hand.
"""

HEAD_TEXT = {
    "conspiracy": ("Conspiracy framing",
                   "The mean of three 1-hidden-layer MLPs (256 ReLU, seeds 0-2, float16 weights) or a logistic "
                   "regression over the encoder features, whichever wins out of fold (see Input and the candidates in "
                   "conspiracy.json), mixed since v1.8 with a logistic regression over hashed char/word n-grams "
                   "(the mixture weight chosen out of fold, as the hate and mobilisation heads do). PHEME "
                   "breaking-news rumour tweets and HateXplain normal/offensive posts are down-weighted background "
                   "negatives so ordinary news and angry-but-not-conspiratorial posts are not flagged; the "
                   "hand-written everyday local posts are background at full weight (local chatter is where false "
                   "alarms come from). The hand-written set includes local blame rumours with hearsay or cover-up "
                   "framing and factual reports of the same incidents (classifiers/data/CONSPIRACY_CONTRAST.md). Input kind, "
                   "background weight, class weighting (none / balanced), C and the threshold are chosen on 5-fold "
                   "out-of-fold predictions: maximise accuracy on the labelled conspiracy rows (covid-vaccine + "
                   "hand-written) subject to at most 5% of background rows flagged. v1.3 adds 200 hand-written rows on replacement / planned-invasion rhetoric, cover-up "
                   "claims, control plots and 'two-tier policing' as a plan, with as many non-conspiracy posts on the "
                   "same topics (news, fact-checks, policy criticism, questions). Weighting those rows 1 / 2 / 4 was "
                   "measured: covid-vaccine held-back 0.652 / 0.629 / 0.689, PRCT 0.542 / 0.546 / 0.496, demo "
                   "conspiracy recall 0.32 / 0.46 / 0.38; the out-of-fold objective picks 2 (0.767 vs 0.760 / 0.759) "
                   "and that is what ships: the test figures were not used to choose. History: without background "
                   "negatives held-back covid-vaccine accuracy was 0.72 but 62% of PHEME news tweets were flagged; "
                   "v1.0 (embedding, mean-of-accuracy-and-news objective) shipped 0.65 / 1%. v1.5 adds the MLP "
                   "candidates (and background weight 0.1) to the same out-of-fold choice, which picks the MLP "
                   "(accuracy 0.806 vs 0.763 for the best logistic; covid-vaccine rows 0.721 vs 0.673, hand-written "
                   "rows 0.902 vs 0.864). Held out, v1.3 logistic -> v1.5 MLP: covid-vaccine 0.629 -> 0.697, "
                   "conspiracy_contrast 0.827 -> 0.864, PRCT 0.546 -> 0.536, PHEME not flagged 0.962 -> 0.992, demo "
                   "precision 0.849 -> 0.975 and recall 0.457 -> 0.356 (chatter flagged 1.7% -> 0.1%; rumour posts "
                   "67% -> 55%; asylum-hotel posts 7 -> 3 of 10, 15-minute-city posts 4 -> 1 of 7). It is sharper: "
                   "fewer false alarms, and fewer of the fictional feed's UK narrative posts reach the threshold. "
                   "v1.7 adds 160 hand-written rows (false UK narratives stated as plain claims, without conspiracy "
                   "markers, and posts on the same topics that do not assert them; kinds false_claim / claim_context) "
                   "and 260 everyday local posts (everyday_negatives kinds near_narrative: floods, council tax, "
                   "hotels, housing, jabs, masts, traffic schemes and counter-speech in ordinary words; "
                   "rhetorical_grumble: 'why is it always...', 'every single time', ordinary mentions of men and "
                   "lads), and caps the out-of-fold flag rate of the everyday posts at 1% on their own (the pooled 5% "
                   "background budget hardly sees 460 rows among 10,800). An attempt with the plain-claim rows alone "
                   "(v1.6, not shipped) flagged 1.6% of the demo chatter and made a chatter cluster reportable. Held "
                   "out, v1.5 -> v1.7 on the same test rows: covid-vaccine 0.697 -> 0.697, conspiracy_contrast "
                   "0.817 -> 0.873 (false_claim 0.56 -> 0.88, news_or_opinion 0.71 -> 0.80, claim_context 0.75 -> "
                   "0.69), PRCT 0.536 -> 0.546, PHEME not flagged 0.992 -> 0.956 (most newly flagged PHEME tweets "
                   "speculate: 'obviously carefully planned', 'staged disappearance', 'coup???'), everyday local "
                   "posts flagged 5.3% -> 3.8% of 133, demo precision 0.975 -> 0.977 and recall 0.356 -> 0.574 "
                   "(chatter flagged 0.1% -> 0.3%). v1.8 adds 120 hand-written grievances about local services and "
                   "costs to the everyday posts (everyday_negatives kind grievance: closures, buses, waits, council "
                   "tax, rents, holiday lets, potholes, Westminster's neglect; no group blamed), because v1.7 flagged "
                   "15 of 40 such posts written as a probe (now their test split), and mixes in the n-gram model. "
                   "With the 1% everyday cap the threshold rises 0.29 -> 0.43. Held out, v1.7 -> v1.8: grievances "
                   "flagged 15 -> 5 of 40, other everyday posts 3 -> 2 of 133, covid-vaccine 0.697 -> 0.712, "
                   "conspiracy_contrast 0.859 -> 0.915, PRCT 0.546 -> 0.574, PHEME not flagged 0.956 -> 0.973, "
                   "CONSTRAINT 0.611 -> 0.593, demo precision 0.977 -> 1.000 and recall 0.574 -> 0.432 (chatter "
                   "0.3% -> 0%, counter-speech 22 -> 16 of 118, rumours 94 -> 75 of 126, housing-priority narrative "
                   "posts 115 -> 74 of 257: they share a grievance's words, and the narrative matcher names them). "
                   "Without the n-grams the same data gave covid 0.727, contrast 0.894, grievances 6 of 40 and demo "
                   "recall 0.356 (rumours 54 of 126). "
                   "Stop 20 tried adding 60 everyday negated statements to the background rows ('The gritters are "
                   "not out yet, take care on the roads tonight.'), because v1.8 flags 4 of 16 such posts written "
                   "as a probe ('The volunteers are not stopping the litter picks just because it's cold.' 0.87) "
                   "and 18 of all 96 written (everyday_negatives kind negated_statement, all held out; reported as "
                   "'everyday negated statements'). Trained on that stop's Intel host, whose int8 encoder features "
                   "differ slightly from those v1.8 was trained on, it was compared with v1.8's recipe retrained on "
                   "the same host (control) and with v1.8 as shipped. Held out, control -> with the rows (v1.8 as "
                   "shipped): negated statements flagged 7 -> 1 of 36 (7), but grievances 5 -> 6 of 40 (5; "
                   "'Westminster forgets Cumbria exists until there's a by-election. Same every time.' 0.48, a "
                   "tests/test_heads.py case), PRCT 0.560 -> 0.540 (0.574), covid-vaccine 0.727 -> 0.712 (0.712), "
                   "demo recall 0.403 -> 0.417 (0.437); not shipped. "
                   "Stop 21 tried again with 80 new everyday negated statements in the background rows "
                   "(everyday_negatives evd-0850..0929, written after the 96 held-out ones, with people as the "
                   "subject as often as not: 'The players aren't wearing the new kit until the sponsor signs.'). "
                   "The out-of-fold choice then took the three MLPs without the n-gram mixture (threshold 0.55). "
                   "Trained on that stop's 2-core AMD EPYC host (AVX2 without VNNI) with v1.8's recipe retrained "
                   "on the same host as a control, all three measured there; held out, control -> with the rows "
                   "(v1.8 as shipped): the 96 negated statements flagged 17 -> 2 (16), grievances 6 -> 8 of 40 "
                   "(5), other everyday posts 5 -> 3 of 133 (2); covid-vaccine 0.689 -> 0.712 (0.705), "
                   "conspiracy_contrast 0.887 -> 0.915 (0.923), PRCT 0.544 -> 0.558 (0.562), PHEME not flagged "
                   "0.994 -> 0.975 (0.971), CONSTRAINT 0.602 -> 0.596 (0.594), demo recall 0.421 -> 0.414 "
                   "(0.435). Not shipped: without the n-grams it reads grievances that blame 'they' or "
                   "Westminster as plots ('Westminster forgets Cumbria exists until there's a by-election. Same "
                   "every time.' 0.84, a tests/test_heads.py case; 'Fuel is 10p dearer in Keswick than Penrith. "
                   "Daylight robbery because they know we've no choice.' 0.99), the same trade as stop 20's. The "
                   "80 rows are held out too since, so 'everyday negated statements' counts 176 posts from stop 21. "
                   "The >= 80% goal is "
                   "not reached; the covid-vaccine held-back set is 132 posts (one post = 0.8 points), so "
                   "differences of a few points between variants are noise. How far these features go on that set "
                   "alone (`python -m benchmarks.conspiracy_ceiling`, stop 19): logistic heads trained on nothing but "
                   "the 477 covid-vaccine training comments, over the sentence vector or the layer pools, score "
                   "0.65-0.70 held back at their out-of-fold thresholds and 0.69-0.74 at 0.5 (n-grams alone 0.66-0.69); "
                   "even the threshold picked on the held-back comments themselves gives at most 0.78. The shipped "
                   "head, which must also leave news and everyday posts alone, is inside that range, so 80% needs "
                   "cleaner labels or a stronger encoder rather than another head over these features.",
                   "Main training set is small (covid-vaccine comments, 609 rows) plus ~550 hand-written training rows; "
                   "non-COVID conspiracy narratives (e.g. 'great replacement') are learned mostly from hand-written "
                   "rows and PRCT is out-of-domain evaluation (still near chance, 0.55: the head has not learned "
                   "replacement rhetoric in PRCT's style from ~35 hand-written replacement rows). About 20% of "
                   "hand-written non-conspiracy posts about the same topics (hotels, boats, 15-minute cities, digital "
                   "ID) are flagged (news_or_opinion above). The MLP scores most posts near 0 or 1, so moving "
                   "the threshold changes little. Rhetorical grumbles with a conspiracy post's shape can still score "
                   "high ('Why do the self checkouts always want an assistant... Every. Single. Time.': 1.00 in v1.7, 0.86 in "
                   "v1.8), and so can grievances against Westminster in that shape ('Nobody in Whitehall has a clue "
                   "what life is like up here...': 0.61). Known narratives are named by the narrative "
                   "matcher (config/narratives.yaml), not by this head. The covid-vaccine labels are noisy (personal adverse-event "
                   "stories are labelled conspiracy). Criticism of authorities "
                   "is not conspiracy; expect errors on sarcasm and on posts that debunk conspiracies. A post "
                   "that denies a smear about a group ('Jews do not control the banks.', 'Nobody here thinks "
                   "refugees are criminals.', classifiers/negation.py) keeps 0.25 of this head's score (stop 21): "
                   "the head flagged 20 of the 41 such denials in hate_contrast, and the rule matches no row of "
                   "any conspiracy benchmark, so the figures below are unchanged by it. Ordinary negated "
                   "statements are the largest false-positive kind left ('The players are not training this "
                   "week because the pitch is frozen.' 0.72)."),
    "mobilisation": ("Mobilisation (calls to gather / confront at a place or time)",
                     "Logistic regression over the encoder features (see Input), mixed since v1.8 with a logistic "
                     "regression over hashed character and word n-grams of the text, as the hate head is "
                     "(`ngram_mix` in mobilisation.json: score = (1 - mix) x encoder model + mix x n-gram model). "
                     "Training rows: the hand-written mobilisation train split, hand-written everyday local posts "
                     "(classifiers/data/everyday_negatives.jsonl train split: weather, football, markets, "
                     "roadworks, pub plans, school fairs, lost pets...) and 300 each of HateXplain normal posts, "
                     "Davidson 2017 'neither' tweets and PHEME news tweets as generic negatives (train splits, "
                     "sample weight chosen out-of-fold). v1.0 had no everyday posts and flagged plain local "
                     "chatter with a place and time ('Lovely sunny morning on the harbour at Whitehaven' 0.90). v1.2 (int8 "
                     "encoder features) first flagged complaints and fixtures ('cutting the evening bus... no way "
                     "home after 6pm' 0.96); 170 hand-written hard negatives carrying gathering cues were added "
                     "(complaints, sport, events, civic meetings), with 26 more explicit calls that use the same cues "
                     "at a hotel, hostel or mosque, and classes are weighted balanced (a missed call costs more "
                     "than a false alarm). Measured along the way (same test split as v1.1 until the 26 calls "
                     "were added): hard negatives alone cut everyday false positives 7.3% -> 1.2% but explicit "
                     "calls fell to 13/16; the v1.2 head found 20/22 explicit calls with 6% of held-out "
                     "everyday posts and 1.4% of demo chatter flagged. v1.4 adds 120 rows (mob-0748..0867): veiled "
                     "threats and coded calls without the stock phrases, and everyday plans, rumours, online actions "
                     "and anger that share their cues. On the grown test split (211 rows) the v1.3 head scored F1 "
                     "0.894 with 12/16 implicit threats; this one scores 0.905 and finds 14/16, but flags 4 of 81 "
                     "held-out everyday posts, a five-a-side invite among them (v1.3: 2), and 1.7% of demo chatter "
                     "(v1.3: 1.4%). v1.8 adds the n-gram mixture: the cues that separate a call from chatter are "
                     "often single words ('game', 'lift', '5-a-side', 'quiz' against 'hotel', 'hostel', 'patriots'), "
                     "which a linear model over the sentence features weighs weakly. n-gram C, mixture weight and "
                     "threshold are chosen out of fold, averaged over three 5-fold splits (one split's noise was "
                     "larger than the differences between candidates). It is trained on v1.4's rows plus the 208 "
                     "everyday posts added for the conspiracy head in stop 15. Held out, v1.4 -> v1.8: test F1 0.905 -> "
                     "0.904 (implicit threats 14/16 both), val F1 0.900 -> 0.884 (recall 0.90 -> 0.84, precision "
                     "0.90 -> 0.93), everyday posts flagged 6 -> 0 of 133, demo precision 0.539 -> 0.707 at the "
                     "same recall (0.976), demo chatter flagged 1.7% -> 0.8%. It is a sharper head, not a better "
                     "finder: it finds 42 of the 50 fresh val calls, v1.4 45. The input stays "
                     "the layer pools: with n-grams, out-of-fold F1 preferred the sentence vector (0.874 vs 0.862), "
                     "which scored 0.854 on the test split; 100 fresh rows written to settle it (split `val`, "
                     "mob-0868..0967, never trained on) scored the two level (0.872 vs 0.884), so the difference is "
                     "inside the selection's noise and v1.4's input was kept. Only this head was retrained "
                     "(`--heads mobilisation`); hate and targets are v1.3, conspiracy v1.7.",
                     "Trained on a small hand-written set (classifiers/data/mobilisation.jsonl, see MOBILISATION.md); "
                     "real calls use local place names, coded language and images that it has not seen. Plans "
                     "that say 'everyone' and 'bring' still score near the threshold ('Everyone round to ours "
                     "after the bonfire, 9ish, bring a bottle': 0.47, flagged), and about 1 in 6 fresh calls in "
                     "the val rows is missed (recall 0.84). A "
                     "high score is a prompt for a human to read the post, not evidence of intent."),
}


def _measured_on() -> str:
    """Which CPU the figures below were measured on: the int8 encoder's features, and so the last digit of
    each metric, differ a little between CPU families (quantised kernels with and without AVX-512/VNNI)."""
    model = platform.processor() or platform.machine()
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        lines = []
    names = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
    flags = next((line for line in lines if line.startswith("flags")), "")
    model = names[0] if names else model
    model += ", AVX-512 VNNI" if "avx512_vnni" in flags else (", AVX2 without VNNI" if "avx2" in flags else "")
    return (f"Measured on {os.cpu_count()} cores of {model}. The int8 encoder's features differ slightly between "
            "CPU families, so figures can move in the third decimal between hosts.")


def _metrics_md(rows, groups) -> str:
    lines = ["| metric | value | n | note |", "|---|---|---|---|"]
    for r in rows:
        if r.group in groups:
            lines.append(f"| {r.metric.strip()} | {r.value:.3f} | {r.n} | {r.note} |")
    return "\n".join(lines)


def _input_md(meta: dict) -> str:
    kind = meta.get("input", "embedding")
    if "members" in meta:
        per = ", ".join(f"{k} x{n}" for k, n in Counter(m["input"] for m in meta["members"]).items())
        txt = (f"**Input: `{kind}`** - the mean of {len(meta['members'])} MLPs ({per}; one per seed and encoder "
               "output) over the 384-d "
               "L2-normalised sentence vector (`embedding`) and/or the mean pools of all 6 transformer layers "
               "(`layers`, 2,304 values from the same forward pass, standardised with the stored training "
               "mean/scale). Callers pass `layers=` to `Heads.score` when any member reads them.")
        if any(m["input"] == "tokens" for m in meta["members"]):
            txt += (" A `tokens` member reads the per-token states of the last two transformer layers (the first 64 "
                    "word pieces, 768 values each, from the same forward pass), projects each token to "
                    f"{meta.get('mlp', {}).get('token_hidden', 128)} values, pools them with 4 learned attention "
                    "weightings and a plain mean, and runs an MLP over the pools (`heads.TokenMember`); callers "
                    "pass `tokens=` from `encode_with_layers(texts, tokens=True)`.")
    elif kind == "layers":
        txt = ("**Input: `layers`** - the mean pools of all 6 transformer layers of all-MiniLM-L6-v2 (6 x 384 = "
               "2,304 values, from the same forward pass as the sentence vector: `Encoder.encode_with_layers`), "
               "standardised with the training mean/scale stored as `input.mean` / `input.scale`. Callers must "
               "pass `layers=` to `Heads.score` / `Heads.score_arrays`.")
    else:
        txt = "**Input: `embedding`** - the 384-d L2-normalised all-MiniLM-L6-v2 sentence vector."
    choice = meta.get("val_by_input") or meta.get("input_choice")
    if choice:
        txt += f" Input kinds compared on validation: `{json.dumps(choice)}`."
    elif meta.get("candidates"):
        best = {}
        for c in meta["candidates"]:
            k = c["input"]
            v = [x for n, x in c.items() if n not in ("input", "weighting", "class_weight", "model", "C", "hidden",
                                                      "ngram_C", "ngram_mix", "threshold")][0]
            best[k] = max(best.get(k, -1.0), v)
        txt += f" Best out-of-fold objective per input kind: `{json.dumps(best)}`."
    return txt


def _curve_md(meta: dict) -> str:
    curve = meta.get("oof_tradeoff_curve")
    if not curve:
        return ""
    lines = ["Trade-off on out-of-fold (validation) predictions of the training rows - labelled rows vs the "
             "background negatives:", "", "| threshold | labelled accuracy | labelled F1 | background flagged |",
             "|---|---|---|---|"]
    for c in curve:
        bg = "-" if c["background_flagged"] is None else f"{c['background_flagged']:.3f}"
        lines.append(f"| {c['threshold']:.2f} | {c['labelled_accuracy']:.3f} | {c['labelled_f1']:.3f} | {bg} |")
    return "\n".join(lines) + "\n"


def _data_md(summary: dict) -> str:
    lines = ["| source | rows | labels | licence |", "|---|---|---|---|"]
    for src, s in summary.items():
        lines.append(f"| {src} | {s['rows']} | {s['labels']} | {s['licence']} |")
    return "\n".join(lines)


def write_all(out: Path, rows, report: dict) -> None:
    today = dt.date.today().isoformat()
    groups = {"conspiracy": ("conspiracy",), "mobilisation": ("mobilisation",)}
    hate_card.write(out, _measured_on(), _metrics_md(rows, ("hate", "hate sets", "hate LODO", "robustness", "word rules",
                                                             "hate_contrast", "targets")), WORDING)
    for head, (title, arch, limits) in HEAD_TEXT.items():
        meta = json.loads((out / f"{head}.json").read_text())
        th = meta.get("thresholds", meta.get("threshold"))
        body = [f"# {head} head - {title}", "", f"Version {meta['version']}, trained {meta.get('trained', today)} by "
                "`python -m classifiers.train` (deterministic seeds; weights in "
                f"`{head}.safetensors`, metadata in `{head}.json`). Encoder: `{meta['encoder']}`.", "",
                "## Model", "", arch, "", _input_md(meta), "",
                "## Training data (what it saw)", "", _data_md(meta["training_data"]), "",
                "Label indices: hate head 0 normal / 1 offensive / 2 hate; binary heads 1 = positive. "
                "Evaluation-only sets (never trained on): HateXplain test, Davidson held-out 10%, hate_contrast test, "
                "covid_vaccine_conspiracy held-back 20%, conspiracy_contrast test, PHEME held-back 20%, PRCT "
                "(CC BY-NC-SA per README), CONSTRAINT 2021 test (research use), mobilisation test split, "
                "everyday_negatives test split, the five independent hate probes (classifiers/data/hate_probes.jsonl, "
                "written blind to our data), and the fictional demo feed config/demo/scenario.jsonl "
                "(ground truth from its `thread` field; never trained on).", "",
                "## Threshold and calibration", "", f"Threshold(s): `{json.dumps(th)}`. {meta.get('calibration', '')}.",
                "", _curve_md(meta), "## Metrics on held-out data", "", _measured_on(), "",
                _metrics_md(rows, groups[head]), "",
                "## Intended use", "",
                "Aggregate monitoring of public posts per locality by a community-safety partnership, to prioritise "
                "human review. Not for decisions about individuals, moderation without review, or evidence.", "",
                "## Limitations", "", limits, "", WORDING]
        (out / f"{head}.md").write_text("\n".join(body))
    neg = ["# negativity - VADER sentiment", "", "Not a learned head: `negativity = (1 - compound) / 2` from "
           "vaderSentiment 3.3.2 (MIT; lexicon shipped in the package, offline). 0 = very positive, 0.5 = neutral, "
           "1 = very negative; label at >= 0.525 (VADER's compound <= -0.05). Chosen over a learned head because no "
           "permissively licensed sentiment set is in ../shared/data and VADER costs ~0.07 ms/post.", "",
           "## Limitations", "", "Lexicon-based: misses sarcasm, negation at distance and UK slang; treats "
           "profanity as negative. Use only as an aggregate mood indicator.", "",
           "## Whole post, not the sentences about the place", "",
           "The issue asks for sentiment toward the place or group. Stop 20 tried reading only the sentences that "
           "name one of our places or sites (the locality resolver's spans) or a protected-group noun, and the whole "
           "post when it names none, when every sentence names one, or when the names are only in a closing tag "
           "line. On the 2,774 distinct demo-scenario posts, 976 got such a focus and 149 changed label. In a "
           "random 40 of those 149, judged by hand (one rater), the whole post was the better reading in 23, the "
           "focus in 12, neither in 5. In local posts the place is mostly the setting of the whole post and the tone "
           "sits in the next sentence: \"Fire brigade know it was arson, police won't admit it. Cover up in "
           "Workington\" is 0.73 read whole and 0.50 read from the sentence with the town; \"they are not like us "
           "and never will be. parasites living off egremont\" 0.64 and 0.50. The focus won where a post defends "
           "a group or neighbours after quoting a rumour (\"My nana got a flat at Derwent View last month. Born and "
           "bred in Workington. The rumour's nonsense\": 0.70 whole, 0.50 focused). So the whole post is read.",
           "", WORDING]
    (out / "negativity.md").write_text("\n".join(neg))
    (out / "metrics.json").write_text(json.dumps({
        "date": today, "train": json.loads(json.dumps(report, default=float)),
        "heldout": [{"group": r.group, "metric": r.metric.strip(), "value": round(r.value, 4), "n": r.n,
                     "note": r.note} for r in rows]}, indent=1) + "\n")
