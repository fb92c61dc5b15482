"""Every commented example in config/sources.yaml is a valid entry of its kind, and builds."""

from __future__ import annotations

from pathlib import Path

import yaml

from monitor.settings import SourceFile, load_settings
from sources.registry import SourceContext, build_source

CONFIG = Path(__file__).resolve().parent.parent / "config"


def commented_examples() -> list[dict]:
    text = (CONFIG / "sources.yaml").read_text()
    block = text[text.index("# --- more kinds"):]
    lines = [line.replace("  # ", "  ", 1) for line in block.splitlines()
             if line.startswith("  # ") and not line.startswith("  # ---")]
    return yaml.safe_load("sources:\n" + "\n".join(lines))["sources"]


def test_every_commented_source_example_validates_and_builds():
    examples = commented_examples()
    assert {e["kind"] for e in examples} == {"youtube", "x", "mastodon", "bluesky", "reddit",
                                             "telegram", "imap"}
    settings = load_settings(CONFIG / "tension.yaml")
    context = SourceContext(config_dir=CONFIG, http=settings.main.http, localities=settings.localities)
    for config in SourceFile.model_validate({"sources": examples}).sources:
        source = build_source(config, context)
        try:
            assert source.id == config.id
        finally:
            source.close()


def test_x_and_bluesky_search_for_the_configured_places():
    settings = load_settings(CONFIG / "tension.yaml")
    context = SourceContext(config_dir=CONFIG, http=settings.main.http, localities=settings.localities)
    places = context.place_names()
    assert "Workington" in places and "#Workington" in places and "Whitehaven" in places
    x_source = {"id": "x", "kind": "x", "localities": ["workington", "brampton"]}
    [config] = SourceFile.model_validate({"sources": [x_source]}).sources
    source = build_source(config, context)
    queries = " ".join(str(q) for q in getattr(source, "_queries"))
    assert "Workington" in queries and "Brampton" in queries
