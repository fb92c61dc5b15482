"""Narrative and claim matching with the real encoder, on a small library built here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from classifiers.claims import claim_docs, load_claims, parse_claimreview, read_claimreview
from classifiers.narratives import ClaimDoc, ClaimIndex, NarrativeMatcher, explain, tokenize
from monitor.narratives import NarrativeLibrary

FIXTURES = Path(__file__).parent / "fixtures" / "claims"

LIBRARY = NarrativeLibrary.model_validate({"narratives": [
    {"id": "vaccine-microchip", "title": "COVID vaccines contain microchips", "status": "false",
     "summary": "Claim that coronavirus vaccines carry tracking microchips so the government "
                "can follow people.",
     "claims": ["COVID vaccines contain microchips to track people",
                "The jab injects a tracking chip under your skin"],
     "keywords": ["microchip", "vaccine", "5G", "tracking"]},
    {"id": "hotel-migrant-assault", "title": "Hotel asylum seekers attacked a local girl",
     "status": "unverified",
     "summary": "Posts say men housed at a hotel for asylum seekers assaulted a local "
                "schoolgirl and police covered it up.",
     "claims": ["Asylum seekers from the hotel attacked a local schoolgirl",
                "Police are covering up an assault by a migrant from the hotel"],
     "keywords": ["asylum hotel", "cover-up", "schoolgirl"]},
    {"id": "housing-priority", "title": "Council gives homes to migrants first", "status": "false",
     "summary": "Claim that the council allocates social housing to refugees ahead of local "
                "families on the waiting list.",
     "claims": ["The council gives new council houses to refugees before local families",
                "Migrants jump the housing waiting list"],
     "keywords": ["social housing", "waiting list", "refugees"]},
    {"id": "fifteen-minute-city", "title": "15-minute cities will lock residents in",
     "status": "misleading",
     "summary": "Claim that low-traffic and 15-minute neighbourhood plans are a scheme to "
                "confine residents and fine them for leaving their zone.",
     "claims": ["15-minute cities are a plan to lock people in their zones",
                "Residents will be fined for driving out of their neighbourhood"],
     "keywords": ["15-minute city", "climate lockdown", "ANPR"]},
    {"id": "sellafield-leak", "title": "Sellafield secretly leaking radiation", "status": "false",
     "summary": "Claim that Sellafield is leaking radioactive waste into the Irish Sea and the "
                "authorities are hiding it.",
     "claims": ["Sellafield is secretly dumping radioactive waste into the sea",
                "The beaches near Sellafield are radioactive and they are hiding it"],
     "keywords": ["Sellafield", "radiation", "nuclear leak"]},
]})


@pytest.fixture(scope="module")
def encoder(service_encoder):
    return service_encoder


@pytest.fixture(scope="module")
def matcher(encoder):
    return NarrativeMatcher(LIBRARY, encoder)


def run(matcher, encoder, texts):
    return matcher.match(texts, encoder.encode(texts))


@pytest.mark.parametrize("text,narrative", [
    ("refugees getting houses before locals who've waited years", "housing-priority"),
    ("radioactive waste being pumped into the sea at Sellafield and nobody tells us",
     "sellafield-leak"),
    ("cover-up at the asylum hotel, a schoolgirl was attacked", "hotel-migrant-assault"),
    ("they put the refugees on the top of the waiting list", "housing-priority"),
])
def test_paraphrase_is_confirmed(matcher, encoder, text, narrative):
    [hits] = run(matcher, encoder, [text])
    assert hits and hits[0]["id"] == narrative
    assert hits[0]["level"] == "confirmed"
    assert hits[0]["score"] >= matcher.confirmed
    assert hits[0]["status"] == LIBRARY.narratives[
        [n.id for n in LIBRARY.narratives].index(narrative)].status


@pytest.mark.parametrize("text,narrative", [
    ("They're putting tracking chips in the covid jabs, wake up", "vaccine-microchip"),
    ("Police hushing up attack on young girl by hotel residents", "hotel-migrant-assault"),
    ("Bill Gates wants to microchip everyone through the vaccine", "vaccine-microchip"),
])
def test_looser_paraphrase_is_at_least_suggested(matcher, encoder, text, narrative):
    [hits] = run(matcher, encoder, [text])
    assert hits and hits[0]["id"] == narrative
    assert hits[0]["level"] in ("suggested", "confirmed")


def test_unrelated_text_matches_nothing(matcher, encoder):
    texts = [
        "Lovely sunset over the Solway tonight",
        "Workington Reds won 2-1 on Saturday, great atmosphere",
        "The council meeting about the new leisure centre is on Tuesday",
        "Big queues at the vaccination centre in Carlisle today",
        "New hotel opening in Keswick next month with 40 rooms",
        "The waiting list at the GP surgery is ridiculous",
        "Fish and chips on the beach at Seascale",
        "",
    ]
    assert run(matcher, encoder, texts) == [[] for _ in texts]


def test_topic_words_alone_are_not_confirmed(matcher, encoder):
    texts = ["Got my covid vaccine booster today, arm is a bit sore",
             "Sellafield is recruiting 200 apprentices this year"]
    for hits in run(matcher, encoder, texts):
        assert all(h["level"] != "confirmed" for h in hits)


def test_explanation_terms(matcher, encoder):
    text = "radioactive waste being pumped into the sea at Sellafield and nobody tells us"
    [hits] = run(matcher, encoder, [text])
    assert {"radioactive", "sellafield", "waste", "sea"} <= set(hits[0]["terms"])
    assert explain(hits[0]).startswith("sellafield-leak (confirmed, ")


def test_batch_is_aligned_and_scores_in_range(matcher, encoder):
    texts = ["Lovely sunset over the Solway tonight",
             "refugees getting houses before locals who've waited years"] * 3
    out = run(matcher, encoder, texts)
    assert out[0] == [] and out[1][0]["id"] == "housing-priority"
    assert out[:2] == out[2:4] == out[4:]
    for hits in out:
        for h in hits:
            assert 0.0 <= h["score"] <= 1.0


# -- fusion rescues ----------------------------------------------------------------------------
RESCUE_DOCS = [
    ClaimDoc("microchip", "COVID vaccines contain microchips to track people"),
    ClaimDoc("flu-clinic", "Put your name down for the free flu jab at the pharmacy, it only "
                           "takes you five minutes"),
    ClaimDoc("fifteen", "15-minute cities are a plan to lock people in their zones"),
    ClaimDoc("ulez", "ULEZ cameras are being installed to fine drivers for leaving town"),
    ClaimDoc("limit30", "Sellafield released thirty times the legal limit of radiation last year"),
    ClaimDoc("withinlimit", "Sellafield radiation releases last year were far below the legal "
                            "limit"),
    ClaimDoc("housing", "The council gives new council houses to refugees before local families"),
]


@pytest.fixture(scope="module")
def rescue(encoder):
    emb = encoder.encode([d.text for d in RESCUE_DOCS])
    return {f: ClaimIndex(RESCUE_DOCS, embeddings=emb, fusion=f)
            for f in ("bm25", "cosine", "rrf", "logistic")}


def top1(index, encoder, text):
    return index.match([text], encoder.encode([text]), top_k=1)[0][0][0]


def test_bm25_failure_rescued_by_fusion(rescue, encoder):
    # "leaving" pulls BM25 to the ULEZ claim; the meaning is the 15-minute-city one.
    text = "they want to stop you leaving your zone"
    assert top1(rescue["bm25"], encoder, text) == "ulez"
    assert top1(rescue["cosine"], encoder, text) == "fifteen"
    assert top1(rescue["logistic"], encoder, text) == "fifteen"


def test_embedding_failure_rescued_by_fusion(rescue, encoder):
    # The encoder barely separates "far below the limit" from "thirty times the limit".
    text = "Sellafield far below the limit, nothing to worry about"
    assert top1(rescue["cosine"], encoder, text) == "limit30"
    assert top1(rescue["logistic"], encoder, text) == "withinlimit"


def test_embedding_failure_rescued_synthetic():
    # Deterministic version: identical embeddings for two claims, BM25 must decide.
    docs = [ClaimDoc("a", "the A595 will close for a migrant camp"),
            ClaimDoc("b", "the A66 will close for a migrant camp")]
    emb = np.tile(np.eye(4, dtype=np.float32)[0], (2, 1))
    index = ClaimIndex(docs, embeddings=emb)
    query = np.eye(4, dtype=np.float32)[0][None]
    assert index.match(["A66 closing for a migrant camp"], query, top_k=2)[0][0][0] == "b"
    assert index.match(["A595 closing for a migrant camp"], query, top_k=2)[0][0][0] == "a"


def test_claim_index_groups_documents_by_id():
    docs = [ClaimDoc("n1", "alpha claim one"), ClaimDoc("n1", "alpha claim two"),
            ClaimDoc("n2", "beta claim")]
    emb = np.eye(3, dtype=np.float32)
    index = ClaimIndex(docs, embeddings=emb)
    [res] = index.match(["alpha claim two"], emb[1][None], top_k=5)
    assert [i for i, _ in res] == ["n1", "n2"]
    assert all(0 <= s <= 1 for _, s in res)
    # An empty or stop-word-only query still returns (low) scores, no crash.
    [res] = index.match(["the of and"], np.zeros((1, 3), dtype=np.float32), top_k=2)
    assert len(res) == 2 and all(s < 0.1 for _, s in res)


def test_tokenize_light_stemming():
    assert tokenize("Vaccines vaccinated THE jab's https://t.co/x @user") == [
        "vaccin", "vaccinat", "jab"]


def test_matcher_thresholds_validated(encoder):
    with pytest.raises(ValueError):
        NarrativeMatcher(LIBRARY, encoder, suggested=0.8, confirmed=0.5)


# -- fact-check import ---------------------------------------------------------------------
def test_claimreview_datafeed_import():
    result = read_claimreview(FIXTURES / "claimreview_feed.json")
    assert len(result.claims) == 2
    assert len(result.skipped) == 1 and "claimReviewed" in result.skipped[0]
    first, second = result.claims
    assert first.text.startswith("Police are covering up an assault")
    assert first.rating == "False"
    assert first.title == "No, police have not covered up an assault by a hotel resident"
    assert first.url == "https://factcheck.example.org/2024/08/hotel-assault-claim"
    assert first.publisher == "Example Fact Check"
    assert first.claimant == "Viral social media posts"
    assert first.date_published == "2024-08-03"
    assert first.language == "en"
    assert first.appearances == ("https://social.example.com/post/0",
                                 "https://social.example.com/post/1")
    assert first.id.startswith("claimreview-") and first.source == "claimreview"
    assert second.id == "https://factcheck.example.org/2023/03/15-minute-cities#claim"
    assert second.rating == "2/5"
    assert second.title.startswith("15-minute city plans")
    # Idempotent ids.
    assert [c.id for c in read_claimreview(FIXTURES / "claimreview_feed.json").claims] == [
        c.id for c in result.claims]


def test_claimreview_in_html_and_single_object():
    result = load_claims(FIXTURES / "article.html")
    assert [c.text for c in result.claims] == [
        "COVID-19 vaccines contain microchips that track people."]
    assert result.claims[0].publisher == "Example Fact Check"
    assert result.claims[0].rating == "False"
    single = parse_claimreview({"@type": "ClaimReview", "claimReviewed": "x is y",
                                "reviewRating": {"alternateName": "Misleading"}})
    assert single.claims[0].rating == "Misleading"


def test_jsonl_import():
    result = load_claims(FIXTURES / "claims.jsonl")
    assert [c.id for c in result.claims] == ["fc-1", "fc-2"]
    assert result.claims[0].rating == "False" and result.claims[0].extra == {"lang": "en"}
    assert len(result.skipped) == 3
    with pytest.raises(ValueError):
        load_claims(FIXTURES / "claims.csv")


def test_imported_claims_are_searchable(encoder):
    records = load_claims(FIXTURES / "claimreview_feed.json").claims + load_claims(
        FIXTURES / "claims.jsonl").claims
    index = ClaimIndex(claim_docs(records), encoder=encoder)
    text = "the nuclear plant is tipping radioactive waste in the Irish Sea"
    [res] = index.match([text], encoder.encode([text]), top_k=1)
    assert res[0][0] == "fc-1"
