"""The scoring stage and the `tension score` / `tension claims` contracts, with the real models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from conftest import utc
from monitor import cli
from monitor.cli import app
from monitor.fact_checks import status_from_rating
from monitor.settings import load_settings
from monitor.store.schema import claims, post_localities, post_narratives, post_scores

FIXTURES = Path(__file__).parent / "fixtures"
runner = CliRunner()
cli.out.width = cli.err.width = 240

CONTRACT_KEYS = {"id", "hate", "offensive", "conspiracy", "mobilisation", "negativity", "tension",
                 "target_groups", "labels", "localities", "narratives", "explanation",
                 "model_version"}


@pytest.fixture(scope="module")
def service(bundled_service):
    return bundled_service


def posts_for(service, texts: list[str], *, start: int = 0, platform: str = "x"):
    from monitor.collect import post_row
    from sources.base import FetchState, Post

    now = utc(2026, 11, 20, 12)
    rows = [
        post_row(Post(source_id="t", external_id=f"e{start + i}", text=text, published_at=now,
                      author_handle=f"u{i}", meta={"platform": platform}),
                 platform=platform, keep_author=True, pseudonymiser=service.pseudonymiser, now=now)
        for i, text in enumerate(texts)
    ]
    service.store.ingest(rows, FetchState("t"))


def test_scoring_stage_writes_scores_places_and_narratives_once(service):
    from monitor.scoring import score_pending

    posts_for(service, [
        "Everyone outside the Riverside Hotel in Workington Saturday 2pm, bring your mates",
        "Lovely sunny morning on the harbour at Whitehaven",
        "New council flats go to asylum seekers while local families in Maryport wait years",
        "Wszyscy na rynek w Carlisle w sobotę, dość tego już naprawdę",
    ])
    now = utc(2026, 11, 20, 12, 5)
    assert score_pending(service, now) == 4
    assert score_pending(service, now) == 0  # nothing scored twice
    with service.store.engine.connect() as conn:
        scores = {r.post_id: r for r in conn.execute(sa.select(post_scores))}
        places = conn.execute(sa.select(post_localities)).all()
        narratives = conn.execute(sa.select(post_narratives)).all()
    assert [s.status for s in scores.values()].count("not_scored_language") == 1
    polish = next(s for s in scores.values() if s.status == "not_scored_language")
    assert polish.language == "pl" and polish.hate is None
    call = scores[1]
    assert "mobilisation" in call.labels and call.tension > 0.5
    assert scores[2].tension < 0.3
    place_ids = {(p.post_id, p.locality_id) for p in places}
    assert {(1, "workington"), (2, "whitehaven"), (3, "maryport"), (4, "carlisle")} <= place_ids
    assert next(p for p in places if p.post_id == 1).site_id == "riverside-hotel-workington"
    assert (3, "migrants-priority-council-housing") in {(n.post_id, n.narrative_id) for n in narratives}


def test_score_cli_contract(tmp_path):
    source = tmp_path / "posts.jsonl"
    source.write_text(
        json.dumps({"id": "a", "text": "Muslims are vermin and should be driven out of Whitehaven"}) + "\n"
        + "this line is broken\n"
        + json.dumps({"id": 7, "text": "Great match at Brunton Park tonight #Carlisle"}) + "\n"
    )
    out = tmp_path / "scores.jsonl"
    result = runner.invoke(app, ["score", "--in", str(source), "--out", str(out)])
    assert result.exit_code == 1  # one skipped line is reported, the rest scored
    assert "posts.jsonl:2: not valid JSON" in result.output
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["id"] for line in lines] == ["a", "7"]
    for line in lines:
        assert set(line) == CONTRACT_KEYS
        for place in line["localities"]:
            assert set(place) >= {"id", "confidence", "span"}
    hateful, match = lines
    assert "hate" in hateful["labels"] and "religion" in hateful["target_groups"]
    assert hateful["localities"][0]["id"] == "whitehaven"
    assert "hate" in hateful["explanation"]["drivers"]
    assert match["labels"] == [] or "hate" not in match["labels"]
    assert match["localities"][0]["id"] == "carlisle"


def test_claims_match_cli_contract(tmp_path):
    library = tmp_path / "claims.jsonl"
    library.write_text("\n".join(json.dumps(c) for c in [
        {"id": "c1", "text": "5G masts spread the coronavirus"},
        {"id": "c2", "text": "The council is closing every library in Cumbria", "title": "Library closures"},
        {"id": "c3", "text": "Drinking bleach cures COVID-19"},
    ]) + "\n")
    queries = tmp_path / "queries.jsonl"
    queries.write_text(json.dumps({"id": "q1", "text": "they're shutting all the libraries across cumbria!!"}) + "\n")
    result = runner.invoke(app, ["claims", "match", "--library", str(library), "--in", str(queries),
                                 "--top", "2"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["id"] == "q1" and len(answer["matches"]) == 2
    assert answer["matches"][0]["claim_id"] == "c2"
    assert answer["matches"][0]["score"] >= answer["matches"][1]["score"]


def test_claims_import_stores_and_updates(config_path):
    first = runner.invoke(app, ["--config", str(config_path), "claims", "import",
                                str(FIXTURES / "claims" / "claims.jsonl")])
    assert "imported" in first.output
    again = runner.invoke(app, ["--config", str(config_path), "claims", "import",
                                str(FIXTURES / "claims" / "claimreview_feed.json")])
    assert again.exit_code in (0, 1) and "imported" in again.output
    settings = load_settings(config_path)
    engine = sa.create_engine(settings.database_url)
    with engine.connect() as conn:
        rows = {r.id: r for r in conn.execute(sa.select(claims))}
    engine.dispose()
    assert rows["fc-1"].status == "false" and rows["fc-2"].status == "unverified"
    missing = runner.invoke(app, ["--config", str(config_path), "claims", "import", "nope.jsonl"])
    assert missing.exit_code == 2 and "nope.jsonl: file not found" in missing.output


@pytest.mark.parametrize("rating,status", [("Pants on Fire!", "false"), ("False", "false"),
                                           ("Missing context", "misleading"), ("Mostly True", "true"),
                                           ("Unproven", "unverified"), (None, "unverified")])
def test_ratings_fold_onto_statuses(rating, status):
    assert status_from_rating(rating) == status


def test_imported_claims_join_the_library(service):
    from monitor.scoring import library_with_claims

    with service.store.transaction() as conn:
        conn.execute(sa.insert(claims).values(
            id="fc-x", text="The harbour wall in Maryport is about to collapse", status="false",
            imported_from="test", imported_at=utc(2026, 11, 20)))
    library = library_with_claims(service.settings.narratives, service.store)
    assert library.narratives[-1].id == "claim-fc-x"
    assert len(library.narratives) == len(service.settings.narratives.narratives) + 1


def test_obfuscated_spelling_scores_like_the_plain_one_and_evidence_stays_as_written(service):
    from classifiers.scoring import PostText

    plain, hidden = service.scorer.score([
        PostText("a", "Sikhs in Workington are all terrorists, every one of them", "en"),
        PostText("b", "Sikh5 in W0rkington are all terr0rists, every one of them", "en"),
    ])
    assert abs(plain["hate"] - hidden["hate"]) < 0.05, (plain["hate"], hidden["hate"])
    assert plain["labels"] == hidden["labels"]
    # places are found in the post as written (the rewrite only feeds the encoder and the heads)
    assert [loc["id"] for loc in plain["localities"]] == ["workington"]
    assert all(e["evidence"] in "Sikhs in Workington are all terrorists, every one of them"
               for e in plain["explanation"]["localities"])


def test_a_denial_is_explained(service):
    from classifiers.scoring import PostText

    denial, plain = service.scorer.score([PostText("a", "Refugees in Maryport are not criminals.", "en"),
                                          PostText("b", "The harbour in Maryport is lovely today.", "en")])
    assert "hate" not in denial["labels"]
    assert "scaled by 0.25" in denial["explanation"]["hate_adjusted"]
    assert "hate_adjusted" not in plain["explanation"]


def test_an_unseen_slur_is_explained(service):
    from classifiers.scoring import PostText

    (result,) = service.scorer.score([PostText("a", "Appleby fair again, town full of pikeys nicking everything.", "en")])
    assert "hate" in result["labels"] and "race_ethnicity" in result["target_groups"]
    assert "'pikeys'" in result["explanation"]["hate_adjusted"]


def test_what_a_post_carries_around_the_words_does_not_change_the_verdict(service):
    """A link, a mention, hashtags or emoji: normalised away before the models read the post
    (classifiers/normalise.py), while places are still found in the post as written."""
    from classifiers.scoring import PostText

    base = "Gypsies camped at the Wigton auction field are dirty thieves, every last one of them"
    variants = [base, base + " https://t.co/Qm3Zx81Lpa", "@WigtonNews " + base, base + " #Wigton #Cumbria",
                base + " 🤬🤬", "RT @someone: " + base + " &amp; more"]
    results = service.scorer.score([PostText(str(i), t, "en") for i, t in enumerate(variants)])
    hate = [r["hate"] for r in results]
    assert max(hate) - min(hate) < 0.1, hate
    assert {("hate" in r["labels"]) for r in results} == {"hate" in results[0]["labels"]}
    assert all([loc["id"] for loc in r["localities"]] == ["wigton"] for r in results)

