"""The bundled demo week: reproducible, fictional throughout, and carrying every storyline."""

from __future__ import annotations

import collections
import json
from pathlib import Path

from monitor.scenario import generate

REPO = Path(__file__).resolve().parent.parent
SCENARIO = REPO / "config" / "demo" / "scenario.jsonl"


def test_committed_scenario_is_what_the_generator_writes():
    committed = [json.loads(line) for line in SCENARIO.read_text().splitlines()]
    assert committed == generate()


def test_scenario_is_one_fictional_week_with_every_storyline():
    rows = [json.loads(line) for line in SCENARIO.read_text().splitlines()]
    assert 3000 <= len(rows) <= 4000
    assert all(r["fictional"] is True for r in rows)
    assert all(r["url"].startswith("https://example.invalid/") for r in rows)
    assert all("2026-11-16" <= r["published_at"][:10] <= "2026-11-22" for r in rows)
    assert [r["published_at"] for r in rows] == sorted(r["published_at"] for r in rows)
    threads = collections.Counter(r["thread"].split(":")[0] for r in rows)
    for thread in ("chatter", "news", "narrative", "rumour", "hate", "mobilisation",
                   "amplification", "counter", "report"):
        assert threads[thread] >= 25, thread
    burst = [r for r in rows if r["thread"] == "amplification"]
    assert len({r["author"] for r in burst}) >= 40
