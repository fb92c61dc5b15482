"""Model cards (Markdown) for the post-level heads, written by train.py from the measured metrics."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
from collections import Counter
from pathlib import Path

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
    "hate": ("Hate speech / offensive language (3 classes: normal, offensive, hate)",
             "`hate` = P(hate), `offensive` = P(offensive) + P(hate). Mixture of 1-hidden-layer MLPs (256 ReLU) "
             "over the all-MiniLM-L6-v2 encoder outputs (the members listed under Input: three seeds for each "
             "encoder output chosen on validation, probabilities averaged) and "
             "a logistic model over hashed char 2-5 / word 1-2 n-gram TF-IDF features (2^18 buckets, float16 "
             "weights), numpy at inference. Every head reads the post with obfuscated spellings written out "
             "(classifiers/obfuscation.py: leetspeak, masked letters, spaced letters, run-together words, one "
             "swapped or dropped letter; `words.json` = word counts of this head's training rows, written by "
             "train.py). Besides HateXplain train and the "
             "hate_contrast train split (weight 4), everyday text is added as extra 'normal' rows (PHEME news "
             "tweets weight 0.5; calm appeals / police notices / event reports / civic posts from the mobilisation "
             "train split; news/opinion and rumour-report rows of conspiracy_contrast train; the hand-written everyday "
             "local posts, train split) because real feeds are mostly benign. In v1.2 the everyday local posts "
             "were left out: they all name Cumbrian places, no hate row did, and the head learned that a "
             "Cumbrian place means not hate (demo hate recall 0.48 -> 0.28). v1.3 adds 252 hand-written "
             "functional cases (slurs, questions and opinions, negation, profanity, pronoun reference, irony, "
             "abuse of non-protected groups; some set in Cumbrian towns), and without the everyday posts that "
             "head flagged local complaints ('Bike nicked from outside ..., please share'): demo chatter flagged "
             "18 vs 8 of 2,072. A single MLP's hate_contrast accuracy moved from 0.74 to 0.83 between two seeds, "
             "so each input now averages three. v1.9 adds two attention-pool members over the token states of the "
             "last two encoder layers (`tokens`, see Input; validation chose them together with the three "
             "layer-pool MLPs, n-gram mixture 0.2) and is the first to train on hate_contrast v1.4's group statements "
             "(`group_generalisation` train split: 117 kind or factual, 40 hateful in the same shapes). "
             "Held out, v1.3 -> v1.9: HateXplain 0.668 -> 0.681, Davidson hate F1 0.254 -> 0.291, hate_contrast "
             "0.818 -> 0.850 (group generalisations 0.66 -> 0.92, negated hate 0.74 -> 0.53), everyday posts "
             "flagged 1 -> 0 of 133, grievances 2 -> 1 of 40, demo precision 0.908 -> 0.951 at recall 0.527 -> "
             "0.520. The same rows with the layer pools alone gave 0.670 / 0.837 / demo 0.971 / 0.453 (stop 18), "
             "so the token members carry the HateXplain and recall gains. v1.10 is the same recipe trained with "
             "hate_contrast v1.6's 150 local rows (`local_hate`: 96 hateful posts set in Cumbrian towns, most "
             "ending in a local hashtag; `local_group_mention`: 54 kind or neutral posts about the same groups in "
             "the same places and hashtags): until then a hashtag made a post look like news, because the PHEME "
             "tweets it learns 'normal' from are full of them and the hateful rows had none. Held out, "
             "v1.9 -> v1.10: the 30 local hateful test posts found 20 -> 29 (the 20 kind ones all left alone "
             "by both), demo recall 0.520 -> 0.820 at precision 0.951 -> 0.932, HateXplain 0.680 -> 0.683, "
             "Davidson hate F1 0.291 -> 0.310, the earlier 307 hate_contrast test rows 261 -> 267, grievances "
             "flagged 1 -> 2 of 40.",
             "About 60% of HateXplain posts are hate/offensive, from Twitter and Gab (US-centric, 2019-2020); UK slang, "
             "dialect, sarcasm and coded language are less well covered. Training on Davidson 2017 was tried and did "
             "not help (its 'hate' class is a different construct), so Davidson is a cross-dataset test only. "
             "Scores are not calibrated probabilities across platforms; quoted hate (counter-speech, reporting) "
             "and reclaimed slurs remain the main false-positive sources. Kind statements about a group as a "
             "whole were often flagged by v1.3 (in HateXplain a group as the subject of a sentence is mostly "
             "hate); since v1.9 it trains on 117 of them (v1.10: 0.96 of the held-out ones), but some still score "
             "high ('Trans women are women.' 0.70, 'Pakistanis in this town are the friendliest people going.' "
             "0.63). "
             "The price is negation: denials of a stereotype now look like the negated-positive hate in the same "
             "rows ('Immigrants are not welcome here'): 'No, Gypsies are not thieves.' 0.72 (v1.3 0.50), "
             "hate_contrast negated hate 12 of 19 (v1.9 10, v1.3 14), although 51 such denials are in training. "
             "Rescoring a negated clause with its negation taken out (a denial if the affirmative reads as "
             "hate) was tried in stop 19 and dropped: the head scores many affirmatives with a group as subject "
             "as hate too ('Gypsies belong in our town'), and clauses with a slur stay hateful either way, so "
             "HateXplain fell 0.680 -> 0.624. "
             "Since stop 20 a narrower rule runs after the head (classifiers/negation.py): a sentence saying that "
             "a group is not something pejorative ('Refugees are not criminals.': a group noun, or a nationality or "
             "faith adjective with people/family/lads..., then are/is not, then a predicate whose first sentiment "
             "word is negative in VADER's lexicon or a dehumanising word VADER lacks, and not a misfortune such as "
             "'victims'), in a post that says nowhere else what the group or 'they' are, keeps 0.25 of its hate "
             "and offensive probability (explanation: `hate_adjusted`). It matches no HateXplain or Davidson post "
             "and none of the everyday, mobilisation or conspiracy rows, so every figure in this card is unchanged "
             "(the 3 hate_contrast test denials it matches were already right). On a probe written after the rule "
             "and not used to change it (30 posts): denials 7 -> 14 of 15 right, hateful negations 9 -> 8 of 10 "
             "('Gays are not a problem as long as they stay away from kids, the perverts.' now passes as a "
             "denial), other negated sentences 4 of 5 either way. Validation (the 11 matched rows of "
             "hate_contrast's negation val split) allowed any factor up to 0.7; the 16 denials written while the "
             "rule was shaped (so not a test) scored up to 0.87 against the val rows' 0.67, hence 0.25. "
             "Stop 21 extends it to a pejorative statement about a group that a frame opening the sentence denies "
             "or condemns ('Nobody here thinks Muslims are a disease.', 'I'd never say ...', 'It's not true "
             "that ...', 'the lie that ...', 'Stop calling Travellers scroungers', 'Calling Pakistanis groomers "
             "is racist'; not 'I'm not saying ..., but' or any frame followed by ', but'), shaped on the train "
             "and val rows of hate_contrast (no hateful one matches), and scales the conspiracy score of every "
             "denial by the same factor: the conspiracy head flagged 20 of the 41 hate_contrast denials. It still "
             "matches no HateXplain, Davidson, PHEME, covid, PRCT, CONSTRAINT, everyday, mobilisation, "
             "conspiracy_contrast or demo post; hate_contrast test negated hate 12 -> 13 of 19 ('It is false "
             "that Jews are sneaky'). A probe written before the extension and not used to change it (25 "
             "posts, stop 21 host): denials right 11 -> 15 of 15 (conspiracy flags on them 7 -> 2, the two it "
             "does not match), hateful sentences "
             "in the same frames 8 of 10 either way, none matched. Other shapes are left to the head ('I don't "
             "hate X', 'The idea that X are Y is a myth', 'Saying that X are Y is vile'), and so is 'My "
             "neighbours are not happy about the bins again.' (0.62: a negation after a plural subject is "
             "enough for the head). "
             "A slur lexicon (classifiers/slurs.py, classifiers/lexicons/slurs.jsonl: 81 British forms by "
             "target group, hand-written) speaks where the training texts are silent: a form counts only when "
             "the head's training rows had it fewer than three times (60 of 81 now), and only when used, not "
             "quoted, reported ('shouted pikey at my daughter'), named ('the word gyppo') or reclaimed ('us "
             "lezzers'); such a post's hate is raised to at least 0.75 and the slur's group becomes a target "
             "(explanation: `hate_adjusted`). Before it, 'Appleby fair again, town full of pikeys nicking "
             "everything' scored 0.10. Measured with it (stop 20, this card's v1.10 weights): hate_contrast test "
             "slurs 9 -> 13 of 16 (all 357 rows 0.882 -> 0.894), reclaimed slurs and slur mentions still all "
             "right, HateXplain test 0.683 -> 0.682 (2 posts: 'fkn mongs' gold offensive and 'yellow "
             "mongoloids' gold normal now read as hate), Davidson hate F1 0.310 -> 0.317, everyday and demo "
             "figures unchanged; a probe written after the lexicon (20 posts): slurs used 5 -> 10 of 10, and 10 "
             "of 10 quoted, reported, reclaimed or homonym posts left alone either way. "
             "Up to v1.9 a Cumbrian place name, and above all a hashtag, made a post look harmless: the local "
             "rows and news tweets it learns 'normal' from are full of both, and HateXplain has neither. 'Muslims "
             "out. Simple as. Whitehaven is ours #Whitehaven' scored 0.03 (without the hashtag 0.42). Writing our "
             "place names as 'town' before the encoder was tried (stop 18): 'town' became the harmless cue "
             "instead, and as the encoder pass is shared it changed every head. v1.10 learns from local hateful "
             "posts with hashtags instead (0.77 on that post). One more held-out grievance now crosses the line: "
             "'They've shut the youth club in Cleator Moor. Nothing left for teenagers round here.' scores "
             "0.67-0.73 (v1.9 0.27); the town is not the cue on its own (it is in 15 benign training rows and 1 "
             "hateful one). Since stop 22 a third word-level reading runs after the head (classifiers/counter_speech.py). Strong feeling "
             "aimed at a group's attackers ('I can't stand racists who target Poles', 'People who hate gay people "
             "disgust me') or at its mistreatment ('I hate that Traveller kids get turned away'), sympathy or "
             "solidarity for a group, and sincere questions about prejudice keep 0.25 of hate, offensive and "
             "conspiracy, as denials do (explanation: `hate_adjusted`). It does not count when the post disparages "
             "the group elsewhere, when the resentment shape ('I hate that asylum seekers get free hotels') or "
             "hostility at the group's defenders is used, or when a question or sympathy is followed by anything "
             "about 'they'. It matches 5 of about 54,000 labelled corpus posts, all gold normal, and none in a "
             "scored test split, so the figures above do not move because of it. On probe 4 (unseen, written "
             "blind to our data) it matches 8 posts, all not hate, and turns 96 into 98 right of 149; on probe 5, "
             "a realistic week's feed, it matches none. Independent probes (classifiers/data/HATE_PROBES.md, five "
             "assistants who never saw our data; table above): HateCheck-style functionalities 0.85, a realistic "
             "week's local feed 0.90 (precision 0.91, recall 0.70), the hardest post-incident kinds 0.66. Hate that "
             "blames a group without insult words is the main miss ('Funny how the tension only started when the "
             "Romanians moved in.' 0.11), and anger at attackers outside the rule's shapes the main false alarm. "
             "Known limitations (tests/test_heads.py): negated hate ('nobody thinks X are ...') and counter-speech "
             "in other shapes can still score at or above the hate threshold; slurs that neither the training texts nor "
             "the slur lexicon contain (masked or not) are often missed, and about a quarter of hate phrased as a question or 'just my opinion', of "
             "negated non-hate and of sarcastic praise is still wrong (see the hate_contrast kinds above). Obfuscation is undone only when the result is a known word, so new coinages pass "
             "through as written. Thresholds are tuned for "
             "HateXplain's class balance (30% hate); on real feeds with far less hate, expect lower precision."
             "\n\n## Experiments (HateXplain test macro-F1, same splits; ~60 min time-box)\n\n"
             "| features / model | test macro-F1 |\n|---|---|\n"
             "| pooled MiniLM embedding + logistic regression | 0.629 |\n"
             "| pooled embedding + MLP (512) | 0.637-0.640 |\n"
             "| hashed char/word n-gram TF-IDF + logistic regression | 0.646-0.650 |\n"
             "| pooled MLP + n-gram LR mixture, calibrated (v1.1, torch bf16 encoder) | 0.670 |\n"
             "| pooled MLP + n-gram mixture + Davidson 2017 train rows (weight 0.3) | 0.662 (Davidson hate F1 not better) |\n"
             "| mean-pooled hidden states of layers 1-6 (2,304-d) + MLP | 0.676 (3 seeds) |\n"
             "| layers 1-6 MLP + char + word n-gram LR mixture, calibrated | 0.679-0.685 |\n\n"
             "| v1.2 features of the int8 ONNX encoder (service default), embedding MLP + n-grams | 0.667 |\n"
             "| v1.2 mean of an embedding MLP and a layer-pool MLP + n-grams | 0.677 |\n"
             "| v1.2 the same, reading obfuscation-undone text | 0.676 (hate_contrast obfuscated 0.40 -> 0.70) |\n"
             "| v1.2 256-unit members, + rumour-report normal rows, int8 batches of 64 | 0.667 (seeds 0-2: "
             "0.667-0.671; 512 units: 0.657-0.668; hate_contrast 0.862) |\n"
             "| v1.2 **shipped**: the same on int8 batches of 16 (the serving batch size) | 0.670 (hate_contrast "
             "0.806) |\n"
             "| v1.3 + 252 functional cases (hate_contrast weight 4), one MLP per input, seeds 0 / 1 | 0.665 / "
             "0.661 (hate_contrast, 257 test rows: 0.739 / 0.833; v1.2 shipped 0.755) |\n"
             "| the same, hate_contrast weight 8, seeds 0 / 1 | 0.666 / 0.655 (hate_contrast 0.844 / 0.868; demo "
             "hate precision 0.57-0.60) |\n"
             "| weight 4, three seeds per input averaged | 0.672 (hate_contrast 0.825; demo P/R 0.813 / 0.580) |\n"
             "| v1.3 **shipped**: the same + everyday local posts as 'normal' (validation chose the layer pools alone) | 0.668 (hate_contrast 0.848; demo "
             "P/R 0.909 / 0.533) |\n"
             "| (stop 18, not shipped; hate_contrast now 307 test rows, v1.3 0.818 on them: 0.848 on the earlier "
             "257, 0.66 on the 50 group generalisations) + 207 group-generalisation rows, both inputs (val chose "
             "their mean, mixture 0.5) | 0.667 (hate_contrast 0.798; slurs 5 of 16; demo recall 0.307) |\n"
             "| the same rows, layer pools only, place names written as 'town' before the encoder, the new rows "
             "weighted 1 / 2 / 4 | 0.670 / 0.680 / 0.672 (hate_contrast 0.863 / 0.857 / 0.860; demo P/R 1.000 / "
             "0.487-0.607; every head changes, see the limitations) |\n"
             "| the same rows at weight 4, layer pools only, the post as written | 0.670 (hate_contrast 0.837: "
             "earlier 257 rows 0.821, group generalisations 0.92; probes written for this stop: kind statements "
             "27 -> 35 of 40, negated non-hate 20 -> 18 of 24; demo P/R 0.971 / 0.453) |\n"
             "| (stop 19, torch fp32 features, the v1.9 training rows) MLP over mean and max pools of "
             "every layer / mean pools + max pools of layers 5-6, three seeds | 0.656 / 0.665 (mean pools alone "
             "0.669) |\n"
             "| attention pool (4 weightings + mean) over the token states of layers 5-6, 256 wide, one seed / three "
             "seeds + n-grams | 0.671 / 0.689 (hate_contrast 0.844) |\n"
             "| the same over layer 6 alone, 128 wide | 0.645 |\n"
             "| layers 5-6, 128 wide, one seed, averaged with the three mean-pool MLPs | 0.687 (hate_contrast 0.853) |\n"
             "| v1.9 **shipped** (int8 features): three layer-pool MLPs + two 128-wide attention pools over layers "
             "5-6 + n-grams (mixture 0.2), all chosen on val (val 0.678 vs 0.667 layer pools alone, 0.677 tokens "
             "alone) | 0.681 (hate_contrast 0.850; demo P/R 0.951 / 0.520) |\n"
             "| v1.10 **shipped**: the same recipe + hate_contrast v1.6's 150 local rows (val chose all five "
             "members again, n-gram mixture 0.1; val 0.680) | 0.683 (hate_contrast 0.880 on 357 rows, 0.870 on "
             "the earlier 307; local hateful posts 29 of 30; demo P/R 0.932 / 0.820) |\n"
             "| (stop 19, not shipped) v1.10 + 120 more negation rows (80 denials of a stereotype, 40 hateful "
             "negated positives; val then chose the two token members alone, mixture 0.3) | 0.687 (hate_contrast "
             "0.854, negated hate 12 -> 14 of 19 but opinion/question 16 -> 13 of 18, local hateful 29 -> 27; "
             "denials in a probe written for the stop 11 -> 10 of 24; everyday posts flagged 0 -> 3 of 133; "
             "Davidson hate F1 0.364) |\n"
             "| fine-tuned copy of the top transformer layer (layers 1-5 frozen) + linear | 0.636 |\n"
             "| fine-tuned copy of the top 2 layers, mean+max pool, 4 epochs | 0.668-0.680 |\n"
             "| that branch averaged with the v1.1 head (weight 0.3-0.5) | 0.685-0.689 |\n"
             "| whole encoder fine-tuned (LoRA rank 16 on every linear layer, 665k weights, 3 epochs; "
             "`python -m benchmarks.hate_finetune`), alone | 0.680-0.687 (hate_contrast 0.837-0.840) |\n"
             "| that branch mixed with the v1.3 head (weight 0.3-0.5, chosen on val) | 0.685-0.695 "
             "(hate_contrast 0.848-0.868) |\n"
             "| every encoder weight fine-tuned, alone / mixed with the v1.3 head | 0.680 / 0.690 (0.844) |\n"
             "| (stop 20, not shipped; on this stop's Intel Xeon host, whose int8 encoder features differ slightly from the AMD host v1.10 was trained on) the v1.10 recipe retrained here on the same rows / the same + 60 everyday negated statements ('The gritters are not out yet...', evd-0754..0813 of everyday_negatives `negated_statement`, now all held out) | 0.676 / 0.678 (hate_contrast 0.868 / 0.868, negated hate 11 / 15 of 19, opinion or question 13 / 12 of 18; a probe of 16 ordinary negated statements written first, 'The council are not listening to anyone in Maryport.': 2 / 0 misread, shipped v1.10 4; demo P/R 0.955 / 0.847 and 0.992 / 0.833; shipped v1.10 measured here with the two word rules: 0.682, hate_contrast 0.894) |\n"
             "| (stop 22, not shipped; 2-core AMD EPYC, Zen 4) the v1.10 recipe retrained here on the same rows (control) / the same + 236 hate_contrast v1.7 `stance_*` rows (after an incident: solidarity, anger at attackers, blame of the group, fake sympathy, local exclusion) / the same less `stance_local_exclusion` | 0.683 / 0.681 / 0.679 (a week's local feed, probe 5: 0.894 / 0.900 / 0.887; probe 4, whose kinds are the rows' kinds: 0.671 / 0.812 / 0.805; demo P/R 0.884 / 0.867, 0.805 / 0.907, 0.854 / 0.860, demo chatter flagged 12 / 31 / 18 of 2,072: 'Found: border collie wandering on Station Road in Carlisle, no collar'; shipped v1.10 here: probe 5 0.894, demo P/R 0.932 / 0.820, chatter 7) |\n\n"
             "Every choice (input, members, mixture weight, thresholds) is made on **HateXplain val**; test is "
             "never used to choose. v1.2 averages one MLP per encoder output (each candidate's val macro-F1 is listed under Input) "
             "and reads the post with obfuscated spellings written out. A fine-tuned branch was measured but "
             "not shipped: the encoder is shared, so the branch runs two extra transformer layers on every post "
             "(+33% encoder time, about -20% posts/s end to end) and 7 MB of weights, "
             "for +1 point of macro-F1 in an ensemble; training it takes ~8 minutes on 2 cores. A LoRA-tuned "
             "whole encoder (1.3 MB of adapters) gains 2-3 points without losing functional cases, but it is a "
             "second encoder pass: 142 posts/s in torch fp32 against ~680 for the shared int8 pass, so it would "
             "have to run only on posts the head already finds doubtful. The attention-pool members of v1.9 read "
             "token states the shared pass computes anyway: they cost about 0.27 s per member per 5,000 posts "
             "(the projection of every token), 8-13% fewer posts/s end to end on a 2-core AMD EPYC host, against +1.3 points. The 0.70 goal is "
             "not reached."),
    "targets": ("Target groups of hateful posts",
                "Seven logistic outputs (race_ethnicity, religion, migrants, sexuality, gender_identity, disability, "
                "women) over the sentence embedding, plus an explicit-term lexicon (in targets.json) for "
                "gender_identity and disability, which have too little annotated data. Reported only when `hate` "
                "is at/above its threshold.",
                "Trained on HateXplain *validation* posts (the reconstructed train split has no target "
                "annotation) and the hate_contrast train split, so it has seen ~1,100 toxic posts. Jewish is filed "
                "under religion. Lexicon hits are not context-aware."),
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
    groups = {"hate": ("hate", "hate_contrast"), "targets": ("targets",), "conspiracy": ("conspiracy",),
              "mobilisation": ("mobilisation",)}
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
